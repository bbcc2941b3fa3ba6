"""How long LDN's effect takes to wash out, from the kinetic and occupancy model.

An N-of-1 period must be long enough that the previous pack no longer acts when its days are
analysed. Instead of a fixed "one week", the washout is the time the model needs after the
last steady-state dose for mu-opioid receptor occupancy by naltrexone plus 6-beta-naltrexol to
stay below a threshold, plus a pharmacodynamic lag the clinician sets (the effect of a brief
nightly blockade may outlast the blockade itself; no trial has measured how long, so the
clinician owns that number). The pharmacology package does the kinetics; this module only
asks it one question.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from ldnkit.errors import ValidationError

__all__ = ["WashoutEstimate", "washout_estimate"]

_STEADY_DAYS = 14  # 6-beta-naltrexol (t1/2 ~ 13 h) is at steady state well before this
_FOLLOW_DAYS = 21


@dataclass(frozen=True)
class WashoutEstimate:
    """The washout derivation, kept with the design so a reader can check the number."""

    dose_mg: Decimal
    occupancy_threshold: float
    scenario: str
    peak_occupancy: float
    hours_to_threshold: float  # after the last dose, typical adult
    pd_lag_days: int
    days: int  # ceil(hours_to_threshold / 24) + pd_lag_days

    def to_dict(self) -> dict[str, Any]:
        return {
            "dose_mg": str(self.dose_mg),
            "occupancy_threshold": self.occupancy_threshold,
            "scenario": self.scenario,
            "peak_occupancy": round(self.peak_occupancy, 4),
            "hours_to_threshold": round(self.hours_to_threshold, 2),
            "pd_lag_days": self.pd_lag_days,
            "days": self.days,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> WashoutEstimate:
        return cls(
            dose_mg=Decimal(str(d["dose_mg"])),
            occupancy_threshold=float(d["occupancy_threshold"]),
            scenario=str(d["scenario"]),
            peak_occupancy=float(d["peak_occupancy"]),
            hours_to_threshold=float(d["hours_to_threshold"]),
            pd_lag_days=int(d["pd_lag_days"]),
            days=int(d["days"]),
        )


def washout_estimate(
    dose_mg: Decimal | float,
    occupancy_threshold: float = 0.05,
    pd_lag_days: int = 3,
    scenario: str | None = None,
    dose_hour: float = 22.0,
) -> WashoutEstimate:
    """Days from stopping a nightly `dose_mg` until its effect is taken to be gone.

    Simulates the typical adult to steady state, stops, and finds the last time occupancy is
    at or above `occupancy_threshold`; whole days of that, plus `pd_lag_days`, is the washout.
    """
    from ldnkit.pharmacology import Regimen, simulate

    dose = Decimal(str(dose_mg))
    if dose <= 0:
        raise ValidationError("dose_mg", "must be greater than zero")
    if not 0 < occupancy_threshold < 1:
        raise ValidationError("occupancy_threshold", "must be between 0 and 1 (a fraction)")
    if pd_lag_days < 0 or pd_lag_days > 60:
        raise ValidationError("pd_lag_days", "must be 0 to 60 days")
    times = np.arange(_STEADY_DAYS) * 24.0 + dose_hour
    last = float(times[-1])
    reg = Regimen(
        times,
        np.full(_STEADY_DAYS, float(dose)),
        end_h=last + 24.0 * _FOLLOW_DAYS,
        label=f"{dose} mg nightly, then stopped",
    )
    sim = simulate(reg, scenario=scenario, dt_h=0.25)
    occ = sim.occupancy[0]
    after = sim.times_h >= last
    above = np.nonzero(after & (occ >= occupancy_threshold))[0]
    hours = float(sim.times_h[above[-1]] - last) if above.size else 0.0
    if above.size and above[-1] == occ.size - 1:
        raise ValidationError(
            "occupancy_threshold",
            f"occupancy stays above {occupancy_threshold:g} for {_FOLLOW_DAYS} days after "
            "stopping; choose a higher threshold",
        )
    days = math.ceil(hours / 24.0) + pd_lag_days
    return WashoutEstimate(
        dose_mg=dose,
        occupancy_threshold=occupancy_threshold,
        scenario=sim.scenario,
        peak_occupancy=float(occ.max()),
        hours_to_threshold=hours,
        pd_lag_days=pd_lag_days,
        days=max(days, 1),
    )
