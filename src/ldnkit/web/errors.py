"""One place that turns errors into responses, for the API (JSON) and the pages (HTML).

Handlers raise `ldnkit.errors` exceptions and never build error responses themselves:
- `ValidationError` -> 422 with the field path and the reason; a page whose form was being
  handled is re-displayed with the message next to the submitted values;
- `NotFound` -> 404, `Forbidden` -> 403, `UnsafeToStart` -> 409 (with the earliest safe start);
- not logged in -> 401 (API) or a redirect to the login page;
- too many failed logins -> 429 with Retry-After.
Bad input must never surface as a 500: database conflicts and out-of-range dates that slip
past validation are mapped to 409/422 here as a last line of defence.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ldnkit.errors import Forbidden, LdnkitError, NotFound, UnsafeToStart, ValidationError
from ldnkit.web.auth_errors import LockedOut, NotAuthenticated

log = logging.getLogger("ldnkit.web")


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api")


def _field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or "(request)"


def _json_error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def _page_error(request: Request, status: int, message: str, **extra: Any) -> Response:
    from ldnkit.web.templating import render, render_form_error

    form = getattr(request.state, "form", None)
    if form is not None and status in (401, 409, 422, 429):
        return render_form_error(request, form, message, status, extra.get("field"))
    return render(request, "error.html", {"status": status, "message": message}, status=status)


async def _page_user(request: Request) -> None:
    """Resolve the signed-in account for an error page too, so it keeps the user's menu.

    Why: a 404 for an unknown path runs no route dependency; without this the page would
    offer "Log in" to someone who is logged in (issue 15, item 9).
    """
    optional_user = getattr(request.app.state, "page_user", None)
    if getattr(request.state, "user", None) is None and optional_user is not None:
        try:
            await optional_user(request, request.app.state.db)
        except Exception:  # an error page must render even if the session cannot be read
            log.warning("error_page_user_lookup_failed path=%s", request.url.path)


async def _respond(request: Request, status: int, message: str, **extra: Any) -> Response:
    if is_api(request):
        return _json_error(status, message, **extra)
    await _page_user(request)
    return _page_error(request, status, message, **extra)


async def _validation(request: Request, exc: ValidationError) -> Response:
    detail = [{"loc": exc.field.split("."), "msg": exc.reason, "type": "ldnkit.validation"}]
    return await _respond(request, 422, str(exc), field=exc.field, reason=exc.reason, detail=detail)


async def _request_validation(request: Request, exc: RequestValidationError) -> Response:
    """FastAPI's own 422, reshaped so the first error names a field path and a reason."""
    errors = []
    for err in exc.errors():
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        field = _field_path(err.get("loc", ()))
        if field == "(request)" and ": " in msg:
            field, msg = msg.split(": ", 1)
        if err.get("type") == "missing":
            msg = "required field missing"
        elif err.get("type") == "extra_forbidden":
            msg = "unknown key"
        errors.append({"loc": field.split("."), "msg": msg, "type": err.get("type", "")})
    first = errors[0] if errors else {"loc": ["(request)"], "msg": "invalid request"}
    field = ".".join(str(p) for p in first["loc"])
    return await _respond(
        request,
        422,
        f"{field}: {first['msg']}",
        field=field,
        reason=first["msg"],
        detail=errors,
    )


async def _not_found(request: Request, exc: NotFound) -> Response:
    return await _respond(request, 404, str(exc))


async def _forbidden(request: Request, exc: Forbidden) -> Response:
    # Refusals raised outside the access rules (which audit their own) are audited here.
    from ldnkit.web.refusals import audit_refusal

    await audit_refusal(request, reason="forbidden")
    return await _respond(request, 403, str(exc) or "not allowed")


async def _unsafe(request: Request, exc: UnsafeToStart) -> Response:
    earliest = getattr(exc, "earliest_start", None)
    return await _respond(
        request,
        409,
        str(exc),
        field="start",
        earliest_start=earliest.isoformat() if earliest is not None else None,
    )


async def _not_authenticated(request: Request, exc: NotAuthenticated) -> Response:
    if is_api(request):
        return JSONResponse(
            {"error": str(exc) or "not logged in"},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    form = getattr(request.state, "form", None)
    if form is not None:
        from ldnkit.web.templating import render_form_error

        return render_form_error(request, form, str(exc), 401, "password")
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


async def _locked(request: Request, exc: LockedOut) -> Response:
    response = await _respond(request, 429, str(exc))
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


async def _ldnkit(request: Request, exc: LdnkitError) -> Response:
    return await _respond(request, 400, exc.one_line())


async def _integrity(request: Request, exc: IntegrityError) -> Response:
    log.warning("integrity_conflict method=%s path=%s", request.method, request.url.path)
    return await _respond(request, 409, "conflicts with an existing record")


async def _overflow(request: Request, exc: OverflowError) -> Response:
    return await _respond(request, 422, "date: out of range", field="date", reason="out of range")


async def _http(request: Request, exc: StarletteHTTPException) -> Response:
    message = str(exc.detail)
    response = await _respond(request, exc.status_code, message)
    for key, value in (exc.headers or {}).items():
        response.headers[key] = value
    return response


def install(app: FastAPI, page_user: Callable[..., Awaitable[Any]] | None = None) -> None:
    """Register every handler; routes never translate errors themselves.

    `page_user` (the access rules' `optional_user`, handed in by the app factory so this
    module does not import `deps`, which imports it) resolves the account for error pages.
    """
    app.state.page_user = page_user
    app.add_exception_handler(ValidationError, _validation)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _request_validation)  # type: ignore[arg-type]
    app.add_exception_handler(NotFound, _not_found)  # type: ignore[arg-type]
    app.add_exception_handler(Forbidden, _forbidden)  # type: ignore[arg-type]
    app.add_exception_handler(UnsafeToStart, _unsafe)  # type: ignore[arg-type]
    app.add_exception_handler(NotAuthenticated, _not_authenticated)  # type: ignore[arg-type]
    app.add_exception_handler(LockedOut, _locked)  # type: ignore[arg-type]
    app.add_exception_handler(LdnkitError, _ldnkit)  # type: ignore[arg-type]
    app.add_exception_handler(IntegrityError, _integrity)  # type: ignore[arg-type]
    app.add_exception_handler(OverflowError, _overflow)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http)  # type: ignore[arg-type]


__all__ = ["LockedOut", "NotAuthenticated", "install", "is_api"]
