"""Access rules as FastAPI dependencies: who is calling, what role, which patient.

Routes declare what they need (`Depends(current_clinician)`, `Depends(patient_in_scope)`);
no handler re-checks ownership inline. `patient_in_scope` is the single rule for patient data:
a clinician reaches only patients assigned to them, a patient only themselves, an admin no
patient data at all; unknown ids are 404, someone else's patient 403. Reading patient data
writes an audit row (who, what, when) before the data is returned; writes are audited by the
store repositories in the same transaction as the change.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, NoReturn

from fastapi import Depends, Path, Request
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool

from ldnkit.errors import Forbidden, NotFound
from ldnkit.store.models import AuditEventRow, PatientRow, UserRow
from ldnkit.web.auth_errors import NotAuthenticated
from ldnkit.web.db import Database
from ldnkit.web.refusals import audit_refusal
from ldnkit.web.security import CSRF_COOKIE, CSRF_FIELD, CSRF_HEADER, SESSION_COOKIE
from ldnkit.web.settings import WebSettings
from ldnkit.web.writes import AUDIT

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Principal:
    """The logged-in account, as the access rules see it."""

    user_id: int
    username: str
    role: str
    clinician_id: int | None
    patient_id: int | None

    @property
    def actor(self) -> str:
        """The audit log's short code for this account (never a name)."""
        return f"user:{self.user_id}"


@dataclass(frozen=True)
class PatientRef:
    """A patient the caller may see: identity only, loaded by the access rule."""

    id: int
    clinician_id: int
    given_name: str
    family_name: str
    birth_date: dt.date | None
    mrn: str | None
    #: The patient's chosen language for their own pages (None: follow the browser).
    language: str | None = None

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}"


class TTLCache:
    """A tiny per-process cache with expiry: saves two database reads on every request.

    Entries live `seconds` at most, so a change made elsewhere (an account deactivated by
    another process, a logout on another server) takes effect within that time; a logout in
    this process takes effect at once (`drop`).
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._data: dict[object, tuple[float, object]] = {}

    def get(self, key: object) -> object | None:
        hit = self._data.get(key)
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1]

    def put(self, key: object, value: object) -> None:
        if len(self._data) > 10_000:
            self._data.clear()
        self._data[key] = (time.monotonic() + self.seconds, value)

    def drop(self, match: Callable[[object], bool]) -> None:
        for key in [k for k in list(self._data) if match(k)]:
            self._data.pop(key, None)


async def get_db(request: Request) -> Database:
    return request.app.state.db


async def get_settings(request: Request) -> WebSettings:
    return request.app.state.settings


async def today(request: Request) -> dt.date:
    return request.app.state.settings.current_date()


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def last_logout(session, user_id: int) -> dt.datetime | None:  # type: ignore[no-untyped-def]
    """When this account last logged out (every token issued before is void)."""
    return session.scalar(
        select(func.max(AuditEventRow.at)).where(
            AuditEventRow.entity == "user",
            AuditEventRow.entity_id == user_id,
            AuditEventRow.action == "logout",
        )
    )


def _load_principal(db: Database, user_id: int, issued_at: float) -> Principal | None:
    with db.read() as session:
        user = session.get(UserRow, user_id)
        if user is None or not user.active:
            return None
        logout = last_logout(session, user.id)
        if logout is not None:
            if logout.tzinfo is None:
                logout = logout.replace(tzinfo=dt.UTC)
            if logout.timestamp() >= issued_at:
                return None
        return Principal(user.id, user.username, user.role, user.clinician_id, user.patient_id)


async def optional_user(request: Request, db: Database = Depends(get_db)) -> Principal | None:
    """The account behind the session cookie or Bearer token, if it is valid and active.

    Async on purpose: a cached session costs no thread hop; only a miss reads the database
    (in the thread pool).
    """
    cached = getattr(request.state, "user", None)
    if cached is not None:
        return cached
    bearer = _bearer(request)
    token = bearer or request.cookies.get(SESSION_COOKIE)
    claims = request.app.state.signer.verify(token)
    if claims is None:
        return None
    cache: TTLCache = request.app.state.principals
    key = (claims.user_id, claims.issued_at)
    principal = cache.get(key)
    if principal is None:
        principal = await run_in_threadpool(_load_principal, db, claims.user_id, claims.issued_at)
        if principal is None:
            return None
        cache.put(key, principal)
    request.state.user = principal
    request.state.auth_via = "bearer" if bearer else "cookie"
    return principal  # type: ignore[return-value]


async def current_user(user: Principal | None = Depends(optional_user)) -> Principal:
    if user is None:
        raise NotAuthenticated("not logged in")
    return user


async def refuse(
    request: Request,
    message: str,
    *,
    reason: str,
    user: Principal | None = None,
    patient_id: int | None = None,
) -> NoReturn:
    """Audit a refused access (who, which route, why: codes only), then raise Forbidden.

    Every 403 of the access rules goes through here, so an administrator can see who tried to
    reach what they may not (someone else's patient, an admin page, a forged form post).
    """
    await audit_refusal(request, reason=reason, user=user, patient_id=patient_id)
    raise Forbidden(message)


def _role(*roles: str):  # type: ignore[no-untyped-def]
    async def check(request: Request, user: Principal = Depends(current_user)) -> Principal:
        if user.role not in roles:
            await refuse(
                request, f"this needs a {' or '.join(roles)} account", reason="role", user=user
            )
        return user

    return check


current_clinician = _role("clinician")
current_patient = _role("patient")
current_admin = _role("admin")
current_pharmacist = _role("pharmacist")


def _load_patient(db: Database, patient_id: int) -> PatientRef:
    with db.read() as session:
        row = session.execute(
            select(
                PatientRow.id,
                PatientRow.clinician_id,
                PatientRow.given_name,
                PatientRow.family_name,
                PatientRow.birth_date,
                PatientRow.mrn,
                PatientRow.language,
            ).where(PatientRow.id == patient_id)
        ).first()
    if row is None:
        raise NotFound("patient", str(patient_id))
    return PatientRef(*row)


async def patient_in_scope(
    request: Request,
    patient_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    user: Principal = Depends(current_user),
    db: Database = Depends(get_db),
) -> PatientRef:
    """The patient named in the path, if the caller may see them; audits every read."""
    cache: TTLCache = request.app.state.patients
    ref = cache.get(patient_id)
    if ref is None:
        ref = await run_in_threadpool(_load_patient, db, patient_id)
        cache.put(patient_id, ref)
    assert isinstance(ref, PatientRef)
    allowed = (user.role == "clinician" and user.clinician_id == ref.clinician_id) or (
        user.role == "patient" and user.patient_id == ref.id
    )
    if not allowed:
        await refuse(
            request,
            "this patient's record is not yours to see",
            reason="not_in_scope",
            user=user,
            patient_id=ref.id,
        )
    if request.method in SAFE_METHODS:
        route = request.scope.get("route")
        what = getattr(route, "name", "read") or "read"
        await db.awrite_item(
            AUDIT,
            {
                "actor": user.actor,
                "action": "read",
                "entity": "patient",
                "entity_id": ref.id,
                "details": {"view": what[:64]},
            },
        )
    return ref


async def clinician_patient(
    request: Request,
    ref: PatientRef = Depends(patient_in_scope),
    user: Principal = Depends(current_user),
) -> PatientRef:
    """A patient in scope whose record the caller may change: their clinician only."""
    if user.role != "clinician":
        await refuse(
            request,
            "only the patient's clinician may change this",
            reason="not_clinician",
            user=user,
            patient_id=ref.id,
        )
    return ref


async def csrf_protect(request: Request) -> None:
    """Every state-changing request that relies on the browser's cookies needs a CSRF token.

    Bearer-token API calls are exempt (a browser never attaches that header on its own), as
    are API calls without a session cookie (there is nothing ambient to abuse).
    """
    if request.method in SAFE_METHODS or _bearer(request):
        return
    if request.url.path.startswith("/api") and SESSION_COOKIE not in request.cookies:
        return
    submitted = request.headers.get(CSRF_HEADER)
    if submitted is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        submitted = value if isinstance(value, str) else None
    signer = request.app.state.signer
    binding = signer.csrf_binding(
        request.cookies.get(SESSION_COOKIE), request.cookies.get(CSRF_COOKIE)
    )
    if not signer.csrf_ok(binding, submitted):
        await refuse(
            request, "missing or invalid CSRF token; reload the page and try again", reason="csrf"
        )


CurrentUser = Annotated[Principal, Depends(current_user)]
Clinician = Annotated[Principal, Depends(current_clinician)]
Admin = Annotated[Principal, Depends(current_admin)]
Pharmacist = Annotated[Principal, Depends(current_pharmacist)]
InScope = Annotated[PatientRef, Depends(patient_in_scope)]
ClinicianScope = Annotated[PatientRef, Depends(clinician_patient)]
Db = Annotated[Database, Depends(get_db)]
Today = Annotated[dt.date, Depends(today)]

__all__ = [
    "Admin",
    "Clinician",
    "ClinicianScope",
    "CurrentUser",
    "Db",
    "InScope",
    "PatientRef",
    "Pharmacist",
    "Principal",
    "Today",
    "audit_refusal",
    "clinician_patient",
    "csrf_protect",
    "current_admin",
    "current_clinician",
    "current_patient",
    "current_pharmacist",
    "current_user",
    "get_db",
    "optional_user",
    "patient_in_scope",
    "refuse",
    "today",
]
