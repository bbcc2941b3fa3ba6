"""N-of-1 trials in the store: create with the sealed list, answers, stop, unblind, result.

The randomisation list is read only through `read_allocation`, which writes an audit event
naming who read it and why (pharmacy, final unblinding, emergency unblinding) in the caller's
transaction; who may call it is the shell's access rule (web/deps.py, the CLI). Emergency
unblinding needs a reason code; the free-text note goes to the trial row, never to the log.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ldnkit.errors import NotFound, ValidationError
from ldnkit.research.nof1 import Allocation, Nof1Design
from ldnkit.store.models import Nof1AllocationRow, Nof1AnswerRow, Nof1TrialRow, PatientRow
from ldnkit.store.repositories import audit
from ldnkit.store.repositories._common import utcnow

__all__ = [
    "EMERGENCY_REASONS",
    "STOP_REASONS",
    "allocation_of",
    "answers",
    "create_trial",
    "design_of",
    "get_trial",
    "list_trials",
    "read_allocation",
    "save_answer",
    "save_result",
    "set_status",
    "trials_for_patient",
    "unblind",
]

Purpose = Literal["pharmacy", "final", "emergency"]
EMERGENCY_REASONS = (
    "serious_adverse_event",
    "suspected_overdose",
    "emergency_surgery",
    "opioid_needed",
    "pregnancy",
    "other",
)
STOP_REASONS = ("intolerable_side_effects", "patient_request", "severe_worsening", "other")
ENTITY = "nof1_trial"


def create_trial(
    session: Session, patient_id: int, design: Nof1Design, allocation: Allocation, actor: str
) -> Nof1TrialRow:
    """Store the blinded design and its sealed list together (one transaction)."""
    if session.get(PatientRow, patient_id) is None:
        raise NotFound("patient", str(patient_id))
    if design.settings.seed is not None:
        raise ValidationError("design.settings.seed", "the stored design must not carry the seed")
    open_ = [t for t in trials_for_patient(session, patient_id) if t.status == "active"]
    if open_:
        raise ValidationError("patient", f"trial {open_[0].ref} is still running for this patient")
    now = utcnow()
    row = Nof1TrialRow(
        patient_id=patient_id,
        status="active",
        start_date=design.settings.start,
        end_date=design.end,
        design=design.to_dict(),
        created_at=now,
        created_by=actor,
    )
    audit.add_audited(
        session,
        row,
        actor=actor,
        entity=ENTITY,
        details={"patient_id": patient_id, "pairs": design.settings.pairs},
    )
    session.add(
        Nof1AllocationRow(
            trial_id=row.id,
            seed=allocation.seed,
            pack_contents=dict(allocation.pack_contents),
            orders=list(allocation.orders),
            created_at=now,
        )
    )
    session.flush()
    return row


def get_trial(session: Session, trial_id: int) -> Nof1TrialRow:
    row = session.get(Nof1TrialRow, trial_id)
    if row is None:
        raise NotFound("N-of-1 trial", str(trial_id))
    return row


def trials_for_patient(session: Session, patient_id: int) -> Sequence[Nof1TrialRow]:
    """Newest first."""
    return session.scalars(
        select(Nof1TrialRow)
        .where(Nof1TrialRow.patient_id == patient_id)
        .order_by(Nof1TrialRow.id.desc())
    ).all()


def list_trials(
    session: Session, clinician_id: int | None = None, status: str | None = None
) -> Sequence[Nof1TrialRow]:
    """All trials (pharmacist) or one clinician's patients' trials, oldest first."""
    stmt = select(Nof1TrialRow).order_by(Nof1TrialRow.id)
    if clinician_id is not None:
        stmt = stmt.join(PatientRow, PatientRow.id == Nof1TrialRow.patient_id).where(
            PatientRow.clinician_id == clinician_id
        )
    if status is not None:
        stmt = stmt.where(Nof1TrialRow.status == status)
    return session.scalars(stmt).all()


def design_of(row: Nof1TrialRow) -> Nof1Design:
    return Nof1Design.model_validate(row.design)


def allocation_of(row: Nof1AllocationRow) -> Allocation:
    return Allocation(
        seed=row.seed, pack_contents=dict(row.pack_contents), orders=tuple(row.orders)
    )


def read_allocation(session: Session, trial_id: int, *, actor: str, purpose: Purpose) -> Allocation:
    """The sealed list, with an audit event for every read.

    'final' requires the trial to be unblinded already (see `unblind`); 'emergency' likewise
    (an emergency unblinding is recorded first, with its reason).
    """
    trial = get_trial(session, trial_id)
    if purpose not in ("pharmacy", "final", "emergency"):
        raise ValidationError("purpose", "must be pharmacy, final or emergency")
    if purpose != "pharmacy" and trial.unblinded_at is None:
        raise ValidationError("trial", f"trial {trial.ref} has not been unblinded")
    row = session.scalar(select(Nof1AllocationRow).where(Nof1AllocationRow.trial_id == trial_id))
    if row is None:
        raise NotFound("randomisation list of trial", str(trial_id))
    audit.record(
        session,
        actor=actor,
        action="read_allocation",
        entity=ENTITY,
        entity_id=trial_id,
        details={"purpose": purpose},
    )
    return allocation_of(row)


def unblind(
    session: Session,
    trial_id: int,
    *,
    actor: str,
    kind: Literal["final", "emergency"],
    today: dt.date,
    reason: str | None = None,
    note: str | None = None,
) -> Nof1TrialRow:
    """Open the list to the clinician: after the last period, or in an emergency with a reason."""
    trial = get_trial(session, trial_id)
    if trial.unblinded_at is not None:
        return trial
    if kind == "final":
        if trial.status == "active" and today <= trial.end_date:
            raise ValidationError(
                "trial", f"trial {trial.ref} runs until {trial.end_date}; use emergency unblinding"
            )
        reason = reason or "trial_complete"
    elif kind == "emergency":
        if reason not in EMERGENCY_REASONS:
            raise ValidationError("reason", f"choose one of {', '.join(EMERGENCY_REASONS)}")
    else:
        raise ValidationError("kind", "must be final or emergency")
    if note is not None and len(note) > 2000:
        raise ValidationError("note", "at most 2000 characters")
    trial.unblinded_at = utcnow()
    trial.unblinded_by = actor
    trial.unblind_kind = kind
    trial.unblind_reason = reason
    trial.unblind_note = note
    if kind == "final":
        trial.status = "unblinded"
    elif trial.status == "active":
        trial.status, trial.stopped_on, trial.stop_reason = "stopped", today, "emergency_unblinding"
    audit.record(
        session,
        actor=actor,
        action=f"unblind_{kind}",
        entity=ENTITY,
        entity_id=trial_id,
        details={"reason": reason},
    )
    return trial


def set_status(
    session: Session,
    trial_id: int,
    *,
    actor: str,
    status: Literal["stopped", "completed"],
    on: dt.date,
    reason: str | None = None,
) -> Nof1TrialRow:
    """Stop early (with a coded reason) or mark the trial completed."""
    trial = get_trial(session, trial_id)
    if trial.status != "active":
        raise ValidationError("trial", f"trial {trial.ref} is {trial.status}, not active")
    if status == "stopped":
        if reason not in STOP_REASONS:
            raise ValidationError("reason", f"choose one of {', '.join(STOP_REASONS)}")
        trial.stopped_on, trial.stop_reason = on, reason
    elif status != "completed":
        raise ValidationError("status", "must be stopped or completed")
    trial.status = status
    audit.record(
        session,
        actor=actor,
        action=status,
        entity=ENTITY,
        entity_id=trial_id,
        details={"reason": reason},
    )
    return trial


def save_answer(
    session: Session,
    trial_id: int,
    period: int,
    guess: str,
    impression: int | None,
    actor: str,
) -> Nof1AnswerRow:
    """The end-of-period answers; one per period (a second answer replaces the first)."""
    trial = get_trial(session, trial_id)
    design = design_of(trial)
    if not 1 <= period <= len(design.periods):
        raise ValidationError("period", f"must be 1 to {len(design.periods)}")
    if guess not in ("ldn", "comparator", "unsure"):
        raise ValidationError("guess", "must be ldn, comparator or unsure")
    if impression is not None and not -3 <= impression <= 3:
        raise ValidationError("impression", "must be -3 to 3")
    row = session.scalar(
        select(Nof1AnswerRow).where(
            Nof1AnswerRow.trial_id == trial_id, Nof1AnswerRow.period == period
        )
    )
    if row is None:
        row = Nof1AnswerRow(
            trial_id=trial_id,
            period=period,
            guess=guess,
            impression=impression,
            recorded_at=utcnow(),
            recorded_by=actor,
        )
        return audit.add_audited(
            session, row, actor=actor, entity="nof1_answer", details={"trial_id": trial_id}
        )
    row.guess, row.impression, row.recorded_at, row.recorded_by = (
        guess,
        impression,
        utcnow(),
        actor,
    )
    audit.record(
        session,
        actor=actor,
        action="update",
        entity="nof1_answer",
        entity_id=row.id,
        details={"trial_id": trial_id},
    )
    return row


def answers(session: Session, trial_id: int) -> Sequence[Nof1AnswerRow]:
    return session.scalars(
        select(Nof1AnswerRow)
        .where(Nof1AnswerRow.trial_id == trial_id)
        .order_by(Nof1AnswerRow.period)
    ).all()


def save_result(
    session: Session, trial_id: int, payload: dict[str, Any], actor: str
) -> Nof1TrialRow:
    """Keep the analysis and report of an unblinded trial (recomputable; kept for the record)."""
    trial = get_trial(session, trial_id)
    if trial.unblinded_at is None:
        raise ValidationError("trial", f"trial {trial.ref} has not been unblinded")
    trial.result = payload
    audit.record(session, actor=actor, action="analyse", entity=ENTITY, entity_id=trial_id)
    return trial
