"""Cohort summaries over exported diary Parquet, computed by DuckDB.

The figures are those the Veterans Affairs data in the seeds report (mean treatment duration,
share still on therapy, mean pain change, adverse-effect rate), plus responder rates at the
30%/50%/2-point thresholds from the evidence base, so a clinic can hold its own numbers next
to the published ones. DuckDB scans the Parquet files in parallel and out of core, so the same
query serves a single clinic and 100 million rows.

Per-patient definitions match `ldnkit.clinical.outcomes`:
- treated: at least one dose logged; start = first dose, last dose = last dose logged;
- treatment duration = last dose - start + 1 day;
- still on therapy: a dose logged within `grace_days` up to `as_of`;
- baseline = mean pain in the 7 days before start, else over the diary's first 7 days;
- latest = mean pain over the patient's last 14 diary days; change = latest - baseline;
- responder: baseline - latest >= 30% (50%) of baseline, or >= 2 points;
- adverse effect: any side effect logged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

from ldnkit.clinical.outcomes import BASELINE_DAYS, LATEST_DAYS, ResponseThresholds
from ldnkit.evidence import Evidence, default_evidence

DEFAULT_GRACE_DAYS = 14


@dataclass(frozen=True)
class CohortSummary:
    """The cohort's figures; percentages are 0-100, `None` where no patient qualifies."""

    as_of: dt.date
    rows: int
    patients: int
    treated: int
    evaluable: int
    mean_treatment_days: float | None
    on_therapy_percent: float | None
    mean_pain_change: float | None
    responder_moderate_percent: float | None
    responder_substantial_percent: float | None
    responder_points_percent: float | None
    adverse_effect_percent: float | None

    def to_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["as_of"] = self.as_of.isoformat()
        return d

    def va_comparison(
        self, evidence: Evidence | None = None
    ) -> list[tuple[str, float | None, float | None, list[str]]]:
        """(figure, this cohort, VA cohort, VA sources) rows for the figures both report."""
        ev = evidence or default_evidence()
        va = next(o for o in ev.studies.observational if o.id == "va-cohort")

        def f(x: object) -> float | None:
            return None if x is None else float(x)  # type: ignore[arg-type]

        return [
            ("Mean treatment duration (days)", self.mean_treatment_days,
             f(va.mean_treatment_days), va.sources),
            ("Still on therapy (%)", self.on_therapy_percent,
             f(va.still_on_therapy_percent), va.sources),
            ("Mean pain change (points)", self.mean_pain_change,
             f(va.mean_pain_change_points), va.sources),
            ("Adverse effects reported (%)", self.adverse_effect_percent,
             f(va.adverse_effect_percent), va.sources),
        ]  # fmt: skip


def _file_list(paths: Sequence[Path | str] | Path | str) -> list[str]:
    if isinstance(paths, str | Path):
        p = Path(paths)
        return sorted(str(x) for x in p.glob("*.parquet")) if p.is_dir() else [str(p)]
    return [str(p) for p in paths]


COHORT_SQL = f"""
WITH e AS NOT MATERIALIZED (
    SELECT patient_id, entry_date, pain, dose_taken, n_side_effects
    FROM read_parquet($files) WHERE entry_date <= $as_of
),
p AS (
    SELECT patient_id,
           count(*) AS n_rows,
           min(entry_date) AS first_day,
           max(entry_date) AS last_day,
           min(entry_date) FILTER (WHERE dose_taken) AS start_day,
           max(entry_date) FILTER (WHERE dose_taken) AS last_dose_day,
           max(n_side_effects) > 0 AS any_ae
    FROM e GROUP BY patient_id
),
w AS (
    SELECT e.patient_id,
           avg(e.pain) FILTER (WHERE e.entry_date >= p.start_day - {BASELINE_DAYS}
                                 AND e.entry_date < p.start_day) AS pre,
           avg(e.pain) FILTER (WHERE e.entry_date < p.first_day + {BASELINE_DAYS}) AS first_week,
           avg(e.pain) FILTER (WHERE e.entry_date > p.last_day - {LATEST_DAYS}) AS latest
    -- Only rows inside one of the three windows reach the aggregation (about a quarter).
    FROM e JOIN p ON e.patient_id = p.patient_id
         AND (e.entry_date < p.first_day + {BASELINE_DAYS}
              OR e.entry_date > p.last_day - {LATEST_DAYS}
              OR (e.entry_date >= p.start_day - {BASELINE_DAYS} AND e.entry_date < p.start_day))
    WHERE p.start_day IS NOT NULL
    GROUP BY e.patient_id
),
r AS (
    SELECT p.*, coalesce(w.pre, w.first_week) AS baseline, w.latest
    FROM p LEFT JOIN w USING (patient_id)
)
SELECT
    coalesce(sum(n_rows), 0) AS rows,
    count(*) AS patients,
    count(start_day) AS treated,
    count(*) FILTER (WHERE baseline IS NOT NULL AND latest IS NOT NULL) AS evaluable,
    avg(last_dose_day - start_day + 1) AS mean_treatment_days,
    100.0 * avg(CASE WHEN last_dose_day > $as_of - $grace THEN 1 ELSE 0 END)
        FILTER (WHERE start_day IS NOT NULL) AS on_therapy_percent,
    avg(latest - baseline) AS mean_pain_change,
    100.0 * avg(CASE WHEN baseline > 0 AND (baseline - latest) * 100 >= $moderate * baseline
                THEN 1 ELSE 0 END) FILTER (WHERE baseline IS NOT NULL AND latest IS NOT NULL) AS responder_moderate,
    100.0 * avg(CASE WHEN baseline > 0 AND (baseline - latest) * 100 >= $substantial * baseline
                THEN 1 ELSE 0 END) FILTER (WHERE baseline IS NOT NULL AND latest IS NOT NULL) AS responder_substantial,
    100.0 * avg(CASE WHEN baseline - latest >= $points THEN 1 ELSE 0 END)
        FILTER (WHERE baseline IS NOT NULL AND latest IS NOT NULL) AS responder_points,
    100.0 * avg(CASE WHEN any_ae THEN 1 ELSE 0 END)
        FILTER (WHERE start_day IS NOT NULL) AS adverse_effect_percent
FROM r
"""


def _connect(threads: int | None, memory_limit: str | None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    if memory_limit:
        con.execute("SET memory_limit = ?", [memory_limit])
    return con


def latest_date(paths: Sequence[Path | str] | Path | str) -> dt.date | None:
    """The last diary date in the files: the natural `as_of` for a historical export."""
    files = _file_list(paths)
    if not files:
        return None
    with duckdb.connect() as con:
        row = con.execute("SELECT max(entry_date) FROM read_parquet($f)", {"f": files}).fetchone()
    return row[0] if row else None


def cohort_summary(
    paths: Sequence[Path | str] | Path | str,
    *,
    as_of: dt.date | None = None,
    grace_days: int = DEFAULT_GRACE_DAYS,
    evidence: Evidence | None = None,
    threads: int | None = None,
    memory_limit: str | None = None,
) -> CohortSummary:
    """Summarise a cohort from diary Parquet file(s) or a directory of them, in DuckDB."""
    files = _file_list(paths)
    if not files:
        raise FileNotFoundError(f"no Parquet files in {paths}")
    as_of = as_of or latest_date(files)
    assert as_of is not None
    t = ResponseThresholds.from_evidence(evidence)
    params = {
        "files": files,
        "as_of": as_of,
        "grace": grace_days,
        "moderate": t.moderate_percent,
        "substantial": t.substantial_percent,
        "points": t.points,
    }
    with _connect(threads, memory_limit) as con:
        row = con.execute(COHORT_SQL, params).fetchone()
    assert row is not None
    return CohortSummary(
        as_of=as_of,
        rows=int(row[0]),
        patients=int(row[1]),
        treated=int(row[2]),
        evaluable=int(row[3]),
        mean_treatment_days=_f(row[4]),
        on_therapy_percent=_f(row[5]),
        mean_pain_change=_f(row[6]),
        responder_moderate_percent=_f(row[7]),
        responder_substantial_percent=_f(row[8]),
        responder_points_percent=_f(row[9]),
        adverse_effect_percent=_f(row[10]),
    )


def _f(x: object) -> float | None:
    return None if x is None else float(x)  # type: ignore[arg-type]


__all__ = ["COHORT_SQL", "DEFAULT_GRACE_DAYS", "CohortSummary", "cohort_summary", "latest_date"]
