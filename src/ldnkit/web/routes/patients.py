"""Patients: the clinician's list with status, new patient (with screening), the patient page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from ldnkit.clinical.history import OVERRIDE_REASONS
from ldnkit.clinical.models import Assessment
from ldnkit.clinical.response import response_rules
from ldnkit.errors import Forbidden, ValidationError
from ldnkit.evidence import default_evidence
from ldnkit.inputs import parse_model
from ldnkit.store import repositories as repo
from ldnkit.store.models import Patient as PatientRow
from ldnkit.store.profiles import clinical_profile
from ldnkit.web import forms, services
from ldnkit.web.advice import todays_advice
from ldnkit.web.charts import timeline_svg
from ldnkit.web.deps import Clinician, ClinicianScope, CurrentUser, Db, InScope, Principal, Today
from ldnkit.web.schemas import AccountIn, ClinicalProfile, PatientIn, PatientOut, PatientSummaryOut
from ldnkit.web.templating import form_page, render
from ldnkit.web.writes import AUDIT

api = APIRouter(prefix="/api/patients", tags=["patients"])
pages = APIRouter(include_in_schema=False)

PROFILE_EXCLUDE = {"id", "name", "birth_date"}


def clean_profile(profile: dict[str, Any]) -> dict[str, Any]:
    """Validate a clinical profile through the core model and keep its JSON form."""
    patient = services.core_patient(0, profile)
    return patient.model_dump(mode="json", exclude=PROFILE_EXCLUDE)


def check_birth_date(born: dt.date | None, today: dt.date) -> dt.date | None:
    """A birth date after today is a typing error (2030 for 2003), never a patient to plan for."""
    if born is not None and born > today:
        raise ValidationError("birth_date", f"{born.isoformat()} is in the future")
    return born


def _out(row: PatientRow) -> PatientOut:
    return PatientOut(
        id=row.id,
        clinician_id=row.clinician_id,
        given_name=row.given_name,
        family_name=row.family_name,
        birth_date=row.birth_date,
        mrn=row.mrn,
        profile=row.profile or {},
    )


def _visible_patients(db: Db, user: Principal, today: dt.date) -> list[dict[str, Any]]:
    """The caller's patients with their status; audited as one list read."""
    if user.role == "admin":
        raise Forbidden("administrators do not see patient records")
    with db.read() as s:
        if user.role == "clinician":
            rows = repo.list_patients(s, clinician_id=user.clinician_id)
        else:
            row = s.get(PatientRow, user.patient_id)
            rows = [row] if row is not None else []
        out = [{"row": r, "status": services.patient_status(s, r.id, today)} for r in rows]
    db.write_item(
        AUDIT,
        {
            "actor": user.actor,
            "action": "list",
            "entity": "patient",
            "entity_id": None,
            "details": {"count": len(out)},
        },
    )
    return out


def create_patient_job(
    *,
    clinician_id: int,
    identity: dict[str, Any],
    profile: dict[str, Any],
    account: dict[str, str] | None,
    screen_on: dt.date | None,
    actor: str,
):  # type: ignore[no-untyped-def]
    """A write job: the patient, their optional login and their first screening, together."""

    def job(s: Session) -> tuple[int, Assessment | None]:
        row = repo.create_patient(
            s, clinician_id=clinician_id, profile=profile, actor=actor, **identity
        )
        if account is not None:
            repo.create_user(
                s,
                username=account["username"],
                password=account["password"],
                role="patient",
                patient_id=row.id,
                actor=actor,
            )
        assessment = None
        if screen_on is not None:
            _, assessment = services.screen_and_save(
                s, row.id, clinical_profile(row), screen_on, actor
            )
        return row.id, assessment

    return job


# -- API ---------------------------------------------------------------------------------


@api.get("", response_model=list[PatientSummaryOut])
def api_list(user: CurrentUser, db: Db, today: Today) -> list[PatientSummaryOut]:
    """A clinician's own patients (a patient sees only themselves) with their status."""
    items = _visible_patients(db, user, today)
    return [
        PatientSummaryOut(
            id=i["row"].id,
            given_name=i["row"].given_name,
            family_name=i["row"].family_name,
            **vars(i["status"]),
        )
        for i in items
    ]


@api.post("", response_model=PatientOut, status_code=201)
def api_create(body: PatientIn, user: Clinician, db: Db, today: Today) -> PatientOut:
    """Register a patient under the calling clinician, optionally with a patient login."""
    check_birth_date(body.birth_date, today)
    profile = clean_profile(body.profile.model_dump(mode="json", exclude_unset=True))
    identity = {
        "given_name": body.given_name,
        "family_name": body.family_name,
        "birth_date": body.birth_date,
        "mrn": body.mrn,
    }
    account = body.account.model_dump() if body.account else None
    pid, _ = db.write(
        create_patient_job(
            clinician_id=user.clinician_id or 0,
            identity=identity,
            profile=profile,
            account=account,
            screen_on=None,
            actor=user.actor,
        )
    )
    with db.read() as s:
        return _out(repo.get_patient(s, pid))


@api.get("/{patient_id}", response_model=PatientOut)
def api_get(patient: InScope, db: Db) -> PatientOut:
    with db.read() as s:
        return _out(repo.get_patient(s, patient.id))


@api.put("/{patient_id}/profile", response_model=PatientOut)
def api_profile(
    patient: ClinicianScope,
    body: ClinicalProfile,  # type: ignore[valid-type]
    user: CurrentUser,
    db: Db,
) -> PatientOut:
    """Replace the clinical profile (screen again afterwards to see what changed)."""
    profile = clean_profile(body.model_dump(mode="json", exclude_unset=True))
    row = db.write(lambda s: repo.update_patient_profile(s, patient.id, profile, actor=user.actor))
    return _out(row)


# -- pages -------------------------------------------------------------------------------


def _form_context() -> dict[str, Any]:
    ev = default_evidence()
    return {"conditions": list(ev.conditions.values())}


@pages.get("/patients")
def list_page(request: Request, user: CurrentUser, db: Db, today: Today) -> Response:
    if user.role == "patient":
        return RedirectResponse(f"/patients/{user.patient_id}/today", status_code=303)
    items = _visible_patients(db, user, today)
    return render(request, "patients.html", {"items": items})


@pages.get("/patients/new")
def new_page(request: Request, user: Clinician) -> Response:
    return render(request, "patient_new.html", {**_form_context(), "values": {}})


@pages.post("/patients/new")
async def new_submit(request: Request, user: Clinician, db: Db, today: Today) -> Response:
    form = await request.form()
    request.state.form_values = forms.values(form)
    form_page(request, "patient_new.html", **_form_context())
    identity = {
        "given_name": forms.text(form, "given_name"),
        "family_name": forms.text(form, "family_name"),
        "birth_date": check_birth_date(forms.optional_date(form, "birth_date"), today),
        "mrn": forms.text(form, "mrn") or None,
    }
    for name in ("given_name", "family_name"):
        if not identity[name]:
            raise ValidationError(name, "required")
    profile = clean_profile(forms.profile_from_form(form))
    screen_on = services.check_date(
        "screen_on", forms.optional_date(form, "screen_on") or today, today
    )
    account = None
    if forms.text(form, "account_username"):
        account = {
            "username": forms.text(form, "account_username"),
            "password": str(form.get("account_password") or ""),
        }
        parse_model(AccountIn, account, prefix="account")
    pid, _ = await db.awrite(
        create_patient_job(
            clinician_id=user.clinician_id or 0,
            identity=identity,
            profile=profile,
            account=account,
            screen_on=screen_on,
            actor=user.actor,
        )
    )
    return RedirectResponse(f"/patients/{pid}?created=1", status_code=303)


#: Without a plan, the patient page shows this many days of diary.
NO_PLAN_DAYS = 90


def patient_page_context(db: Db, patient_id: int, today: dt.date) -> dict[str, Any]:
    """Everything the clinician's patient page shows, read in one session.

    The page covers the current treatment course: the diary from the baseline week before the
    plan's first dose (all the advice rules look at) to today; the History page shows all of it.
    """
    with db.read() as s:
        row = repo.get_patient(s, patient_id)
        assessment_row = services.latest_assessment(s, patient_id)
        plan_row = repo.current_plan(s, patient_id)
        plan = services.plan_of(plan_row)
        versions = services.plan_history(s, patient_id)
        since = (
            min(v.start for v in versions) - dt.timedelta(days=response_rules().baseline_days)
            if versions
            else today - dt.timedelta(days=NO_PLAN_DAYS)
        )
        entries = repo.current_entries(s, patient_id, start=since)
        diary = [repo.to_diary_entry(e) for e in entries]
        overrides = repo.list_dose_overrides(s, patient_id)
        advice = todays_advice(
            plan,
            diary,
            today,
            versions=versions,
            overrides=repo.core_overrides(s, patient_id),
        )
        status = services.patient_status(
            s,
            patient_id,
            today,
            plan_row=plan_row,
            diary=diary,
            advice=advice,
            assessment=assessment_row,
        )
        versions = plan_row.version if plan_row else 0  # versions run 1..n
    points = [(e.entry_date, e.pain, e.dose_mg if e.dose_taken else None) for e in entries]
    ev = default_evidence()
    return {
        "patient": row,
        "profile": row.profile or {},
        "assessment": Assessment.model_validate(assessment_row.payload) if assessment_row else None,
        "plan": plan,
        "plan_row": plan_row,
        "plan_versions": versions,
        "entries": list(reversed(entries))[:28],
        "advice": advice,
        "overrides": overrides,
        "override_reasons": OVERRIDE_REASONS,
        "status": status,
        "chart": timeline_svg(points, plan, end=today),
        "refs": ev.references,
    }


@pages.get("/patients/{patient_id}")
async def patient_page(
    request: Request, patient: InScope, user: CurrentUser, db: Db, today: Today
) -> Response:
    if user.role == "patient":
        return RedirectResponse(f"/patients/{patient.id}/today", status_code=303)
    ctx = await run_in_threadpool(patient_page_context, db, patient.id, today)
    return render(request, "patient.html", ctx)
