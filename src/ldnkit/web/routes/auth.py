"""Login, logout and "who am I", for API clients (Bearer tokens) and browsers (cookies)."""

from __future__ import annotations

from urllib.parse import urlparse

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from ldnkit.web.deps import CurrentUser, Principal, optional_user
from ldnkit.web.schemas import LoginIn, MeOut, TokenOut
from ldnkit.web.security import SESSION_COOKIE
from ldnkit.web.templating import form_page, render

api = APIRouter(prefix="/api", tags=["auth"])
pages = APIRouter(include_in_schema=False)


def _logout(request: Request, user: Principal) -> None:
    request.app.state.accounts.logout(user)
    request.app.state.principals.drop(lambda key: key[0] == user.user_id)  # type: ignore[index]


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def home_for(user: Principal) -> str:
    if user.role == "clinician":
        return "/patients"
    if user.role == "patient":
        return f"/patients/{user.patient_id}/today"
    if user.role == "pharmacist":
        return "/pharmacy"
    return "/admin/audit"


@api.post("/auth/login", response_model=TokenOut)
def api_login(body: LoginIn, request: Request) -> TokenOut:
    """Exchange a username and password for a Bearer token."""
    user = request.app.state.accounts.login(body.username, body.password, _address(request))
    hours = request.app.state.settings.session_hours
    token = request.app.state.signer.issue(user.user_id, hours)
    return TokenOut(token=token, expires_in=hours * 3600, user_id=user.user_id, role=user.role)


@api.post("/auth/logout", status_code=204)
def api_logout(user: CurrentUser, request: Request) -> Response:
    """Void every token of this account."""
    _logout(request, user)
    return Response(status_code=204)


@api.get("/me", response_model=MeOut)
def api_me(user: CurrentUser) -> MeOut:
    return MeOut(
        user_id=user.user_id,
        username=user.username,
        role=user.role,
        clinician_id=user.clinician_id,
        patient_id=user.patient_id,
    )


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths: `next=//evil.example` must not become an open redirect."""
    if not target:
        return None
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@pages.get("/")
def home(user: Principal | None = Depends(optional_user)) -> Response:
    return RedirectResponse(home_for(user) if user else "/login", status_code=303)


@pages.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html", {"next": _safe_next(next) or ""})


@pages.post("/login")
async def login_submit(request: Request) -> Response:
    form = await request.form()
    username = str(form.get("username", ""))
    password = str(form.get("password", ""))
    target = _safe_next(str(form.get("next", "")))
    request.state.form_values = {"username": username}
    form_page(request, "login.html", next=target or "")
    accounts = request.app.state.accounts
    from starlette.concurrency import run_in_threadpool

    user = await run_in_threadpool(accounts.login, username, password, _address(request))
    settings = request.app.state.settings
    token = request.app.state.signer.issue(user.user_id, settings.session_hours)
    response = RedirectResponse(target or home_for(user), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=request.app.state.cookie_secure(request),
        path="/",
    )
    return response


@pages.post("/logout")
def logout_submit(request: Request, user: CurrentUser) -> Response:
    _logout(request, user)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
