"""Response-guided advice: a stateful policy over the diary and the plan history.

The seeds say the effective LDN dose is idiosyncratic (hormesis): titrate until maximal benefit
or intolerable side effects, judge response as a 30-50% pain reduction against baseline (and,
per IMMPACT, a change of at least 2 points), and allow 8-12 weeks at the optimal dose before
calling it a failure. Advice that only looked at the last few days forgot what happened before:
it offered a dose that had been intolerable, escalated through moderate side effects, missed
doses and worsening pain, and continued a dose above the ceiling.

So advice is now a policy over `ldnkit.clinical.history.DosingHistory` (doses taken, tolerated,
intolerable, overridden, gaps) and the responder status. `RULES` is the ordered tuple of small
named rules, safety first: the first rule that applies gives today's advice. Every threshold is
evidence data (`response.yaml`, `dosing.yaml`), every advice cites source ids, and no rule ever
suggests a dose above the plan's ceiling or target, or at/above a dose found intolerable
without a clinician's recorded override.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ldnkit.clinical.history import (
    SEVERITY_RANK,
    DiaryDay,
    DoseOverride,
    DosingHistory,
    dosing_history,
    plan_in_force,
)
from ldnkit.clinical.models import Plan, Timing, fmt_mg
from ldnkit.evidence import Evidence, default_evidence

Action = Literal[
    "not_started",
    "perioperative_hold",
    "above_ceiling",
    "step_back",
    "stop",
    "restart",
    "move_to_morning",
    "worsening_pain",
    "insufficient_data",
    "review",
    "escalate",
    "hold",
]
Category = Literal["strong_responder", "responder", "non_responder", "unknown"]
Severity = Literal["mild", "moderate", "severe"]


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
    intolerable_severity: Severity
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
    tolerated_min_days: int = Field(gt=0)
    tolerated_note: str
    intolerable_sources: list[str]
    intolerable_note: str
    side_effect_block_severity: Severity
    side_effect_window_days: int = Field(gt=0)
    side_effect_block_sources: list[str]
    side_effect_block_note: str
    adherence_window_days: int = Field(gt=0)
    adherence_min_taken_days: int = Field(gt=0)
    adherence_sources: list[str]
    adherence_note: str
    restart_gap_days: int = Field(gt=0)
    restart_sources: list[str]
    restart_note: str
    worsening_window_days: int = Field(gt=0)
    worsening_min_entries: int = Field(gt=0)
    worsening_sources: list[str]
    worsening_note: str
    above_ceiling_window_days: int = Field(gt=0)
    above_ceiling_sources: list[str]
    above_ceiling_note: str
    override_note: str


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
    """Today's advice with its reasons, sources, the rule that gave it and the data it rests on.

    `message` and `reasons` are clinician language; the web shell gives patients their own
    wording from `action` (see `ldnkit.web.advice`). `blocked` lists why a dose increase was
    not advised (side effects, adherence, intolerance), so a reader sees what held it.
    """

    model_config = ConfigDict(frozen=True)

    on: date
    action: Action
    rule: str
    title: str
    message: str
    reasons: list[str]
    sources: list[str]
    current_dose_mg: Decimal | None
    suggested_dose_mg: Decimal | None
    suggested_timing: Timing | None
    planned_dose_mg: Decimal | None
    days_at_dose: int
    responder: ResponderStatus
    missing_days: int
    intolerable_mg: list[Decimal]
    last_tolerated_mg: Decimal | None
    blocked: list[str]
    safety_finding: bool


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


def responder_category(
    baseline_mean: float, recent_mean: float, evidence: Evidence | None = None
) -> Category:
    """Strong responder / responder / non-responder from the two means.

    A category needs both the relative change (30% / 50%) and the absolute minimum of a
    clinically important change (2 points on 0-10; IMMPACT, Dworkin 2008; Farrar 2001): pain
    2 -> 1 is a 50% drop of 1 point, not a response.
    """
    m = (evidence or default_evidence()).dosing.monitoring
    points = baseline_mean - recent_mean
    if baseline_mean <= 0 or points < float(m.clinically_important_points):
        return "non_responder"
    percent = points / baseline_mean * 100
    if percent >= float(m.response_goal_percent.max):
        return "strong_responder"
    if percent >= float(m.response_goal_percent.min):
        return "responder"
    return "non_responder"


def responder_status(
    plan: Plan,
    entries: Sequence[DiaryDay],
    today: date,
    evidence: Evidence | None = None,
    *,
    start: date | None = None,
) -> ResponderStatus:
    """Responder category from the baseline week before the first dose and the latest days.

    `start` is when treatment began (the first plan version's start); it defaults to this
    plan's start, which is only right when the plan was never revised.
    """
    ev = evidence or default_evidence()
    rules = response_rules(ev)
    goal = ev.dosing.monitoring
    first = start or plan.start
    base_from = first - timedelta(days=rules.baseline_days)
    baseline = [e.pain for e in entries if base_from <= e.entry_date < first]
    recent_from = max(first, today - timedelta(days=rules.recent_days - 1))
    recent = [e.pain for e in entries if recent_from <= e.entry_date <= today]
    expected = max(0, (today - recent_from).days + 1)
    b, r = _mean(baseline), _mean(recent)
    enough = len(baseline) >= rules.baseline_min_entries and len(recent) >= rules.recent_min_entries
    percent = points = None
    category: Category = "unknown"
    if b is not None and r is not None:
        points = round(b - r, 2)
        percent = round((b - r) / b * 100, 1) if b > 0 else None
        if enough:
            category = responder_category(b, r, ev)
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


# -- the policy ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Situation:
    """What every rule may read: the plan in force, the dosing history, the response."""

    today: date
    plan: Plan
    history: DosingHistory
    status: ResponderStatus
    entries: Sequence[DiaryDay]
    rules: ResponseRules
    ev: Evidence
    doses_recorded: bool
    versions: Sequence[Plan] = ()

    @property
    def dose(self) -> Decimal:
        """The dose the patient is on: the last dose taken, else the plan's dose for today."""
        if self.history.current_mg is not None:
            return self.history.current_mg
        return self.plan.dose_on(self.today) or Decimal(0)

    @property
    def days_at(self) -> int:
        if self.history.current_mg is not None:
            return self.history.days_at_current
        step = self.plan.step_on(self.today)
        return (self.today - step.start).days + 1 if step else 0

    @property
    def timing(self) -> Timing:
        step = self.plan.step_on(self.today)
        return step.timing if step else self.plan.steps[-1].timing

    @property
    def cap(self) -> Decimal:
        """No suggestion may exceed this: the plan's target and ceiling."""
        return min(self.plan.target_mg, self.plan.ceiling_mg)

    def ladder(self) -> list[Decimal]:
        return sorted({s.dose_mg for s in self.plan.steps if s.dose_mg > 0})

    def safe(self, dose: Decimal) -> bool:
        """Within the plan's cap and below every dose found intolerable."""
        return 0 < dose <= self.cap and self.history.allows(dose)

    def at_most(self, limit: Decimal) -> Decimal | None:
        """`limit` itself when it is safe, else the dose to fall back to below it."""
        return limit if self.safe(limit) else self.fallback(limit)

    def fallback(self, below: Decimal) -> Decimal | None:
        """Where to go back to under `below`: the last tolerated safe dose, else a lower rung."""
        tolerated = [d for d in self.history.tolerated_mg if d < below and self.safe(d)]
        if tolerated:
            return max(tolerated)
        every = {s.dose_mg for p in (*self.versions, self.plan) for s in p.steps}
        rungs = [d for d in every if d < below and self.safe(d)]
        return max(rungs) if rungs else None

    def effects_at_least(self, severity: str, days: int) -> list[tuple[date, str, str]]:
        since = self.today - timedelta(days=days - 1)
        rank = SEVERITY_RANK[severity]
        return [
            (e.entry_date, s.code, s.severity)
            for e in self.entries
            if since <= e.entry_date <= self.today
            for s in e.side_effects
            if SEVERITY_RANK.get(s.severity, 0) >= rank
        ]

    @property
    def summary(self) -> str:
        s = self.status
        return (
            f"pain {s.baseline_mean} -> {s.recent_mean} "
            f"({s.percent_reduction}% / {s.points_reduction} points)"
        )


_SITUATION_DOSE = Decimal(-1)  # sentinel: "the dose the patient is on"


def _tidy(dose: Decimal | None) -> Decimal | None:
    """1.5 rather than 1.500: doses read back from the store carry its scale."""
    return None if dose is None else Decimal(fmt_mg(dose))


def _advice(
    sit: Situation,
    *,
    rule: str,
    action: Action,
    title: str,
    message: str,
    reasons: Sequence[str],
    sources: Sequence[str],
    suggested: Decimal | None,
    timing: Timing | None = None,
    blocked: Sequence[str] = (),
    safety: bool = False,
    current: Decimal | None = _SITUATION_DOSE,
) -> Advice:
    status = sit.status
    dose = sit.dose if current is _SITUATION_DOSE else current
    return Advice(
        on=sit.today,
        action=action,
        rule=rule,
        title=title,
        message=message,
        reasons=list(reasons),
        sources=list(dict.fromkeys(sources)),
        current_dose_mg=_tidy(dose),
        suggested_dose_mg=_tidy(suggested),
        suggested_timing=timing or (sit.timing if suggested is not None else None),
        planned_dose_mg=_tidy(sit.plan.dose_on(sit.today)),
        days_at_dose=sit.days_at,
        responder=status,
        missing_days=max(0, status.recent_expected - status.recent_entries),
        intolerable_mg=[Decimal(fmt_mg(i.dose_mg)) for i in sit.history.intolerable],
        last_tolerated_mg=_tidy(sit.history.last_tolerated_mg),
        blocked=list(blocked),
        safety_finding=safety,
    )


def _names(codes: Sequence[str]) -> str:
    return ", ".join(dict.fromkeys(c.replace("_", " ") for c in codes))


def _asks(
    question: str, action: str, *rule_names: str, sources: tuple[str, ...] = ()
) -> Callable[[Callable[[Situation], Advice | None]], Callable[[Situation], Advice | None]]:
    """Attach the rule's question and action in words, so the decision diagram is drawn from
    the same rules the engine runs. `{name}` placeholders are thresholds from the evidence
    (`response.yaml`, `dosing.yaml`), filled in by `rule_values`; `rule_names` are the
    `Advice.rule` values the function can give, which map a patient's advice back to it;
    `sources` name the `response.yaml` fields holding the rule's source ids."""

    def mark(fn: Callable[[Situation], Advice | None]) -> Callable[[Situation], Advice | None]:
        fn.question = question  # type: ignore[attr-defined]
        fn.action = action  # type: ignore[attr-defined]
        fn.rule_names = rule_names  # type: ignore[attr-defined]
        fn.sources_keys = sources  # type: ignore[attr-defined]
        return fn

    return mark


def rule_values(evidence: Evidence | None = None) -> dict[str, object]:
    """The thresholds the rules' questions name, from the evidence base."""
    ev = evidence or default_evidence()
    monitoring = ev.dosing.monitoring
    return {
        **response_rules(ev).model_dump(),
        "clinically_important_points": fmt_mg(monitoring.clinically_important_points),
        "response_goal_min": fmt_mg(monitoring.response_goal_percent.min),
        "adequate_trial_min": int(monitoring.adequate_trial_days.min),
        "interval": "the plan's interval",
    }


@_asks(
    "Before the start date?",
    "Collect the {baseline_days}-day baseline diary",
    "not_started",
    sources=("baseline_sources",),
)
def _not_started(sit: Situation) -> Advice | None:
    if sit.today >= sit.history.treatment_start or sit.history.current_mg is not None:
        return None
    return _advice(
        sit,
        rule="not_started",
        action="not_started",
        title="Collect the baseline week",
        message=f"LDN starts on {sit.history.treatment_start}; record pain daily until then "
        "to set the baseline.",
        reasons=[sit.rules.baseline_note],
        sources=sit.rules.baseline_sources,
        suggested=None,
        current=None,
    )


@_asks(
    "Perioperative hold in force today?", "Take no LDN until the hold ends", "perioperative_hold"
)
def _perioperative_hold(sit: Situation) -> Advice | None:
    step = sit.plan.step_on(sit.today)
    if step is None or step.kind != "hold":
        return None
    return _advice(
        sit,
        rule="perioperative_hold",
        action="perioperative_hold",
        title="Do not take LDN (perioperative hold)",
        message=step.note,
        reasons=[step.note],
        sources=step.sources,
        suggested=Decimal(0),
        current=Decimal(0),
        safety=True,
    )


@_asks(
    "Diary dose above the plan's ceiling in the last {above_ceiling_window_days} days?",
    "Safety finding: back to the last tolerated dose",
    "above_ceiling",
    sources=("above_ceiling_sources",),
)
def _above_ceiling(sit: Situation) -> Advice | None:
    found = sit.history.above_ceiling
    if not found:
        return None
    worst = max(found, key=lambda a: a.dose_mg)
    back = sit.at_most(min(sit.plan.dose_on(sit.today) or sit.cap, sit.cap))
    days = ", ".join(str(a.on) for a in found[-3:])
    return _advice(
        sit,
        rule="above_ceiling",
        action="above_ceiling",
        title="Safety: dose above the plan's ceiling",
        message=f"The diary records {fmt_mg(worst.dose_mg)} mg (on {days}), above the plan's "
        f"ceiling of {fmt_mg(worst.ceiling_mg)} mg: confirm what was taken with the patient "
        "and the pharmacy before any other change"
        + (f"; return to {fmt_mg(back)} mg." if back else "; stop until reviewed."),
        reasons=[
            f"{len(found)} day(s) above the ceiling in the last "
            f"{sit.rules.above_ceiling_window_days} days",
            sit.rules.above_ceiling_note,
        ],
        sources=[*sit.rules.above_ceiling_sources, *sit.plan.sources],
        suggested=back if back else Decimal(0),
        blocked=["dose above ceiling"],
        safety=True,
    )


@_asks(
    "Current dose at or above one found intolerable ({intolerable_severity} side effect)?",
    "Step back to the last tolerated dose",
    "intolerable_dose",
    sources=("intolerable_sources",),
)
def _intolerable_dose(sit: Situation) -> Advice | None:
    low = sit.history.lowest_intolerable_mg
    if low is None or sit.dose < low:
        return None
    event = min((i for i in sit.history.intolerable), key=lambda i: i.dose_mg)
    reason = (
        f"{_names(event.effects)} rated {sit.rules.intolerable_severity} at "
        f"{fmt_mg(event.dose_mg)} mg (last on {event.last_on})"
    )
    back = sit.fallback(low)
    if back is not None:
        return _advice(
            sit,
            rule="intolerable_dose",
            action="step_back",
            title=f"Step back to {fmt_mg(back)} mg",
            message=f"{fmt_mg(event.dose_mg)} mg was not tolerated ({reason}); the patient is on "
            f"{fmt_mg(sit.dose)} mg: return to {fmt_mg(back)} mg and hold there. Going back to "
            f"{fmt_mg(event.dose_mg)} mg needs a recorded clinician override.",
            reasons=[reason, sit.rules.step_back_note, sit.rules.intolerable_note],
            sources=[*sit.rules.step_back_sources, *sit.rules.intolerable_sources],
            suggested=back,
            blocked=[f"{fmt_mg(event.dose_mg)} mg intolerable"],
            safety=True,
        )
    return _advice(
        sit,
        rule="intolerable_dose",
        action="stop",
        title="Stop, then consider re-titrating from a lower start",
        message=f"Intolerable side effects at {fmt_mg(event.dose_mg)} mg ({reason}) and no lower "
        "tolerated dose: stop LDN; once resolved, consider re-titration from 0.5 mg "
        "(personalised protocol).",
        reasons=[reason, sit.rules.step_back_note],
        sources=[*sit.rules.step_back_sources, *sit.rules.retitrate_sources],
        suggested=Decimal(0),
        blocked=[f"{fmt_mg(event.dose_mg)} mg intolerable"],
        safety=True,
    )


@_asks(
    "Doses missed for {restart_gap_days}+ days?",
    "Restart at the starting dose",
    "restart_after_gap",
    sources=("restart_sources",),
)
def _restart_after_gap(sit: Situation) -> Advice | None:
    h = sit.history
    gap = sit.rules.restart_gap_days
    if not sit.doses_recorded or h.last_taken_on is None or h.missed_logged < gap:
        return None
    # The protocol's own starting dose, not the first step of a revision that continued.
    protocol = sit.ev.protocols.get(sit.plan.protocol_id)
    first = protocol.start_mg if protocol else min(sit.ladder(), default=sit.dose)
    restart = sit.at_most(min(first, sit.dose))
    return _advice(
        sit,
        rule="restart_after_gap",
        action="restart" if restart else "stop",
        title=f"Restart at {fmt_mg(restart)} mg after a gap"
        if restart
        else "Review before restart",
        message=f"No dose recorded for {h.gap_days} days (last {fmt_mg(sit.dose)} mg on "
        f"{h.last_taken_on}): "
        + (
            f"restart at {fmt_mg(restart)} mg and titrate again as tolerated."
            if restart
            else "no safe restart dose; review before restarting."
        ),
        reasons=[f"{h.gap_days} days without a documented dose", sit.rules.restart_note],
        sources=[*sit.rules.restart_sources, *sit.plan.sources],
        suggested=restart if restart else Decimal(0),
        blocked=["gap in dosing"],
        safety=True,
    )


@_asks(
    "No diary for {restart_gap_days}+ days?",
    "Ask before any change",
    "diary_silent",
    sources=("restart_sources",),
)
def _diary_silent(sit: Situation) -> Advice | None:
    """No diary for as long as a restart gap: nothing is known about doses, so no change."""
    h, gap = sit.history, sit.rules.restart_gap_days
    if not sit.doses_recorded or h.last_entry_on is None or h.current_mg is None:
        return None
    silent = (sit.today - h.last_entry_on).days
    if silent < gap:
        return None
    return _advice(
        sit,
        rule="diary_silent",
        action="insufficient_data",
        title=f"No diary for {silent} days",
        message=f"No diary entry since {h.last_entry_on}: ask whether LDN was taken before any "
        f"change; if it was stopped for {gap} days or more, restart low as at initiation.",
        reasons=[f"{silent} days without a diary entry", sit.rules.restart_note],
        sources=[*sit.rules.restart_sources, *_responder_sources(sit.ev)],
        suggested=None,
        blocked=["diary not filled"],
    )


@_asks(
    "Insomnia or vivid dreams on {sleep_persistent_days} of {sleep_window_days} days at bedtime?",
    "Move the dose to the morning",
    "sleep_to_morning",
    sources=("morning_sources",),
)
def _sleep_to_morning(sit: Situation) -> Advice | None:
    r = sit.rules
    since = sit.today - timedelta(days=r.sleep_window_days - 1)
    sleep_days = {
        e.entry_date
        for e in sit.entries
        if since <= e.entry_date <= sit.today
        and any(s.code in r.sleep_effects for s in e.side_effects)
    }
    if sit.timing != "bedtime" or len(sleep_days) < r.sleep_persistent_days:
        return None
    dose = sit.at_most(sit.dose)
    if dose is None:
        return None
    return _advice(
        sit,
        rule="sleep_to_morning",
        action="move_to_morning",
        title="Move the dose to the morning",
        message=f"Sleep disturbance or vivid dreams on {len(sleep_days)} of the last "
        f"{r.sleep_window_days} days: keep {fmt_mg(dose)} mg but take it in the morning. "
        "This is practice advice, not trial evidence.",
        reasons=[r.sleep_note],
        sources=r.morning_sources,
        suggested=dose,
        timing="morning",
        blocked=["sleep disturbance"],
    )


@_asks(
    "Pain up by >= {clinically_important_points} points over {worsening_window_days} days?",
    "Flag for review; keep the dose",
    "worsening_pain",
    sources=("worsening_sources",),
)
def _worsening_pain(sit: Situation) -> Advice | None:
    """Pain worse by the clinically important change than at baseline, or than the window
    before (a rise on treatment counts even when baseline was higher or not recorded)."""
    r, s = sit.rules, sit.status
    window = timedelta(days=r.worsening_window_days)
    start = sit.history.treatment_start
    since = max(start, sit.today - window + timedelta(days=1))
    recent = [e.pain for e in sit.entries if since <= e.entry_date <= sit.today]
    if len(recent) < r.worsening_min_entries:
        return None
    before = [e.pain for e in sit.entries if max(start, since - window) <= e.entry_date < since]
    references = []
    if s.baseline_mean is not None and s.baseline_entries >= r.baseline_min_entries:
        references.append((s.baseline_mean, "at baseline"))
    if len(before) >= r.worsening_min_entries:
        references.append((sum(before) / len(before), f"in the {len(before)} days before"))
    points = float(sit.ev.dosing.monitoring.clinically_important_points)
    mean = sum(recent) / len(recent)
    worse = [(ref, label) for ref, label in references if mean - ref >= points]
    if not worse:
        return None
    ref, label = min(worse)
    hold = sit.at_most(sit.dose)
    return _advice(
        sit,
        rule="worsening_pain",
        action="worsening_pain",
        title="Review: pain is getting worse",
        message=f"Pain averaged {mean:.1f} over the last {len(recent)} recorded days against "
        f"{ref:.1f} {label} (+{mean - ref:.1f} points): review the patient; do not escalate. "
        f"Keep {fmt_mg(hold) if hold else 'no'} mg until reviewed.",
        reasons=[f"worse by at least {points:g} points", r.worsening_note],
        sources=r.worsening_sources,
        suggested=hold,
        blocked=["worsening pain"],
        safety=True,
    )


@_asks(
    "Fewer than {baseline_min_entries} baseline or {recent_min_entries} recent diary days?",
    "Keep the dose; collect diary days",
    "too_early",
    "insufficient_data",
    sources=("baseline_sources",),
)
def _too_early_or_sparse(sit: Situation) -> Advice | None:
    r, s = sit.rules, sit.status
    if s.category != "unknown":
        return None
    dose = sit.at_most(sit.dose)
    missing = max(0, s.recent_expected - s.recent_entries)
    if s.recent_expected < r.recent_min_entries and s.baseline_entries >= r.baseline_min_entries:
        return _advice(
            sit,
            rule="too_early",
            action="hold",
            title=f"Continue {fmt_mg(dose or 0)} mg",
            message=f"Only {s.recent_expected} days on treatment: too early to judge response; "
            f"continue {fmt_mg(dose or 0)} mg as planned.",
            reasons=[r.recent_note],
            sources=_responder_sources(sit.ev),
            suggested=dose,
            blocked=["too early to judge"],
        )
    gaps = []
    if s.baseline_entries < r.baseline_min_entries:
        gaps.append(
            f"baseline week has {s.baseline_entries} entries (needs {r.baseline_min_entries})"
        )
    if s.recent_entries < r.recent_min_entries:
        gaps.append(
            f"{s.recent_entries} of the last {s.recent_expected} days recorded, "
            f"{missing} missing (needs {r.recent_min_entries})"
        )
    return _advice(
        sit,
        rule="insufficient_data",
        action="insufficient_data",
        title="Too little diary data to judge",
        message="Data too sparse to judge response: "
        + "; ".join(gaps)
        + ". Keep the current dose and record daily.",
        reasons=[r.recent_note, r.baseline_note],
        sources=_responder_sources(sit.ev),
        suggested=dose,
        blocked=["too little data"],
    )


@_asks(
    "Pain down >= {response_goal_min}% and >= {clinically_important_points} points?",
    "Responder: keep the dose",
    "responding",
    sources=("adequate_trial_sources",),
)
def _responding(sit: Situation) -> Advice | None:
    s = sit.status
    if s.category not in ("responder", "strong_responder"):
        return None
    dose = sit.at_most(sit.dose)
    return _advice(
        sit,
        rule="responding",
        action="hold",
        title=f"Responding: hold {fmt_mg(dose or 0)} mg",
        message=f"Pain reduced by {s.percent_reduction}% and {s.points_reduction} points (goal "
        f"30-50% and at least 2 points): stay at {fmt_mg(dose or 0)} mg; do not escalate further.",
        reasons=[sit.summary],
        sources=[*_responder_sources(sit.ev), *sit.ev.dosing.personalised.sources],
        suggested=dose,
        blocked=["responding"],
    )


@_asks(
    "At the highest safe dose for {adequate_trial_min}+ days without response?",
    "Review: non-response after an adequate trial",
    "adequate_trial",
    sources=("adequate_trial_sources",),
)
def _adequate_trial(sit: Situation) -> Advice | None:
    trial = sit.ev.dosing.monitoring.adequate_trial_days
    higher = [d for d in sit.ladder() if d > sit.dose and sit.safe(d)]
    at_best = sit.dose >= sit.plan.target_mg or not higher
    if not at_best or sit.days_at < int(trial.min):
        return None
    low = sit.history.lowest_intolerable_mg
    capped = low is not None and sit.dose < sit.plan.target_mg
    why = f" ({fmt_mg(low)} mg was not tolerated)" if capped and low is not None else ""
    return _advice(
        sit,
        rule="adequate_trial",
        action="review",
        title="Review now: no response after an adequate trial",
        message=f"{sit.days_at} days at {fmt_mg(sit.dose)} mg{why} without a clinically "
        f"important response, {sit.summary}: review; stop, or re-titrate to find an "
        "individual dose.",
        reasons=[sit.summary, f"adequate trial is {trial} days at the optimal dose"],
        sources=[
            *sit.rules.adequate_trial_sources,
            *sit.rules.retitrate_sources,
            *(sit.rules.intolerable_sources if capped else []),
        ],
        suggested=None,
        blocked=[f"{fmt_mg(low)} mg intolerable"] if capped and low is not None else [],
    )


def _blockers(sit: Situation) -> tuple[list[str], list[str], list[str]]:
    """Why escalation is not advised today: (blocked codes, reasons, sources)."""
    r, h = sit.rules, sit.history
    blocked, reasons, sources = [], [], []
    effects = sit.effects_at_least(r.side_effect_block_severity, r.side_effect_window_days)
    if effects:
        worst = ", ".join(
            f"{c.replace('_', ' ')} ({sev})"
            for c, sev in dict((c, s) for _, c, s in effects).items()
        )
        blocked.append("side effects")
        reasons.append(
            f"side effects rated {r.side_effect_block_severity} or worse in the last "
            f"{r.side_effect_window_days} days: {worst}"
        )
        sources += r.side_effect_block_sources
    if sit.doses_recorded and h.adherence_taken < r.adherence_min_taken_days:
        blocked.append("missed doses")
        reasons.append(
            f"dose documented on {h.adherence_taken} of the last {h.adherence_days} days "
            f"(needs {r.adherence_min_taken_days})"
        )
        sources += r.adherence_sources
    return blocked, reasons, sources


@_asks(
    "Step due, but {side_effect_block_severity}+ side effects or fewer than {adherence_min_taken_days} of {adherence_window_days} doses taken?",
    "Hold the dose; name what blocks the step",
    "escalation_blocked",
    sources=("side_effect_block_sources",),
)
def _hold_blocked(sit: Situation) -> Advice | None:
    higher = [d for d in sit.ladder() if d > sit.dose and sit.safe(d)]
    if not higher or sit.days_at < sit.plan.interval_days:
        return None
    blocked, reasons, sources = _blockers(sit)
    if not blocked:
        return None
    dose = sit.at_most(sit.dose)
    return _advice(
        sit,
        rule="escalation_blocked",
        action="hold",
        title=f"Hold {fmt_mg(dose or 0)} mg: not ready to escalate",
        message=f"Not yet responding, {sit.summary}; but {'; '.join(reasons)}: stay at "
        f"{fmt_mg(dose or 0)} mg and reassess.",
        reasons=[sit.summary, *reasons],
        sources=[*sources, *_responder_sources(sit.ev)],
        suggested=dose,
        blocked=blocked,
    )


@_asks(
    "Step due ({interval} days at this dose) and tolerated?",
    "Escalate one step (never above the ceiling)",
    "escalate",
    sources=("escalate_sources",),
)
def _escalate(sit: Situation) -> Advice | None:
    higher = [d for d in sit.ladder() if d > sit.dose and sit.safe(d)]
    if not higher or sit.days_at < sit.plan.interval_days:
        return None
    nxt = higher[0]
    r, h = sit.rules, sit.history
    mild = sit.effects_at_least("mild", r.side_effect_window_days)
    tolerance = (
        f"only mild side effects ({_names([c for _, c, _ in mild])})"
        if mild
        else "no side effects recorded"
    )
    taken = (
        f"dose taken on {h.adherence_taken} of the last {h.adherence_days} days"
        if sit.doses_recorded
        else "doses not recorded in this source"
    )
    return _advice(
        sit,
        rule="escalate",
        action="escalate",
        title=f"Escalate to {fmt_mg(nxt)} mg",
        message=f"No response yet, {sit.summary}; {tolerance} in the last "
        f"{r.side_effect_window_days} days; {taken}; {sit.days_at} days at "
        f"{fmt_mg(sit.dose)} mg: increase to {fmt_mg(nxt)} mg.",
        reasons=[
            sit.summary,
            f"{sit.days_at} days at the current dose (step interval {sit.plan.interval_days} days)",
            taken,
        ],
        sources=[*r.escalate_sources, *sit.plan.sources],
        suggested=nxt,
    )


@_asks("Otherwise", "Continue the current dose", "continue", sources=("escalate_sources",))
def _continue(sit: Situation) -> Advice:
    trial = int(sit.ev.dosing.monitoring.adequate_trial_days.min)
    dose = sit.at_most(sit.dose)
    higher = [d for d in sit.ladder() if d > sit.dose and d <= sit.cap]
    allowed = [d for d in higher if sit.history.allows(d)]
    blocked: list[str] = []
    if higher and not allowed:
        low = sit.history.lowest_intolerable_mg
        wait = (
            f"{fmt_mg(low)} mg was not tolerated, so {fmt_mg(sit.dose)} mg is the highest dose "
            "advised without a clinician's override"
        )
        blocked.append(f"{fmt_mg(low)} mg intolerable")
    elif allowed:
        wait = f"{sit.days_at} of {sit.plan.interval_days} days at this dose"
    else:
        wait = f"{sit.days_at} of {trial} days at target"
    return _advice(
        sit,
        rule="continue",
        action="hold",
        title=f"Continue {fmt_mg(dose or 0)} mg",
        message=f"Not yet responding, {sit.summary}; {wait}: continue and reassess.",
        reasons=[sit.summary, *([sit.rules.intolerable_note] if blocked else [])],
        sources=[
            *_responder_sources(sit.ev),
            *sit.plan.sources,
            *(sit.rules.intolerable_sources if blocked else []),
        ],
        suggested=dose,
        blocked=blocked,
    )


Rule = Callable[[Situation], "Advice | None"]

#: The policy, in order: safety before efficacy. The first rule that applies gives the advice.
RULES: tuple[Rule, ...] = (
    _not_started,
    _perioperative_hold,
    _above_ceiling,
    _intolerable_dose,
    _restart_after_gap,
    _diary_silent,
    _worsening_pain,
    _sleep_to_morning,
    _too_early_or_sparse,
    _responding,
    _adequate_trial,
    _hold_blocked,
    _escalate,
    _continue,
)


def advise(
    *,
    plan: Plan,
    entries: Sequence[DiaryDay],
    today: date,
    plan_history: Sequence[Plan] = (),
    overrides: Sequence[DoseOverride] = (),
    doses_recorded: bool = True,
    evidence: Evidence | None = None,
) -> Advice:
    """Today's advice for one patient from the current plan, its history and the diary.

    `entries` are the current (corrected) diary entries; `plan_history` every saved plan
    version oldest first (the current plan is added if missing); `overrides` the clinician's
    recorded dose overrides. `doses_recorded=False` says the source has no dose-taking record
    (an EHR's pain scores), so adherence and gap rules cannot apply.
    """
    ev = evidence or default_evidence()
    rules = response_rules(ev)
    versions = list(plan_history)
    if not versions or versions[-1] != plan:
        versions.append(plan)
    history = dosing_history(
        plans=versions, entries=entries, today=today, rules=rules, overrides=overrides
    )
    in_force = plan_in_force(versions, today) or plan
    status = responder_status(in_force, entries, today, ev, start=history.treatment_start)
    sit = Situation(
        today=today,
        plan=in_force,
        history=history,
        status=status,
        entries=entries,
        rules=rules,
        ev=ev,
        doses_recorded=doses_recorded,
        versions=versions,
    )
    for rule in RULES:
        advice = rule(sit)
        if advice is not None:
            return advice
    raise AssertionError("the last rule always applies")  # pragma: no cover


__all__ = [
    "RULES",
    "Action",
    "Advice",
    "Category",
    "DiaryDay",
    "ResponderStatus",
    "ResponseRules",
    "Situation",
    "advise",
    "responder_category",
    "responder_status",
    "response_rules",
]
