"""Small builders shared by the store tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from ldnkit.store import repositories as repo
from ldnkit.store.models import AuditEventRow, DiaryEntryRow

TODAY = dt.date(2026, 11, 25)


def make_patient(engine: Engine, given: str = "Ada", family: str = "Lovelace") -> int:
    with Session(engine, expire_on_commit=False) as s, s.begin():
        c = repo.create_clinician(s, name="Dr Who", email=None, actor="test")
        p = repo.create_patient(
            s,
            clinician_id=c.id,
            given_name=given,
            family_name=family,
            birth_date=dt.date(1970, 1, 2),
            profile={"conditions": ["fibromyalgia"], "medications": []},
            actor="test",
        )
        return p.id


def entry(day: dt.date, pain: int = 5, **extra: Any) -> dict[str, Any]:
    return {"entry_date": day, "pain": pain, "dose_taken": True, **extra}


def snapshot(engine: Engine) -> tuple[list[tuple], list[tuple]]:
    """Every diary row and audit row, as plain tuples, to prove nothing changed."""
    with Session(engine, expire_on_commit=False) as s:
        diary = [
            (r.id, r.patient_id, r.entry_date, r.revision, r.superseded, r.pain, r.note)
            for r in s.scalars(select(DiaryEntryRow).order_by(DiaryEntryRow.id))
        ]
        audit = [
            (a.id, a.action, a.entity, a.entity_id)
            for a in s.scalars(select(AuditEventRow).order_by(AuditEventRow.id))
        ]
    return diary, audit
