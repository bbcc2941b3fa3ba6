"""Write a trial analysis to a folder: Markdown and JSON reports, a patient table, plots.

Kept apart from `analysis` so the computation stays free of file I/O; the CLI and notebooks
call `TrialAnalysis.report(outdir)`, which lands here.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.figure import Figure

from ldnkit.research.plots import save

if TYPE_CHECKING:
    from ldnkit.research.analysis import ParallelAnalysis, TrialAnalysis

__all__ = ["course_figure", "write_parallel_report", "write_trial_report"]


def course_figure(daily: Any, by: str, path: Path | str | None = None) -> Figure:
    """Mean daily severity over study days, one line per phase (or arm)."""
    fig = Figure(figsize=(8, 4))
    ax = fig.add_subplot(1, 1, 1)
    for key, g in daily.groupby(by, sort=False):
        ax.plot(g["day"], g["mean"], lw=1.2, label=str(key))
    ax.set_xlabel("study day")
    ax.set_ylabel("mean daily symptom severity")
    ax.legend(fontsize=8)
    ax.set_title(f"Daily diary, mean over patients, by {by}", fontsize=9)
    return save(fig, path)


def _course(res: TrialAnalysis, path: Path) -> Path:
    course_figure(res.daily_means, "phase", path)
    return path


def _responders(res: TrialAnalysis, path: Path) -> Path:
    fig = Figure(figsize=(5, 4))
    ax = fig.add_subplot(1, 1, 1)
    r = res.responders
    x = np.arange(len(r))
    ax.bar(x - 0.2, r["placebo_rate"], 0.4, label="placebo")
    ax.bar(x + 0.2, r["ldn_rate"], 0.4, label="LDN")
    ax.set_xticks(x, [f">= {t}% reduction" for t in r["threshold_percent"]])
    ax.set_ylim(0, 1)
    ax.set_ylabel("responder rate")
    ax.legend(fontsize=8)
    save(fig, path)
    return path


def _esr(res: TrialAnalysis, path: Path) -> Path:
    fig = Figure(figsize=(5, 4))
    ax = fig.add_subplot(1, 1, 1)
    pt = res.patient_table
    if "esr" in pt.columns:
        ax.scatter(pt["esr"], pt["ldn_over_placebo_pct"])
    ax.set_xlabel("baseline ESR (mm/h)")
    ax.set_ylabel("reduction with LDN over placebo (%-points)")
    ax.set_title(
        f"r = {res.esr.get('pearson_r', math.nan):.2f}, R^2 = {res.esr.get('r_squared', math.nan):.2f}",
        fontsize=9,
    )
    save(fig, path)
    return path


def _contrast_table(mm: Mapping[str, Any]) -> list[str]:
    """The primary contrast with the t reference distribution the p-value and CI come from
    (the same inference as the power simulation, `ldnkit.research.mixed`)."""
    return [
        "| contrast | estimate | SE | df | t | p | 95% CI | inference |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        f"| LDN - placebo | {mm['estimate']:.4f} | {mm['se']:.4f} | {mm['df']:.4g} | "
        f"{mm['statistic']:.3f} | {mm['pvalue']:.4g} | {mm['ci_lower']:.4f} to "
        f"{mm['ci_upper']:.4f} | {mm['inference']} |",
        "",
    ]


def write_trial_report(res: TrialAnalysis, outdir: Path) -> list[Path]:
    """Everything a reader needs, in `outdir`; returns the files written."""
    outdir.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    pt = res.patient_table
    files.append(outdir / "patients.csv")
    pt.to_csv(files[-1], index=False)
    files.append(_course(res, outdir / "course.png"))
    files.append(_responders(res, outdir / "responders.png"))
    if res.esr:
        files.append(_esr(res, outdir / "esr.png"))
    files.append(outdir / "report.json")
    files[-1].write_text(json.dumps(res.to_dict(), indent=2, default=float))
    md = [
        "# Trial analysis",
        "",
        "```",
        res.summary(),
        "```",
        "",
        *_contrast_table(res.mixed_model),
        "![Daily course](course.png)",
        "",
        "![Responders](responders.png)",
    ]
    if res.esr:
        md += ["", "![ESR vs response](esr.png)"]
    files.append(outdir / "report.md")
    files[-1].write_text("\n".join(md) + "\n")
    return files


def write_parallel_report(res: ParallelAnalysis, outdir: Path) -> list[Path]:
    """Parallel-trial report: summary, JSON, patient table and the course by arm."""
    outdir.mkdir(parents=True, exist_ok=True)
    files = [outdir / "patients.csv"]
    res.patient_table.to_csv(files[0], index=False)
    files.append(outdir / "course.png")
    course_figure(res.daily_means, "arm", files[-1])
    files.append(outdir / "report.json")
    files[-1].write_text(json.dumps(res.to_dict(), indent=2, default=float))
    files.append(outdir / "report.md")
    files[-1].write_text(
        "# Parallel trial analysis\n\n```\n" + res.summary() + "\n```\n\n![Course](course.png)\n"
    )
    return files
