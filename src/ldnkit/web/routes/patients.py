"""Patients: the clinician's list with status, new patient (with screening), the patient page."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

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
from ldnkit.store.models import PatientRow
from ldnkit.store.profiles import clinical_profile
from ldnkit.web import forms, services
from ldnkit.web.advice import todays_advice
from ldnkit.web.charts import timeline_figure
from ldnkit.web.deps import Clinician, ClinicianScope, CurrentUser, Db, InScope, Principal, Today
from ldnkit.web.names import actor_names
from ldnkit.web.patient_list import (
    FILTERS,
    REVIEW_WINDOW_DAYS,
    SIDE_EFFECT_DAYS,
    SORTS,
    ListRow,
    select_rows,
    to_csv,
)
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


def _list_rows(db: Db, user: Principal, today: dt.date) -> list[ListRow]:
    """The clinician's patients with the flags the list filters on; audited as one read."""
    if user.role != "clinician":
        raise Forbidden("the patient list is for clinicians")
    since = today - dt.timedelta(days=SIDE_EFFECT_DAYS)
    out = []
    with db.read() as s:
        for r in repo.list_patients(s, clinician_id=user.clinician_id):
            plan_row = repo.current_plan(s, r.id)
            plan = services.plan_of(plan_row)
            st = services.patient_status(s, r.id, today, plan_row=plan_row)
            recent = repo.current_entries(s, r.id, start=since, end=today)
            effects = tuple(sorted({e["code"] for row in recent for e in row.side_effects or []}))
            visits = [v.date for v in plan.visits] if plan else []
            upcoming = [d for d in visits if d >= today - dt.timedelta(days=REVIEW_WINDOW_DAYS)]
            out.append(
                ListRow(
                    id=r.id,
                    given_name=r.given_name,
                    family_name=r.family_name,
                    screening=st.screening,
                    screened_on=st.screened_on,
                    current_dose_mg=st.current_dose_mg,
                    plan_version=st.plan_version,
                    responder=st.responder,
                    last_entry=st.last_entry,
                    days_since_entry=st.days_since_entry,
                    next_visit=min(upcoming) if upcoming else None,
                    recent_side_effects=effects,
                )
            )
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


def _list_query(request: Request) -> dict[str, str]:
    q = request.query_params
    flag = q.get("filter", "")
    sort = q.get("sort", "name")
    return {
        "q": q.get("q", "")[:100],
        "flag": flag if flag in FILTERS else "",
        "sort": sort if sort in SORTS else "name",
    }


@pages.get("/patients")
def list_page(request: Request, user: CurrentUser, db: Db, today: Today) -> Response:
    if user.role == "patient":
        return RedirectResponse(f"/patients/{user.patient_id}/today", status_code=303)
    query = _list_query(request)
    rows = _list_rows(db, user, today)
    shown = select_rows(rows, today, **query)
    ctx = {"rows": shown, "total": len(rows), "filters": FILTERS, "sorts": SORTS, **query}
    ctx["csv_query"] = urlencode({"q": query["q"], "filter": query["flag"], "sort": query["sort"]})
    return render(request, "patients.html", ctx)


@pages.get("/patients.csv")
def list_csv(request: Request, user: Clinician, db: Db, today: Today) -> Response:
    """The list as shown (same search, filter and sort) for a spreadsheet; cells that a
    spreadsheet would run as a formula are prefixed with a quote."""
    rows = select_rows(_list_rows(db, user, today), today, **_list_query(request))
    return Response(
        to_csv(rows, today),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="patients-{today.isoformat()}.csv"',
            "Cache-Control": "no-store",
        },
    )


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
        "chart": timeline_figure(points, plan, end=today),
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


# -- issue 15: editing the profile, the diary's corrections ---------------------------------


def profile_values(profile: dict[str, Any]) -> dict[str, Any]:
    """A stored clinical profile as the form's values (the inverse of forms.profile_from_form)."""
    out: dict[str, Any] = {}
    for name in ("sex", "hepatic_status", "pregnancy", "naloxone_challenge"):
        if profile.get(name) is not None:
            out[name] = str(profile[name])
    if profile.get("weight_kg") is not None:
        out["weight_kg"] = str(profile["weight_kg"])
    out["conditions"] = [c["code"] for c in profile.get("conditions") or []]
    lines = []
    for m in profile.get("medications") or []:
        parts = [m["name"], str(m["dose_mg"]) if m.get("dose_mg") is not None else ""]
        if m.get("last_dose"):
            parts.append(str(m["last_dose"]))
        lines.append("; ".join(parts).rstrip("; "))
    out["medications"] = "\n".join(lines)
    out["allergies"] = ", ".join(profile.get("allergies") or [])
    out["prior_therapies"] = "\n".join(
        "; ".join([t["name"], *([t["outcome"]] if t.get("outcome") else [])])
        for t in profile.get("prior_therapies") or []
    )
    if profile.get("opioid_use_disorder_history"):
        out["opioid_use_disorder_history"] = "on"
    procedures = profile.get("planned_procedures") or []
    if procedures:
        out["procedure_name"] = procedures[0].get("name", "")
        out["procedure_date"] = str(procedures[0].get("date", ""))
        out["procedure_opioids"] = "on" if procedures[0].get("opioids_expected") else "off"
    return out


def keep_unshown(stored: dict[str, Any], edited: dict[str, Any]) -> dict[str, Any]:
    """The edited profile plus what the form cannot show, so saving loses nothing: a kept
    condition keeps its stored details (e.g. pain type), and planned procedures after the
    first (the form edits one) stay."""
    out = dict(edited)
    by_code = {c.get("code"): c for c in stored.get("conditions") or []}
    out["conditions"] = [by_code.get(c["code"], c) for c in edited.get("conditions") or []]
    out["planned_procedures"] = [
        *(edited.get("planned_procedures") or []),
        *(stored.get("planned_procedures") or [])[1:],
    ]
    return out


@pages.get("/patients/{patient_id}/profile")
def profile_page(request: Request, patient: ClinicianScope, db: Db) -> Response:
    with db.read() as s:
        profile = repo.get_patient(s, patient.id).profile or {}
    ctx = {**_form_context(), "patient": patient, "values": profile_values(profile)}
    return render(request, "patient_profile.html", ctx)


@pages.post("/patients/{patient_id}/profile")
async def profile_submit(
    request: Request, patient: ClinicianScope, user: CurrentUser, db: Db, today: Today
) -> Response:
    """Save the edited profile and screen it at once: the result is stored as a new
    assessment, so the page never shows a screening of a profile that no longer exists."""
    form = await request.form()
    request.state.form_values = forms.values(form)
    form_page(request, "patient_profile.html", **_form_context(), patient=patient)
    with db.read() as s:
        stored = repo.get_patient(s, patient.id).profile or {}
    profile = clean_profile(keep_unshown(stored, forms.profile_from_form(form)))

    def job(s: Session) -> None:
        repo.update_patient_profile(s, patient.id, profile, actor=user.actor)
        services.screen_and_save(s, patient.id, profile, today, user.actor)

    await db.awrite(job)
    return RedirectResponse(f"/patients/{patient.id}?profile=saved#screening", status_code=303)


@pages.get("/patients/{patient_id}/corrections")
def corrections_page(request: Request, patient: ClinicianScope, db: Db) -> Response:
    """Every diary day that was corrected, with each revision side by side (oldest first)."""
    with db.read() as s:
        days = [e.entry_date for e in repo.current_entries(s, patient.id) if e.revision > 1]
        history = [(d, list(repo.entry_history(s, patient.id, d))) for d in reversed(days)]
        names = actor_names(s, {e.recorded_by for _, rows in history for e in rows})
    ctx = {"patient": patient, "history": history, "names": names}
    return render(request, "corrections.html", ctx)
