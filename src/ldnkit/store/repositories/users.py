"""Login accounts for the web shell: argon2id password hashes, a role, a link to the person.

The role decides what the web layer lets an account see: a clinician account is tied to a
clinician row (its patients), a patient account to a patient row (their own diary), an admin
to neither. The database enforces those links with check constraints as well.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ldnkit.errors import ValidationError
from ldnkit.store.models import ROLES, UserRow
from ldnkit.store.password_policy import MIN_CHARS, check_password
from ldnkit.store.repositories import audit
from ldnkit.store.repositories._common import get_or_404, utcnow
from ldnkit.store.repositories.people import get_clinician, get_patient

MIN_PASSWORD_CHARS = MIN_CHARS
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """An argon2id hash with the library's current recommended parameters."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValidationError("password", f"must be at least {MIN_PASSWORD_CHARS} characters")
    return _hasher.hash(password)


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    clinician_id: int | None = None,
    patient_id: int | None = None,
    actor: str,
) -> UserRow:
    """Create an account; the linked clinician or patient must exist and match the role."""
    username = username.strip()
    if not username:
        raise ValidationError("username", "required")
    if role not in ROLES:
        raise ValidationError("role", f"must be one of {', '.join(ROLES)}")
    if role == "clinician" and clinician_id is None:
        raise ValidationError("clinician_id", "required for a clinician account")
    if role == "patient" and patient_id is None:
        raise ValidationError("patient_id", "required for a patient account")
    if clinician_id is not None:
        get_clinician(session, clinician_id)
    if patient_id is not None:
        get_patient(session, patient_id)
    if get_user_by_username(session, username) is not None:
        raise ValidationError("username", "already taken")
    check_password(password, username=username, role=role)
    user = UserRow(
        username=username,
        password_hash=hash_password(password),
        role=role,
        clinician_id=clinician_id,
        patient_id=patient_id,
        active=True,
        created_at=utcnow(),
    )
    return audit.add_audited(session, user, actor=actor, entity="user", details={"role": role})


def get_user(session: Session, user_id: int) -> UserRow:
    return get_or_404(session, UserRow, user_id, "user")


def get_user_by_username(session: Session, username: str) -> UserRow | None:
    return session.scalars(select(UserRow).where(UserRow.username == username.strip())).first()


def list_users(session: Session) -> Sequence[UserRow]:
    return session.scalars(select(UserRow).order_by(UserRow.id)).all()


def authenticate(session: Session, username: str, password: str) -> UserRow | None:
    """The active user with this username and password, else None.

    Takes the same time whether or not the user exists (a dummy verify), and upgrades the
    stored hash when the library's parameters have moved on.
    """
    user = get_user_by_username(session, username)
    if user is None or not user.active:
        with contextlib.suppress(VerificationError):
            _hasher.verify(_DUMMY_HASH, password)
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
        session.flush()
    return user


def set_password(session: Session, user_id: int, password: str, *, actor: str) -> UserRow:
    """Replace an account's password (the policy applies as at creation); audited."""
    user = get_user(session, user_id)
    check_password(password, username=user.username, role=user.role)
    user.password_hash = hash_password(password)
    session.flush()
    audit.record(session, actor=actor, action="set_password", entity="user", entity_id=user_id)
    return user


def set_active(session: Session, user_id: int, active: bool, *, actor: str) -> UserRow:
    user = get_user(session, user_id)
    user.active = active
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="activate" if active else "deactivate",
        entity="user",
        entity_id=user_id,
    )
    return user


_DUMMY_HASH = _hasher.hash("ldnkit-timing-equaliser")

__all__ = [
    "MIN_PASSWORD_CHARS",
    "authenticate",
    "create_user",
    "get_user",
    "get_user_by_username",
    "hash_password",
    "list_users",
    "set_active",
    "set_password",
]
