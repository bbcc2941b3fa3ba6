"""Server-rendered pages: one Jinja2 environment, the CSRF token in every form.

`render` also makes sure the browser holds a CSRF cookie, so the very first page (the login
form) already carries a valid token. `form_page` remembers which template a POST handler is
validating, so the central error handler can re-display that form with the message and the
values the user typed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from ldnkit.clinical.models import fmt_mg
from ldnkit.web.security import CSRF_COOKIE, SESSION_COOKIE, new_csrf_cookie

TEMPLATES_DIR = Path(__file__).parent / "templates"
templates = Jinja2Templates(directory=str(TEMPLATES_DIR))


def _mg(value: Any) -> str:
    if value is None or value == "":
        return "–"
    return fmt_mg(Decimal(str(value)))


def _date(value: Any) -> str:
    if isinstance(value, dt.date | dt.datetime):
        return value.strftime("%a %d %b %Y")
    return str(value or "")


templates.env.filters["mg"] = _mg
templates.env.filters["longdate"] = _date
templates.env.globals["label"] = lambda s: str(s or "").replace("_", " ")


@dataclass
class FormState:
    """The template being validated and the context it needs to be shown again."""

    template: str
    context: dict[str, Any] = field(default_factory=dict)


def form_page(request: Request, template: str, **context: Any) -> None:
    """Declare the form a POST handler is processing (used only if validation fails)."""
    request.state.form = FormState(template, context)


def csrf_token(request: Request) -> str:
    """The token for this browser's forms, creating the CSRF cookie value if needed."""
    cached = getattr(request.state, "csrf_token", None)
    if cached:
        return cached
    signer = request.app.state.signer
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie:
        cookie = new_csrf_cookie()
        request.state.new_csrf_cookie = cookie
    binding = signer.csrf_binding(request.cookies.get(SESSION_COOKIE), cookie)
    token = signer.csrf_for(binding)
    request.state.csrf_token = token
    return token


def set_csrf_cookie(request: Request, response: Any) -> None:
    value = getattr(request.state, "new_csrf_cookie", None)
    if value:
        response.set_cookie(
            CSRF_COOKIE,
            value,
            httponly=True,
            samesite="lax",
            secure=request.app.state.cookie_secure(request),
            path="/",
        )


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    ctx = {
        "request": request,
        "csrf_token": csrf_token(request),
        "user": getattr(request.state, "user", None),
        "today": request.app.state.settings.current_date(),
        **(context or {}),
    }
    response = templates.TemplateResponse(request, template, ctx, status_code=status)
    set_csrf_cookie(request, response)
    response.headers["Cache-Control"] = "no-store"
    return response


def render_form_error(
    request: Request, form: FormState, message: str, status: int, field_name: str | None
) -> HTMLResponse:
    values = getattr(request.state, "form_values", {})
    ctx = {**form.context, "error": message, "error_field": field_name, "values": values}
    return render(request, form.template, ctx, status=status)


__all__ = ["FormState", "csrf_token", "form_page", "render", "render_form_error", "templates"]
