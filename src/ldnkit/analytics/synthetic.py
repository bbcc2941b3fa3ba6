"""Synthetic diary data in the export's Parquet layout, for tests and the cohort benchmark.

Vectorised with numpy, written in fixed-size files so a benchmark can take a prefix (the first
k files) as a smaller cohort. Each file is generated from its own seed, so the first k files
are the same whatever the total. The shape is plausible, not a model of any real clinic: a
baseline week without LDN, titration from 1.5 mg by 1.5 mg every 14 days to 4.5 mg, missed
logs and missed doses, some responders, some patients with side effects, some who stop.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ldnkit.analytics.export import DIARY_SCHEMA
from ldnkit.clinical.diary import side_effect_codes

AS_OF = dt.date(2026, 11, 1)
_EPOCH = dt.date(1970, 1, 1)


def _side_effect_dictionary() -> list[str]:
    return [f"{c}:{s}" for c in side_effect_codes() for s in ("mild", "moderate")]


def synthetic_chunk(
    n_rows: int, seed: int, first_patient_id: int, as_of: dt.date = AS_OF
) -> pa.Table:
    """Exactly `n_rows` diary rows for consecutive patients starting at `first_patient_id`."""
    rng = np.random.default_rng(seed)
    as_of_day = (as_of - _EPOCH).days
    n_pat = max(1, n_rows // 150 + 16)
    while True:
        start = as_of_day - rng.integers(30, 1000, n_pat)
        length = np.clip(rng.exponential(300, n_pat).astype(np.int64), 14, 1500)
        end = np.minimum(start + length - 1, as_of_day)
        first = start - 7  # baseline week before the first dose
        days = end - first + 1
        if days.sum() > n_rows * 1.4:
            break
        n_pat *= 2
    logged_p = rng.uniform(0.75, 1.0, n_pat)
    adherent_p = rng.uniform(0.7, 1.0, n_pat)
    base_pain = rng.uniform(4.0, 8.5, n_pat)
    responder = rng.random(n_pat) < 0.35
    effect = np.where(responder, rng.uniform(0.35, 0.65, n_pat), rng.uniform(0.0, 0.25, n_pat))
    ae_prone = rng.random(n_pat) < 0.32

    total = int(days.sum())
    pat = np.repeat(np.arange(n_pat), days)
    offset = np.arange(total) - np.repeat(np.cumsum(days) - days, days)
    day = np.repeat(first, days) + offset
    t = day - np.repeat(start, days)  # days since first dose (negative: baseline)
    treated = t >= 0
    keep = (rng.random(total) < logged_p[pat]) | (t == 0)
    pat, day, t, treated = pat[keep], day[keep], t[keep], treated[keep]
    n = len(pat)
    if n < n_rows:  # vanishingly rare with the 1.4x margin; regenerate with another seed
        return synthetic_chunk(n_rows, seed + 7919, first_patient_id, as_of)
    pat, day, t, treated = pat[:n_rows], day[:n_rows], t[:n_rows], treated[:n_rows]

    taken = treated & ((rng.random(n_rows) < adherent_p[pat]) | (t == 0))
    ramp = np.clip(t / 56.0, 0.0, 1.0)
    pain = base_pain[pat] * (1.0 - effect[pat] * ramp) + rng.normal(0.0, 1.0, n_rows)
    pain = np.clip(np.rint(pain), 0, 10).astype(np.int8)

    def scale() -> np.ndarray:
        return np.clip(np.rint(rng.normal(5.5, 1.8, n_rows)), 0, 10).astype(np.int8)

    dose_ug = np.minimum(1500 * (1 + np.maximum(t, 0) // 14), 4500).astype(np.int32)
    has_se = taken & ae_prone[pat] & (rng.random(n_rows) < 0.05)
    se_dict = _side_effect_dictionary()
    se_idx = rng.integers(0, len(se_dict), n_rows).astype(np.int32)
    side_effects = pa.DictionaryArray.from_arrays(
        pa.array(se_idx, mask=~has_se), pa.array(se_dict, pa.string())
    ).cast(pa.string())
    return pa.table(
        {
            "patient_id": pa.array(pat.astype(np.int64) + first_patient_id, pa.int64()),
            "entry_date": pa.array(day.astype(np.int32), pa.int32()).cast(pa.date32()),
            "revision": pa.array(np.ones(n_rows, np.int32)),
            "pain": pa.array(pain),
            "sleep": pa.array(scale()),
            "mood": pa.array(scale()),
            "energy": pa.array(scale()),
            "clarity": pa.array(scale()),
            "dose_taken": pa.array(taken),
            "dose_ug": pa.array(dose_ug, mask=~taken),
            "n_side_effects": pa.array(has_se.astype(np.int8)),
            "side_effects": side_effects,
        },
        schema=DIARY_SCHEMA,
    )


def write_synthetic_diary(
    directory: Path,
    rows: int,
    *,
    rows_per_file: int = 5_000_000,
    seed: int = 20261125,
    as_of: dt.date = AS_OF,
    on_progress: Callable[[int], None] | None = None,
) -> list[Path]:
    """Write `rows` synthetic rows as `part-00000.parquet`, ...; returns the file paths."""
    directory.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    written = 0
    patient_base = 0
    for i in range((rows + rows_per_file - 1) // rows_per_file):
        n = min(rows_per_file, rows - written)
        table = synthetic_chunk(n, seed + i, patient_base, as_of)
        path = directory / f"part-{i:05d}.parquet"
        pq.write_table(table, path, row_group_size=1_000_000, compression="zstd")
        paths.append(path)
        written += n
        patient_base = int(table.column("patient_id")[-1].as_py()) + 1
        if on_progress:
            on_progress(n)
    return paths


__all__ = ["AS_OF", "synthetic_chunk", "write_synthetic_diary"]
