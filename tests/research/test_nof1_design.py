"""N-of-1 design: washout from the occupancy model, seeded counterbalanced randomisation,
packs never revealed in what the patient sees, schedule and stopping rules."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ldnkit.errors import ValidationError
from ldnkit.research.nof1 import (
    Nof1Settings,
    check_stopping,
    design_trial,
    randomise,
    washout_estimate,
)

START = dt.date(2026, 1, 5)


def _settings(**kw: object) -> Nof1Settings:
    base: dict[str, object] = {"dose_mg": Decimal("4.5"), "start": START, "seed": 7}
    base.update(kw)
    return Nof1Settings(**base)  # type: ignore[arg-type]


def test_washout_grows_with_dose_and_lag_and_is_model_derived() -> None:
    low = washout_estimate(Decimal("1.5"), 0.05, pd_lag_days=0)
    high = washout_estimate(Decimal("4.5"), 0.05, pd_lag_days=0)
    lagged = washout_estimate(Decimal("4.5"), 0.05, pd_lag_days=4)
    assert low.hours_to_threshold < high.hours_to_threshold
    assert lagged.days == high.days + 4
    # a stricter (lower) occupancy threshold takes longer to reach
    assert washout_estimate(Decimal("4.5"), 0.01, 0).hours_to_threshold > high.hours_to_threshold
    assert 0 < high.peak_occupancy < 1


def test_period_length_is_washout_plus_measured_days() -> None:
    design, _ = design_trial(_settings(measure_days=10, pd_lag_days=2))
    w = washout_estimate(Decimal("4.5"), 0.05, 2)
    assert design.washout_days == w.days
    assert all(p.days == w.days + 10 for p in design.periods)
    assert design.total_days == 14 + 6 * (w.days + 10)
    # periods tile the calendar without gaps after the run-in
    starts = [p.start_day for p in design.periods]
    assert starts[0] == 14
    assert all(b - a == w.days + 10 for a, b in itertools.pairwise(starts))


def test_same_seed_same_list_and_balanced_orders() -> None:
    s = _settings(pairs=4, seed=123)
    assert randomise(s) == randomise(s)
    orders = [randomise(_settings(pairs=4, seed=k)).orders for k in range(40)]
    assert all(o.count("AB") == 2 for o in orders)
    assert len(set(orders)) > 1
    firsts = {randomise(_settings(seed=k)).pack_contents["A"] for k in range(40)}
    assert firsts == {"ldn", "placebo"}


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=2, max_value=8), st.integers(min_value=0, max_value=2**62))
def test_each_pair_has_one_ldn_period(pairs: int, seed: int) -> None:
    s = _settings(pairs=pairs, seed=seed)
    alloc = randomise(s)
    assert len(alloc.orders) == pairs
    assert set(alloc.pack_contents.values()) == {"ldn", "placebo"}
    n_ab = sum(o == "AB" for o in alloc.orders)
    assert abs(n_ab - (pairs - n_ab)) <= 1


def test_patient_views_name_packs_never_contents() -> None:
    design, alloc = design_trial(_settings(seed=987654321))
    text = design.to_ics("N1-0001").decode() + design.model_dump_json()
    for word in ("placebo", 'ldn"', "LDN first"):
        assert word not in text
    assert "pack A" in text and "pack B" in text
    assert "pack_contents" not in design.model_dump_json()
    assert design.settings.seed is None  # the seed would regenerate the sealed list
    assert "987654321" not in text and alloc.seed == 987654321
    assert alloc.pack_contents  # the sealed list exists separately


def test_dose_a_versus_dose_b_uses_the_higher_dose_for_washout() -> None:
    design, alloc = design_trial(_settings(comparator_dose_mg=Decimal("1.5")))
    assert set(alloc.pack_contents.values()) == {"ldn", "ldn_b"}
    assert design.washout["dose_mg"] == "4.5"
    assert design.comparator_label == "LDN 1.5 mg"
    with pytest.raises(Exception, match="comparator_dose_mg"):
        _settings(comparator_dose_mg=Decimal("4.5"))


def test_day_info_and_schedule() -> None:
    design, _ = design_trial(_settings())
    assert design.day_info(START - dt.timedelta(days=1)).stage == "before"
    assert design.day_info(START).stage == "run_in"
    p1 = design.periods[0]
    first = design.day_info(design.date_of(p1.start_day))
    assert first.stage == "period" and first.period == p1 and not first.analysed
    assert design.day_info(design.date_of(p1.first_analysed_day)).analysed
    assert design.day_info(design.date_of(p1.end_day)).last_day_of_period
    assert design.day_info(design.end + dt.timedelta(days=1)).stage == "finished"
    sched = design.schedule()
    assert sum(r.kind == "end_of_period" for r in sched) == 6
    assert sched[-1].kind == "visit" and "unblinding" in sched[-1].assessments
    assert [r.day for r in sched] == sorted(r.day for r in sched)


def test_bad_settings_name_the_field() -> None:
    with pytest.raises(Exception, match="pairs"):
        _settings(pairs=1)
    with pytest.raises(ValidationError, match="occupancy_threshold"):
        washout_estimate(Decimal("4.5"), 1.5)
    with pytest.raises(ValidationError, match="pd_lag_days"):
        design_trial(_settings(pd_lag_days=40))


def test_stopping_rules() -> None:
    design, _ = design_trial(_settings())
    pain = {design.date_of(d): 4.0 for d in range(design.total_days)}
    assert check_stopping(design, pain) == []
    day = design.periods[1].start_day + 2
    for k in range(3):
        pain[design.date_of(day + k)] = 7.5
    sig = check_stopping(design, pain)
    assert [s.code for s in sig] == ["severe_worsening"]
    assert sig[0].on == design.date_of(day + 2)
    se = {design.date_of(day): [{"code": "vivid_dreams", "severity": "severe"}]}
    codes = {s.code for s in check_stopping(design, {}, se, patient_request_on=START)}
    assert codes == {"intolerable_side_effects", "patient_request"}
    assert all(s.sources for s in check_stopping(design, pain, se))


_W = washout_estimate(Decimal("4.5"), 0.05, 3)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(min_value=10**12, max_value=2**62),  # long enough not to occur by chance
    pairs=st.integers(min_value=2, max_value=6),
    comparator=st.sampled_from([None, Decimal("1.5"), Decimal("3")]),
)
def test_nothing_the_patient_sees_reveals_the_packs(
    seed: int, pairs: int, comparator: Decimal | None
) -> None:
    """Safety of the blind: calendar, design JSON and pack labels never carry the contents or
    the seed that would regenerate them, whatever the settings."""
    from ldnkit.research.nof1 import dispensing

    s = _settings(seed=seed, pairs=pairs, comparator_dose_mg=comparator)
    design, alloc = design_trial(s, washout=_W)
    seen = design.to_ics("N1-0001").decode() + design.model_dump_json()
    seen += " ".join(line.label for line in dispensing(design, alloc, "N1-0001"))
    for secret in ("placebo", "ldn_b", '"ldn"', "cellulose", str(seed), '"AB"', '"BA"'):
        assert secret not in seen, secret
    assert all(p.pack in ("A", "B") for p in design.periods)
    for pair in range(1, pairs + 1):
        packs = sorted(p.pack for p in design.periods if p.pair == pair)
        assert packs == ["A", "B"]


@settings(max_examples=30, deadline=None)
@given(
    day=st.integers(min_value=0, max_value=400),
    severity=st.sampled_from(["mild", "moderate", "severe"]),
)
def test_a_severe_side_effect_in_a_period_always_signals_stop(day: int, severity: str) -> None:
    design, _ = design_trial(_settings(), washout=_W)
    when = design.date_of(day)
    signals = check_stopping(design, {}, {when: [{"code": "nausea", "severity": severity}]})
    fires = any(s.code == "intolerable_side_effects" for s in signals)
    assert fires == (severity == "severe" and design.day_info(when).stage == "period")
