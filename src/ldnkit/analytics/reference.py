"""The same cohort summary in pandas: a cross-check for the DuckDB query and the benchmark's
baseline.

It implements the definitions in `ldnkit.analytics.cohort` independently, the way a careful
pandas user would (reading only the needed columns, dates as integer day numbers, grouped
aggregations, no Python loops), so agreement between the two is evidence both are right.
It holds the whole table in memory, which is what limits it on large cohorts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ldnkit.analytics.cohort import DEFAULT_GRACE_DAYS, CohortSummary, _file_list
from ldnkit.clinical.outcomes import BASELINE_DAYS, LATEST_DAYS, ResponseThresholds
from ldnkit.evidence import Evidence

_COLUMNS = ["patient_id", "entry_date", "pain", "dose_taken", "n_side_effects"]
_EPOCH = dt.date(1970, 1, 1)


def read_diary_frame(paths: Sequence[Path | str] | Path | str) -> pd.DataFrame:
    """The columns the summary needs; `day` is the date as int32 days since 1970-01-01."""
    tables = [pq.read_table(f, columns=_COLUMNS) for f in _file_list(paths)]
    table = pa.concat_tables(tables)
    del tables
    table = table.set_column(1, "day", table.column("entry_date").cast(pa.int32()))
    return table.to_pandas()


def cohort_summary_pandas(
    paths: Sequence[Path | str] | Path | str,
    *,
    as_of: dt.date | None = None,
    grace_days: int = DEFAULT_GRACE_DAYS,
    evidence: Evidence | None = None,
) -> CohortSummary:
    """`ldnkit.analytics.cohort.cohort_summary`, computed in pandas."""
    df = read_diary_frame(paths)
    if as_of is None:
        as_of = _EPOCH + dt.timedelta(days=int(df["day"].max()))
    as_of_day = (as_of - _EPOCH).days
    df = df[df["day"] <= as_of_day]
    t = ResponseThresholds.from_evidence(evidence)

    g = df.groupby("patient_id", sort=False)
    p = pd.DataFrame(
        {
            "first_day": g["day"].min(),
            "last_day": g["day"].max(),
            "any_ae": g["n_side_effects"].max() > 0,
        }
    )
    taken = df.loc[df["dose_taken"], ["patient_id", "day"]].groupby("patient_id", sort=False)
    p["start_day"] = taken["day"].min()
    p["last_dose_day"] = taken["day"].max()

    pid = df["patient_id"].to_numpy()
    day = df["day"].to_numpy()
    pain = df["pain"].to_numpy().astype(np.float64)
    start = p["start_day"].reindex(pid).to_numpy()
    first = p["first_day"].reindex(pid).to_numpy()
    last = p["last_day"].reindex(pid).to_numpy()

    def window_mean(mask: np.ndarray) -> pd.Series:
        return pd.Series(np.where(mask, pain, np.nan)).groupby(pid, sort=False).mean()

    with np.errstate(invalid="ignore"):
        pre = window_mean((day >= start - BASELINE_DAYS) & (day < start))
    first_week = window_mean(day < first + BASELINE_DAYS)
    latest = window_mean(day > last - LATEST_DAYS)
    del start, first, last

    treated = p["start_day"].notna()
    p["baseline"] = pre.fillna(first_week).where(treated)
    p["latest"] = latest.where(treated)
    ev = p[p["baseline"].notna() & p["latest"].notna()]
    tr = p[treated]
    b, lt = ev["baseline"], ev["latest"]

    def pct(mask: pd.Series, n: int) -> float | None:
        return 100.0 * float(mask.sum()) / n if n else None

    return CohortSummary(
        as_of=as_of,
        rows=len(df),
        patients=len(p),
        treated=int(treated.sum()),
        evaluable=len(ev),
        mean_treatment_days=float((tr["last_dose_day"] - tr["start_day"] + 1).mean())
        if len(tr)
        else None,
        on_therapy_percent=pct(tr["last_dose_day"] > as_of_day - grace_days, len(tr)),
        mean_pain_change=float((lt - b).mean()) if len(ev) else None,
        responder_moderate_percent=pct(
            (b > 0) & ((b - lt) * 100 >= t.moderate_percent * b), len(ev)
        ),
        responder_substantial_percent=pct(
            (b > 0) & ((b - lt) * 100 >= t.substantial_percent * b), len(ev)
        ),
        responder_points_percent=pct(b - lt >= t.points, len(ev)),
        adverse_effect_percent=pct(tr["any_ae"], len(tr)),
    )


__all__ = ["cohort_summary_pandas", "read_diary_frame"]
