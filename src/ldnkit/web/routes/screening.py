"""Screening: is LDN appropriate for this patient on this date? Every finding cites sources."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from ldnkit.clinical.models import Assessment
from ldnkit.clinical.screening import screen
from ldnkit.store import repositories as repo
from ldnkit.store.profiles import clinical_profile
from ldnkit.web import forms, services
from ldnkit.web.deps import Clinician, ClinicianScope, CurrentUser, Db, InScope, Today
from ldnkit.web.schemas import AssessmentOut, ScreenIn, ScreenPreviewIn

api = APIRouter(prefix="/api", tags=["screening"])
pages = APIRouter(include_in_schema=False)


@api.post("/screening/preview", response_model=Assessment)
def api_preview(body: ScreenPreviewIn, user: Clinician, today: Today) -> Assessment:
    """Screen a patient described in the request, without storing anything."""
    services.check_date("on", body.on, today)
    return screen(body.patient, body.on)


@api.get("/patients/{patient_id}/assessments", response_model=list[AssessmentOut])
def api_list(patient: InScope, db: Db) -> list[AssessmentOut]:
    with db.read() as s:
        rows = repo.list_assessments(s, patient.id)
        return [
            AssessmentOut(
                id=r.id,
                patient_id=r.patient_id,
                assessed_on=r.assessed_on,
                status=r.status,
                payload=r.payload,
            )
            for r in rows
        ]


@api.post("/patients/{patient_id}/assessments", response_model=AssessmentOut, status_code=201)
def api_screen(
    patient: ClinicianScope, body: ScreenIn, user: CurrentUser, db: Db, today: Today
) -> AssessmentOut:
    """Screen the stored profile on a date and keep the result."""
    on = services.check_date("on", body.on, today)
    with db.read() as s:
        profile = clinical_profile(repo.get_patient(s, patient.id))
    services.core_patient(patient.id, profile)
    row_id, assessment = db.write(
        lambda s: services.screen_and_save(s, patient.id, profile, on, user.actor)
    )
    return AssessmentOut(
        id=row_id,
        patient_id=patient.id,
        assessed_on=on,
        status=assessment.status,
        payload=assessment.model_dump(mode="json"),
    )


@pages.post("/patients/{patient_id}/screen")
async def screen_submit(
    request: Request, patient: ClinicianScope, user: CurrentUser, db: Db, today: Today
) -> Response:
    form = await request.form()
    on = services.check_date("on", forms.optional_date(form, "on") or today, today)
    with db.read() as s:
        profile = clinical_profile(repo.get_patient(s, patient.id))
    await db.awrite(lambda s: services.screen_and_save(s, patient.id, profile, on, user.actor))
    return RedirectResponse(f"/patients/{patient.id}?screened=1#screening", status_code=303)
