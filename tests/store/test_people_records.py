"""Clinicians, patients, accounts, assessments, versioned plans, advice and the audit log."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ldnkit.errors import NotFound, ValidationError
from ldnkit.store import repositories as repo
from ldnkit.store.models import AuditEventRow, PlanRow, UserRow
from tests.store.helpers import TODAY, entry, make_patient


def test_patient_profile_json_round_trips(engine: Engine) -> None:
    pid = make_patient(engine)
    profile = {
        "age": 52,
        "conditions": ["fibromyalgia", "crps"],
        "medications": [{"name": "duloxetine", "dose_mg": "60"}],
        "pregnant": False,
    }
    with Session(engine, expire_on_commit=False) as s, s.begin():
        repo.update_patient_profile(s, pid, profile, actor="user:1")
    with Session(engine, expire_on_commit=False) as s:
        p = repo.get_patient(s, pid)
        assert p.profile == profile
        assert p.birth_date == dt.date(1970, 1, 2)
        assert [x.id for x in repo.list_patients(s, clinician_id=p.clinician_id)] == [pid]
        assert repo.list_patients(s, clinician_id=p.clinician_id + 1) == []


def test_patient_needs_an_existing_clinician(engine: Engine) -> None:
    with pytest.raises(NotFound), Session(engine, expire_on_commit=False) as s, s.begin():
        repo.create_patient(s, clinician_id=42, given_name="A", family_name="B", actor="t")


def test_accounts_hash_passwords_and_authenticate(engine: Engine) -> None:
    pid = make_patient(engine)
    with Session(engine, expire_on_commit=False) as s, s.begin():
        cid = repo.get_patient(s, pid).clinician_id
        doc = repo.create_user(
            s,
            username="drwho",
            password="tardis-1963",
            role="clinician",
            clinician_id=cid,
            actor="admin",
        )
        repo.create_user(
            s,
            username="ada",
            password="analytical-engine-1843",
            role="patient",
            patient_id=pid,
            actor="admin",
        )
        assert doc.password_hash.startswith("$argon2id$")
        assert "tardis" not in doc.password_hash
    with Session(engine, expire_on_commit=False) as s, s.begin():
        assert repo.authenticate(s, "drwho", "tardis-1963").id == doc.id
        assert repo.authenticate(s, "drwho", "wrong-password") is None
        assert repo.authenticate(s, "nobody", "tardis-1963") is None
        repo.set_active(s, doc.id, False, actor="admin")
    with Session(engine, expire_on_commit=False) as s:
        assert repo.authenticate(s, "drwho", "tardis-1963") is None
        assert [u.role for u in repo.list_users(s)] == ["clinician", "patient"]


def test_account_rules(engine: Engine) -> None:
    pid = make_patient(engine)
    cases = [
        ({"role": "clinician"}, "clinician_id"),
        ({"role": "patient"}, "patient_id"),
        ({"role": "root"}, "role"),
        ({"role": "admin", "password": "short"}, "password"),
    ]
    for kwargs, field in cases:
        args = {"username": "x", "password": "long-enough"} | kwargs
        with (
            pytest.raises(ValidationError) as err,
            Session(engine, expire_on_commit=False) as s,
            s.begin(),
        ):
            repo.create_user(s, actor="t", **args)
        assert err.value.field == field
    with Session(engine, expire_on_commit=False) as s, s.begin():
        repo.create_user(
            s,
            username="ada",
            password="analytical-engine-1843",
            role="patient",
            patient_id=pid,
            actor="t",
        )
    with (
        pytest.raises(ValidationError, match="already taken"),
        Session(engine, expire_on_commit=False) as s,
        s.begin(),
    ):
        repo.create_user(
            s, username="ada", password="analytical-engine-1843", role="admin", actor="t"
        )
    # The database enforces the role link even for code that bypasses the repository.
    with pytest.raises(IntegrityError), Session(engine, expire_on_commit=False) as s, s.begin():
        s.execute(update(UserRow).values(patient_id=None))


def test_plans_are_versioned_and_old_versions_stay(engine: Engine) -> None:
    pid = make_patient(engine)
    with Session(engine, expire_on_commit=False) as s, s.begin():
        v1 = repo.save_plan(
            s,
            patient_id=pid,
            protocol_id="fibromyalgia",
            start_date=TODAY,
            payload={"steps": [1.5, 3.0, 4.5]},
            actor="user:1",
        )
    with Session(engine, expire_on_commit=False) as s, s.begin():
        v2 = repo.save_plan(
            s,
            patient_id=pid,
            protocol_id="fibromyalgia",
            start_date=TODAY,
            payload={"steps": [1.5, 3.0]},
            actor="user:1",
        )
    assert (v1.version, v2.version) == (1, 2)
    with Session(engine, expire_on_commit=False) as s:
        assert repo.current_plan(s, pid).payload == {"steps": [1.5, 3.0]}
        assert repo.get_plan_version(s, pid, 1).payload == {"steps": [1.5, 3.0, 4.5]}
        assert [p.version for p in repo.plan_versions(s, pid)] == [1, 2]
        assert s.scalar(select(PlanRow).where(PlanRow.id == v1.id)).payload["steps"] == [
            1.5,
            3.0,
            4.5,
        ]
        with pytest.raises(NotFound):
            repo.get_plan_version(s, pid, 3)
        assert repo.current_plan(s, pid + 1) is None


def test_assessments_and_advice_are_stored(engine: Engine) -> None:
    pid = make_patient(engine)
    with Session(engine, expire_on_commit=False) as s, s.begin():
        a = repo.save_assessment(
            s,
            patient_id=pid,
            assessed_on=TODAY,
            status="eligible",
            payload={"findings": [{"code": "ok"}]},
            actor="user:1",
        )
        plan = repo.save_plan(
            s, patient_id=pid, protocol_id="crps", start_date=TODAY, payload={}, actor="user:1"
        )
        repo.save_advice(
            s,
            patient_id=pid,
            given_on=TODAY,
            code="hold",
            plan_id=plan.id,
            payload={"reasons": ["responder"]},
            actor="user:1",
        )
    with Session(engine, expire_on_commit=False) as s:
        assert [x.id for x in repo.list_assessments(s, pid)] == [a.id]
        (adv,) = repo.list_advice(s, pid)
        assert (adv.code, adv.plan_id, adv.payload) == ("hold", plan.id, {"reasons": ["responder"]})


def test_audit_log_records_ids_never_names_or_notes(engine: Engine) -> None:
    pid = make_patient(engine, given="Zebedee", family="Quixotic")
    with Session(engine, expire_on_commit=False) as s, s.begin():
        repo.add_diary_entry(
            s, pid, entry(TODAY, note="Zebedee's secret note"), today=TODAY, actor="user:7"
        )
    with Session(engine, expire_on_commit=False) as s:
        events = s.scalars(select(AuditEventRow).order_by(AuditEventRow.id)).all()
        dumped = s.execute(text("SELECT * FROM audit_log")).all()
    assert [(e.action, e.entity) for e in events] == [
        ("create", "clinician"),
        ("create", "patient"),
        ("create", "diary_entry"),
    ]
    assert events[-1].actor == "user:7"
    assert events[-1].details["patient_id"] == pid
    blob = repr(dumped)
    assert "Zebedee" not in blob and "Quixotic" not in blob and "secret" not in blob


def test_audit_refuses_free_text(engine: Engine) -> None:
    with pytest.raises(ValidationError), Session(engine, expire_on_commit=False) as s, s.begin():
        repo.audit.record(
            s,
            actor="t",
            action="x",
            entity="patient",
            entity_id=1,
            details={"note": "Ada Lovelace has a headache"},
        )
