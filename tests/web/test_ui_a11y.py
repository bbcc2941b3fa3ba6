"""Issue 15 in a real browser: every page for every role passes axe-core, reflows at 320 px,
has a skip link and 24 px targets; errors, diary corrections, charts, confirmations, the
clinician's list, profile, corrections, audit and documents each work as a user meets them.

Playwright drives Debian's chromium (never a downloaded one); the server is the real app on a
fresh SQLite database of its own (patient A has a plan and a fortnight of diary).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web.a11y_pages import USERS, audit_roles, axe_violations, login, pages_for, seed_course
from tests.web.conftest import ARTIFACTS, TODAY, Clinic, running_clinic
from tests.web.test_browser import _context, pytestmark  # noqa: F401

CLINIC_PHONE = "+44 20 7946 0000"


@pytest.fixture(scope="module")
def playwright() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def course() -> Iterator[Clinic]:
    with running_clinic(
        Path(tempfile.mkdtemp(prefix="ldnkit-ui-")), clinic_phone=CLINIC_PHONE
    ) as c:
        seed_course(c)
        yield c


def _page(playwright, clinic: Clinic, role: str | None, **kwargs):  # type: ignore[no-untyped-def]
    ctx = _context(playwright, **({"viewport": {"width": 1366, "height": 768}} | kwargs))
    page = ctx.pages[0] if ctx.pages else ctx.new_page()
    if role:
        login(page, clinic.url, USERS[role])
    return ctx, page


PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


def test_axe_and_reflow_on_every_page_for_every_role(course: Clinic, playwright) -> None:  # type: ignore[no-untyped-def]
    found, widths = audit_roles(course, playwright)
    ARTIFACTS.mkdir(exist_ok=True)
    counts = {
        role: {
            p: {"violations": sum(v["nodes"] for v in vs), "width320": widths[role][p]}
            for p, vs in pages.items()
        }
        for role, pages in found.items()
    }
    (ARTIFACTS / "axe-after.json").write_text(json.dumps(counts, indent=1))
    bad = {f"{r} {p}": vs for r, pages in found.items() for p, vs in pages.items() if vs}
    assert not bad, f"axe-core violations: {bad}"
    wide = {f"{r} {p}": w for r, ws in widths.items() for p, w in ws.items() if w > 320}
    assert not wide, f"pages scroll sideways at 320 px: {wide}"
    assert sum(len(p) for p in found.values()) >= 40


def test_dark_mode_follows_the_system_and_stays_accessible(course: Clinic, playwright) -> None:  # type: ignore[no-untyped-def]
    """Every page in dark mode: a dark background and no axe violation (the public pages once,
    anonymously; each role's own pages signed in)."""
    bad = {}
    for role in ("anonymous", "patient", "clinician", "admin"):
        ctx, page = _page(playwright, course, USERS.get(role) and role, color_scheme="dark")
        try:
            for path in pages_for(role, course):
                if role != "anonymous" and path.startswith(("/evidence", "/no-such")):
                    continue
                page.goto(course.url + path)
                bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
                rgb = [int(x) for x in re.findall(r"\d+", bg)[:3]]
                assert sum(rgb) < 150, f"{path} is not dark: {bg}"
                found = axe_violations(page)
                if found:
                    bad[f"{role} {path}"] = found
        finally:
            ctx.close()
    assert not bad, bad


def test_skip_link_is_the_first_tab_stop_and_reaches_the_content(
    course: Clinic, playwright
) -> None:  # type: ignore[no-untyped-def]
    ctx, page = _page(playwright, course, "clinician")
    try:
        page.goto(f"{course.url}/patients/{course.ids['patient_a']}")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.dataset.testid") == "skip-link"
        assert page.locator("[data-testid=skip-link]").is_visible()
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"
        page.keyboard.press("Tab")  # the next stop is inside the content, not the menu
        assert page.evaluate("!!document.activeElement.closest('main')")
    finally:
        ctx.close()


SMALL_TARGETS = """() => [...document.querySelectorAll(
  'input[type=checkbox], input[type=radio]:not(.nrs input), button, header nav a, a.button')]
  .filter(e => e.offsetParent !== null)
  .map(e => [e.outerHTML.slice(0, 80), e.getBoundingClientRect()])
  .filter(([_, r]) => r.width < 24 || r.height < 24).map(([h]) => h)"""


def test_targets_are_at_least_24px_on_a_phone(course: Clinic, playwright) -> None:  # type: ignore[no-untyped-def]
    pid = course.ids["patient_a"]
    for role, paths in (
        ("patient", [f"/patients/{pid}/diary/new", f"/patients/{pid}/today"]),
        ("clinician", ["/patients/new", "/patients", f"/patients/{pid}/profile"]),
    ):
        ctx, page = _page(playwright, course, role, **PHONE)
        try:
            for path in paths:
                page.goto(course.url + path)
                assert page.evaluate(SMALL_TARGETS) == [], path
        finally:
            ctx.close()


def test_public_and_error_pages_keep_the_signed_in_menu(course: Clinic, playwright) -> None:  # type: ignore[no-untyped-def]
    ctx, page = _page(playwright, course, "patient", **PHONE)
    try:
        for path in ("/evidence", "/evidence/pharmacology", "/evidence/references", "/nowhere"):
            page.goto(course.url + path)
            nav = page.locator("header nav")
            assert nav.locator("[data-testid=logout]").count() == 1, path
            assert nav.locator("a", has_text="Log in").count() == 0, path
            assert nav.locator("a", has_text="Today").count() == 1, path
    finally:
        ctx.close()


def test_diary_errors_sit_at_the_field_in_words_with_focus(course: Clinic, playwright) -> None:  # type: ignore[no-untyped-def]
    pid = course.ids["patient_a"]
    ctx, page = _page(playwright, course, "patient", **PHONE)
    try:
        page.goto(f"{course.url}/patients/{pid}/diary/new")
        # A date in the future: the date is a field the patient can see and fix.
        tomorrow = (dt.date.fromisoformat(TODAY) + dt.timedelta(days=1)).isoformat()
        page.fill("input[name=entry_date]", tomorrow)
        page.click("input[name=pain][value='4'] + span")
        page.check("input[name=dose_taken][value=yes]")
        page.click("[data-testid=save-diary]")
        err = page.locator("[data-testid=field-error-entry_date]")
        assert err.is_visible()
        assert err.inner_text().startswith("Diary date:")
        date = page.locator("input[name=entry_date]")
        assert date.get_attribute("aria-invalid") == "true"
        assert date.get_attribute("aria-describedby") == "err-entry_date"
        assert page.evaluate("document.activeElement.name") == "entry_date"
        # A pain score out of range (a tampered form): named as the page names it.
        page.fill("input[name=entry_date]", TODAY)
        page.click("input[name=pain][value='10'] + span")
        page.evaluate("document.querySelector('input[name=pain]:checked').value = '11'")
        page.click("[data-testid=save-diary]")
        msg = page.inner_text("[data-testid=field-error-pain]")
        assert msg.startswith("Pain right now: must be at most 10"), msg
        assert "Input should" not in page.inner_text("main")
        assert page.evaluate("document.activeElement.name") == "pain"
        assert page.evaluate("document.activeElement.getAttribute('aria-invalid')") == "true"
    finally:
        ctx.close()


def test_plan_option_error_opens_its_section_and_uses_the_label(course: Clinic, playwright) -> None:  # type: ignore[no-untyped-def]
    pid = course.ids["patient_a"]
    ctx, page = _page(playwright, course, "clinician")
    try:
        page.goto(f"{course.url}/patients/{pid}/plan/new")
        # The section may already be open (a revision pre-fills the timing): open, never toggle.
        if not page.locator("details").evaluate("d => d.open"):
            page.click("details summary")
        page.fill("input[name=ceiling_mg]", "-3")
        page.click("button[value=preview]")
        assert page.locator("details").evaluate("d => d.open")
        text = page.inner_text("[data-testid=field-error-ceiling_mg]")
        assert text.startswith("Highest dose (mg):"), text
        assert "options." not in page.inner_text("main")
        assert page.evaluate("document.activeElement.name") == "ceiling_mg"
    finally:
        ctx.close()


def test_diary_correction_starts_from_the_saved_entry(course: Clinic, playwright) -> None:  # type: ignore[no-untyped-def]
    pid = course.ids["patient_a"]
    ctx, page = _page(playwright, course, "patient", **PHONE)
    try:
        page.goto(f"{course.url}/patients/{pid}/diary/new")
        # Nothing is pre-answered: not the dose, not a 22:00 time.
        assert page.locator("input[name=dose_taken]:checked").count() == 0
        assert page.input_value("input[name=dose_time]") == ""
        # Days without an entry are one tap away.
        missed = page.locator("[data-testid=missed-days] a")
        two_days_ago = dt.date.fromisoformat(TODAY) - dt.timedelta(days=2)
        assert missed.first.get_attribute("href").endswith(f"day={two_days_ago.isoformat()}")
        missed.first.click()
        assert two_days_ago.strftime("%d %b %Y") in page.inner_text("h1")
        page.click("input[name=pain][value='6'] + span")
        page.check("input[name=dose_taken][value=no]")
        page.fill("textarea[name=note]", "forgot")
        page.click("[data-testid=save-diary]")
        page.wait_for_selector("[data-testid=saved]")
        page.goto(f"{course.url}/patients/{pid}/diary/new?day={two_days_ago.isoformat()}")
        assert page.locator("[data-testid=correcting]").is_visible()
        assert page.locator("input[name=pain][value='6']").is_checked()
        assert page.locator("input[name=dose_taken][value=no]").is_checked()
        assert page.input_value("textarea[name=note]") == "forgot"
        links = page.locator("[data-testid=missed-days] a")
        hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
        assert not any(h.endswith(two_days_ago.isoformat()) for h in hrefs), hrefs
    finally:
        ctx.close()


def test_charts_are_legible_on_a_phone_with_a_text_alternative(course: Clinic, playwright) -> None:  # type: ignore[no-untyped-def]
    pid = course.ids["patient_a"]
    ctx, page = _page(playwright, course, "patient", **PHONE)
    try:
        page.goto(f"{course.url}/patients/{pid}/history")
        assert page.locator("[data-testid=missed-days] a").count() >= 1  # a way to fill a gap
        sizes = page.evaluate(
            "[...document.querySelectorAll('svg.chart text.axis')]"
            ".map(t => t.getBoundingClientRect().height)"
        )
        assert sizes and min(sizes) >= 10, f"axis text too small on a phone: {min(sizes)} px"
        dates = page.evaluate(
            "[...document.querySelectorAll('svg.chart text.axis')].map(t => t.textContent)"
            ".filter(t => /^\\d+ [A-Z][a-z]{2}$/.test(t))"
        )
        assert len(dates) >= 3, dates
        marks = page.evaluate(
            "[...document.querySelectorAll('svg.chart text.axis.dose')].map(t => t.textContent)"
        )
        for m in marks:
            if m != "mg":
                assert (float(m) * 2).is_integer(), f"dose mark {m} is not a round dose"
        # The legend is HTML outside the plot, so no line can cross it.
        assert page.locator("svg.chart .legend").count() == 0
        assert page.locator("[data-testid=chart] .chart-legend li").count() >= 2
        summary = page.inner_text("[data-testid=chart-summary]")
        assert "diary days" in summary and "Pain was" in summary
        page.click("text=The chart as a table")
        assert page.locator("details.chart-table tbody tr").count() >= 10
    finally:
        ctx.close()


def test_confirmations_after_saving(course: Clinic, playwright) -> None:  # type: ignore[no-untyped-def]
    pid = course.ids["patient_a"]
    ctx, page = _page(playwright, course, "clinician")
    try:
        page.goto(f"{course.url}/patients/{pid}")
        page.click("#screening button[type=submit]")
        assert "Screening saved" in page.inner_text("[data-testid=flash]")
        page.goto(f"{course.url}/patients/{pid}/plan/new")
        page.click("button[value=preview]")
        page.click("[data-testid=save-plan]")
        assert "Plan saved" in page.inner_text("[data-testid=flash]")
        page.goto(f"{course.url}/patients/{pid}?plan=other")
        assert page.locator("[data-testid=flash]").count() == 0
    finally:
        ctx.close()
    ctx, page = _page(playwright, course, "admin")
    try:
        page.goto(f"{course.url}/admin/users")
        new = "form[action='/admin/users']"  # each account row has its own password form
        page.fill(f"{new} input[name=name]", "Dr New")
        page.fill(f"{new} input[name=username]", "dr_new")
        page.fill(f"{new} input[name=password]", "another-horse-7")
        page.click("form[action='/admin/users'] button[type=submit]")
        assert page.inner_text("[data-testid=flash]") == "Account created."
    finally:
        ctx.close()


def _add_patients(clinic: Clinic) -> dict[str, int]:
    """Three more patients of Dr A: one whose name is a spreadsheet formula, one with a plan
    but no diary, one with a side effect."""
    today = dt.date.fromisoformat(TODAY)
    ids = {}
    with clinic.client("dr_a") as c:
        for given, family in (("=HYPERLINK(1)", "Formula"), ("Nora", "Nodiary"), ("Sid", "Effect")):
            body = {"given_name": given, "family_name": family, "profile": {"sex": "female"}}
            r = c.post("/api/patients", json=body)
            r.raise_for_status()
            ids[family] = r.json()["id"]
            if family != "Formula":
                start = (today - dt.timedelta(days=10)).isoformat()
                c.post(
                    f"/api/patients/{ids[family]}/plans", json={"start": start}
                ).raise_for_status()
        c.post(
            f"/api/patients/{ids['Effect']}/diary",
            json={
                "entry_date": TODAY,
                "pain": 5,
                "dose_taken": True,
                "side_effects": [{"code": "vivid_dreams", "severity": "mild"}],
            },
        ).raise_for_status()
    return ids


def test_patient_list_search_filters_sort_and_safe_csv(course: Clinic, playwright) -> None:  # type: ignore[no-untyped-def]
    ids = _add_patients(course)
    ctx, page = _page(playwright, course, "clinician")
    try:
        page.goto(f"{course.url}/patients")
        cells = "[data-testid=patient-list] tbody td:first-child"

        def names() -> list[str]:
            return page.locator(cells).all_inner_texts()

        assert len(names()) == 4
        page.fill("input[name=q]", "nora")
        page.click("[data-testid=patient-filters] button")
        assert names() == ["Nora Nodiary"]
        page.fill("input[name=q]", "")
        page.select_option("select[name=filter]", "diary_missing")
        page.click("[data-testid=patient-filters] button")
        assert "Nora Nodiary" in names() and "Sid Effect" not in names()
        page.select_option("select[name=filter]", "side_effects")
        page.click("[data-testid=patient-filters] button")
        assert names() == ["Sid Effect"]
        page.select_option("select[name=filter]", "")
        page.select_option("select[name=sort]", "name")
        page.click("[data-testid=patient-filters] button")
        families = [n.split()[-1] for n in names()]
        assert families == sorted(families, key=str.casefold)
        # The export is the list as shown, and no cell can run as a formula.
        page.select_option("select[name=filter]", "")
        page.click("[data-testid=patient-filters] button")
        with page.expect_download() as info:
            page.click("[data-testid=csv-export]")
        text = Path(info.value.path()).read_text()
        rows = list(csv.reader(io.StringIO(text)))
        assert rows[0][:3] == ["id", "given_name", "family_name"]
        formula = next(r for r in rows if r[0] == str(ids["Formula"]))
        assert formula[1] == "'=HYPERLINK(1)"
        assert all(not cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r)
        assert len(rows) == 5
    finally:
        ctx.close()


def test_profile_edit_rescreens_and_keeps_the_old_assessment(course: Clinic, playwright) -> None:  # type: ignore[no-untyped-def]
    pid = course.ids["patient_a"]
    with course.client("dr_a") as c:
        before = len(c.get(f"/api/patients/{pid}/assessments").json())
    ctx, page = _page(playwright, course, "clinician")
    try:
        page.goto(f"{course.url}/patients/{pid}")
        page.click("[data-testid=edit-profile]")
        # The form starts from the stored profile.
        assert page.locator("input[name=conditions][value=fibromyalgia]").is_checked()
        assert "duloxetine" in page.input_value("textarea[name=medications]")
        page.select_option("select[name=pregnancy]", "pregnant")
        page.click("[data-testid=save-profile]")
        assert "screened again" in page.inner_text("[data-testid=flash]")
        status = page.inner_text("[data-testid=screening-status]")
        assert status in ("contraindicated", "not yet"), status
        page.click("[data-testid=edit-profile]")
        page.fill("input[name=weight_kg]", "heavy")
        page.click("[data-testid=save-profile]")
        assert page.inner_text("[data-testid=field-error-weight_kg]").startswith("Weight (kg):")
        assert page.evaluate("document.activeElement.name") == "weight_kg"
        page.select_option("select[name=pregnancy]", "not_pregnant")
        page.fill("input[name=weight_kg]", "")
        page.click("[data-testid=save-profile]")
        page.wait_for_selector("[data-testid=flash]")
    finally:
        ctx.close()
    with course.client("dr_a") as c:
        after = c.get(f"/api/patients/{pid}/assessments").json()
    assert len(after) == before + 2


def test_diary_corrections_are_shown_with_every_version(course: Clinic, playwright) -> None:  # type: ignore[no-untyped-def]
    pid = course.ids["patient_a"]
    ctx, page = _page(playwright, course, "clinician")
    try:
        page.goto(f"{course.url}/patients/{pid}")
        page.click("[data-testid=corrections-link]")
        day = page.locator("[data-testid=correction-day]").first
        rows = day.locator("tbody tr")
        assert rows.count() == 2
        assert "pat_a (patient)" in rows.first.inner_text()
        assert "(in use)" in rows.last.inner_text()
        assert "user:" not in page.inner_text("main")
    finally:
        ctx.close()


def test_audit_log_is_paged_and_names_people(course: Clinic, playwright) -> None:  # type: ignore[no-untyped-def]
    with course.client("dr_a") as c:  # each read is audited: more than one page of events
        for _ in range(60):
            c.get(f"/api/patients/{course.ids['patient_a']}").raise_for_status()
    ctx, page = _page(playwright, course, "admin")
    try:
        page.goto(f"{course.url}/admin/audit")
        rows = page.locator("[data-testid=audit-table] tbody tr")
        assert rows.count() == 50
        first_page = rows.first.inner_text()
        assert "dr_a (clinician)" in page.inner_text("[data-testid=audit-table]")
        assert "user:" not in page.inner_text("[data-testid=audit-table]")
        page.click("[data-testid=audit-older]")
        assert "before=" in page.url
        assert page.locator("[data-testid=audit-table] tbody tr").first.inner_text() != first_page
        ids = [
            int(t)
            for t in page.locator(
                "[data-testid=audit-table] tbody td:first-child"
            ).all_inner_texts()
        ]
        assert ids == sorted(ids, reverse=True)
    finally:
        ctx.close()


def test_leaflet_and_wallet_card_from_the_menu(course: Clinic, playwright) -> None:  # type: ignore[no-untyped-def]
    ctx, page = _page(playwright, course, "patient", **PHONE)
    try:
        page.goto(f"{course.url}/patients/{course.ids['patient_a']}/today")
        page.click("header nav >> text=Leaflet and card")
        handout = page.locator("[data-testid=doc-handout]")
        bullets = handout.locator("li").all_inner_texts()
        assert bullets and not any(re.search(r"\[[\w, .-]+\]$", b) for b in bullets)
        card = page.inner_text("[data-testid=doc-wallet_card]")
        assert CLINIC_PHONE in card and "Dr A" in card
        assert page.locator("[data-testid=doc-prescription]").count() == 0
        href = page.locator("[data-testid=pdf-wallet_card]").get_attribute("href")
        r = page.request.get(course.url + href)
        assert r.status == 200 and r.body()[:5] == b"%PDF-"
        r = page.request.get(
            f"{course.url}/patients/{course.ids['patient_a']}/documents/prescription.pdf"
        )
        assert r.status == 403
    finally:
        ctx.close()


def test_print_stylesheet_keeps_the_summary_only(course: Clinic, playwright) -> None:  # type: ignore[no-untyped-def]
    ctx, page = _page(playwright, course, "clinician")
    try:
        page.goto(f"{course.url}/patients/{course.ids['patient_a']}")
        page.emulate_media(media="print")
        assert not page.locator("header.top").is_visible()
        assert not page.locator("#screening form").is_visible()
        assert not page.locator("[data-testid=patient-actions]").is_visible()
        assert page.locator("[data-testid=advice]").is_visible()
        assert page.locator("svg.chart").is_visible()
        page.emulate_media(media="screen")
        assert page.locator("header.top").is_visible()
    finally:
        ctx.close()


def test_a_refused_login_is_said_once_at_the_top(course: Clinic, playwright) -> None:  # type: ignore[no-untyped-def]
    ctx, page = _page(playwright, course, None, **PHONE)
    try:
        page.goto(f"{course.url}/login")
        page.fill("input[name=username]", "pat_a")
        page.fill("input[name=password]", "wrong-password-1")
        page.click("button[type=submit]")
        top = page.locator("[data-testid=form-error]")
        assert top.is_visible() and top.locator("a").count() == 0
        assert not top.inner_text().startswith("Password:")
        assert page.locator(".field-error").count() == 0
    finally:
        ctx.close()
