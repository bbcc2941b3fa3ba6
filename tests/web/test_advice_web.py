"""Advice and plan agree, over real HTTP (issue 11 part 3, issue 15 items 1-2).

- The patient's Today page shows one dose (the plan's) and patient language only.
- The clinician sees when the advice differs from the plan and revises the plan from the
  current dose; restarting is an explicit choice with a warning; the save stores exactly the
  previewed plan.
- A dose found intolerable is not advised again until a clinician records an (audited) override.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest

from tests.web.conftest import FIBRO_PROFILE, PASSWORD, TODAY, Clinic
from tests.web.test_pages import _browser

DAY = dt.date.fromisoformat(TODAY)
CLINICIAN_WORDS = ("Review now", "re-titrate", "Suggested", "Sources", "responder", "escalat")


def _new_patient(clinic: Clinic, username: str, start: dt.date) -> int:
    with clinic.client("dr_a") as c:
        r = c.post(
            "/api/patients",
            json={
                "given_name": "Advice",
                "family_name": username,
                "profile": FIBRO_PROFILE,
                "account": {"username": username, "password": PASSWORD},
            },
        )
        assert r.status_code == 201, r.text
        pid = r.json()["id"]
        r = c.post(f"/api/patients/{pid}/plans", json={"start": start.isoformat()})
        assert r.status_code == 201, r.text
    return pid


def _diary(clinic: Clinic, pid: int, days: dict[dt.date, dict]) -> None:
    with clinic.client("dr_a") as c:
        for on, entry in sorted(days.items()):
            r = c.post(f"/api/patients/{pid}/diary", json={"entry_date": on.isoformat(), **entry})
            assert r.status_code == 201, r.text


@pytest.fixture(scope="module")
def at_target(clinic: Clinic) -> int:
    """56 days at 4.5 mg (plan from 3 Sep), no response, insomnia on the last 5 days."""
    start = dt.date(2026, 9, 3)
    pid = _new_patient(clinic, "advice_target", start)
    days = {}
    for k in range(-7, (DAY - start).days + 1):
        on = start + dt.timedelta(days=k)
        fx = [{"code": "insomnia", "severity": "mild"}] if (DAY - on).days < 5 else []
        days[on] = {"pain": 7, "dose_taken": k >= 0, "side_effects": fx}
    _diary(clinic, pid, days)
    return pid


@pytest.fixture(scope="module")
def doctor(clinic: Clinic) -> Iterator[tuple[httpx.Client, str]]:
    c, token = _browser(clinic, "dr_a")
    yield c, token
    c.close()


def test_today_page_shows_one_dose_and_only_patient_language(clinic: Clinic, at_target) -> None:  # type: ignore[no-untyped-def]
    with clinic.client("dr_a") as c:
        advice = c.get(f"/api/patients/{at_target}/advice").json()
    assert advice["code"] == "move_to_morning" and advice["differs_from_plan"]
    c, _ = _browser(clinic, "advice_target")
    try:
        page = c.get(f"/patients/{at_target}/today").text
    finally:
        c.close()
    text = re.sub(r"<[^>]+>", " ", page)
    assert re.findall(r"\d+(?:\.\d+)? mg", text) == ["4.5 mg"]
    assert "morning" not in text.split("Today,")[1].split("Fill in")[0]
    for words in CLINICIAN_WORDS:
        assert words not in text, words
    assert "Your clinic will review when you take LDN" in text


def test_clinician_sees_the_difference_and_revises_from_the_current_dose(  # type: ignore[no-untyped-def]
    clinic: Clinic, at_target, doctor
) -> None:
    c, token = doctor
    page = c.get(f"/patients/{at_target}").text
    assert (
        'data-testid="advice-differs"' in page and "Revise the plan from the current dose" in page
    )
    form = c.get(f"/patients/{at_target}/plan/new?from_advice=true").text
    assert re.search(r'name="continue_from_mg"[^>]*value="4.5"', form)
    assert re.search(r'value="continue" checked', form)
    data = {
        "csrf_token": token,
        "mode": "continue",
        "continue_from_mg": "4.5",
        "timing": "morning",
        "protocol_id": "fibromyalgia",
        "start": TODAY,
        "action": "preview",
    }
    r = c.post(f"/patients/{at_target}/plan", data=data)
    assert r.status_code == 200, r.text
    assert "titration restarts" not in r.text and "4.5 mg at morning" in r.text
    preview = re.search(r'name="preview_token" value="([^"]+)"', r.text).group(1)

    # The start date is edited after the preview: refused, nothing saved.
    with clinic.client("dr_a") as api:
        versions = len(api.get(f"/api/patients/{at_target}/plans").json())
        edited = {**data, "action": "save", "preview_token": preview, "start": "2026-11-30"}
        r = c.post(f"/patients/{at_target}/plan", data=edited)
        assert r.status_code == 422 and "changed after the preview" in r.text
        assert len(api.get(f"/api/patients/{at_target}/plans").json()) == versions

        r = c.post(
            f"/patients/{at_target}/plan", data={**data, "action": "save", "preview_token": preview}
        )
        assert r.status_code == 303
        saved = api.get(f"/api/patients/{at_target}/plans/current").json()
        assert saved["version"] == versions + 1 and saved["start_date"] == TODAY
        step = saved["plan"]["steps"][0]
        assert step["dose_mg"] == "4.5" and step["timing"] == "morning"
        advice = api.get(f"/api/patients/{at_target}/advice").json()
        assert advice["code"] != "move_to_morning" and not advice["differs_from_plan"]
    pat, _ = _browser(clinic, "advice_target")
    try:
        text = re.sub(r"<[^>]+>", " ", pat.get(f"/patients/{at_target}/today").text)
    finally:
        pat.close()
    assert re.findall(r"\d+(?:\.\d+)? mg", text) == ["4.5 mg"] and "at morning" in text


def test_restart_is_explicit_and_warned(clinic: Clinic, at_target, doctor) -> None:  # type: ignore[no-untyped-def]
    c, token = doctor
    base = {"csrf_token": token, "protocol_id": "fibromyalgia", "start": TODAY}
    r = c.post(f"/patients/{at_target}/plan", data={**base, "mode": "restart", "action": "preview"})
    assert r.status_code == 200
    assert 'data-testid="plan-warning"' in r.text and "titration restarts" in r.text
    # A 4.5 mg start is a continuation, not a protocol start: accepted that way.
    r = c.post(
        f"/patients/{at_target}/plan",
        data={**base, "mode": "continue", "continue_from_mg": "4.5", "action": "preview"},
    )
    assert r.status_code == 200 and "outside" not in r.text
    r = c.post(
        f"/patients/{at_target}/plan",
        data={**base, "mode": "continue", "continue_from_mg": "9", "action": "preview"},
    )
    assert r.status_code == 422 and "ceiling" in r.text


@pytest.fixture(scope="module")
def stepped_back(clinic: Clinic) -> int:
    """Plan from 1 Sep: 3 mg from 15 Sep; severe headache on 16 Sep, 1.5 mg since."""
    start = dt.date(2026, 9, 1)
    pid = _new_patient(clinic, "advice_back", start)
    days = {}
    for k in range(-7, (DAY - start).days + 1):
        on = start + dt.timedelta(days=k)
        entry: dict = {"pain": 7, "dose_taken": k >= 0}
        if k >= 0:
            entry["dose_mg"] = "3" if k in (14, 15) else "1.5"
        if k == 15:
            entry["side_effects"] = [{"code": "headache", "severity": "severe"}]
        days[on] = entry
    _diary(clinic, pid, days)
    return pid


def test_intolerable_dose_needs_an_audited_override(clinic: Clinic, stepped_back, doctor) -> None:  # type: ignore[no-untyped-def]
    pid = stepped_back
    with clinic.client("dr_a") as api:
        advice = api.get(f"/api/patients/{pid}/advice").json()
        assert [Decimal(d) for d in advice["intolerable_mg"]] == [3]
        # 70 days at 1.5 mg without response and 3 mg not tolerated: review, never 3 mg.
        assert advice["code"] == "review" and advice["suggested_dose_mg"] is None
        assert advice["code"] != "escalate"
        url = f"/api/patients/{pid}/dose-overrides"
        body = {"dose_mg": "4.5", "effective_on": TODAY, "reason": "rechallenge_agreed"}
        r = api.post(url, json=body)
        assert r.status_code == 422 and r.json()["field"] == "dose_mg"
        r = api.post(url, json={**body, "dose_mg": "3", "reason": "because"})
        assert r.status_code == 422
    with clinic.client("advice_back") as pat:
        assert pat.post(url, json={**body, "dose_mg": "3"}).status_code == 403
    c, token = doctor
    page = c.get(f"/patients/{pid}").text
    assert 'data-testid="override-form"' in page
    # A revision may not continue at the intolerable dose, and the default is the dose taken.
    form = c.get(f"/patients/{pid}/plan/new").text
    assert re.search(r'name="continue_from_mg"[^>]*value="1.5"', form)
    r = c.post(
        f"/patients/{pid}/plan",
        data={
            "csrf_token": token,
            "mode": "continue",
            "continue_from_mg": "3",
            "start": TODAY,
            "action": "preview",
        },
    )
    assert r.status_code == 422 and "intolerable" in r.text
    with clinic.client("dr_a") as api:
        # Even through the API, a plan stops below the intolerable dose.
        r = api.post(
            f"/api/patients/{pid}/plans",
            json={"start": "2026-12-01", "options": {"continue_from_mg": "1.5"}},
        )
        assert r.status_code == 201
        assert max(Decimal(s["dose_mg"]) for s in r.json()["plan"]["steps"]) == Decimal("1.5")
    r = c.post(
        f"/patients/{pid}/dose-overrides",
        data={
            "csrf_token": token,
            "dose_mg": "3",
            "effective_on": TODAY,
            "reason": "rechallenge_agreed",
        },
    )
    assert r.status_code == 303
    with clinic.client("dr_a") as api:
        overrides = api.get(url).json()
        assert [Decimal(o["dose_mg"]) for o in overrides] == [3]
        advice = api.get(f"/api/patients/{pid}/advice").json()
        assert advice["intolerable_mg"] == []
        assert advice["code"] == "escalate" and Decimal(advice["suggested_dose_mg"]) == 3
    with clinic.client("admin") as admin:
        events = admin.get("/api/admin/audit", params={"entity": "dose_override"}).json()
        assert events and events[0]["details"]["dose_ug"] == 3000
        assert events[0]["details"]["reason"] == "rechallenge_agreed"
        assert "note" not in events[0]["details"]


def test_today_page_keeps_the_plan_in_force_until_a_future_revision_starts(  # type: ignore[no-untyped-def]
    clinic: Clinic, stepped_back
) -> None:
    """The last test saved a revision starting 1 Dec; today the earlier version applies
    (its titration ended at the efficacy review) and the revision shows as the next change."""
    pat, _ = _browser(clinic, "advice_back")
    try:
        text = re.sub(
            r"\s+", " ", re.sub(r"<[^>]+>", " ", pat.get(f"/patients/{stepped_back}/today").text)
        )
    finally:
        pat.close()
    assert "has ended" in text and "Next change: 1.5 mg from Tue 01 Dec 2026" in text
