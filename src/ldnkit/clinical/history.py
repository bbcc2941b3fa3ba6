"""The dosing history: what the diary and the plan versions say the patient actually did.

Advice without memory repeats mistakes: after a severe headache at 3 mg and a step back to
1.5 mg it would offer 3 mg again. This module derives, from the current diary entries, every
saved plan version and the clinician's recorded overrides, the facts the advice rules need:
the dose actually taken and since when, the doses tolerated, every dose found intolerable (and
whether an override has allowed it again), documented adherence, the gap since the last dose,
doses above the plan's ceiling and the recent side effects with the dose they happened on.

Pure: no I/O and no clock; the shells load the records and pass `today`. Thresholds come from
`response.yaml` (`ResponseRules`), never from constants here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from ldnkit.clinical.models import Plan

if TYPE_CHECKING:
    from ldnkit.clinical.response import ResponseRules

SEVERITY_RANK = {"mild": 1, "moderate": 2, "severe": 3}

#: Why a clinician allowed a dose that was found intolerable (short codes: they are audited).
OverrideReason = Literal[
    "side_effect_resolved", "rechallenge_agreed", "other_cause_found", "specialist_advice"
]
OVERRIDE_REASONS: tuple[str, ...] = OverrideReason.__args__  # type: ignore[attr-defined]


class _SideEffect(Protocol):
    code: str
    severity: str


class DiaryDay(Protocol):
    """What the history needs from a diary entry (`ldnkit.clinical.diary.DiaryEntry` fits)."""

    entry_date: date
    pain: int
    dose_taken: bool
    dose_mg: Decimal | None
    side_effects: Sequence[_SideEffect]


class DoseOverride(BaseModel):
    """A clinician's recorded decision that a dose found intolerable may be given again.

    It clears intolerance events at exactly `dose_mg` recorded before `effective_on`; a new
    intolerable event after that date makes the dose intolerable again.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    dose_mg: Decimal = Field(gt=0, le=50, decimal_places=3)
    effective_on: date
    reason: OverrideReason


@dataclass(frozen=True)
class IntolerableDose:
    """A dose with at least one intolerable side effect not cleared by an override."""

    dose_mg: Decimal
    first_on: date
    last_on: date
    effects: tuple[str, ...]


@dataclass(frozen=True)
class EffectOnDose:
    """A side effect as recorded, with the dose in force that day (None before any dose)."""

    on: date
    code: str
    severity: str
    dose_mg: Decimal | None


@dataclass(frozen=True)
class AboveCeiling:
    on: date
    dose_mg: Decimal
    ceiling_mg: Decimal


@dataclass(frozen=True)
class DosingHistory:
    """Everything the advice rules know about doses, derived from records only."""

    today: date
    treatment_start: date
    current_mg: Decimal | None
    current_since: date | None
    last_taken_on: date | None
    gap_days: int
    missed_logged: int
    last_entry_on: date | None
    adherence_days: int
    adherence_taken: int
    tolerated_mg: tuple[Decimal, ...]
    intolerable: tuple[IntolerableDose, ...]
    overridden_mg: tuple[Decimal, ...]
    above_ceiling: tuple[AboveCeiling, ...]
    recent_effects: tuple[EffectOnDose, ...]

    @property
    def lowest_intolerable_mg(self) -> Decimal | None:
        """Doses at or above this one are not suggested (one cannot step past an intolerable
        rung without taking it)."""
        return min((i.dose_mg for i in self.intolerable), default=None)

    def allows(self, dose: Decimal) -> bool:
        """True when `dose` is below every dose found intolerable (and not overridden)."""
        low = self.lowest_intolerable_mg
        return low is None or dose < low

    @property
    def days_at_current(self) -> int:
        return (self.today - self.current_since).days + 1 if self.current_since else 0

    @property
    def last_tolerated_mg(self) -> Decimal | None:
        """The highest tolerated dose still allowed: where a step back returns to."""
        return max((d for d in self.tolerated_mg if self.allows(d)), default=None)


def plan_in_force(versions: Sequence[Plan], day: date) -> Plan | None:
    """The plan that applied on `day`: the latest saved version whose start is on or before it.

    `versions` are oldest first, as saved. A revision dated in the future leaves the earlier
    version in force until its start.
    """
    chosen = None
    for plan in versions:
        if plan.start <= day:
            chosen = plan
    return chosen


def _taken(entry: DiaryDay, versions: Sequence[Plan]) -> Decimal | None:
    """The dose taken that day: the diary's own figure, else the plan's dose for the day."""
    if not entry.dose_taken:
        return None
    if entry.dose_mg is not None:
        return entry.dose_mg if entry.dose_mg > 0 else None
    plan = plan_in_force(versions, entry.entry_date)
    dose = plan.dose_on(entry.entry_date) if plan else None
    return dose if dose else None


def dosing_history(
    *,
    plans: Sequence[Plan],
    entries: Sequence[DiaryDay],
    today: date,
    rules: ResponseRules,
    overrides: Sequence[DoseOverride] = (),
) -> DosingHistory:
    """Derive the dosing history up to `today` from the diary, plan versions and overrides.

    `plans` are every saved version, oldest first (at least one). Entries after `today` are
    ignored, so the history on a past date is what was known then.
    """
    if not plans:
        raise ValueError("plans: at least one plan version is needed")
    start = min(p.start for p in plans)
    days = sorted((e for e in entries if e.entry_date <= today), key=lambda e: e.entry_date)
    taken = [(e.entry_date, d) for e in days if (d := _taken(e, plans)) is not None]
    taken_by_day = dict(taken)

    current = since = last_on = None
    if taken:
        last_on, current = taken[-1]
        since = last_on
        for day, dose in reversed(taken):
            if dose != current:
                break
            since = day
    gap = max(0, (today - last_on).days - 1) if last_on else 0
    # Days the diary itself says no dose was taken since the last dose: a gap is documented
    # by these, not by days the patient simply did not log.
    missed_logged = sum(
        1 for e in days if last_on and e.entry_date > last_on and e.entry_date not in taken_by_day
    )

    logged_today = any(e.entry_date == today for e in days)
    window_end = today if logged_today else today - timedelta(days=1)
    window_start = window_end - timedelta(days=rules.adherence_window_days - 1)
    adherence_taken = sum(1 for d in taken_by_day if window_start <= d <= window_end)

    # Each side effect is attributed to the dose in force: the last dose taken on or before it.
    effects: list[EffectOnDose] = []
    in_force: Decimal | None = None
    for e in days:
        if e.entry_date in taken_by_day:
            in_force = taken_by_day[e.entry_date]
        for s in e.side_effects:
            effects.append(EffectOnDose(e.entry_date, s.code, s.severity, in_force))

    intolerable_rank = SEVERITY_RANK[rules.intolerable_severity]
    by_dose: dict[Decimal, list[EffectOnDose]] = {}
    for fx in effects:
        if fx.dose_mg is not None and SEVERITY_RANK.get(fx.severity, 0) >= intolerable_rank:
            by_dose.setdefault(fx.dose_mg, []).append(fx)
    overridden: set[Decimal] = set()
    intolerable = []
    for dose, events in sorted(by_dose.items()):
        cleared_until = max(
            (o.effective_on for o in overrides if o.dose_mg == dose and o.effective_on <= today),
            default=None,
        )
        if cleared_until is not None:
            overridden.add(dose)
            events = [fx for fx in events if fx.on >= cleared_until]
        if events:
            intolerable.append(
                IntolerableDose(
                    dose_mg=dose,
                    first_on=events[0].on,
                    last_on=events[-1].on,
                    effects=tuple(sorted({fx.code for fx in events})),
                )
            )
    bad = {i.dose_mg for i in intolerable}
    counts: dict[Decimal, int] = {}
    for _, dose in taken:
        counts[dose] = counts.get(dose, 0) + 1
    tolerated = tuple(
        sorted(d for d, n in counts.items() if n >= rules.tolerated_min_days and d not in bad)
    )

    ceiling_from = today - timedelta(days=rules.above_ceiling_window_days - 1)
    above = []
    for day, dose in taken:
        plan = plan_in_force(plans, day) or plans[0]
        if day >= ceiling_from and dose > plan.ceiling_mg:
            above.append(AboveCeiling(day, dose, plan.ceiling_mg))
    effects_from = today - timedelta(days=rules.side_effect_window_days - 1)
    return DosingHistory(
        today=today,
        treatment_start=start,
        current_mg=current,
        current_since=since,
        last_taken_on=last_on,
        gap_days=gap,
        missed_logged=missed_logged,
        last_entry_on=days[-1].entry_date if days else None,
        adherence_days=rules.adherence_window_days,
        adherence_taken=adherence_taken,
        tolerated_mg=tolerated,
        intolerable=tuple(intolerable),
        overridden_mg=tuple(sorted(overridden)),
        above_ceiling=tuple(above),
        recent_effects=tuple(fx for fx in effects if fx.on >= effects_from),
    )


__all__ = [
    "OVERRIDE_REASONS",
    "SEVERITY_RANK",
    "AboveCeiling",
    "DiaryDay",
    "DoseOverride",
    "DosingHistory",
    "EffectOnDose",
    "IntolerableDose",
    "OverrideReason",
    "dosing_history",
    "plan_in_force",
]
