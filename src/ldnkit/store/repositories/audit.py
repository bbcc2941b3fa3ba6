"""The audit log: who did what to which record, when.

Details are restricted to numbers, booleans and short codes so that no patient name, date of
birth or free-text note can leak into the log, whoever calls it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from ldnkit.errors import ValidationError
from ldnkit.store.models import AuditEventRow
from ldnkit.store.repositories._common import utcnow

_CODE = re.compile(r"^[A-Za-z0-9_.:\-]{0,64}$")
AuditValue = int | bool | str | None
_Row = TypeVar("_Row")


def _check_details(details: Mapping[str, AuditValue]) -> dict[str, AuditValue]:
    clean: dict[str, AuditValue] = {}
    for key, value in details.items():
        if not _CODE.match(key):
            raise ValidationError("audit.details", f"key {key!r} is not a short code")
        if isinstance(value, str) and not _CODE.match(value):
            raise ValidationError(
                f"audit.details.{key}", "only ids and short codes may be logged, not free text"
            )
        if not isinstance(value, int | bool | str | type(None)):
            raise ValidationError(f"audit.details.{key}", "only ids and short codes may be logged")
        clean[key] = value
    return clean


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: int | None,
    details: Mapping[str, AuditValue] | None = None,
    at: dt.datetime | None = None,
) -> AuditEventRow:
    """Add an audit event in the caller's transaction, so it commits or rolls back with the change."""
    for name, value in (("actor", actor), ("action", action), ("entity", entity)):
        if not _CODE.match(value) or not value:
            raise ValidationError(f"audit.{name}", "must be a short code (letters, digits, _.:-)")
    event = AuditEventRow(
        at=at or utcnow(),
        actor=actor,
        action=action,
        entity=entity,
        entity_id=entity_id,
        details=_check_details(details or {}),
    )
    session.add(event)
    return event


def add_audited(
    session: Session,
    row: _Row,
    *,
    actor: str,
    entity: str,
    action: str = "create",
    details: Mapping[str, AuditValue] | None = None,
) -> _Row:
    """Add a new row and its audit event together: flush for the id, then record it.

    Every repository that creates a record goes through here, so no creation escapes the log.
    """
    session.add(row)
    session.flush()
    record(
        session,
        actor=actor,
        action=action,
        entity=entity,
        entity_id=row.id,  # type: ignore[attr-defined]
        details=details,
    )
    return row


def list_events(
    session: Session,
    *,
    entity: str | None = None,
    entity_id: int | None = None,
    limit: int = 100,
) -> Sequence[AuditEventRow]:
    """Newest events first, optionally for one record."""
    stmt = select(AuditEventRow).order_by(AuditEventRow.id.desc()).limit(limit)
    if entity is not None:
        stmt = stmt.where(AuditEventRow.entity == entity)
    if entity_id is not None:
        stmt = stmt.where(AuditEventRow.entity_id == entity_id)
    return session.scalars(stmt).all()


__all__ = ["add_audited", "list_events", "record"]
