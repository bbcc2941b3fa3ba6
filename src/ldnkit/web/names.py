"""Audit actors ("user:2") as the names people know (issue 15).

The audit log and the diary keep a short code, never a name (names change, and logs must not
carry them); pages that show who did something look the names up when they are displayed.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from ldnkit.store.models import UserRow


def actor_names(session: Session, actors: Iterable[str]) -> dict[str, str]:
    """{"user:2": "dr_a (clinician)", ...} for the actors that are accounts; others unchanged."""
    ids = set()
    for a in actors:
        kind, _, num = (a or "").partition(":")
        if kind == "user" and num.isdigit():
            ids.add(int(num))
    if not ids:
        return {}
    rows = session.execute(
        select(UserRow.id, UserRow.username, UserRow.role).where(UserRow.id.in_(ids))
    )
    return {f"user:{i}": f"{name} ({role})" for i, name, role in rows}


__all__ = ["actor_names"]
