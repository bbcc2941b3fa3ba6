"""N-of-1 trials over HTTP on a real server: set up, access rules, the pharmacist's sealed
list (audited), blinded pages, unblinding rules, report (page and PDF) and pooling."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import httpx
import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ldnkit.interop.fhir.common import validate_bundle
from ldnkit.store import create_store_engine
from ldnkit.store import nof1_trials as svc
from ldnkit.store import repositories as repo
from ldnkit.store.models import AuditEventRow, Nof1AllocationRow
from ldnkit.store.repositories import nof1 as trials
from tests.web.conftest import PASSWORD, TODAY, Clinic, running_clinic

TODAY_D = dt.date.fromisoformat(TODAY)


def _completed_trial(db_url: str, patient_id: int, effect: float, seed: int) -> int:
    """A trial that ended before today, with a diary that follows its sealed packs."""
    engine = create_store_engine(db_url)
    try:
        with Session(engine) as s, s.begin():
            start = TODAY_D - dt.timedelta(days=200)
            row, design = svc.start_trial(
                s, patient_id, start, "test", dose_mg=Decimal("3"), seed=seed, pairs=2
            )
            alloc = trials.allocation_of(
                s.scalars(
                    select(Nof1AllocationRow).where(Nof1AllocationRow.trial_id == row.id)
                ).one()
            )
            rng = np.random.default_rng(seed)
            entries, e = [], 0.0
            for day in range(design.total_days):
                e = 0.3 * e + rng.normal(0, 0.8)
                info = design.day_info(design.date_of(day))
                on = info.period is not None and alloc.is_ldn(info.period)
                pain = int(np.clip(round(6 + e + effect * on), 0, 10))
                entries.append(
                    {"entry_date": design.date_of(day), "pain": pain, "dose_taken": True}
                )
            repo.add_diary_entries(s, [(patient_id, x) for x in entries], today=TODAY_D, actor="t")
            trials.save_answer(s, row.id, 1, "ldn", 1, "t")
            return row.id
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clinic]:
    with running_clinic(tmp_path_factory.mktemp("nof1web")) as c:
        engine = create_store_engine(c.db_url)
        with Session(engine, expire_on_commit=False) as s, s.begin():
            repo.create_user(s, username="pharm", password=PASSWORD, role="pharmacist", actor="t")
            p2 = repo.create_patient(
                s,
                clinician_id=c.ids["clinician_a"],
                given_name="Old",
                family_name="Trial",
                profile={},
                actor="t",
            )
            p3 = repo.create_patient(
                s,
                clinician_id=c.ids["clinician_a"],
                given_name="Older",
                family_name="Trial",
                profile={},
                actor="t",
            )
        engine.dispose()
        c.ids["done_1"] = _completed_trial(c.db_url, p2.id, -2.0, 71)
        c.ids["done_2"] = _completed_trial(c.db_url, p3.id, -0.5, 72)
        yield c


def _create(clinic: Clinic) -> int:
    with clinic.client("dr_a") as c:
        r = c.post(
            f"/api/patients/{clinic.ids['patient_a']}/nof1",
            json={"start": TODAY, "dose_mg": "4.5", "pairs": 3},
        )
        assert r.status_code == 201, r.text
        body = r.json()
    assert body["design"]["settings"]["seed"] is None
    assert "pack_contents" not in str(body) and 'placebo"' not in str(body)
    return int(body["id"])


def test_setup_access_and_blinding(clinic: Clinic) -> None:
    tid = _create(clinic)
    with clinic.client("dr_a") as c:
        no_dose = c.post(f"/api/patients/{clinic.ids['patient_a']}/nof1", json={"start": TODAY})
        assert no_dose.status_code == 422 and "dose_mg" in no_dose.text  # no titration plan
        bad = c.post(
            f"/api/patients/{clinic.ids['patient_a']}/nof1", json={"start": TODAY, "pairs": 1}
        )
        assert bad.status_code == 422 and "pairs" in bad.text
        again = c.post(
            f"/api/patients/{clinic.ids['patient_a']}/nof1", json={"start": TODAY, "dose_mg": "3"}
        )
        assert again.status_code == 422 and "still running" in again.text
        status = c.get(f"/api/nof1/{tid}/status").json()
        assert status["stage"] == "run_in" and status["stop_signals"] == []
        early = c.post(f"/api/nof1/{tid}/unblind", json={"kind": "final"})
        assert early.status_code == 422 and "emergency" in early.text
        assert c.get(f"/api/pharmacy/nof1/{tid}").status_code == 403
        page = c.get(f"/nof1/{tid}")
        assert page.status_code == 200 and "pack contents sealed" in page.text
        blinded = c.get(f"/api/nof1/{tid}/fhir").json()
        validate_bundle(blinded)
        arms = blinded["entry"][0]["resource"]["arm"]
        assert [a["description"] for a in arms] == ["blinded until the trial ends"] * 2
        assert "'arm'" not in str(blinded["entry"][2:])  # no pack contents on observations
        assert "Pack A: " not in page.text
    for who in ("dr_b", "pat_b", "admin", "pharm"):
        with clinic.client(who) as c:
            assert c.get(f"/api/nof1/{tid}").status_code == 403, who
    with httpx.Client(base_url=clinic.url) as anon:
        assert anon.get(f"/api/nof1/{tid}").status_code == 401
    with clinic.client("pat_a") as c:
        assert c.get(f"/api/nof1/{tid}").status_code == 200
        assert c.get(f"/api/nof1/{tid}/status").status_code == 403
        ics = c.get(f"/api/nof1/{tid}/calendar.ics")
        assert ics.status_code == 200 and "pack A" in ics.text and "placebo" not in ics.text
        today = c.get(f"/patients/{clinic.ids['patient_a']}/today")
        assert "Trial run-in" in today.text and "nof1-today" in today.text
        assert c.post(f"/api/nof1/{tid}/unblind", json={"kind": "final"}).status_code == 403
        assert c.get("/api/pharmacy/nof1").status_code == 403
    with clinic.client("pharm") as c:
        listing = c.get("/api/pharmacy/nof1").json()
        assert tid in [t["id"] for t in listing] and "Pat" not in str(listing)
        sealed = c.get(f"/api/pharmacy/nof1/{tid}").json()
        assert set(sealed["pack_contents"].values()) == {"ldn", "placebo"}
        assert all("placebo" not in ln["label"] for ln in sealed["lines"])
        page = c.get(f"/pharmacy/nof1/{tid}")
        assert page.status_code == 200 and "microcrystalline cellulose" in page.text
    engine = create_store_engine(clinic.db_url)
    with Session(engine) as s:
        reads = s.scalars(
            select(AuditEventRow).where(
                AuditEventRow.action == "read_allocation", AuditEventRow.entity_id == tid
            )
        ).all()
        assert len(reads) == 2 and {e.details["purpose"] for e in reads} == {"pharmacy"}
    engine.dispose()


def test_emergency_unblinding_needs_a_coded_reason(clinic: Clinic) -> None:
    with clinic.client("dr_b") as c:
        r = c.post(
            f"/api/patients/{clinic.ids['patient_b']}/nof1", json={"start": TODAY, "dose_mg": "1.5"}
        )
        tid = r.json()["id"]
        bad = c.post(f"/api/nof1/{tid}/unblind", json={"kind": "emergency", "reason": "curious"})
        assert bad.status_code == 422 and "reason" in bad.text
        ok = c.post(
            f"/api/nof1/{tid}/unblind",
            json={"kind": "emergency", "reason": "serious_adverse_event", "note": "rash"},
        )
        assert ok.status_code == 200 and ok.json()["status"] == "stopped"
        assert ok.json()["unblind_kind"] == "emergency"


def test_unblind_report_and_pool(clinic: Clinic) -> None:
    done = [clinic.ids["done_1"], clinic.ids["done_2"]]
    with clinic.client("dr_a") as c:
        assert "pool-empty" in c.get("/nof1-pool").text  # nothing unblinded yet
        for tid in done:
            r = c.post(f"/api/nof1/{tid}/unblind", json={"kind": "final"})
            assert r.status_code == 200, r.text
            rep = r.json()["result"]
            assert rep["headline"].startswith("LDN 3 mg lowered your pain")
            assert rep["decision"] in ("continue", "stop", "try_another_dose")
        page = c.get(f"/nof1/{done[0]}")
        assert 'data-testid="report"' in page.text and "placebo" in page.text
        pdf = c.get(f"/api/nof1/{done[0]}/report.pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        bundle = c.get(f"/api/nof1/{done[0]}/fhir").json()
        validate_bundle(bundle)
        kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
        assert kinds[:2] == ["ResearchStudy", "ResearchSubject"] and kinds.count("Observation") > 20
        assert "placebo" in str(bundle["entry"][0]["resource"]["arm"])
        assert bundle["entry"][-1]["resource"]["id"].endswith("effect")
        pooled = c.get("/api/nof1-pool").json()
        assert pooled["clinic"]["k"] == 2 and pooled["published_rcts"]["k"] >= 2
        csv_text = c.get("/api/nof1-pool/export.csv").text
        assert csv_text.count("N1-") == 2 and "Trial" not in csv_text and "Older" not in csv_text
        assert "Average effect" in c.get("/nof1-pool").text
    with clinic.client("dr_b") as c:
        assert c.get(f"/api/nof1/{done[0]}/report.pdf").status_code == 403
        assert c.get("/api/nof1-pool").json()["clinic"] is None


def _trial_routes() -> list[tuple[str, str]]:
    from ldnkit.web import WebSettings, create_app

    app = create_app(WebSettings(database_url="sqlite:///:memory:", secret_key="x"))

    def walk(routes):  # type: ignore[no-untyped-def]
        for r in routes:
            if hasattr(r, "effective_route_contexts"):
                yield from r.effective_route_contexts()
            else:
                yield r

    out = set()
    for r in walk(app.routes):
        path = getattr(r, "path", "")
        if "{trial_id}" in path:
            for m in getattr(r, "methods", ()) or ():
                if m != "HEAD":
                    out.add((m, path))
    return sorted(out)


TRIAL_ROUTES = _trial_routes()


def test_every_trial_route_is_covered() -> None:
    assert len(TRIAL_ROUTES) >= 14, TRIAL_ROUTES


@pytest.mark.parametrize(
    ("method", "path"), TRIAL_ROUTES, ids=[f"{m} {p}" for m, p in TRIAL_ROUTES]
)
def test_trial_route_access(clinic: Clinic, method: str, path: str) -> None:
    """Someone else's trial is 403 for every role but its own; the sealed list is the
    pharmacist's alone; anonymous callers are refused; unknown trials are 404."""
    tid = clinic.ids["done_2"]  # patient of dr_a
    url = path.replace("{trial_id}", str(tid))
    body = {} if method != "GET" else None
    pharmacy = path.startswith(("/pharmacy", "/api/pharmacy"))
    outsiders = (
        ("dr_b", "pat_b", "admin", "dr_a", "pat_a")
        if pharmacy
        else ("dr_b", "pat_b", "admin", "pharm")
    )
    for who in outsiders:
        with clinic.client(who) as c:
            r = c.request(method, url, json=body)
            assert r.status_code == 403, (who, method, url, r.status_code, r.text[:200])
    with httpx.Client(base_url=clinic.url) as anon:
        r = anon.request(method, url, json=body)
        assert r.status_code in ((401,) if path.startswith("/api") else (303, 403)), (method, url)
    insider = "pharm" if pharmacy else "dr_a"
    with clinic.client(insider) as c:
        r = c.request(method, path.replace("{trial_id}", "987654"), json=body)
        assert r.status_code == 404, (method, path, r.status_code, r.text[:200])
