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
    """5-95% bands (kept patients) and population means, whole period and last 24 h."""
    fig, axes = _figure(2)
    t = res.times_h
    last = t >= t[-1] - 24.0
    for ax, sel, scale, xlabel in (
        (axes[0], slice(None), 24.0, "days"),
        (axes[1], last, 1.0, "hours (last 24 h of the period)"),
    ):
        x = t[sel] / scale
        occ = 100 * res.kept_occupancy[:, sel]
        lo, mid, hi = np.percentile(occ, [5, 50, 95], axis=0)
        ax.fill_between(x, lo, hi, alpha=0.3, color="tab:red", label="5-95% (kept patients)")
        ax.plot(x, mid, color="tab:red", label="median")
        ax.plot(x, 100 * res.mean_occupancy[sel], color="k", lw=0.8, label="population mean")
        for y in (50, 90):
            ax.axhline(y, color="grey", lw=0.6, ls="--")
        ax.set_ylim(0, 100)
        ax.set_ylabel("MOR occupancy %")
        ax.set_xlabel(xlabel)
    axes[0].legend(loc="lower right")
    axes[0].set_title(
        f"{res.regimen.label or 'regimen'}: {res.n} patients, {res.scenario} scenario"
    )
    if path:
        fig.savefig(path)
    return fig


__all__ = ["plot_population", "plot_simulation"]
