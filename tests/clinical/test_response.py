"""Response-guided advice from hand-built diaries."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

from ldnkit.clinical.diary import DiaryEntry
from ldnkit.clinical.response import advise, responder_status
from ldnkit.clinical.titration import titration_plan
from ldnkit.evidence import default_evidence

START = date(2026, 1, 5)
PLAN = titration_plan("fibromyalgia", START)  # 1.5 mg, 3 mg on day 14, 4.5 mg on day 28


def entry(day: date, pain: int, effects=(), taken: bool = True) -> DiaryEntry:
    return DiaryEntry.model_validate(
        {
            "entry_date": day,
            "pain": pain,
            "dose_taken": taken and day >= START,
            "side_effects": [{"code": c, "severity": s} for c, s in effects],
        }
    )


def diary(first: date, last: date, pain, effects=lambda d: (), skip=lambda d: False):
    out, day = [], first
    while day <= last:
        if not skip(day):
            out.append(entry(day, pain(day) if callable(pain) else pain, effects(day)))
        day += timedelta(days=1)
    return out


BASELINE = diary(START - timedelta(days=7), START - timedelta(days=1), 8)


def test_responder_holds() -> None:
    today = START + timedelta(days=30)
    entries = BASELINE + diary(START, today, lambda d: 8 if d < START + timedelta(days=14) else 4)
    a = advise(plan=PLAN, entries=entries, today=today)
    assert a.responder.category == "strong_responder"
    assert a.responder.percent_reduction == 50.0
    assert a.responder.points_reduction == 4.0 and a.responder.clinically_important_points
    assert a.action == "hold" and a.suggested_dose_mg == a.current_dose_mg
    assert a.sources and all(default_evidence().reference(s) for s in a.sources)


def test_non_responder_with_good_tolerance_escalates() -> None:
    today = START + timedelta(days=14)
    entries = BASELINE + diary(START, today - timedelta(days=1), 8)
    a = advise(plan=PLAN, entries=entries, today=today)
    assert a.responder.category == "non_responder"
    assert a.current_dose_mg == D("1.5") and a.days_at_dose == 15
    assert a.action == "escalate" and a.suggested_dose_mg == D("3.0")
    assert a.suggested_dose_mg <= PLAN.ceiling_mg


def test_intolerable_side_effect_steps_back_to_last_tolerated_dose() -> None:
    today = START + timedelta(days=31)
    entries = BASELINE + diary(
        START,
        today,
        7,
        effects=lambda d: [("headache", "severe")] if d == today - timedelta(days=1) else [],
    )
    a = advise(plan=PLAN, entries=entries, today=today)
    assert a.current_dose_mg == D("4.5")
    assert a.action == "step_back" and a.suggested_dose_mg == D("3.0")
    assert "headache" in a.reasons[0]


def test_intolerable_at_starting_dose_stops() -> None:
    today = START + timedelta(days=5)
    entries = BASELINE + diary(START, today, 7, effects=lambda d: [("nausea", "severe")])
    a = advise(plan=PLAN, entries=entries, today=today)
    assert a.action == "stop" and a.suggested_dose_mg == 0


def test_persistent_insomnia_moves_dose_to_morning() -> None:
    today = START + timedelta(days=20)
    entries = BASELINE + diary(
        START,
        today,
        7,
        effects=lambda d: [("insomnia", "mild")] if d.day % 7 != 0 else [("vivid_dreams", "mild")],
    )
    a = advise(plan=PLAN, entries=entries, today=today)
    assert a.action == "move_to_morning"
    assert a.suggested_timing == "morning" and a.suggested_dose_mg == a.current_dose_mg
    assert "morning-dosing-practice" in a.sources


def test_occasional_vivid_dreams_do_not_move_the_dose() -> None:
    today = START + timedelta(days=20)
    entries = BASELINE + diary(
        START,
        today,
        7,
        effects=lambda d: [("vivid_dreams", "mild")] if d.day % 3 == 0 else [],
    )
    assert advise(plan=PLAN, entries=entries, today=today).action != "move_to_morning"


def test_eight_weeks_at_target_without_response_triggers_review() -> None:
    today = START + timedelta(days=28 + 56)
    entries = BASELINE + diary(START, today, 7)
    a = advise(plan=PLAN, entries=entries, today=today)
    assert a.current_dose_mg == D("4.5") and a.days_at_dose >= 56
    assert a.action == "review"
    assert "jppcp-2025" in a.sources


def test_at_target_before_adequate_trial_holds() -> None:
    today = START + timedelta(days=40)
    a = advise(plan=PLAN, entries=BASELINE + diary(START, today, 7), today=today)
    assert a.action == "hold" and a.suggested_dose_mg == D("4.5")


def test_sparse_data_says_so() -> None:
    today = START + timedelta(days=30)
    entries = BASELINE + diary(START, today, 5, skip=lambda d: d.day % 3 != 0)
    a = advise(plan=PLAN, entries=entries, today=today)
    assert a.action == "insufficient_data"
    assert a.missing_days > 0 and "missing" in a.message


def test_missing_baseline_says_so() -> None:
    today = START + timedelta(days=30)
    a = advise(plan=PLAN, entries=diary(START, today, 5), today=today)
    assert a.action == "insufficient_data" and "baseline" in a.message


def test_before_start_and_during_hold() -> None:
    assert (
        advise(plan=PLAN, entries=BASELINE, today=START - timedelta(days=1)).action == "not_started"
    )
    from ldnkit.clinical.models import PlanOptions

    surgery = START + timedelta(days=50)
    plan = titration_plan("fibromyalgia", START, PlanOptions(surgery_date=surgery))
    a = advise(plan=plan, entries=BASELINE, today=surgery)
    assert a.action == "perioperative_hold" and a.suggested_dose_mg == 0


def test_thirty_percent_threshold_and_points() -> None:
    today = START + timedelta(days=30)
    entries = BASELINE + diary(START, today, lambda d: 8 if d < today - timedelta(days=13) else 5)
    s = responder_status(PLAN, entries, today)
    assert s.category == "responder" and s.percent_reduction == 37.5
