"""Simulation and power checked against theory and against statsmodels MixedLM."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from ldnkit.errors import ValidationError
from ldnkit.research.designs import (
    n_of_1,
    parallel_rct,
    two_period_crossover,
    younger_2009_crossover,
)
from ldnkit.research.power import (
    analytic_crossover_power,
    estimate_power,
    mixedlm_fit,
    power_curve,
    protocol_fit,
    sample_size,
)
from ldnkit.research.simulation import Assumptions, simulate

# A crossover where theory is exact: immediate onset and offset, no carry-over, no missing
# days, no responder heterogeneity, no clipping; period effects allowed (the model absorbs them).
THEORY = dict(
    onset_days=1e-3,
    placebo_onset_days=1e-3,
    carryover_halflife_days=0.0,
    placebo_sd=0.0,
    effect_sd=0.0,
    responder_fraction=1.0,
    period_effects=[0.0, 0.4],
    within_sd=1.2,
    ar1=0.5,
)


def _sd_of_window_mean(sd: float, rho: float, k: int) -> float:
    """SD of the mean of k consecutive days of a stationary AR(1) process."""
    h = np.arange(1, k)
    var = sd**2 / k**2 * (k + 2 * np.sum((k - h) * rho**h))
    return math.sqrt(var)


def test_fast_path_equals_mixedlm_on_complete_balanced_crossover() -> None:
    sim = simulate(
        two_period_crossover(),
        Assumptions(period_effects=[0.0, 0.3]),
        n_patients=24,
        n_trials=6,
        seed=11,
    )
    fit = protocol_fit(sim)
    for r in range(sim.n_trials):
        est, se, df = mixedlm_fit(sim, r)
        assert abs(fit.estimate[r] - est) < 1e-6
        assert abs(fit.se[r] - se) < 1e-6
        assert fit.df[r] == df == 22


def test_fast_path_equals_mixedlm_for_the_seed_protocol() -> None:
    sim = simulate(younger_2009_crossover(), Assumptions(), n_patients=10, n_trials=4, seed=5)
    fit = protocol_fit(sim)
    for r in range(sim.n_trials):
        est, se, _ = mixedlm_fit(sim, r)
        assert abs(fit.estimate[r] - est) < 1e-6
        assert abs(fit.se[r] - se) < 1e-6


def test_null_rejection_rate_is_alpha_within_mc_error() -> None:
    a = Assumptions(**{**THEORY, "ldn_effect": 0.0})
    n_trials = 4000
    res = estimate_power(two_period_crossover(), a, n_patients=20, n_trials=n_trials, seed=7)
    mc = math.sqrt(0.05 * 0.95 / n_trials)
    assert abs(res.power - 0.05) < 3 * mc, res.summary()


def test_simulated_power_matches_analytic_paired_t() -> None:
    design = two_period_crossover()
    a = Assumptions(**{**THEORY, "ldn_effect": -0.45})
    n, n_trials = 20, 3000
    res = estimate_power(design, a, n_patients=n, n_trials=n_trials, seed=3)
    sd_d = math.sqrt(2) * _sd_of_window_mean(a.within_sd, a.ar1, design.summary_days)
    exact = analytic_crossover_power(a.ldn_effect, sd_d, (n // 2, n // 2))
    # The textbook paired t-test (df n - 1, ncp = effect sqrt(n) / SD of differences):
    nc = abs(a.ldn_effect) * math.sqrt(n) / sd_d
    crit = stats.t.ppf(0.975, n - 1)
    paired_t = stats.nct.sf(crit, n - 1, nc) + stats.nct.cdf(-crit, n - 1, nc)
    mc = math.sqrt(exact * (1 - exact) / n_trials)
    assert 0.3 < exact < 0.9  # a regime where the comparison is informative
    assert abs(res.power - exact) < 3 * mc, (res.power, exact)
    assert abs(res.power - paired_t) < 3 * mc + abs(exact - paired_t), (res.power, paired_t)
    # and the estimator is unbiased for the simulated effect
    assert np.mean(res.estimates) == pytest.approx(a.ldn_effect, abs=4 * sd_d / 2 / 20)


def test_same_seed_same_result_and_chunking_invariance() -> None:
    d = two_period_crossover()
    r1 = estimate_power(d, n_patients=12, n_trials=600, seed=9, chunk=200)
    r2 = estimate_power(d, n_patients=12, n_trials=600, seed=9, chunk=200)
    assert r1.rejections == r2.rejections
    assert np.array_equal(r1.estimates, r2.estimates)


def test_dask_cluster_gives_the_local_result() -> None:
    distributed = pytest.importorskip(
        "distributed", reason="dask[distributed] not installed (optional extra 'dask')"
    )
    d = two_period_crossover()
    local = estimate_power(d, n_patients=12, n_trials=400, seed=4, chunk=100)
    with (
        distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False) as cluster,
        distributed.Client(cluster) as client,
    ):
        remote = estimate_power(d, n_patients=12, n_trials=400, seed=4, chunk=100, client=client)
    assert remote.rejections == local.rejections
    assert np.array_equal(remote.estimates, local.estimates)


def test_realistic_features_and_all_designs_run() -> None:
    a = Assumptions(
        p_missing_day=0.1,
        dropout_per_week=0.02,
        responder_fraction=0.4,
        ldn_effect=-1.0,
        effect_sd=0.3,
        clip=(0.0, 10.0),
    )
    sim = simulate(two_period_crossover(), a, n_patients=30, n_trials=50, seed=2)
    assert np.isnan(sim.daily).mean() > 0.1
    assert np.nanmin(sim.daily) >= 0 and np.nanmax(sim.daily) <= 10
    assert 0.2 < sim.responder.mean() < 0.6
    fit = protocol_fit(sim)
    assert np.all(fit.n_used <= 30) and np.any(fit.n_used < 30)  # dropouts excluded
    lo, hi = fit.conf_int()
    assert np.all((lo <= fit.estimate) & (fit.estimate <= hi) | np.isnan(fit.estimate))
    for design, n in ((parallel_rct(), 20), (younger_2009_crossover(), 10), (n_of_1(), 1)):
        res = estimate_power(design, Assumptions(), n_patients=n, n_trials=200, seed=1)
        assert 0 <= res.power <= 1 and res.n_trials == 200


def test_n_of_1_dose_finding() -> None:
    from ldnkit.research.power import dose_fits

    design = n_of_1(cycles=3, doses=(1.5, 3.0, 4.5))
    assert [p.dose_mg for p in design.treatment_periods][::6] == [1.5, 3.0, 4.5]
    a = Assumptions(
        ldn_effect=-1.5, dose_response="linear", onset_days=1e-3, carryover_halflife_days=0
    )
    sim = simulate(design, a, n_patients=2, n_trials=500, seed=6)
    fits = dose_fits(sim)
    means = [float(np.nanmean(fits[d].estimate)) for d in (1.5, 3.0, 4.5)]
    # linear dose response: -0.5, -1.0, -1.5 (1,000 simulated patients: MC SE about 0.015)
    assert means == pytest.approx([-0.5, -1.0, -1.5], abs=0.06)
    assert fits[4.5].df[0] == 6  # 9 cycles x 2 periods - 9 pairs - 3 doses
    assert np.array_equal(protocol_fit(sim).estimate, fits[4.5].estimate)
    with pytest.raises(ValidationError, match="ascending"):
        n_of_1(doses=(4.5, 1.5))


def test_power_curve_and_sample_size() -> None:
    d = two_period_crossover()
    a = Assumptions(ldn_effect=-0.6)
    curve = power_curve(d, [8, 16, 32], a, n_trials=400, seed=1)
    assert curve.power[0] < curve.power[-1]
    assert curve.results[0].plot() is not None and curve.to_dict()["points"]
    assert "n =   32" in curve.summary()
    n, curve2 = sample_size(d, 0.8, a, n_trials=400, seed=1)
    assert n % 2 == 0
    by_n = {r.n_patients: r.power for r in curve2.results}
    assert by_n[n] >= 0.8
    assert all(p < 0.8 for m, p in by_n.items() if m < n)


def test_invalid_power_inputs() -> None:
    with pytest.raises(ValidationError, match="alpha"):
        estimate_power(two_period_crossover(), alpha=1.5, n_trials=10)
    with pytest.raises(ValidationError, match="n_patients"):
        simulate(two_period_crossover(), n_patients=0)
