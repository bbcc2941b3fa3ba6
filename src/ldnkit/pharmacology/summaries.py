"""Per-day occupancy summaries: the numbers behind "transient" versus "sustained" blockade.

A day is [24 d, 24 d + 24) hours from the regimen origin. Hours above a threshold are counted
on the output grid (sample count x step), so they are exact to one grid step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ldnkit.pharmacology.parameters import FloatArray

THRESHOLDS = (0.5, 0.9)


@dataclass(frozen=True)
class DailyOccupancy:
    """Patients x days arrays of hours above 50% and 90%, peak and trough occupancy."""

    hours_50: FloatArray
    hours_90: FloatArray
    peak: FloatArray
    trough: FloatArray


def day_index(times_h: FloatArray, days: int) -> FloatArray:
    """Day of each output time; -1 for times at or after the end of the last day."""
    d = np.floor(np.asarray(times_h) / 24.0 + 1e-9).astype(int)
    return np.where(d < days, d, -1)


def daily_occupancy(occ: FloatArray, times_h: FloatArray, dt_h: float, days: int) -> DailyOccupancy:
    """Summarise an occupancy array (patients x times) day by day."""
    occ = np.atleast_2d(occ)
    n = occ.shape[0]
    idx = day_index(times_h, days)
    h50 = np.zeros((n, days))
    h90 = np.zeros((n, days))
    peak = np.zeros((n, days))
    trough = np.ones((n, days))
    for d in range(days):
        cols = idx == d
        if not np.any(cols):
            continue
        o = occ[:, cols]
        h50[:, d] = np.sum(o >= 0.5, axis=1) * dt_h
        h90[:, d] = np.sum(o >= 0.9, axis=1) * dt_h
        peak[:, d] = o.max(axis=1)
        trough[:, d] = o.min(axis=1)
    return DailyOccupancy(h50, h90, peak, trough)


def half_life(times_h: FloatArray, conc: FloatArray, start_h: float, end_h: float) -> float:
    """Log-linear half-life over [start_h, end_h], the way single-dose studies estimate it."""
    t = np.asarray(times_h)
    c = np.asarray(conc)
    m = (t >= start_h) & (t <= end_h) & (c > 0)
    slope = np.polyfit(t[m], np.log(c[m]), 1)[0]
    return float(np.log(2.0) / -slope)


__all__ = ["THRESHOLDS", "DailyOccupancy", "daily_occupancy", "day_index", "half_life"]
