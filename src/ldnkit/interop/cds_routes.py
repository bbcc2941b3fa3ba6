"""CDS Hooks 2.0 HTTP endpoints: discovery, service calls and feedback, as one APIRouter.

Mount with `app.include_router(ldnkit.interop.cds_routes.router)`. These routes take no login:
a CDS client (the EHR) is not a user of the web app. The spec has the client authenticate
itself with a signed JWT in the `Authorization` header; checking it needs each EHR's key set
(JWKS) and is deployment configuration, not implemented here, so put the service behind the
clinic's gateway or add a `dependencies=[...]` check when mounting. The service reads only the
request's context and prefetch and never calls the EHR's FHIR server back.

Errors follow the spec, not the web app's: a malformed request is 400 with the field and the
reason, a missing prefetch 412, an unknown service 404, all as JSON.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from ldnkit.errors import Forbidden, NotFound, ValidationError
from ldnkit.interop import cds
from ldnkit.yamlio import DuplicateJsonKeyError, load_json

log = logging.getLogger("ldnkit.interop.cds")


async def cds_today(request: Request) -> dt.date:
    """The date cards are computed for: the app's fixed demo date (`WebSettings.today`) when
    it has one, else the real date; tests may override it with `app.dependency_overrides`.

    Async on purpose: FastAPI runs a plain `def` dependency in its thread pool, a thread hop
    that costs more than the card logic itself on a busy machine."""
    settings = getattr(request.app.state, "settings", None)
    current = getattr(settings, "current_date", None)
    return current() if callable(current) else dt.date.today()


class FeedbackLog:
    """The last feedback items per service (ids and codes only), for audit and tuning."""

    def __init__(self, maxlen: int = 10_000) -> None:
        self.items: deque[dict[str, Any]] = deque(maxlen=maxlen)

    def add(self, service_id: str, items: list[dict[str, Any]]) -> None:
        for item in items:
            self.items.append({"service": service_id, **item})


feedback_log = FeedbackLog()


async def get_feedback_log() -> FeedbackLog:
    return feedback_log


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

        return route


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        raise ValidationError("(body)", "empty request body; send the hook request as JSON")
    try:
        return load_json(raw)
    except DuplicateJsonKeyError as exc:
        raise ValidationError("(body)", f"not valid JSON: {exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError("(body)", f"not valid JSON ({exc.__class__.__name__})") from None


router = APIRouter(route_class=CdsRoute, tags=["cds-hooks"])


@router.get("/cds-services", summary="CDS Hooks discovery")
def discovery() -> dict[str, Any]:
    """The services, their hooks and the prefetch templates they need."""
    return cds.discovery()


@router.post("/cds-services/{service_id}", summary="Call a CDS service")
async def call_service(
    service_id: str, request: Request, today: dt.date = Depends(cds_today)
) -> Any:
    body = await _json_body(request)
    answer = cds.cards(service_id, body, today)
    log.info(
        "cds call",
        extra={"service": service_id, "cards": len(answer["cards"]), "hook": body.get("hook")},
    )
    return JSONResponse(answer)


@router.post("/cds-services/{service_id}/feedback", summary="Card feedback")
async def feedback(
    service_id: str, request: Request, store: FeedbackLog = Depends(get_feedback_log)
) -> Any:
    """Accepts the spec's feedback body; answers 200 with an empty object."""
    if service_id not in cds.SERVICES:
        raise NotFound("CDS service", service_id, sorted(cds.SERVICES))
    items = cds.parse_feedback(await _json_body(request))
    store.add(service_id, items)
    log.info("cds feedback", extra={"service": service_id, "items": len(items)})
    return JSONResponse({})
