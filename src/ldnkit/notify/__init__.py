"""Reminders to patients: who is due, the message (no health data), sending through SMTP."""

from ldnkit.notify.reminders import (
    Candidate,
    SendReport,
    SmtpSettings,
    due_for_email,
    reminder_message,
    send_reminders,
)

__all__ = [
    "Candidate",
    "SendReport",
    "SmtpSettings",
    "due_for_email",
    "reminder_message",
    "send_reminders",
]
