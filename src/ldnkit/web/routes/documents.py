"""The patient's documents on screen and as PDF: handout, wallet card, prescription (issue 15).

The handout and the wallet card were only reachable from the CLI; here the patient and their
clinician open them from the menu. The clinic's name and phone come from the settings
(`LDNKIT_CLINIC_NAME`, `LDNKIT_CLINIC_PHONE`) so the card says whom to call.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ldnkit import i18n
from ldnkit.errors import Forbidden, NotFound
from ldnkit.interop.documents import (
    KINDS,
    Clinic,
    document_view,
    to_pdf,
    without_inline_citations,
)
from ldnkit.store import repositories as repo
from ldnkit.web import services
from ldnkit.web.deps import CurrentUser, Db, InScope
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
