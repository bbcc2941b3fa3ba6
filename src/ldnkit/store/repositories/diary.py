"""Diary entries: validated on the way in, corrections kept with their history.

A second entry for the same patient-day does not overwrite the first. The first is marked
superseded (its clinical values are never touched again) and the new one becomes revision n+1
with a link to the revision it replaced; "the diary" is the current revision of each day.
Every write validates through `ldnkit.clinical.diary.validate_diary_entry` before any row
changes, so rejected input leaves the stored diary exactly as it was.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from ldnkit.clinical.diary import DiaryEntry, SideEffectReport, validate_diary_entry
from ldnkit.errors import LdnkitError, ValidationError
from ldnkit.evidence import Evidence
from ldnkit.store.models import AuditEventRow, DiaryEntryRow
from ldnkit.store.repositories import audit
from ldnkit.store.repositories._common import utcnow
from ldnkit.store.repositories.people import get_patient

DiaryInput = DiaryEntry | Mapping[str, Any]


class ConcurrentCorrection(LdnkitError):
    """Someone else corrected the same patient-day at the same moment; retry with fresh data."""


def _to_row(
    patient_id: int, entry: DiaryEntry, revision: int, supersedes: int | None, actor: str
) -> DiaryEntryRow:
    return DiaryEntryRow(
        patient_id=patient_id,
        entry_date=entry.entry_date,
        revision=revision,
        superseded=False,
        supersedes_id=supersedes,
        pain=entry.pain,
        sleep=entry.sleep,
        mood=entry.mood,
        energy=entry.energy,
        clarity=entry.clarity,
        dose_taken=entry.dose_taken,
        dose_time=entry.dose_time,
        dose_mg=entry.dose_mg,
        side_effects=[r.model_dump() for r in entry.side_effects],
        note=entry.note,
        recorded_at=utcnow(),
        recorded_by=actor,
    )


def to_diary_entry(row: DiaryEntryRow) -> DiaryEntry:
    """The core model for a stored row, for the pure outcome and advice functions."""
    return DiaryEntry(
        entry_date=row.entry_date,
        pain=row.pain,
        sleep=row.sleep,
        mood=row.mood,
        energy=row.energy,
        clarity=row.clarity,
        dose_taken=row.dose_taken,
        dose_time=row.dose_time,
        dose_mg=row.dose_mg,
        side_effects=tuple(SideEffectReport(**r) for r in row.side_effects or ()),
        note=row.note,
    )


def _current_row(session: Session, patient_id: int, day: dt.date) -> DiaryEntryRow | None:
    stmt = (
        select(DiaryEntryRow)
        .where(
            DiaryEntryRow.patient_id == patient_id,
            DiaryEntryRow.entry_date == day,
            DiaryEntryRow.superseded.is_(False),
        )
        .with_for_update()
    )
    return session.scalars(stmt).first()


def _write(
    session: Session, patient_id: int, entry: DiaryEntry, actor: str, previous: DiaryEntryRow | None
) -> DiaryEntryRow:
    if previous is None:
        row = _to_row(patient_id, entry, 1, None, actor)
    else:
        result = session.execute(
            update(DiaryEntryRow)
            .where(DiaryEntryRow.id == previous.id, DiaryEntryRow.superseded.is_(False))
            .values(superseded=True)
            .execution_options(synchronize_session="fetch")
        )
        if result.rowcount != 1:
            raise ConcurrentCorrection(
                f"diary entry for patient {patient_id} on {entry.entry_date} changed meanwhile"
            )
        row = _to_row(patient_id, entry, previous.revision + 1, previous.id, actor)
    session.add(row)
    return row


def add_diary_entry(
    session: Session,
    patient_id: int,
    data: DiaryInput,
    *,
    today: dt.date,
    actor: str,
    evidence: Evidence | None = None,
) -> DiaryEntryRow:
    """Validate and store one day's entry; a repeat for the same day becomes a correction.

    Returns the stored row (its `revision` tells the caller whether it was a correction).
    Raises `ValidationError(field, reason)` before touching the database if the input is bad.
    """
    entry = validate_diary_entry(data, today=today, evidence=evidence)
    get_patient(session, patient_id)
    previous = _current_row(session, patient_id, entry.entry_date)
    row = _write(session, patient_id, entry, actor, previous)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create" if previous is None else "correct",
        entity="diary_entry",
        entity_id=row.id,
        details={
            "patient_id": patient_id,
            "entry_date": entry.entry_date.isoformat(),
            "revision": row.revision,
        },
    )
    return row


@dataclass(frozen=True)
class ImportResult:
    """What a bulk import did: new days, corrections, and the patients touched."""

    created: int
    corrected: int
    patients: tuple[int, ...]


def add_diary_entries(
    session: Session,
    items: Iterable[tuple[int, DiaryInput]],
    *,
    today: dt.date,
    actor: str,
    evidence: Evidence | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Store many entries all-or-nothing (a CSV import): every row is validated first.

    If any row is invalid, `ValidationError` names it (`row 7: pain`) and nothing is written;
    the caller's transaction then commits all rows or none. `on_progress(n)` is called after
    each validated and after each written row so a shell can drive a progress bar.
    """
    validated: list[tuple[int, DiaryEntry]] = []
    for i, (patient_id, data) in enumerate(items, start=1):
        try:
            validated.append(
                (patient_id, validate_diary_entry(data, today=today, evidence=evidence))
            )
        except ValidationError as exc:
            raise ValidationError(f"row {i}: {exc.field}", exc.reason) from None
        if on_progress:
            on_progress(1)
    patients = sorted({pid for pid, _ in validated})
    for pid in patients:
        get_patient(session, pid)
    current: dict[tuple[int, dt.date], DiaryEntryRow] = {}
    if validated:
        rows = session.scalars(
            select(DiaryEntryRow).where(
                DiaryEntryRow.patient_id.in_(patients), DiaryEntryRow.superseded.is_(False)
            )
        )
        current = {(r.patient_id, r.entry_date): r for r in rows}
    created = corrected = 0
    for patient_id, entry in validated:
        key = (patient_id, entry.entry_date)
        previous = current.get(key)
        if previous is not None and previous.id is None:
            session.flush()
        row = _write(session, patient_id, entry, actor, previous)
        current[key] = row
        if previous is None:
            created += 1
        else:
            corrected += 1
        if on_progress:
            on_progress(1)
    session.flush()
    for pid in patients:
        audit.record(
            session,
            actor=actor,
            action="import",
            entity="patient_diary",
            entity_id=pid,
            details={"rows": sum(1 for p, _ in validated if p == pid)},
        )
    return ImportResult(created=created, corrected=corrected, patients=tuple(patients))


def add_validated_entries(
    session: Session, items: Sequence[tuple[int, DiaryEntry, str]]
) -> list[dict[str, Any]]:
    """Store many already-validated entries with few statements (the web's group commit).

    Same meaning as calling `add_diary_entry` for each `(patient_id, entry, actor)` in order:
    a repeat patient-day becomes a correction (the previous revision is marked superseded) and
    every entry gets its audit event. Entries must come from `validate_diary_entry`; the
    patients must exist (a foreign-key error fails the whole call, so the caller can retry
    item by item). Returns each stored row as a dict, in input order.
    """
    if not items:
        return []
    keys = {(pid, e.entry_date) for pid, e, _ in items}
    # Two IN lists (each served by an index) and an exact filter here: SQLite cannot use an
    # index for a row-value IN over (patient_id, entry_date).
    rows = session.execute(
        select(
            DiaryEntryRow.id,
            DiaryEntryRow.patient_id,
            DiaryEntryRow.entry_date,
            DiaryEntryRow.revision,
        ).where(
            DiaryEntryRow.superseded.is_(False),
            DiaryEntryRow.patient_id.in_({pid for pid, _ in keys}),
            DiaryEntryRow.entry_date.in_({day for _, day in keys}),
        )
    )
    current: dict[tuple[int, dt.date], tuple[int, int]] = {
        (pid, day): (rid, rev) for rid, pid, day, rev in rows if (pid, day) in keys
    }
    now = utcnow()
    out: list[dict[str, Any] | None] = [None] * len(items)
    events: list[dict[str, Any]] = []
    pending = list(enumerate(items))
    while pending:
        # One round stores at most one entry per patient-day, so a same-day correction
        # inside the batch sees the revision stored by the previous round.
        seen: set[tuple[int, dt.date]] = set()
        this_round, later = [], []
        for pos, item in pending:
            key = (item[0], item[1].entry_date)
            (later if key in seen else this_round).append((pos, item))
            seen.add(key)
        superseded = [
            current[(p, e.entry_date)][0]
            for _, (p, e, _a) in this_round
            if (p, e.entry_date) in current
        ]
        if superseded:
            done = session.execute(
                update(DiaryEntryRow)
                .where(DiaryEntryRow.id.in_(superseded), DiaryEntryRow.superseded.is_(False))
                .values(superseded=True)
                .execution_options(synchronize_session=False)
            )
            if done.rowcount != len(superseded):
                raise ConcurrentCorrection("a diary entry in this batch changed meanwhile")
        rows = []
        for _, (patient_id, entry, actor) in this_round:
            previous = current.get((patient_id, entry.entry_date))
            rows.append(
                {
                    "patient_id": patient_id,
                    "entry_date": entry.entry_date,
                    "revision": previous[1] + 1 if previous else 1,
                    "superseded": False,
                    "supersedes_id": previous[0] if previous else None,
                    "pain": entry.pain,
                    "sleep": entry.sleep,
                    "mood": entry.mood,
                    "energy": entry.energy,
                    "clarity": entry.clarity,
                    "dose_taken": entry.dose_taken,
                    "dose_time": entry.dose_time,
                    "dose_mg": entry.dose_mg,
                    "side_effects": [r.model_dump() for r in entry.side_effects],
                    "note": entry.note,
                    "recorded_at": now,
                    "recorded_by": actor,
                }
            )
        ids = (
            session.execute(
                insert(DiaryEntryRow).returning(DiaryEntryRow.id, sort_by_parameter_order=True),
                rows,
            )
            .scalars()
            .all()
        )
        for (pos, _item), row_id, values in zip(this_round, ids, rows, strict=True):
            current[(values["patient_id"], values["entry_date"])] = (row_id, values["revision"])
            out[pos] = {"id": row_id, **values}
            events.append(
                {
                    "at": now,
                    "actor": values["recorded_by"],
                    "action": "create" if values["revision"] == 1 else "correct",
                    "entity": "diary_entry",
                    "entity_id": row_id,
                    "details": {
                        "patient_id": values["patient_id"],
                        "entry_date": values["entry_date"].isoformat(),
                        "revision": values["revision"],
                    },
                }
            )
        pending = later
    session.execute(insert(AuditEventRow), events)
    return [row for row in out if row is not None]


def current_entries(
    session: Session,
    patient_id: int,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> Sequence[DiaryEntryRow]:
    """The current revision of each day, oldest day first."""
    stmt = (
        select(DiaryEntryRow)
        .where(DiaryEntryRow.patient_id == patient_id, DiaryEntryRow.superseded.is_(False))
        .order_by(DiaryEntryRow.entry_date)
    )
    if start is not None:
        stmt = stmt.where(DiaryEntryRow.entry_date >= start)
    if end is not None:
        stmt = stmt.where(DiaryEntryRow.entry_date <= end)
    return session.scalars(stmt).all()


def diary(
    session: Session,
    patient_id: int,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> list[DiaryEntry]:
    """The patient's current diary as core models, ready for outcomes and advice."""
    return [to_diary_entry(r) for r in current_entries(session, patient_id, start=start, end=end)]


#: The same as `diary`, under a name that reads well from the package (`repo.current_diary`).
current_diary = diary


def entry_history(session: Session, patient_id: int, day: dt.date) -> Sequence[DiaryEntryRow]:
    """Every revision recorded for one patient-day, oldest first (for the correction trail)."""
    return session.scalars(
        select(DiaryEntryRow)
        .where(DiaryEntryRow.patient_id == patient_id, DiaryEntryRow.entry_date == day)
        .order_by(DiaryEntryRow.revision)
    ).all()


__all__ = [
    "ConcurrentCorrection",
    "DiaryInput",
    "ImportResult",
    "add_diary_entries",
    "add_diary_entry",
    "add_validated_entries",
    "current_diary",
    "current_entries",
    "diary",
    "entry_history",
    "to_diary_entry",
]
