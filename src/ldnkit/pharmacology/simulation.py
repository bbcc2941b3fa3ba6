"""One call, one result: simulate a regimen for one patient (or a handful) at fine resolution.

`simulate` returns a `Simulation` that explains itself in the statsmodels style: `summary()`
(a table of daily occupancy and exposure), `to_dict()` (JSON-ready) and `plot()`. For large
virtual populations use `ldnkit.pharmacology.population`, which never holds patients x time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ldnkit.errors import ValidationError
from ldnkit.pharmacology.model import Trajectories, trajectories
from ldnkit.pharmacology.occupancy import occupancy
from ldnkit.pharmacology.parameters import BindingParameters, FloatArray, PKParameters
from ldnkit.pharmacology.published import binding_parameters, pk_evidence, typical_parameters
from ldnkit.pharmacology.regimen import Regimen
from ldnkit.pharmacology.summaries import DailyOccupancy, daily_occupancy, half_life
from ldnkit.table import Table

if TYPE_CHECKING:
    from matplotlib.figure import Figure

MAX_CELLS = 50_000_000  # patients x times held in memory by this path


@dataclass(frozen=True)
class Simulation:
    """Concentrations and occupancy of a regimen for one or a few patients."""

    regimen: Regimen
    params: PKParameters
    binding: BindingParameters
    scenario: str
    dt_h: float
    traj: Trajectories
    occupancy: FloatArray  # patients x times, 0-1
    daily: DailyOccupancy

    @property
    def times_h(self) -> FloatArray:
        return self.traj.times_h

    @property
    def parent(self) -> FloatArray:
        """Plasma naltrexone, ng/mL (patients x times)."""
        return self.traj.parent

    @property
    def metabolite(self) -> FloatArray:
        """Plasma 6-beta-naltrexol, ng/mL (patients x times)."""
        return self.traj.metabolite

    def single_dose_metrics(self, patient: int = 0) -> dict[str, float]:
        """Cmax, Tmax, half-lives and the metabolite/parent AUC ratio (single-dose studies).

        Half-lives are log-linear fits over the windows those studies sampled: 12-48 h after
        the dose for naltrexone (the terminal phase after oral dosing), 24-72 h for
        6-beta-naltrexol. Meaningful for a single dose followed long enough.
        """
        t = self.times_h - self.regimen.times_h[0]
        cp, cm = self.parent[patient], self.metabolite[patient]
        i, im = int(np.argmax(cp)), int(np.argmax(cm))
        auc_p = float(np.trapezoid(cp, t))
        auc_m = float(np.trapezoid(cm, t))
        end = float(t[-1])
        return {
            "cmax_ng_ml": float(cp[i]),
            "tmax_h": float(t[i]),
            "half_life_h": half_life(t, cp, 12.0, min(48.0, end)),
            "metabolite_cmax_ng_ml": float(cm[im]),
            "metabolite_tmax_h": float(t[im]),
            "metabolite_half_life_h": half_life(t, cm, 24.0, min(72.0, end)),
            "metabolite_ratio": auc_m / auc_p,
            "peak_occupancy": float(self.occupancy[patient].max()),
        }

    def blockade_half_time(self, patient: int = 0) -> float:
        """Hours from peak occupancy until it has halved (inf if it never does)."""
        o = self.occupancy[patient]
        i = int(np.argmax(o))
        below = np.nonzero(o[i:] < o[i] / 2.0)[0]
        return float(self.times_h[i + below[0]] - self.times_h[i]) if below.size else float("inf")

    def summary(self, patient: int = 0) -> str:
        """`table(patient)` as plain text: every result's `summary()` is a `str` (research
        and pharmacology alike); shells that draw tables (the CLI's Rich) use `table()`."""
        return str(self.table(patient))

    def table(self, patient: int = 0) -> Table:
        """Day by day: dose, hours above 50% and 90% occupancy, peak and trough, Cmax."""
        per_day = self.regimen.dose_on_day()
        d = self.daily
        rows = []
        cols = np.floor(self.times_h / 24.0 + 1e-9).astype(int)
        for day in range(self.regimen.days):
            sel = cols == day
            cmax = float(self.parent[patient, sel].max()) if np.any(sel) else float("nan")
            rows.append(
                (
                    str(day + 1),
                    f"{per_day[day]:g}",
                    f"{d.hours_50[patient, day]:.1f}",
                    f"{d.hours_90[patient, day]:.1f}",
                    f"{100 * d.peak[patient, day]:.0f}%",
                    f"{100 * d.trough[patient, day]:.0f}%",
                    f"{cmax:.3g}",
                )
            )
        return Table(
            title=f"{self.regimen.label or 'regimen'}: mu-opioid receptor occupancy "
            f"({self.scenario} scenario)",
            columns=("day", "dose mg", "h >=50%", "h >=90%", "peak", "trough", "Cmax ng/mL"),
            rows=tuple(rows),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "regimen": self.regimen.to_dict(),
            "scenario": self.scenario,
            "dt_h": self.dt_h,
            "parameters": self.params.as_dict(),
            "binding": {k: float(v) for k, v in vars(self.binding).items()},
            "times_h": self.times_h.tolist(),
            "parent_ng_ml": self.parent.tolist(),
            "metabolite_ng_ml": self.metabolite.tolist(),
            "occupancy": self.occupancy.tolist(),
            "daily": {
                "hours_50": self.daily.hours_50.tolist(),
                "hours_90": self.daily.hours_90.tolist(),
                "peak": self.daily.peak.tolist(),
                "trough": self.daily.trough.tolist(),
            },
        }

    def plot(self, path: str | None = None, patient: int = 0) -> Figure:
        """Concentrations and occupancy over time (matplotlib figure; saved if `path`)."""
        from ldnkit.pharmacology.plots import plot_concentrations

        return plot_concentrations(
            self.times_h,
            self.parent[patient],
            self.metabolite[patient],
            self.occupancy[patient],
            title=self.regimen.label or "regimen",
            scenario=self.scenario,
            path=path,
        )


def simulate(
    regimen: Regimen,
    params: PKParameters | None = None,
    binding: BindingParameters | None = None,
    scenario: str | None = None,
    dt_h: float = 0.1,
) -> Simulation:
    """Simulate `regimen` for the patients in `params` (default: a typical adult).

    `scenario` picks how brain occupancy follows plasma (the evidence file's default,
    "fitted" by `ldnkit.pharmacology.fit`, or "delayed" / "equilibrium"); explicit
    `params`/`binding` override it.
    """
    name = scenario or pk_evidence().default_scenario
    p = params if params is not None else typical_parameters(name)
    b = binding if binding is not None else binding_parameters(name)
    times = regimen.grid(dt_h)
    if p.n * times.size > MAX_CELLS:
        raise ValidationError(
            "params", f"{p.n} patients x {times.size} times is too large; use simulate_population"
        )
    tr = trajectories(p, regimen, times)
    cp = tr.effect if tr.effect is not None else tr.parent
    cm = tr.effect_m if tr.effect_m is not None else tr.metabolite
    occ = occupancy(cp, cm, b)
    daily = daily_occupancy(occ, times, dt_h, regimen.days)
    return Simulation(regimen, p, b, name, dt_h, tr, occ, daily)


__all__ = ["Simulation", "simulate"]
