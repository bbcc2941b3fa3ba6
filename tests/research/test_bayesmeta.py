"""Bayesian random-effects meta-analysis against three independent references.

1. Published bayesmeta output (R package vignette "An introduction to meta-analysis using the
   bayesmeta package", inst/doc/bayesmeta.html in the CRAN sources, read with the search tool):
   eight-schools data (Rubin 1981), half-Cauchy(25) prior on tau, normal(0, 50) on mu.
   Marginal posterior summary: tau median 4.758539, mean 5.884511, sd 4.869904, 95% shortest
   [0, 15.165894], central [0.2199559, 18.0531718]; mu median 7.962961, mean 7.985729,
   sd 4.995762, 95% shortest [-1.823353, 17.824562]; P(mu > 0) = 0.9487521; 95% quantile of
   mu 16.11009; shrinkage for school A: median 10.093581, mean 11.095255, sd 7.901084.
   bayesmeta integrates tau exactly but represents mu by its DIRECT mixture approximation
   (delta = 0.01, epsilon = 1e-4), so its tau numbers match ours to 1e-6 and its mu / theta
   numbers to about 0.1% / 0.2% of a posterior SD; the brute-force grid below settles which
   side is exact.
2. A brute-force 2-D grid over (mu, tau) with the plain likelihood prod N(y_i; mu, s_i^2+tau^2):
   no analytic marginalisation, no quadrature rule, no mixture.
3. A NUTS sampler (NumPyro on CPU) on the same model: quantiles within Monte Carlo error.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special, stats

from ldnkit.errors import ValidationError
from ldnkit.research.bayesmeta import BayesMetaResult, MuPrior, TauPrior, bayes_meta

SCHOOLS_Y = [28.39, 7.94, -2.75, 6.82, -0.64, 0.63, 18.01, 12.16]
SCHOOLS_S = [14.9, 10.2, 16.3, 11.0, 9.4, 11.4, 10.4, 17.6]
# Crins et al. 2014 (bayesmeta's CrinsEtAl2014, log odds ratios from metafor's escalc, 4 dp)
CRINS_Y = [-2.3097, -0.4595, -2.3026, -1.7579, -1.2585, -2.4179]
CRINS_V = [0.3594, 0.3096, 0.7750, 0.2078, 0.4122, 2.3373]


@pytest.fixture(scope="module")
def schools() -> BayesMetaResult:
    return bayes_meta(
        SCHOOLS_Y,
        SCHOOLS_S,
        labels=list("ABCDEFGH"),
        tau_prior=TauPrior("halfcauchy", 25),
        mu_prior=MuPrior(0, 50),
    )


def test_tau_matches_published_bayesmeta_to_1e6(schools: BayesMetaResult) -> None:
    t = schools.tau
    assert t.median == pytest.approx(4.758539, abs=2e-6)
    assert t.mean == pytest.approx(5.884511, abs=2e-6)
    assert t.sd == pytest.approx(4.869904, abs=2e-6)
    assert t.shortest[0] == 0.0
    assert t.shortest[1] == pytest.approx(15.165894, abs=2e-6)
    assert t.central[0] == pytest.approx(0.2199559, abs=2e-7)
    assert t.central[1] == pytest.approx(18.0531718, abs=2e-6)


def test_mu_matches_published_bayesmeta_within_its_approximation(
    schools: BayesMetaResult,
) -> None:
    m = schools.mu
    sd = 4.995762
    assert m.sd == pytest.approx(sd, abs=1e-3)
    for ours, theirs in [
        (m.median, 7.962961),
        (m.mean, 7.985729),
        (m.shortest[0], -1.823353),
        (m.shortest[1], 17.824562),
        (schools.quantile("mu", 0.95), 16.11009),
    ]:
        assert abs(ours - theirs) < 1e-3 * sd * 1.0 + 0.003  # 0.1% of an SD + bayesmeta's delta
    assert 1 - schools.cdf("mu", 0.0) == pytest.approx(0.9487521, abs=5e-5)
    a = schools.shrinkage[0]
    assert a.name == "A"
    assert a.median == pytest.approx(10.093581, abs=0.02)
    assert a.mean == pytest.approx(11.095255, abs=0.005)
    assert a.sd == pytest.approx(7.901084, abs=0.005)


# -- brute-force grid -----------------------------------------------------------------------------
def _grid_posterior(y, s, tau_prior, mu_prior, mu_lim, tau_max, n_mu=1600, n_tau=1200):
    """Joint posterior on cell centres of a regular (mu, tau) grid, from the raw likelihood."""
    y, s = np.asarray(y), np.asarray(s)
    mu_edges = np.linspace(*mu_lim, n_mu + 1)
    tau_edges = np.linspace(0.0, tau_max, n_tau + 1)
    mu = (mu_edges[:-1] + mu_edges[1:]) / 2
    tau = (tau_edges[:-1] + tau_edges[1:]) / 2
    m, t = np.meshgrid(mu, tau, indexing="ij")
    lp = tau_prior.logpdf(t)
    if mu_prior.sd is not None:
        lp = lp + stats.norm.logpdf(m, mu_prior.mean, mu_prior.sd)
    for yi, si in zip(y, s, strict=True):
        lp = lp + stats.norm.logpdf(yi, m, np.sqrt(si**2 + t**2))
    w = np.exp(lp - lp.max())
    return mu_edges, tau_edges, m, t, w / w.sum()


def _grid_quantile(edges, pmf, p):
    cdf = np.concatenate([[0.0], np.cumsum(pmf)])
    return float(np.interp(p, cdf, edges))


CASES = [
    ("schools half-Cauchy, normal mu", SCHOOLS_Y, SCHOOLS_S, TauPrior("halfcauchy", 25),
     MuPrior(0, 50), (-45, 60), 160.0),
    ("Crins half-normal(0.5), normal(0,4)", CRINS_Y, np.sqrt(CRINS_V), TauPrior("halfnormal", 0.5),
     MuPrior(0, 4), (-5, 2), 2.5),
    ("Crins half-t(3, 1), flat mu", CRINS_Y, np.sqrt(CRINS_V), TauPrior("halft", 1.0, df=3),
     MuPrior(), (-8, 5), 12.0),
    ("SMD uniform(0, 2), flat mu", [-0.23, -0.51, -0.12, 0.03], [0.2, 0.18, 0.13, 0.21],
     TauPrior("uniform", 2.0), MuPrior(), (-4, 3.5), 2.0),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_agrees_with_brute_force_grid(case) -> None:
    _, y, s, tp, mp, mu_lim, tau_max = case
    res = bayes_meta(y, s, tau_prior=tp, mu_prior=mp)
    mu_edges, tau_edges, m, t, w = _grid_posterior(y, s, tp, mp, mu_lim, tau_max)
    pm, pt = w.sum(axis=1), w.sum(axis=0)
    mu_sd, tau_sd = res.mu.sd, res.tau.sd
    for p in (0.025, 0.25, 0.5, 0.75, 0.975):
        assert res.quantile("mu", p) == pytest.approx(
            _grid_quantile(mu_edges, pm, p), abs=2e-3 * mu_sd
        )
        assert res.quantile("tau", p) == pytest.approx(
            _grid_quantile(tau_edges, pt, p), abs=3e-3 * tau_sd
        )
    assert res.mu.mean == pytest.approx(float(np.sum(w * m)), abs=1e-3 * mu_sd)
    assert res.tau.mean == pytest.approx(float(np.sum(w * t)), abs=2e-3 * tau_sd)
    # predictive: theta_new | mu, tau ~ N(mu, tau^2); shrinkage of study 1 likewise by grid
    s1 = float(np.asarray(s)[0]) ** 2
    t2 = np.maximum(t**2, 1e-300)
    th_m = (float(np.asarray(y)[0]) / s1 + m / t2) / (1 / s1 + 1 / t2)
    th_s = np.sqrt(1 / (1 / s1 + 1 / t2))
    for p in (0.05, 0.5, 0.95):
        q_new = res.quantile("theta_new", p)
        assert float(np.sum(w * special.ndtr((q_new - m) / np.maximum(t, 1e-12)))) == (
            pytest.approx(p, abs=2e-3)
        )
        q1 = res.quantile(res.labels[0], p)
        assert float(np.sum(w * special.ndtr((q1 - th_m) / th_s))) == pytest.approx(p, abs=2e-3)
    # P(mu < 0) straight from the grid
    assert res.prob_below(0.0) == pytest.approx(float(pm[(mu_edges[1:] <= 0)].sum()), abs=3e-3)


def test_shortest_interval_is_shortest_and_holds_its_mass(schools: BayesMetaResult) -> None:
    for param in ("mu", "tau", "theta_new", "C"):
        lo, hi = schools.interval(param, kind="shortest")
        c_lo, c_hi = schools.interval(param, kind="central")
        assert schools.cdf(param, hi) - schools.cdf(param, lo) == pytest.approx(0.95, abs=1e-7)
        assert hi - lo <= c_hi - c_lo + 1e-9
        if param != "tau":  # unimodal with a mode inside: equal density at both ends
            assert schools.pdf(param, lo) == pytest.approx(schools.pdf(param, hi), rel=1e-5)


def test_predictive_interval_wider_than_credible_interval(schools: BayesMetaResult) -> None:
    lo, hi = schools.theta_new.central
    m_lo, m_hi = schools.mu.central
    assert lo < m_lo and hi > m_hi
    assert schools.theta_new.mean == pytest.approx(schools.mu.mean, abs=1e-9)


def test_one_study_with_proper_priors() -> None:
    res = bayes_meta([0.5], [0.2], tau_prior=TauPrior("halfnormal", 0.3), mu_prior=MuPrior(0, 1))
    assert 0 < res.mu.median < 0.5
    assert res.tau.median > 0


def test_summary_and_to_dict(schools: BayesMetaResult) -> None:
    text = schools.summary()
    assert "half-Cauchy(scale=25)" in text and "normal(mean=0, sd=50)" in text
    assert "4.7585" in text  # tau median
    d = schools.to_dict()
    assert d["k"] == 8
    assert d["tau"]["median"] == pytest.approx(4.758539, abs=2e-6)
    assert [s["label"] for s in d["studies"]] == list("ABCDEFGH")
    assert d["p_mu_below_0"] == pytest.approx(1 - 0.9487521, abs=5e-5)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"y": [1, 2], "sigma": [1]}, "sigma"),
        ({"y": [1, 2], "sigma": [1, 0]}, "sigma"),
        ({"y": [1, float("nan")], "sigma": [1, 1]}, "y"),
        ({"y": [], "sigma": []}, "y"),
        ({"y": [1, 2], "sigma": [1, 1], "labels": ["a"]}, "labels"),
        ({"y": [1, 2], "sigma": [1, 1], "labels": ["a", "a"]}, "labels"),
        ({"y": [1, 2], "sigma": [1, 1], "labels": ["mu", "b"]}, "labels"),
        ({"y": [1, 2], "sigma": [1, 1], "level": 1.5}, "level"),
    ],
)
def test_bad_input_names_the_field(kwargs, field) -> None:
    with pytest.raises(ValidationError) as e:
        bayes_meta(**kwargs)
    assert e.value.field == field


def test_bad_priors_name_the_field() -> None:
    with pytest.raises(ValidationError, match="tau_prior"):
        TauPrior("lognormal", 1)
    with pytest.raises(ValidationError, match=r"tau_prior\.scale"):
        TauPrior("halfnormal", -1)
    with pytest.raises(ValidationError, match=r"mu_prior\.sd"):
        MuPrior(0, 0)
    res = bayes_meta([0.1, 0.2], [0.1, 0.1])
    with pytest.raises(ValidationError, match="param"):
        res.cdf("nope", 0)
    with pytest.raises(ValidationError, match="kind"):
        res.interval("mu", kind="hpd")  # type: ignore[arg-type]


_effects = st.lists(
    st.tuples(
        st.floats(-3, 3, allow_nan=False),
        st.floats(0.05, 2, allow_nan=False),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=25, deadline=None)
@given(data=_effects, shift=st.floats(-5, 5), scale=st.floats(0.2, 5))
def test_location_and_scale_equivariance(data, shift, scale) -> None:
    """Flat mu prior: shifting every y shifts mu and theta_new; rescaling y, sigma and the tau
    prior's scale rescales everything. A property any correct integration keeps."""
    y = np.array([d[0] for d in data])
    s = np.array([d[1] for d in data])
    if y.size == 1:
        mp = MuPrior(0, 3)
        mps = MuPrior(shift, 3)
        mpc = MuPrior(0, 3 * scale)
    else:
        mp = mps = mpc = MuPrior()
    base = bayes_meta(y, s, tau_prior=TauPrior("halfnormal", 0.5), mu_prior=mp)
    moved = bayes_meta(y + shift, s, tau_prior=TauPrior("halfnormal", 0.5), mu_prior=mps)
    scaled = bayes_meta(
        y * scale, s * scale, tau_prior=TauPrior("halfnormal", 0.5 * scale), mu_prior=mpc
    )
    for p in (0.025, 0.5, 0.975):
        q = base.quantile("mu", p)
        assert moved.quantile("mu", p) == pytest.approx(q + shift, abs=1e-6 * (1 + abs(shift)))
        assert scaled.quantile("mu", p) == pytest.approx(q * scale, abs=1e-6 * scale + 1e-9)
        assert scaled.quantile("tau", p) == pytest.approx(
            base.quantile("tau", p) * scale, rel=1e-5, abs=1e-9
        )
        assert moved.quantile("tau", p) == pytest.approx(base.quantile("tau", p), rel=1e-6)
    cdf = [base.cdf("mu", x) for x in np.linspace(-4, 4, 9)]
    assert all(b >= a for a, b in itertools.pairwise(cdf))
    assert 0 <= base.prob_outside(0.2) <= 1


# -- NUTS reference ------------------------------------------------------------------------------
def _nuts(y, s, tau_scale, mu_sd, draws, seed):
    jax = pytest.importorskip("jax")
    numpyro = pytest.importorskip("numpyro")
    import jax.numpy as jnp
    import numpyro.distributions as dist
    from numpyro.diagnostics import effective_sample_size
    from numpyro.infer import MCMC, NUTS

    def model(y, s):
        mu = numpyro.sample("mu", dist.Normal(0.0, mu_sd))
        tau = numpyro.sample("tau", dist.HalfNormal(tau_scale))
        numpyro.sample("y", dist.Normal(mu, jnp.sqrt(s**2 + tau**2)), obs=y)

    mcmc = MCMC(NUTS(model), num_warmup=1000, num_samples=draws, progress_bar=False)
    mcmc.run(jax.random.PRNGKey(seed), jnp.asarray(y), jnp.asarray(s))
    out = {k: np.asarray(v) for k, v in mcmc.get_samples().items()}
    ess = {k: float(effective_sample_size(v[None, :])) for k, v in out.items()}
    return out, ess


@pytest.mark.slow
def test_quantiles_within_monte_carlo_error_of_nuts() -> None:
    """Quantile q_p of n_eff draws has SE sqrt(p(1-p)/n_eff) / f(q_p); f is our exact density."""
    y, s = CRINS_Y, np.sqrt(CRINS_V)
    res = bayes_meta(y, s, tau_prior=TauPrior("halfnormal", 0.5), mu_prior=MuPrior(0, 4))
    draws, ess = _nuts(y, s, 0.5, 4.0, draws=4000, seed=1)
    for param in ("mu", "tau"):
        assert ess[param] > 800
        for p in (0.1, 0.25, 0.5, 0.75, 0.9):
            exact = res.quantile(param, p)
            mcse = math.sqrt(p * (1 - p) / ess[param]) / res.pdf(param, exact)
            assert abs(float(np.quantile(draws[param], p)) - exact) < 4 * mcse, (param, p)
        mean = res.mu.mean if param == "mu" else res.tau.mean
        sd = res.mu.sd if param == "mu" else res.tau.sd
        assert abs(float(draws[param].mean()) - mean) < 4 * sd / math.sqrt(ess[param])
