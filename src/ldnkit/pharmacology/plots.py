"""Matplotlib figures for simulations (a shell: imported only when a plot is asked for)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ldnkit.pharmacology.population import PopulationResult
    from ldnkit.pharmacology.simulation import Simulation


def _figure(rows: int) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(rows, 1, figsize=(9, 2.8 * rows), constrained_layout=True)


def plot_simulation(sim: Simulation, path: str | None = None, patient: int = 0) -> Any:
    """Naltrexone and 6-beta-naltrexol in plasma, and receptor occupancy, over the regimen."""
    fig, (ax1, ax2) = _figure(2)
    t = sim.times_h / 24.0
    ax1.semilogy(t, np.maximum(sim.parent[patient], 1e-6), label="naltrexone")
    ax1.semilogy(t, np.maximum(sim.metabolite[patient], 1e-6), label="6-beta-naltrexol")
    ax1.set_ylabel("plasma ng/mL")
    ax1.set_ylim(bottom=1e-3)
    ax1.legend(loc="upper right")
    ax1.set_title(sim.regimen.label or "regimen")
    ax2.plot(t, 100 * sim.occupancy[patient], color="tab:red")
    for y in (50, 90):
        ax2.axhline(y, color="grey", lw=0.6, ls="--")
    ax2.set_ylim(0, 100)
    ax2.set_ylabel(f"MOR occupancy % ({sim.scenario})")
    ax2.set_xlabel("days")
    if path:
        fig.savefig(path)
    return fig


def plot_population(res: PopulationResult, path: str | None = None) -> Any:
    """5-95% bands of naltrexone, 6-beta-naltrexol and occupancy: whole period and last 24 h.

    Bands come from the kept patients (`keep`); the black line is the mean over all patients.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(3, 2, figsize=(12, 8.5), constrained_layout=True, sharey="row")
    t = res.times_h
    last = t >= t[-1] - 24.0
    series = (
        ("naltrexone ng/mL", res.kept_parent, res.mean_parent, "tab:blue", True),
        ("6-beta-naltrexol ng/mL", res.kept_metabolite, res.mean_metabolite, "tab:green", True),
        ("MOR occupancy %", 100 * res.kept_occupancy, 100 * res.mean_occupancy, "tab:red", False),
    )
    for row, (label, kept, mean, color, log) in enumerate(series):
        for col, sel in enumerate((slice(None), last)):
            ax = axes[row, col]
            x = t[sel] / 24.0 if col == 0 else t[sel] - t[sel][0]
            if kept.shape[0]:
                lo, mid, hi = np.percentile(kept[:, sel], [5, 50, 95], axis=0)
                ax.fill_between(x, lo, hi, alpha=0.3, color=color, label="5-95%")
                ax.plot(x, mid, color=color, label="median")
            ax.plot(x, mean[sel], color="k", lw=0.8, label="mean (all)")
            if log:
                ax.set_yscale("log")
                ax.set_ylim(
                    bottom=max(1e-3, float(np.min(mean[mean > 0])) if np.any(mean > 0) else 1e-3)
                )
            else:
                ax.set_ylim(0, 100)
                for y in (50, 90):
                    ax.axhline(y, color="grey", lw=0.6, ls="--")
            if col == 0:
                ax.set_ylabel(label)
            if row == 2:
                ax.set_xlabel("days" if col == 0 else "hours into the last day")
    axes[0, 0].legend(loc="lower right", fontsize=8)
    fig.suptitle(
        f"{res.regimen.label or 'regimen'}: {res.n} patients ({res.kept_occupancy.shape[0]} kept "
        f"for bands), {res.scenario} scenario"
    )
    if path:
        fig.savefig(path)
    return fig


__all__ = ["plot_population", "plot_simulation"]
