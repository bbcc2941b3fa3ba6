"""Small-sample inference of the trial mixed model, checked against independent computations.

* balanced AB/BA crossover: scipy's two-sample t-test on period differences (exact, n - 2 df);
* fixed-order protocol: statsmodels OLS with patient fixed effects (the within analysis);
* unbalanced data: Satterthwaite df recomputed here by numerical differentiation of a dense
  REML log-likelihood and of Var(c'b) (no code shared with `research.mixed`);
* the reported test's type I error in simulated null trials at n = 10, 24 and 60.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from ldnkit.errors import ValidationError
from ldnkit.research.analysis import analyze_trial
from ldnkit.research.designs import two_period_crossover, younger_2009_crossover
from ldnkit.research.mixed import EXACT, SATTERTHWAITE, Contrast, random_intercept_contrast
from ldnkit.research.power import protocol_design_matrix, protocol_fit
from ldnkit.research.simulation import Assumptions, simulate


def _crossover(n1: int, n2: int, between: float, within: float, seed: int):
    """Long data of an AB/BA crossover: sequence 0 = placebo then LDN, 1 = LDN then placebo."""
    rng = np.random.default_rng(seed)
    y, g, x = [], [], []
    for i in range(n1 + n2):
        seq = int(i >= n1)
        u = rng.normal(0, between)
        for period in (1, 2):
            ldn = float((period == 2) if seq == 0 else (period == 1))
            y.append(5 + u + 0.3 * (period == 2) + 0.2 * ldn + rng.normal(0, within))
            g.append(i)
            x.append([ldn, float(period == 2)])
    return np.array(y), np.array(g), np.array(x)


@settings(max_examples=25, deadline=None)
@given(
    n1=st.integers(2, 15),
    n2=st.integers(2, 15),
    between=st.sampled_from([0.0, 0.05, 1.0, 3.0]),
    seed=st.integers(0, 10_000),
)
def test_balanced_crossover_is_scipy_t_test_on_period_differences(n1, n2, between, seed) -> None:
    y, g, x = _crossover(n1, n2, between, 0.8, seed)
    fit = random_intercept_contrast(y, g, x, [1.0, 0.0])
    d = y[1::2] - y[0::2]  # period 2 minus period 1, per patient
    d1, d2 = d[:n1], d[n1:]
    ref = stats.ttest_ind(d1, d2)  # pooled variance, df n - 2
    est = (d1.mean() - d2.mean()) / 2
    se = est / ref.statistic
    c = fit.contrast
    assert c.method == EXACT
    assert c.estimate == pytest.approx(est, abs=1e-10)
    assert c.se == pytest.approx(abs(se), rel=1e-9)
    assert c.df == n1 + n2 - 2
    assert c.p_value == pytest.approx(ref.pvalue, rel=1e-7, abs=1e-14)
    lo, hi = c.conf_int(0.9)
    crit = stats.t.ppf(0.95, n1 + n2 - 2)
    assert (hi - lo) / 2 == pytest.approx(crit * c.se, rel=1e-12)


def test_fixed_order_protocol_equals_ols_with_patient_effects() -> None:
    import pandas as pd
    import statsmodels.formula.api as smf

    rng = np.random.default_rng(4)
    rows = []
    for i in range(9):
        u = rng.normal(0, 1.5)
        for ph in ("baseline", "placebo", "ldn"):
            rows.append(
                {
                    "patient": f"p{i}",
                    "placebo": float(ph == "placebo"),
                    "ldn": float(ph == "ldn"),
                    "y": 6
                    + u
                    - 0.8 * (ph != "baseline")
                    - 0.4 * (ph == "ldn")
                    + rng.normal(0, 0.6),
                }
            )
    df = pd.DataFrame(rows)
    fit = random_intercept_contrast(df["y"], df["patient"], df[["placebo", "ldn"]], [-1.0, 1.0])
    ols = smf.ols("y ~ C(patient) + placebo + ldn", df).fit()
    t = ols.t_test("ldn - placebo = 0")
    assert fit.contrast.estimate == pytest.approx(float(t.effect[0]), abs=1e-10)
    assert fit.contrast.se == pytest.approx(float(t.sd[0, 0]), rel=1e-9)
    assert fit.contrast.df == ols.df_resid == 2 * 9 - 2
    assert fit.contrast.p_value == pytest.approx(float(t.pvalue), rel=1e-7)


def _dense_satterthwaite(y, g, x, c, s2b, s2e, h=1e-5):
    """Independent reference: dense V, REML log-likelihood, central differences."""
    n_g = int(g.max()) + 1
    z = (g[:, None] == np.arange(n_g)[None]).astype(float)
    full = np.column_stack([np.ones(y.size), x])
    cf = np.concatenate([[0.0], c])

    def parts(th):
        v = th[1] * np.eye(y.size) + th[0] * z @ z.T
        vi = np.linalg.inv(v)
        m = full.T @ vi @ full
        cm = np.linalg.inv(m)
        b = cm @ full.T @ vi @ y
        r = y - full @ b
        ll = -0.5 * (np.linalg.slogdet(v)[1] + np.linalg.slogdet(m)[1] + r @ vi @ r)
        return ll, float(cf @ cm @ cf), float(cf @ b)

    th = np.array([s2b, s2e])
    e = np.eye(2) * h
    hess = np.array(
        [
            [
                (
                    parts(th + e[i] + e[j])[0]
                    - parts(th + e[i] - e[j])[0]
                    - parts(th - e[i] + e[j])[0]
                    + parts(th - e[i] - e[j])[0]
                )
                / (4 * h * h)
                for j in range(2)
            ]
            for i in range(2)
        ]
    )
    grad = np.array([(parts(th + e[i])[1] - parts(th - e[i])[1]) / (2 * h) for i in range(2)])
    _, var, est = parts(th)
    df = 2 * var**2 / (grad @ np.linalg.inv(-hess) @ grad)
    return est, math.sqrt(var), df


def _unbalanced(seed: int, n: int = 12, drop: int = 3):
    y, g, x = _crossover(n // 2, n - n // 2, 1.2, 0.7, seed)
    keep = ~((g < drop) & (x[:, 1] == 1.0))  # the first patients miss period 2
    return y[keep], g[keep], x[keep]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_satterthwaite_matches_numerical_differentiation(seed) -> None:
    y, g, x = _unbalanced(seed)
    fit = random_intercept_contrast(y, g, x, [1.0, 0.0])
    assert fit.contrast.method == SATTERTHWAITE and not fit.boundary
    est, se, df = _dense_satterthwaite(
        y, g, x, np.array([1.0, 0.0]), fit.sigma2_between, fit.sigma2_within
    )
    assert fit.contrast.estimate == pytest.approx(est, abs=1e-9)
    assert fit.contrast.se == pytest.approx(se, rel=1e-9)
    assert fit.contrast.df == pytest.approx(df, rel=1e-4)
    # fewer df than the complete design would have: the incomplete patients carry less
    assert 0 < fit.contrast.df < g.max() + 1 - 2 + 1


def test_reml_fit_is_statsmodels_and_se_is_the_gls_covariance() -> None:
    """Variance components and estimate are statsmodels MixedLM's REML fit; the SE is
    sqrt(c' (X' V^-1 X)^-1 c) at those components (lme4/lmerTest's vcov). statsmodels' own
    cov_params inverts the joint observed Hessian, which differs slightly on unbalanced data."""
    import statsmodels.api as sm

    y, g, x = _unbalanced(7)
    fit = random_intercept_contrast(y, g, x, [1.0, 0.0])
    full = np.column_stack([np.ones(y.size), x])
    res = sm.MixedLM(y, full, groups=g).fit(reml=True, method=["bfgs"], gtol=1e-10, maxiter=2000)
    assert fit.contrast.estimate == pytest.approx(float(res.fe_params[1]), abs=1e-6)
    # statsmodels' optimum, polished to the exact REML maximum (agrees to its tolerance)
    assert fit.sigma2_within == pytest.approx(float(res.scale), rel=1e-6)
    assert fit.sigma2_between == pytest.approx(float(np.asarray(res.cov_re)[0, 0]), rel=1e-6)
    z = (g[:, None] == np.arange(g.max() + 1)[None]).astype(float)
    v = fit.sigma2_within * np.eye(y.size) + fit.sigma2_between * z @ z.T
    cov = np.linalg.inv(full.T @ np.linalg.solve(v, full))
    assert fit.contrast.se == pytest.approx(math.sqrt(cov[1, 1]), rel=1e-10)


def test_near_boundary_fit_gets_finite_df_from_the_boundary() -> None:
    """A trial where statsmodels stops at a tiny positive sigma_b^2 (5e-4 of sigma_e^2)
    while REML's maximum is the boundary: df from the pooled residual, never NaN."""
    y = np.array(
        [
            [6.01278876, 5.3949219],
            [4.33560703, 5.17049438],
            [5.19425153, 4.09872044],
            [3.78794299, 6.24359641],
            [3.23083867, 5.42221047],
            [8.02929206, np.nan],
            [6.56466672, np.nan],
            [4.7499128, 3.17803292],
            [5.49103961, np.nan],
        ]
    )
    seq = np.array([0, 1, 0, 1, 0, 0, 1, 1, 0])
    g = np.repeat(np.arange(9), 2)
    x = np.array([[float(k == s), float(k == 1)] for s in seq for k in (0, 1)])
    ok = np.isfinite(y.ravel())
    fit = random_intercept_contrast(y.ravel()[ok], g[ok], x[ok], [1.0, 0.0])
    assert fit.boundary and fit.sigma2_between == 0.0
    assert fit.contrast.df == pytest.approx(ok.sum() - 3)  # pooled residual df, as lmerTest
    assert math.isfinite(fit.contrast.p_value)


def test_analysis_reports_t_with_df_and_t_interval(tmp_path) -> None:
    """The defect: `trial analyze` built CI and p-value from the normal distribution."""
    sim = simulate(two_period_crossover(), Assumptions(), n_patients=10, n_trials=1, seed=3)
    res = analyze_trial(sim.to_frame(0))
    mm = res.mixed_model
    assert mm["df"] == 8
    crit = stats.t.ppf(0.975, 8)
    assert (mm["ci_upper"] - mm["ci_lower"]) / 2 == pytest.approx(crit * mm["se"], rel=1e-10)
    assert mm["pvalue"] == pytest.approx(2 * stats.t.sf(abs(mm["estimate"] / mm["se"]), 8))
    assert isinstance(res.contrast, Contrast)
    assert res.contrast.conf_int(0.95) == pytest.approx((mm["ci_lower"], mm["ci_upper"]))
    assert "t(8)" in res.summary()
    files = res.report(tmp_path)
    md = next(f for f in files if f.name == "report.md").read_text()
    assert f"| {mm['df']:.4g} |" in md and "exact within-patient t" in md


def test_analysis_with_a_missing_period_uses_satterthwaite() -> None:
    sim = simulate(two_period_crossover(), Assumptions(), n_patients=12, n_trials=1, seed=5)
    frame = sim.to_frame(0)
    ldn_days = frame["phase"].str.lower().eq("ldn") | frame.get("treatment", frame["phase"]).eq(
        "ldn"
    )
    drop = frame["patient"].isin(sorted(frame["patient"].unique())[:2]) & ldn_days
    res = analyze_trial(frame[~drop])
    assert res.mixed_model["inference"] == SATTERTHWAITE
    assert 0 < res.mixed_model["df"] < 12


@pytest.mark.parametrize("n", [10, 24, 60])
def test_type_one_error_of_the_reported_test(n, capsys) -> None:
    """>= 2,000 null trials per n analysed by the function `trial analyze` calls."""
    design = two_period_crossover()
    trials = 2000
    sim = simulate(design, Assumptions(ldn_effect=0.0), n_patients=n, n_trials=trials, seed=n)
    names, x, c, _ = protocol_design_matrix(design, sim.sequence)
    means = sim.window_means(phases=names)
    y = np.stack([means[nm] for nm in names], axis=2)
    groups = np.repeat(np.arange(n), len(names))
    xl = x.reshape(-1, x.shape[2])
    p = np.array(
        [
            random_intercept_contrast(y[r].ravel(), groups, xl, c).contrast.p_value
            for r in range(trials)
        ]
    )
    rate = float(np.mean(p < 0.05))
    mc = math.sqrt(0.05 * 0.95 / trials)
    fast = protocol_fit(sim)
    z_rate = float(np.mean(2 * stats.norm.sf(np.abs(fast.estimate / fast.se)) < 0.05))
    with capsys.disabled():
        print(
            f"\nn={n}: reported test type I error {rate:.4f} (MC SE {mc:.4f}); z would give {z_rate:.4f}"
        )
    assert 0.04 <= rate <= 0.06
    assert np.allclose(p, fast.pvalue, rtol=1e-9, atol=1e-12)  # power path = reported test


def test_z_test_was_anticonservative_at_n_10() -> None:
    """The reason for the change, measured: z with the same estimate and SE over-rejects."""
    sim = simulate(
        two_period_crossover(), Assumptions(ldn_effect=0.0), n_patients=10, n_trials=4000, seed=99
    )
    fast = protocol_fit(sim)
    z_rate = float(np.mean(2 * stats.norm.sf(np.abs(fast.estimate / fast.se)) < 0.05))
    t_rate = float(np.mean(fast.reject(0.05)))
    assert z_rate > 0.065 and abs(t_rate - 0.05) < 3 * math.sqrt(0.05 * 0.95 / 4000)


def test_seed_protocol_fast_path_matches_reported_test() -> None:
    sim = simulate(younger_2009_crossover(), Assumptions(), n_patients=10, n_trials=1, seed=6)
    res = analyze_trial(sim.to_frame(0))
    fast = protocol_fit(sim)
    assert res.mixed_model["df"] == fast.df[0] == 18
    assert res.mixed_model["pvalue"] == pytest.approx(fast.pvalue[0], rel=1e-8)
    typed = fast.contrast(0)
    assert typed.p_value == pytest.approx(res.contrast.p_value, rel=1e-8)
    assert typed.conf_int(0.9) == pytest.approx(res.contrast.conf_int(0.9), rel=1e-8)


@pytest.mark.parametrize(
    "groups", [[0, 0, 1, 1, 2, 2], [0, 0, 1, 1, 2, 3]], ids=["balanced", "unbalanced"]
)
def test_outcome_without_residual_variation_is_a_clear_error(groups) -> None:
    x = [[0.0, 0.0], [1.0, 1.0], [1.0, 0.0], [0.0, 1.0], [0.0, 0.0], [1.0, 1.0]]
    with pytest.raises(ValidationError, match="no residual variation"):
        random_intercept_contrast([5.0] * 6, groups, x, [1.0, 0.0])


def test_contrast_rejects_bad_inputs() -> None:
    with pytest.raises(ValidationError, match="level"):
        Contrast(1.0, 0.5, 8).conf_int(1.5)
    with pytest.raises(ValidationError, match="patient"):
        random_intercept_contrast([1.0, 2.0], [0, 0], [[0.0], [1.0]], [1.0])
    with pytest.raises(ValidationError, match="y"):
        random_intercept_contrast(
            [1.0, math.nan, 3, 4], [0, 0, 1, 1], [[0.0], [1], [0], [1]], [1.0]
        )
