"""The two writes every request makes in bulk, registered with the group-commit writer.

Diary submissions and audit rows for reads arrive many at a time under load; each kind is
stored for a whole commit group with few statements (`many`), falling back to the ordinary
repository call item by item (`one`) if the group fails, so a bad item fails alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from ldnkit.clinical.diary import DiaryEntry
from ldnkit.store import repositories as repo
from ldnkit.store.repositories import audit
from ldnkit.web.db import BatchKind, Database
from ldnkit.web.services import diary_row_dict

DIARY = "diary"
AUDIT = "audit"


@dataclass(frozen=True)
class DiaryWrite:
    """One validated diary entry to store for a patient, and who recorded it."""

    patient_id: int
    entry: DiaryEntry
    actor: str


def _diary_many(session: Session, items: list[DiaryWrite]) -> list[dict[str, Any]]:
    rows = repo.diary.add_validated_entries(
        session, [(i.patient_id, i.entry, i.actor) for i in items]
    )
    return [{**r, "superseded": False} for r in rows]


def _diary_one(session: Session, item: DiaryWrite) -> dict[str, Any]:
    row = repo.add_diary_entry(
        session, item.patient_id, item.entry, today=item.entry.entry_date, actor=item.actor
    )
    return diary_row_dict(row)


def _audit_one(session: Session, item: dict[str, Any]) -> None:
    audit.record(session, **item)


def _audit_many(session: Session, items: list[dict[str, Any]]) -> list[None]:
    for item in items:
        audit.record(session, **item)  # added to the session; one flush at commit
    session.flush()
    return [None] * len(items)


def register(db: Database) -> None:
    db.register(DIARY, BatchKind(many=_diary_many, one=_diary_one))
    db.register(AUDIT, BatchKind(many=_audit_many, one=_audit_one))


__all__ = ["AUDIT", "DIARY", "DiaryWrite", "register"]
