"""N-of-1 trials in the store: sealed list read only with an audit row, unblinding rules,
answers, analysis saved, pooling and a name-free export (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from ldnkit.errors import ValidationError
from ldnkit.store import nof1_trials as svc
from ldnkit.store import repositories as repo
from ldnkit.store.models import AuditEventRow, Nof1AllocationRow
from ldnkit.store.repositories import nof1 as trials
from tests.store.helpers import make_patient

START = dt.date(2026, 3, 2)


def _fill_diary(engine: Engine, patient_id: int, trial_id: int, effect: float, seed: int) -> None:
    """Write a diary the way a patient would, pain depending on the (sealed) pack."""
    with Session(engine) as s:
        row = trials.get_trial(s, trial_id)
        design = trials.design_of(row)
        alloc = trials.allocation_of(
            s.scalar(select(Nof1AllocationRow).where(Nof1AllocationRow.trial_id == trial_id))
        )
    rng = np.random.default_rng(seed)
    entries, e = [], 0.0
    for day in range(design.total_days):
        e = 0.4 * e + rng.normal(0, 0.9)
        info = design.day_info(design.date_of(day))
        on = info.period is not None and alloc.is_ldn(info.period)
        pain = int(np.clip(round(6 + e + effect * on), 0, 10))
        entries.append({"entry_date": design.date_of(day), "pain": pain, "dose_taken": True})
    with Session(engine) as s, s.begin():
        repo.add_diary_entries(
            s, [(patient_id, e) for e in entries], actor="test", today=design.end
        )


def _start(engine: Engine, patient_id: int, seed: int) -> int:
    with Session(engine) as s, s.begin():
        row, _ = svc.start_trial(s, patient_id, START, "user:1", dose_mg=Decimal("4.5"), seed=seed)
        return row.id


def test_trial_lifecycle(engine: Engine) -> None:
    pid = make_patient(engine)
    tid = _start(engine, pid, seed=11)
    with Session(engine) as s, s.begin(), pytest.raises(ValidationError, match="still running"):
        svc.start_trial(s, pid, START, "user:1", dose_mg=Decimal("3"), seed=1)
    with Session(engine) as s:
        stored = trials.get_trial(s, tid)
        assert "seed" not in str(stored.design.get("settings", {}).get("seed") or "")
        assert stored.design["settings"]["seed"] is None
        end = stored.end_date
    with Session(engine) as s, s.begin():
        # the clinician cannot read the list before unblinding
        with pytest.raises(ValidationError, match="not been unblinded"):
            trials.read_allocation(s, tid, actor="user:1", purpose="final")
        alloc = trials.read_allocation(s, tid, actor="user:9", purpose="pharmacy")
        assert set(alloc.pack_contents.values()) == {"ldn", "placebo"}
        with pytest.raises(ValidationError, match="emergency"):
            trials.unblind(s, tid, actor="user:1", kind="final", today=START)
    with Session(engine) as s:
        reads = s.scalars(
            select(AuditEventRow).where(AuditEventRow.action == "read_allocation")
        ).all()
        assert [(e.actor, e.details["purpose"]) for e in reads] == [("user:9", "pharmacy")]
    _fill_diary(engine, pid, tid, effect=-2.0, seed=3)
    with Session(engine) as s, s.begin():
        trials.save_answer(s, tid, 1, "ldn", 2, "user:2")
        trials.save_answer(s, tid, 1, "unsure", None, "user:2")  # replaces
        trials.save_answer(s, tid, 2, "comparator", 0, "user:2")
        with pytest.raises(ValidationError, match="guess"):
            trials.save_answer(s, tid, 3, "maybe", None, "user:2")
        trials.unblind(s, tid, actor="user:1", kind="final", today=end + dt.timedelta(days=1))
    with Session(engine) as s, s.begin():
        trial, result, report = svc.analyse_trial(s, tid, "user:1")
        assert trial.status == "unblinded"
        assert result.p_benefit > 0.95 and report.decision in ("continue", "try_another_dose")
        assert report.blinding is not None and report.blinding.guesses == 2
    with Session(engine) as s:
        assert trials.get_trial(s, tid).result["report"]["headline"].startswith("LDN")
        actions = [
            e.action
            for e in s.scalars(select(AuditEventRow).where(AuditEventRow.entity == "nof1_trial"))
        ]
        assert actions.count("unblind_final") == 1 and "analyse" in actions


def test_emergency_unblinding_needs_a_reason_and_stops_the_trial(engine: Engine) -> None:
    pid = make_patient(engine)
    tid = _start(engine, pid, seed=5)
    with Session(engine) as s, s.begin():
        with pytest.raises(ValidationError, match="reason"):
            trials.unblind(s, tid, actor="user:1", kind="emergency", today=START, reason="curious")
        row = trials.unblind(
            s,
            tid,
            actor="user:1",
            kind="emergency",
            today=START,
            reason="emergency_surgery",
            note="needs opioids for surgery",
        )
        assert row.status == "stopped" and row.stop_reason == "emergency_unblinding"
        trials.read_allocation(s, tid, actor="user:1", purpose="emergency")
    with Session(engine) as s:
        ev = s.scalars(
            select(AuditEventRow).where(AuditEventRow.action == "unblind_emergency")
        ).one()
        assert ev.details == {"reason": "emergency_surgery"}  # the free-text note is not logged


def test_pooling_and_export_without_names(engine: Engine) -> None:
    ids = []
    for k, eff in enumerate([-2.0, -0.5, -1.0]):
        pid = make_patient(engine, given=f"Name{k}", family="Secretname")
        tid = _start(engine, pid, seed=20 + k)
        _fill_diary(engine, pid, tid, effect=eff, seed=30 + k)
        with Session(engine) as s, s.begin():
            end = trials.get_trial(s, tid).end_date
            trials.unblind(s, tid, actor="user:1", kind="final", today=end + dt.timedelta(days=1))
            svc.analyse_trial(s, tid, "user:1")
        ids.append(tid)
    with Session(engine) as s:
        pooled = svc.pool_clinic(s)
        rows = svc.pooled_export(s)
    assert pooled.meta.k == 3 and pooled.mean < 0
    with Session(engine) as s, s.begin():
        prior = svc.clinic_prior(s, exclude_trial_id=ids[2])
        assert "the clinic's 2 completed N-of-1 trials" in prior.label
        _, informed, report = svc.analyse_trial(s, ids[2], "user:1", prior=prior, save=False)
        assert report.prior_label == prior.label
        _, weak, _ = svc.analyse_trial(s, ids[2], "user:1", save=False)
        assert informed.effect_sd < weak.effect_sd  # the other trials add information
    assert [r["trial"] for r in rows] == [f"N1-{i:04d}" for i in ids]
    assert "Secretname" not in str(rows) and "Name0" not in str(rows)
