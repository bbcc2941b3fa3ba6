"""Reminder settings over HTTP: the API (422 naming the field), the phone form, and the
calendar file with the daily alarm at the patient's chosen time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import icalendar
import pytest

from tests.web.conftest import Clinic, running_clinic
from tests.web.test_instruments import _browser_login, _csrf


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clinic]:
    with running_clinic(tmp_path_factory.mktemp("reminders")) as c:
        with c.client("dr_a") as dr:
            pid = c.ids["patient_a"]
            assert dr.post(f"/api/patients/{pid}/plans", json={"start": "2026-11-11"}).is_success
        yield c


def test_api_defaults_validation_and_update(site: Clinic) -> None:
    pid = site.ids["patient_a"]
    url = f"/api/patients/{pid}/reminders"
    with site.client("pat_a") as c:
        assert c.get(url).json() == {
            "reminder_time": "21:30:00",
            "email": None,
            "email_opt_in": False,
            "chosen": False,
        }
        r = c.put(url, json={"reminder_time": "20:15", "email_opt_in": True})
        assert r.status_code == 422 and r.json()["field"] == "email"
        r = c.put(url, json={"reminder_time": "25:00"})
        assert r.status_code == 422 and r.json()["field"] == "reminder_time"
        r = c.put(
            url, json={"reminder_time": "20:15", "email": "Pat@Example.org", "email_opt_in": True}
        )
        assert r.status_code == 200 and r.json()["chosen"] is True
        assert r.json()["email_opt_in"] is True
        assert c.get(f"/api/patients/{site.ids['patient_b']}/reminders").status_code == 403


def test_calendar_file_rings_at_the_chosen_time(site: Clinic) -> None:
    pid = site.ids["patient_a"]
    with site.client("pat_a") as c:
        c.put(f"/api/patients/{pid}/reminders", json={"reminder_time": "19:40"})
        r = c.get(f"/api/patients/{pid}/reminders.ics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/calendar")
    cal = icalendar.Calendar.from_ical(r.content)
    daily = [e for e in cal.walk("VEVENT") if "RRULE" in e]
    assert daily and all(e.decoded("DTSTART").time() == dt.time(19, 40) for e in daily)
    assert all(f"/patients/{pid}/diary/new" in str(e["URL"]) for e in daily)
    stamp = daily[0].decoded("DTSTAMP")
    assert abs(dt.datetime.now(dt.UTC) - stamp) < dt.timedelta(minutes=5)


def test_phone_form_saves_and_shows_errors(site: Clinic) -> None:
    pid = site.ids["patient_a"]
    with _browser_login(site, "pat_a") as c:
        page = c.get(f"/patients/{pid}/reminders")
        assert page.status_code == 200 and 'data-testid="reminders-ics"' in page.text
        bad = c.post(
            f"/patients/{pid}/reminders",
            data={"csrf_token": _csrf(page.text), "reminder_time": "21:00", "email_opt_in": "yes"},
        )
        assert bad.status_code == 422 and "e-mail address is needed" in bad.text
        ok = c.post(
            f"/patients/{pid}/reminders",
            data={
                "csrf_token": _csrf(page.text),
                "reminder_time": "21:10",
                "email": "p@example.org",
                "email_opt_in": "yes",
            },
        )
        assert ok.status_code == 200 and 'data-testid="reminders-saved"' in ok.text
        assert 'value="21:10"' in ok.text
