"""Diagrams on the web: the mechanism (cited data) and each trial design's workflow and schedule.

Pages for everyone, like the rest of the evidence. Rendered SVG is cached per process: the
inputs are the bundled evidence and the ready-made designs, which do not change while serving.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from ldnkit.clinical.models import Assessment
from ldnkit.diagrams import (
    Diagram,
    DiagramUnavailable,
    mechanism_diagram,
    render_svg,
    schedule_chart_svg,
    trial_workflow,
)
from ldnkit.diagrams.decision import decision_diagram
from ldnkit.errors import NotFound
from ldnkit.evidence import default_evidence
from ldnkit.evidence.mechanism import mechanism
from ldnkit.research.designs import DESIGNS
from ldnkit.store import repositories as repo
from ldnkit.web import services
from ldnkit.web.deps import ClinicianScope, Db, Today, optional_user
from ldnkit.web.templating import render

api = APIRouter(prefix="/api/evidence", tags=["evidence"])
# No prefix: the evidence diagrams live under /evidence, a patient's path under /patients.
# Public pages still know who is signed in, so they keep that user's menu (issue 15, item 9).
pages = APIRouter(include_in_schema=False, dependencies=[Depends(optional_user)])


def _svg_or_none(diagram: Diagram) -> str | None:
    try:
        return render_svg(diagram)
    except DiagramUnavailable:
        return None


@lru_cache(maxsize=1)
def _mechanism_context() -> dict[str, Any]:
    ev = default_evidence()
    diagram = mechanism_diagram(ev)
    data = mechanism(ev)
    return {
        "diagram": diagram,
        "svg": _svg_or_none(diagram),
        "pathways": data.pathways,
        "edges": data.edges,
        "labels": {n.id: n.label for n in data.nodes},
    }


@lru_cache(maxsize=16)
def _design_context(design_id: str) -> dict[str, Any]:
    if design_id not in DESIGNS:
        raise NotFound("design", design_id, sorted(DESIGNS))
    design = DESIGNS[design_id]()
    diagram = trial_workflow(design)
    return {
        "design": design,
        "diagram": diagram,
        "svg": _svg_or_none(diagram),
        "schedule_svg": schedule_chart_svg(design),
        "rows": design.table(),
    }


@lru_cache(maxsize=1)
def _decision_context() -> dict[str, Any]:
    diagram = decision_diagram(default_evidence())
    return {"diagram": diagram, "svg": _svg_or_none(diagram), "patient": None}


def _patient_decision_context(db: Db, patient_id: int, today: dt.date) -> dict[str, Any]:
    """The decision diagram with this patient's latest screening and today's advice."""
    with db.read() as s:
        patient = repo.get_patient(s, patient_id)
        row = services.latest_assessment(s, patient_id)
        plan = repo.current_plan(s, patient_id)
        advice = services.advice_for(s, patient_id, today) if plan is not None else None
    assessment = Assessment.model_validate(row.payload) if row is not None else None
    protocol = plan.protocol_id if plan is not None else None
    diagram = decision_diagram(
        default_evidence(),
        protocol_id=protocol,
        assessment=assessment,
        advice=advice if advice is not None and advice.available else None,
    )
    return {
        "diagram": diagram,
        "svg": _svg_or_none(diagram),
        "patient": patient,
        "assessment": assessment,
        "advice": advice,
    }


@pages.get("/evidence/decision")
async def decision_page(request: Request, codes: str = "", rule: str = "") -> Response:
    """The whole decision process, generated from the screening checks and advice rules.

    `codes` and `rule` (from a CDS card's link) highlight one case's path."""
    if not codes and not rule:
        return render(request, "diagram_decision.html", await run_in_threadpool(_decision_context))
    fired = tuple(c for c in codes.split(",") if c.strip())[:50]
    ctx = await run_in_threadpool(_case_context, fired, rule[:64] or None)
    return render(request, "diagram_decision.html", ctx)


def _case_context(codes: tuple[str, ...], rule: str | None) -> dict[str, Any]:
    diagram = decision_diagram(default_evidence(), codes=codes, rule=rule)
    return {"diagram": diagram, "svg": _svg_or_none(diagram), "patient": None}


@pages.get("/patients/{patient_id}/decision")
async def patient_decision_page(
    request: Request, patient: ClinicianScope, db: Db, today: Today
) -> Response:
    """This patient's path through the decision process (clinicians only: it shows reasons)."""
    ctx = await run_in_threadpool(_patient_decision_context, db, patient.id, today)
    return render(request, "diagram_decision.html", ctx)


@api.get("/mechanism")
def api_mechanism() -> dict[str, Any]:
    """The proposed mechanisms as nodes and edges, each edge with evidence level and sources."""
    return mechanism(default_evidence()).model_dump(mode="json", by_alias=True)


@pages.get("/evidence/mechanism")
async def mechanism_page(request: Request) -> Response:
    return render(request, "diagram_mechanism.html", await run_in_threadpool(_mechanism_context))


@pages.get("/evidence/designs")
def designs_page(request: Request) -> Response:
    designs = [DESIGNS[k]() for k in DESIGNS]
    return render(
        request, "diagram_designs.html", {"designs": list(zip(DESIGNS, designs, strict=True))}
    )


@pages.get("/evidence/designs/{design_id}")
async def design_page(request: Request, design_id: str) -> Response:
    ctx = await run_in_threadpool(_design_context, design_id)
    return render(request, "diagram_design.html", ctx)
