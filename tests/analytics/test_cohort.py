"""Cohort summaries: a hand-built clinic with known answers, DuckDB against pandas, the export."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from ldnkit.analytics import DIARY_SCHEMA, cohort_summary, export_diary_parquet
from ldnkit.analytics.reference import cohort_summary_pandas
from ldnkit.analytics.synthetic import write_synthetic_diary
from ldnkit.clinical.outcomes import patient_outcomes
from ldnkit.store import repositories as repo

AS_OF = dt.date(2026, 11, 1)


def _add(s: Session, pid: int, first: dt.date, n: int, pain, taken, se=None) -> None:
    for i in range(n):
        d = first + dt.timedelta(days=i)
        repo.add_diary_entry(
            s,
            pid,
            {
                "entry_date": d,
                "pain": pain(i),
                "dose_taken": taken(i),
                "dose_mg": "1.5" if taken(i) else None,
                "side_effects": se(i) if se else "",
                "note": "private words",
            },
            today=AS_OF,
            actor="t",
        )


def _clinic(engine: Engine) -> list[int]:
    """Three patients with hand-computable figures (see test below)."""
    with Session(engine, expire_on_commit=False) as s, s.begin():
        c = repo.create_clinician(s, name="Dr X", actor="t")
        ids = [
            repo.create_patient(s, clinician_id=c.id, given_name=f"P{i}", family_name="Q",
                                actor="t").id
            for i in range(3)
        ]  # fmt: skip
        # P0: baseline week pain 8, then 20 treated days at pain 4 ending on AS_OF.
        _add(s, ids[0], AS_OF - dt.timedelta(days=26), 27,
             pain=lambda i: 8 if i < 7 else 4, taken=lambda i: i >= 7)  # fmt: skip
        # P1: baseline 6, 10 treated days at 6 with one side effect, stopped 30 days ago.
        _add(s, ids[1], AS_OF - dt.timedelta(days=46), 17,
             pain=lambda i: 6, taken=lambda i: i >= 7,
             se=lambda i: "headache:moderate" if i == 9 else "")  # fmt: skip
        # P2: never took a dose.
        _add(s, ids[2], AS_OF - dt.timedelta(days=4), 5, pain=lambda i: 5, taken=lambda i: False)
        # A correction on P0's last day must not double-count.
        repo.add_diary_entry(s, ids[0], {"entry_date": AS_OF, "pain": 4, "dose_taken": True},
                             today=AS_OF, actor="t")  # fmt: skip
    return ids


def test_hand_built_clinic_summary(engine: Engine, tmp_path: Path) -> None:
    ids = _clinic(engine)
    path = tmp_path / "diary.parquet"
    with Session(engine) as s:
        result = export_diary_parquet(s, path)
        per_patient = [patient_outcomes(repo.diary.diary(s, pid)) for pid in ids[:2]]
    assert (result.rows, result.patients) == (27 + 17 + 5, 3)
    summary = cohort_summary(path, as_of=AS_OF)
    assert (summary.patients, summary.treated, summary.evaluable) == (3, 2, 2)
    assert summary.mean_treatment_days == 15  # (20 + 10) / 2
    assert summary.on_therapy_percent == 50
    assert summary.mean_pain_change == -2  # (-4 + 0) / 2
    assert summary.responder_moderate_percent == 50
    assert summary.responder_substantial_percent == 50
    assert summary.responder_points_percent == 50
    assert summary.adverse_effect_percent == 50
    # The cohort's definitions are the per-patient ones.
    assert [o.change_points for o in per_patient] == [-4, 0]
    assert cohort_summary_pandas(path, as_of=AS_OF) == summary


def test_va_comparison_rows() -> None:
    from ldnkit.analytics.cohort import CohortSummary

    s = CohortSummary(AS_OF, 1, 1, 1, 1, 100.0, 40.0, -1.0, 30.0, 10.0, 25.0, 20.0)
    rows = {name: (ours, va) for name, ours, va, _ in s.va_comparison()}
    assert rows["Mean treatment duration (days)"] == (100.0, 123.0)
    assert rows["Still on therapy (%)"] == (40.0, 50.0)
    assert rows["Mean pain change (points)"] == (-1.0, -0.83)
    assert rows["Adverse effects reported (%)"] == (20.0, 32.0)


def test_export_has_no_names_notes_or_superseded_rows(engine: Engine, tmp_path: Path) -> None:
    ids = _clinic(engine)
    path = tmp_path / "d.parquet"
    with Session(engine) as s:
        export_diary_parquet(s, path, clinician_id=None)
    table = pq.read_table(path)
    assert table.schema.equals(DIARY_SCHEMA)
    assert "note" not in table.column_names
    raw = path.read_bytes()
    assert b"private words" not in raw and b"P0" not in raw
    rows = table.to_pylist()
    p0_last = [r for r in rows if r["patient_id"] == ids[0] and r["entry_date"] == AS_OF]
    assert len(p0_last) == 1 and p0_last[0]["revision"] == 2
    assert [r["side_effects"] for r in rows if r["n_side_effects"]] == ["headache:moderate"]
    assert {r["dose_ug"] for r in rows if r["dose_taken"]} <= {1500, None}


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_synthetic_diary(
        tmp_path_factory.mktemp("syn"), 300_000, rows_per_file=100_000, seed=7
    )


def test_synthetic_files_are_exact_and_prefix_stable(synthetic: list[Path], tmp_path: Path) -> None:
    assert [pq.read_metadata(p).num_rows for p in synthetic] == [100_000] * 3
    again = write_synthetic_diary(tmp_path, 100_000, rows_per_file=100_000, seed=7)
    assert pq.read_table(again[0]).equals(pq.read_table(synthetic[0]))


@pytest.mark.parametrize("as_of", [None, dt.date(2026, 6, 30)])
def test_duckdb_and_pandas_agree(synthetic: list[Path], as_of: dt.date | None) -> None:
    duck = cohort_summary(synthetic, as_of=as_of)
    pand = cohort_summary_pandas(synthetic, as_of=as_of)
    assert duck.as_of == pand.as_of
    assert (duck.rows, duck.patients, duck.treated, duck.evaluable) == (
        pand.rows, pand.patients, pand.treated, pand.evaluable,
    )  # fmt: skip
    for field in ("mean_treatment_days", "on_therapy_percent", "mean_pain_change",
                  "responder_moderate_percent", "responder_substantial_percent",
                  "responder_points_percent", "adverse_effect_percent"):  # fmt: skip
        assert getattr(duck, field) == pytest.approx(getattr(pand, field), rel=1e-9), field
    assert duck.patients > 1000 and 0 < duck.on_therapy_percent < 100
