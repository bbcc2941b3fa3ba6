"""Dose overrides: the clinician's recorded, audited decision to allow an intolerable dose.

The pure core (`ldnkit.clinical.history`) reads them as `DoseOverride` values; this module is
the only way one is stored, and every one is written with its audit event in the caller's
transaction. The audit details hold the dose in micrograms and the reason code, never the note.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ldnkit.clinical.history import OVERRIDE_REASONS
from ldnkit.clinical.history import DoseOverride as CoreOverride
from ldnkit.errors import ValidationError
from ldnkit.inputs import parse_model
from ldnkit.store.models import DoseOverrideRow
from ldnkit.store.repositories import audit
from ldnkit.store.repositories._common import utcnow
from ldnkit.store.repositories.people import get_patient


def add_dose_override(
    session: Session,
    *,
    patient_id: int,
    dose_mg: Decimal,
    effective_on: dt.date,
    reason: str,
    note: str | None = None,
    actor: str,
) -> DoseOverrideRow:
    """Record an override (validated through the core model) with its audit event."""
    get_patient(session, patient_id)
    if reason not in OVERRIDE_REASONS:
        raise ValidationError("reason", f"must be one of {', '.join(OVERRIDE_REASONS)}")
    core = parse_model(
        CoreOverride, {"dose_mg": dose_mg, "effective_on": effective_on, "reason": reason}
    )
    row = DoseOverrideRow(
        patient_id=patient_id,
        dose_mg=core.dose_mg,
        effective_on=core.effective_on,
        reason=core.reason,
        note=note,
        created_at=utcnow(),
        created_by=actor,
    )
    return audit.add_audited(
        session,
        row,
        actor=actor,
        entity="dose_override",
        details={
            "patient_id": patient_id,
            "dose_ug": int(core.dose_mg * 1000),
            "reason": core.reason,
        },
    )


def list_dose_overrides(session: Session, patient_id: int) -> Sequence[DoseOverrideRow]:
    """Every override for a patient, oldest first."""
    return session.scalars(
        select(DoseOverrideRow)
        .where(DoseOverrideRow.patient_id == patient_id)
        .order_by(DoseOverrideRow.effective_on, DoseOverrideRow.id)
    ).all()


def core_overrides(session: Session, patient_id: int) -> list[CoreOverride]:
    """The patient's overrides as the pure core reads them."""
    return [
        CoreOverride(dose_mg=r.dose_mg, effective_on=r.effective_on, reason=r.reason)  # type: ignore[arg-type]
        for r in list_dose_overrides(session, patient_id)
    ]


__all__ = ["add_dose_override", "core_overrides", "list_dose_overrides"]
