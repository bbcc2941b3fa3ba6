"""The clinic in a real browser: Playwright driving Debian's chromium (never a downloaded one).

A clinician logs in, registers and screens a patient, previews and saves a plan; the patient
logs in on a phone-sized screen and records today's diary; the clinician then sees the entry and
today's advice. Every page visited is saved as a screenshot under test-artifacts/.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web.conftest import ARTIFACTS, PASSWORD, TODAY, Clinic

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason="Debian chromium missing (make browser-deps)"
    ),
]


@pytest.fixture(scope="module")
def playwright() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


def _context(playwright, **kwargs):  # type: ignore[no-untyped-def]
    ctx = playwright.chromium.launch_persistent_context(
        tempfile.mkdtemp(prefix="ldnkit-chromium-"),
        executable_path=CHROMIUM,
        args=ARGS,
        **kwargs,
    )
    ctx.set_default_timeout(15_000)
    return ctx


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _login(page, url: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def test_clinician_and_patient_in_the_browser(clinic: Clinic, playwright) -> None:  # type: ignore[no-untyped-def]
    url = clinic.url
    doc = _context(playwright, viewport={"width": 1280, "height": 900})
    page = doc.pages[0] if doc.pages else doc.new_page()
    try:
        page.goto(f"{url}/login")
        _shot(page, "01-login")
        _login(page, url, "dr_a")
        page.wait_for_url(f"{url}/patients")
        _shot(page, "02-clinician-patients")

        page.click("text=New patient and screening")
        page.fill("input[name=given_name]", "Browser")
        page.fill("input[name=family_name]", "Patient")
        page.fill("input[name=birth_date]", "1980-05-17")
        page.check("input[name=conditions][value=fibromyalgia]")
        page.fill("textarea[name=medications]", "duloxetine; 60")
        page.fill("textarea[name=prior_therapies]", "duloxetine; partial\ngraded exercise")
        page.select_option("select[name=pregnancy]", "not_pregnant")
        page.fill("input[name=account_username]", "browser_pat")
        page.fill("input[name=account_password]", PASSWORD)
        _shot(page, "03-new-patient-form")
        page.click("text=Save and screen")
        page.wait_for_selector("[data-testid=screening-status]")
        status = page.inner_text("[data-testid=screening-status]")
        assert status in ("eligible", "eligible with cautions")
        assert page.locator("table.findings tbody tr").count() >= 2
        assert page.locator("table.findings .sources a").count() >= 2
        _shot(page, "04-patient-screened")
        patient_url = page.url.split("?")[0]

        page.click("[data-testid=new-plan]")
        page.fill("input[name=start]", "2026-11-11")
        page.click("button[value=preview]")
        page.wait_for_selector("[data-testid=plan-preview]")
        assert page.locator("[data-testid=plan-preview] table tbody tr").count() >= 2
        _shot(page, "05-plan-preview")
        page.click("[data-testid=save-plan]")
        page.wait_for_selector("#plan [data-testid=plan-steps]")
        _shot(page, "06-plan-saved")

        phone = _context(
            playwright,
            viewport={"width": 390, "height": 844},
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
        )
        mobile = phone.pages[0] if phone.pages else phone.new_page()
        try:
            _login(mobile, url, "browser_pat")
            mobile.wait_for_selector("[data-testid=todays-dose]")
            assert "mg" in mobile.inner_text("[data-testid=todays-dose]")
            _shot(mobile, "07-patient-today-phone")
            mobile.click("[data-testid=diary-link]")
            mobile.wait_for_selector("[data-testid=diary-form]")
            _shot(mobile, "08-patient-diary-form-phone")
            for name, value in (
                ("pain", 4),
                ("sleep", 6),
                ("mood", 7),
                ("energy", 5),
                ("clarity", 7),
            ):
                mobile.click(f"input[name={name}][value='{value}'] + span")
            mobile.check("input[name=side_effects][value=vivid_dreams]")
            mobile.check("input[name=dose_taken][value=yes]")  # no longer pre-answered
            mobile.click("[data-testid=save-diary]")
            mobile.wait_for_selector("[data-testid=saved]")
            _shot(mobile, "09-patient-saved-phone")
            width = mobile.evaluate("document.documentElement.scrollWidth")
            assert width <= 400, f"page wider than the phone: {width}px"
            mobile.click("text=My plan")
            mobile.wait_for_selector("table.calendar")
            assert mobile.locator("[data-testid=ics-link]").count() == 1
            _shot(mobile, "10-patient-calendar-phone")
            mobile.click("text=History")
            mobile.wait_for_selector("svg.chart")
            _shot(mobile, "11-patient-history-phone")
        finally:
            phone.close()

        page.goto(patient_url)
        rows = page.locator("[data-testid=diary-table] tbody tr")
        assert TODAY in rows.first.inner_text()
        assert "vivid dreams" in rows.first.inner_text()
        advice = page.inner_text("[data-testid=advice]")
        assert "Today's advice" in advice and "Sources" in advice
        assert page.locator("svg.chart circle.pain").count() >= 1
        _shot(page, "12-clinician-sees-entry-and-advice")

        page.goto(f"{url}/evidence")
        _shot(page, "13-evidence")
        page.goto(f"{url}/evidence/trials")
        _shot(page, "14-evidence-trials")
    finally:
        doc.close()

    admin = _context(playwright, viewport={"width": 1280, "height": 900})
    apage = admin.pages[0] if admin.pages else admin.new_page()
    try:
        _login(apage, url, "admin")
        apage.wait_for_selector("[data-testid=audit-table]")
        assert "read" in apage.inner_text("[data-testid=audit-table]")
        _shot(apage, "15-admin-audit")
    finally:
        admin.close()
    assert len(list(Path(ARTIFACTS).glob("*.png"))) >= 15


def test_patient_today_page_shows_one_dose_and_no_clinician_text(
    clinic: Clinic, playwright
) -> None:  # type: ignore[no-untyped-def]
    """Issue 15 item 1: the advice would move the dose to the morning and review the patient;
    the patient's phone shows one dose (the plan's) and patient language, nothing else."""
    import datetime as dt
    import re

    from tests.web.test_advice_web import _diary, _new_patient

    start = dt.date(2026, 9, 3)
    today = dt.date.fromisoformat(TODAY)
    pid = _new_patient(clinic, "browser_today", start)
    days = {}
    for k in range(-7, (today - start).days + 1):
        on = start + dt.timedelta(days=k)
        fx = [{"code": "vivid_dreams", "severity": "mild"}] if (today - on).days < 6 else []
        days[on] = {"pain": 7, "dose_taken": k >= 0, "side_effects": fx}
    _diary(clinic, pid, days)
    with clinic.client("dr_a") as c:
        advice = c.get(f"/api/patients/{pid}/advice").json()
    assert advice["code"] == "move_to_morning" and advice["differs_from_plan"]

    phone = _context(
        playwright,
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    mobile = phone.pages[0] if phone.pages else phone.new_page()
    try:
        _login(mobile, clinic.url, "browser_today")
        mobile.wait_for_selector("[data-testid=todays-dose]")
        main = mobile.inner_text("main")
        _shot(mobile, "16-patient-today-one-dose")
        assert re.findall(r"\d+(?:\.\d+)?\s*mg", main) == ["4.5 mg"], main
        assert "bedtime" in mobile.inner_text("[data-testid=todays-dose]")
        assert "morning" not in main
        for words in ("Suggested", "Review now", "re-titrate", "Sources", "responder"):
            assert words not in main, words
        assert mobile.locator("[data-testid=advice] a[href^='/evidence']").count() == 0
    finally:
        phone.close()


def test_api_docs_render_offline_under_the_csp(clinic: Clinic, playwright) -> None:  # type: ignore[no-untyped-def]
    """Swagger UI comes from the app itself and works under the same Content-Security-Policy
    as every page: no CDN request, no CSP violation, the operations are listed."""
    ctx = _context(playwright, viewport={"width": 1280, "height": 900})
    page = ctx.pages[0] if ctx.pages else ctx.new_page()
    messages: list[str] = []
    foreign: list[str] = []
    page.on("console", lambda m: messages.append(m.text))
    page.on(
        "request",
        lambda r: foreign.append(r.url) if not r.url.startswith(clinic.url) else None,
    )
    try:
        resp = page.goto(f"{clinic.url}/docs")
        assert resp is not None and resp.status == 200
        csp = resp.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        page.wait_for_selector(".opblock-summary-path", timeout=20_000)
        paths = page.locator(".opblock-summary-path").all_inner_texts()
        assert any("/api/auth/login" in p for p in paths)
        _shot(page, "api-docs")
    finally:
        ctx.close()
    assert foreign == []
    assert not [m for m in messages if "Content Security Policy" in m], messages
