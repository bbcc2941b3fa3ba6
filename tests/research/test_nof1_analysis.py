"""Exact N-of-1 posterior: its marginal likelihood against an independent multivariate-t
density, its summaries against a NUTS sampler on the same model, and the paired t-test
against scipy."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest
from scipy import stats

from ldnkit.errors import ValidationError
from ldnkit.research.nof1 import (
    Nof1Prior,
    Nof1Settings,
    Series,
    design_trial,
    fit,
    paired_analysis,
    series_from_diary,
)
from ldnkit.research.nof1.analysis import _conditional_posteriors, _design_matrix, _prior_arrays


def _trial(effect: float, seed: int, missing: float = 0.0, phi: float = 0.5) -> Series:
    design, alloc = design_trial(
        Nof1Settings(dose_mg=Decimal("4.5"), start=dt.date(2026, 1, 5), seed=seed)
    )
    rng = np.random.default_rng(seed)
    e, pain = 0.0, {}
    for day in range(design.total_days):
        e = phi * e + np.sqrt(1 - phi**2) * 1.2 * rng.standard_normal()
        info = design.day_info(design.date_of(day))
        on = info.period is not None and alloc.is_ldn(info.period)
        if rng.random() >= missing:
            pain[design.date_of(day)] = 6.0 + e + effect * on + 0.02 * day
    return series_from_diary(design, alloc, pain)


@pytest.mark.parametrize("terms", ["none", "trend", "pairs"])
def test_marginal_likelihood_matches_multivariate_t(terms: str) -> None:
    """p(y | phi) from the transformed regression equals the NIG marginal of y written
    directly: y ~ t_{2a0}(X m0, (b0/a0)(R_phi + X V0 X')), R_phi[s,t] = phi^|t-s|."""
    s = _trial(-1.0, seed=3, missing=0.25)  # gaps of several days
    pr = Nof1Prior()
    x, _ = _design_matrix(s, terms)  # type: ignore[arg-type]
    g0, m0 = _prior_arrays(pr, terms, x.shape[1])  # type: ignore[arg-type]
    phis = np.array([-0.3, 0.2, 0.6, 0.9])
    logml = _conditional_posteriors(s, x, pr, g0, m0, phis)[0]
    lag = np.abs(s.day[:, None] - s.day[None, :])
    for k, phi in enumerate(phis):
        shape = (pr.b0 / pr.a0) * (phi**lag + x @ np.diag(g0) @ x.T)
        ref = stats.multivariate_t(loc=x @ m0, shape=shape, df=2 * pr.a0).logpdf(s.pain)
        assert logml[k] == pytest.approx(ref, rel=1e-9, abs=1e-7)


def test_grid_is_converged() -> None:
    s = _trial(-0.8, seed=5)
    a, b = fit(s, grid_points=64), fit(s, grid_points=400)
    assert a.effect_mean == pytest.approx(b.effect_mean, abs=1e-6)
    assert a.p_goal == pytest.approx(b.p_goal, abs=1e-6)
    assert a.ci95[0] == pytest.approx(b.ci95[0], abs=1e-5)


def test_recovers_a_large_effect_and_a_null() -> None:
    big = fit(_trial(-2.0, seed=11))
    assert big.p_benefit > 0.99 and big.ci95[0] < -2.0 < big.ci95[1]
    null = fit(_trial(0.0, seed=12))
    assert null.ci95[0] < 0 < null.ci95[1]
    assert 0.02 < null.p_benefit < 0.98
    assert 0 <= big.p_goal <= big.p_benefit


def test_informed_prior_pulls_towards_the_pooled_mean_and_is_labelled() -> None:
    s = _trial(0.0, seed=13)
    weak = fit(s)
    informed = fit(s, prior=Nof1Prior.informed(-1.0, 0.3, 1.2, "the clinic's 12 trials"))
    assert informed.effect_mean < weak.effect_mean
    assert "informed by the clinic's 12 trials" in informed.summary()


def test_paired_analysis_matches_scipy() -> None:
    s = _trial(-1.0, seed=21)
    res = paired_analysis(s)
    assert res is not None
    ref = stats.ttest_1samp(res.differences, 0.0)
    ci = ref.confidence_interval(0.95)
    assert res.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert res.ci95 == pytest.approx((ci.low, ci.high), rel=1e-9)


def test_bad_input_names_the_field() -> None:
    s = _trial(-1.0, seed=1)
    with pytest.raises(ValidationError, match="terms"):
        fit(s, terms="quadratic")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="relative"):
        fit(s, relative=1.5)
    with pytest.raises(ValidationError, match="diary"):
        fit(Series.of([1, 2, 3], [4, 5, 6], [1, 0, 1], [1, 1, 1]))
    only_ldn = Series.of(range(10), [5.0] * 10, [1.0] * 10, [1] * 10)
    with pytest.raises(ValidationError, match="both packs"):
        fit(only_ldn)
    with pytest.raises(ValidationError, match=r"prior\.b0"):
        Nof1Prior(b0=0)


@pytest.mark.slow
@pytest.mark.parametrize("phi_prior", ["uniform", "arcsine"])
def test_exact_posterior_agrees_with_nuts(phi_prior: str) -> None:
    """Same model, same data: posterior means within Monte Carlo error, tails within 0.01."""
    pytest.importorskip("numpyro")
    from ldnkit.research.nof1.reference import sample_nuts

    s = _trial(-1.1, seed=4, missing=0.1)
    prior = Nof1Prior(phi_prior=phi_prior)  # type: ignore[arg-type]
    exact = fit(s, prior=prior)
    nuts = sample_nuts(s, prior=prior, warmup=800, samples=4000, chains=2, seed=2).summary(1.0, 0.3)
    assert nuts["r_hat_effect"] < 1.01
    assert abs(exact.effect_mean - nuts["effect_mean"]) < 4 * nuts["mc_se_effect_mean"]
    for key in ("p_benefit", "p_goal", "p_relative"):
        assert abs(getattr(exact, key) - nuts[key]) < 0.01, key
