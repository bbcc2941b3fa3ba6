"""Patient-reported instruments: definitions as FHIR Questionnaires, the patient's phone form,
the REST API for responses, what is due today (from the plan), and the clinician's PEG trend.

Answers are scored by the pure core; bad answers (missing item, out of range) are a 422 that
names the item (`answers.enjoyment`), on the API and re-displayed on the form.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from html import escape
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from ldnkit.clinical.instruments import (
    Catalogue,
    Instrument,
    due_now,
    load_instruments_file,
    score_change,
    shipped_instruments,
    to_questionnaire,
)
from ldnkit.errors import ValidationError
from ldnkit.evidence import default_evidence
from ldnkit.store import repositories as repo
from ldnkit.store.repositories import instruments as responses
from ldnkit.web import services
from ldnkit.web.deps import CurrentUser, Db, InScope, Today
from ldnkit.web.templating import form_page, render

api = APIRouter(prefix="/api", tags=["instruments"])
pages = APIRouter(include_in_schema=False)


def load_catalogue(instruments_file: str) -> Catalogue:
    """The shipped instruments plus the clinic's file; the app calls this at start-up, so a
    bad definition file stops the server with the field named instead of failing requests."""
    extra = load_instruments_file(instruments_file) if instruments_file else ()
    return Catalogue(shipped_instruments(), extra)


def catalogue(request: Request) -> Catalogue:
    """The app's catalogue (loaded by `create_app`; loaded here for apps built without it)."""
    cat = getattr(request.app.state, "instruments", None)
    if cat is None:
        cat = load_catalogue(request.app.state.settings.instruments_file)
        request.app.state.instruments = cat
    return cat


class ResponseIn(BaseModel):
    """A completed instrument: answers by item id; `client_id` makes a retry idempotent."""

    model_config = ConfigDict(extra="forbid")

    answers: dict[str, Any]
    completed_on: dt.date | None = None
    client_id: UUID | None = None


class ResponseOut(BaseModel):
    id: int
    patient_id: int
    instrument_id: str
    instrument_version: str
    completed_on: dt.date
    answers: dict[str, Decimal]
    score: Decimal
    client_id: str | None = None


class InstrumentOut(BaseModel):
    id: str
    name: str
    schedule: str
    collected_by: str
    loinc_panel: str | None
    loinc_score: str | None
    items: int
    sources: list[str] = Field(default_factory=list)


class DueOut(BaseModel):
    instrument_id: str
    on: dt.date
    reason: str


def _store(
    db: Db,
    patient_id: int,
    inst: Instrument,
    body: ResponseIn,
    today: dt.date,
    actor: str,
) -> tuple[dict[str, Any], bool]:
    def job(session):  # type: ignore[no-untyped-def]
        stored = responses.add_response(
            session,
            patient_id,
            inst,
            body.answers,
            completed_on=body.completed_on or today,
            today=today,
            actor=actor,
            client_id=str(body.client_id) if body.client_id else None,
        )
        return responses.response_dict(stored.row), stored.created

    from ldnkit.clinical.instruments import score

    score(inst, body.answers)  # validate before queueing: errors never reach the writer
    try:
        return db.write(job)
    except IntegrityError:
        # Another server process stored the same client id a moment ago: answer with its row.
        if body.client_id is None:
            raise
        with db.read() as s:
            row = responses.by_client_id(s, patient_id, str(body.client_id))
            if row is None:
                raise
            return responses.response_dict(row), False


def _due(db: Db, cat: Catalogue, patient_id: int, today: dt.date) -> list[Any]:
    with db.read() as s:
        plan = services.plan_of(repo.current_plan(s, patient_id))
        if plan is None:
            return []
        done: dict[str, list[dt.date]] = {}
        for r in responses.list_responses(s, patient_id, start=today - dt.timedelta(days=14)):
            done.setdefault(r.instrument_id, []).append(r.completed_on)
    return due_now(list(cat), plan, today, done)


# -- API -------------------------------------------------------------------------------------


@api.get("/instruments", response_model=list[InstrumentOut])
def api_instruments(request: Request, user: CurrentUser) -> list[dict[str, Any]]:
    """The instruments this clinic uses: the shipped ones and its own."""
    return [
        {
            "id": i.id,
            "name": i.name,
            "schedule": i.schedule,
            "collected_by": i.collected_by,
            "loinc_panel": i.loinc_panel,
            "loinc_score": i.loinc_score,
            "items": len(i.items),
            "sources": list(i.sources),
        }
        for i in catalogue(request)
    ]


@api.get("/instruments/{instrument_id}/questionnaire")
def api_questionnaire(request: Request, instrument_id: str, user: CurrentUser) -> dict[str, Any]:
    """The instrument as a FHIR R4 Questionnaire."""
    return to_questionnaire(catalogue(request).get(instrument_id))


@api.get("/patients/{patient_id}/instruments/responses", response_model=list[ResponseOut])
def api_responses(patient: InScope, db: Db, instrument: str | None = None) -> list[dict[str, Any]]:
    """The patient's completed instruments, oldest first."""
    with db.read() as s:
        rows = responses.list_responses(s, patient.id, instrument_id=instrument)
        return [responses.response_dict(r) for r in rows]


@api.get("/patients/{patient_id}/instruments/due", response_model=list[DueOut])
def api_due(request: Request, patient: InScope, db: Db, today: Today) -> list[Any]:
    """What the plan asks the patient to complete today (not yet done)."""
    return _due(db, catalogue(request), patient.id, today)


@api.post(
    "/patients/{patient_id}/instruments/{instrument_id}/responses",
    response_model=ResponseOut,
    status_code=201,
    responses={200: {"description": "a repeat of a stored client_id: the stored response"}},
)
async def api_add(
    request: Request,
    response: Response,
    patient: InScope,
    instrument_id: str,
    body: ResponseIn,
    user: CurrentUser,
    db: Db,
    today: Today,
) -> dict[str, Any]:
    """Score and store a completed instrument; 422 names a missing or out-of-range item."""
    inst = catalogue(request).get(instrument_id)
    row, created = await run_in_threadpool(_store, db, patient.id, inst, body, today, user.actor)
    if not created:
        response.status_code = 200
    return row


# -- pages -----------------------------------------------------------------------------------


def trend_svg(points: list[tuple[dt.date, Decimal]], *, title: str, top: int = 10) -> str:
    """A small line chart of scores over time (server-rendered, no script)."""
    w, h, left, right, top_pad, bottom = 360, 160, 30, 10, 14, 26
    if not points:
        return (
            f'<svg class="chart trend" viewBox="0 0 {w} {h}" role="img" '
            f'aria-label="{escape(title)}: no responses yet"><text x="{left}" y="{h // 2}">'
            "No responses yet</text></svg>"
        )
    first, last = points[0][0], points[-1][0]
    span = max((last - first).days, 1)

    def x(d: dt.date) -> float:
        return left + (w - left - right) * ((d - first).days / span)

    def y(v: Decimal) -> float:
        return top_pad + (h - top_pad - bottom) * (1 - float(v) / top)

    coords = " ".join(f"{x(d):.1f},{y(v):.1f}" for d, v in points)
    dots = "".join(
        f'<circle class="score" cx="{x(d):.1f}" cy="{y(v):.1f}" r="3">'
        f"<title>{d.isoformat()}: {v}</title></circle>"
        for d, v in points
    )
    axis = "".join(
        f'<text x="{left - 6}" y="{y(Decimal(t)) + 4:.1f}" text-anchor="end">{t}</text>'
        for t in (0, top // 2, top)
    )
    label = f"{title}: " + ", ".join(f"{d.isoformat()} {v}" for d, v in points)
    return (
        f'<svg class="chart trend" viewBox="0 0 {w} {h}" role="img" aria-label="{escape(label)}">'
        f'{axis}<polyline fill="none" stroke="currentColor" points="{coords}"/>{dots}'
        f'<text x="{left}" y="{h - 6}">{first.isoformat()}</text>'
        f'<text x="{w - right}" y="{h - 6}" text-anchor="end">{last.isoformat()}</text></svg>'
    )


@pages.get("/patients/{patient_id}/instruments")
def instruments_page(
    request: Request, patient: InScope, db: Db, today: Today, user: CurrentUser
) -> Response:
    """Patient: what is due today. Clinician: every response and the PEG-3 trend."""
    cat = catalogue(request)
    due = _due(db, cat, patient.id, today)
    with db.read() as s:
        rows = [responses.response_dict(r) for r in responses.list_responses(s, patient.id)]
    peg = [(r["completed_on"], r["score"]) for r in rows if r["instrument_id"] == "peg"]
    monitoring = default_evidence().dosing.monitoring
    peg_change = (
        score_change(
            cat.get("peg"),
            peg,
            important_percent=monitoring.clinically_important_percent,
            sources=monitoring.clinically_important_sources,
        )
        if "peg" in cat
        else None
    )
    pgic = [r for r in rows if r["instrument_id"] == "pgic"]
    latest_pgic = None
    if pgic and "pgic" in cat:
        item = cat.get("pgic").items[0]
        last = pgic[-1]
        latest_pgic = (last["completed_on"], item.label_of(last["answers"][item.id]))
    return render(
        request,
        "instruments.html",
        {
            "patient": patient,
            "due": [(d, cat.get(d.instrument_id)) for d in due],
            "instruments": [i for i in cat if i.collected_by == "instrument"],
            "rows": list(reversed(rows)),
            "names": {i.id: i.name for i in cat},
            "peg_chart": trend_svg(peg, title="PEG-3 score (0-10, lower is better)"),
            "peg_change": peg_change,
            "latest_pgic": latest_pgic,
        },
    )


@pages.get("/patients/{patient_id}/instruments/peg-trend.svg")
def peg_trend(patient: InScope, db: Db) -> Response:
    """The PEG-3 trend as an image, so any page (the clinician's patient page) can show it."""
    with db.read() as s:
        rows = responses.list_responses(s, patient.id, instrument_id="peg")
        points = [(r.completed_on, responses.plain_decimal(Decimal(r.score))) for r in rows]
    svg = trend_svg(points, title="PEG-3 score (0-10, lower is better)")
    svg = svg.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1)
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


@pages.get("/patients/{patient_id}/instruments/{instrument_id}/new")
def instrument_form(
    request: Request, patient: InScope, instrument_id: str, today: Today
) -> Response:
    inst = catalogue(request).get(instrument_id)
    return render(request, "instrument_form.html", {"patient": patient, "inst": inst, "values": {}})


@pages.post("/patients/{patient_id}/instruments/{instrument_id}")
async def instrument_submit(
    request: Request,
    patient: InScope,
    instrument_id: str,
    user: CurrentUser,
    db: Db,
    today: Today,
) -> Response:
    inst = catalogue(request).get(instrument_id)
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    request.state.form_values = values
    form_page(request, "instrument_form.html", patient=patient, inst=inst)
    answers = {i.id: values.get(f"item_{i.id}", "") for i in inst.items}
    client_id = values.get("client_id") or None
    try:
        parsed_id = UUID(client_id) if client_id else None
    except ValueError:
        raise ValidationError("client_id", "must be a UUID") from None
    body = ResponseIn(answers=answers, client_id=parsed_id)
    await run_in_threadpool(_store, db, patient.id, inst, body, today, user.actor)
    return RedirectResponse(f"/patients/{patient.id}/instruments?saved={inst.id}", status_code=303)


__all__ = ["api", "catalogue", "load_catalogue", "pages", "trend_svg"]
