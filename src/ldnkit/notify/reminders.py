"""E-mail reminders to fill in the diary: opt-in, at the patient's time, no health data.

Why: a reminder is the single strongest habit-keeper for a daily diary, and the calendar file
only helps patients who import it. A cron job runs `ldnkit reminders send` every few minutes;
each run e-mails every patient who opted in, whose reminder time has come, who has not logged
today's diary and who was not reminded today yet.

What the message may say: a greeting and a link to the diary. Never a drug, a dose, a
diagnosis or a pain score: e-mail crosses servers the clinic does not control, and a
household may share an inbox.

`due_for_email` and `reminder_message` are pure; `send_reminders` is the shell (reads the
store, talks SMTP with the standard library's `smtplib`, records what it sent).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import smtplib
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from ldnkit import i18n
from ldnkit.errors import ValidationError
from ldnkit.store.models import DiaryEntryRow, PatientRow, ReminderSettingsRow
from ldnkit.store.repositories import audit

SUBJECT = "Your daily diary reminder"
_ = i18n.gettext


class SmtpSettings(BaseSettings):
    """SMTP from `LDNKIT_SMTP_*`: host, port, username, password, sender, starttls, ssl."""

    model_config = SettingsConfigDict(env_prefix="LDNKIT_SMTP_", extra="ignore")

    host: str = ""
    port: int = 25
    username: str = ""
    password: str = ""
    sender: str = "ldnkit <no-reply@localhost>"
    starttls: bool = False
    ssl: bool = False
    timeout: float = 30.0


@dataclass(frozen=True)
class Candidate:
    """What the decision needs about one patient (no clinical data)."""

    patient_id: int
    given_name: str
    email: str | None
    email_opt_in: bool
    reminder_time: dt.time
    last_sent_on: dt.date | None
    logged_today: bool
    #: The patient's chosen language for the message (None: English).
    language: str | None = None


def due_for_email(c: Candidate, today: dt.date, now: dt.time) -> bool:
    """Opted in with an address, time reached, diary not yet logged, not reminded today."""
    return (
        c.email_opt_in
        and bool(c.email)
        and c.reminder_time <= now
        and c.last_sent_on != today
        and not c.logged_today
    )


def diary_link(base_url: str, patient_id: int) -> str:
    return f"{base_url.rstrip('/')}/patients/{patient_id}/diary/new"


def reminder_message(
    *, to: str, given_name: str, link: str, sender: str, language: str | None = None
) -> EmailMessage:
    """The reminder: a greeting and the link, nothing about health or treatment.

    Written in the patient's chosen language (`ldnkit.i18n`); English when none is set, as
    a cron job has no browser to ask.
    """
    with i18n.use(language) as lang:
        msg = EmailMessage()
        msg["Subject"] = _("Your daily diary reminder")
        msg["From"] = sender
        msg["To"] = formataddr((given_name, to))
        msg["Message-ID"] = make_msgid(domain="ldnkit.invalid")
        body = (
            _("Hello %(name)s,") % {"name": given_name}
            + "\n\n"
            + _("This is your daily reminder to fill in your diary:")
            + f"\n{link}\n\n"
            + _(
                "You chose to receive these reminders; you can turn them off on your "
                "reminders page."
            )
            + "\n"
        )
        msg.set_content(body)
        msg["Content-Language"] = lang  # after set_content, which resets Content-* headers
    return msg


@dataclass
class SendReport:
    """What a run did: reminders sent, patients skipped as not due, sends that failed."""

    sent: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    not_due: int = 0


def _candidates(session: Session, today: dt.date) -> list[Candidate]:
    logged = set(
        session.scalars(
            select(DiaryEntryRow.patient_id).where(
                DiaryEntryRow.entry_date == today, DiaryEntryRow.superseded.is_(False)
            )
        )
    )
    rows = session.execute(
        select(ReminderSettingsRow, PatientRow.given_name, PatientRow.language).join(
            PatientRow, PatientRow.id == ReminderSettingsRow.patient_id
        )
    ).all()
    return [
        Candidate(
            patient_id=r.patient_id,
            given_name=name,
            email=r.email,
            email_opt_in=r.email_opt_in,
            reminder_time=r.reminder_time,
            last_sent_on=r.last_sent_on,
            logged_today=r.patient_id in logged,
            language=language,
        )
        for r, name, language in rows
    ]


def _connect(smtp: SmtpSettings) -> smtplib.SMTP:
    if not smtp.host:
        raise ValidationError("LDNKIT_SMTP_HOST", "no SMTP server configured")
    cls = smtplib.SMTP_SSL if smtp.ssl else smtplib.SMTP
    try:
        conn = cls(smtp.host, smtp.port, timeout=smtp.timeout)
        if smtp.starttls and not smtp.ssl:
            conn.starttls()
        if smtp.username:
            conn.login(smtp.username, smtp.password)
    except (OSError, smtplib.SMTPException) as exc:
        raise ValidationError(
            "LDNKIT_SMTP_HOST", f"cannot reach {smtp.host}:{smtp.port}: {exc}"
        ) from None
    return conn


def send_reminders(
    engine: Engine,
    smtp: SmtpSettings,
    *,
    base_url: str,
    today: dt.date,
    now: dt.time,
    on_progress: Callable[[int], None] | None = None,
) -> SendReport:
    """E-mail every patient due now; each send is recorded (and audited) as it happens.

    Recording after each message means a run stopped half-way resends nobody it reached,
    and a cron job run twice in a day sends each patient one reminder.
    """
    report = SendReport()
    with Session(engine) as session:
        candidates = _candidates(session, today)
    due = [c for c in candidates if due_for_email(c, today, now)]
    report.not_due = len(candidates) - len(due)
    if not due:
        return report
    conn = _connect(smtp)
    try:
        for c in due:
            msg = reminder_message(
                to=c.email or "",
                given_name=c.given_name,
                language=c.language,
                link=diary_link(base_url, c.patient_id),
                sender=smtp.sender,
            )
            try:
                conn.send_message(msg)
            except smtplib.SMTPException as exc:
                report.failed[c.patient_id] = type(exc).__name__
                continue
            with Session(engine) as session, session.begin():
                row = session.get(ReminderSettingsRow, c.patient_id)
                if row is not None:
                    row.last_sent_on = today
                audit.record(
                    session,
                    actor="cli:reminders",
                    action="reminder_email",
                    entity="patient",
                    entity_id=c.patient_id,
                )
            report.sent.append(c.patient_id)
            if on_progress:
                on_progress(1)
    finally:
        with contextlib.suppress(smtplib.SMTPException, OSError):
            conn.quit()
    return report


__all__ = [
    "SUBJECT",
    "Candidate",
    "SendReport",
    "SmtpSettings",
    "diary_link",
    "due_for_email",
    "reminder_message",
    "send_reminders",
]
