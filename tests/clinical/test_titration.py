"""Plans reproduce the seed dosing tables and respect every bound."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

import pytest

from ldnkit.clinical.models import PlanOptions
from ldnkit.clinical.titration import dose_ladder, plan_for_patient, titration_plan
from ldnkit.errors import NotFound, UnsafeToStart, ValidationError
from tests.clinical.conftest import make_patient

START = date(2026, 1, 5)


def _doses(plan) -> list[tuple[int, D]]:
    """(day offset from start, dose) of each step."""
    return [((s.start - plan.start).days, s.dose_mg) for s in plan.steps]


@pytest.mark.parametrize(
    ("protocol", "expected"),
    [
        # Seed 000 Table 2 rows and seed 001: fibromyalgia 1.5 mg, +1.5 mg bi-weekly, 4.5 mg.
        ("fibromyalgia", [(0, D("1.5")), (14, D("3")), (28, D("4.5"))]),
        ("neuropathic", [(0, D("1.5")), (14, D("3")), (28, D("4.5"))]),
        # CRPS: 1.5 mg, increased to 4.5 mg as tolerated (general 1.5 mg step).
        ("crps", [(0, D("1.5")), (14, D("3")), (28, D("4.5"))]),
        # Chronic low back pain: 2 mg, increased to 4 mg.
        ("chronic_low_back_pain", [(0, D("2")), (14, D("4"))]),
        # Seed 000 Table 1 / seed 001 general schedule.
        ("standard", [(0, D("1.5")), (14, D("3")), (28, D("4.5"))]),
    ],
)
def test_seed_condition_tables_as_plans(protocol: str, expected) -> None:
    plan = titration_plan(protocol, START)
    assert _doses(plan) == expected
    assert all(s.timing == "bedtime" for s in plan.steps)
    assert plan.steps[-1].note.endswith("(target reached; maintain)")


def test_personalised_sensitive_protocol_starts_at_half_mg() -> None:
    plan = titration_plan("personalised", START, PlanOptions(interval_days=7))
    doses = [s.dose_mg for s in plan.steps]
    assert doses[:3] == [D("0.5"), D("1.0"), D("1.5")]
    assert doses[-1] == D("4.5")
    assert [(s.start - START).days for s in plan.steps][:3] == [0, 7, 14]


def test_general_table_ranges_personalised_within_options() -> None:
    plan = titration_plan(
        "standard", START, PlanOptions(start_mg=D("1"), step_mg=D("1"), target_mg=D("3"))
    )
    assert [s.dose_mg for s in plan.steps] == [D("1"), D("2"), D("3")]


def test_last_step_capped_at_target() -> None:
    assert dose_ladder(D("1"), D("1.5"), D("4.5")) == [D("1"), D("2.5"), D("4"), D("4.5")]


def test_follow_up_and_efficacy_review_dates() -> None:
    plan = titration_plan("fibromyalgia", START)
    follow = next(v for v in plan.visits if v.kind == "follow_up")
    review = next(v for v in plan.visits if v.kind == "efficacy_review")
    assert follow.date == START + timedelta(days=14)
    assert (follow.window_start, follow.window_end) == (
        START + timedelta(14),
        START + timedelta(28),
    )
    target_day = START + timedelta(days=28)
    assert review.date == target_day + timedelta(weeks=8)
    assert review.window_end == target_day + timedelta(weeks=12)
    assert plan.end == review.date


def test_ceiling_can_be_raised_only_where_the_protocol_allows() -> None:
    plan = titration_plan("standard", START, PlanOptions(ceiling_mg=D("10"), target_mg=D("4.5")))
    assert plan.ceiling_mg == D("10")
    with pytest.raises(ValidationError) as err:
        titration_plan("fibromyalgia", START, PlanOptions(ceiling_mg=D("6")))
    assert err.value.field == "options.ceiling_mg"
    with pytest.raises(ValidationError) as err:
        titration_plan("standard", START, PlanOptions(ceiling_mg=D("5"), target_mg=D("6")))
    assert err.value.field == "options.target_mg"


def test_invalid_options_name_the_field() -> None:
    cases = [
        (PlanOptions(interval_days=10), "options.interval_days"),
        (PlanOptions(start_mg=D("2")), "options.start_mg"),
        (PlanOptions(step_mg=D("3")), "options.step_mg"),
        (PlanOptions(follow_up_days=40), "options.follow_up_days"),
    ]
    for options, field in cases:
        with pytest.raises(ValidationError) as err:
            titration_plan("fibromyalgia", START, options)
        assert err.value.field == field


def test_unknown_protocol() -> None:
    with pytest.raises(NotFound, match="unknown protocol 'magic'"):
        titration_plan("magic", START)


def test_perioperative_hold_and_restart_after_opioid_free_window() -> None:
    surgery = START + timedelta(days=40)
    plan = titration_plan("fibromyalgia", START, PlanOptions(surgery_date=surgery))
    hold = next(s for s in plan.steps if s.kind == "hold")
    assert hold.dose_mg == 0
    assert hold.start == surgery - timedelta(days=3)
    resume = next(s for s in plan.steps if s.kind == "resume")
    # 3 days of post-operative opioids, then the 10-day opioid-free window.
    assert resume.start == surgery + timedelta(days=13)
    assert resume.dose_mg == D("1.5")
    assert plan.dose_on(surgery) == 0
    assert plan.dose_on(surgery - timedelta(days=4)) == D("4.5")
    kinds = [v.kind for v in plan.visits]
    assert "pre_operative_hold" in kinds and "restart_check" in kinds


def test_surgery_before_start_is_rejected() -> None:
    with pytest.raises(ValidationError) as err:
        titration_plan("fibromyalgia", START, PlanOptions(surgery_date=START + timedelta(days=2)))
    assert err.value.field == "options.surgery_date"


def test_capsule_and_liquid_compounding_amounts() -> None:
    plan = titration_plan("fibromyalgia", START, PlanOptions(capsule_strengths_mg=[D("1.5")]))
    lines = [(d.dose_mg, d.strength_mg, d.units_per_dose, d.quantity) for d in plan.dispensing]
    assert lines[0] == (D("1.5"), D("1.5"), 1, 14)
    assert lines[1] == (D("3"), D("1.5"), 2, 28)
    assert lines[2][2] == 3
    liquid = titration_plan("fibromyalgia", START, PlanOptions(liquid_mg_per_ml=D("1")))
    first = liquid.dispensing[0]
    assert (first.ml_per_dose, first.total_ml) == (D("1.50"), D("21.00"))
    with pytest.raises(ValidationError, match="no strength"):
        titration_plan("fibromyalgia", START, PlanOptions(capsule_strengths_mg=[D("2")]))


def test_plan_for_patient_refuses_active_opioids() -> None:
    patient = make_patient(medications=[{"name": "oxycodone", "active": True}])
    with pytest.raises(UnsafeToStart, match="ACTIVE_OPIOID"):
        plan_for_patient(patient, "fibromyalgia", START)


def test_plan_for_patient_inside_window_gives_earliest_date() -> None:
    patient = make_patient(
        medications=[{"name": "codeine", "active": False, "last_dose": "2026-01-01"}]
    )
    with pytest.raises(UnsafeToStart) as err:
        plan_for_patient(patient, "fibromyalgia", START)
    assert err.value.earliest_start == date(2026, 1, 11)
    plan = plan_for_patient(patient, "fibromyalgia", date(2026, 1, 11))
    assert plan.start == date(2026, 1, 11)


def test_plan_for_patient_takes_surgery_from_record() -> None:
    patient = make_patient(
        planned_procedures=[{"name": "Hip", "date": "2026-03-01", "opioids_expected": True}]
    )
    plan = plan_for_patient(patient, "fibromyalgia", START)
    assert any(s.kind == "hold" and s.start == date(2026, 2, 26) for s in plan.steps)
