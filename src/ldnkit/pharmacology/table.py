"""The transient-blockade claim as numbers: hours per day above 50% and 90% occupancy.

For each daily dose, a typical adult takes it every day at bedtime until steady state; the
table reports the last day (steady state) and the 24 h after the first dose under each brain-equilibration
scenario, so the dependence of the answer on that assumption is visible, not hidden.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ldnkit.pharmacology.population import simulate_population
from ldnkit.pharmacology.published import pk_evidence
from ldnkit.pharmacology.regimen import Regimen
from ldnkit.pharmacology.simulation import simulate
from ldnkit.table import Table

DEFAULT_DOSES = (1.5, 3.0, 4.5, 50.0)


def occupancy_table(
    doses_mg: Sequence[float] = DEFAULT_DOSES,
    scenarios: Sequence[str] | None = None,
    days: int = 14,
    hour: float = 22.0,
    dt_h: float = 0.05,
    patients: int = 0,
    seed: int = 0,
) -> Table:
    """Hours above 50% / 90% MOR occupancy after the first dose and at steady state.

    With `patients` > 0, a last column gives the median (5th-95th percentile) across that many
    virtual patients of the steady-state hours above 50%, at 0.25 h resolution.
    """
    names = list(scenarios or pk_evidence().scenarios)
    rows = []
    for name in names:
        for dose in doses_mg:
            sim = simulate(Regimen.daily(dose, days, hour=hour), scenario=name, dt_h=dt_h)
            first = simulate(Regimen.single(dose, follow_h=24.0), scenario=name, dt_h=dt_h)
            d = sim.daily
            rows.append(
                (
                    name,
                    f"{dose:g}",
                    f"{first.daily.hours_50[0, 0]:.1f}",
                    f"{d.hours_50[0, -1]:.1f}",
                    f"{d.hours_90[0, -1]:.1f}",
                    f"{100 * d.peak[0, -1]:.0f}%",
                    f"{100 * d.trough[0, -1]:.0f}%",
                    *_population_column(dose, days, hour, name, patients, seed),
                )
            )
    return Table(
        title=f"Typical adult, daily dose at {hour:g}:00; steady state = day {days}",
        columns=(
            "scenario",
            "dose mg",
            "first 24 h h>=50%",
            "steady h>=50%",
            "steady h>=90%",
            "steady peak",
            "steady trough",
            *((f"{patients} patients: steady h>=50% median (P5-P95)",) if patients else ()),
        ),
        rows=tuple(rows),
    )


__all__ = ["DEFAULT_DOSES", "occupancy_table"]


def _population_column(
    dose: float, days: int, hour: float, scenario: str, patients: int, seed: int
) -> tuple[str, ...]:
    if not patients:
        return ()
    res = simulate_population(
        Regimen.daily(dose, days, hour=hour),
        n=patients,
        seed=seed,
        scenario=scenario,
        dt_h=0.25,
        keep=0,
    )
    lo, mid, hi = np.percentile(res.metric("last_day_hours_50"), [5, 50, 95])
    return (f"{mid:.1f} ({lo:.1f}-{hi:.1f})",)
