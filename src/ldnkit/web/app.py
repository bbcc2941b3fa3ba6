"""The app factory: settings -> database, security, error handlers, routers.

Routers come one per resource from `ldnkit.web.routes`; other packages (FHIR, CDS Hooks) add
theirs through `extra_routers` without touching this file:

    create_app(settings, extra_routers=[fhir.router, cds_hooks.router])
"""

from __future__ import annotations

import gc
import importlib.resources
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

import ldnkit
from ldnkit.clinical.medications import recogniser
from ldnkit.clinical.response import response_rules
from ldnkit.evidence import default_evidence
from ldnkit.web import errors, writes
from ldnkit.web.accounts import Accounts
from ldnkit.web.body_limit import BodyLimit, BodyRule
from ldnkit.web.db import Database
from ldnkit.web.deps import TTLCache, csrf_protect, optional_user
from ldnkit.web.routes import (
    admin,
    auth,
    diagrams,
    diary,
    documents,
    evidence,
    instruments,
    language,
    nof1,
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
#: Swagger UI 5 (which reads OpenAPI 3.1, as FastAPI writes it), shipped as files by the
#: `fastapi-offline` package: the docs need no CDN. Only its files are used, not its code.
SWAGGER_DIR = Path(str(importlib.resources.files("fastapi_offline") / "static"))

_DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ldnkit API</title>
<link rel="stylesheet" href="/docs-assets/swagger-ui.css">
<link rel="icon" href="/docs-assets/favicon.png"></head>
<body><div id="swagger-ui" data-openapi="/openapi.json"></div>
<script src="/docs-assets/swagger-ui-bundle.js"></script>
<script src="/static/docs.js"></script></body></html>
"""

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
    documents,
    admin,
    nof1,
    instruments,
    offline,
    reminders,
    language,
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


#: Browsers that once saw the site over HTTPS keep to HTTPS for a year (RFC 6797).
_HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


class _SecurityHeaders:
    """Pure ASGI middleware (cheaper than BaseHTTPMiddleware): hardening headers on every
    response, the same Content-Security-Policy on every page (the API docs included: their
    scripts are served by the app itself), and HSTS on responses sent over HTTPS (directly,
    or through a proxy listed in `trusted_proxies` that said `X-Forwarded-Proto: https`).
    Never over plain HTTP: a browser ignores it there, and a local `make run` must stay usable."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._headers = [(k.lower().encode(), v.encode()) for k, v in _SECURITY_HEADERS.items()]
        self._https = [*self._headers, _HSTS]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self._https if scope.get("scheme") == "https" else self._headers

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def body_rules(settings: WebSettings) -> list[BodyRule]:
    """The size limit of each route class; the first matching pattern wins."""
    return [
        BodyRule(r"/(api/auth/login|login)$", settings.max_login_bytes, "login"),
        BodyRule(r"(/api)?/cds-services/[^/]+/feedback$", settings.max_cds_feedback_bytes, "cds"),
        BodyRule(r"(/api)?/cds-services/", settings.max_cds_bytes, "cds"),
        BodyRule(r"/fhir/", settings.max_fhir_bytes, "fhir"),
    ]


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
        # Compile the medication vocabulary before serving: a broken entry stops start-up
        # (naming it) instead of failing the first screening, and no request pays for it.
        recogniser(default_evidence())
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
        # The docs page is the app's own (below): FastAPI's loads Swagger UI from a CDN with an
        # inline script, which the Content-Security-Policy rightly refuses. No ReDoc.
        docs_url=None,
        redoc_url=None,
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

    app.add_middleware(
        BodyLimit,
        rules=body_rules(settings),
        default_bytes=settings.max_body_bytes,
        max_depth=settings.max_json_depth,
    )
    # Added after the body limit, so outside it: its refusals carry the headers too.
    app.add_middleware(_SecurityHeaders)
    proxies = [p.strip() for p in settings.trusted_proxies.split(",") if p.strip()]
    if proxies:
        # Outermost: client address and scheme are settled before anything reads them.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=proxies)

    @app.get("/docs", include_in_schema=False)
    def swagger_docs() -> HTMLResponse:
        return HTMLResponse(_DOCS_PAGE)

    errors.install(app, page_user=optional_user)
    for module in RESOURCES:
        app.include_router(module.api)
        app.include_router(module.pages)
    for router in extra_routers:
        app.include_router(router)
    app.mount("/docs-assets", StaticFiles(directory=str(SWAGGER_DIR)), name="docs-assets")
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    return app


__all__ = ["RESOURCES", "create_app"]
