"""The app factory: settings -> database, security, error handlers, routers.

Routers come one per resource from `ldnkit.web.routes`; other packages (FHIR, CDS Hooks) add
theirs through `extra_routers` without touching this file:

    create_app(settings, extra_routers=[fhir.router, cds_hooks.router])
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import ldnkit
from ldnkit.clinical.response import response_rules
from ldnkit.evidence import default_evidence
from ldnkit.web import errors, writes
from ldnkit.web.accounts import Accounts
from ldnkit.web.db import Database
from ldnkit.web.deps import TTLCache, csrf_protect
from ldnkit.web.routes import (
    admin,
    auth,
    diagrams,
    diary,
    evidence,
    instruments,
    offline,
    patients,
    pharmacology,
    plans,
    reminders,
    screening,
)
from ldnkit.web.security import Signer
from ldnkit.web.settings import WebSettings

STATIC_DIR = Path(__file__).parent / "static"

#: The app's own resources, in the order their routes are matched.
RESOURCES = (
    auth,
    evidence,
    pharmacology,
    diagrams,
    patients,
    screening,
    plans,
    diary,
    admin,
    instruments,
    offline,
    reminders,
)

_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}


class _SecurityHeaders:
    """Pure ASGI middleware (cheaper than BaseHTTPMiddleware): hardening headers on every
    response; the interactive API docs load their script from a CDN, so they skip the CSP."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._headers = [(k.lower().encode(), v.encode()) for k, v in _SECURITY_HEADERS.items()]
        self._no_csp = [h for h in self._headers if h[0] != b"content-security-policy"]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self._no_csp if scope["path"] in ("/docs", "/redoc") else self._headers

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _settle_heap() -> None:
    """Load what every request needs, then exempt the start-up heap from full collections.

    Why: a served process holds a few hundred thousand long-lived objects (FastAPI routes,
    pydantic and SQLAlchemy models, the evidence base). Every full (generation 2) collection
    walks all of them, and under load it ran often enough to stall the event loop for tens of
    milliseconds: with 16 diary clients and 2 clinician page clients `benchmarks/web.py` gave
    p99 124 ms for diary submissions; with the heap frozen, 36-49 ms at the same throughput.
    Frozen objects are still freed by reference counting; only cycles among them are kept.
    """
    default_evidence()
    response_rules()
    gc.collect()
    gc.freeze()


def create_app(
    settings: WebSettings | None = None,
    *,
    extra_routers: Iterable[APIRouter] = (),
    database: Database | None = None,
) -> FastAPI:
    """Build the web app. `extra_routers` are mounted after the built-in ones, unchanged."""
    settings = settings or WebSettings()
    db = database or Database(settings.url(), batch=settings.write_batch)
    writes.register(db)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db.start()
        if settings.freeze_heap:
            _settle_heap()
        try:
            yield
        finally:
            db.stop()

    app = FastAPI(
        title="ldnkit",
        version=ldnkit.__version__ if hasattr(ldnkit, "__version__") else "0",
        description=(
            "Low-dose naltrexone for chronic pain: screening, titration plans, patient diary "
            "and response-guided follow-up. Log in with POST /api/auth/login and send the "
            "token as `Authorization: Bearer ...`."
        ),
        lifespan=lifespan,
        dependencies=[Depends(csrf_protect)],
        # No OpenTelemetry exporter is configured; skip its per-request provider lookups.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.db = db
    app.state.signer = Signer(settings.resolved_secret())
    app.state.accounts = Accounts(db, settings)
    app.state.principals = TTLCache(settings.cache_seconds)
    app.state.patients = TTLCache(settings.cache_seconds)
    app.state.instruments = instruments.load_catalogue(settings.instruments_file)

    def cookie_secure(request: Request) -> bool:
        if settings.secure_cookies == "always":
            return True
        if settings.secure_cookies == "never":
            return False
        return request.url.scheme == "https"

    app.state.cookie_secure = cookie_secure

    app.add_middleware(_SecurityHeaders)
    errors.install(app)
    for module in RESOURCES:
        app.include_router(module.api)
        app.include_router(module.pages)
    for router in extra_routers:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    return app


__all__ = ["RESOURCES", "create_app"]
