"""The evidence base as pages and JSON: dosing, protocols, screening rules, trials, references.

Every row carries its source ids, and each id links to its entry on the references page, so a
clinician can follow any number in the app back to where it came from.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ldnkit.evidence import Evidence, default_evidence
from ldnkit.evidence.tables import dosing_rows
from ldnkit.web.deps import optional_user
from ldnkit.web.templating import render

api = APIRouter(prefix="/api/evidence", tags=["evidence"])
# Public pages still know who is signed in, so they keep that user's menu (issue 15, item 9).
pages = APIRouter(
    prefix="/evidence", include_in_schema=False, dependencies=[Depends(optional_user)]
)


def protocol_rows(ev: Evidence) -> list[dict[str, Any]]:
    return [p.model_dump(mode="json") for p in ev.protocols.values()]


def trial_rows(ev: Evidence) -> list[dict[str, Any]]:
    return [t.model_dump(mode="json") for t in ev.studies.trials]


def observational_rows(ev: Evidence) -> list[dict[str, Any]]:
    return [o.model_dump(mode="json") for o in ev.studies.observational]


def reference_rows(ev: Evidence) -> list[dict[str, Any]]:
    return [{**r.model_dump(mode="json"), "citation": r.citation()} for r in ev.references.values()]


def rule_rows(ev: Evidence) -> list[dict[str, Any]]:
    return [r.model_dump(mode="json") for r in ev.rules.values()]


@api.get("/dosing")
def api_dosing() -> list[dict[str, Any]]:
    """General, personalised, monitoring and safety figures, each with its sources."""
    return dosing_rows(default_evidence())


@api.get("/protocols")
def api_protocols() -> list[dict[str, Any]]:
    return protocol_rows(default_evidence())


@api.get("/screening-rules")
def api_rules() -> list[dict[str, Any]]:
    return rule_rows(default_evidence())


@api.get("/trials")
def api_trials() -> dict[str, list[dict[str, Any]]]:
    ev = default_evidence()
    return {"trials": trial_rows(ev), "observational": observational_rows(ev)}


@api.get("/references")
def api_references() -> list[dict[str, Any]]:
    return reference_rows(default_evidence())


@pages.get("")
def evidence_page(request: Request) -> Response:
    ev = default_evidence()
    return render(
        request,
        "evidence.html",
        {
            "dosing": dosing_rows(ev),
            "protocols": protocol_rows(ev),
            "rules": rule_rows(ev),
            "side_effects": ev.side_effects,
        },
    )


@pages.get("/trials")
def trials_page(request: Request) -> Response:
    ev = default_evidence()
    return render(
        request,
        "evidence_trials.html",
        {"trials": trial_rows(ev), "observational": observational_rows(ev)},
    )


@pages.get("/references")
def references_page(request: Request) -> Response:
    return render(request, "evidence_references.html", {"refs": reference_rows(default_evidence())})
