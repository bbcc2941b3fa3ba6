"""N-of-1 trials: set up, monitor, unblind, report, pool (clinician); randomisation list,
dispensing and labels (pharmacist); pack of the day, end-of-period questions (patient).

Access: `trial_in_scope` applies the patient rule of `web/deps.py` to the trial's patient (its
clinician or the patient; reads audited). The sealed list is read only by the pharmacist
(`Pharmacist`, every read audited) or, through an unblinding that is itself audited, by the
trial's clinician. Pages and JSON never show pack contents before unblinding.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from ldnkit.errors import Forbidden, NotFound, ValidationError
from ldnkit.interop.nof1_documents import report_pdf
from ldnkit.research.nof1 import dispensing
from ldnkit.store import nof1_trials as svc
from ldnkit.store.models import Nof1TrialRow, PatientRow
from ldnkit.store.repositories import nof1 as trials
from ldnkit.web import forms
from ldnkit.web.deps import (
    Clinician,
    ClinicianScope,
    CurrentUser,
    Db,
    InScope,
    Pharmacist,
    Principal,
    Today,
    current_user,
)
from ldnkit.web.templating import form_page, render
from ldnkit.web.writes import AUDIT

api = APIRouter(prefix="/api", tags=["nof1"])
pages = APIRouter(include_in_schema=False)


# -- access ------------------------------------------------------------------------------


class TrialRef(BaseModel):
    """A trial the caller may see, with the role they see it in."""

    model_config = ConfigDict(frozen=True)

    id: int
    patient_id: int
    clinician_id: int
    as_clinician: bool


def _load_trial(db: Db, trial_id: int) -> TrialRef | None:
    with db.read() as s:
        row = s.get(Nof1TrialRow, trial_id)
        if row is None:
            return None
        patient = s.get(PatientRow, row.patient_id)
        assert patient is not None
        return TrialRef(
            id=row.id,
            patient_id=row.patient_id,
            clinician_id=patient.clinician_id,
            as_clinician=False,
        )


async def trial_in_scope(
    request: Request,
    trial_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    db: Db,
    user: Principal = Depends(current_user),
) -> TrialRef:
    """The trial in the path if its patient is in the caller's scope (deps' patient rule)."""
    ref = await run_in_threadpool(_load_trial, db, trial_id)
    if ref is None:
        raise NotFound("N-of-1 trial", str(trial_id))
    is_clin = user.role == "clinician" and user.clinician_id == ref.clinician_id
    is_patient = user.role == "patient" and user.patient_id == ref.patient_id
    if not (is_clin or is_patient):
        raise Forbidden("this trial is not yours to see")
    if request.method == "GET":
        await db.awrite_item(
            AUDIT,
            {
                "actor": user.actor,
                "action": "read",
                "entity": "nof1_trial",
                "entity_id": ref.id,
                "details": {"patient_id": ref.patient_id},
            },
        )
    return ref.model_copy(update={"as_clinician": is_clin})


TrialScope = Annotated[TrialRef, Depends(trial_in_scope)]


def _clinician_only(trial: TrialRef) -> None:
    if not trial.as_clinician:
        raise Forbidden("only the patient's clinician may do this")


# -- schemas -----------------------------------------------------------------------------


class TrialIn(BaseModel):
    """Set up a trial; the dose defaults to the titrated dose of the current plan."""

    model_config = ConfigDict(extra="forbid")

    start: dt.date
    dose_mg: Decimal | None = Field(default=None, gt=0, le=50)
    comparator_dose_mg: Decimal | None = Field(default=None, gt=0, le=50)
    pairs: int = Field(default=3, ge=2, le=12)
    measure_days: int = Field(default=14, ge=5, le=56)
    pd_lag_days: int = Field(default=3, ge=0, le=21)
    run_in_days: int = Field(default=14, ge=0, le=84)
    goal_points: float = Field(default=1.0, gt=0, le=10)


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period: int = Field(ge=1, le=24)
    guess: Literal["ldn", "comparator", "unsure"]
    impression: int | None = Field(default=None, ge=-3, le=3)


class UnblindIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["final", "emergency"] = "final"
    reason: str | None = Field(default=None, max_length=64)
    note: str | None = Field(default=None, max_length=2000)


class StopIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Literal["intolerable_side_effects", "patient_request", "severe_worsening", "other"]


def _trial_out(row: Nof1TrialRow) -> dict[str, Any]:
    """A trial as JSON for anyone in scope: the blinded design, status, result if unblinded."""
    return {
        "id": row.id,
        "ref": row.ref,
        "patient_id": row.patient_id,
        "status": row.status,
        "start_date": row.start_date.isoformat(),
        "end_date": row.end_date.isoformat(),
        "design": row.design,
        "unblinded": row.unblinded_at is not None,
        "unblind_kind": row.unblind_kind,
        "stop_reason": row.stop_reason,
        "result": (row.result or {}).get("report"),
    }


# -- shared actions ----------------------------------------------------------------------


def _check_start(start: dt.date, today: dt.date) -> None:
    if start < today - dt.timedelta(days=7):
        raise ValidationError("start", "must not be more than a week in the past")
    if start > today + dt.timedelta(days=365):
        raise ValidationError("start", "must be within a year from today")


def _create(db: Db, patient_id: int, body: TrialIn, actor: str) -> Nof1TrialRow:
    def job(s: Any) -> Nof1TrialRow:
        row, _ = svc.start_trial(
            s,
            patient_id,
            body.start,
            actor,
            dose_mg=body.dose_mg,
            comparator_dose_mg=body.comparator_dose_mg,
            pairs=body.pairs,
            measure_days=body.measure_days,
            pd_lag_days=body.pd_lag_days,
            run_in_days=body.run_in_days,
            goal_points=body.goal_points,
        )
        return row

    return db.write(job)


def _unblind_and_analyse(
    db: Db, trial_id: int, body: UnblindIn, actor: str, today: dt.date
) -> None:
    def job(s: Any) -> None:
        trials.unblind(
            s,
            trial_id,
            actor=actor,
            kind=body.kind,
            today=today,
            reason=body.reason,
            note=body.note,
        )
        try:
            svc.analyse_trial(s, trial_id, actor)
        except ValidationError as exc:
            if exc.field != "diary":  # too few diary days: unblinded, but nothing to analyse
                raise

    db.write(job)


def _report(db: Db, trial_id: int, actor: str) -> Any:
    def job(s: Any) -> Any:
        return svc.analyse_trial(s, trial_id, actor)[2]

    return db.write(job)


# -- API ---------------------------------------------------------------------------------


@api.get("/patients/{patient_id}/nof1")
def api_list(patient: InScope, db: Db) -> list[dict[str, Any]]:
    """The patient's trials, newest first (blinded designs; results once unblinded)."""
    with db.read() as s:
        return [_trial_out(t) for t in trials.trials_for_patient(s, patient.id)]


@api.post("/patients/{patient_id}/nof1", status_code=201)
def api_create(
    patient: ClinicianScope, body: TrialIn, user: CurrentUser, db: Db, today: Today
) -> dict[str, Any]:
    """Design and store a trial; the randomisation list is sealed at this moment."""
    _check_start(body.start, today)
    return _trial_out(_create(db, patient.id, body, user.actor))


@api.get("/nof1/{trial_id}")
def api_get(trial: TrialScope, db: Db) -> dict[str, Any]:
    with db.read() as s:
        return _trial_out(trials.get_trial(s, trial.id))


@api.get("/nof1/{trial_id}/status")
def api_status(trial: TrialScope, db: Db, today: Today) -> dict[str, Any]:
    """Progress, stopping-rule signals and mean pain per pack letter (clinician)."""
    _clinician_only(trial)
    with db.read() as s:
        return svc.monitor(s, trials.get_trial(s, trial.id), today)


@api.get("/nof1/{trial_id}/calendar.ics", response_class=Response)
def api_ics(trial: TrialScope, db: Db) -> Response:
    """The patient's calendar: packs by date, never contents."""
    with db.read() as s:
        row = trials.get_trial(s, trial.id)
        body = trials.design_of(row).to_ics(row.ref)
    return Response(
        body,
        media_type="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="{row.ref}.ics"'},
    )


@api.post("/nof1/{trial_id}/answers", status_code=201)
def api_answer(trial: TrialScope, body: AnswerIn, user: CurrentUser, db: Db) -> dict[str, Any]:
    """The patient's end-of-period answers (blinding guess, overall impression)."""
    row = db.write(
        lambda s: trials.save_answer(
            s, trial.id, body.period, body.guess, body.impression, user.actor
        )
    )
    return {"period": row.period, "guess": row.guess, "impression": row.impression}


@api.post("/nof1/{trial_id}/stop")
def api_stop(
    trial: TrialScope, body: StopIn, user: CurrentUser, db: Db, today: Today
) -> dict[str, Any]:
    """Stop early: the patient may ask to stop; the clinician stops for any coded reason."""
    if not trial.as_clinician and body.reason != "patient_request":
        raise Forbidden("a patient stops a trial with reason patient_request")
    row = db.write(
        lambda s: trials.set_status(
            s, trial.id, actor=user.actor, status="stopped", on=today, reason=body.reason
        )
    )
    return _trial_out(row)


@api.post("/nof1/{trial_id}/unblind")
def api_unblind(
    trial: TrialScope, body: UnblindIn, user: CurrentUser, db: Db, today: Today
) -> dict[str, Any]:
    """Unblind (after the last period, or in an emergency with a reason code) and analyse."""
    _clinician_only(trial)
    _unblind_and_analyse(db, trial.id, body, user.actor, today)
    with db.read() as s:
        return _trial_out(trials.get_trial(s, trial.id))


@api.get("/nof1/{trial_id}/report.pdf", response_class=Response)
def api_report_pdf(trial: TrialScope, user: CurrentUser, db: Db) -> Response:
    """The one-page report as PDF (after unblinding)."""
    report = _report(db, trial.id, user.actor)
    return Response(report_pdf(report), media_type="application/pdf")


@api.get("/nof1/{trial_id}/fhir")
def api_fhir(trial: TrialScope, user: CurrentUser, db: Db) -> dict[str, Any]:
    """The trial as a FHIR R4 Bundle (ResearchStudy, ResearchSubject, Observations); arms are
    named only after unblinding (reading the list then is audited)."""
    from ldnkit.interop.fhir.nof1 import trial_bundle

    def job(s: Any) -> dict[str, Any]:
        row = trials.get_trial(s, trial.id)
        design = trials.design_of(row)
        pain, _ = svc.trial_diary(s, row)
        alloc = None
        if row.unblinded_at is not None:
            purpose = "emergency" if row.unblind_kind == "emergency" else "final"
            alloc = trials.read_allocation(s, row.id, actor=user.actor, purpose=purpose)
        result = ((row.result or {}).get("report") or {}).get("result")
        return trial_bundle(row.ref, row.patient_id, design, row.status, pain, alloc, result)

    return db.write(job)


@api.get("/nof1-pool")
def api_pool(user: Clinician, db: Db) -> dict[str, Any]:
    """The clinician's completed trials pooled, next to the published randomised trials."""
    return _pool_context(db, user.clinician_id)["pooled_dict"]


@api.get("/nof1-pool/export.csv", response_class=Response)
def api_pool_export(user: Clinician, db: Db) -> Response:
    """One name-free row per completed trial (pseudonymous trial reference only)."""
    with db.read() as s:
        rows = svc.pooled_export(s, user.clinician_id)
    buf = io.StringIO()
    if rows:
        wr = csv.DictWriter(buf, fieldnames=list(rows[0]))
        wr.writeheader()
        wr.writerows(rows)
    return Response(buf.getvalue(), media_type="text/csv")


@api.get("/pharmacy/nof1")
def api_pharmacy_list(user: Pharmacist, db: Db) -> list[dict[str, Any]]:
    """Every trial the pharmacy supplies (no patient names)."""
    with db.read() as s:
        return [
            {"id": t.id, "ref": t.ref, "status": t.status, "start_date": t.start_date.isoformat()}
            for t in trials.list_trials(s)
        ]


@api.get("/pharmacy/nof1/{trial_id}")
def api_pharmacy_trial(
    trial_id: Annotated[int, Path(ge=1, le=2**31 - 1)], user: Pharmacist, db: Db
) -> dict[str, Any]:
    """The randomisation list and the dispensing lines; every read is audited."""
    return _pharmacy_context(db, trial_id, user.actor)["json"]


# -- pharmacy ----------------------------------------------------------------------------


def _pharmacy_context(db: Db, trial_id: int, actor: str) -> dict[str, Any]:
    def job(s: Any) -> dict[str, Any]:
        row = trials.get_trial(s, trial_id)
        alloc = trials.read_allocation(s, trial_id, actor=actor, purpose="pharmacy")
        design = trials.design_of(row)
        lines = dispensing(design, alloc, row.ref)
        return {
            "ref": row.ref,
            "status": row.status,
            "allocation": alloc,
            "design": design,
            "lines": lines,
            "json": {
                "ref": row.ref,
                "pack_contents": dict(alloc.pack_contents),
                "orders": list(alloc.orders),
                "seed": alloc.seed,
                "lines": [ln.to_dict(blinded=False) for ln in lines],
            },
        }

    return db.write(job)


# -- pooling -----------------------------------------------------------------------------


def _pool_context(db: Db, clinician_id: int | None) -> dict[str, Any]:
    from ldnkit.research.published import load_trials_meta, pooled_ldn_example

    with db.read() as s:
        try:
            pooled = svc.pool_clinic(s, clinician_id)
            error = None
        except ValidationError as exc:
            pooled, error = None, exc.reason
        rows = svc.pooled_export(s, clinician_id)
    rct = pooled_ldn_example()
    lo, hi = rct.conf_int()
    published = {
        "k": rct.k,
        "measure": rct.measure,
        "estimate": rct.estimate,
        "ci95": [lo, hi],
        "trials": [t["id"] for t in rct.extra.get("trials", [])],
        "published_pooled": [p.model_dump() for p in load_trials_meta().published_pooled],
    }
    return {
        "pooled": pooled,
        "error": error,
        "rows": rows,
        "published": published,
        "pooled_dict": {
            "clinic": pooled.to_dict() if pooled else None,
            "message": error,
            "published_rcts": published,
        },
    }


# -- pages -------------------------------------------------------------------------------


def _form_trial(form: Any) -> TrialIn:
    def dose(name: str) -> Decimal | None:
        v = forms.text(form, name)
        if not v:
            return None
        try:
            return Decimal(v)
        except Exception:
            raise ValidationError(name, f"{v!r} is not a dose in mg") from None

    def integer(name: str, default: int) -> int:
        v = forms.text(form, name)
        if not v:
            return default
        try:
            return int(v)
        except ValueError:
            raise ValidationError(name, f"{v!r} is not a whole number") from None

    goal = forms.text(form, "goal_points") or "1"
    try:
        goal_f = float(goal)
    except ValueError:
        raise ValidationError("goal_points", f"{goal!r} is not a number") from None
    from ldnkit.inputs import parse_model

    return parse_model(
        TrialIn,
        {
            "start": forms.required_date(form, "start"),
            "dose_mg": dose("dose_mg"),
            "comparator_dose_mg": dose("comparator_dose_mg"),
            "pairs": integer("pairs", 3),
            "measure_days": integer("measure_days", 14),
            "pd_lag_days": integer("pd_lag_days", 3),
            "run_in_days": integer("run_in_days", 14),
            "goal_points": goal_f,
        },
    )


def _patient_trials_context(db: Db, patient_id: int) -> dict[str, Any]:
    with db.read() as s:
        rows = list(trials.trials_for_patient(s, patient_id))
        try:
            dose = svc.titrated_dose(s, patient_id)
        except (NotFound, ValidationError):
            dose = None
    return {"trials": rows, "titrated_dose": dose}


@pages.get("/patients/{patient_id}/nof1")
def patient_trials_page(request: Request, patient: InScope, user: CurrentUser, db: Db) -> Response:
    ctx = _patient_trials_context(db, patient.id)
    return render(request, "nof1_patient.html", {"patient": patient, "values": {}, **ctx})


@pages.post("/patients/{patient_id}/nof1")
async def patient_trials_submit(
    request: Request, patient: ClinicianScope, user: CurrentUser, db: Db, today: Today
) -> Response:
    form = await request.form()
    request.state.form_values = forms.values(form)
    ctx = await run_in_threadpool(_patient_trials_context, db, patient.id)
    form_page(request, "nof1_patient.html", patient=patient, **ctx)
    body = _form_trial(form)
    _check_start(body.start, today)
    row = await run_in_threadpool(_create, db, patient.id, body, user.actor)
    return RedirectResponse(f"/nof1/{row.id}", status_code=303)


def _trial_context(db: Db, trial: TrialRef, today: dt.date) -> dict[str, Any]:
    from ldnkit.research.nof1 import pain_svg

    with db.read() as s:
        row = trials.get_trial(s, trial.id)
        design = trials.design_of(row)
        pain, _ = svc.trial_diary(s, row)
        status = svc.monitor(s, row, today) if trial.as_clinician else None
        answered = {a.period for a in trials.answers(s, trial.id)}
        patient = s.get(PatientRow, row.patient_id)
    info = design.day_info(today)
    due = [
        p for p in design.periods if design.date_of(p.end_day) <= today and p.index not in answered
    ]
    return {
        "trial": row,
        "design": design,
        "schedule": design.schedule(),
        "status": status,
        "info": info,
        "due": due[:1],
        "chart": pain_svg(design, pain, None),
        "report": (row.result or {}).get("report"),
        "report_svg": (row.result or {}).get("svg"),
        "patient_name": f"{patient.given_name} {patient.family_name}" if patient else "",
        "as_clinician": trial.as_clinician,
        "reasons": trials.EMERGENCY_REASONS,
    }


@pages.get("/nof1/{trial_id}")
def trial_page(request: Request, trial: TrialScope, db: Db, today: Today) -> Response:
    """Clinician: monitor, unblind, report. Patient: pack of the day and the questions."""
    ctx = _trial_context(db, trial, today)
    template = "nof1_trial.html" if trial.as_clinician else "nof1_today.html"
    return render(request, template, {"values": {}, **ctx})


@pages.post("/nof1/{trial_id}/answers")
async def answers_submit(
    request: Request, trial: TrialScope, user: CurrentUser, db: Db, today: Today
) -> Response:
    form = await request.form()
    request.state.form_values = forms.values(form)
    ctx = await run_in_threadpool(_trial_context, db, trial, today)
    form_page(request, "nof1_today.html", **ctx)
    from ldnkit.inputs import parse_model

    imp = forms.text(form, "impression")
    body = parse_model(
        AnswerIn,
        {
            "period": forms.text(form, "period") or "0",
            "guess": forms.text(form, "guess"),
            "impression": imp or None,
        },
    )
    await run_in_threadpool(api_answer, trial, body, user, db)
    return RedirectResponse(f"/nof1/{trial.id}?answered={body.period}", status_code=303)


@pages.post("/nof1/{trial_id}/stop")
async def stop_submit(
    request: Request, trial: TrialScope, user: CurrentUser, db: Db, today: Today
) -> Response:
    form = await request.form()
    reason = forms.text(form, "reason") or "patient_request"
    from ldnkit.inputs import parse_model

    body = parse_model(StopIn, {"reason": reason})
    await run_in_threadpool(api_stop, trial, body, user, db, today)
    return RedirectResponse(f"/nof1/{trial.id}?stopped=1", status_code=303)


@pages.post("/nof1/{trial_id}/unblind")
async def unblind_submit(
    request: Request, trial: TrialScope, user: CurrentUser, db: Db, today: Today
) -> Response:
    _clinician_only(trial)
    form = await request.form()
    request.state.form_values = forms.values(form)
    ctx = await run_in_threadpool(_trial_context, db, trial, today)
    form_page(request, "nof1_trial.html", **ctx)
    from ldnkit.inputs import parse_model

    body = parse_model(
        UnblindIn,
        {
            "kind": forms.text(form, "kind") or "final",
            "reason": forms.text(form, "reason") or None,
            "note": forms.text(form, "note") or None,
        },
    )
    await run_in_threadpool(_unblind_and_analyse, db, trial.id, body, user.actor, today)
    return RedirectResponse(f"/nof1/{trial.id}#report", status_code=303)


@pages.get("/nof1-pool")
def pool_page(request: Request, user: Clinician, db: Db) -> Response:
    return render(request, "nof1_pool.html", _pool_context(db, user.clinician_id))


@pages.get("/pharmacy")
def pharmacy_page(request: Request, user: Pharmacist, db: Db) -> Response:
    with db.read() as s:
        rows = list(trials.list_trials(s))
    return render(request, "nof1_pharmacy.html", {"trials": rows})


@pages.get("/pharmacy/nof1/{trial_id}")
def pharmacy_trial_page(
    request: Request, trial_id: Annotated[int, Path(ge=1, le=2**31 - 1)], user: Pharmacist, db: Db
) -> Response:
    return render(request, "nof1_pharmacy_trial.html", _pharmacy_context(db, trial_id, user.actor))


def today_card(session: Any, patient_id: int, today: dt.date) -> dict[str, Any] | None:
    """For the patient's Today page: the running trial's pack of the day, or None."""
    for row in trials.trials_for_patient(session, patient_id):
        if row.status != "active":
            continue
        design = trials.design_of(row)
        info = design.day_info(today)
        if info.stage in ("before", "finished"):
            continue
        return {
            "trial_id": row.id,
            "stage": info.stage,
            "pack": info.period.pack if info.period else None,
            "period": info.period.index if info.period else None,
            "last_day": info.last_day_of_period,
        }
    return None
