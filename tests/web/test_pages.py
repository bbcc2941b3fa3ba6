"""Server-rendered pages over real HTTP: every page renders, and invalid form input comes back
as the same form with the message and the typed values (422), never a 500."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.web.conftest import PASSWORD, TODAY, Clinic


def _browser(clinic: Clinic, username: str) -> tuple[httpx.Client, str]:
    """A cookie-holding client logged in through the login form, and its CSRF token."""
    c = httpx.Client(base_url=clinic.url, follow_redirects=False, timeout=30)
    token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
    r = c.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 303, r.text
    # Tokens are bound to the session: the one for this session comes with its pages.
    page = c.get(r.headers["location"])
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    return c, token


@pytest.fixture(scope="module")
def doctor(clinic: Clinic):  # type: ignore[no-untyped-def]
    c, token = _browser(clinic, "dr_b")
    yield c, token
    c.close()


def test_login_form_redisplays_with_message(clinic: Clinic) -> None:
    with httpx.Client(base_url=clinic.url) as c:
        token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
        r = c.post("/login", data={"username": "dr_b", "password": "bad-bad", "csrf_token": token})
        assert r.status_code == 401
        assert "wrong username or password" in r.text and 'value="dr_b"' in r.text


def test_clinician_pages_render(clinic: Clinic, doctor) -> None:  # type: ignore[no-untyped-def]
    c, _ = doctor
    pid = clinic.ids["patient_b"]
    for path in (
        "/patients",
        "/patients/new",
        f"/patients/{pid}",
        f"/patients/{pid}/plan/new",
        f"/patients/{pid}/calendar",
        f"/patients/{pid}/history",
        f"/patients/{pid}/diary/new",
        f"/patients/{pid}/today",
        "/evidence",
    ):
        r = c.get(path)
        assert r.status_code == 200, (path, r.status_code)
        assert "<!doctype html>" in r.text.lower()
    assert c.get("/patients/424242").status_code == 404
    assert c.get(f"/patients/{clinic.ids['patient_a']}").status_code == 403


def test_new_patient_form_errors_redisplay(doctor) -> None:  # type: ignore[no-untyped-def]
    c, token = doctor
    base = {"csrf_token": token, "given_name": "Form", "family_name": "Case"}
    r = c.post("/patients/new", data={**base, "medications": "tramadol; 50; yesterday"})
    assert r.status_code == 422
    assert "medications" in r.text and "not YYYY-MM-DD" in r.text
    assert 'value="Form"' in r.text  # what the user typed is kept
    r = c.post("/patients/new", data={**base, "weight_kg": "-3"})
    assert r.status_code == 422 and "weight_kg" in r.text
    r = c.post("/patients/new", data={**base, "given_name": ""})
    assert r.status_code == 422 and "given_name" in r.text
    r = c.post("/patients/new", data={**base, "account_username": "x", "account_password": "1"})
    assert r.status_code == 422 and "account" in r.text
    r = c.post("/patients/new", data={**base, "screen_on": "0202-01-01"})
    assert r.status_code == 422 and "screen_on" in r.text


def test_plan_form_errors_and_preview(clinic: Clinic, doctor) -> None:  # type: ignore[no-untyped-def]
    c, token = doctor
    pid = clinic.ids["patient_b"]
    url = f"/patients/{pid}/plan"
    r = c.post(url, data={"csrf_token": token, "start": TODAY, "target_mg": "40"})
    assert r.status_code == 422 and "target_mg" in r.text
    r = c.post(url, data={"csrf_token": token, "start": "not a date"})
    assert r.status_code == 422 and "start" in r.text
    r = c.post(url, data={"csrf_token": token, "start": TODAY, "action": "preview"})
    assert r.status_code == 200 and 'data-testid="plan-preview"' in r.text


def test_diary_form_errors_redisplay(clinic: Clinic, doctor) -> None:  # type: ignore[no-untyped-def]
    c, token = doctor
    pid = clinic.ids["patient_b"]
    url = f"/patients/{pid}/diary"
    r = c.post(url, data={"csrf_token": token, "dose_taken": "yes"})
    assert r.status_code == 422 and "pain" in r.text
    r = c.post(
        url,
        data={"csrf_token": token, "pain": "4", "entry_date": "2027-01-01", "dose_taken": "yes"},
    )
    assert r.status_code == 422 and "after today" in r.text
    r = c.post(
        url, data={"csrf_token": token, "pain": "4", "dose_taken": "yes", "side_effects": "hiccups"}
    )
    assert r.status_code == 422 and "unknown side effect" in r.text
    for day in ("0001-01-01", "1899-12-31"):
        r = c.post(
            url, data={"csrf_token": token, "pain": "4", "entry_date": day, "dose_taken": "yes"}
        )
        assert r.status_code == 422 and "before 1990-01-01" in r.text, r.text[:300]
    r = c.post(url, data={"csrf_token": token, "pain": "4", "dose_taken": "yes", "note": "a\x00b"})
    assert r.status_code == 422 and "NUL" in r.text
    r = c.post(url, data={"csrf_token": token, "pain": "4", "dose_taken": "yes"})
    assert r.status_code == 303
