"""A titration plan as an iCalendar file (RFC 5545) that reminds the patient every day.

What the file holds:
- one daily event per dosing step (`RRULE:FREQ=DAILY;UNTIL=...`), at the patient's reminder
  time, with a `VALARM` at that time: "take LDN 1.5 mg and fill in your diary". The time is
  floating (no time zone), so the phone rings at 21:30 wherever the patient is;
- one all-day event per dose change and per visit, so the calendar shows when things change;
- every component carries the properties RFC 5545 requires (`VCALENDAR`: PRODID, VERSION;
  `VEVENT`: UID, DTSTAMP, DTSTART; `VALARM`: ACTION, TRIGGER, DESCRIPTION).

Pure: `stamp` (the DTSTAMP, when the file was made) is an input. Without one the stamp is the
plan's start at 00:00 UTC, so the same plan always gives the same bytes (the FHIR export
embeds this file and promises byte-identical exports).
"""

from __future__ import annotations

import datetime as dt
from datetime import timedelta

from icalendar import Alarm, Calendar, Event

from ldnkit import i18n
from ldnkit.clinical.models import Plan, PlanStep, fmt_mg

_ = i18n.gettext


def _mg(dose: object) -> str:
    """The dose as the patient's language writes it (English: exactly `fmt_mg`, so an
    English file stays byte-identical to earlier exports)."""
    if i18n.current() == i18n.DEFAULT:
        return fmt_mg(dose)  # type: ignore[arg-type]
    return i18n.format_mg(dose)  # type: ignore[arg-type]


#: Reminder time when the patient has not chosen one, by the step's dose timing.
DEFAULT_REMINDER = {"bedtime": dt.time(21, 30), "morning": dt.time(8, 0)}


def _reminder_at(step: PlanStep, reminder: dt.time | None) -> dt.time:
    return reminder or DEFAULT_REMINDER.get(step.timing, dt.time(21, 30))


def _daily_event(
    step: PlanStep, uid: str, stamp: dt.datetime, at: dt.time, diary_url: str | None
) -> Event:
    ev = Event()
    start = dt.datetime.combine(step.start, at)
    ev.add("uid", uid)
    ev.add("dtstamp", stamp)
    ev.add("dtstart", start)
    ev.add("duration", timedelta(minutes=10))
    ev.add("rrule", {"freq": "daily", "until": dt.datetime.combine(step.end, at)})
    summary = _("Take LDN %(dose)s mg and fill in your diary") % {"dose": _mg(step.dose_mg)}
    ev.add("summary", summary)
    description = f"{step.note}. " + _("Dose %(dose)s mg at %(time)s.") % {
        "dose": _mg(step.dose_mg),
        "time": _(step.timing),
    }
    if diary_url:
        description += " " + _("Diary: %(url)s") % {"url": diary_url}
        ev.add("url", diary_url)
    ev.add("description", description)
    ev.add("categories", ["LDN", "dose", "diary"])
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("trigger", timedelta(0))
    alarm.add("description", summary)
    ev.add_component(alarm)
    return ev


def plan_to_ics(
    plan: Plan,
    domain: str = "ldnkit.invalid",
    *,
    stamp: dt.datetime | None = None,
    reminder: dt.time | None = None,
    diary_url: str | None = None,
) -> bytes:
    """Serialise the plan: daily reminder events with alarms, dose changes and visits.

    `reminder` is the patient's chosen time (default 21:30 for bedtime doses, 08:00 for
    morning doses); `diary_url` is linked from each reminder.
    """
    stamp = stamp or dt.datetime.combine(plan.start, dt.time(0), tzinfo=dt.UTC)
    if stamp.tzinfo is None:
        raise ValueError("stamp must be timezone-aware (DTSTAMP is a UTC time)")
    stamp = stamp.astimezone(dt.UTC)
    cal = Calendar()
    cal.add("prodid", "-//ldnkit//LDN titration plan//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"LDN plan ({plan.protocol_name})")
    owner = plan.patient_id or "plan"
    prefix = f"{owner}-{plan.protocol_id}-{plan.start}"
    for step in plan.steps:
        if step.dose_mg > 0:
            cal.add_component(
                _daily_event(
                    step,
                    f"{prefix}-daily{step.index}@{domain}",
                    stamp,
                    _reminder_at(step, reminder),
                    diary_url,
                )
            )
    for step in plan.steps:
        ev = Event()
        if step.dose_mg > 0:
            summary = _("LDN %(dose)s mg at %(time)s from tonight") % {
                "dose": _mg(step.dose_mg),
                "time": _(step.timing),
            }
        else:
            summary = _("HOLD LDN (no doses)")
        ev.add("uid", f"{prefix}-step{step.index}@{domain}")
        ev.add("dtstamp", stamp)
        ev.add("summary", summary)
        ev.add("dtstart", step.start)
        ev.add("dtend", step.start + timedelta(days=1))
        ev.add("description", f"{step.note}. Until {step.end}. Sources: {', '.join(step.sources)}")
        ev.add("categories", ["LDN", "dose"])
        ev.add("transp", "TRANSPARENT")
        cal.add_component(ev)
    for i, visit in enumerate(plan.visits):
        ev = Event()
        ev.add("uid", f"{prefix}-visit{i}@{domain}")
        ev.add("dtstamp", stamp)
        ev.add("summary", "LDN " + _(visit.kind.replace("_", " ")))
        ev.add("dtstart", visit.date)
        ev.add("dtend", visit.date + timedelta(days=1))
        ev.add(
            "description",
            f"{visit.note}. Window {visit.window_start} to {visit.window_end}. "
            f"Sources: {', '.join(visit.sources)}",
        )
        ev.add("categories", ["LDN", "visit"])
        ev.add("transp", "TRANSPARENT")
        cal.add_component(ev)
    return cal.to_ical()


__all__ = ["DEFAULT_REMINDER", "plan_to_ics"]
