"""The one-page result of an N-of-1 trial, as plain data the web page and the PDF both render.

Built after unblinding only (it needs the allocation). It says the effect in plain words, the
probabilities, side effects per arm, the blinding check, the decision the result supports and
the sources. Decision rule (stated on the report so the clinician can overrule it):

* a severe side effect on LDN, or P(benefit) <= 0.5  -> stop LDN;
* P(benefit >= the patient's goal) >= 0.7            -> continue at this dose;
* otherwise (a benefit is likely but smaller than the goal, or uncertain) -> try another dose
  (or, for a dose-A-vs-B trial, the better-supported dose).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

import numpy as np

from ldnkit.research.nof1.analysis import Nof1Result
from ldnkit.research.nof1.design import SOURCES, Allocation, Nof1Design
from ldnkit.research.nof1.pharmacy import BlindingCheck

__all__ = ["DECISION_SOURCES", "Nof1Report", "build_report", "pain_svg", "plain_words"]

DECISION_SOURCES: tuple[str, ...] = (*SOURCES, "gouda-2026")


def _pts(x: float) -> str:
    return f"{abs(x):.1f} point{'s' if round(abs(x), 1) != 1 else ''}"


def plain_words(r: Nof1Result, drug: str = "LDN") -> str:
    """'LDN lowered your pain by about 1.2 points, likely between 0.4 and 2.0; ...'."""
    b = -r.effect_mean
    lo, hi = -r.ci95[1], -r.ci95[0]  # benefit interval
    verb = "lowered" if b >= 0 else "raised"
    head = f"{drug} {verb} your pain by about {_pts(b)}"
    if lo >= 0 or hi <= 0:
        a, c = sorted((abs(lo), abs(hi)))
        rng = f"likely between {a:.1f} and {c:.1f}"
    else:
        rng = f"likely somewhere between {abs(lo):.1f} points higher and {hi:.1f} points lower"
    return (
        f"{head}, {rng}; the chance it helps you at all is {100 * r.p_benefit:.0f}%, "
        f"and the chance it helps you by at least {r.goal_points:g} point"
        f"{'s' if r.goal_points != 1 else ''} is {100 * r.p_goal:.0f}%; "
        f"by at least {100 * r.relative:.0f}% it is {100 * r.p_relative:.0f}%."
    )


@dataclass(frozen=True)
class PeriodRow:
    index: int
    pair: int
    pack: str
    arm: str
    start: dt.date
    end: dt.date
    mean_pain: float | None
    days_recorded: int


@dataclass
class Nof1Report:
    """Everything on the one-page report."""

    title: str
    headline: str
    result: Nof1Result
    decision: str  # continue | stop | try_another_dose
    decision_text: str
    periods: list[PeriodRow]
    side_effects: dict[str, dict[str, int]]  # arm -> code -> days
    blinding: BlindingCheck | None
    prior_label: str
    sources: tuple[str, ...] = DECISION_SOURCES
    svg: str = ""
    notes: list[str] = field(default_factory=list)
    daily: list[tuple[dt.date, float]] = field(default_factory=list)  # for the PDF chart

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "headline": self.headline,
            "decision": self.decision,
            "decision_text": self.decision_text,
            "result": self.result.to_dict(),
            "periods": [
                {
                    **{k: v for k, v in p.__dict__.items() if k not in ("start", "end")},
                    "start": p.start.isoformat(),
                    "end": p.end.isoformat(),
                }
                for p in self.periods
            ],
            "side_effects": self.side_effects,
            "blinding": self.blinding.to_dict() if self.blinding else None,
            "prior": self.prior_label,
            "notes": self.notes,
            "sources": list(self.sources),
        }

    def sections(self) -> list[tuple[str, list[str], list[list[str]] | None]]:
        """(heading, paragraphs, table) triples: the PDF and plain-text renderings read this."""
        r = self.result
        lo, hi = r.ci95
        out: list[tuple[str, list[str], list[list[str]] | None]] = [
            ("Result", [self.headline], None),
            (
                "In numbers",
                [
                    f"Pain on LDN minus comparator: {r.effect_mean:+.2f} points "
                    f"(95% credible interval {lo:+.2f} to {hi:+.2f}); P(benefit) "
                    f"{r.p_benefit:.2f}; P(benefit >= {r.goal_points:g}) {r.p_goal:.2f}; "
                    f"P(>= {100 * r.relative:.0f}% lower) {r.p_relative:.2f}.",
                    f"Prior: {self.prior_label}.",
                ]
                + (
                    [
                        f"Paired t-test over {r.paired.df + 1} pairs: {r.paired.mean:+.2f} "
                        f"(95% CI {r.paired.ci95[0]:+.2f} to {r.paired.ci95[1]:+.2f}), "
                        f"p = {r.paired.p_value:.3f}."
                    ]
                    if r.paired
                    else []
                ),
                None,
            ),
            (
                "Daily pain by period",
                [],
                [["period", "pack", "contained", "dates", "mean pain", "days"]]
                + [
                    [
                        str(p.index),
                        p.pack,
                        p.arm,
                        f"{p.start.isoformat()} to {p.end.isoformat()}",
                        "-" if p.mean_pain is None else f"{p.mean_pain:.1f}",
                        str(p.days_recorded),
                    ]
                    for p in self.periods
                ],
            ),
            (
                "Side effects (days reported)",
                [] if any(self.side_effects.values()) else ["No side effects were reported."],
                [["arm", "side effect", "days"]]
                + [
                    [arm, code, str(n)]
                    for arm, codes in self.side_effects.items()
                    for code, n in sorted(codes.items())
                ]
                if any(self.side_effects.values())
                else None,
            ),
            (
                "Blinding check",
                [self.blinding.plain() if self.blinding else "No guesses recorded."],
                None,
            ),
            ("Decision this supports", [self.decision_text, *self.notes], None),
        ]
        return out


def _arm_name(design: Nof1Design, arm: str) -> str:
    s = design.settings
    if arm == "ldn":
        return f"LDN {s.dose_mg} mg"
    if arm == "ldn_b":
        return f"LDN {s.comparator_dose_mg} mg"
    return "placebo"


def pain_svg(
    design: Nof1Design,
    pain_by_date: Mapping[dt.date, float],
    allocation: Allocation | None = None,
    width: int = 720,
    height: int = 240,
) -> str:
    """Daily pain with the periods shaded; pack contents are named only if `allocation`."""
    left, right, top, bottom = 36, 12, 14, 34
    span = max(design.total_days, 1)

    def x(day: float) -> float:
        return left + (width - left - right) * day / span

    def y(v: float) -> float:
        return top + (height - top - bottom) * (1 - v / 10)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="Daily pain by period">'
    ]
    for p in design.periods:
        arm = allocation.arm_of(p.pack) if allocation else None
        fill = "#dbeafe" if arm == "ldn" else "#fde68a" if arm else "#eeeeee"
        if arm is None and p.pack == "B":
            fill = "#e0e0e0"
        x0, x1 = x(p.start_day), x(p.end_day + 1)
        parts.append(
            f'<rect x="{x0:.1f}" y="{top}" width="{x1 - x0:.1f}" '
            f'height="{height - top - bottom}" fill="{fill}"/>'
        )
        xa = x(p.first_analysed_day)
        parts.append(
            f'<line x1="{xa:.1f}" x2="{xa:.1f}" y1="{top}" y2="{height - bottom}" '
            'stroke="#999" stroke-dasharray="2,2"/>'
        )
        name = _arm_name(design, arm) if arm else f"pack {p.pack}"
        parts.append(
            f'<text x="{(x0 + x1) / 2:.1f}" y="{height - bottom + 14}" font-size="10" '
            f'text-anchor="middle">{escape(name)}</text>'
        )
    for v in (0, 5, 10):
        parts.append(
            f'<text x="{left - 6}" y="{y(v) + 3:.1f}" font-size="10" text-anchor="end">{v}</text>'
        )
    pts = sorted((design.day_of(d), float(v)) for d, v in pain_by_date.items() if v is not None)
    pts = [(d, v) for d, v in pts if 0 <= d < design.total_days]
    if pts:
        path = " ".join(f"{x(d + 0.5):.1f},{y(v):.1f}" for d, v in pts)
        parts.append(f'<polyline points="{path}" fill="none" stroke="#1f4e79" stroke-width="1.5"/>')
    parts.append(
        f'<text x="{left}" y="{height - 4}" font-size="10">dashed line: start of the analysed '
        "days (earlier days of each period are the washout)</text></svg>"
    )
    return "".join(parts)


def build_report(
    design: Nof1Design,
    allocation: Allocation,
    result: Nof1Result,
    pain_by_date: Mapping[dt.date, float],
    side_effects_by_date: Mapping[dt.date, Sequence[Mapping[str, str]]] | None = None,
    blinding: BlindingCheck | None = None,
) -> Nof1Report:
    """The report for a completed, unblinded trial."""
    s = design.settings
    dose_b = s.comparator_dose_mg
    rows = []
    for p in design.periods:
        vals = [
            float(pain_by_date[design.date_of(d)])
            for d in range(p.first_analysed_day, p.end_day + 1)
            if pain_by_date.get(design.date_of(d)) is not None
        ]
        rows.append(
            PeriodRow(
                p.index,
                p.pair,
                p.pack,
                _arm_name(design, allocation.arm_of(p.pack)),
                design.date_of(p.start_day),
                design.date_of(p.end_day),
                float(np.mean(vals)) if vals else None,
                len(vals),
            )
        )
    se: dict[str, Counter[str]] = {}
    severe_on_ldn = False
    for when, items in (side_effects_by_date or {}).items():
        info = design.day_info(when)
        if info.period is None:
            continue
        arm = allocation.arm_of(info.period.pack)
        name = _arm_name(design, arm)
        se.setdefault(name, Counter())
        for it in items:
            se[name][str(it.get("code"))] += 1
            if arm == "ldn" and it.get("severity") == "severe":
                severe_on_ldn = True
    drug = f"LDN {s.dose_mg} mg" if dose_b is None else f"LDN {s.dose_mg} mg (vs {dose_b} mg)"
    if severe_on_ldn:
        decision = "stop"
        text = f"Stop LDN: a severe side effect was reported while taking {s.dose_mg} mg."
    elif result.p_benefit <= 0.5:
        decision = "stop"
        text = (
            f"Stop LDN: the trial does not show that {s.dose_mg} mg helps you "
            f"(chance of any benefit {100 * result.p_benefit:.0f}%)."
            if dose_b is None
            else f"Prefer {dose_b} mg: {s.dose_mg} mg was not better."
        )
    elif result.p_goal >= 0.7:
        decision = "continue"
        text = (
            f"Continue LDN at {s.dose_mg} mg: it is likely to reach your goal of "
            f"{result.goal_points:g} point(s) ({100 * result.p_goal:.0f}%)."
        )
    else:
        decision = "try_another_dose"
        text = (
            f"A benefit is likely ({100 * result.p_benefit:.0f}%) but probably smaller than "
            f"your goal of {result.goal_points:g} point(s): consider another dose (a new "
            "titration step or a dose-A-versus-dose-B trial) before deciding."
        )
    notes = [
        "Decision rule: severe side effect on LDN or P(benefit) <= 50% -> stop; "
        "P(benefit >= goal) >= 70% -> continue; otherwise try another dose. "
        "The clinician and patient decide together; this supports, not replaces, that talk."
    ]
    return Nof1Report(
        title=f"Your N-of-1 trial of LDN: {design.date_of(0).isoformat()} to "
        f"{design.end.isoformat()}",
        headline=plain_words(result, drug),
        result=result,
        decision=decision,
        decision_text=text,
        periods=rows,
        side_effects={k: dict(v) for k, v in se.items()},
        blinding=blinding,
        prior_label=result.prior.label,
        svg=pain_svg(design, pain_by_date, allocation),
        notes=notes,
        daily=sorted((d, float(v)) for d, v in pain_by_date.items() if v is not None),
    )
