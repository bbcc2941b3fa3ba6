"""FHIR REST endpoints: `GET /fhir/Patient/{patient_id}/$everything` and `POST` import.

`router()` is the served one, wired to the web app's access rules (`ldnkit.web.deps`): a
clinician reaches only their patients, a patient only themselves; only the patient's clinician
may import. `ldnkit.web.main` mounts it. `make_fhir_router(...)` builds the same routes over
any access dependencies and storage (tests use it with their own):

    app.include_router(make_fhir_router(
        records=records, read_patient=read, write_patient=write, actor=actor, today=today))

`read_patient`/`write_patient` must read the path parameter `patient_id` and return an object
with `.id` (the web app's `PatientRef`). Errors are FHIR OperationOutcomes: 400 for input that
is not valid FHIR, 422 for valid FHIR breaking an ldnkit rule, 401/403/404 for access. The
payloads themselves are built and read by `ldnkit.interop.fhir`.
"""

# No `from __future__ import annotations`: the routes built in `make_fhir_router` annotate
# their parameters with aliases local to it, which FastAPI must see evaluated.
import datetime as dt
import json
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute

from ldnkit import jsonbounds
from ldnkit.clinical.models import Medication
from ldnkit.errors import Forbidden, LdnkitError, NotFound, UnsafeToStart, ValidationError
from ldnkit.interop.fhir import common as fc
from ldnkit.interop.fhir.export import export_bundle
from ldnkit.interop.fhir.reading import (
    check_subject,
    diary_from_bundle,
    medication_from_resource,
    order_plan,
    plan_from_bundle,
)
from ldnkit.interop.fhir.records import ImportSummary, PatientRecords, StoreRecords
from ldnkit.web import deps
from ldnkit.web.deps import CurrentUser, Db

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
                # NotAuthenticated, known by name so that stand-in access rules (the tests'
                # `make_fhir_router` callers) may raise their own; any other ldnkit error goes
                # to the app's handlers.
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
        med = medication_from_resource(res)
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
    ReadRef = Annotated[Any, Depends(read_patient)]
    WriteRef = Annotated[Any, Depends(write_patient)]
    Store = Annotated[PatientRecords, Depends(records)]
    Actor = Annotated[str, Depends(actor)]
    Day = Annotated[dt.date, Depends(today)]

    @router.get(
        "/Patient/{patient_id}/$everything",
        summary="Export a patient's LDN care as a FHIR R4 searchset Bundle",
        response_class=Response,
    )
    def everything(
        request: Request,
        ref: ReadRef,
        store: Store,
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
        ref: WriteRef,
        store: Store,
        who: Actor,
        day: Day,
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


def web_records(db: Db) -> PatientRecords:
    """The store, through the web app's read sessions and group-commit writer."""
    return StoreRecords(db.read, db.write)


Records = Annotated[PatientRecords, Depends(web_records)]


def web_actor(user: CurrentUser) -> str:
    return user.actor


def router() -> APIRouter:
    """The served FHIR router: the web app's access rules, its database, its date."""
    return make_fhir_router(
        records=web_records,
        read_patient=deps.patient_in_scope,
        write_patient=deps.clinician_patient,
        actor=web_actor,
        today=deps.today,
    )
