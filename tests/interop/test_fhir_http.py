"""FHIR REST over real HTTP on SQLite: $everything validates, access rules hold, and an
export imported into a fresh database gives back the same diary and plan (twice: idempotent).

The web app's access dependencies are stood in for by `_Access` below (same rules: a clinician
reaches only their own patients, a patient only themselves, only the clinician may import);
the lead mounts the real ones (see the `ldnkit.web.routes.fhir` docstring).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest
from fastapi import Depends, FastAPI, Header, Path
from sqlalchemy.orm import Session, sessionmaker

from ldnkit.errors import Forbidden, LdnkitError
from ldnkit.interop.fhir import common as fc
from ldnkit.interop.fhir.records import StoreRecords
from ldnkit.store import create_store_engine, upgrade
from ldnkit.store.repositories import (
    add_diary_entries,
    create_clinician,
    create_patient,
    current_plan,
    get_patient,
    save_assessment,
    save_plan,
)
from ldnkit.store.repositories.diary import diary as stored_diary
from ldnkit.web.routes.fhir import make_fhir_router
from tests.interop.server import serve

TODAY = dt.date(2026, 6, 1)


class NotAuthenticated(LdnkitError):
    """Stands in for the web app's exception of the same name."""


@dataclass(frozen=True)
class Ref:
    id: int


class _Db:
    def __init__(self, url: str) -> None:
        self.engine = create_store_engine(url)
        upgrade(self.engine)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self.sessions() as s:
            yield s

    def write(self, fn):  # type: ignore[no-untyped-def]
        with self.sessions() as s, s.begin():
            return fn(s)


def _app(db: _Db) -> FastAPI:
    def user(x_user: str | None = Header(default=None)) -> tuple[str, int]:
        if not x_user:
            raise NotAuthenticated("not logged in")
        role, _, ident = x_user.partition(":")
        return role, int(ident)

    def read_patient(patient_id: int = Path(ge=1), who: tuple[str, int] = Depends(user)) -> Ref:
        with db.read() as s:
            row = get_patient(s, patient_id)
            owner = row.clinician_id
        role, ident = who
        if not (
            (role == "clinician" and ident == owner) or (role == "patient" and ident == patient_id)
        ):
            raise Forbidden("this patient's record is not yours to see")
        return Ref(patient_id)

    def write_patient(
        ref: Ref = Depends(read_patient), who: tuple[str, int] = Depends(user)
    ) -> Ref:
        if who[0] != "clinician":
            raise Forbidden("only the patient's clinician may change this")
        return ref

    app = FastAPI()
    app.include_router(
        make_fhir_router(
            records=lambda: StoreRecords(db.read, db.write),
            read_patient=read_patient,
            write_patient=write_patient,
            actor=lambda who=Depends(user): f"{who[0]}:{who[1]}",
            today=lambda: TODAY,
        )
    )
    return app


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Iterator[tuple[httpx.Client, _Db, int]]:
    db = _Db(f"sqlite:///{tmp_path_factory.mktemp('src') / 'ldn.db'}")
    with serve(_app(db)) as base, httpx.Client(base_url=base, timeout=10) as c:
        yield c, db, 0


@pytest.fixture
def seeded(source, patient, surgery_plan, assessment, diary):
    client, db, _ = source

    def job(s: Session) -> int:
        doc = create_clinician(s, name="Dr A", email=None, actor="test")
        other = create_clinician(s, name="Dr B", email=None, actor="test")
        profile = patient.model_dump(mode="json", exclude={"id", "name"})
        row = create_patient(
            s,
            clinician_id=doc.id,
            given_name="Demo",
            family_name="Patient",
            birth_date=patient.birth_date,
            profile=profile,
            actor="test",
        )
        plan = surgery_plan.model_copy(update={"patient_id": str(row.id)})
        save_plan(
            s,
            patient_id=row.id,
            protocol_id=plan.protocol_id,
            start_date=plan.start,
            payload=plan.model_dump(mode="json"),
            actor="test",
        )
        save_assessment(
            s,
            patient_id=row.id,
            assessed_on=assessment.on,
            status=assessment.status,
            payload=assessment.model_dump(mode="json"),
            actor="test",
        )
        add_diary_entries(s, [(row.id, e) for e in diary], today=TODAY, actor="test")
        return row.id, doc.id, other.id

    return client, db, *db.write(job)


def test_everything_export_validates_and_follows_access_rules(seeded, diary, surgery_plan):
    client, _, pid, doc, other = seeded
    url = f"/fhir/Patient/{pid}/$everything"
    resp = client.get(url, headers={"X-User": f"clinician:{doc}"})
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("application/fhir+json")
    bundle = resp.json()
    assert bundle["type"] == "searchset"
    models = fc.validate_bundle(bundle)
    assert sum(type(m).__name__ == "Observation" for m in models) >= len(diary)
    assert bundle["entry"][0]["fullUrl"].endswith(f"/fhir/Patient/{pid}")
    assert client.get(url, headers={"X-User": f"patient:{pid}"}).status_code == 200
    denied = client.get(url, headers={"X-User": f"clinician:{other}"})
    assert denied.status_code == 403
    assert denied.json()["resourceType"] == "OperationOutcome"
    assert client.get(url).status_code == 401
    missing = client.get("/fhir/Patient/999999/$everything", headers={"X-User": f"clinician:{doc}"})
    assert missing.status_code == 404


def test_round_trip_into_a_fresh_database(seeded, tmp_path, diary, surgery_plan):
    client, _, pid, doc, _ = seeded
    exported = client.get(
        f"/fhir/Patient/{pid}/$everything", headers={"X-User": f"clinician:{doc}"}
    ).content

    fresh = _Db(f"sqlite:///{tmp_path / 'fresh.db'}")

    def job(s: Session) -> tuple[int, int]:
        doc2 = create_clinician(s, name="Dr C", email=None, actor="test")
        row = create_patient(
            s, clinician_id=doc2.id, given_name="Demo", family_name="Patient", actor="test"
        )
        return row.id, doc2.id

    new_pid, new_doc = fresh.write(job)
    with serve(_app(fresh)) as base, httpx.Client(base_url=base, timeout=10) as c:
        headers = {"X-User": f"clinician:{new_doc}", "content-type": "application/fhir+json"}
        # Another database's patient: the mapping must be explicit (issue 11).
        url = f"/fhir/Patient/{new_pid}?source_patient={pid}"
        if new_pid != pid:
            refused = c.post(f"/fhir/Patient/{new_pid}", content=exported, headers=headers)
            assert refused.status_code == 422 and "source_patient" in refused.text
        first = c.post(url, content=exported, headers=headers)
        assert first.status_code == 200, first.text
        issues = {i["details"]["coding"][0]["code"]: i for i in first.json()["issue"]}
        assert issues["created"]["details"]["text"] == f"{len(diary)} diary days added"
        assert issues["plan"]["details"]["text"] == "plan saved as a new version"
        second = c.post(url, content=exported, headers=headers)
        issues = {i["details"]["coding"][0]["code"]: i for i in second.json()["issue"]}
        assert issues["created"]["details"]["text"] == "0 diary days added"
        assert issues["unchanged"]["details"]["text"] == f"{len(diary)} days already held"
        assert issues["plan"]["details"]["text"] == "plan unchanged"
        # a patient may read but not import
        denied = c.post(url, content=exported, headers={"X-User": f"patient:{new_pid}"})
        assert denied.status_code == 403
    with fresh.read() as s:
        assert stored_diary(s, new_pid) == diary
        stored = current_plan(s, new_pid)
        assert stored is not None and stored.version == 1
        from ldnkit.clinical.models import Plan

        assert Plan.model_validate(stored.payload) == surgery_plan.model_copy(
            update={"patient_id": str(new_pid)}
        )


def test_import_errors_are_operation_outcomes(seeded):
    client, _, pid, doc, _ = seeded
    headers = {"X-User": f"clinician:{doc}"}
    url = f"/fhir/Patient/{pid}"
    bad_json = client.post(url, content=b"{oops", headers=headers)
    assert bad_json.status_code == 400
    assert bad_json.json()["issue"][0]["code"] == "invalid"
    not_bundle = client.post(url, json={"resourceType": "Patient", "id": "x"}, headers=headers)
    assert not_bundle.status_code == 400
    obs = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "72514-3"}]},
        "effectiveDateTime": "2026-05-01",
        "valueInteger": 11,
    }
    rule = client.post(
        url,
        json={"resourceType": "Bundle", "type": "collection", "entry": [{"resource": obs}]},
        headers=headers,
    )
    assert rule.status_code == 422
    assert "pain" in rule.json()["issue"][0]["expression"][0]


def test_deeply_nested_json_is_a_400_not_a_crash(seeded):
    """5,000 nested arrays used to raise RecursionError in the parser (a 500)."""
    client, _, pid, doc, _ = seeded
    for depth in (65, 5000, 100_000):
        resp = client.post(
            f"/fhir/Patient/{pid}",
            content=b"[" * depth + b"]" * depth,
            headers={"X-User": f"clinician:{doc}"},
        )
        assert resp.status_code == 400, resp.text
        assert "nested" in resp.json()["issue"][0]["diagnostics"]


@pytest.mark.parametrize("when", ["0001-01-01", "1899-12-31"])
def test_imported_observations_from_long_ago_are_refused(seeded, when):
    client, _, pid, doc, _ = seeded
    obs = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "72514-3"}]},
        "effectiveDateTime": when,
        "valueInteger": 4,
    }
    resp = client.post(
        f"/fhir/Patient/{pid}",
        json={"resourceType": "Bundle", "type": "collection", "entry": [{"resource": obs}]},
        headers={"X-User": f"clinician:{doc}"},
    )
    assert resp.status_code == 422, resp.text
    assert "1990-01-01" in resp.json()["issue"][0]["diagnostics"]
