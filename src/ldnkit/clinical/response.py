"""Response-guided advice: what to do today, from the plan and the patient's own diary.

The seeds say the effective LDN dose is idiosyncratic (hormesis): titrate until maximal benefit
or intolerable side effects, judge response as a 30-50% pain reduction against baseline, and
allow 8-12 weeks at the optimal dose before calling it a failure. This module turns that into
one piece of advice per day, always with its reasons, its sources and how much data it rests
on. Safety rules (intolerable side effects, sleep disturbance) are checked before efficacy, and
nothing here ever suggests a dose above the plan's target or ceiling.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from ldnkit.clinical.models import Plan, Timing, fmt_mg
from ldnkit.evidence import Evidence, default_evidence

Action = Literal[
    "not_started",
    "perioperative_hold",
    "step_back",
    "stop",
    "move_to_morning",
    "insufficient_data",
    "review",
    "escalate",
    "hold",
]
Category = Literal["strong_responder", "responder", "non_responder", "unknown"]


class _SideEffect(Protocol):
    code: str
    severity: str


class DiaryDay(Protocol):
    """What advice needs from a diary entry (`ldnkit.clinical.diary.DiaryEntry` fits)."""

    entry_date: date
    pain: int
    dose_taken: bool
    dose_mg: Decimal | None
    side_effects: Sequence[_SideEffect]


class ResponseRules(BaseModel):
    """Thresholds from `response.yaml`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int
    baseline_days: int = Field(gt=0)
    baseline_min_entries: int = Field(gt=0)
    baseline_note: str
    baseline_sources: list[str]
    recent_days: int = Field(gt=0)
    recent_min_entries: int = Field(gt=0)
    recent_note: str
    intolerable_severity: Literal["moderate", "severe"]
    intolerable_recent_days: int = Field(gt=0)
    step_back_sources: list[str]
    step_back_note: str
    sleep_effects: list[str]
    sleep_persistent_days: int = Field(gt=0)
    sleep_window_days: int = Field(gt=0)
    sleep_note: str
    morning_sources: list[str]
    adequate_trial_sources: list[str]
    retitrate_sources: list[str]
    escalate_sources: list[str]


class ResponderStatus(BaseModel):
    """Baseline week versus the latest days on treatment, in percent and in points."""

    model_config = ConfigDict(frozen=True)

    category: Category
    baseline_mean: float | None
    recent_mean: float | None
    baseline_entries: int
    recent_entries: int
    recent_expected: int
    percent_reduction: float | None
    points_reduction: float | None
    clinically_important_points: bool
    sources: list[str]


class Advice(BaseModel):
    """Today's advice with its reasons, sources and the data it rests on."""

    model_config = ConfigDict(frozen=True)

    on: date
    action: Action
    title: str
    message: str
    reasons: list[str]
    sources: list[str]
    current_dose_mg: Decimal | None
    suggested_dose_mg: Decimal | None
    suggested_timing: Timing | None
    days_at_dose: int
    responder: ResponderStatus
    missing_days: int


def response_rules(evidence: Evidence | None = None) -> ResponseRules:
    """The thresholds, parsed once per evidence base (they are immutable)."""
    return _parsed_rules(evidence or default_evidence())


@lru_cache(maxsize=8)
def _parsed_rules(ev: Evidence) -> ResponseRules:
    return ev.section("response", ResponseRules)


def _responder_sources(ev: Evidence) -> list[str]:
    m = ev.dosing.monitoring
    return list(dict.fromkeys(m.response_goal_sources + m.clinically_important_sources))


def _mean(values: list[int]) -> float | None:
    return sum(values) / len(values) if values else None


def responder_status(
    plan: Plan,
    entries: Sequence[DiaryDay],
    today: date,
    evidence: Evidence | None = None,
) -> ResponderStatus:
    """Responder category from the baseline week before the first dose and the latest days."""
    ev = evidence or default_evidence()
    rules = response_rules(ev)
    goal = ev.dosing.monitoring
    base_from = plan.start - timedelta(days=rules.baseline_days)
    baseline = [e.pain for e in entries if base_from <= e.entry_date < plan.start]
    recent_from = max(plan.start, today - timedelta(days=rules.recent_days - 1))
    recent = [e.pain for e in entries if recent_from <= e.entry_date <= today]
    expected = max(0, (today - recent_from).days + 1)
    b, r = _mean(baseline), _mean(recent)
    enough = len(baseline) >= rules.baseline_min_entries and len(recent) >= rules.recent_min_entries
    percent = points = None
    category: Category = "unknown"
    if b is not None and r is not None:
        points = round(b - r, 2)
        percent = round((b - r) / b * 100, 1) if b > 0 else None
    if enough and percent is not None:
        if percent >= float(goal.response_goal_percent.max):
            category = "strong_responder"
        elif percent >= float(goal.response_goal_percent.min):
            category = "responder"
        else:
            category = "non_responder"
    return ResponderStatus(
        category=category,
        baseline_mean=None if b is None else round(b, 2),
        recent_mean=None if r is None else round(r, 2),
        baseline_entries=len(baseline),
        recent_entries=len(recent),
        recent_expected=expected,
        percent_reduction=percent,
        points_reduction=points,
        clinically_important_points=points is not None
        and points >= float(goal.clinically_important_points),
        sources=_responder_sources(ev),
    )


def _taken_dose(plan: Plan, entry: DiaryDay) -> Decimal | None:
    if not entry.dose_taken:
        return None
    return entry.dose_mg if entry.dose_mg is not None else plan.dose_on(entry.entry_date)


def _current_dose(plan: Plan, entries: Sequence[DiaryDay], today: date) -> tuple[Decimal, int]:
    """The dose the patient is actually on, and for how many days, from the diary."""
    on_treatment = sorted(
        (e for e in entries if plan.start <= e.entry_date <= today), key=lambda e: e.entry_date
    )
    taken = [(e.entry_date, d) for e in on_treatment if (d := _taken_dose(plan, e))]
    if not taken:
        planned = plan.dose_on(today) or Decimal(0)
        step = plan.step_on(today)
        return planned, (today - step.start).days + 1 if step else 0
    latest_day, dose = taken[-1]
    first_day = latest_day
    for day, d in reversed(taken):
        if d != dose:
            break
        first_day = day
    return dose, (today - first_day).days + 1


def _ladder(plan: Plan) -> list[Decimal]:
    return sorted({s.dose_mg for s in plan.steps if s.dose_mg > 0})


def advise(
    plan: Plan,
    entries: Sequence[DiaryDay],
    today: date,
    evidence: Evidence | None = None,
) -> Advice:
    """Today's advice for one patient. `entries` are the current (corrected) diary entries."""
    ev = evidence or default_evidence()
    rules = response_rules(ev)
    status = responder_status(plan, entries, today, ev)
    missing = max(0, status.recent_expected - status.recent_entries)
    step = plan.step_on(today)
    timing = step.timing if step else plan.steps[0].timing

    def make(
        action: Action,
        title: str,
        message: str,
        reasons: list[str],
        sources: list[str],
        current: Decimal | None,
        suggested: Decimal | None,
        days: int,
        suggested_timing: Timing | None = None,
    ) -> Advice:
        return Advice(
            on=today,
            action=action,
            title=title,
            message=message,
            reasons=reasons,
            sources=list(dict.fromkeys(sources)),
            current_dose_mg=current,
            suggested_dose_mg=suggested,
            suggested_timing=suggested_timing or (timing if suggested is not None else None),
            days_at_dose=days,
            responder=status,
            missing_days=missing,
        )

    if today < plan.start:
        return make(
            "not_started",
            "Collect the baseline week",
            f"LDN starts on {plan.start}; record pain daily until then to set the baseline.",
            [rules.baseline_note],
            rules.baseline_sources,
            None,
            None,
            0,
        )
    if step is not None and step.kind == "hold":
        return make(
            "perioperative_hold",
            "Do not take LDN (perioperative hold)",
            step.note,
            [step.note],
            step.sources,
            Decimal(0),
            Decimal(0),
            (today - step.start).days + 1,
        )

    dose, days_at = _current_dose(plan, entries, today)
    ladder = _ladder(plan)
    lower = [d for d in ladder if d < dose]
    higher = [d for d in ladder if dose < d <= min(plan.target_mg, plan.ceiling_mg)]
    recent_effects = [
        (e.entry_date, s)
        for e in entries
        if today - timedelta(days=rules.intolerable_recent_days - 1) <= e.entry_date <= today
        for s in e.side_effects
    ]
    severities = ("moderate", "severe") if rules.intolerable_severity == "moderate" else ("severe",)
    intolerable = sorted({s.code for _, s in recent_effects if s.severity in severities})
    if intolerable:
        names = ", ".join(c.replace("_", " ") for c in intolerable)
        reason = f"{names} rated {rules.intolerable_severity} in the last {rules.intolerable_recent_days} days at {fmt_mg(dose)} mg"
        if lower:
            back = lower[-1]
            return make(
                "step_back",
                f"Step back to {fmt_mg(back)} mg",
                f"Intolerable side effects at {fmt_mg(dose)} mg: return to the last tolerated dose, {fmt_mg(back)} mg, and hold there.",
                [reason, rules.step_back_note],
                rules.step_back_sources,
                dose,
                back,
                days_at,
            )
        return make(
            "stop",
            "Stop, then consider re-titrating from a lower start",
            f"Intolerable side effects at the starting dose {fmt_mg(dose)} mg: stop LDN; once resolved, consider re-titration from 0.5 mg (personalised protocol).",
            [reason, rules.step_back_note],
            [*rules.step_back_sources, *rules.retitrate_sources],
            dose,
            Decimal(0),
            days_at,
        )

    window_from = today - timedelta(days=rules.sleep_window_days - 1)
    sleep_days = {
        e.entry_date
        for e in entries
        if window_from <= e.entry_date <= today
        and any(s.code in rules.sleep_effects for s in e.side_effects)
    }
    if timing == "bedtime" and len(sleep_days) >= rules.sleep_persistent_days:
        return make(
            "move_to_morning",
            "Move the dose to the morning",
            f"Sleep disturbance or vivid dreams on {len(sleep_days)} of the last {rules.sleep_window_days} days: keep {fmt_mg(dose)} mg but take it in the morning. This is practice advice, not trial evidence.",
            [rules.sleep_note],
            rules.morning_sources,
            dose,
            dose,
            days_at,
            "morning",
        )

    if status.category == "unknown":
        too_early = status.recent_expected < rules.recent_min_entries
        if too_early and status.baseline_entries >= rules.baseline_min_entries:
            msg = (
                f"Only {status.recent_expected} days on treatment: too early to judge response; "
                f"continue {fmt_mg(dose)} mg as planned."
            )
            return make(
                "hold",
                f"Continue {fmt_mg(dose)} mg",
                msg,
                [rules.recent_note],
                _responder_sources(ev),
                dose,
                dose,
                days_at,
            )
        gaps = []
        if status.baseline_entries < rules.baseline_min_entries:
            gaps.append(
                f"baseline week has {status.baseline_entries} entries (needs {rules.baseline_min_entries})"
            )
        if status.recent_entries < rules.recent_min_entries:
            gaps.append(
                f"{status.recent_entries} of the last {status.recent_expected} days recorded, "
                f"{missing} missing (needs {rules.recent_min_entries})"
            )
        return make(
            "insufficient_data",
            "Too little diary data to judge",
            "Data too sparse to judge response: "
            + "; ".join(gaps)
            + ". Keep the current dose and record daily.",
            [rules.recent_note, rules.baseline_note],
            _responder_sources(ev),
            dose,
            dose,
            days_at,
        )

    responding = status.category in ("responder", "strong_responder")
    at_target = dose >= plan.target_mg
    trial_days = int(ev.dosing.monitoring.adequate_trial_days.min)
    summary = (
        f"pain {status.baseline_mean} -> {status.recent_mean} "
        f"({status.percent_reduction}% / {status.points_reduction} points)"
    )
    if responding:
        return make(
            "hold",
            f"Responding: hold {fmt_mg(dose)} mg",
            f"Pain reduced by {status.percent_reduction}% (goal 30-50%): stay at {fmt_mg(dose)} mg; do not escalate further.",
            [summary],
            [*_responder_sources(ev), *ev.dosing.personalised.sources],
            dose,
            dose,
            days_at,
        )
    if at_target and days_at >= trial_days:
        return make(
            "review",
            "Review now: no response after an adequate trial",
            f"{days_at} days at {fmt_mg(dose)} mg without a 30% reduction ({summary}): review; stop, or re-titrate to find an individual dose.",
            [
                summary,
                f"adequate trial is {ev.dosing.monitoring.adequate_trial_days} days at the optimal dose",
            ],
            [*rules.adequate_trial_sources, *rules.retitrate_sources],
            dose,
            None,
            days_at,
        )
    if higher and days_at >= plan.interval_days:
        nxt = higher[0]
        return make(
            "escalate",
            f"Escalate to {fmt_mg(nxt)} mg",
            f"No response yet ({summary}) and no troublesome side effects after {days_at} days at {fmt_mg(dose)} mg: increase to {fmt_mg(nxt)} mg.",
            [
                summary,
                f"{days_at} days at the current dose (step interval {plan.interval_days} days)",
            ],
            [*rules.escalate_sources, *plan.sources],
            dose,
            nxt,
            days_at,
        )
    wait = (
        f"{days_at} of {plan.interval_days} days at this dose"
        if higher
        else f"{days_at} of {trial_days} days at target"
    )
    return make(
        "hold",
        f"Continue {fmt_mg(dose)} mg",
        f"Not yet responding ({summary}); {wait}: continue and reassess.",
        [summary],
        [*_responder_sources(ev), *plan.sources],
        dose,
        dose,
        days_at,
    )
