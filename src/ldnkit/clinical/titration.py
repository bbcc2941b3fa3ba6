"""Dated, personalised titration plans.

A plan starts low at bedtime and steps up at a fixed interval until the target, never above
the protocol's ceiling; it schedules the 2-4 week follow-up and the efficacy review after an
adequate trial at target, and, when a surgery needing opioids is planned, holds LDN beforehand
and restarts it only after the opioid-free window. Every number comes from the evidence base.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from ldnkit.clinical.compounding import dispensing
from ldnkit.clinical.models import (
    Patient,
    Plan,
    PlanOptions,
    PlanStep,
    Timing,
    Visit,
    fmt_mg,
)
from ldnkit.clinical.plan_safety import require_startable
from ldnkit.clinical.screening import screen
from ldnkit.errors import ValidationError
from ldnkit.evidence import DoseRange, Evidence, Protocol, default_evidence


@dataclass(frozen=True)
class _Settings:
    """A protocol with the clinician's options applied and checked."""

    protocol: Protocol
    start_mg: Decimal
    step_mg: Decimal
    interval: int
    target_mg: Decimal
    ceiling_mg: Decimal
    timing: Timing
    follow_up_days: int
    review_days: int
    hold_days: int
    continuing: bool = False
    below_mg: Decimal | None = None


def _within(field: str, value: Decimal | int, allowed: DoseRange, unit: str, who: str) -> None:
    if not allowed.contains(value):
        raise ValidationError(
            f"options.{field}", f"{value} {unit} is outside {who}'s allowed {allowed} {unit}"
        )


def _settings(protocol: Protocol, options: PlanOptions, ev: Evidence) -> _Settings:
    allowed = protocol.options
    who = f"the {protocol.id} protocol"
    start_mg = options.start_mg if options.start_mg is not None else protocol.start_mg
    step_mg = options.step_mg if options.step_mg is not None else protocol.step_mg
    interval = (
        options.interval_days if options.interval_days is not None else protocol.interval_days
    )
    target = options.target_mg if options.target_mg is not None else protocol.target_mg
    ceiling = options.ceiling_mg if options.ceiling_mg is not None else protocol.ceiling_mg
    continuing = options.continue_from_mg is not None
    if continuing:
        # A revision from the dose the patient is on: the protocol's starting range is for
        # new patients, so only the ceiling (and the intolerable dose) bound it.
        if options.start_mg is not None:
            raise ValidationError(
                "options.start_mg", "give either start_mg (restart) or continue_from_mg"
            )
        start_mg = options.continue_from_mg  # type: ignore[assignment]
        if options.target_mg is None:
            target = max(target, start_mg)
    else:
        _within("start_mg", start_mg, allowed.start_mg, "mg", who)
    _within("step_mg", step_mg, allowed.step_mg, "mg", who)
    if interval not in allowed.interval_days:
        choices = " or ".join(str(d) for d in allowed.interval_days)
        raise ValidationError("options.interval_days", f"must be {choices} days for {who}")
    _within("ceiling_mg", ceiling, allowed.ceiling_mg, "mg", who)
    if continuing and start_mg > ceiling:
        raise ValidationError(
            "options.continue_from_mg", f"{start_mg} mg exceeds the ceiling {ceiling} mg"
        )
    below = options.intolerable_from_mg
    if below is not None and start_mg >= below:
        field = "continue_from_mg" if continuing else "start_mg"
        raise ValidationError(
            f"options.{field}",
            f"{start_mg} mg is at or above {below} mg, a dose found intolerable; record a "
            "clinician override first",
        )
    if not continuing:
        _within("target_mg", target, allowed.target_mg, "mg", who)
    elif target > max(start_mg, allowed.target_mg.max):
        # Continuing may hold a dose above the protocol's usual target (up to the ceiling),
        # but never titrate further above it.
        _within("target_mg", target, allowed.target_mg, "mg", who)
    if target > ceiling:
        raise ValidationError("options.target_mg", f"{target} mg exceeds the ceiling {ceiling} mg")
    if start_mg > target:
        field = "continue_from_mg" if continuing else "start_mg"
        raise ValidationError(f"options.{field}", f"{start_mg} mg exceeds the target {target} mg")
    if below is not None and target >= below:
        target = max(d for d in dose_ladder(start_mg, step_mg, target) if d < below)
    mon, safety = ev.dosing.monitoring, ev.dosing.safety
    follow = options.follow_up_days or int(mon.follow_up_days.min)
    review = options.review_after_days or int(mon.adequate_trial_days.min)
    hold = options.surgery_hold_days or int(safety.perioperative_hold_days.max)
    _within("follow_up_days", follow, mon.follow_up_days, "days", "the evidence")
    _within("review_after_days", review, mon.adequate_trial_days, "days", "the evidence")
    _within("surgery_hold_days", hold, safety.perioperative_hold_days, "days", "the evidence")
    return _Settings(
        protocol=protocol,
        start_mg=start_mg,
        step_mg=step_mg,
        interval=interval,
        target_mg=target,
        ceiling_mg=ceiling,
        timing=options.timing or protocol.timing,
        follow_up_days=follow,
        review_days=review,
        hold_days=hold,
        continuing=continuing,
        below_mg=below,
    )


def dose_ladder(start_mg: Decimal, step_mg: Decimal, target_mg: Decimal) -> list[Decimal]:
    """Doses from start to target in equal steps, the last one capped at the target."""
    doses = [start_mg]
    while doses[-1] < target_mg:
        doses.append(min(doses[-1] + step_mg, target_mg))
    return doses


def _titrate(
    s: _Settings, first_day: date, first_kind: str, note_prefix: str
) -> tuple[list[tuple[str, date, Decimal, str]], date]:
    """(kind, start, dose, note) for each rung of the ladder from `first_day`; target date."""
    rungs = dose_ladder(s.start_mg, s.step_mg, s.target_mg)
    if s.below_mg is not None:
        rungs = [d for d in rungs if d < s.below_mg]
    out = []
    for i, dose in enumerate(rungs):
        day = first_day + timedelta(days=i * s.interval)
        kind = first_kind if i == 0 else "increase"
        note = f"{note_prefix if i == 0 else ''}{fmt_mg(dose)} mg at {s.timing}"
        if i == len(rungs) - 1 and i > 0:
            note += " (target reached; maintain)"
        out.append((kind, day, dose, note))
    return out, first_day + timedelta(days=(len(rungs) - 1) * s.interval)


def titration_plan(
    protocol_id: str,
    start: date,
    options: PlanOptions | None = None,
    evidence: Evidence | None = None,
    patient_id: str | None = None,
) -> Plan:
    """Build the dated plan for a protocol from `start` (pure: no patient checks here).

    Use `plan_for_patient` for a real patient: it screens first and refuses unsafe starts.
    """
    ev = evidence or default_evidence()
    opts = options or PlanOptions()
    s = _settings(ev.protocol(protocol_id), opts, ev)
    mon, safety = ev.dosing.monitoring, ev.dosing.safety
    dosing_sources = list(s.protocol.sources)
    periop_sources = list(dict.fromkeys(safety.perioperative_sources + safety.opioid_free_sources))

    segments, target_day = _titrate(s, start, "start", "Continue at " if s.continuing else "")
    review_day = target_day + timedelta(days=s.review_days)
    visits: list[Visit] = [
        Visit(
            kind="follow_up",
            date=start + timedelta(days=s.follow_up_days),
            window_start=start + timedelta(days=int(mon.follow_up_days.min)),
            window_end=start + timedelta(days=int(mon.follow_up_days.max)),
            note="Follow-up: tolerability, side effects, sleep, pain diary",
            sources=list(mon.follow_up_sources),
        )
    ]
    end_day = review_day
    segment_sources = [dosing_sources] * len(segments)

    if opts.surgery_date is not None:
        surgery = opts.surgery_date
        hold_from = surgery - timedelta(days=s.hold_days)
        restart = surgery + timedelta(
            days=opts.post_surgery_opioid_days + int(safety.opioid_free_days.max)
        )
        if hold_from <= start:
            raise ValidationError(
                "options.surgery_date",
                f"the {s.hold_days}-day hold before {surgery} begins before the plan starts; "
                f"start LDN on or after {restart}",
            )
        kept = [seg for seg in segments if seg[1] < hold_from]
        kept_sources = segment_sources[: len(kept)]
        hold_note = (
            f"HOLD LDN from {hold_from}: surgery {surgery} needs opioids; restart after "
            f"{opts.post_surgery_opioid_days} days of post-operative opioids plus "
            f"{int(safety.opioid_free_days.max)} opioid-free days"
        )
        resumed, target_day2 = _titrate(s, restart, "resume", "Restart at ")
        segments = [*kept, ("hold", hold_from, Decimal(0), hold_note), *resumed]
        segment_sources = [*kept_sources, periop_sources, *([periop_sources] * len(resumed))]
        if review_day >= hold_from:
            review_day = target_day2 + timedelta(days=s.review_days)
            target_day = target_day2
        end_day = max(review_day, target_day2 + timedelta(days=s.interval))
        visits.append(
            Visit(
                kind="pre_operative_hold",
                date=hold_from,
                window_start=surgery - timedelta(days=int(safety.perioperative_hold_days.max)),
                window_end=surgery - timedelta(days=int(safety.perioperative_hold_days.min)),
                note=f"Stop LDN before surgery on {surgery}",
                sources=list(safety.perioperative_sources),
            )
        )
        visits.append(
            Visit(
                kind="restart_check",
                date=restart,
                window_start=restart,
                window_end=restart,
                note="Confirm opioid-free for the full window before restarting LDN",
                sources=list(safety.opioid_free_sources),
            )
        )

    visits.append(
        Visit(
            kind="efficacy_review",
            date=review_day,
            window_start=target_day + timedelta(days=int(mon.adequate_trial_days.min)),
            window_end=target_day + timedelta(days=int(mon.adequate_trial_days.max)),
            note="Efficacy review after an adequate trial at target: aim for 30-50% less pain",
            sources=list(dict.fromkeys(mon.adequate_trial_sources + mon.response_goal_sources)),
        )
    )
    visits.sort(key=lambda v: v.date)

    steps: list[PlanStep] = []
    for i, ((kind, day, dose, note), sources) in enumerate(
        zip(segments, segment_sources, strict=True)
    ):
        last = segments[i + 1][1] - timedelta(days=1) if i + 1 < len(segments) else end_day
        steps.append(
            PlanStep(
                index=i,
                kind=kind,  # type: ignore[arg-type]
                start=day,
                end=last,
                dose_mg=dose,
                timing=s.timing,
                note=note,
                sources=sources,
            )
        )
    if len(steps) == 1:
        steps[0] = steps[0].model_copy(update={"kind": "start"})

    return Plan(
        patient_id=patient_id,
        protocol_id=s.protocol.id,
        protocol_name=s.protocol.name,
        start=start,
        target_mg=s.target_mg,
        ceiling_mg=s.ceiling_mg,
        interval_days=s.interval,
        steps=steps,
        visits=visits,
        dispensing=dispensing(steps, opts),
        sources=dosing_sources,
    )


def plan_for_patient(
    patient: Patient,
    protocol_id: str,
    start: date,
    options: PlanOptions | None = None,
    evidence: Evidence | None = None,
) -> Plan:
    """Screen the patient on the start date, then plan; refuses any start screening forbids.

    A planned procedure needing opioids, when not given in the options, is taken from the
    patient's record so the hold is never forgotten.
    """
    ev = evidence or default_evidence()
    require_startable(screen(patient, start, ev), start)
    opts = options or PlanOptions()
    if opts.surgery_date is None:
        upcoming = sorted(
            p.date for p in patient.planned_procedures if p.opioids_expected and p.date > start
        )
        if upcoming:
            opts = opts.model_copy(update={"surgery_date": upcoming[0]})
    return titration_plan(protocol_id, start, opts, ev, patient_id=patient.id)


def default_protocol_for(patient: Patient, evidence: Evidence | None = None) -> str:
    """The protocol of the patient's first condition that has one, else `standard`."""
    ev = evidence or default_evidence()
    for entry in patient.conditions:
        condition = ev.condition(entry.code)
        if condition is not None:
            return condition.protocol
    return "standard"
