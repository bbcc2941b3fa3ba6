"""Clinicians and patients: who prescribes, who is treated.

The patient's clinical profile is the core's `Patient` model dumped to JSON by the shell
(`model_dump(mode="json")`), stored as-is: the store keeps it, it does not interpret it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ldnkit.errors import ValidationError
from ldnkit.store.models import ClinicianRow, PatientRow
from ldnkit.store.repositories import audit
from ldnkit.store.repositories._common import get_or_404, utcnow


def _required(field: str, value: str) -> str:
    value = value.strip()
    if not value:
        raise ValidationError(field, "required")
    return value


def create_clinician(
    session: Session, *, name: str, email: str | None = None, actor: str
) -> ClinicianRow:
    """Register a prescriber; the audit entry records the id only."""
    clinician = ClinicianRow(name=_required("name", name), email=email, created_at=utcnow())
    return audit.add_audited(session, clinician, actor=actor, entity="clinician")


def get_clinician(session: Session, clinician_id: int) -> ClinicianRow:
    return get_or_404(session, ClinicianRow, clinician_id, "clinician")


def list_clinicians(session: Session) -> Sequence[ClinicianRow]:
    return session.scalars(select(ClinicianRow).order_by(ClinicianRow.id)).all()


def create_patient(
    session: Session,
    *,
    clinician_id: int,
    given_name: str,
    family_name: str,
    birth_date: dt.date | None = None,
    mrn: str | None = None,
    profile: Mapping[str, Any] | None = None,
    actor: str,
) -> PatientRow:
    """Register a patient under a clinician (who must exist)."""
    get_clinician(session, clinician_id)
    patient = PatientRow(
        clinician_id=clinician_id,
        given_name=_required("given_name", given_name),
        family_name=_required("family_name", family_name),
        birth_date=birth_date,
        mrn=mrn or None,
        profile=dict(profile or {}),
        created_at=utcnow(),
    )
    return audit.add_audited(
        session, patient, actor=actor, entity="patient", details={"clinician_id": clinician_id}
    )


def get_patient(session: Session, patient_id: int) -> PatientRow:
    return get_or_404(session, PatientRow, patient_id, "patient")


def list_patients(session: Session, *, clinician_id: int | None = None) -> Sequence[PatientRow]:
    """All patients, or one clinician's: the web layer's per-role filter starts here."""
    stmt = select(PatientRow).order_by(PatientRow.id)
    if clinician_id is not None:
        stmt = stmt.where(PatientRow.clinician_id == clinician_id)
    return session.scalars(stmt).all()


def update_patient_profile(
    session: Session, patient_id: int, profile: Mapping[str, Any], *, actor: str
) -> PatientRow:
    """Replace the clinical profile (the audit log says it changed, not what it says)."""
    patient = get_patient(session, patient_id)
    patient.profile = dict(profile)
    session.flush()
    audit.record(
        session, actor=actor, action="update_profile", entity="patient", entity_id=patient_id
    )
    return patient


def set_patient_language(
    session: Session, patient_id: int, language: str | None, *, actor: str
) -> PatientRow:
    """Set the language of the patient's pages and reminders (None: follow the browser).

    The caller passes a supported code ("en", "es"); the audit log records the choice.
    """
    patient = get_patient(session, patient_id)
    patient.language = language
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="set_language",
        entity="patient",
        entity_id=patient_id,
        details={"language": language or "browser"},
    )
    return patient


__all__ = [
    "create_clinician",
    "create_patient",
    "get_clinician",
    "get_patient",
    "list_clinicians",
    "list_patients",
    "set_patient_language",
    "update_patient_profile",
]
