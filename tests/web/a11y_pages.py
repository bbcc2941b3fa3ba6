"""The pages each role can reach, and axe-core run over them in chromium (issue 15).

Shared by tests/web/test_a11y.py and by the before/after count in docs/web.md. axe-core comes
from the `axe-playwright-python` package (which ships axe.min.js, MPL-2.0); it is injected with
`page.evaluate`, which the page's Content-Security-Policy does not block.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.web.conftest import PASSWORD, TODAY, Clinic

#: WCAG 2.0-2.2 A and AA (2.2 brings target-size >= 24 px) and axe's best practices.
AXE_OPTIONS: dict[str, Any] = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
    },
    "resultTypes": ["violations"],
}


def seed_course(clinic: Clinic) -> None:
    """Give patient A a plan and a fortnight of diary (one day corrected, two days missed)."""
    pid = clinic.ids["patient_a"]
    today = dt.date.fromisoformat(TODAY)
    with clinic.client("dr_a") as c:
        start = (today - dt.timedelta(days=14)).isoformat()
        c.post(f"/api/patients/{pid}/plans", json={"start": start}).raise_for_status()
    with clinic.client("pat_a") as c:
        for n in range(14, 0, -1):
            if n in (2, 5):
                continue
            day = (today - dt.timedelta(days=n)).isoformat()
            body = {"entry_date": day, "pain": max(2, 7 - (14 - n) // 3), "dose_taken": n != 9}
            if n != 9:
                body["dose_mg"] = "1.5"  # the plan's first step
            c.post(f"/api/patients/{pid}/diary", json=body).raise_for_status()
        corrected = (today - dt.timedelta(days=3)).isoformat()
        body = {
            "entry_date": corrected,
            "pain": 3,
            "dose_taken": True,
            "dose_mg": "1.5",
            "sleep": 6,
        }
        c.post(f"/api/patients/{pid}/diary", json=body).raise_for_status()


def pages_for(role: str, clinic: Clinic) -> list[str]:
    """Every page of the app a user in `role` reaches from the menu (paths)."""
    pid = clinic.ids["patient_a"]
    public = [
        "/evidence",
        "/evidence/trials",
        "/evidence/references",
        "/evidence/pharmacology",
        "/evidence/mechanism",
        "/evidence/designs",
        "/no-such-page",
    ]
    if role == "anonymous":
        return ["/login", *public]
    if role == "patient":
        return [
            f"/patients/{pid}/today",
            f"/patients/{pid}/diary/new",
            f"/patients/{pid}/calendar",
            f"/patients/{pid}/history",
            f"/patients/{pid}/documents",
            *public,
        ]
    if role == "clinician":
        return [
            "/patients",
            "/patients/new",
            f"/patients/{pid}",
            f"/patients/{pid}/plan/new",
            f"/patients/{pid}/calendar",
            f"/patients/{pid}/history",
            f"/patients/{pid}/profile",
            f"/patients/{pid}/corrections",
            f"/patients/{pid}/documents",
            *public,
        ]
    return ["/admin/audit", "/admin/users", *public]


USERS = {"patient": "pat_a", "clinician": "dr_a", "admin": "admin"}


def login(page, url: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def axe_violations(page) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """axe-core's violations on the loaded page (rule id, impact, first target)."""
    from axe_playwright_python.sync_playwright import Axe

    result = Axe().run(page, options=AXE_OPTIONS)
    return [
        {
            "id": v["id"],
            "impact": v.get("impact"),
            "nodes": len(v["nodes"]),
            "target": v["nodes"][0]["target"] if v["nodes"] else None,
        }
        for v in result.response["violations"]
    ]


def audit_roles(clinic: Clinic, playwright, roles=("anonymous", "patient", "clinician", "admin")):  # type: ignore[no-untyped-def]
    """{role: {path: [violations]}} and {role: {path: scrollWidth at 320 px}} for every page."""
    from tests.web.test_browser import _context

    found: dict[str, dict[str, list[dict[str, Any]]]] = {}
    widths: dict[str, dict[str, int]] = {}
    for role in roles:
        ctx = _context(playwright, viewport={"width": 320, "height": 640})
        page = ctx.pages[0] if ctx.pages else ctx.new_page()
        try:
            if role in USERS:
                login(page, clinic.url, USERS[role])
            found[role], widths[role] = {}, {}
            for path in pages_for(role, clinic):
                page.goto(clinic.url + path)
                page.wait_for_load_state()
                widths[role][path] = page.evaluate("document.documentElement.scrollWidth")
                page.set_viewport_size({"width": 1280, "height": 900})
                found[role][path] = axe_violations(page)
                page.set_viewport_size({"width": 320, "height": 640})
        finally:
            ctx.close()
    return found, widths
