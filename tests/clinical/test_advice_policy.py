"""Advice as a stateful policy: each unsafe example from issue 11 part 3, as a test.

The diaries are hand-built: a baseline week, then days on treatment with the dose actually
taken. Every example failed on the old, memoryless advice.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

from ldnkit.clinical.diary import DiaryEntry
from ldnkit.clinical.history import DoseOverride, dosing_history
from ldnkit.clinical.models import PlanOptions
from ldnkit.clinical.outcomes import patient_outcomes
from ldnkit.clinical.response import RULES, advise, responder_category, response_rules
from ldnkit.clinical.titration import titration_plan
from ldnkit.evidence import default_evidence

START = date(2026, 1, 5)
PLAN = titration_plan("fibromyalgia", START)  # 1.5 mg, 3 mg on day 14, 4.5 mg on day 28
EV = default_evidence()


def day(n: int) -> date:
    return START + timedelta(days=n)


def e(on: date, pain: int, dose: str | None = None, effects=(), taken: bool = True) -> DiaryEntry:
    return DiaryEntry.model_validate(
        {
            "entry_date": on,
            "pain": pain,
            "dose_taken": taken and on >= START,
            "dose_mg": dose if taken and on >= START else None,
            "side_effects": [{"code": c, "severity": s} for c, s in effects],
        }
    )


BASELINE = [e(START - timedelta(days=k), 7) for k in range(7, 0, -1)]


def run(first: int, last: int, pain: int, dose: str | None, **kw) -> list[DiaryEntry]:
    return [e(day(n), pain, dose, **kw) for n in range(first, last + 1)]


def _no_false_comfort(message: str) -> None:
    assert "no troublesome side effects" not in message
    assert "no side effects" not in message


def test_rules_are_an_ordered_tuple_with_safety_first() -> None:
    names = [r.__name__ for r in RULES]
    assert names.index("_above_ceiling") < names.index("_escalate")
    assert names.index("_intolerable_dose") < names.index("_responding")
    assert names.index("_worsening_pain") < names.index("_escalate")
    assert names[-1] == "_continue"


def test_intolerable_dose_is_remembered_after_stepping_back() -> None:
    # 1.5 mg for 14 days, 3 mg from day 14, severe headache on day 16, back to 1.5 mg.
    diary = (
        BASELINE
        + run(0, 13, 7, "1.5")
        + [e(day(14), 7, "3"), e(day(15), 7, "3"), e(day(16), 7, "3", [("headache", "severe")])]
        + run(17, 45, 7, "1.5")
    )
    a = advise(plan=PLAN, entries=diary, today=day(45))
    assert a.current_dose_mg == D("1.5")
    assert a.action != "escalate" and a.suggested_dose_mg == D("1.5")
    assert D("3") in a.intolerable_mg and "3 mg intolerable" in a.blocked
    assert "escalate to 3" not in a.message.lower() and "increase to 3" not in a.message
    assert all(EV.reference(s) for s in a.sources)
    # Right after the event, still on 3 mg: step back to the last tolerated dose.
    back = advise(plan=PLAN, entries=diary[: 7 + 17], today=day(16))
    assert back.action == "step_back" and back.suggested_dose_mg == D("1.5")
    assert back.last_tolerated_mg == D("1.5") and back.safety_finding


def test_clinician_override_allows_the_dose_again_and_a_new_event_blocks_it() -> None:
    diary = (
        BASELINE
        + run(0, 13, 7, "1.5")
        + [e(day(14), 7, "3", [("headache", "severe")])]
        + run(15, 45, 7, "1.5")
    )
    override = DoseOverride(dose_mg=D("3"), effective_on=day(40), reason="side_effect_resolved")
    a = advise(plan=PLAN, entries=diary, today=day(45), overrides=[override])
    assert a.action == "escalate" and a.suggested_dose_mg == D("3")
    again = [*diary, e(day(46), 7, "3", [("headache", "severe")])]
    b = advise(plan=PLAN, entries=again, today=day(46), overrides=[override])
    assert b.action == "step_back" and b.suggested_dose_mg == D("1.5")


def test_moderate_side_effects_every_day_block_escalation() -> None:
    fx = [("nausea", "moderate"), ("headache", "moderate")]
    diary = BASELINE + run(0, 14, 7, "1.5", effects=fx)
    a = advise(plan=PLAN, entries=diary, today=day(14))
    assert a.action == "hold" and a.suggested_dose_mg == D("1.5")
    assert "side effects" in a.blocked and "nausea" in a.message
    _no_false_comfort(a.message)


def test_mild_side_effects_are_named_when_escalating() -> None:
    diary = BASELINE + run(0, 14, 7, "1.5", effects=[("dizziness", "mild")])
    a = advise(plan=PLAN, entries=diary, today=day(14))
    assert a.action == "escalate" and "only mild side effects (dizziness)" in a.message
    _no_false_comfort(a.message)


def test_fourteen_days_without_a_dose_restarts_low_not_escalates() -> None:
    diary = (
        BASELINE + run(0, 13, 7, "1.5") + run(14, 30, 7, "3") + run(31, 44, 7, None, taken=False)
    )
    a = advise(plan=PLAN, entries=diary, today=day(45))
    assert a.action == "restart" and a.suggested_dose_mg == D("1.5")
    assert "gap in dosing" in a.blocked and "14 days" in a.message


def test_a_silent_diary_is_not_a_documented_gap() -> None:
    diary = BASELINE + run(0, 30, 7, "3")
    a = advise(plan=PLAN, entries=diary, today=day(40))
    assert a.action == "insufficient_data" and a.rule == "diary_silent"
    assert a.suggested_dose_mg is None and "diary not filled" in a.blocked


def test_doses_missed_on_most_recent_days_block_escalation() -> None:
    diary = BASELINE + run(0, 10, 7, "1.5") + run(11, 14, 7, None, taken=False)
    a = advise(plan=PLAN, entries=diary, today=day(14))
    assert a.action == "hold" and "missed doses" in a.blocked
    assert a.suggested_dose_mg == D("1.5")


def test_worsening_pain_is_flagged_for_review_not_escalated() -> None:
    base = [e(START - timedelta(days=k), 4) for k in range(7, 0, -1)]
    diary = base + run(0, 14, 9, "1.5")
    a = advise(plan=PLAN, entries=diary, today=day(14))
    assert a.action == "worsening_pain" and a.safety_finding
    assert a.suggested_dose_mg == D("1.5") and "do not escalate" in a.message
    assert "dworkin-2008" in a.sources


def test_a_rise_on_treatment_is_flagged_without_a_baseline() -> None:
    diary = run(0, 13, 4, "1.5") + run(14, 20, 9, "3")
    a = advise(plan=PLAN, entries=diary, today=day(20))
    assert a.action == "worsening_pain" and "in the 7 days before" in a.message


def test_dose_above_the_ceiling_is_a_safety_finding() -> None:
    diary = BASELINE + run(0, 27, 7, None) + run(28, 40, 7, "9")
    a = advise(plan=PLAN, entries=diary, today=day(40))
    assert a.action == "above_ceiling" and a.safety_finding
    assert a.suggested_dose_mg is not None and a.suggested_dose_mg <= PLAN.ceiling_mg
    assert "Continue 9" not in a.title and "9 mg" in a.message


def test_small_absolute_change_is_not_a_response() -> None:
    assert responder_category(2.0, 1.0, EV) == "non_responder"  # 50% but 1 point
    assert responder_category(8.0, 4.0, EV) == "strong_responder"
    assert responder_category(8.0, 5.5, EV) == "responder"  # 31%, 2.5 points
    base = [e(START - timedelta(days=k), 2) for k in range(7, 0, -1)]
    diary = base + run(0, 20, 1, None)
    a = advise(plan=PLAN, entries=diary, today=day(20))
    assert a.responder.category == "non_responder"
    assert patient_outcomes(diary, as_of=day(20)).category == "non_responder"


def test_baseline_comes_from_the_first_plan_version_after_a_revision() -> None:
    revised = titration_plan("fibromyalgia", day(20), PlanOptions(continue_from_mg=D("3")))
    diary = BASELINE + run(0, 13, 8, "1.5") + run(14, 34, 4, "3")
    a = advise(plan=revised, plan_history=[PLAN, revised], entries=diary, today=day(34))
    assert a.responder.baseline_entries == 7 and a.responder.baseline_mean == 7.0
    assert a.responder.category == "responder" and a.current_dose_mg == D("3")


def test_history_derives_doses_taken_tolerated_and_gaps() -> None:
    diary = BASELINE + run(0, 13, 7, "1.5") + [e(day(14), 7, "3", [("nausea", "severe")])]
    h = dosing_history(plans=[PLAN], entries=diary, today=day(17), rules=response_rules())
    assert h.current_mg == D("3") and h.last_taken_on == day(14) and h.gap_days == 2
    assert h.tolerated_mg == (D("1.5"),) and h.lowest_intolerable_mg == D("3")
    assert not h.allows(D("4.5")) and h.allows(D("1.5"))


def test_continuing_plan_starts_at_the_current_dose() -> None:
    p = titration_plan(
        "fibromyalgia", day(40), PlanOptions(continue_from_mg=D("4.5"), timing="morning")
    )
    assert [s.dose_mg for s in p.steps] == [D("4.5")] and p.steps[0].timing == "morning"
    capped = titration_plan(
        "fibromyalgia",
        day(40),
        PlanOptions(continue_from_mg=D("1.5"), intolerable_from_mg=D("3")),
    )
    assert max(s.dose_mg for s in capped.steps) == D("1.5") and capped.target_mg == D("1.5")


def test_after_a_continuing_revision_restart_and_step_back_use_the_whole_history() -> None:
    revised = titration_plan("fibromyalgia", day(40), PlanOptions(continue_from_mg=D("4.5")))
    course = BASELINE + run(0, 13, 7, "1.5") + run(14, 27, 7, "3") + run(28, 45, 7, "4.5")
    gap = course + run(46, 60, 7, None, taken=False)
    a = advise(plan=revised, plan_history=[PLAN, revised], entries=gap, today=day(60))
    assert a.action == "restart" and a.suggested_dose_mg == D("1.5")
    severe = [*course, e(day(46), 7, "4.5", [("nausea", "severe")])]
    b = advise(plan=revised, plan_history=[PLAN, revised], entries=severe, today=day(46))
    assert b.action == "step_back" and b.suggested_dose_mg == D("3")
