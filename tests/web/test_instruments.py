"""Instruments over real HTTP: FHIR Questionnaires, scored responses, 422 naming the item,
idempotent retries, what the plan makes due, the phone form, the clinician's PEG trend, and
the responses exported as LOINC-coded Observations in the FHIR Bundle."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ldnkit.interop.fhir.common import validate_bundle
from ldnkit.interop.fhir.export import export_bundle
from ldnkit.interop.fhir.records import StoreRecords
from ldnkit.store import create_store_engine
from ldnkit.store.models import AuditEventRow, InstrumentResponseRow
from ldnkit.web.db import Database
from tests.web.conftest import PASSWORD, TODAY, Clinic, running_clinic

FICTIONAL = Path(__file__).parents[1] / "clinical" / "data" / "fictional_instruments.yaml"
PLAN_START = (dt.date.fromisoformat(TODAY) - dt.timedelta(days=7)).isoformat()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clinic]:
    with running_clinic(
        tmp_path_factory.mktemp("instruments"), instruments_file=str(FICTIONAL)
    ) as c:
        pid = c.ids["patient_a"]
        with c.client("dr_a") as dr:
            assert dr.post(f"/api/patients/{pid}/plans", json={"start": PLAN_START}).is_success
        yield c


def _count(site: Clinic, **where: object) -> int:
    engine = create_store_engine(site.db_url)
    try:
        with Session(engine) as s:
            stmt = select(func.count()).select_from(InstrumentResponseRow)
            for k, v in where.items():
                stmt = stmt.where(getattr(InstrumentResponseRow, k) == v)
            return s.scalar(stmt) or 0
    finally:
        engine.dispose()


def test_catalogue_lists_shipped_and_clinic_instruments(site: Clinic) -> None:
    with site.client("pat_a") as c:
        ids = {i["id"] for i in c.get("/api/instruments").json()}
        assert {"nrs", "peg", "pgic", "zz-teapot-index", "zz-kettle-scale"} <= ids
        q = c.get("/api/instruments/peg/questionnaire").json()
        assert q["resourceType"] == "Questionnaire" and q["code"][0]["code"] == "91148-7"
        assert c.get("/api/instruments/bpi/questionnaire").status_code == 404
    assert httpx.get(f"{site.url}/api/instruments").status_code == 401


def test_peg_due_then_stored_scored_and_idempotent(site: Clinic) -> None:
    pid = site.ids["patient_a"]
    with site.client("pat_a") as c:
        due = c.get(f"/api/patients/{pid}/instruments/due").json()
        assert {"instrument_id": "peg", "on": TODAY, "reason": "week 1"} in due
        key = str(uuid.uuid4())
        body = {"answers": {"pain_average": 6, "enjoyment": 4, "activity": 5}, "client_id": key}
        url = f"/api/patients/{pid}/instruments/peg/responses"
        first = c.post(url, json=body)
        assert first.status_code == 201, first.text
        assert first.json()["score"] in ("5", 5, "5.0", 5.0)
        again = c.post(url, json=body)
        assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
        assert _count(site, client_id=key) == 1
        assert all(
            d["instrument_id"] != "peg"
            for d in c.get(f"/api/patients/{pid}/instruments/due").json()
        )
        listed = c.get(f"/api/patients/{pid}/instruments/responses?instrument=peg").json()
        assert [r["id"] for r in listed] == [first.json()["id"]]


@pytest.mark.parametrize(
    ("instrument", "answers", "field"),
    [
        ("peg", {"pain_average": 6, "enjoyment": 4}, "answers.activity"),
        ("peg", {"pain_average": 6, "enjoyment": 14, "activity": 1}, "answers.enjoyment"),
        ("pgic", {"change": 0}, "answers.change"),
        ("zz-kettle-scale", {"whistle": 1, "steam": 0}, "answers.whistle"),
    ],
)
def test_bad_answers_are_422_naming_the_item_and_store_nothing(
    site: Clinic, instrument: str, answers: dict[str, int], field: str
) -> None:
    pid = site.ids["patient_a"]
    before = _count(site, patient_id=pid)
    with site.client("pat_a") as c:
        r = c.post(
            f"/api/patients/{pid}/instruments/{instrument}/responses", json={"answers": answers}
        )
    assert r.status_code == 422
    assert r.json()["field"] == field
    assert _count(site, patient_id=pid) == before


def test_someone_elses_patient_is_refused(site: Clinic) -> None:
    pid = site.ids["patient_b"]
    with site.client("pat_a") as c:
        r = c.post(
            f"/api/patients/{pid}/instruments/pgic/responses", json={"answers": {"change": 2}}
        )
        assert r.status_code == 403
        assert c.get(f"/api/patients/{pid}/instruments/responses").status_code == 403


@contextmanager
def _browser_login(site: Clinic, who: str) -> Iterator[httpx.Client]:
    """A cookie session, as a browser holds one (forms need the CSRF token)."""
    with httpx.Client(base_url=site.url, timeout=30, follow_redirects=True) as c:
        page = c.get("/login")
        r = c.post(
            "/login", data={"username": who, "password": PASSWORD, "csrf_token": _csrf(page.text)}
        )
        assert r.status_code == 200
        yield c


def _csrf(html: str) -> str:
    return html.split('name="csrf_token" value="')[1].split('"')[0]


def test_phone_form_validates_and_saves_and_clinician_sees_the_trend(site: Clinic) -> None:
    pid = site.ids["patient_a"]
    with _browser_login(site, "pat_a") as c:
        form = c.get(f"/patients/{pid}/instruments/pgic/new")
        assert form.status_code == 200 and "Very much improved" in form.text
        bad = c.post(f"/patients/{pid}/instruments/pgic", data={"csrf_token": _csrf(form.text)})
        # The page names the item in words (issue 15), never the internal path.
        assert bad.status_code == 422 and "Change:" in bad.text
        assert "answers.change" not in bad.text
        ok = c.post(
            f"/patients/{pid}/instruments/pgic",
            data={"csrf_token": _csrf(form.text), "item_change": "3"},
        )
        assert ok.status_code == 200 and 'data-testid="instrument-saved"' in ok.text
    with site.client("pat_a") as api:  # the baseline PEG, given on the plan's first day
        r = api.post(
            f"/api/patients/{pid}/instruments/peg/responses",
            json={
                "answers": {"pain_average": 8, "enjoyment": 8, "activity": 8},
                "completed_on": PLAN_START,
            },
        )
        assert r.status_code == 201
    with _browser_login(site, "dr_a") as c:
        listing = c.get(f"/patients/{pid}/instruments")
        assert "Minimally improved" in listing.text  # the PGIC just given, by its label
        assert "Baseline 8 (" in listing.text and "37.5% improvement" in listing.text
        assert "a clinically important change" in listing.text
        page = c.get(f"/patients/{pid}")
        assert "peg-trend.svg" in page.text
        svg = c.get(f"/patients/{pid}/instruments/peg-trend.svg")
        assert svg.headers["content-type"].startswith("image/svg+xml")
        assert svg.text.count('class="score"') == _count(site, patient_id=pid, instrument_id="peg")
    engine = create_store_engine(site.db_url)
    with Session(engine) as s:
        audited = s.scalar(
            select(func.count())
            .select_from(AuditEventRow)
            .where(AuditEventRow.entity == "instrument_response")
        )
    engine.dispose()
    assert audited == _count(site)


def test_responses_travel_in_the_fhir_bundle_as_loinc_coded_observations(site: Clinic) -> None:
    pid = site.ids["patient_a"]
    db = Database(site.db_url)
    try:
        rec = StoreRecords(db.read, db.write).care_record(pid)
    finally:
        db.stop()
    assert rec.instrument_responses
    bundle = export_bundle(
        rec.patient, plan=rec.plan, diary=rec.diary, instrument_responses=rec.instrument_responses
    )
    validate_bundle(bundle)
    obs = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Observation"
        and any(c.get("code") == "91147-9" for c in e["resource"]["code"]["coding"])
    ]
    # oldest first: the baseline (8) on the plan's first day, then the week-1 PEG (5)
    assert [o["valueQuantity"]["value"] for o in obs] == [8.0, 5.0]
    assert [o["effectiveDateTime"] for o in obs] == [PLAN_START, TODAY]
    items = {c["code"]["coding"][0]["code"] for c in obs[0]["component"]}
    assert items == {"75893-8", "91145-3", "91146-1"}


def test_a_bad_clinic_file_stops_the_app_at_start_up(tmp_path: Path) -> None:
    from ldnkit.errors import ValidationError
    from ldnkit.web import WebSettings, create_app

    bad = tmp_path / "clinic.yaml"
    bad.write_text(
        "instruments:\n  - id: peg\n    name: Again\n    scoring: {rule: sum}\n"
        "    items: [{id: a, text: A, min: 0, max: 3}]\n"
    )
    settings = WebSettings(
        database_url=f"sqlite:///{tmp_path / 'x.db'}", secret_key="k", instruments_file=str(bad)
    )
    with pytest.raises(ValidationError, match="clashes with an instrument ldnkit ships"):
        create_app(settings)
