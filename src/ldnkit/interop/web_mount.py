"""The interop routers wired to the web app's access rules and database, ready to mount:

    from ldnkit.interop.web_mount import interop_routers
    app = create_app(settings, extra_routers=interop_routers())

- CDS Hooks under `/api` (the CDS base URL is `https://HOST/api`, so discovery is
  `/api/cds-services`): no login, but every service call carries the EHR's signed JWT
  (`cds_auth`), checked against `LDNKIT_CDS_CLIENTS`; `LDNKIT_CDS_OPEN_SANDBOX=1` switches that
  off for local trials (logged loudly). Token ids and feedback go to the app's database.
  Under `/api` because the web app's CSRF rule exempts cookie-less `/api` calls, and a CDS
  client (the EHR's server) sends no browser cookies; at `/cds-services` a cookie-less POST
  would be refused for a missing CSRF token. "Today" follows the app's `WebSettings.today`
  through `cds_today`.
- FHIR (`/fhir/Patient/{patient_id}/$everything`, `POST /fhir/Patient/{patient_id}`): the web
  app's `patient_in_scope` for reading and `clinician_patient` for importing.
- Documents (`/api/patients/{patient_id}/documents/{kind}?format=pdf|html`): handout, wallet
  card and prescription of the current plan, for whoever may see the patient; the handout
  links the plan's `.ics` page.

This module imports the web shell, so the pure interop modules stay free of it.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import yaml
from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool

from ldnkit.errors import NotFound, ValidationError
from ldnkit.interop.cds_auth import CdsClients, CdsVerifier
from ldnkit.interop.cds_routes import CdsGuard, DatabaseStore, token_id_writer
from ldnkit.interop.cds_routes import router as cds_router
from ldnkit.interop.documents import KINDS, Clinic, document_view, to_html, to_pdf
from ldnkit.interop.fhir_records import PatientRecords, StoreRecords
from ldnkit.interop.fhir_routes import make_fhir_router
from ldnkit.store.models import Clinician
from ldnkit.web import deps

log = logging.getLogger("ldnkit.interop.cds")


def web_records(db: Any = Depends(deps.get_db)) -> PatientRecords:
    """The store, through the web app's read sessions and group-commit writer."""
    return StoreRecords(db.read, db.write)


def web_actor(user: deps.Principal = Depends(deps.current_user)) -> str:
    return user.actor


def documents_router() -> APIRouter:
    """Printable documents of a patient's current plan."""
    router = APIRouter(tags=["documents"])

    @router.get(
        "/api/patients/{patient_id}/documents/{kind}",
        response_class=Response,
        summary="Handout, wallet card or compounding prescription of the current plan",
    )
    async def document(
        kind: Literal["handout", "wallet_card", "prescription"],
        request: Request,
        format: Literal["pdf", "html"] = "pdf",
        ref: deps.PatientRef = Depends(deps.patient_in_scope),
        records: PatientRecords = Depends(web_records),
        db: Any = Depends(deps.get_db),
    ) -> Response:
        rec = await run_in_threadpool(records.care_record, ref.id)
        if rec.plan is None:
            raise NotFound("plan for patient", str(ref.id))
        with db.read() as session:
            doctor = session.get(Clinician, ref.clinician_id)
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


def cds_guard(settings: Any, db: Any) -> CdsGuard:
    """The CDS routes' guard from the web settings, storing into the app's database.

    Raises ValueError when neither clients nor the open sandbox are configured.
    """
    store = DatabaseStore(db.write, token_id_writer(settings.url()))
    if settings.cds_open_sandbox:
        return CdsGuard(store=store, open_sandbox=True, base_url=settings.cds_base_url or None)
    if not settings.cds_clients:
        raise ValueError(
            "no CDS clients configured: set LDNKIT_CDS_CLIENTS to the allow-list file "
            "(or LDNKIT_CDS_OPEN_SANDBOX=1 for a local trial)"
        )
    verifier = CdsVerifier(
        CdsClients.from_file(settings.cds_clients), store, leeway=settings.cds_clock_skew_s
    )
    return CdsGuard(store=store, verifier=verifier, base_url=settings.cds_base_url or None)


async def _install_guard(request: Request) -> None:
    """Build the app's CdsGuard on first use (it needs the app's database)."""
    state = request.app.state
    if getattr(state, "cds_guard", None) is None:
        try:
            state.cds_guard = cds_guard(state.settings, state.db)
        except (OSError, ValueError, yaml.YAMLError) as exc:
            log.error("CDS Hooks: %s", exc)
            state.cds_guard = None


def interop_routers(settings: Any = None) -> list[APIRouter]:
    """CDS Hooks, FHIR REST and documents routers for `create_app(extra_routers=...)`.

    `settings` (default: from the environment) is checked here, at start-up: a broken CDS
    client list fails now rather than on the first call, and an open sandbox is logged.
    """
    from ldnkit.web.settings import WebSettings

    current = settings or WebSettings()
    if current.cds_clients:
        try:
            CdsClients.from_file(current.cds_clients)
        except (OSError, ValueError, yaml.YAMLError) as exc:
            raise ValidationError("LDNKIT_CDS_CLIENTS", str(exc)) from None
    elif current.cds_open_sandbox:
        log.warning("CDS Hooks open sandbox: service calls will not be authenticated")
    else:
        log.warning("CDS Hooks: no LDNKIT_CDS_CLIENTS; every service call will be refused")
    fhir = make_fhir_router(
        records=web_records,
        read_patient=deps.patient_in_scope,
        write_patient=deps.clinician_patient,
        actor=web_actor,
        today=deps.today,
    )
    cds = APIRouter(prefix="/api", dependencies=[Depends(_install_guard)])
    cds.include_router(cds_router)
    return [cds, fhir, documents_router()]
