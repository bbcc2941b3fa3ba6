"""Every public research entry point checks its inputs first: a bad value raises
`ValidationError` naming the parameter (never a raw numpy/pandas error, never a run that
exhausts memory); the CLI turns it into one line and exit 2."""

from __future__ import annotations

import contextlib
import math
from datetime import date

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ldnkit.cli import main
from ldnkit.errors import ValidationError
from ldnkit.research import effect_sizes as es
from ldnkit.research.analysis import analyze_trial
from ldnkit.research.designs import (
    n_of_1,
    parallel_rct,
    schedule,
    schedule_ics,
    two_period_crossover,
    younger_2009_crossover,
)
from ldnkit.research.io import read_trial
from ldnkit.research.meta import meta_analysis, q_profile_ci, tau2_estimate
from ldnkit.research.plots import forest_plot
from ldnkit.research.power import (
    analytic_crossover_power,
    estimate_power,
    power_curve,
    sample_size,
)
from ldnkit.research.randomisation import n_of_1_orders, randomisation_list
from ldnkit.research.simulation import simulate

NAN, INF = math.nan, math.inf
X = two_period_crossover()


def _sim():
    return simulate(X, n_patients=4, n_trials=2, seed=1)


CASES = [
    (lambda: simulate(X, n_patients=2.5), "n_patients"),
    (lambda: simulate(X, n_patients=10**11, n_trials=1), "n_patients"),
    (lambda: simulate(X, n_trials=10**9, n_patients=10), "n_patients"),
    (lambda: simulate(X, n_patients=4, seed=-1), "seed"),
    (lambda: simulate(X, n_patients=4, seed="abc"), "seed"),
    (lambda: simulate("crossover", n_patients=4), "design"),
    (lambda: _sim().to_frame(5), "trial"),
    (lambda: _sim().window_means(last_days=0), "last_days"),
    (lambda: estimate_power(X, n_patients=10, n_trials=0), "n_trials"),
    (lambda: estimate_power(X, n_patients=10, n_trials=1.5), "n_trials"),
    (lambda: estimate_power(X, n_patients=10, alpha=NAN), "alpha"),
    (lambda: estimate_power(X, n_patients=10, alpha=1.0), "alpha"),
    (lambda: estimate_power(X, n_patients=10, seed=-5), "seed"),
    (lambda: estimate_power(X, n_patients=10, chunk=0), "chunk"),
    (lambda: estimate_power(X, n_patients=10**9, n_trials=10), "n_patients"),
    (lambda: power_curve(X, "10,20"), "ns"),
    (lambda: power_curve(X, [10, 0]), "ns"),
    (lambda: sample_size(X, target=1.2), "target"),
    (lambda: sample_size(X, n_max=1.5), "n_max"),
    (lambda: analytic_crossover_power(0.5, -1.0, (5, 5)), "sd_diff"),
    (lambda: analytic_crossover_power(NAN, 1.0, (5, 5)), "effect"),
    (lambda: analytic_crossover_power(0.5, 1.0, (1, 1)), "n_per_sequence"),
    (lambda: analytic_crossover_power(0.5, 1.0, (5, 5), alpha=0), "alpha"),
    (lambda: two_period_crossover(period_weeks=2.5), "period_weeks"),
    (lambda: two_period_crossover(period_weeks=10**9), "period_weeks"),
    (lambda: two_period_crossover(washout_weeks=-1), "washout_weeks"),
    (lambda: two_period_crossover(dose_mg=NAN), "dose_mg"),
    (lambda: parallel_rct(weeks=0), "weeks"),
    (lambda: parallel_rct(dose_mg=-4.5), "dose_mg"),
    (lambda: younger_2009_crossover(dose_mg=INF), "dose_mg"),
    (lambda: n_of_1(cycles=2.5), "cycles"),
    (lambda: n_of_1(doses=(NAN,)), "doses"),
    (lambda: n_of_1(doses=4.5), "doses"),
    (lambda: schedule("crossover"), "design"),
    (lambda: schedule(X, start="2026-01-01"), "start"),
    (lambda: schedule_ics(X, "2026-01-01"), "start"),
    (lambda: randomisation_list(X, 10, seed=-1), "seed"),
    (lambda: randomisation_list(X, 2.5), "n_per_stratum"),
    (lambda: randomisation_list(X, 10**12), "n_per_stratum"),
    (lambda: randomisation_list(X, 10, block_sizes=(2.5,)), "block_sizes"),
    (lambda: n_of_1_orders(10**9), "cycles"),
    (lambda: n_of_1_orders(3, seed=-2), "seed"),
    (lambda: analyze_trial("table.csv"), "frame"),
    (lambda: analyze_trial(_sim().to_frame(0), summary_days=2.5), "summary_days"),
    (lambda: analyze_trial(_sim().to_frame(0), summary_days=0), "summary_days"),
    (lambda: read_trial(3), "file"),
    (lambda: tau2_estimate([0.1, 0.2], [0.1, 0.1], method=None), "method"),
    (lambda: q_profile_ci([0.1, 0.2, 0.3], [0.1, 0.1, 0.1], level=2), "level"),
    (lambda: es.mean_difference(NAN, 1, 10, 0, 1, 10), "m1"),
    (lambda: es.standardised_mean_difference(1, 1, 1, 0, 1, 1), "n1"),
    (lambda: es.from_ci(0.1, 0.1, 0.1), "ci"),
    (lambda: es.from_ci("a", 0.0, 0.2), "estimate"),
    (lambda: es.from_p_paired(NAN, 10), "p"),
    (lambda: es.EffectSize(0.1, 0.01, "MD").conf_int(1.5), "level"),
]


@pytest.mark.parametrize(("call", "field"), CASES)
def test_bad_inputs_raise_validation_error_naming_the_parameter(call, field) -> None:
    with pytest.raises(ValidationError) as info:
        call()
    assert info.value.field == field


def test_plot_path_with_unknown_format(tmp_path) -> None:
    res = meta_analysis([0.1, 0.3], [0.01, 0.02])
    with pytest.raises(ValidationError) as info:
        forest_plot(res, path=tmp_path / "forest.xyz")
    assert info.value.field == "path"


def test_good_inputs_still_work(tmp_path) -> None:
    assert two_period_crossover(washout_weeks=0).total_days > 0
    assert len(randomisation_list(X, 6, seed=2**70)) == 6
    assert len(schedule(X, date(2026, 1, 5))) > 0
    assert simulate(X, n_patients=3, n_trials=2, seed=3.0).n_trials == 2  # 3.0 is whole


BAD = st.sampled_from([NAN, INF, -INF, -1, -0.5, 0, 2.5, "x", None, 10**30, True])


@settings(max_examples=60, deadline=None)
@given(which=st.integers(0, 5), bad=BAD)
def test_cheap_entry_points_never_raise_anything_but_validation_error(which, bad) -> None:
    calls = [
        lambda: es.log_odds_ratio(bad, 5, 3, 7),
        lambda: es.standardised_mean_difference(1.0, bad, 10, 0.0, 1.0, 10),
        lambda: meta_analysis([0.1, bad, 0.3], [0.01, 0.02, 0.03]),
        lambda: meta_analysis([0.1, 0.2, 0.3], [0.01, bad, 0.03], hartung_knapp=True),
        lambda: two_period_crossover(period_weeks=bad),
        lambda: randomisation_list(X, bad),
    ]
    with contextlib.suppress(ValidationError):  # anything else fails the test
        calls[which]()


def _cli(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (("trial", "power", "crossover", "--curve", "a,b"), "--curve"),
        (("trial", "power", "crossover", "--curve", "10,0"), "--curve"),
        (("trial", "power", "crossover", "--alpha", "2"), "--alpha"),
        (("trial", "power", "crossover", "--target", "1.5"), "--target"),
        (("trial", "power", "crossover", "--seed", "-3"), "--seed"),
        (("trial", "simulate", "crossover", "--seed", "-1"), "--seed"),
        (("trial", "power", "crossover", "--effect", "nan"), "assumptions"),
        (("trial", "simulate", "crossover", "--missing", "inf"), "assumptions"),
        (("trial", "simulate", "crossover", "--patients", "100000000000"), "n_patients"),
        (
            ("trial", "power", "crossover", "--patients", "1000000000", "--trials", "10"),
            "n_patients",
        ),
    ],
)
def test_trial_cli_bad_options_one_line_exit_2(capsys, argv, option) -> None:
    code, err = _cli(capsys, *argv)
    assert code == 2
    assert err.startswith(f"error: {option}:") and err.count("\n") == 1


def test_trial_analyze_bad_summary_days_and_folder(capsys, tmp_path) -> None:
    csv = tmp_path / "t.csv"
    _sim().to_frame(0).to_csv(csv, index=False)
    code, err = _cli(capsys, "trial", "analyze", str(csv), "--summary-days", "0")
    assert code == 2 and err.startswith("error: summary_days:")
    code, err = _cli(capsys, "trial", "analyze", str(tmp_path))
    assert code == 2 and err.startswith("error: file:")
    assert pd.read_csv(csv).shape[0] > 0
