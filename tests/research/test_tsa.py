"""Trial sequential analysis: boundaries against published constants and Brownian motion.

References:
- Jennison & Turnbull (2000), Group Sequential Methods, Table 2.3 (O'Brien-Fleming constants
  C_B(K, alpha = 0.05), bounds C_B sqrt(K/k)) and Table 2.1 (Pocock constants C_P(K, 0.05)),
  equally spaced looks, two-sided. These test the Armitage-McPherson-Rowe recursion itself.
- Lan-DeMets O'Brien-Fleming spending: the per-look crossing probabilities of our bounds are
  checked against a Monte Carlo of Brownian motion (independent of the recursion).
- RIS: statsmodels' NormalIndPower (an independent implementation of the same normal-theory
  sample size) and the heterogeneity adjustment RIS / (1 - D^2) of Wetterslev et al. (2009).
- D^2 >= I^2 with equality when all within-study variances are equal (Wetterslev 2009).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, stats

from ldnkit.errors import ValidationError
from ldnkit.research.meta import meta_analysis
from ldnkit.research.tsa import (
    diversity,
    exit_probabilities,
    obf_spending,
    required_information_size,
    required_information_size_binary,
    spending_boundaries,
    trial_sequential_analysis,
)

JT_OBF = {2: 1.977, 3: 2.004, 4: 2.024, 5: 2.040, 10: 2.087}
JT_POCOCK = {2: 2.178, 3: 2.289, 4: 2.361, 5: 2.413, 10: 2.555}


def _constant(kind: str, k: int) -> float:
    t = np.arange(1, k + 1) / k
    shape = np.sqrt(k / np.arange(1, k + 1)) if kind == "obf" else np.ones(k)

    def total(c: float) -> float:
        lo, hi = exit_probabilities(t, c * shape)
        return float(lo.sum() + hi.sum()) - 0.05

    return float(optimize.brentq(total, 1.5, 3.5, xtol=1e-8))


@pytest.mark.parametrize("k", sorted(JT_OBF))
def test_recursion_reproduces_jennison_turnbull_constants(k: int) -> None:
    assert _constant("obf", k) == pytest.approx(JT_OBF[k], abs=6e-4)
    assert _constant("pocock", k) == pytest.approx(JT_POCOCK[k], abs=6e-4)


def _brownian(t: np.ndarray, n: int, drift: float, seed: int) -> np.ndarray:
    """Z at each look for n paths of B(t) with E[B(t)] = drift * t."""
    rng = np.random.default_rng(seed)
    inc = rng.standard_normal((n, t.size)) * np.sqrt(np.diff(np.concatenate([[0.0], t])))
    b = np.cumsum(inc, axis=1) + drift * t
    return b / np.sqrt(t)


@pytest.mark.parametrize("t", [np.arange(1, 6) / 5, np.array([0.1, 0.25, 0.6, 0.85, 1.0])])
def test_lan_demets_obf_bounds_spend_alpha_as_promised(t: np.ndarray) -> None:
    c, _ = spending_boundaries(t, alpha=0.05, side=2)
    want = 2 * obf_spending(t, 0.025)  # cumulative two-sided alpha by each look
    lo, hi = exit_probabilities(t, c)
    assert np.cumsum(lo + hi) == pytest.approx(want, abs=1e-9)
    assert c[-1] < 2.1 and c[0] > c[-1]  # O'Brien-Fleming shape, final bound near 1.96
    z = _brownian(t, 400_000, 0.0, seed=11)
    crossed = np.abs(z) >= c
    first = np.where(crossed.any(axis=1), crossed.argmax(axis=1), -1)
    cum = np.array([np.mean((first >= 0) & (first <= j)) for j in range(t.size)])
    se = np.sqrt(want * (1 - want) / z.shape[0])
    assert np.all(np.abs(cum - want) < 4 * se + 1e-6)


def test_equally_spaced_five_looks() -> None:
    """K = 5 bounds: first 4.877, last 2.031 (two-sided 0.05, 0.025 per side)."""
    c, _ = spending_boundaries(np.arange(1, 6) / 5)
    assert c == pytest.approx([4.8769, 3.3570, 2.6803, 2.2898, 2.0310], abs=2e-4)


def test_futility_bounds_spend_beta_under_the_alternative() -> None:
    t = np.array([0.2, 0.4, 0.6, 0.8, 1.0])
    c, b = spending_boundaries(t, alpha=0.05, side=2, beta=0.2)
    assert b is not None and b[-1] == c[-1]
    assert np.all(np.diff(b) > 0) and np.all(b <= c)
    theta = stats.norm.isf(0.025) + stats.norm.isf(0.2)
    z = _brownian(t, 300_000, theta, seed=5)
    stop_fut = np.zeros(z.shape[0], dtype=bool)
    alive = np.ones(z.shape[0], dtype=bool)
    fut_by_look = []
    for j in range(t.size - 1):  # interim looks: futility region below b, efficacy above c
        fut = alive & (z[:, j] <= b[j])
        stop_fut |= fut
        alive &= ~fut & (np.abs(z[:, j]) < c[j])
        fut_by_look.append(stop_fut.mean())
    want = obf_spending(t[:-1], 0.2)
    se = np.sqrt(want * (1 - want) / z.shape[0])
    assert np.all(np.abs(np.array(fut_by_look) - want) < 4 * se + 1e-6)


def test_required_information_size_matches_statsmodels() -> None:
    from statsmodels.stats.power import NormalIndPower

    for d, power in [(0.2, 0.8), (0.5, 0.9), (0.35, 0.8)]:
        n1 = NormalIndPower().solve_power(effect_size=d, alpha=0.05, power=power, ratio=1.0)
        # statsmodels also counts the (negligible) rejections in the wrong tail: 1e-5 apart
        assert required_information_size(d, beta=1 - power) == pytest.approx(2 * n1, rel=1e-5)
    assert required_information_size(0.2, diversity=0.5) == pytest.approx(
        2 * required_information_size(0.2)
    )
    # mean difference of 5 points, SD 10 is the same as an SMD of 0.5
    assert required_information_size(5, sd=10) == pytest.approx(required_information_size(0.5))
    # binary: 4 (z_a + z_b)^2 p(1-p) / (pc - pe)^2 with p the mean risk
    z = stats.norm.isf(0.025) + stats.norm.isf(0.1)
    assert required_information_size_binary(0.1, 0.1, beta=0.1) == pytest.approx(
        4 * z**2 * 0.095 * 0.905 / 0.01**2
    )


def test_diversity_at_least_i2_and_equal_for_equal_variances() -> None:
    y = [-0.5, 0.1, -0.9, 0.3, -0.2]
    same = [0.04] * 5
    assert diversity(y, same) == pytest.approx(meta_analysis(y, same, method="DL").I2 / 100)
    mixed = [0.01, 0.09, 0.04, 0.2, 0.02]
    assert diversity(y, mixed) >= meta_analysis(y, mixed, method="DL").I2 / 100 - 1e-12


def test_tsa_large_consistent_benefit_crosses_the_boundary() -> None:
    res = trial_sequential_analysis(
        [-0.45, -0.5, -0.4, -0.48],
        [4 / 200, 4 / 300, 4 / 250, 4 / 400],
        [200, 300, 250, 400],
        delta=0.2,
        labels=list("ABCD"),
        years=[2001, 2003, 2002, 2005],
    )
    assert [lk.label for lk in res.looks] == ["A", "C", "B", "D"]  # ordered by year
    assert res.conclusion == "benefit"
    first = next(lk for lk in res.looks if lk.crossed)
    assert abs(first.z) >= first.boundary
    assert res.looks[0].participants == 200 and res.looks[1].participants == 450


def test_tsa_null_trials_past_the_ris_show_no_effect_of_the_assumed_size() -> None:
    n = [300, 400, 500]
    res = trial_sequential_analysis(
        [0.02, -0.03, 0.01], [4 / x for x in n], n, delta=0.2, futility=True
    )
    assert res.info_fraction > 1
    assert res.conclusion in ("futility", "no effect of the assumed size")
    assert any(lk.crossed == "futility" for lk in res.looks)


def test_tsa_small_trials_are_inconclusive_and_report_d2() -> None:
    res = trial_sequential_analysis(
        [-0.6, 0.1, -0.3], [0.1, 0.08, 0.12], [40, 50, 35], delta=0.2, model="DL"
    )
    assert res.conclusion == "inconclusive"
    assert 0 <= res.diversity < 1
    assert res.ris == pytest.approx(res.ris_unadjusted / (1 - res.diversity))
    assert "conclusion: inconclusive" in res.summary()
    d = res.to_dict()
    assert d["looks"][-1]["participants"] == 125
    assert math.isclose(d["info_fraction"], 125 / res.ris)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"delta": 0}, "delta"),
        ({"alpha": 1.5}, "alpha"),
        ({"side": 3}, "side"),
        ({"participants": [10, 0]}, "participants"),
        ({"model": "XX"}, "model"),
    ],
)
def test_bad_input_names_the_field(kwargs, field) -> None:
    args = {"yi": [0.1, 0.2], "vi": [0.1, 0.1], "participants": [10, 20], "delta": 0.2}
    args.update(kwargs)
    with pytest.raises(ValidationError) as e:
        trial_sequential_analysis(**args)
    assert e.value.field == field


def test_bad_information_fractions() -> None:
    with pytest.raises(ValidationError, match="info"):
        spending_boundaries([0.5, 0.4])
    with pytest.raises(ValidationError, match="info"):
        spending_boundaries([0.5, 1.2])
