"""Schedules: daily, stepped, and a titration plan read through the duck-typed adapter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import numpy as np
import pytest

from ldnkit.errors import ValidationError
from ldnkit.pharmacology import Regimen, regimen_from_plan, simulate


@dataclass
class Step:
    """Stand-in with exactly the attributes of ldnkit.clinical's PlanStep."""

    start: date
    end: date
    dose_mg: Decimal
    timing: str


@dataclass
class Plan:
    steps: list[Step]


def test_plan_adapter_builds_bedtime_and_morning_doses_with_hold() -> None:
    plan = Plan(
        [
            Step(date(2026, 1, 5), date(2026, 1, 18), Decimal("1.5"), "bedtime"),
            Step(date(2026, 1, 19), date(2026, 1, 20), Decimal("0"), "bedtime"),  # surgical hold
            Step(date(2026, 1, 21), date(2026, 1, 23), Decimal("3"), "morning"),
        ]
    )
    r = regimen_from_plan(plan, bedtime_hour=22, morning_hour=8)
    assert r.origin == date(2026, 1, 5)
    assert r.times_h[0] == 22.0 and r.doses_mg[0] == 1.5
    assert r.times_h.size == 14 + 3  # no dose during the hold
    assert r.times_h[14] == 16 * 24 + 8.0  # 21 January, 08:00
    assert r.end_h == 19 * 24.0
    assert list(r.dose_on_day()[13:17]) == [1.5, 0.0, 0.0, 3.0]


def test_plan_adapter_rejects_unknown_timing_and_empty_plan() -> None:
    with pytest.raises(ValidationError, match="timing"):
        regimen_from_plan(Plan([Step(date(2026, 1, 5), date(2026, 1, 6), Decimal(1), "noon")]))
    with pytest.raises(ValidationError, match="no steps"):
        regimen_from_plan(Plan([]))


def test_morning_versus_bedtime_shifts_the_curve_not_the_exposure() -> None:
    night = simulate(Regimen.daily(4.5, 14, hour=22), dt_h=0.5)
    morning = simulate(Regimen.daily(4.5, 14, hour=8), dt_h=0.5)
    last = night.times_h >= 13 * 24
    auc_n = np.trapezoid(night.parent[0, last], night.times_h[last])
    auc_m = np.trapezoid(morning.parent[0, last], morning.times_h[last])
    assert auc_n == pytest.approx(auc_m, rel=1e-3)  # linear kinetics: same daily exposure
    assert np.argmax(night.parent[0, last]) != np.argmax(morning.parent[0, last])


def test_steady_state_is_dose_proportional() -> None:
    a = simulate(Regimen.daily(1.5, 10), dt_h=0.5)
    b = simulate(Regimen.daily(4.5, 10), dt_h=0.5)
    np.testing.assert_allclose(b.parent, 3 * a.parent, rtol=1e-9, atol=1e-15)
