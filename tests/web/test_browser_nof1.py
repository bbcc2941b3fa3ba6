"""An N-of-1 trial in a real browser (Playwright driving Debian's chromium): the clinician
sets one up, the patient sees only a pack letter on the phone, the pharmacist opens the sealed
list, and the clinician unblinds a finished trial and reads its report. Screenshots go to
test-artifacts/."""

from __future__ import annotations

import os

import pytest

from tests.web.conftest import TODAY, Clinic
from tests.web.test_browser import ARGS, CHROMIUM, _context, _login, _shot, playwright  # noqa: F401
from tests.web.test_nof1_web import clinic  # noqa: F401  (module fixture: two finished trials)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium missing"),
]


def test_nof1_trial_in_the_browser(clinic: Clinic, playwright) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    url = clinic.url
    desk = _context(playwright, viewport={"width": 1280, "height": 900})
    page = desk.pages[0] if desk.pages else desk.new_page()
    try:
        _login(page, url, "dr_a")
        page.wait_for_url(f"{url}/patients")
        page.goto(f"{url}/patients/{clinic.ids['patient_a']}/nof1")
        page.fill("input[name=start]", TODAY)
        page.fill("input[name=dose_mg]", "4.5")
        page.fill("input[name=run_in_days]", "0")
        _shot(page, "nof1-01-setup")
        page.click("[data-testid=nof1-create]")
        page.wait_for_selector("[data-testid=monitor]")
        assert page.inner_text("[data-testid=trial-status]") == "active"
        assert "Pack A:" not in page.content()
        _shot(page, "nof1-02-monitor")

        phone = _context(
            playwright, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
        )
        mobile = phone.pages[0] if phone.pages else phone.new_page()
        try:
            _login(mobile, url, "pat_a")
            mobile.wait_for_selector("[data-testid=nof1-today]")
            card = mobile.inner_text("[data-testid=nof1-today]")
            assert "pack A" in card or "pack B" in card
            assert "placebo" not in card.lower() and "LDN 4.5" not in card
            _shot(mobile, "nof1-03-patient-today-phone")
            mobile.click("[data-testid=nof1-today-link]")
            mobile.wait_for_selector("[data-testid=pack-of-the-day]")
            assert "Pack " in mobile.inner_text("[data-testid=pack-of-the-day]")
            _shot(mobile, "nof1-04-patient-trial-phone")
        finally:
            phone.close()

        page.goto(f"{url}/nof1/{clinic.ids['done_1']}")
        page.click("[data-testid=unblind-final]")
        page.wait_for_selector("[data-testid=report]")
        assert "lowered your pain" in page.inner_text("[data-testid=headline]")
        assert page.locator("[data-testid=periods] tbody tr").count() == 4
        assert page.inner_text("[data-testid=decision]")
        _shot(page, "nof1-05-report")
    finally:
        desk.close()

    ph = _context(playwright, viewport={"width": 1280, "height": 900})
    pharm = ph.pages[0] if ph.pages else ph.new_page()
    try:
        _login(pharm, url, "pharm")
        pharm.wait_for_selector("[data-testid=pharmacy-trials]")
        pharm.click(f"[data-testid=pharmacy-open-{clinic.ids['done_2']}]")
        pharm.wait_for_selector("[data-testid=pack-contents]")
        assert "placebo" in pharm.inner_text("[data-testid=pack-contents]")
        assert "PACK" in pharm.inner_text("[data-testid=labels]")
        _shot(pharm, "nof1-06-pharmacy")
    finally:
        ph.close()
