"""The interop routers mounted in the real web app: its logins, roles, CSRF rule and database.

FHIR $everything and import obey the web app's access rules for every role; the CDS service
answers without login under /api to a signed EHR call (and refuses an unsigned one); documents
come from the stored plan.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator

import httpx
import pytest
from pypdf import PdfReader
from sqlalchemy.orm import Session

from ldnkit.clinical.diary import DiaryEntry
from ldnkit.clinical.titration import titration_plan
from ldnkit.interop.fhir import common as fc
from ldnkit.store import create_store_engine, upgrade
from ldnkit.store import repositories as repo
from ldnkit.web import WebSettings, create_app
from ldnkit.web.main import interop_routers
from tests.interop import hooks as h
from tests.interop.cds_keys import EhrClient
from tests.interop.server import serve
from tests.web.conftest import PASSWORD, seed

TODAY = dt.date(2026, 11, 25)
START = dt.date(2026, 10, 1)


@pytest.fixture(scope="module")
def ehr(tmp_path_factory) -> EhrClient:
    return EhrClient.create(tmp_path_factory.mktemp("ehr"))


@pytest.fixture(scope="module")
def web(tmp_path_factory, ehr) -> Iterator[tuple[str, dict[str, int]]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('webinterop') / 'clinic.db'}"
    upgrade(url)
    ids = seed(url)
    engine = create_store_engine(url)
    plan = titration_plan("fibromyalgia", START, patient_id=str(ids["patient_a"]))
    entries = [
        DiaryEntry(
            entry_date=START + dt.timedelta(days=i - 7), pain=7 - (i > 20), dose_taken=i >= 7
        )
        for i in range(40)
    ]
    with Session(engine) as s, s.begin():
        repo.save_plan(
            s,
            patient_id=ids["patient_a"],
            protocol_id=plan.protocol_id,
            start_date=plan.start,
            payload=plan.model_dump(mode="json"),
            actor="test",
        )
        repo.add_diary_entries(
            s, [(ids["patient_a"], e) for e in entries], today=TODAY, actor="test"
        )
    engine.dispose()
    settings = WebSettings(
        database_url=url,
        secret_key="test-secret",
        today=TODAY.isoformat(),
        cds_clients=str(ehr.clients_path),
    )
    app = create_app(settings, extra_routers=interop_routers(settings))
    with serve(app, lifespan="on") as base:
        yield base, ids


def client(base: str, who: str | None = None) -> httpx.Client:
    headers = {}
    if who:
        r = httpx.post(f"{base}/api/auth/login", json={"username": who, "password": PASSWORD})
        r.raise_for_status()
        headers["Authorization"] = f"Bearer {r.json()['token']}"
    return httpx.Client(base_url=base, headers=headers, timeout=30)


def test_everything_for_every_role(web):
    base, ids = web
    url = f"/fhir/Patient/{ids['patient_a']}/$everything"
    with client(base, "dr_a") as c:
        resp = c.get(url)
    assert resp.status_code == 200, resp.text
    bundle = resp.json()
    fc.validate_bundle(bundle)
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds.count("Observation") == 40 and "MedicationRequest" in kinds
    patient = bundle["entry"][0]["resource"]
    assert patient["name"] == [{"text": "Pat A"}]
    with client(base, "pat_a") as c:
        assert c.get(url).status_code == 200
    for who, status in (("dr_b", 403), ("pat_b", 403), ("admin", 403), (None, 401)):
        with client(base, who) as c:
            resp = c.get(url)
        assert resp.status_code == status, (who, resp.text)
        assert resp.json()["resourceType"] == "OperationOutcome"
    with client(base, "dr_a") as c:
        assert c.get("/fhir/Patient/99999/$everything").status_code == 404


def test_import_is_for_the_clinician_and_idempotent(web):
    base, ids = web
    with client(base, "dr_a") as c:
        exported = c.get(f"/fhir/Patient/{ids['patient_a']}/$everything").content
    target = f"/fhir/Patient/{ids['patient_b']}"
    for who in ("pat_b", "dr_a", "admin"):
        with client(base, who) as c:
            assert c.post(target, content=exported).status_code == 403, who
    with client(base, "dr_b") as c:
        # patient A's record into patient B: refused unless the mapping is explicit (issue 11)
        before = c.get(f"{target}/$everything").json()
        refused = c.post(target, content=exported)
        assert refused.status_code == 422 and "source_patient" in refused.text
        assert c.get(f"{target}/$everything").json()["total"] == before["total"]
        mapped = f"{target}?source_patient={ids['patient_a']}"
        first = c.post(mapped, content=exported).json()
        again = c.post(mapped, content=exported).json()
        texts = [i["details"]["text"] for i in first["issue"]]
        assert "40 diary days added" in texts and "plan saved as a new version" in texts
        texts = [i["details"]["text"] for i in again["issue"]]
        assert "0 diary days added" in texts and "plan unchanged" in texts
        back = c.get(f"{target}/$everything").json()
    pains = [
        e["resource"]["valueInteger"]
        for e in back["entry"]
        if e["resource"]["resourceType"] == "Observation"
    ]
    assert len(pains) == 40


def test_cds_without_login_under_api(web, ehr):
    base, _ = web
    oxy = h.med_request("oxy-1", "oxycodone 5 mg", dose_mg=5)
    ldn = h.med_request("ldn", "naltrexone 3 mg", status="active", dose_mg=3)
    with client(base) as c:
        unsigned = c.post(
            "/api/cds-services/ldn-order-select", json=h.order_select(oxy, medications=(ldn,))
        )
        assert unsigned.status_code == 401 and unsigned.json()["error"] == "unauthorized"
    with client(base) as c:
        c.auth = ehr.auth()
        assert c.get("/api/cds-services").status_code == 200
        resp = c.post(
            "/api/cds-services/ldn-order-select", json=h.order_select(oxy, medications=(ldn,))
        )
        assert resp.status_code == 200, resp.text
        assert resp.json()["cards"][0]["indicator"] == "critical"
        bad = c.post("/api/cds-services/ldn-order-select", json={"hook": "order-select"})
        assert bad.status_code == 400 and bad.json()["field"] == "hookInstance"


def test_documents_of_the_stored_plan(web):
    base, ids = web
    url = f"/api/patients/{ids['patient_a']}/documents"
    with client(base, "pat_a") as c:
        pdf = c.get(f"{url}/handout")
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        text = re.sub(
            r"\s+",
            " ",
            " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages),
        )
        assert "2026-10-01" in text and "1.5 mg" in text and "Dr A" in text
        assert f"/patients/{ids['patient_a']}/plan.ics" in text
        html = c.get(f"{url}/prescription", params={"format": "html"})
        assert html.status_code == 200 and "Compounding prescription" in html.text
        assert c.get(f"{url}/wallet_card").status_code == 200
    with client(base, "dr_b") as c:
        assert c.get(f"{url}/handout").status_code == 403
    with client(base, "dr_b") as c:
        assert c.get(f"/api/patients/{ids['patient_b']}/documents/nope").status_code == 422
