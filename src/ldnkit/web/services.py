"""Glue between stored rows and the pure core, shared by the API and the pages.

Each function takes an open session (read or a write job's) and returns plain values; the
routes decide how to show them. The clinical profile is stored as the core's `Patient` JSON
with the store's numeric id as the core id and no name (names live only in identity columns).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ldnkit.clinical.diary import DiaryEntry
from ldnkit.clinical.history import DosingHistory, dosing_history
from ldnkit.clinical.models import Plan, PlanOptions
from ldnkit.clinical.response import response_rules
from ldnkit.clinical.titration import plan_for_patient
from ldnkit.errors import ValidationError
from ldnkit.store import repositories as repo
from ldnkit.store.models import AssessmentRow, DiaryEntryRow, PlanRow
from ldnkit.store.profiles import core_patient, screen_and_save
from ldnkit.web.advice import AdviceView, todays_advice

#: Dates the clinic accepts for plans and screening, relative to today (keeps arithmetic sane).
DATE_WINDOW_DAYS = 3660


def check_date(field: str, value: dt.date, today: dt.date) -> dt.date:
    """Refuse dates far from today: typos such as 0202 or 9999 become a clear 422."""
    if abs((value - today).days) > DATE_WINDOW_DAYS:
        raise ValidationError(field, f"{value.isoformat()} is more than 10 years from today")
    return value


def latest_assessment(session: Session, patient_id: int) -> AssessmentRow | None:
    return session.scalars(
        select(AssessmentRow)
        .where(AssessmentRow.patient_id == patient_id)
        .order_by(AssessmentRow.id.desc())
        .limit(1)
    ).first()


def plan_of(row: PlanRow | None) -> Plan | None:
    return Plan.model_validate(row.payload) if row is not None else None


def make_plan(
    patient_id: int,
    profile: dict[str, Any],
    protocol_id: str,
    start: dt.date,
    options: PlanOptions,
) -> Plan:
    """The plan the core builds for this patient (screens first; refuses unsafe starts)."""
    return plan_for_patient(core_patient(patient_id, profile), protocol_id, start, options)


@dataclass(frozen=True)
class PatientStatus:
    """One row of the clinician's patient list."""

    screening: str | None
    screened_on: dt.date | None
    current_dose_mg: Decimal | None
    plan_version: int | None
    responder: str | None
    last_entry: dt.date | None
    days_since_entry: int | None


def patient_status(
    session: Session,
    patient_id: int,
    today: dt.date,
    *,
    plan_row: PlanRow | None = None,
    diary: list[DiaryEntry] | None = None,
    advice: AdviceView | None = None,
    assessment: AssessmentRow | None = None,
) -> PatientStatus:
    """The list row's figures; pass what the caller already loaded to avoid loading it twice."""
    if assessment is None:
        assessment = latest_assessment(session, patient_id)
    if plan_row is None:
        plan_row = repo.current_plan(session, patient_id)
    plan = plan_of(plan_row)
    if diary is None:
        last_entry = session.scalar(
            select(func.max(DiaryEntryRow.entry_date)).where(
                DiaryEntryRow.patient_id == patient_id, DiaryEntryRow.superseded.is_(False)
            )
        )
    else:
        last_entry = max((e.entry_date for e in diary), default=None)
    if advice is None and plan is not None:
        advice = advice_for(session, patient_id, today, diary=diary)
    return PatientStatus(
        screening=assessment.status if assessment else None,
        screened_on=assessment.assessed_on if assessment else None,
        current_dose_mg=plan.dose_on(today) if plan else None,
        plan_version=plan_row.version if plan_row else None,
        responder=advice.responder if advice and advice.available else None,
        last_entry=last_entry,
        days_since_entry=(today - last_entry).days if last_entry else None,
    )


def diary_entries(session: Session, patient_id: int) -> list[DiaryEntry]:
    return repo.diary.diary(session, patient_id)


def plan_history(session: Session, patient_id: int) -> list[Plan]:
    """Every saved plan version as core plans, oldest first (the advice's plan history)."""
    return [Plan.model_validate(r.payload) for r in repo.plan_versions(session, patient_id)]


def advice_for(
    session: Session,
    patient_id: int,
    today: dt.date,
    *,
    diary: list[DiaryEntry] | None = None,
) -> AdviceView:
    """Today's advice over the whole record: diary, every plan version, the overrides."""
    versions = plan_history(session, patient_id)
    return todays_advice(
        versions[-1] if versions else None,
        diary if diary is not None else diary_entries(session, patient_id),
        today,
        versions=versions,
        overrides=repo.core_overrides(session, patient_id),
    )


def dosing_history_for(session: Session, patient_id: int, today: dt.date) -> DosingHistory | None:
    """The patient's dosing history (doses taken, tolerated, intolerable), or None without a plan."""
    versions = plan_history(session, patient_id)
    if not versions:
        return None
    return dosing_history(
        plans=versions,
        entries=diary_entries(session, patient_id),
        today=today,
        rules=response_rules(),
        overrides=repo.core_overrides(session, patient_id),
    )


def diary_row_dict(row: DiaryEntryRow) -> dict[str, Any]:
    """A stored diary revision as the API returns it."""
    return {
        "id": row.id,
        "entry_date": row.entry_date,
        "revision": row.revision,
        "superseded": row.superseded,
        "pain": row.pain,
        "sleep": row.sleep,
        "mood": row.mood,
        "energy": row.energy,
        "clarity": row.clarity,
        "dose_taken": row.dose_taken,
        "dose_time": row.dose_time,
        "dose_mg": row.dose_mg,
        "side_effects": list(row.side_effects or []),
        "note": row.note,
        "recorded_at": row.recorded_at,
    }


__all__ = [
    "DATE_WINDOW_DAYS",
    "PatientStatus",
    "advice_for",
    "check_date",
    "core_patient",
    "diary_entries",
    "diary_row_dict",
    "dosing_history_for",
    "latest_assessment",
    "make_plan",
    "patient_status",
    "plan_history",
    "plan_of",
    "screen_and_save",
]
