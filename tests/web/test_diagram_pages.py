"""Diagram pages over real HTTP and in the real browser (Debian chromium via Playwright)."""

from __future__ import annotations

import os

import httpx
import pytest

from ldnkit.diagrams import available
from tests.web.conftest import Clinic
from tests.web.test_browser import CHROMIUM, _context, _shot, playwright  # noqa: F401

needs_dot = pytest.mark.skipif(not available(), reason="Graphviz `dot` not installed")


@needs_dot
def test_mechanism_page_shows_diagram_table_and_words(clinic: Clinic) -> None:
    r = httpx.get(f"{clinic.url}/evidence/mechanism", timeout=30)
    assert r.status_code == 200
    assert 'data-diagram="ldn-mechanism"' in r.text
    assert 'data-testid="mechanism-diagram-steps"' in r.text
    assert "Contested:" in r.text and "bruun-2024" in r.text
    api = httpx.get(f"{clinic.url}/api/evidence/mechanism", timeout=30).json()
    assert {"from", "to", "evidence", "sources"} <= set(api["edges"][0])


@needs_dot
def test_design_pages_list_and_draw_each_design(clinic: Clinic) -> None:
    listing = httpx.get(f"{clinic.url}/evidence/designs", timeout=30)
    assert listing.status_code == 200 and "/evidence/designs/crossover" in listing.text
    r = httpx.get(f"{clinic.url}/evidence/designs/crossover", timeout=30)
    assert r.status_code == 200
    assert 'data-diagram="trial-crossover"' in r.text and 'data-chart="schedule"' in r.text
    missing = httpx.get(f"{clinic.url}/evidence/designs/nope", timeout=30)
    assert missing.status_code == 404


@pytest.mark.browser
@needs_dot
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium missing")
def test_mechanism_diagram_in_the_browser(clinic: Clinic, playwright) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    ctx = _context(playwright, viewport={"width": 390, "height": 844})
    try:
        page = ctx.new_page()
        page.goto(f"{clinic.url}/evidence/mechanism")
        svg = page.locator("svg[data-diagram=ldn-mechanism]")
        assert svg.is_visible()
        assert svg.get_attribute("role") == "img"
        steps = page.locator("[data-testid=mechanism-diagram-steps] li")
        assert steps.count() >= 10
        _shot(page, "mechanism-phone")
        page.goto(f"{clinic.url}/evidence/designs/n-of-1")
        assert page.locator("svg[data-chart=schedule]").is_visible()
        _shot(page, "trial-n-of-1")
    finally:
        ctx.close()


@needs_dot
def test_decision_pages_general_case_and_patient(clinic: Clinic) -> None:
    """Issue 18: the decision process for everyone, a CDS case's path from its link, and a
    patient's own path for their clinician only."""
    r = httpx.get(f"{clinic.url}/evidence/decision", timeout=30)
    assert r.status_code == 200 and 'data-diagram="ldn-decision"' in r.text
    case = httpx.get(
        f"{clinic.url}/evidence/decision",
        params={"codes": "ACTIVE_OPIOID", "rule": "hold"},
        timeout=30,
    )
    assert case.status_code == 200 and "path highlighted" in case.text
    pid = clinic.ids["patient_a"]
    with clinic.client("dr_a") as c:
        mine = c.get(f"/patients/{pid}/decision")
    assert mine.status_code == 200 and "Decision path:" in mine.text
    with clinic.client("dr_b") as c:
        assert c.get(f"/patients/{pid}/decision").status_code in (403, 404)
    with clinic.client("pat_a") as c:
        assert c.get(f"/patients/{pid}/decision").status_code == 403
