"""Titration plans: preview from a protocol, save as a new version, calendar and .ics."""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from ldnkit.clinical.models import Plan, PlanOptions
from ldnkit.clinical.titration import default_protocol_for, plan_for_patient, titration_plan
from ldnkit.errors import NotFound
from ldnkit.evidence import default_evidence
from ldnkit.inputs import parse_model
from ldnkit.interop.ical import plan_to_ics
from ldnkit.store import repositories as repo
from ldnkit.store.models import Plan as PlanRow
from ldnkit.store.profiles import clinical_profile, save_plan_version
from ldnkit.web import forms, services
from ldnkit.web.deps import Clinician, ClinicianScope, CurrentUser, Db, InScope, Today
from ldnkit.web.schemas import PlanIn, PlanOut, PlanPreviewIn
from ldnkit.web.templating import form_page, render

api = APIRouter(prefix="/api", tags=["plans"])
pages = APIRouter(include_in_schema=False)


def _out(row: PlanRow) -> PlanOut:
    return PlanOut(
        id=row.id,
        patient_id=row.patient_id,
        version=row.version,
        protocol_id=row.protocol_id,
        start_date=row.start_date,
        created_at=row.created_at,
        plan=row.payload,
    )


def _protocol(protocol_id: str | None, fallback: str) -> str:
    pid = protocol_id or fallback
    default_evidence().protocol(pid)  # NotFound naming the known protocols
    return pid


def build_plan(
    db: Db, patient_id: int, protocol_id: str | None, start: dt.date, options: PlanOptions
) -> Plan:
    with db.read() as s:
        profile = clinical_profile(repo.get_patient(s, patient_id))
    core = services.core_patient(patient_id, profile)
    pid = _protocol(protocol_id, default_protocol_for(core))
    return services.make_plan(patient_id, profile, pid, start, options)


def save_plan(db: Db, patient_id: int, plan: Plan, actor: str) -> PlanRow:
    return db.write(lambda s: save_plan_version(s, patient_id, plan, actor))


# -- API ---------------------------------------------------------------------------------


@api.post("/plans/preview", response_model=Plan)
def api_preview(body: PlanPreviewIn, user: Clinician, today: Today) -> Plan:
    """The plan a protocol gives for a patient described in the request (nothing stored)."""
    services.check_date("start", body.start, today)
    pid = _protocol(body.protocol_id, default_protocol_for(body.patient))
    return plan_for_patient(body.patient, pid, body.start, body.options)


@api.get("/protocols/{protocol_id}/plan", response_model=Plan)
def api_protocol_plan(protocol_id: str, start: dt.date, today: Today) -> Plan:
    """A protocol's plan from a start date with default options (no patient, no screening)."""
    services.check_date("start", start, today)
    return titration_plan(_protocol(protocol_id, "standard"), start)


@api.get("/patients/{patient_id}/plans", response_model=list[PlanOut])
def api_versions(patient: InScope, db: Db) -> list[PlanOut]:
    """Every plan version, oldest first (a change never edits an old version)."""
    with db.read() as s:
        return [_out(r) for r in repo.plan_versions(s, patient.id)]


@api.post("/patients/{patient_id}/plans", response_model=PlanOut, status_code=201)
def api_create(
    patient: ClinicianScope, body: PlanIn, user: CurrentUser, db: Db, today: Today
) -> PlanOut:
    """Screen on the start date, build the plan and save it as the next version."""
    services.check_date("start", body.start, today)
    plan = build_plan(db, patient.id, body.protocol_id, body.start, body.options)
    return _out(save_plan(db, patient.id, plan, user.actor))


@api.get("/patients/{patient_id}/plans/current", response_model=PlanOut)
def api_current(patient: InScope, db: Db) -> PlanOut:
    with db.read() as s:
        row = repo.current_plan(s, patient.id)
    if row is None:
        raise NotFound("plan for patient", str(patient.id))
    return _out(row)


@api.get("/patients/{patient_id}/plans/current.ics", response_class=Response)
def api_ics(patient: InScope, db: Db) -> Response:
    """The current plan as an iCalendar file for the patient's phone."""
    return _ics(db, patient.id)


def _ics(db: Db, patient_id: int) -> Response:
    with db.read() as s:
        plan = services.plan_of(repo.current_plan(s, patient_id))
    if plan is None:
        raise NotFound("plan for patient", str(patient_id))
    return Response(
        plan_to_ics(plan),
        media_type="text/calendar",
        headers={"Content-Disposition": 'attachment; filename="ldn-plan.ics"'},
    )


# -- pages -------------------------------------------------------------------------------


def _plan_form_context(db: Db, patient_id: int, today: dt.date) -> dict[str, Any]:
    ev = default_evidence()
    with db.read() as s:
        row = repo.get_patient(s, patient_id)
        assessment = services.latest_assessment(s, patient_id)
    core = services.core_patient(patient_id, clinical_profile(row))
    return {
        "patient": row,
        "protocols": list(ev.protocols.values()),
        "default_protocol": default_protocol_for(core),
        "assessment_status": assessment.status if assessment else None,
        "option_fields": forms.PLAN_OPTION_FIELDS,
        "start_default": today.isoformat(),
        "refs": ev.references,
    }


def _plan_from_form(db: Db, patient_id: int, form: Any, today: dt.date) -> Plan:
    start = services.check_date("start", forms.required_date(form, "start"), today)
    options = parse_model(PlanOptions, forms.plan_options_from_form(form), prefix="options")
    return build_plan(db, patient_id, forms.text(form, "protocol_id") or None, start, options)


@pages.get("/patients/{patient_id}/plan/new")
def plan_new_page(request: Request, patient: ClinicianScope, db: Db, today: Today) -> Response:
    ctx = _plan_form_context(db, patient.id, today)
    return render(request, "plan_new.html", {**ctx, "values": {}, "preview": None})


@pages.post("/patients/{patient_id}/plan")
async def plan_submit(
    request: Request, patient: ClinicianScope, user: CurrentUser, db: Db, today: Today
) -> Response:
    """ "Preview" re-displays the form with the plan; "Save" stores it as a new version."""
    form = await request.form()
    values = forms.values(form)
    request.state.form_values = values
    ctx = _plan_form_context(db, patient.id, today)
    form_page(request, "plan_new.html", **ctx, preview=None)
    plan = _plan_from_form(db, patient.id, form, today)
    if forms.text(form, "action") != "save":
        return render(request, "plan_new.html", {**ctx, "values": values, "preview": plan})
    save_plan(db, patient.id, plan, user.actor)
    return RedirectResponse(f"/patients/{patient.id}?plan=saved", status_code=303)


def month_grid(plan: Plan, first: dt.date, months: int = 3) -> list[dict[str, Any]]:
    """Calendar months with each day's planned dose and any visit, for the patient."""
    visits = {v.date: v for v in plan.visits}
    out = []
    year, month = first.year, first.month
    for _ in range(months):
        weeks = []
        for week in calendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
            weeks.append(
                [
                    {
                        "day": d,
                        "in_month": d.month == month,
                        "dose": plan.dose_on(d),
                        "change": any(s.start == d for s in plan.steps),
                        "visit": visits.get(d),
                    }
                    for d in week
                ]
            )
        out.append({"title": dt.date(year, month, 1).strftime("%B %Y"), "weeks": weeks})
        month += 1
        if month > 12:
            year, month = year + 1, 1
    return out


@pages.get("/patients/{patient_id}/calendar")
def calendar_page(request: Request, patient: InScope, db: Db, today: Today) -> Response:
    with db.read() as s:
        plan = services.plan_of(repo.current_plan(s, patient.id))
    months = month_grid(plan, max(today, plan.start) if plan else today) if plan else []
    return render(request, "calendar.html", {"patient": patient, "plan": plan, "months": months})


@pages.get("/patients/{patient_id}/plan.ics")
def ics_page(patient: InScope, db: Db) -> Response:
    return _ics(db, patient.id)
