"""Matplotlib figures for the research results (forest, funnel, power curve, trial course).

Figures are built with the object API on the Agg backend, so they work headless (CI, the CLI,
a web worker) and never touch global pyplot state; `path` writes SVG or PNG by extension.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
from matplotlib.figure import Figure
from scipy import stats

from ldnkit.figures import save_figure

__all__ = ["PooledEffects", "forest_plot", "funnel_plot", "save"]


class PooledEffects(Protocol):
    """What the forest and funnel plots read: study effects, their variances and weights, and
    the pooled result. `research.meta.MetaResult` fits; so would any pooled analysis, so the
    plots never import the meta-analysis (figures depend one way, issue 17)."""

    k: int
    level: float
    yi: np.ndarray
    vi: np.ndarray
    weights: np.ndarray
    labels: Sequence[str]
    estimate: float
    method: str
    hartung_knapp: bool
    measure: str
    I2: float
    tau2: float
    Q: float
    Q_df: int
    pvalue: float

    @property
    def prediction_interval(self) -> tuple[float, float]: ...

    def conf_int(self) -> tuple[float, float]: ...


def save(fig: Figure, path: str | Path | None) -> Figure:
    """Write the figure when a path is given (format from the suffix) and return it."""
    if path is not None:
        save_figure(fig, path, bbox_inches="tight")
    return fig


def forest_plot(
    res: PooledEffects, path: str | Path | None = None, title: str | None = None
) -> Figure:
    """One row per study (square sized by weight, line = 95% CI), the pooled diamond and,
    for random-effects models, the prediction interval as a thin bar under it."""
    k = res.k
    fig = Figure(figsize=(8, 1.2 + 0.38 * (k + 3)))
    ax = fig.add_subplot(1, 1, 1)
    z = stats.norm.ppf(0.5 + res.level / 2)
    se = np.sqrt(res.vi)
    rows = np.arange(k, 0, -1) + 1.5
    lo, hi = res.yi - z * se, res.yi + z * se
    ax.hlines(rows, lo, hi, color="0.2", lw=1)
    sizes = 20 + 180 * res.weights / max(res.weights.max(), 1e-9)
    ax.scatter(res.yi, rows, s=sizes, marker="s", color="tab:blue", zorder=3)
    clo, chi = res.conf_int()
    ax.fill(
        [clo, res.estimate, chi, res.estimate],
        [0.8, 1.1, 0.8, 0.5],
        color="tab:red",
        zorder=3,
    )
    if res.method != "FE":
        plo, phi = res.prediction_interval
        ax.hlines(0.1, plo, phi, color="tab:red", lw=2, alpha=0.6)
    ax.axvline(0, color="0.5", ls="--", lw=0.8)
    labels = [*res.labels, f"Pooled ({res.method}{', HK' if res.hartung_knapp else ''})"]
    ticks = [*rows, 0.8]
    if res.method != "FE":
        labels.append("Prediction interval")
        ticks.append(0.1)
    ax.set_yticks(ticks, labels)
    ax.set_ylim(-0.4, k + 2.3)
    text_x = 1.02
    for r, y, a, b, w in zip(rows, res.yi, lo, hi, res.weights, strict=True):
        ax.text(
            text_x,
            r,
            f"{y:6.2f} [{a:6.2f}, {b:6.2f}] {w:5.1f}%",
            transform=ax.get_yaxis_transform(),
            va="center",
            family="monospace",
            fontsize=8,
        )
    ax.text(
        text_x,
        0.8,
        f"{res.estimate:6.2f} [{clo:6.2f}, {chi:6.2f}]",
        transform=ax.get_yaxis_transform(),
        va="center",
        family="monospace",
        fontsize=8,
        weight="bold",
    )
    ax.set_xlabel(f"{res.measure} (negative favours LDN)" if res.measure else "effect")
    ax.set_title(
        title
        or f"I² = {res.I2:.0f}%, τ² = {res.tau2:.3f}, Q = {res.Q:.2f} (df {res.Q_df}), "
        f"p = {res.pvalue:.3g}",
        fontsize=9,
    )
    return save(fig, path)


def funnel_plot(
    res: PooledEffects, path: str | Path | None = None, title: str | None = None
) -> Figure:
    """Effect against its SE (inverted axis) with the pseudo 95% limits around the pooled
    estimate: asymmetry hints at small-study effects, though with few trials it is weak."""
    fig = Figure(figsize=(6, 5))
    ax = fig.add_subplot(1, 1, 1)
    se = np.sqrt(res.vi)
    top = max(float(se.max()) * 1.1, 1e-6)
    grid = np.linspace(0, top, 50)
    z = stats.norm.ppf(0.5 + res.level / 2)
    ax.fill_betweenx(grid, res.estimate - z * grid, res.estimate + z * grid, color="0.92", zorder=0)
    ax.plot(res.estimate - z * grid, grid, color="0.5", lw=0.8)
    ax.plot(res.estimate + z * grid, grid, color="0.5", lw=0.8)
    ax.axvline(res.estimate, color="tab:red", lw=1)
    ax.scatter(res.yi, se, color="tab:blue", zorder=3)
    for lab, x, s in zip(res.labels, res.yi, se, strict=True):
        ax.annotate(lab, (x, s), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_ylim(top, 0)
    ax.set_xlabel(res.measure)
    ax.set_ylabel("standard error")
    ax.set_title(title or f"Funnel plot (k = {res.k})", fontsize=9)
    return save(fig, path)
