"""Matplotlib figures of concentrations and occupancy (a shell: imported only when a plot is
asked for, from `Simulation.plot()` and `PopulationResult.plot()`).

The functions take plain arrays and labels, never a result object, so this module imports
nothing from the results and the results import it only inside `.plot()`: one direction, no
circle. Figures are built with matplotlib's object API (`Figure`, drawn by the Agg canvas):
no pyplot, no `matplotlib.use`, no global state, safe in a web worker.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from ldnkit.figures import save_figure

__all__ = ["plot_bands", "plot_concentrations"]


def plot_concentrations(
    times_h: ArrayLike,
    parent: ArrayLike,
    metabolite: ArrayLike,
    occupancy: ArrayLike,
    *,
    title: str,
    scenario: str,
    path: str | Path | None = None,
) -> Figure:
    """Naltrexone and 6-beta-naltrexol in plasma (ng/mL, log scale) and receptor occupancy
    (fraction 0-1, drawn as %) of one patient over time; written to `path` when given."""
    fig = Figure(figsize=(9, 5.6), constrained_layout=True)
    ax1, ax2 = fig.subplots(2, 1)
    t = np.asarray(times_h, dtype=float) / 24.0
    ax1.semilogy(t, np.maximum(np.asarray(parent), 1e-6), label="naltrexone")
    ax1.semilogy(t, np.maximum(np.asarray(metabolite), 1e-6), label="6-beta-naltrexol")
    ax1.set_ylabel("plasma ng/mL")
    ax1.set_ylim(bottom=1e-3)
    ax1.legend(loc="upper right")
    ax1.set_title(title)
    ax2.plot(t, 100 * np.asarray(occupancy), color="tab:red")
    for y in (50, 90):
        ax2.axhline(y, color="grey", lw=0.6, ls="--")
    ax2.set_ylim(0, 100)
    ax2.set_ylabel(f"MOR occupancy % ({scenario})")
    ax2.set_xlabel("days")
    if path:
        save_figure(fig, path)
    return fig


def plot_bands(
    times_h: ArrayLike,
    kept: tuple[ArrayLike, ArrayLike, ArrayLike],
    mean: tuple[ArrayLike, ArrayLike, ArrayLike],
    *,
    title: str,
    path: str | Path | None = None,
) -> Figure:
    """5-95% bands of naltrexone, 6-beta-naltrexol and occupancy: whole period and last 24 h.

    `kept` holds (parent, metabolite, occupancy) for a sample of patients (patients x times),
    `mean` the same three means over all patients (times); occupancy is a fraction 0-1. Bands
    come from the kept patients; the black line is the mean over all patients.
    """
    fig = Figure(figsize=(12, 8.5), constrained_layout=True)
    axes = fig.subplots(3, 2, sharey="row")
    t = np.asarray(times_h, dtype=float)
    last = t >= t[-1] - 24.0
    kept_p, kept_m, kept_o = (np.asarray(a) for a in kept)
    mean_p, mean_m, mean_o = (np.asarray(a) for a in mean)
    series = (
        ("naltrexone ng/mL", kept_p, mean_p, "tab:blue", True),
        ("6-beta-naltrexol ng/mL", kept_m, mean_m, "tab:green", True),
        ("MOR occupancy %", 100 * kept_o, 100 * mean_o, "tab:red", False),
    )
    for row, (label, kept_rows, mean_row, color, log) in enumerate(series):
        for col, sel in enumerate((slice(None), last)):
            ax = axes[row, col]
            x = t[sel] / 24.0 if col == 0 else t[sel] - t[sel][0]
            if kept_rows.shape[0]:
                lo, mid, hi = np.percentile(kept_rows[:, sel], [5, 50, 95], axis=0)
                ax.fill_between(x, lo, hi, alpha=0.3, color=color, label="5-95%")
                ax.plot(x, mid, color=color, label="median")
            ax.plot(x, mean_row[sel], color="k", lw=0.8, label="mean (all)")
            if log:
                positive = mean_row[mean_row > 0]
                ax.set_yscale("log")
                ax.set_ylim(bottom=max(1e-3, float(np.min(positive)) if positive.size else 1e-3))
            else:
                ax.set_ylim(0, 100)
                for y in (50, 90):
                    ax.axhline(y, color="grey", lw=0.6, ls="--")
            if col == 0:
                ax.set_ylabel(label)
            if row == 2:
                ax.set_xlabel("days" if col == 0 else "hours into the last day")
    axes[0, 0].legend(loc="lower right", fontsize=8)
    fig.suptitle(title)
    if path:
        save_figure(fig, path)
    return fig
