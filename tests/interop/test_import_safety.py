"""Safe import over real HTTP (issue 11, part 4): a Bundle about another patient is refused
unless the mapping is explicit, an imported plan or EHR order is screened, and a refusal
leaves every table exactly as it was."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ldnkit.clinical.models import Patient, Plan
from ldnkit.store.models import Base
from ldnkit.store.repositories import (
    add_diary_entries,
    create_clinician,
    create_patient,
    current_plan,
    save_plan,
)
from ldnkit.store.repositories.diary import diary as stored_diary
from tests.interop import hooks as h
from tests.interop.server import serve
from tests.interop.test_fhir_http import TODAY, _app, _Db

TRAMADOL_STOPPED = dt.date(2026, 5, 28)  # washout ends 2026-06-07, after TODAY (2026-06-01)


def _counts(db: _Db) -> dict[str, int]:
    with db.read() as s:
        return {
            t.name: s.scalar(select(func.count()).select_from(t))
            for t in Base.metadata.sorted_tables
        }


@pytest.fixture
def clinic(tmp_path, patient: Patient, plan: Plan, diary) -> Iterator[tuple]:
    """Patient 3-like source (eligible, plan, diary) and a target on a tramadol washout."""
    db = _Db(f"sqlite:///{tmp_path / 'ldn.db'}")

    def job(s: Session) -> dict[str, int]:
        doc = create_clinician(s, name="Dr A", email=None, actor="test")
        src = create_patient(
            s,
            clinician_id=doc.id,
            given_name="Source",
            family_name="Patient",
            birth_date=patient.birth_date,
            profile=patient.model_dump(mode="json", exclude={"id", "name"}),
            actor="test",
        )
        mine = plan.model_copy(update={"patient_id": str(src.id)})
        save_plan(
            s,
            patient_id=src.id,
            protocol_id=mine.protocol_id,
            start_date=mine.start,
            payload=mine.model_dump(mode="json"),
            actor="test",
        )
        add_diary_entries(s, [(src.id, e) for e in diary], today=TODAY, actor="test")
        washout = create_patient(
            s,
            clinician_id=doc.id,
            given_name="Target",
            family_name="Washout",
            birth_date=dt.date(1970, 1, 1),
            profile={
                "conditions": [{"code": "crps"}],
                "medications": [
                    {"name": "tramadol", "active": False, "last_dose": TRAMADOL_STOPPED.isoformat()}
                ],
            },
            actor="test",
        )
        eligible = create_patient(
            s,
            clinician_id=doc.id,
            given_name="Target",
            family_name="Eligible",
            birth_date=dt.date(1970, 1, 1),
            profile={"conditions": [{"code": "crps"}]},
            actor="test",
        )
        return {"doc": doc.id, "src": src.id, "washout": washout.id, "eligible": eligible.id}

    ids = db.write(job)
    with serve(_app(db)) as base, httpx.Client(base_url=base, timeout=20) as c:
        c.headers["X-User"] = f"clinician:{ids['doc']}"
        yield c, db, ids


def _everything(c: httpx.Client, pid: int) -> bytes:
    resp = c.get(f"/fhir/Patient/{pid}/$everything")
    assert resp.status_code == 200, resp.text
    return resp.content


def _refused(resp: httpx.Response, *words: str) -> str:
    assert resp.status_code == 422, resp.text
    body = resp.json()
    assert body["resourceType"] == "OperationOutcome"
    text = body["issue"][0]["diagnostics"]
    for word in words:
        assert word in text, text
    return text


def test_another_patients_bundle_is_refused_and_nothing_is_stored(clinic, diary) -> None:
    c, db, ids = clinic
    exported = _everything(c, ids["src"])
    before = _counts(db)
    resp = c.post(f"/fhir/Patient/{ids['washout']}", content=exported)
    _refused(resp, f"Patient/{ids['src']}", f"Patient/{ids['washout']}", "source_patient")
    assert resp.json()["issue"][0]["expression"] == ["subject"]
    assert _counts(db) == before
    with db.read() as s:
        assert stored_diary(s, ids["washout"]) == []
        assert current_plan(s, ids["washout"]) is None


def test_explicit_mapping_must_match_the_bundle(clinic) -> None:
    c, db, ids = clinic
    exported = _everything(c, ids["src"])
    before = _counts(db)
    resp = c.post(f"/fhir/Patient/{ids['eligible']}?source_patient=999", content=exported)
    _refused(resp, "source_patient=999", f"Patient/{ids['src']}")
    assert _counts(db) == before


def test_mapped_plan_is_screened_and_refused_for_a_washout(clinic) -> None:
    c, db, ids = clinic
    exported = _everything(c, ids["src"])
    before = _counts(db)
    url = f"/fhir/Patient/{ids['washout']}?source_patient={ids['src']}"
    text = _refused(c.post(url, content=exported), "OPIOID_WASHOUT", "2026-06-07")
    assert "not yet safe" in text
    assert _counts(db) == before  # neither the 21 diary days nor the plan


def test_mapped_import_into_an_eligible_patient_is_stored(clinic, diary) -> None:
    c, db, ids = clinic
    exported = _everything(c, ids["src"])
    url = f"/fhir/Patient/{ids['eligible']}?source_patient={ids['src']}"
    resp = c.post(url, content=exported)
    assert resp.status_code == 200, resp.text
    with db.read() as s:
        assert len(stored_diary(s, ids["eligible"])) == len(diary)
        assert current_plan(s, ids["eligible"]) is not None


def _ehr_order(dose_mg: float, *extra: dict) -> bytes:
    order = h.med_request(
        "ldn-ehr", "naltrexone 1.5 mg", status="active", dose_mg=dose_mg, start=TODAY
    )
    return json.dumps(h.bundle(order, *extra, kind="collection")).encode()


def test_ehr_order_is_screened_like_a_plan(clinic) -> None:
    c, db, ids = clinic
    before = _counts(db)
    url = f"/fhir/Patient/{ids['washout']}?source_patient={h.PATIENT_ID}"
    _refused(c.post(url, content=_ehr_order(1.5)), "OPIOID_WASHOUT")
    assert _counts(db) == before
    ok = c.post(f"/fhir/Patient/{ids['eligible']}?source_patient={h.PATIENT_ID}",
                content=_ehr_order(1.5))  # fmt: skip
    assert ok.status_code == 200, ok.text
    with db.read() as s:
        stored = current_plan(s, ids["eligible"])
        assert stored is not None and stored.payload["steps"][0]["dose_mg"] == "1.5"


def test_ehr_order_above_the_ldn_maximum_is_refused(clinic) -> None:
    c, db, ids = clinic
    before = _counts(db)
    url = f"/fhir/Patient/{ids['eligible']}?source_patient={h.PATIENT_ID}"
    _refused(c.post(url, content=_ehr_order(50)), "above the LDN maximum")
    assert _counts(db) == before


def test_active_opioid_in_the_bundle_blocks_the_imported_plan(clinic) -> None:
    c, db, ids = clinic
    before = _counts(db)
    oxy = h.med_request("oxy", "oxycodone 5 mg", status="active", dose_mg=5)
    url = f"/fhir/Patient/{ids['eligible']}?source_patient={h.PATIENT_ID}"
    _refused(c.post(url, content=_ehr_order(1.5, oxy)), "ACTIVE_OPIOID")
    assert _counts(db) == before


def test_patient_data_without_a_subject_is_refused(clinic) -> None:
    c, db, ids = clinic
    obs = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "72514-3"}]},
        "effectiveDateTime": "2026-05-01",
        "valueInteger": 4,
    }
    before = _counts(db)
    resp = c.post(
        f"/fhir/Patient/{ids['eligible']}",
        json={"resourceType": "Bundle", "type": "collection", "entry": [{"resource": obs}]},
    )
    _refused(resp, "must name its patient")
    assert _counts(db) == before


def test_a_bundle_with_a_duplicated_key_is_refused_naming_it(clinic) -> None:
    c, db, ids = clinic
    before = _counts(db)
    raw = b'{"resourceType": "Bundle", "type": "collection", "type": "batch", "entry": []}'
    resp = c.post(f"/fhir/Patient/{ids['eligible']}", content=raw)
    assert resp.status_code == 400 and "duplicate key 'type'" in resp.text
    assert _counts(db) == before
