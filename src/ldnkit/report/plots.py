"""Plots for follow-up visits and clinic reviews, written as SVG or PNG.

Built on matplotlib's object API (`Figure`, rendered by the Agg canvas) rather than pyplot,
so no global state or display is touched: safe in the web server, the CLI and tests alike.
Titles name patients by id only.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from matplotlib.figure import Figure

from ldnkit.analytics.cohort import CohortSummary
from ldnkit.clinical.outcomes import PatientOutcome, ResponseThresholds
from ldnkit.figures import save_figure

FORMATS = (".svg", ".png")


def _save(fig: Figure, path: Path) -> Path:
    return save_figure(fig, path, formats=FORMATS, stable=True, dpi=120, bbox_inches="tight")


def patient_timeline(outcome: PatientOutcome, path: Path, *, label: str = "Patient") -> Path:
    """Pain (0-10) and dose (mg) on one time axis, with baseline and response targets."""
    fig = Figure(figsize=(9, 4.2))
    ax = fig.add_subplot()
    days = [d for d, _ in outcome.pain_series]
    ax.plot(days, [p for _, p in outcome.pain_series], "o-", ms=3, lw=1, color="#c0392b",
            label="Pain (NRS 0-10)")  # fmt: skip
    ax.set_ylim(-0.3, 10.3)
    ax.set_ylabel("Pain (NRS 0-10)")
    if outcome.baseline_pain is not None:
        b = outcome.baseline_pain
        t = outcome.thresholds
        ax.axhline(b, color="#7f8c8d", ls="--", lw=1, label=f"Baseline {b:.1f}")
        ax.axhline(b * (1 - t.moderate_percent / 100), color="#27ae60", ls=":", lw=1,
                   label=f"-{t.moderate_percent:g}% target")  # fmt: skip
        ax.axhline(b * (1 - t.substantial_percent / 100), color="#16a085", ls=":", lw=1,
                   label=f"-{t.substantial_percent:g}% target")  # fmt: skip
    if outcome.start is not None:
        ax.axvline(outcome.start, color="#34495e", lw=0.8)
    ax2 = ax.twinx()
    dose_days = [d for d, mg, taken in outcome.dose_series if taken and mg is not None]
    dose_mg = [float(mg) for _, mg, taken in outcome.dose_series if taken and mg is not None]
    if dose_days:
        ax2.step(dose_days, dose_mg, where="post", color="#2980b9", lw=1.5, label="Dose (mg)")
        ax2.set_ylim(0, max(dose_mg) * 1.4)
    missed = [d for d, _, taken in outcome.dose_series if not taken and _after(d, outcome.start)]
    if missed:
        ax2.plot(missed, [0.05] * len(missed), "x", color="#2980b9", ms=4, label="Dose missed")
    ax2.set_ylabel("Dose (mg)")
    handles = ax.get_legend_handles_labels()
    handles2 = ax2.get_legend_handles_labels()
    ax.legend(handles[0] + handles2[0], handles[1] + handles2[1], loc="upper right",
              fontsize=7, ncol=2)  # fmt: skip
    ax.set_title(f"{label}: pain and LDN dose")
    fig.autofmt_xdate()
    return _save(fig, path)


def _after(d: dt.date, start: dt.date | None) -> bool:
    return start is not None and d >= start


def cohort_responder_chart(summary: CohortSummary, path: Path) -> Path:
    """Responder rates, and the figures the VA cohort also reports, side by side."""
    fig = Figure(figsize=(9, 4.6), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    t = ResponseThresholds.from_evidence()
    names = [
        f">={t.moderate_percent:g}%\nless pain",
        f">={t.substantial_percent:g}%\nless pain",
        f">={t.points:g} points\nless pain",
    ]
    values = [
        summary.responder_moderate_percent,
        summary.responder_substantial_percent,
        summary.responder_points_percent,
    ]
    bars = ax1.bar(names, [v or 0 for v in values], color=["#27ae60", "#16a085", "#2980b9"])
    ax1.bar_label(bars, labels=[f"{v:.0f}%" if v is not None else "n/a" for v in values])
    ax1.set_ylim(0, 110)
    ax1.set_ylabel(f"% of {summary.evaluable} evaluable patients")
    ax1.set_title("Responders (latest 14 days vs baseline week)", fontsize=10)
    comp = [row for row in summary.va_comparison() if row[0].endswith("(%)")]
    labels = [row[0].removesuffix(" (%)") for row in comp]
    x = range(len(comp))
    width = 0.38
    b1 = ax2.bar([i - width / 2 for i in x], [row[1] or 0 for row in comp], width,
                 label="This cohort", color="#34495e")  # fmt: skip
    b2 = ax2.bar([i + width / 2 for i in x], [row[2] or 0 for row in comp], width,
                 label="VA cohort", color="#bdc3c7")  # fmt: skip
    ax2.bar_label(b1, fmt="%.0f%%", fontsize=8)
    ax2.bar_label(b2, fmt="%.0f%%", fontsize=8)
    ax2.set_xticks(list(x), labels, fontsize=8)
    ax2.set_ylim(0, 115)
    ax2.legend(fontsize=8, loc="upper right")
    ax2.set_title("Against the VA figures", fontsize=10)
    fig.suptitle(f"Cohort of {summary.patients} patients, as of {summary.as_of.isoformat()}")
    return _save(fig, path)


__all__ = ["FORMATS", "cohort_responder_chart", "patient_timeline"]
