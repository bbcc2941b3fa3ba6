"""Screening assessments, versioned plans and advice given: the core's results, kept as JSON.

Plans are versioned because a clinician must be able to see what the plan said on the day a
decision was made: a change saves a new version row and the old one stays untouched.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ldnkit.errors import NotFound
from ldnkit.store.models import AdviceRow, AssessmentRow, PlanRow
from ldnkit.store.repositories import audit
from ldnkit.store.repositories._common import utcnow
from ldnkit.store.repositories.people import get_patient


def save_assessment(
    session: Session,
    *,
    patient_id: int,
    assessed_on: dt.date,
    status: str,
    payload: Mapping[str, Any],
    actor: str,
) -> AssessmentRow:
    """Store a screening result (e.g. the core's `Assessment.model_dump(mode="json")`)."""
    get_patient(session, patient_id)
    row = AssessmentRow(
        patient_id=patient_id,
        assessed_on=assessed_on,
        status=status,
        payload=dict(payload),
        created_at=utcnow(),
        created_by=actor,
    )
    return audit.add_audited(
        session,
        row,
        actor=actor,
        entity="assessment",
        details={"patient_id": patient_id, "status": status},
    )


def list_assessments(session: Session, patient_id: int) -> Sequence[AssessmentRow]:
    return session.scalars(
        select(AssessmentRow)
        .where(AssessmentRow.patient_id == patient_id)
        .order_by(AssessmentRow.assessed_on, AssessmentRow.id)
    ).all()


def save_plan(
    session: Session,
    *,
    patient_id: int,
    protocol_id: str,
    start_date: dt.date,
    payload: Mapping[str, Any],
    actor: str,
) -> PlanRow:
    """Save a new plan version (1 for the first); earlier versions are never modified.

    Two clinicians saving at once race for the same version number; the unique constraint
    makes one of them fail rather than both silently winning.
    """
    get_patient(session, patient_id)
    latest = session.scalar(
        select(func.max(PlanRow.version)).where(PlanRow.patient_id == patient_id)
    )
    plan = PlanRow(
        patient_id=patient_id,
        version=(latest or 0) + 1,
        protocol_id=protocol_id,
        start_date=start_date,
        payload=dict(payload),
        created_at=utcnow(),
        created_by=actor,
    )
    return audit.add_audited(
        session,
        plan,
        actor=actor,
        entity="plan",
        action="create" if plan.version == 1 else "revise",
        details={"patient_id": patient_id, "version": plan.version},
    )


def current_plan(session: Session, patient_id: int) -> PlanRow | None:
    """The latest plan version, or None when the patient has no plan yet."""
    return session.scalars(
        select(PlanRow)
        .where(PlanRow.patient_id == patient_id)
        .order_by(PlanRow.version.desc())
        .limit(1)
    ).first()


def plan_versions(session: Session, patient_id: int) -> Sequence[PlanRow]:
    """Every version, oldest first."""
    return session.scalars(
        select(PlanRow).where(PlanRow.patient_id == patient_id).order_by(PlanRow.version)
    ).all()


def get_plan_version(session: Session, patient_id: int, version: int) -> PlanRow:
    plan = session.scalars(
        select(PlanRow).where(PlanRow.patient_id == patient_id, PlanRow.version == version)
    ).first()
    if plan is None:
        raise NotFound("plan version", f"{patient_id}/{version}")
    return plan


def save_advice(
    session: Session,
    *,
    patient_id: int,
    given_on: dt.date,
    code: str,
    payload: Mapping[str, Any],
    plan_id: int | None = None,
    actor: str,
) -> AdviceRow:
    """Record advice shown to a clinician or patient, so later review can see what was said."""
    get_patient(session, patient_id)
    row = AdviceRow(
        patient_id=patient_id,
        plan_id=plan_id,
        given_on=given_on,
        code=code,
        payload=dict(payload),
        created_at=utcnow(),
        created_by=actor,
    )
    return audit.add_audited(
        session,
        row,
        actor=actor,
        entity="advice",
        details={"patient_id": patient_id, "code": code},
    )


def list_advice(session: Session, patient_id: int) -> Sequence[AdviceRow]:
    return session.scalars(
        select(AdviceRow)
        .where(AdviceRow.patient_id == patient_id)
        .order_by(AdviceRow.given_on, AdviceRow.id)
    ).all()


__all__ = [
    "current_plan",
    "get_plan_version",
    "list_advice",
    "list_assessments",
    "plan_versions",
    "save_advice",
    "save_assessment",
    "save_plan",
]
