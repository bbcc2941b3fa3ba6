"""Completed patient-reported instruments: validated and scored on the way in, audited.

Answers are validated and scored by the pure core (`ldnkit.clinical.instruments.score`) before
any row is written, so a missing or out-of-range answer leaves the store unchanged. A
submission carrying a `client_id` already stored for the patient returns the stored row and
writes nothing (a browser retrying after a lost connection must not count twice).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ldnkit.clinical.instruments import Instrument, score
from ldnkit.errors import ValidationError
from ldnkit.store.models import InstrumentResponseRow
from ldnkit.store.repositories import audit
from ldnkit.store.repositories._common import utcnow
from ldnkit.store.repositories.people import get_patient


@dataclass(frozen=True)
class Stored:
    """The stored row and whether this call created it (False: an idempotent repeat)."""

    row: InstrumentResponseRow
    created: bool


def by_client_id(session: Session, patient_id: int, client_id: str) -> InstrumentResponseRow | None:
    return session.scalars(
        select(InstrumentResponseRow).where(
            InstrumentResponseRow.patient_id == patient_id,
            InstrumentResponseRow.client_id == client_id,
        )
    ).first()


def add_response(
    session: Session,
    patient_id: int,
    instrument: Instrument,
    answers: Mapping[str, Any],
    *,
    completed_on: dt.date,
    today: dt.date,
    actor: str,
    client_id: str | None = None,
) -> Stored:
    """Score and store one completed instrument (the caller owns the transaction)."""
    if completed_on > today:
        raise ValidationError("completed_on", "cannot be in the future")
    scored = score(instrument, answers)
    get_patient(session, patient_id)
    if client_id is not None:
        existing = by_client_id(session, patient_id, client_id)
        if existing is not None:
            return Stored(existing, created=False)
    row = InstrumentResponseRow(
        patient_id=patient_id,
        instrument_id=instrument.id,
        instrument_version=instrument.version,
        completed_on=completed_on,
        answers={k: str(v) for k, v in scored.answers.items()},
        score=scored.score,
        client_id=client_id,
        recorded_at=utcnow(),
        recorded_by=actor,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        entity="instrument_response",
        entity_id=row.id,
        details={"patient_id": patient_id, "instrument": instrument.id},
    )
    return Stored(row, created=True)


def list_responses(
    session: Session,
    patient_id: int,
    *,
    instrument_id: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> Sequence[InstrumentResponseRow]:
    """A patient's responses, oldest first (by completion date, then by when recorded)."""
    stmt = select(InstrumentResponseRow).where(InstrumentResponseRow.patient_id == patient_id)
    if instrument_id is not None:
        stmt = stmt.where(InstrumentResponseRow.instrument_id == instrument_id)
    if start is not None:
        stmt = stmt.where(InstrumentResponseRow.completed_on >= start)
    if end is not None:
        stmt = stmt.where(InstrumentResponseRow.completed_on <= end)
    stmt = stmt.order_by(InstrumentResponseRow.completed_on, InstrumentResponseRow.id)
    return session.scalars(stmt).all()


def plain_decimal(value: Decimal) -> Decimal:
    """Trailing zeros dropped without switching to exponent form (5.0000 -> 5, not 5E+0)."""
    norm = value.normalize()
    return norm.quantize(Decimal(1)) if norm.as_tuple().exponent > 0 else norm  # type: ignore[operator]


def response_dict(row: InstrumentResponseRow) -> dict[str, Any]:
    """A stored response as plain data for the API and the FHIR export."""
    return {
        "id": row.id,
        "patient_id": row.patient_id,
        "instrument_id": row.instrument_id,
        "instrument_version": row.instrument_version,
        "completed_on": row.completed_on,
        "answers": {k: Decimal(v) for k, v in (row.answers or {}).items()},
        "score": plain_decimal(Decimal(row.score)),
        "client_id": row.client_id,
        "recorded_at": row.recorded_at,
    }


__all__ = [
    "Stored",
    "add_response",
    "by_client_id",
    "list_responses",
    "plain_decimal",
    "response_dict",
]
