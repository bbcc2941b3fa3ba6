"""Administration: the audit log (who read or changed what, when) and accounts.

An administrator creates clinician accounts and, for any account, can deactivate or
reactivate it, unlock it (forget the failed logins counted against it) and reset its password
(the password policy applies; every session of the account ends). Each action is one audit
row naming the administrator and the account, never the password.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from ldnkit.errors import ValidationError
from ldnkit.inputs import parse_model
from ldnkit.store import repositories as repo
from ldnkit.store.models import AuditEventRow
from ldnkit.store.repositories import audit
from ldnkit.web import forms
from ldnkit.web.deps import Admin, Db, Principal
from ldnkit.web.names import actor_names
from ldnkit.web.schemas import AuditOut, ClinicianIn, ClinicianOut
from ldnkit.web.templating import form_page, render

api = APIRouter(prefix="/api/admin", tags=["admin"])
pages = APIRouter(prefix="/admin", include_in_schema=False)


def _events(db: Db, entity: str | None, entity_id: int | None, limit: int) -> list[dict[str, Any]]:
    with db.read() as s:
        return [
            {
                "id": e.id,
                "at": e.at,
                "actor": e.actor,
                "action": e.action,
                "entity": e.entity,
                "entity_id": e.entity_id,
                "details": e.details or {},
            }
            for e in audit.list_events(s, entity=entity, entity_id=entity_id, limit=limit)
        ]


@api.get("/audit", response_model=list[AuditOut])
def api_audit(
    user: Admin,
    db: Db,
    entity: Annotated[str | None, Query(max_length=64)] = None,
    entity_id: Annotated[int | None, Query(ge=0, le=2**31 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """Newest audit events first, optionally for one record (e.g. entity=patient&entity_id=3)."""
    return _events(db, entity, entity_id, limit)


def _create_clinician(body: ClinicianIn, actor: str):  # type: ignore[no-untyped-def]
    def job(s: Session) -> ClinicianOut:
        clinician = repo.create_clinician(s, name=body.name, email=body.email, actor=actor)
        user = repo.create_user(
            s,
            username=body.username,
            password=body.password,
            role="clinician",
            clinician_id=clinician.id,
            actor=actor,
        )
        return ClinicianOut(clinician_id=clinician.id, user_id=user.id, username=user.username)

    return job


@api.post("/clinicians", response_model=ClinicianOut, status_code=201)
def api_create_clinician(body: ClinicianIn, user: Admin, db: Db) -> ClinicianOut:
    """Create a clinician and their login."""
    return db.write(_create_clinician(body, user.actor))


#: Audit events per page; older ones are reached with "Older events" (keyset paging on id).
AUDIT_PAGE_SIZE = 50


def audit_page_rows(
    session: Session, entity: str | None, entity_id: int | None, before: int | None, size: int
) -> tuple[list[Any], bool]:
    """One page of events, newest first, older than event `before`; and whether more exist."""
    stmt = select(AuditEventRow).order_by(AuditEventRow.id.desc()).limit(size + 1)
    if entity:
        stmt = stmt.where(AuditEventRow.entity == entity)
    if entity_id is not None:
        stmt = stmt.where(AuditEventRow.entity_id == entity_id)
    if before is not None:
        stmt = stmt.where(AuditEventRow.id < before)
    rows = list(session.scalars(stmt).all())
    return rows[:size], len(rows) > size


@pages.get("/audit")
def audit_page(
    request: Request,
    user: Admin,
    db: Db,
    entity: Annotated[str | None, Query(max_length=64)] = None,
    entity_id: Annotated[int | None, Query(ge=0, le=2**31 - 1)] = None,
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> Response:
    """The audit log a page at a time, with account names beside the stored codes."""
    with db.read() as s:
        rows, more = audit_page_rows(s, entity or None, entity_id, before, AUDIT_PAGE_SIZE)
        names = actor_names(s, {e.actor for e in rows})
    events = [
        {
            "id": e.id,
            "at": e.at,
            "actor": e.actor,
            "who": names.get(e.actor, e.actor),
            "action": e.action,
            "entity": e.entity,
            "entity_id": e.entity_id,
            "details": e.details or {},
        }
        for e in rows
    ]
    keep = {k: v for k, v in {"entity": entity, "entity_id": entity_id}.items() if v}
    older = urlencode({**keep, "before": rows[-1].id}) if more and rows else None
    newer = urlencode(keep) if before is not None else None
    return render(
        request,
        "admin_audit.html",
        {
            "events": events,
            "entity": entity,
            "entity_id": entity_id,
            "older": older,
            "newer": newer,
        },
    )


@pages.get("/users")
def users_page(request: Request, user: Admin, db: Db) -> Response:
    with db.read() as s:
        users = repo.list_users(s)
    return render(request, "admin_users.html", {"users": users, "values": {}})


@pages.post("/users")
async def users_submit(request: Request, user: Admin, db: Db) -> Response:
    form = await request.form()
    request.state.form_values = forms.values(form)
    with db.read() as s:
        users = repo.list_users(s)
    form_page(request, "admin_users.html", users=users)
    body = parse_model(
        ClinicianIn,
        {
            "name": forms.text(form, "name"),
            "email": forms.text(form, "email") or None,
            "username": forms.text(form, "username"),
            "password": str(form.get("password") or ""),
        },
    )
    await db.awrite(_create_clinician(body, user.actor))
    return RedirectResponse("/admin/users?created=1", status_code=303)


AccountAction = Literal["deactivate", "activate", "unlock"]
UserId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class PasswordResetIn(BaseModel):
    """A new password chosen by the administrator (the policy for the account's role applies)."""

    model_config = {"extra": "forbid"}
    password: str = Field(min_length=1, max_length=1024)


class AccountOut(BaseModel):
    user_id: int
    username: str
    role: str
    active: bool
    failed_logins: int


def _forget_sessions(request: Request, user_id: int) -> None:
    request.app.state.principals.drop(lambda key: key[0] == user_id)  # type: ignore[index]


def _account_out(request: Request, db: Db, user_id: int) -> AccountOut:
    with db.read() as s:
        row = repo.get_user(s, user_id)
        out = (row.id, row.username, row.role, row.active)
    failures = request.app.state.accounts.failures(out[1])
    return AccountOut(
        user_id=out[0], username=out[1], role=out[2], active=out[3], failed_logins=failures
    )


def _apply(request: Request, db: Db, admin: Principal, user_id: int, action: str) -> None:
    """Deactivate, activate or unlock one account, audited."""
    with db.read() as s:
        username = repo.get_user(s, user_id).username  # 404 for an unknown id
    if action == "deactivate" and user_id == admin.user_id:
        raise ValidationError("user_id", "an administrator cannot deactivate their own account")
    if action == "unlock":
        request.app.state.accounts.unlock(username, actor=admin.actor, user_id=user_id)
        return
    db.write(lambda s: repo.set_active(s, user_id, action == "activate", actor=admin.actor))
    _forget_sessions(request, user_id)


def _reset(request: Request, db: Db, admin: Principal, user_id: int, password: str) -> None:
    def job(s: Session) -> None:
        repo.set_password(s, user_id, password, actor=admin.actor)
        # Every token issued before now stops working (as at a logout).
        audit.record(s, actor=admin.actor, action="logout", entity="user", entity_id=user_id)

    db.write(job)
    _forget_sessions(request, user_id)


@api.post("/users/{user_id}/{action}", response_model=AccountOut)
def api_account_action(
    user_id: UserId, action: AccountAction, request: Request, user: Admin, db: Db
) -> AccountOut:
    """Deactivate, reactivate or unlock an account."""
    _apply(request, db, user, user_id, action)
    return _account_out(request, db, user_id)


@api.put("/users/{user_id}/password", response_model=AccountOut)
def api_reset_password(
    user_id: UserId, body: PasswordResetIn, request: Request, user: Admin, db: Db
) -> AccountOut:
    """Set a new password for an account; its sessions end."""
    _reset(request, db, user, user_id, body.password)
    return _account_out(request, db, user_id)


@pages.post("/users/{user_id}/password")
async def reset_password_submit(user_id: UserId, request: Request, user: Admin, db: Db) -> Response:
    from starlette.concurrency import run_in_threadpool

    form = await request.form()
    with db.read() as s:
        users = repo.list_users(s)
    form_page(request, "admin_users.html", users=users)
    password = str(form.get("password") or "")
    await run_in_threadpool(_reset, request, db, user, user_id, password)
    return RedirectResponse("/admin/users?done=password", status_code=303)


@pages.post("/users/{user_id}/{action}")
async def account_action_submit(
    user_id: UserId, action: AccountAction, request: Request, user: Admin, db: Db
) -> Response:
    from starlette.concurrency import run_in_threadpool

    await run_in_threadpool(_apply, request, db, user, user_id, action)
    return RedirectResponse(f"/admin/users?done={action}", status_code=303)
