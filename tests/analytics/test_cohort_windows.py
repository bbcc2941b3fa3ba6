"""The cohort query's one-scan shortcut for pain windows, checked against the pandas reference.

`PATIENTS_SQL` keeps only each patient's earliest and latest diary keys; patients for whom
those cannot prove a window complete are recomputed from the rows. These tests build diaries
that land on both sides of that line (long pre-treatment diaries, repeated days, dates before
1970, patients who never dosed) and require DuckDB and pandas to agree exactly.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ldnkit.analytics import DIARY_SCHEMA, cohort_summary
from ldnkit.analytics.cohort import EARLY_ROWS, PATIENTS_SQL
from ldnkit.analytics.reference import cohort_summary_pandas

AS_OF = dt.date(2026, 11, 1)
FIELDS = (
    "rows", "patients", "treated", "evaluable", "mean_treatment_days", "on_therapy_percent",
    "mean_pain_change", "responder_moderate_percent", "responder_substantial_percent",
    "responder_points_percent", "adverse_effect_percent",
)  # fmt: skip


def _write(path: Path, rows: list[tuple[int, dt.date, int, bool, int]]) -> Path:
    """(patient, date, pain, dose taken, side effects) rows as a diary Parquet file."""
    n = len(rows)
    table = pa.table(
        {
            "patient_id": [r[0] for r in rows],
            "entry_date": [r[1] for r in rows],
            "revision": [1] * n,
            "pain": [r[2] for r in rows],
            "sleep": [None] * n,
            "mood": [None] * n,
            "energy": [None] * n,
            "clarity": [None] * n,
            "dose_taken": [r[3] for r in rows],
            "dose_ug": [1500 if r[3] else None for r in rows],
            "n_side_effects": [r[4] for r in rows],
            "side_effects": ["headache:mild" if r[4] else None for r in rows],
        },
        schema=DIARY_SCHEMA,
    )
    pq.write_table(table, path)
    return path


def _exact_flags(path: Path) -> dict[int, bool]:
    with duckdb.connect() as con:
        con.execute(PATIENTS_SQL, {"files": [str(path)], "as_of": AS_OF})
        return dict(con.execute("SELECT patient_id, exact FROM patients").fetchall())


def _assert_same(path: Path, as_of: dt.date = AS_OF) -> None:
    duck = cohort_summary(path, as_of=as_of)
    pand = cohort_summary_pandas(path, as_of=as_of)
    for field in FIELDS:
        want = getattr(pand, field)
        got = getattr(duck, field)
        assert got is None if want is None else got == pytest.approx(want, rel=1e-9), field


def _days(first: dt.date, n: int) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range(n)]


def test_long_pre_treatment_diary_is_recomputed_exactly(tmp_path: Path) -> None:
    """30 logged days before the first dose: the week before it is outside the kept keys."""
    start = AS_OF - dt.timedelta(days=40)
    rows = [(1, d, 9 if d < start - dt.timedelta(days=7) else 6, False, 0)
            for d in _days(start - dt.timedelta(days=30), 30)]  # fmt: skip
    rows += [(1, d, 3, True, 0) for d in _days(start, 41)]
    # A short-baseline patient beside it takes the shortcut.
    rows += [(2, d, 8, d >= AS_OF - dt.timedelta(days=20), 0)
             for d in _days(AS_OF - dt.timedelta(days=27), 28)]  # fmt: skip
    path = _write(tmp_path / "d.parquet", rows)
    assert _exact_flags(path) == {1: False, 2: True}
    s = cohort_summary(path, as_of=AS_OF)
    # Patient 1: baseline is the week before start (6, not the 9s earlier), latest 3 -> -3;
    # patient 2: 8 -> 8, change 0.
    assert s.mean_pain_change == pytest.approx(-1.5)
    assert s.responder_moderate_percent == 50
    _assert_same(path)


def test_repeated_days_are_recomputed_exactly(tmp_path: Path) -> None:
    """A hand-made file with two rows for some days (an export never has them)."""
    days = _days(AS_OF - dt.timedelta(days=29), 30)
    rows = [(7, d, i % 11, i >= 7, 0) for i, d in enumerate(days)]
    rows += [(7, d, 10, i >= 7, 0) for i, d in enumerate(days) if i % 2 == 0]
    path = _write(tmp_path / "d.parquet", rows)
    assert _exact_flags(path) == {7: False}
    _assert_same(path)


def test_export_shaped_diaries_take_the_shortcut(tmp_path: Path) -> None:
    """One row per day and a baseline shorter than EARLY_ROWS days: no second pass."""
    rows = []
    for pid in range(20):
        first = AS_OF - dt.timedelta(days=60 + pid)
        baseline = pid % EARLY_ROWS
        rows += [(pid, d, (pid + i) % 11, i >= baseline, int(i == 12))
                 for i, d in enumerate(_days(first, 40 + pid)) if i % 5 != 3]  # fmt: skip
    path = _write(tmp_path / "d.parquet", rows)
    assert set(_exact_flags(path).values()) == {True}
    _assert_same(path)


_patient = st.tuples(
    st.dates(dt.date(1968, 1, 1), AS_OF),  # first diary day (before and after 1970)
    st.integers(0, 40),  # days before the first dose (or never dosed, below)
    st.integers(1, 80),  # diary length
    st.floats(0.3, 1.0),  # share of days logged
    st.booleans(),  # ever dosed
    st.booleans(),  # some repeated days
    st.integers(0, 2**31),  # seed for pains and gaps
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(patients=st.lists(_patient, min_size=1, max_size=8), cut=st.integers(0, 60))
def test_duckdb_equals_pandas_on_random_diaries(
    tmp_path: Path, patients: list[tuple], cut: int
) -> None:
    rows = []
    for pid, (first, pre, length, logged, dosed, repeats, seed) in enumerate(patients):
        rng = random.Random(seed)
        for i, d in enumerate(_days(first, length)):
            if d > AS_OF or (i and rng.random() > logged):
                continue
            taken = dosed and i >= pre and rng.random() < 0.9
            rows.append((pid, d, rng.randint(0, 10), taken, int(rng.random() < 0.05)))
            if repeats and rng.random() < 0.2:
                rows.append((pid, d, rng.randint(0, 10), taken, 0))
    if not rows:
        return
    path = _write(tmp_path / "random.parquet", rows)  # overwritten by each example
    _assert_same(path, as_of=AS_OF - dt.timedelta(days=cut))
