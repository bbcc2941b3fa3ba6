"""The patient's documents on screen and as PDF: handout, wallet card, prescription (issue 15).

The handout and the wallet card were only reachable from the CLI; here the patient and their
clinician open them from the menu. The clinic's name and phone come from the settings
(`LDNKIT_CLINIC_NAME`, `LDNKIT_CLINIC_PHONE`) so the card says whom to call.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from ldnkit import i18n
from ldnkit.errors import Forbidden, NotFound
from ldnkit.interop.documents import (
    KINDS,
    Clinic,
    document_view,
    to_html,
    to_pdf,
    without_inline_citations,
)
from ldnkit.store import repositories as repo
from ldnkit.store.models import ClinicianRow
from ldnkit.web import services
from ldnkit.web.deps import CurrentUser, Db, InScope
from ldnkit.web.routes.fhir import Records
from ldnkit.web.templating import render, request_language

api = APIRouter(prefix="/api/patients/{patient_id}", tags=["documents"])
pages = APIRouter(prefix="/patients/{patient_id}", include_in_schema=False)

#: What each role may open (the prescription is the clinician's).
_ALLOWED = {"patient": ("handout", "wallet_card"), "clinician": KINDS}


def _clinic(request: Request, clinician: str | None) -> Clinic:
    settings = request.app.state.settings
    return Clinic(
        clinic=settings.clinic_name[:200],
        clinician=(clinician or "your prescriber")[:200],
        phone=settings.clinic_phone[:50] or None,
    )


def _views(request: Request, db: Db, patient_id: int, kinds: tuple[str, ...]) -> dict[str, Any]:
    with db.read() as s:
        row = repo.get_patient(s, patient_id)
        plan = services.plan_of(repo.current_plan(s, patient_id))
        clinician = repo.get_clinician(s, row.clinician_id).name if row.clinician_id else None
    if plan is None:
        return {}
    core = services.core_patient(patient_id, row.profile or {})
    core = core.model_copy(update={"name": f"{row.given_name} {row.family_name}"})
    clinic = _clinic(request, clinician)
    language = request_language(request)
    views = {}
    for k in kinds:
        # The patient's documents in their language; the prescription stays English.
        with i18n.use("en" if k == "prescription" else language):
            views[k] = document_view(k, plan, core, clinic)  # type: ignore[arg-type]
    # The patient's documents read as plain text; the prescription keeps its source keys for
    # the pharmacist.
    return {k: v if k == "prescription" else without_inline_citations(v) for k, v in views.items()}


@pages.get("/documents")
def documents_page(request: Request, patient: InScope, user: CurrentUser, db: Db) -> Response:
    kinds = _ALLOWED.get(user.role, ())
    views = _views(request, db, patient.id, tuple(kinds))
    return render(request, "documents.html", {"patient": patient, "views": views})


@pages.get("/documents/{kind}.pdf")
def document_pdf(
    request: Request, kind: str, patient: InScope, user: CurrentUser, db: Db
) -> Response:
    if kind not in KINDS:
        raise NotFound("document", kind)
    if kind not in _ALLOWED.get(user.role, ()):
        raise Forbidden("this document is for the clinician")
    views = _views(request, db, patient.id, (kind,))
    if not views:
        raise NotFound("plan", str(patient.id))
    with i18n.use("en" if kind == "prescription" else request_language(request)):
        pdf = to_pdf(views[kind])
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{kind.replace("_", "-")}.pdf"',
            "Cache-Control": "no-store",
        },
    )


def plan_documents() -> APIRouter:
    """The JSON-API twin, mounted with the interop routers by `ldnkit.web.main`:
    `/api/patients/{patient_id}/documents/{kind}?format=pdf|html` gives the handout, wallet
    card or prescription of the current plan to whoever may see the patient; the handout links
    the plan's `.ics` page."""
    router = APIRouter(tags=["documents"])

    @router.get(
        "/api/patients/{patient_id}/documents/{kind}",
        response_class=Response,
        summary="Handout, wallet card or compounding prescription of the current plan",
    )
    async def document(
        kind: Literal["handout", "wallet_card", "prescription"],
        request: Request,
        ref: InScope,
        records: Records,
        db: Db,
        format: Literal["pdf", "html"] = "pdf",
    ) -> Response:
        rec = await run_in_threadpool(records.care_record, ref.id)
        if rec.plan is None:
            raise NotFound("plan for patient", str(ref.id))
        with db.read() as session:
            doctor = session.get(ClinicianRow, ref.clinician_id)
            clinic = Clinic(clinician=doctor.name if doctor else "your prescriber")
        calendar = str(request.base_url).rstrip("/") + f"/patients/{ref.id}/plan.ics"
        view = document_view(kind, rec.plan, rec.patient, clinic, calendar_url=calendar)
        if format == "html":
            return Response(to_html(view), media_type="text/html; charset=utf-8")
        data = await run_in_threadpool(to_pdf, view)
        name = f"ldn-{kind.replace('_', '-')}.pdf"
        return Response(
            data,
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{name}"'},
        )

    assert set(KINDS) == {"handout", "wallet_card", "prescription"}
    return router
