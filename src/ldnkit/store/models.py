"""Tables of the ldnkit store, as SQLAlchemy 2 typed declarative models.

These classes describe the schema; they never create it. Tables are created and changed only
by the Alembic migrations in `ldnkit.store.migrations` (`ldnkit db upgrade`), and a test checks
that the migrations and these models agree.

History is kept, not overwritten: a plan change is a new version row, a second diary entry for
the same patient-day is a new revision that marks the previous one superseded. Clinical
payloads produced by the pure core (patient profile, screening, plan, advice) are stored as JSON
so the store does not depend on the core's internals.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Text,
    Time,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

#: JSON everywhere, JSONB on PostgreSQL (indexable, compact).
JsonType = JSON().with_variant(JSONB(), "postgresql")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ROLES = ("clinician", "patient", "admin", "pharmacist")


class Base(DeclarativeBase):
    """Declarative base with a constraint naming convention, so migrations are reproducible."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JsonType}  # noqa: RUF012


def _tz_datetime() -> DateTime:
    return DateTime(timezone=True)


class ClinicianRow(Base):
    """A prescriber who owns patients."""

    __tablename__ = "clinicians"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(_tz_datetime())

    patients: Mapped[list[PatientRow]] = relationship(back_populates="clinician")


class PatientRow(Base):
    """Identity fields plus the clinical profile (the core's `Patient` as JSON)."""

    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinician_id: Mapped[int] = mapped_column(ForeignKey("clinicians.id"), index=True)
    given_name: Mapped[str] = mapped_column(String(200))
    family_name: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    mrn: Mapped[str | None] = mapped_column(String(64), unique=True)
    profile: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(_tz_datetime())
    #: The language of the patient's pages, documents and reminders ("en", "es"); None means
    #: follow the browser. Kept out of the clinical profile: screening never needs it.
    language: Mapped[str | None] = mapped_column(String(8))

    clinician: Mapped[ClinicianRow] = relationship(back_populates="patients")


class UserRow(Base):
    """A login account (for the web shell): a clinician, a patient or an administrator."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('clinician', 'patient', 'admin', 'pharmacist')", name="role"),
        CheckConstraint("role <> 'clinician' OR clinician_id IS NOT NULL", name="clinician_link"),
        CheckConstraint("role <> 'patient' OR patient_id IS NOT NULL", name="patient_link"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(150), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    clinician_id: Mapped[int | None] = mapped_column(ForeignKey("clinicians.id"), index=True)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_at: Mapped[dt.datetime] = mapped_column(_tz_datetime())


class AssessmentRow(Base):
    """A screening result for a patient on a date (the core's assessment as JSON)."""

    __tablename__ = "assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    assessed_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonType)
    created_at: Mapped[dt.datetime] = mapped_column(_tz_datetime())
    created_by: Mapped[str] = mapped_column(String(64))


class PlanRow(Base):
    """One version of a patient's titration plan; a change adds a version, never edits one."""

    __tablename__ = "plans"
    __table_args__ = (UniqueConstraint("patient_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    protocol_id: Mapped[str] = mapped_column(String(64))
    start_date: Mapped[dt.date] = mapped_column(Date)
    payload: Mapped[dict[str, Any]] = mapped_column(JsonType)
    created_at: Mapped[dt.datetime] = mapped_column(_tz_datetime())
    created_by: Mapped[str] = mapped_column(String(64))


class DiaryEntryRow(Base):
    """One revision of a patient's diary for one day.

    The current entry for a patient-day is the one not superseded; a partial unique index
    guarantees there is at most one, and `supersedes_id` links each correction to the revision
    it replaced, so the full history can be shown.
    """

    __tablename__ = "diary_entries"
    __table_args__ = (
        UniqueConstraint("patient_id", "entry_date", "revision"),
        CheckConstraint("pain BETWEEN 0 AND 10", name="pain_range"),
        CheckConstraint("sleep IS NULL OR sleep BETWEEN 0 AND 10", name="sleep_range"),
        CheckConstraint("mood IS NULL OR mood BETWEEN 0 AND 10", name="mood_range"),
        CheckConstraint("energy IS NULL OR energy BETWEEN 0 AND 10", name="energy_range"),
        CheckConstraint("clarity IS NULL OR clarity BETWEEN 0 AND 10", name="clarity_range"),
        CheckConstraint("revision >= 1", name="revision_positive"),
        Index(
            "uq_diary_entries_current",
            "patient_id",
            "entry_date",
            unique=True,
            sqlite_where=text("NOT superseded"),
            postgresql_where=text("NOT superseded"),
        ),
        UniqueConstraint("patient_id", "client_id", name="uq_diary_entries_client"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    entry_date: Mapped[dt.date] = mapped_column(Date)
    revision: Mapped[int] = mapped_column(Integer)
    superseded: Mapped[bool] = mapped_column(Boolean, server_default=false())
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("diary_entries.id"))
    pain: Mapped[int] = mapped_column(SmallInteger)
    sleep: Mapped[int | None] = mapped_column(SmallInteger)
    mood: Mapped[int | None] = mapped_column(SmallInteger)
    energy: Mapped[int | None] = mapped_column(SmallInteger)
    clarity: Mapped[int | None] = mapped_column(SmallInteger)
    dose_taken: Mapped[bool] = mapped_column(Boolean)
    dose_time: Mapped[dt.time | None] = mapped_column(Time)
    dose_mg: Mapped[Decimal | None] = mapped_column(Numeric(6, 3))
    side_effects: Mapped[list[dict[str, str]]] = mapped_column(JsonType, default=list)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[dt.datetime] = mapped_column(_tz_datetime())
    recorded_by: Mapped[str] = mapped_column(String(64))
    #: Id the patient's browser gave the entry (a UUID), so a retried offline submission is
    #: recognised and answered with the stored row instead of a second revision.
    client_id: Mapped[str | None] = mapped_column(String(36))


class InstrumentResponseRow(Base):
    """One completed patient-reported instrument (PEG-3, PGIC, a clinic's own): answers and score.

    Responses are never edited: a second completion on the same day is another row, and the
    newest counts. `client_id` makes a retried submission idempotent per patient.
    """

    __tablename__ = "instrument_responses"
    __table_args__ = (
        Index("ix_instrument_responses_patient", "patient_id", "instrument_id", "completed_on"),
        UniqueConstraint("patient_id", "client_id", name="uq_instrument_responses_client"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    instrument_id: Mapped[str] = mapped_column(String(40))
    instrument_version: Mapped[str] = mapped_column(String(20))
    completed_on: Mapped[dt.date] = mapped_column(Date)
    answers: Mapped[dict[str, Any]] = mapped_column(JsonType)
    score: Mapped[Decimal] = mapped_column(Numeric(9, 4))
    client_id: Mapped[str | None] = mapped_column(String(36))
    recorded_at: Mapped[dt.datetime] = mapped_column(_tz_datetime())
    recorded_by: Mapped[str] = mapped_column(String(64))


class ReminderSettingsRow(Base):
    """A patient's reminder choices: the time of the daily reminder, and opt-in e-mail.

    E-mail reminders are off unless the patient turns them on; the address is kept here, not
    in the clinical profile, and the message never carries health data.
    """

    __tablename__ = "reminder_settings"

    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), primary_key=True)
    reminder_time: Mapped[dt.time] = mapped_column(Time)
    email: Mapped[str | None] = mapped_column(String(320))
    email_opt_in: Mapped[bool] = mapped_column(Boolean, server_default=false())
    #: The last day an e-mail reminder went out, so a cron job run twice sends one a day.
    last_sent_on: Mapped[dt.date | None] = mapped_column(Date)
    updated_at: Mapped[dt.datetime] = mapped_column(_tz_datetime())


class AdviceRow(Base):
    """Advice the system gave for a patient on a date (the core's advice as JSON)."""

    __tablename__ = "advice"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"))
    given_on: Mapped[dt.date] = mapped_column(Date)
    code: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonType)
    created_at: Mapped[dt.datetime] = mapped_column(_tz_datetime())
    created_by: Mapped[str] = mapped_column(String(64))


class DoseOverrideRow(Base):
    """A clinician's recorded decision to allow a dose that the diary showed was intolerable.

    Advice never suggests a dose found intolerable (or above it) unless one of these exists for
    that dose, dated after the event; it is created only through an audited repository call and
    never edited (a new decision is a new row).
    """

    __tablename__ = "dose_overrides"
    __table_args__ = (CheckConstraint("dose_mg > 0", name="dose_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    dose_mg: Mapped[Decimal] = mapped_column(Numeric(6, 3))
    effective_on: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(_tz_datetime())
    created_by: Mapped[str] = mapped_column(String(64))


class AuditEventRow(Base):
    """Who did what to which record, when: ids and codes only, never names or free text."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(_tz_datetime(), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    details: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)


class Nof1TrialRow(Base):
    """A blinded N-of-1 trial of LDN for one patient: the design as the clinic sees it (packs,
    never contents), its status, and after unblinding the result.

    The randomisation list lives in `nof1_allocations`, read only through the audited
    repository functions (pharmacist, or the clinician at unblinding).
    """

    __tablename__ = "nof1_trials"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'stopped', 'completed', 'unblinded')", name="status"),
        CheckConstraint(
            "unblind_kind IS NULL OR unblind_kind IN ('final', 'emergency')", name="unblind_kind"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    design: Mapped[dict[str, Any]] = mapped_column(JsonType)
    stopped_on: Mapped[dt.date | None] = mapped_column(Date)
    stop_reason: Mapped[str | None] = mapped_column(String(64))
    unblinded_at: Mapped[dt.datetime | None] = mapped_column(_tz_datetime())
    unblinded_by: Mapped[str | None] = mapped_column(String(64))
    unblind_kind: Mapped[str | None] = mapped_column(String(16))
    unblind_reason: Mapped[str | None] = mapped_column(String(64))
    unblind_note: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    created_at: Mapped[dt.datetime] = mapped_column(_tz_datetime())
    created_by: Mapped[str] = mapped_column(String(64))

    @property
    def ref(self) -> str:
        """Pseudonymous reference printed on packs and in exports (no patient identity)."""
        return f"N1-{self.id:04d}"


class Nof1AllocationRow(Base):
    """The sealed randomisation list of one trial: seed, pack contents, order per pair."""

    __tablename__ = "nof1_allocations"

    id: Mapped[int] = mapped_column(primary_key=True)
    trial_id: Mapped[int] = mapped_column(ForeignKey("nof1_trials.id"), unique=True)
    seed: Mapped[int] = mapped_column(BigInteger)
    pack_contents: Mapped[dict[str, Any]] = mapped_column(JsonType)
    orders: Mapped[list[str]] = mapped_column(JsonType)
    created_at: Mapped[dt.datetime] = mapped_column(_tz_datetime())


class Nof1AnswerRow(Base):
    """The patient's end-of-period answers: which pack they think held LDN (blinding check)
    and how they felt overall on it (-3 much worse .. +3 much better)."""

    __tablename__ = "nof1_answers"
    __table_args__ = (
        UniqueConstraint("trial_id", "period"),
        CheckConstraint("guess IN ('ldn', 'comparator', 'unsure')", name="guess"),
        CheckConstraint(
            "impression IS NULL OR impression BETWEEN -3 AND 3", name="impression_range"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    trial_id: Mapped[int] = mapped_column(ForeignKey("nof1_trials.id"), index=True)
    period: Mapped[int] = mapped_column(Integer)
    guess: Mapped[str] = mapped_column(String(16))
    impression: Mapped[int | None] = mapped_column(SmallInteger)
    recorded_at: Mapped[dt.datetime] = mapped_column(_tz_datetime())
    recorded_by: Mapped[str] = mapped_column(String(64))


class LoginThrottleRow(Base):
    """A failed-login budget: one row per account name (hashed) and per client address.

    Why a table: the budget must be decided atomically and seen by every server process, so a
    login first claims a slot with one conditional UPDATE (`failures < limit`), and only a
    request that got a slot has its password verified. A success gives its own slot back; it
    never resets the failures of others. The window restarts once `window_start` is older than
    the lock-out period.
    """

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[dt.datetime] = mapped_column(_tz_datetime())


class CdsJtiRow(Base):
    """JWT ids (`jti`) already presented by CDS clients, kept until the token expires, so a
    replayed token is refused by whichever server process receives it."""

    __tablename__ = "cds_jti"

    issuer: Mapped[str] = mapped_column(String(255), primary_key=True)
    jti: Mapped[str] = mapped_column(String(255), primary_key=True)
    expires_at: Mapped[dt.datetime] = mapped_column(_tz_datetime(), index=True)


class CdsFeedbackRow(Base):
    """One CDS Hooks feedback item (card outcome): ids and codes only, no free text."""

    __tablename__ = "cds_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(_tz_datetime(), index=True)
    service: Mapped[str] = mapped_column(String(64))
    client: Mapped[str | None] = mapped_column(String(255))
    card: Mapped[str] = mapped_column(String(128))
    outcome: Mapped[str] = mapped_column(String(16))
    accepted: Mapped[list[str]] = mapped_column(JsonType, default=list)
    override_code: Mapped[str | None] = mapped_column(String(128))
    outcome_at: Mapped[str] = mapped_column(String(64))


__all__ = [
    "ROLES",
    "AdviceRow",
    "AssessmentRow",
    "AuditEventRow",
    "Base",
    "CdsFeedbackRow",
    "CdsJtiRow",
    "ClinicianRow",
    "DiaryEntryRow",
    "DoseOverrideRow",
    "InstrumentResponseRow",
    "LoginThrottleRow",
    "Nof1AllocationRow",
    "Nof1AnswerRow",
    "Nof1TrialRow",
    "PatientRow",
    "PlanRow",
    "ReminderSettingsRow",
    "UserRow",
]
