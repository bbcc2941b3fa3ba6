"""Screenshots for docs/web.md: the patient's pages on a 390x844 phone, the clinician's and
the administrator's on a 1366x768 desktop. Run `python -m tests.web.screenshots` (it starts
its own server on a fresh database; chromium from /usr/bin, as in the browser tests)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from tests.web.a11y_pages import USERS, login, seed_course
from tests.web.conftest import running_clinic
from tests.web.test_browser import _context

OUT = Path(__file__).resolve().parents[2] / "docs" / "img" / "web"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1366, "height": 768}}


def main() -> None:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with running_clinic(Path(tempfile.mkdtemp()), clinic_phone="020 7946 0000") as clinic:
        seed_course(clinic)
        pid = clinic.ids["patient_a"]
        shots = {
            "patient": (
                PHONE,
                [
                    ("phone-today", f"/patients/{pid}/today"),
                    ("phone-diary", f"/patients/{pid}/diary/new"),
                    ("phone-calendar", f"/patients/{pid}/calendar"),
                    ("phone-history", f"/patients/{pid}/history"),
                    ("phone-leaflet", f"/patients/{pid}/documents"),
                ],
            ),
            "clinician": (
                DESKTOP,
                [
                    ("desktop-patients", "/patients?sort=last_diary"),
                    ("desktop-patient", f"/patients/{pid}"),
                    ("desktop-profile", f"/patients/{pid}/profile"),
                    ("desktop-corrections", f"/patients/{pid}/corrections"),
                ],
            ),
            "admin": (DESKTOP, [("desktop-audit", "/admin/audit")]),
        }
        with sync_playwright() as p:
            for role, (device, pages) in shots.items():
                ctx = _context(p, **device)
                page = ctx.pages[0] if ctx.pages else ctx.new_page()
                login(page, clinic.url, USERS[role])
                for name, path in pages:
                    page.goto(clinic.url + path)
                    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)
                if role == "patient":  # a refused form: the message sits at the field
                    page.goto(f"{clinic.url}/patients/{pid}/diary/new")
                    page.fill("input[name=entry_date]", "2030-01-01")
                    page.click("[data-testid=save-diary]")
                    page.screenshot(path=str(OUT / "phone-diary-error.png"))
                ctx.close()
            spanish_pages(p, clinic.url, pid)


def spanish_pages(p, url: str, pid: int) -> None:  # type: ignore[no-untyped-def]
    """The patient's diary and Today page on a phone whose browser asks for Spanish."""
    ctx = _context(p, locale="es-ES", **PHONE)
    page = ctx.pages[0] if ctx.pages else ctx.new_page()
    login(page, url, USERS["patient"])
    for name, path in (("phone-diary-es", "diary/new"), ("phone-today-es", "today")):
        page.goto(f"{url}/patients/{pid}/{path}")
        page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)
    ctx.close()


if __name__ == "__main__":
    main()
