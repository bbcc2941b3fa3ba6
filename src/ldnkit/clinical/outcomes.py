"""Per-patient outcomes from the diary: pain and dose over time, adherence, response.

Pure functions over `DiaryEntry` lists, so the same numbers appear in the CLI, the web page,
the plots and the cohort analytics. Thresholds are not written here: the 30% and 50% goals
and the 2-point clinically important change come from the evidence base
(`dosing.monitoring`), with their sources carried into the result.

Definitions (shared with `ldnkit.analytics` so per-patient and cohort figures agree):
- start: the first day a dose was taken;
- baseline: mean pain over the 7 days before the start; where the patient logged nothing
  then, the first 7 days of the diary (flagged `baseline_on_treatment`);
- latest: mean pain over the last 14 days up to `as_of` (default: the last diary day);
- change: latest minus baseline, in points and as a percentage of baseline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ldnkit.clinical.diary import DiaryEntry
from ldnkit.clinical.response import Category, responder_category, response_rules
from ldnkit.evidence import Evidence, default_evidence

# The baseline week and the latest window are the ones response-guided advice uses
# (`response.yaml`), so a patient's outcome and today's advice never disagree on them.
BASELINE_DAYS = response_rules().baseline_days
LATEST_DAYS = response_rules().recent_days
ROLLING_DAYS = 7
ROLLING_MIN_ENTRIES = 4


@dataclass(frozen=True)
class ResponseThresholds:
    """How much pain must fall to count as a response, with the sources that say so."""

    moderate_percent: float
    substantial_percent: float
    points: float
    sources: tuple[str, ...]

    @classmethod
    def from_evidence(cls, evidence: Evidence | None = None) -> ResponseThresholds:
        m = (evidence or default_evidence()).dosing.monitoring
        return cls(
            moderate_percent=float(m.response_goal_percent.min),
            substantial_percent=float(m.response_goal_percent.max),
            points=float(m.clinically_important_points),
            sources=tuple(
                dict.fromkeys([*m.response_goal_sources, *m.clinically_important_sources])
            ),
        )

    def labels(self) -> dict[str, str]:
        return {
            "percent_moderate": f">={self.moderate_percent:g}% reduction",
            "percent_substantial": f">={self.substantial_percent:g}% reduction",
            "points": f">={self.points:g} points reduction",
        }


@dataclass(frozen=True)
class Adherence:
    """Doses taken between `start` and `end` inclusive; unlogged days are counted separately."""

    start: dt.date
    end: dt.date
    days: int
    days_logged: int
    days_taken: int

    @property
    def rate(self) -> float:
        """Share of all days in the period with a logged dose (missing days count as missed)."""
        return self.days_taken / self.days if self.days else 0.0

    @property
    def rate_logged(self) -> float:
        """Share of logged days with a dose: adherence if unlogged days were like logged ones."""
        return self.days_taken / self.days_logged if self.days_logged else 0.0


@dataclass(frozen=True)
class PatientOutcome:
    """Everything the follow-up visit needs about one patient's course, and how it was judged."""

    as_of: dt.date | None
    start: dt.date | None
    baseline_pain: float | None
    baseline_days: int
    baseline_on_treatment: bool
    latest_pain: float | None
    latest_days: int
    change_points: float | None
    change_percent: float | None
    responder: dict[str, bool | None]
    days_to_response: dict[str, int | None]
    adherence: Adherence | None
    pain_series: tuple[tuple[dt.date, int], ...]
    dose_series: tuple[tuple[dt.date, Decimal | None, bool], ...]
    thresholds: ResponseThresholds
    sources: tuple[str, ...] = field(default=())
    #: Both criteria together (>=30%/50% and >=2 points; IMMPACT), as the advice judges it.
    category: Category | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (dates ISO, doses as strings) for the web and for storage."""
        return {
            "as_of": _iso(self.as_of),
            "start": _iso(self.start),
            "baseline_pain": _round(self.baseline_pain),
            "baseline_days": self.baseline_days,
            "baseline_on_treatment": self.baseline_on_treatment,
            "latest_pain": _round(self.latest_pain),
            "latest_days": self.latest_days,
            "change_points": _round(self.change_points),
            "change_percent": _round(self.change_percent),
            "responder": dict(self.responder),
            "category": self.category,
            "days_to_response": dict(self.days_to_response),
            "adherence": None
            if self.adherence is None
            else {
                "start": self.adherence.start.isoformat(),
                "end": self.adherence.end.isoformat(),
                "days": self.adherence.days,
                "days_logged": self.adherence.days_logged,
                "days_taken": self.adherence.days_taken,
                "rate": round(self.adherence.rate, 3),
            },
            "sources": list(self.sources),
        }

    def summary(self) -> str:
        """A few lines a clinician can read at a glance."""
        if self.start is None:
            return "No dose logged yet: treatment has not started in the diary."
        labels = self.thresholds.labels()
        lines = [
            f"Start {self.start.isoformat()}, as of {_iso(self.as_of)}",
            f"Baseline pain {_fmt(self.baseline_pain)} ({self.baseline_days} days"
            f"{', on treatment' if self.baseline_on_treatment else ''}); "
            f"latest {_fmt(self.latest_pain)} ({self.latest_days} days)",
            f"Change {_fmt(self.change_points, signed=True)} points "
            f"({_fmt(self.change_percent, signed=True)}%)",
        ]
        for key, label in labels.items():
            status = {True: "yes", False: "no", None: "n/a"}[self.responder[key]]
            days = self.days_to_response[key]
            when = (
                f"; 7-day mean first reached it on day {days}"
                if days is not None
                else "; 7-day mean has not reached it"
            )
            lines.append(f"Responder {label} (latest {LATEST_DAYS} days): {status}{when}")
        if self.adherence is not None:
            a = self.adherence
            lines.append(
                f"Adherence {a.rate:.0%} ({a.days_taken}/{a.days} days taken, "
                f"{a.days_logged} logged)"
            )
        if self.category is not None:
            lines.append(
                f"Category (percent and points together): {self.category.replace('_', ' ')}"
            )
        lines.append(f"Sources: {', '.join(self.sources)}")
        return "\n".join(lines)


def _iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d else None


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 2)


def _fmt(x: float | None, signed: bool = False) -> str:
    if x is None:
        return "n/a"
    return f"{x:+.1f}" if signed else f"{x:.1f}"


def _mean(values: Sequence[int]) -> float | None:
    return sum(values) / len(values) if values else None


def treatment_start(entries: Sequence[DiaryEntry]) -> dt.date | None:
    """The first day a dose was taken: the diary's own record of when LDN began."""
    days = [e.entry_date for e in entries if e.dose_taken]
    return min(days) if days else None


def baseline(entries: Sequence[DiaryEntry], start: dt.date) -> tuple[float | None, int, bool]:
    """Mean baseline pain, the number of days it rests on, and whether it is on treatment."""
    before = [
        e.pain for e in entries if start - dt.timedelta(days=BASELINE_DAYS) <= e.entry_date < start
    ]
    if before:
        return _mean(before), len(before), False
    first = min(e.entry_date for e in entries)
    week = [
        e.pain for e in entries if first <= e.entry_date < first + dt.timedelta(days=BASELINE_DAYS)
    ]
    return _mean(week), len(week), True


def adherence(entries: Sequence[DiaryEntry], start: dt.date, end: dt.date) -> Adherence:
    """Doses taken from `start` to `end`, counting days the patient did not log at all."""
    in_range = [e for e in entries if start <= e.entry_date <= end]
    return Adherence(
        start=start,
        end=end,
        days=(end - start).days + 1,
        days_logged=len(in_range),
        days_taken=sum(1 for e in in_range if e.dose_taken),
    )


def _is_response(mean: float, base: float, key: str, t: ResponseThresholds) -> bool:
    if key == "points":
        return base - mean >= t.points
    pct = t.moderate_percent if key == "percent_moderate" else t.substantial_percent
    return base > 0 and (base - mean) / base * 100 >= pct


def days_to_response(
    entries: Sequence[DiaryEntry],
    start: dt.date,
    base: float,
    thresholds: ResponseThresholds,
) -> dict[str, int | None]:
    """Days from start until the 7-day mean pain first met each threshold (None: not yet).

    A trailing window with at least 4 logged days is required, so one good day is not a response.
    """
    result: dict[str, int | None] = {k: None for k in thresholds.labels()}
    by_day = sorted((e.entry_date, e.pain) for e in entries if e.entry_date >= start)
    for day, _ in by_day:
        window = [p for d, p in by_day if day - dt.timedelta(days=ROLLING_DAYS - 1) <= d <= day]
        if len(window) < ROLLING_MIN_ENTRIES:
            continue
        mean = sum(window) / len(window)
        for key in result:
            if result[key] is None and _is_response(mean, base, key, thresholds):
                result[key] = (day - start).days
    return result


def patient_outcomes(
    entries: Sequence[DiaryEntry],
    *,
    as_of: dt.date | None = None,
    evidence: Evidence | None = None,
) -> PatientOutcome:
    """Compute a patient's outcome from their current diary entries (any order)."""
    thresholds = ResponseThresholds.from_evidence(evidence)
    entries = sorted(
        (e for e in entries if as_of is None or e.entry_date <= as_of), key=lambda e: e.entry_date
    )
    pain_series = tuple((e.entry_date, e.pain) for e in entries)
    dose_series = tuple((e.entry_date, e.dose_mg, e.dose_taken) for e in entries)
    as_of = as_of or (entries[-1].entry_date if entries else None)
    start = treatment_start(entries)
    none = dict.fromkeys(thresholds.labels())
    if start is None or as_of is None:
        return PatientOutcome(
            as_of, None, None, 0, False, None, 0, None, None, dict(none), dict(none), None,
            pain_series, dose_series, thresholds, thresholds.sources,
        )  # fmt: skip
    base, base_days, on_treatment = baseline(entries, start)
    latest = [e.pain for e in entries if e.entry_date > as_of - dt.timedelta(days=LATEST_DAYS)]
    latest_mean = _mean(latest)
    change = pct = None
    responder: dict[str, bool | None] = dict(none)
    category: Category | None = None
    if base is not None and latest_mean is not None:
        category = responder_category(base, latest_mean, evidence)
        change = latest_mean - base
        pct = change / base * 100 if base > 0 else None
        responder = {k: _is_response(latest_mean, base, k, thresholds) for k in none}
    return PatientOutcome(
        as_of=as_of,
        start=start,
        baseline_pain=base,
        baseline_days=base_days,
        baseline_on_treatment=on_treatment,
        latest_pain=latest_mean,
        latest_days=len(latest),
        change_points=change,
        change_percent=pct,
        responder=responder,
        days_to_response=days_to_response(entries, start, base, thresholds)
        if base is not None
        else dict(none),
        adherence=adherence(entries, start, as_of),
        pain_series=pain_series,
        dose_series=dose_series,
        thresholds=thresholds,
        sources=thresholds.sources,
        category=category,
    )


__all__ = [
    "BASELINE_DAYS",
    "LATEST_DAYS",
    "Adherence",
    "PatientOutcome",
    "ResponseThresholds",
    "adherence",
    "baseline",
    "days_to_response",
    "patient_outcomes",
    "treatment_start",
]
