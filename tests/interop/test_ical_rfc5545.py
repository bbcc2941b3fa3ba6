"""The plan's calendar file against RFC 5545: parsed strictly by two independent libraries
(vobject validates required properties per component; icalendar reports any property it could
not parse), required properties checked explicitly, and the daily reminders expanded by
recurring-ical-events to the exact dose days of the plan."""

from __future__ import annotations

import datetime as dt

import icalendar
import pytest
import recurring_ical_events
import vobject

from ldnkit.clinical.models import Patient
from ldnkit.clinical.titration import plan_for_patient
from ldnkit.interop.ical import DEFAULT_REMINDER, plan_to_ics

STAMP = dt.datetime(2026, 12, 1, 9, 15, tzinfo=dt.UTC)


@pytest.fixture(scope="module", params=["fibromyalgia", "standard"])
def plan(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    patient = Patient.model_validate(
        {"id": "p9", "conditions": [{"code": "fibromyalgia"}], "pregnancy": "not_pregnant"}
    )
    return plan_for_patient(patient, request.param, dt.date(2026, 11, 2))


def _strict(data: bytes) -> icalendar.Calendar:
    text = data.decode("utf-8")
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")  # CRLF line endings only
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))  # folded lines
    parsed = vobject.readOne(text)
    parsed.validate(raiseException=True, complainUnrecognized=False)
    cal = icalendar.Calendar.from_ical(data)
    for component in cal.walk():
        assert not component.errors, (component.name, component.errors)
    return cal


def _once(component, name: str) -> None:  # type: ignore[no-untyped-def]
    values = component.get(name)
    assert values is not None, f"{component.name} lacks {name}"
    assert not isinstance(values, list), f"{component.name} has {name} more than once"


def test_every_component_has_the_properties_rfc5545_requires(plan) -> None:  # type: ignore[no-untyped-def]
    cal = _strict(plan_to_ics(plan, stamp=STAMP, reminder=dt.time(20, 45)))
    _once(cal, "PRODID")
    assert str(cal["VERSION"]) == "2.0"
    events = list(cal.walk("VEVENT"))
    assert events
    uids = [str(e["UID"]) for e in events]
    assert len(set(uids)) == len(uids)
    for ev in events:
        for name in ("UID", "DTSTAMP", "DTSTART"):
            _once(ev, name)
        assert ev.decoded("DTSTAMP") == STAMP
        assert not ("DTEND" in ev and "DURATION" in ev)
        if "RRULE" in ev:
            until = ev["RRULE"]["UNTIL"][0]
            start = ev.decoded("DTSTART")
            # UNTIL must have the same value type as DTSTART (both floating date-times here)
            assert type(until) is type(start) and until.tzinfo is None and start.tzinfo is None
            alarms = list(ev.walk("VALARM"))
            assert len(alarms) == 1
            for name in ("ACTION", "TRIGGER", "DESCRIPTION"):
                _once(alarms[0], name)
            assert str(alarms[0]["ACTION"]) == "DISPLAY"
            assert alarms[0].decoded("TRIGGER") == dt.timedelta(0)
            assert start.time() == dt.time(20, 45)


def test_daily_reminders_fall_on_exactly_the_dose_days(plan) -> None:  # type: ignore[no-untyped-def]
    cal = _strict(plan_to_ics(plan, stamp=STAMP))
    first = plan.steps[0].start
    last = plan.steps[-1].end
    occurrences = [
        e
        for e in recurring_ical_events.of(cal).between(first, last + dt.timedelta(days=1))
        if "diary" in str(e["SUMMARY"])
    ]
    days = sorted(e.decoded("DTSTART").date() for e in occurrences)
    expected = sorted(
        step.start + dt.timedelta(days=i)
        for step in plan.steps
        if step.dose_mg > 0
        for i in range((step.end - step.start).days + 1)
    )
    assert days == expected
    timing = {s.start: s.timing for s in plan.steps}
    for e in occurrences:
        start = e.decoded("DTSTART")
        step_timing = next(t for d, t in sorted(timing.items(), reverse=True) if d <= start.date())
        assert start.time() == DEFAULT_REMINDER[step_timing]


def test_without_a_stamp_the_file_is_reproducible_and_still_valid(plan) -> None:  # type: ignore[no-untyped-def]
    assert plan_to_ics(plan) == plan_to_ics(plan)
    _strict(plan_to_ics(plan))
    with pytest.raises(ValueError, match="timezone-aware"):
        plan_to_ics(plan, stamp=dt.datetime(2026, 12, 1, 9, 0))
