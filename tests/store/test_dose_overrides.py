"""Dose overrides are stored only with their audit event, and read back as core overrides."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from ldnkit.errors import ValidationError
from ldnkit.store import repositories as repo
from ldnkit.store.models import AuditEventRow, DoseOverrideRow
from tests.store.helpers import make_patient


def test_override_is_audited_and_round_trips(engine: Engine) -> None:
    pid = make_patient(engine)
    with Session(engine) as s, s.begin():
        row = repo.add_dose_override(
            s,
            patient_id=pid,
            dose_mg=Decimal("4.5"),
            effective_on=dt.date(2026, 11, 20),
            reason="rechallenge_agreed",
            note="Discussed with the patient; free text stays out of the log",
            actor="user:7",
        )
        oid = row.id
    with Session(engine) as s:
        [core] = repo.core_overrides(s, pid)
        assert core.dose_mg == Decimal("4.5") and core.effective_on == dt.date(2026, 11, 20)
        event = s.scalars(
            select(AuditEventRow).where(AuditEventRow.entity == "dose_override")
        ).one()
        assert event.entity_id == oid and event.actor == "user:7"
        assert event.details == {"patient_id": pid, "dose_ug": 4500, "reason": "rechallenge_agreed"}


def test_bad_override_stores_nothing(engine: Engine) -> None:
    pid = make_patient(engine)
    for kwargs, field in (
        ({"reason": "because"}, "reason"),
        ({"dose_mg": Decimal("0")}, "dose_mg"),
    ):
        args = {
            "patient_id": pid,
            "dose_mg": Decimal("3"),
            "effective_on": dt.date(2026, 11, 20),
            "reason": "side_effect_resolved",
            "actor": "user:7",
            **kwargs,
        }
        with pytest.raises(ValidationError) as err, Session(engine) as s, s.begin():
            repo.add_dose_override(s, **args)
        assert err.value.field == field
    with Session(engine) as s:
        assert s.scalars(select(DoseOverrideRow)).all() == []
        assert (
            s.scalars(select(AuditEventRow).where(AuditEventRow.entity == "dose_override")).all()
            == []
        )
