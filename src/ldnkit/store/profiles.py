"""The store's side of the clinical core: a stored profile as the core's `Patient`, and the
screening and plan results kept as records.

The profile is JSON written by earlier input, so it is validated again on the way out. Identity
(name) is left out: screening and advice do not need it, so it never travels into them. The web
app, the CLI and the demo seed all save screenings and plans through these two functions, so
what is stored (status, payload, audit) is the same whichever door it came in by.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from ldnkit.clinical.models import Assessment, Patient, Plan
from ldnkit.clinical.screening import screen
from ldnkit.inputs import parse_model
from ldnkit.store import repositories as repo
from ldnkit.store.models import PlanRow


def clinical_profile(row: Any) -> dict[str, Any]:
    """A stored patient's profile with the birth date from its identity column.

    The birth date lives in a column (it is identity), but screening needs the age: every
    screening or plan of a stored patient starts from this, never from `row.profile` alone,
    so a child is never screened as an adult of unknown age.
    """
    profile = dict(row.profile or {})
    if row.birth_date is not None:
        profile["birth_date"] = row.birth_date.isoformat()
    return profile


def core_patient(patient_id: int, profile: dict[str, Any] | None) -> Patient:
    """The core patient for a stored profile; the store id is authoritative."""
    data = {k: v for k, v in (profile or {}).items() if k not in ("id", "name")}
    return parse_model(Patient, {**data, "id": str(patient_id)}, prefix="profile")


def screen_and_save(
    session: Session, patient_id: int, profile: dict[str, Any] | None, on: dt.date, actor: str
) -> tuple[int, Assessment]:
    """Screen the stored profile on a date and keep the result; (row id, assessment)."""
    assessment = screen(core_patient(patient_id, profile), on)
    row = repo.save_assessment(
        session,
        patient_id=patient_id,
        assessed_on=on,
        status=assessment.status,
        payload=assessment.model_dump(mode="json"),
        actor=actor,
    )
    return row.id, assessment


def save_plan_version(session: Session, patient_id: int, plan: Plan, actor: str) -> PlanRow:
    """Keep a core plan as the patient's next plan version."""
    return repo.save_plan(
        session,
        patient_id=patient_id,
        protocol_id=plan.protocol_id,
        start_date=plan.start,
        payload=plan.model_dump(mode="json"),
        actor=actor,
    )


__all__ = ["clinical_profile", "core_patient", "save_plan_version", "screen_and_save"]
