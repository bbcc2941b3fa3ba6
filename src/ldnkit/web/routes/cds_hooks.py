"""CDS Hooks 2.0 HTTP endpoints: discovery, service calls and feedback, as one APIRouter.

`mounted()` is the served router: under `/api` (the CDS base URL is
`https://HOST/api`, so discovery is `/api/cds-services`), with the app's `CdsGuard` built on
first use from the web settings and stored in the app's database; `ldnkit.web.main` mounts it.
Under `/api` because the web app's CSRF rule exempts cookie-less `/api` calls, and a CDS client
(the EHR's server) sends no browser cookies. `router` is the bare one (`ldnkit cds serve` and
tests mount it with their own `app.state.cds_guard`).

A CDS client (the EHR) is not a user of the web app: it authenticates every service and
feedback call with the signed JWT the CDS Hooks 2.0 specification requires
(`ldnkit.interop.cds_auth`), checked against `LDNKIT_CDS_CLIENTS`; a call without a valid one
gets 401. Only an explicit open sandbox (`CdsGuard(open_sandbox=True)`,
`LDNKIT_CDS_OPEN_SANDBOX=1`, logged loudly) skips that, for local trials. Discovery stays open,
as the specification has it. The service reads only the request's context and prefetch and
never calls the EHR's FHIR server back; the cards come from `ldnkit.interop.cds`.

Errors follow the spec, not the web app's: a malformed request is 400 with the field and the
reason, a missing prefetch 412, an unknown service 404, all as JSON.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import yaml
from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session

from ldnkit import jsonbounds
from ldnkit.errors import Forbidden, NotFound, ValidationError
from ldnkit.interop import cds
from ldnkit.interop.cds_auth import CdsAuthError, CdsClaims, CdsClients, CdsVerifier
from ldnkit.store import create_store_engine
from ldnkit.store.repositories import cds as cds_store
from ldnkit.web.settings import WebSettings

log = logging.getLogger("ldnkit.interop.cds")


async def cds_today(request: Request) -> dt.date:
    """The date cards are computed for: the app's fixed demo date (`WebSettings.today`) when
    it has one, else the real date; tests may override it with `app.dependency_overrides`.

    Async on purpose: FastAPI runs a plain `def` dependency in its thread pool, a thread hop
    that costs more than the card logic itself on a busy machine."""
    settings = getattr(request.app.state, "settings", None)
    current = getattr(settings, "current_date", None)
    return current() if callable(current) else dt.date.today()


_T = TypeVar("_T")
Writer = Callable[[Callable[[Session], _T]], _T]


def engine_writer(engine: Engine) -> Writer:  # type: ignore[type-arg]
    """A writer for apps without the web shell's group-commit writer: one transaction each."""

    def write(job: Callable[[Session], _T]) -> _T:
        with Session(engine) as session, session.begin():
            return job(session)

    return write


def token_id_writer(url: str) -> Writer:  # type: ignore[type-arg]
    """A writer for seen token ids only, committing without waiting for the disk.

    Why: every CDS call records its `jti`, and a commit that waits for an fsync cost about
    20 ms a call here (`benchmarks/cds.py`), more than the card logic. A token id only has to
    outlive the token (at most five minutes), and what a power cut could lose is the last
    moments' ids, so: SQLite `synchronous=NORMAL` in WAL mode (durable across a crash of the
    process, not of the machine), PostgreSQL `synchronous_commit = off` for these transactions.
    The claim itself stays atomic and shared by every process either way.
    """
    engine = create_store_engine(url)
    sqlite = engine.dialect.name == "sqlite"
    if sqlite:

        @event.listens_for(engine, "connect")
        def _relaxed(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.execute("PRAGMA synchronous=NORMAL")

    def write(job: Callable[[Session], _T]) -> _T:
        with Session(engine) as session, session.begin():
            if engine.dialect.name == "postgresql":
                session.execute(text("SET LOCAL synchronous_commit = off"))
            return job(session)

    return write


class DatabaseStore:
    """Seen token ids and card feedback in the shared database (every worker sees them).

    `claim_write` (default: `write`) runs the token id claims, e.g. `token_id_writer(url)`.
    """

    def __init__(self, write: Writer, claim_write: Writer | None = None) -> None:  # type: ignore[type-arg]
        self._write = write
        self._claim_write = claim_write or write

    def claim(self, issuer: str, jti: str, expires_at: dt.datetime) -> bool:
        return self._claim_write(lambda s: cds_store.claim_jti(s, issuer, jti, expires_at))

    def add_feedback(self, service: str, client: str | None, items: list[dict[str, Any]]) -> int:
        return self._write(lambda s: cds_store.add_feedback(s, service, client, items))


@dataclass
class CdsGuard:
    """What the CDS routes need from the deployment.

    `verifier` checks client JWTs (None only with `open_sandbox`); `store` keeps feedback;
    `base_url` is the public CDS base URL (e.g. `https://ldn.example.org/api`), from which each
    service's `aud` is built. Without it, the URL the request arrived at is used (behind a
    proxy, list it in `trusted_proxies` so that scheme and host are the public ones).
    """

    store: DatabaseStore
    verifier: CdsVerifier | None = None
    open_sandbox: bool = False
    base_url: str | None = None

    def __post_init__(self) -> None:
        if self.verifier is None and not self.open_sandbox:
            raise ValueError("a CdsGuard needs a verifier unless it is an open sandbox")
        if self.open_sandbox:
            log.warning(
                "CDS Hooks OPEN SANDBOX: service calls are NOT authenticated; "
                "anyone who can reach this server can call the CDS services. "
                "For local trials only; configure LDNKIT_CDS_CLIENTS for real use."
            )

    def audiences(self, request: Request, service_id: str, *, feedback: bool) -> list[str]:
        """The `aud` values a token for this call may carry: the exact service URL (and, for
        feedback, the feedback URL itself)."""
        if self.base_url:
            service = f"{self.base_url.rstrip('/')}/cds-services/{service_id}"
        else:
            path = request.url.path.removesuffix("/feedback") if feedback else request.url.path
            service = str(request.url.replace(path=path, query="", fragment=""))
        return [service, f"{service}/feedback"] if feedback else [service]

    async def authenticate(
        self, request: Request, service_id: str, *, feedback: bool = False
    ) -> CdsClaims | None:
        """The verified caller, None in an open sandbox; CdsAuthError otherwise."""
        if self.verifier is None:
            return None
        audiences: Sequence[str] = self.audiences(request, service_id, feedback=feedback)
        header = request.headers.get("authorization")
        return await run_in_threadpool(self.verifier.verify, header, audiences)


async def get_guard(request: Request) -> CdsGuard:
    guard = getattr(request.app.state, "cds_guard", None)
    if guard is None:
        log.error("CDS route called but no CdsGuard is configured (app.state.cds_guard)")
        raise CdsAuthError("CDS client authentication is not configured on this server")
    return guard


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


class CdsRoute(APIRoute):
    """Maps ldnkit errors to the CDS Hooks status codes, whatever the app's own handlers do."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except ValidationError as exc:
                return _error(400, "bad_request", field=exc.field, reason=exc.reason)
            except cds.PrefetchMissing as exc:
                return _error(412, "prefetch_missing", keys=list(exc.keys), reason=str(exc))
            except NotFound as exc:
                return _error(404, "not_found", reason=str(exc))
            except Forbidden as exc:
                return _error(403, "forbidden", reason=str(exc))
            except CdsAuthError as exc:
                log.warning("cds call refused", extra={"reason": exc.reason})
                response = _error(401, "unauthorized", reason=exc.reason)
                response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
                return response

        return route


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        raise ValidationError("(body)", "empty request body; send the hook request as JSON")
    try:
        return jsonbounds.loads(raw)
    except (jsonbounds.JsonInvalid, jsonbounds.JsonTooDeep) as exc:
        raise ValidationError("(body)", str(exc)) from None


CdsToday = Annotated[dt.date, Depends(cds_today)]
Guard = Annotated[CdsGuard, Depends(get_guard)]

router = APIRouter(route_class=CdsRoute, tags=["cds-hooks"])


@router.get("/cds-services", summary="CDS Hooks discovery")
def discovery() -> dict[str, Any]:
    """The services, their hooks and the prefetch templates they need."""
    return cds.discovery()


def _app_url(request: Request) -> str | None:
    """Where the clinician's browser finds the web app, for the cards' decision-path link:
    LDNKIT_PUBLIC_URL when set (behind a proxy), else the URL this call arrived at. Only an
    https address is linked: an EHR opens card links in its clinician's browser, and a plain
    http link would carry the case's rule codes in clear (the local demo gets no link)."""
    settings = getattr(request.app.state, "settings", None)
    public = getattr(settings, "public_url", "") if settings is not None else ""
    url = (public or str(request.base_url)).rstrip("/")
    return url if url.startswith("https://") else None


@router.post("/cds-services/{service_id}", summary="Call a CDS service")
async def call_service(
    service_id: str,
    request: Request,
    today: CdsToday,
    guard: Guard,
) -> Any:
    await guard.authenticate(request, service_id)
    body = await _json_body(request)
    answer = cds.cards(service_id, body, today, app_url=_app_url(request))
    log.info(
        "cds call",
        extra={"service": service_id, "cards": len(answer["cards"]), "hook": body.get("hook")},
    )
    return JSONResponse(answer)


@router.post("/cds-services/{service_id}/feedback", summary="Card feedback")
async def feedback(service_id: str, request: Request, guard: Guard) -> Any:
    """Accepts the spec's feedback body and stores it; answers 200 with an empty object."""
    claims = await guard.authenticate(request, service_id, feedback=True)
    if service_id not in cds.SERVICES:
        raise NotFound("CDS service", service_id, sorted(cds.SERVICES))
    items = cds.parse_feedback(await _json_body(request))
    client = claims.iss if claims is not None else None
    await run_in_threadpool(guard.store.add_feedback, service_id, client, items)
    log.info("cds feedback", extra={"service": service_id, "items": len(items)})
    return JSONResponse({})


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


def check_clients(settings: WebSettings) -> None:
    """At start-up: a broken CDS client list fails now rather than on the first call (as a
    ValidationError naming `LDNKIT_CDS_CLIENTS`), and an open sandbox or no clients is logged."""
    if settings.cds_clients:
        try:
            CdsClients.from_file(settings.cds_clients)
        except (OSError, ValueError, yaml.YAMLError) as exc:
            raise ValidationError("LDNKIT_CDS_CLIENTS", str(exc)) from None
    elif settings.cds_open_sandbox:
        log.warning("CDS Hooks open sandbox: service calls will not be authenticated")
    else:
        log.warning("CDS Hooks: no LDNKIT_CDS_CLIENTS; every service call will be refused")


def mounted() -> APIRouter:
    """The served CDS router: `router` under `/api`, its guard built from the app's settings."""
    cds = APIRouter(prefix="/api", dependencies=[Depends(_install_guard)])
    cds.include_router(router)
    return cds
