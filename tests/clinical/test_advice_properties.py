"""Property tests of the advice policy over random diaries, plan histories and overrides.

Each safety rule of issue 11 part 3 is checked against an oracle written here from the raw
diary, independently of `ldnkit.clinical.history`:
- never above the ceiling or target of the plan in force;
- never at or above a dose the diary shows was intolerable (same-day explicit dose, severity
  `intolerable_severity`) unless a clinician override for that dose is dated after the event;
- never escalate with side effects rated moderate or worse in the recent window, with doses
  missed on most recent days, or with pain worse than baseline by the clinically important
  change; and an escalation message never denies side effects that were recorded.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ldnkit.clinical.diary import DiaryEntry
from ldnkit.clinical.history import DoseOverride, plan_in_force
from ldnkit.clinical.models import PlanOptions
from ldnkit.clinical.response import advise, response_rules
from ldnkit.clinical.titration import titration_plan
from ldnkit.evidence import default_evidence

EV = default_evidence()
RULES = response_rules(EV)
START = date(2026, 1, 5)
EFFECTS = ["headache", "nausea", "insomnia", "vivid_dreams", "dizziness"]
RANK = {"mild": 1, "moderate": 2, "severe": 3}
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

effects = st.lists(
    st.tuples(st.sampled_from(EFFECTS), st.sampled_from(["mild", "moderate", "severe"])),
    max_size=2,
    unique_by=lambda t: t[0],
)
#: A diary is a run of segments: a while at one dose (None: the plan's dose), with a pain
#: level, an adherence level and a side-effect rate, so the policy meets realistic courses
#: (escalations, step backs, gaps) and not only noise.
segment = st.tuples(
    st.integers(1, 21),  # days
    st.sampled_from([None, None, None, "1.5", "3", "4.5", "0.5", "9"]),
    st.integers(0, 10),  # pain level
    st.sampled_from([1.0, 1.0, 0.9, 0.5, 0.0]),  # share of days the dose is taken
    st.sampled_from([0.0, 0.0, 0.1, 0.5]),  # share of days with side effects
)


@st.composite
def scenarios(draw):  # type: ignore[no-untyped-def]
    protocol = draw(st.sampled_from(["fibromyalgia", "standard", "neuropathic"]))
    interval = draw(st.sampled_from([7, 14]))
    first = titration_plan(protocol, START, PlanOptions(interval_days=interval))
    versions = [first]
    if draw(st.booleans()):
        revised_on = START + timedelta(days=draw(st.integers(5, 60)))
        cont = Decimal(draw(st.sampled_from(["1.5", "3", "4.5"])))
        timing = draw(st.sampled_from(["bedtime", "morning"]))
        versions.append(
            titration_plan(protocol, revised_on, PlanOptions(continue_from_mg=cont, timing=timing))
        )
    baseline_pain = draw(st.integers(0, 10))
    entries = []
    on = START - timedelta(days=7)
    for _ in range(7):
        if draw(st.integers(0, 9)) < 9:
            entries.append(DiaryEntry(entry_date=on, pain=baseline_pain, dose_taken=False))
        on += timedelta(days=1)
    for days, dose, pain, adherence, fx_rate in draw(st.lists(segment, max_size=6)):
        for _ in range(days):
            if draw(st.integers(0, 9)) < 9:  # logged
                taken = draw(st.floats(0, 1)) < adherence
                fx = draw(effects) if draw(st.floats(0, 1)) < fx_rate else []
                entries.append(
                    DiaryEntry.model_validate(
                        {
                            "entry_date": on,
                            "pain": max(0, min(10, pain + draw(st.integers(-1, 1)))),
                            "dose_taken": taken,
                            "dose_mg": dose if taken else None,
                            "side_effects": [{"code": c, "severity": s} for c, s in fx],
                        }
                    )
                )
            on += timedelta(days=1)
    today = on - timedelta(days=draw(st.integers(0, 1)))
    overrides = [
        DoseOverride(
            dose_mg=Decimal(draw(st.sampled_from(["1.5", "3", "4.5"]))),
            effective_on=START + timedelta(days=draw(st.integers(0, 90))),
            reason="rechallenge_agreed",
        )
        for _ in range(draw(st.integers(0, 2)))
    ]
    return versions, entries, today, overrides


def _intolerable_oracle(entries, overrides, today) -> set[Decimal]:  # type: ignore[no-untyped-def]
    """Explicit doses taken on a day with an intolerable side effect, not overridden after."""
    bad = set()
    for e in entries:
        if e.entry_date > today or not e.dose_taken or not e.dose_mg:
            continue
        if any(RANK[s.severity] >= RANK[RULES.intolerable_severity] for s in e.side_effects):
            cleared = any(
                o.dose_mg == e.dose_mg and e.entry_date < o.effective_on <= today for o in overrides
            )
            if not cleared:
                bad.add(e.dose_mg)
    return bad


@SETTINGS
@given(scenarios())
def test_never_above_ceiling_or_target_and_never_an_intolerable_dose(case) -> None:  # type: ignore[no-untyped-def]
    versions, entries, today, overrides = case
    a = advise(
        plan=versions[-1], plan_history=versions, entries=entries, today=today, overrides=overrides
    )
    in_force = plan_in_force(versions, today) or versions[-1]
    event(a.action)
    assert a.sources and all(EV.reference(s) for s in a.sources)
    if a.suggested_dose_mg is None:
        return
    assert a.suggested_dose_mg <= min(in_force.ceiling_mg, in_force.target_mg)
    bad = _intolerable_oracle(entries, overrides, today)
    if a.suggested_dose_mg > 0 and bad:
        assert a.suggested_dose_mg < min(bad), (a.action, a.message, bad)


@SETTINGS
@given(scenarios())
def test_never_escalate_with_recent_side_effects_missed_doses_or_worse_pain(case) -> None:  # type: ignore[no-untyped-def]
    versions, entries, today, overrides = case
    a = advise(
        plan=versions[-1], plan_history=versions, entries=entries, today=today, overrides=overrides
    )
    window = today - timedelta(days=RULES.side_effect_window_days - 1)
    recent = [e for e in entries if window <= e.entry_date <= today]
    block = RANK[RULES.side_effect_block_severity]
    event(a.action)
    if a.action == "escalate":
        assert not any(RANK[s.severity] >= block for e in recent for s in e.side_effects)
        if any(e.side_effects for e in recent):
            assert "no side effects" not in a.message
        # adherence: documented doses in the window ending today (or yesterday if not logged)
        end = today if any(e.entry_date == today for e in entries) else today - timedelta(days=1)
        start = end - timedelta(days=RULES.adherence_window_days - 1)
        taken = sum(1 for e in entries if start <= e.entry_date <= end and e.dose_taken)
        assert taken >= RULES.adherence_min_taken_days
        # worsening pain against the baseline week before the first plan's start
        first = min(v.start for v in versions)
        base = [e.pain for e in entries if first - timedelta(days=7) <= e.entry_date < first]
        since = max(first, today - timedelta(days=RULES.worsening_window_days - 1))
        last = [e.pain for e in entries if since <= e.entry_date <= today]
        if len(base) >= RULES.baseline_min_entries and len(last) >= RULES.worsening_min_entries:
            points = float(EV.dosing.monitoring.clinically_important_points)
            assert sum(last) / len(last) - sum(base) / len(base) < points
        assert a.current_dose_mg is not None and a.suggested_dose_mg > a.current_dose_mg
    if a.suggested_dose_mg is not None and a.current_dose_mg and a.action != "escalate":
        # only an escalation may suggest more than the dose the patient is on
        assert a.suggested_dose_mg <= a.current_dose_mg or a.action in (
            "not_started",
            "insufficient_data",
            "hold",
            "above_ceiling",
        )


@st.composite
def escalating(draw):  # type: ignore[no-untyped-def]
    """A steady non-responder taking every planned dose: the policy's escalation case."""
    plan = titration_plan(
        draw(st.sampled_from(["fibromyalgia", "standard"])),
        START,
        PlanOptions(interval_days=draw(st.sampled_from([7, 14]))),
    )
    pain = draw(st.integers(4, 10))
    n = draw(st.integers(7, 40))
    entries = [
        DiaryEntry(entry_date=START + timedelta(days=k), pain=pain, dose_taken=k >= 0)
        for k in range(-7, n)
    ]
    entries = [
        e if e.entry_date >= START else e.model_copy(update={"dose_taken": False}) for e in entries
    ]
    return plan, entries, START + timedelta(days=n - 1)


def _with(entries, on, **update):  # type: ignore[no-untyped-def]
    return [e.model_copy(update=update) if e.entry_date == on else e for e in entries]


@SETTINGS
@given(
    escalating(),
    st.integers(0, RULES.side_effect_window_days - 1),
    st.sampled_from(EFFECTS),
    st.sampled_from(["moderate", "severe"]),
    st.integers(0, 3),
    st.integers(2, 4),
)
def test_perturbing_an_escalation_blocks_it(case, back, code, severity, miss_from, pain_up) -> None:  # type: ignore[no-untyped-def]
    plan, entries, today = case
    before = advise(plan=plan, entries=entries, today=today)
    event(before.action)
    if before.action != "escalate":
        return
    from ldnkit.clinical.diary import SideEffectReport

    # one moderate-or-worse side effect in the window
    on = today - timedelta(days=back)
    fx = _with(entries, on, side_effects=(SideEffectReport(code=code, severity=severity),))
    assert advise(plan=plan, entries=fx, today=today).action != "escalate"
    # doses missed on most recent days
    missed = entries
    for k in range(miss_from, miss_from + 3):
        missed = _with(missed, today - timedelta(days=k), dose_taken=False)
    assert advise(plan=plan, entries=missed, today=today).action != "escalate"
    # pain worse than baseline by at least the clinically important change
    base = entries[0].pain
    worse = [
        e.model_copy(update={"pain": min(10, base + pain_up)}) if e.entry_date >= START else e
        for e in entries
    ]
    if min(10, base + pain_up) - base >= EV.dosing.monitoring.clinically_important_points:
        assert advise(plan=plan, entries=worse, today=today).action == "worsening_pain"


@SETTINGS
@given(
    st.sampled_from(sorted(EV.protocols)),
    st.integers(1, 24).map(lambda n: Decimal(n) / 2),
    st.one_of(st.none(), st.integers(1, 20).map(lambda n: Decimal(n) / 2)),
    st.one_of(st.none(), st.integers(1, 20).map(lambda n: Decimal(n) / 2)),
)
def test_a_continuing_plan_stays_under_the_ceiling_and_below_intolerable(  # type: ignore[no-untyped-def]
    protocol, cont, below, target
) -> None:
    from ldnkit.errors import ValidationError

    opts = PlanOptions(continue_from_mg=cont, intolerable_from_mg=below, target_mg=target)
    try:
        plan = titration_plan(protocol, START, opts)
    except ValidationError as exc:
        assert exc.field.startswith("options.")
        return
    doses = [s.dose_mg for s in plan.steps if s.dose_mg > 0]
    event("planned")
    assert doses[0] == cont and max(doses) <= plan.ceiling_mg and max(doses) <= plan.target_mg
    if below is not None:
        assert max(doses) < below
