"""Titration plans: preview, save as a new version, calendar and .ics; dose overrides.

A revision of a running plan continues from the dose the patient is on (restarting titration
at the protocol's starting dose is an explicit choice, with a warning), never at or above a
dose the diary showed was intolerable, and saves exactly the plan that was previewed: the
preview carries a fingerprint of the plan and the save refuses a plan that differs from it.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ldnkit import i18n
from ldnkit.clinical.models import Plan, PlanOptions, fmt_mg
from ldnkit.clinical.titration import default_protocol_for, plan_for_patient, titration_plan
from ldnkit.errors import NotFound, ValidationError
from ldnkit.evidence import default_evidence
from ldnkit.inputs import parse_model
from ldnkit.interop.ical import plan_to_ics
from ldnkit.store import repositories as repo
from ldnkit.store.models import DoseOverrideRow, PlanRow
from ldnkit.store.profiles import clinical_profile, save_plan_version
from ldnkit.web import forms, services
from ldnkit.web.deps import Clinician, ClinicianScope, CurrentUser, Db, InScope, Today
from ldnkit.web.schemas import DoseOverrideIn, DoseOverrideOut, PlanIn, PlanOut, PlanPreviewIn
from ldnkit.web.templating import form_page, render, request_language

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
    db: Db,
    patient_id: int,
    protocol_id: str | None,
    start: dt.date,
    options: PlanOptions,
    today: dt.date | None = None,
) -> Plan:
    """The plan for a stored patient; the ladder always stops below any intolerable dose.

    The intolerable dose comes from the stored dosing history, whatever the caller sent: a
    client can lower the bound but never lift it.
    """
    with db.read() as s:
        profile = clinical_profile(repo.get_patient(s, patient_id))
        history = services.dosing_history_for(s, patient_id, today or start)
    low = history.lowest_intolerable_mg if history else None
    if low is not None and (
        options.intolerable_from_mg is None or options.intolerable_from_mg > low
    ):
        options = options.model_copy(update={"intolerable_from_mg": low})
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
    plan = build_plan(db, patient.id, body.protocol_id, body.start, body.options, today)
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


@api.get("/patients/{patient_id}/dose-overrides", response_model=list[DoseOverrideOut])
def api_overrides(patient: ClinicianScope, db: Db) -> list[DoseOverrideRow]:
    """The clinician's recorded dose overrides for this patient, oldest first."""
    with db.read() as s:
        return list(repo.list_dose_overrides(s, patient.id))


@api.post("/patients/{patient_id}/dose-overrides", response_model=DoseOverrideOut, status_code=201)
def api_add_override(
    patient: ClinicianScope, body: DoseOverrideIn, user: CurrentUser, db: Db, today: Today
) -> DoseOverrideRow:
    """Allow a dose the diary showed was intolerable (audited; advice may suggest it again)."""
    return add_override(db, patient.id, body, user.actor, today)


def add_override(
    db: Db, patient_id: int, body: DoseOverrideIn, actor: str, today: dt.date
) -> DoseOverrideRow:
    """Store an override after checking there is an intolerance to override."""
    services.check_date("effective_on", body.effective_on, today)
    if body.effective_on > today:
        raise ValidationError("effective_on", f"{body.effective_on} is after today ({today})")
    with db.read() as s:
        history = services.dosing_history_for(s, patient_id, today)
    doses = [i.dose_mg for i in history.intolerable] if history else []
    if body.dose_mg not in doses:
        known = ", ".join(f"{fmt_mg(d)} mg" for d in doses) or "none"
        raise ValidationError(
            "dose_mg",
            f"{fmt_mg(body.dose_mg)} mg is not recorded as intolerable (intolerable: {known})",
        )
    return db.write(
        lambda s: repo.add_dose_override(
            s,
            patient_id=patient_id,
            dose_mg=body.dose_mg,
            effective_on=body.effective_on,
            reason=body.reason,
            note=body.note,
            actor=actor,
        )
    )


# -- pages -------------------------------------------------------------------------------


def preview_token(plan: Plan) -> str:
    """A fingerprint of the previewed plan: the save must produce exactly this plan."""
    return hashlib.sha256(plan.model_dump_json().encode()).hexdigest()[:32]


def _plan_form_context(db: Db, patient_id: int, today: dt.date) -> dict[str, Any]:
    ev = default_evidence()
    with db.read() as s:
        row = repo.get_patient(s, patient_id)
        assessment = services.latest_assessment(s, patient_id)
        current = services.plan_of(repo.current_plan(s, patient_id))
        advice = services.advice_for(s, patient_id, today) if current else None
        history = services.dosing_history_for(s, patient_id, today)
    core = services.core_patient(patient_id, clinical_profile(row))
    step = current.step_on(today) if current else None
    return {
        "patient": row,
        "protocols": list(ev.protocols.values()),
        "default_protocol": current.protocol_id if current else default_protocol_for(core),
        "assessment_status": assessment.status if assessment else None,
        "option_fields": forms.PLAN_OPTION_FIELDS,
        "start_default": today.isoformat(),
        "refs": ev.references,
        "current_plan": current,
        "current_step": step,
        "advice": advice,
        "history": history,
        "taking_mg": history.current_mg if history else None,
    }


def _defaults(ctx: dict[str, Any], from_advice: bool) -> dict[str, str]:
    """Form defaults for a revision: continue from the dose taken (or the advice's dose)."""
    current, advice = ctx["current_plan"], ctx["advice"]
    if current is None:
        return {}
    step = ctx["current_step"]
    dose = ctx["taking_mg"] or (step.dose_mg if step and step.dose_mg > 0 else None)
    timing = step.timing if step else current.steps[-1].timing
    if from_advice and advice is not None and advice.suggested_dose_mg:
        dose = advice.suggested_dose_mg
        timing = advice.suggested_timing or timing
    out = {"mode": "continue", "timing": timing, "protocol_id": current.protocol_id}
    if dose:
        out["continue_from_mg"] = fmt_mg(dose)
    return out


def _plan_from_form(db: Db, patient_id: int, form: Any, today: dt.date) -> Plan:
    start = services.check_date("start", forms.required_date(form, "start"), today)
    raw = forms.plan_options_from_form(form)
    mode = forms.text(form, "mode") or "restart"
    if mode not in ("continue", "restart"):
        raise ValidationError("mode", "choose continue or restart")
    if mode == "continue":
        # A dose typed in "start mg" while continuing means the dose to continue from.
        dose = forms.text(form, "continue_from_mg") or raw.get("start_mg")
        if not dose:
            raise ValidationError("continue_from_mg", "required to continue from a dose")
        raw.pop("start_mg", None)
        raw["continue_from_mg"] = dose
    options = parse_model(PlanOptions, raw, prefix="options")
    return build_plan(
        db, patient_id, forms.text(form, "protocol_id") or None, start, options, today
    )


def _warnings(ctx: dict[str, Any], plan: Plan) -> list[str]:
    """What a clinician must see before saving: a restart below the dose being taken."""
    taking = ctx["taking_mg"]
    first = next((st.dose_mg for st in plan.steps if st.dose_mg > 0), None)
    out = []
    if taking and first is not None and first < taking:
        out.append(
            f"This plan starts at {fmt_mg(first)} mg but the patient is taking "
            f"{fmt_mg(taking)} mg: titration restarts from the lower dose."
        )
    current = ctx["current_step"]
    if current is not None and plan.steps[0].timing != current.timing:
        out.append(f"Dose time changes from {current.timing} to {plan.steps[0].timing}.")
    return out


@pages.get("/patients/{patient_id}/plan/new")
def plan_new_page(
    request: Request,
    patient: ClinicianScope,
    db: Db,
    today: Today,
    from_advice: bool = False,
) -> Response:
    ctx = _plan_form_context(db, patient.id, today)
    values = _defaults(ctx, from_advice)
    return render(request, "plan_new.html", {**ctx, "values": values, "preview": None})


@pages.post("/patients/{patient_id}/plan")
async def plan_submit(
    request: Request, patient: ClinicianScope, user: CurrentUser, db: Db, today: Today
) -> Response:
    """ "Preview" re-displays the form with the plan; "Save" stores exactly the previewed plan."""
    form = await request.form()
    values = forms.values(form)
    request.state.form_values = values
    ctx = await run_in_threadpool(_plan_form_context, db, patient.id, today)
    form_page(request, "plan_new.html", **ctx, preview=None)
    plan = await run_in_threadpool(_plan_from_form, db, patient.id, form, today)
    token = preview_token(plan)
    if forms.text(form, "action") != "save":
        return render(
            request,
            "plan_new.html",
            {
                **ctx,
                "values": values,
                "preview": plan,
                "preview_token": token,
                "warnings": _warnings(ctx, plan),
            },
        )
    if forms.text(form, "preview_token") != token:
        form_page(
            request,
            "plan_new.html",
            **ctx,
            preview=plan,
            preview_token=token,
            warnings=_warnings(ctx, plan),
        )
        raise ValidationError(
            "preview_token",
            "the form changed after the preview (or was not previewed); check this new "
            "preview and save again",
        )
    save_plan(db, patient.id, plan, user.actor)
    return RedirectResponse(f"/patients/{patient.id}?plan=saved", status_code=303)


@pages.post("/patients/{patient_id}/dose-overrides")
async def override_submit(
    request: Request, patient: ClinicianScope, user: CurrentUser, db: Db, today: Today
) -> Response:
    """The patient page's override form: allow a dose found intolerable, then back."""
    form = await request.form()
    body = parse_model(
        DoseOverrideIn,
        {
            "dose_mg": forms.text(form, "dose_mg"),
            "effective_on": forms.text(form, "effective_on") or today.isoformat(),
            "reason": forms.text(form, "reason"),
            "note": forms.text(form, "note") or None,
        },
        prefix="",
    )
    await run_in_threadpool(add_override, db, patient.id, body, user.actor, today)
    return RedirectResponse(f"/patients/{patient.id}?override=saved#advice", status_code=303)


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
        first_day = dt.date(year, month, 1)
        out.append({"title": first_day.strftime("%B %Y"), "first": first_day, "weeks": weeks})
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
def ics_page(request: Request, patient: InScope, db: Db) -> Response:
    # The patient's own calendar file, in their page language (staff: English).
    with i18n.use(request_language(request)):
        return _ics(db, patient.id)
