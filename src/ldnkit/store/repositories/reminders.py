"""A patient's reminder settings: read with defaults, saved with validation and audit."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.orm import Session

from ldnkit.errors import ValidationError
from ldnkit.store.models import ReminderSettingsRow
from ldnkit.store.repositories import audit
from ldnkit.store.repositories._common import utcnow
from ldnkit.store.repositories.people import get_patient

#: The reminder time until the patient picks one (a bedtime dose).
DEFAULT_TIME = dt.time(21, 30)


@dataclass(frozen=True)
class Reminders:
    """The settings as the web pages and the calendar use them (defaults filled in)."""

    reminder_time: dt.time
    email: str | None
    email_opt_in: bool
    chosen: bool


def get_reminders(session: Session, patient_id: int) -> Reminders:
    row = session.get(ReminderSettingsRow, patient_id)
    if row is None:
        return Reminders(DEFAULT_TIME, None, False, chosen=False)
    return Reminders(row.reminder_time, row.email, row.email_opt_in, chosen=True)


def save_reminders(
    session: Session,
    patient_id: int,
    *,
    reminder_time: dt.time,
    email: str | None,
    email_opt_in: bool,
    actor: str,
) -> Reminders:
    """Validate (an address is needed to opt in, and must be a real address) and store."""
    address = (email or "").strip() or None
    if address is not None:
        try:
            address = validate_email(address, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise ValidationError("email", str(exc)) from None
    if email_opt_in and address is None:
        raise ValidationError("email", "an e-mail address is needed for e-mail reminders")
    get_patient(session, patient_id)
    row = session.get(ReminderSettingsRow, patient_id)
    if row is None:
        row = ReminderSettingsRow(patient_id=patient_id)
        session.add(row)
    row.reminder_time = reminder_time.replace(second=0, microsecond=0, tzinfo=None)
    row.email = address
    row.email_opt_in = email_opt_in
    row.updated_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="update",
        entity="reminder_settings",
        entity_id=patient_id,
        details={"email_opt_in": email_opt_in},
    )
    return Reminders(row.reminder_time, row.email, row.email_opt_in, chosen=True)


__all__ = ["DEFAULT_TIME", "Reminders", "get_reminders", "save_reminders"]
