"""CDS Hooks state every server process must share: seen token ids and card feedback.

Feedback is stored in the database, not in a process's memory: it survives restarts, every
worker writes to the same table, and its size is bounded by the route (body size, item count,
field lengths), not by how long the process has run.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ldnkit.store.models import CdsFeedbackRow, CdsJtiRow
from ldnkit.store.repositories._common import utcnow


def claim_jti(session: Session, issuer: str, jti: str, expires_at: dt.datetime) -> bool:
    """Record a token id; False when (issuer, jti) was already recorded (a replay).

    Expired ids are dropped now and then (on about one claim in 64, chosen by the id's hash, so
    no process keeps a counter): a token past its `exp` is refused anyway, so the table holds
    only the last hour or so of calls, and most claims are a single INSERT.
    """
    if zlib.crc32(jti.encode("utf-8", "replace")) % 64 == 0:
        cutoff = utcnow() - dt.timedelta(hours=1)
        session.execute(delete(CdsJtiRow).where(CdsJtiRow.expires_at < cutoff))
    values = {"issuer": issuer, "jti": jti, "expires_at": expires_at}
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        row = session.execute(
            insert(CdsJtiRow).values(values).on_conflict_do_nothing().returning(CdsJtiRow.jti)
        ).first()
        return row is not None
    if session.get(CdsJtiRow, (issuer, jti)) is not None:
        return False
    session.add(CdsJtiRow(**values))
    session.flush()
    return True


def add_feedback(
    session: Session, service: str, client: str | None, items: Sequence[dict[str, Any]]
) -> int:
    """Store parsed feedback items (`interop.cds.parse_feedback`); returns how many."""
    now = utcnow()
    for item in items:
        session.add(
            CdsFeedbackRow(
                at=now,
                service=service[:64],
                client=client[:255] if client else None,
                card=item["card"],
                outcome=item["outcome"],
                accepted=list(item["accepted"]),
                override_code=item.get("override_code"),
                outcome_at=item["at"],
            )
        )
    session.flush()
    return len(items)


def list_feedback(session: Session, service: str | None = None, limit: int = 100) -> list[dict]:
    """Newest feedback first (for the administrator and for tests)."""
    query = select(CdsFeedbackRow).order_by(CdsFeedbackRow.id.desc()).limit(limit)
    if service is not None:
        query = query.where(CdsFeedbackRow.service == service)
    return [
        {
            "service": f.service,
            "client": f.client,
            "card": f.card,
            "outcome": f.outcome,
            "accepted": f.accepted,
            "override_code": f.override_code,
            "at": f.outcome_at,
        }
        for f in session.scalars(query)
    ]


__all__ = ["add_feedback", "claim_jti", "list_feedback"]
