"""FHIR REST endpoints: `GET /fhir/Patient/{patient_id}/$everything` and `POST` import.

Built by `make_fhir_router(...)`, which takes the web app's access dependencies, so these routes
obey exactly the same rules as the rest of the app (a clinician reaches only their patients, a
patient only themselves; only the patient's clinician may import). With the web app:

    from ldnkit.interop.fhir_records import StoreRecords
    from ldnkit.interop.fhir_routes import make_fhir_router
    from ldnkit.web import deps

    def records(db=Depends(deps.get_db)):
        return StoreRecords(db.read, db.write)

    def actor(user=Depends(deps.current_user)):
        return user.actor

    app.include_router(make_fhir_router(
        records=records, read_patient=deps.patient_in_scope,
        write_patient=deps.clinician_patient, actor=actor, today=deps.today))

`read_patient`/`write_patient` must read the path parameter `patient_id` and return an object
with `.id` (the web app's `PatientRef`). Errors are FHIR OperationOutcomes: 400 for input that
is not valid FHIR, 422 for valid FHIR breaking an ldnkit rule, 401/403/404 for access.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute

from ldnkit import jsonbounds
from ldnkit.clinical.models import Medication
from ldnkit.errors import Forbidden, LdnkitError, NotFound, UnsafeToStart, ValidationError
from ldnkit.interop import fhir_common as fc
from ldnkit.interop.cds import core_medication
from ldnkit.interop.fhir_export import export_bundle
from ldnkit.interop.fhir_import import (
    check_subject,
    diary_from_bundle,
    order_plan,
    plan_from_bundle,
)
from ldnkit.interop.fhir_records import ImportSummary, PatientRecords

FHIR_JSON = "application/fhir+json"
MAX_BUNDLE_BYTES = 20 * 1024 * 1024


def _outcome(
    status: int, severity: str, code: str, text: str, where: str | None = None
) -> Response:
    issue: dict[str, Any] = {"severity": severity, "code": code, "diagnostics": text}
    if where:
        issue["expression"] = [where]
    body = {"resourceType": "OperationOutcome", "issue": [issue]}
    return Response(json.dumps(body), status_code=status, media_type=FHIR_JSON)


class FhirRoute(APIRoute):
    """Errors become OperationOutcomes here, whatever the app's own (HTML page) handlers do."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except fc.FhirInvalid as exc:
                return _outcome(400, "error", "invalid", exc.reason, exc.field)
            except ValidationError as exc:
                return _outcome(422, "error", "business-rule", exc.reason, exc.field)
            except UnsafeToStart as exc:
                # An imported plan the patient's screening forbids: refused, nothing stored.
                return _outcome(422, "error", "business-rule", exc.one_line(), "plan")
            except NotFound as exc:
                return _outcome(404, "error", "not-found", str(exc))
            except Forbidden as exc:
                return _outcome(403, "error", "forbidden", str(exc))
            except LdnkitError as exc:
                # The web app's NotAuthenticated (it lives in the web shell, so it is known
                # here by name); any other ldnkit error goes to the app's handlers.
                if type(exc).__name__ == "NotAuthenticated":
                    return _outcome(401, "error", "login", str(exc))
                raise

        return route


def _summary_outcome(s: ImportSummary) -> dict[str, Any]:
    def issue(code: str, text: str, days: tuple[dt.date, ...] = ()) -> dict[str, Any]:
        out: dict[str, Any] = {
            "severity": "warning" if code == "conflict" else "information",
            "code": "informational" if code != "conflict" else "conflict",
            "details": {"coding": [{"system": "urn:ldnkit:import", "code": code}], "text": text},
        }
        if days:
            out["diagnostics"] = ", ".join(d.isoformat() for d in days)
        return out

    issues = [
        issue("created", f"{len(s.created)} diary days added", s.created),
        issue("unchanged", f"{len(s.unchanged)} days already held", s.unchanged),
        issue("plan", "plan saved as a new version" if s.plan_saved else "plan unchanged"),
    ]
    if s.conflicts:
        issues.append(
            issue(
                "conflict",
                f"{len(s.conflicts)} days differ from the diary and were left as recorded",
                s.conflicts,
            )
        )
    issues += [issue("skipped", text) for text in s.skipped]
    return {"resourceType": "OperationOutcome", "issue": issues}


def _bundle_medications(bundle: dict[str, Any]) -> list[Medication]:
    """Medications the Bundle itself records (other than naltrexone), so an imported plan is
    screened against them as well as against the stored profile."""
    out = []
    for e in bundle.get("entry") or []:
        res = e.get("resource") if isinstance(e, dict) else None
        if not isinstance(res, dict) or res.get("resourceType") not in (
            "MedicationRequest",
            "MedicationStatement",
        ):
            continue
        med = core_medication(res)
        if med is not None and "naltrexone" not in med.name.lower():
            out.append(med)
    return out


def _instruments(request: Request) -> dict[str, Any] | None:
    """The app's instrument catalogue (shipped plus the clinic's own), if the app has one."""
    settings = getattr(request.app.state, "settings", None)
    path = getattr(settings, "instruments_file", "") if settings is not None else ""
    if not path:
        return None
    from ldnkit.clinical.instruments import load_instruments_file, shipped_instruments

    return {i.id: i for i in (*shipped_instruments(), *load_instruments_file(path))}


def make_fhir_router(
    *,
    records: Callable[..., PatientRecords],
    read_patient: Callable[..., Any],
    write_patient: Callable[..., Any],
    actor: Callable[..., str],
    today: Callable[..., dt.date],
    base_url: str | None = None,
) -> APIRouter:
    """The FHIR router, wired to the app's access rules and storage (all FastAPI dependencies)."""
    router = APIRouter(prefix="/fhir", route_class=FhirRoute, tags=["fhir"])

    @router.get(
        "/Patient/{patient_id}/$everything",
        summary="Export a patient's LDN care as a FHIR R4 searchset Bundle",
        response_class=Response,
    )
    def everything(
        request: Request,
        ref: Any = Depends(read_patient),
        store: PatientRecords = Depends(records),
    ) -> Response:
        rec = store.care_record(ref.id)
        base = base_url or str(request.base_url).rstrip("/") + "/fhir"
        bundle = export_bundle(
            rec.patient,
            plan=rec.plan,
            assessment=rec.assessment,
            diary=rec.diary,
            base_url=base,
            bundle_type="searchset",
            instrument_responses=rec.instrument_responses,
            instruments=_instruments(request),
        )
        return Response(json.dumps(bundle), media_type=FHIR_JSON)

    @router.post(
        "/Patient/{patient_id}",
        summary="Import a Bundle (pain Observations, an ldnkit plan) into the patient's record",
        response_class=Response,
    )
    async def import_bundle(
        request: Request,
        ref: Any = Depends(write_patient),
        store: PatientRecords = Depends(records),
        who: str = Depends(actor),
        day: dt.date = Depends(today),
        source_patient: str | None = Query(
            default=None,
            min_length=1,
            max_length=64,
            description="The Bundle's own patient id, when it comes from another system",
        ),
    ) -> Response:
        """All or nothing: a Bundle about another patient, or a plan the patient's screening
        forbids, is refused with an OperationOutcome (422) and nothing is stored."""
        raw = await request.body()
        if len(raw) > MAX_BUNDLE_BYTES:
            raise fc.FhirInvalid("(body)", f"Bundle larger than {MAX_BUNDLE_BYTES} bytes")
        try:
            bundle = jsonbounds.loads(raw)
        except jsonbounds.JsonInvalid as exc:
            raise fc.FhirInvalid("(body)", str(exc)) from None
        except jsonbounds.JsonTooDeep as exc:
            raise fc.FhirInvalid("(body)", str(exc)) from None

        def work() -> ImportSummary:
            imported = diary_from_bundle(bundle, today=day)
            plan = plan_from_bundle(bundle)
            check_subject(bundle, str(ref.id), source_patient, plan)
            plan = plan or order_plan(bundle, str(ref.id))
            return store.apply_import(
                ref.id,
                imported,
                plan,
                actor=who,
                today=day,
                medications=_bundle_medications(bundle),
            )

        # Parsing a large Bundle and waiting for the commit must not stall the event loop.
        summary = await run_in_threadpool(work)
        return Response(json.dumps(_summary_outcome(summary)), media_type=FHIR_JSON)

    return router
