"""Bayesian random-effects meta-analysis by numerical integration (as R's bayesmeta).

Why not MCMC: in the normal-normal hierarchical model y_i ~ N(mu, sigma_i^2 + tau^2) the
effect mu can be integrated out analytically for every tau (flat or normal prior on mu), so the
whole posterior reduces to a one-dimensional integral over tau (Roever 2020, J Stat Softw
93(6), sections 2-3). Integrating that exactly takes milliseconds where a sampler takes
seconds, and has no Monte Carlo error: what a trial statistician wants for the handful of LDN
trials, and what the N-of-1 pooling can reuse.

How: tau is mapped to u by tau = a * sinh(u) (linear near 0, logarithmic in the tail, so both a
posterior piled at tau = 0 and a heavy half-Cauchy tail are resolved), the region of u holding
all but ~e^-40 of the posterior is found by a coarse scan, and that region is cut into panels
integrated by 8-point Gauss-Legendre. The nodes and their normalised weights make the marginal
posterior of mu an exact finite mixture of the conditional normals mu | tau, y; the predictive
distribution of a new study's theta and each study's shrinkage estimate theta_i | y are mixtures
in the same way. Quantiles of tau are solved inside their panel by the same quadrature, so
they are accurate to ~1e-9, not to a grid spacing.

One call, `bayes_meta(y, sigma, ...)`, returns a `BayesMetaResult` with medians, means, SDs,
equal-tailed and shortest intervals, `cdf()`/`quantile()`/`pdf()` for mu, tau, theta_new and
every theta_i, `prob_below()`, `summary()` and `to_dict()`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special, stats

from ldnkit.errors import ValidationError

__all__ = [
    "TAU_PRIORS",
    "BayesMetaResult",
    "MuPrior",
    "ParameterSummary",
    "TauPrior",
    "bayes_meta",
]

TAU_PRIORS: tuple[str, ...] = ("halfnormal", "halfcauchy", "halft", "uniform")
Interval = Literal["central", "shortest"]

# 8-point Gauss-Legendre on [0, 1]: exact for polynomials of degree 15 on each panel.
_GL_X, _GL_W = np.polynomial.legendre.leggauss(8)
_GL_X = (_GL_X + 1.0) / 2.0
_GL_W = _GL_W / 2.0
_LOG_DROP = 40.0  # the integration region keeps every u whose log density is within this of the max
_PANELS = 160


@dataclass(frozen=True)
class TauPrior:
    """A proper prior for the heterogeneity tau (the SD between studies' true effects).

    kind: halfnormal / halfcauchy / halft (with `df`) of the given `scale`, or uniform on
    [0, scale]. Improper priors are refused: with the 2-6 trials typical of LDN they can give an
    improper posterior (Roever 2020, section 2.3).
    """

    kind: str = "halfnormal"
    scale: float = 0.5
    df: float = 3.0

    def __post_init__(self) -> None:
        if self.kind not in TAU_PRIORS:
            raise ValidationError(
                "tau_prior", f"unknown prior {self.kind!r} (use {', '.join(TAU_PRIORS)})"
            )
        if not (math.isfinite(self.scale) and self.scale > 0):
            raise ValidationError("tau_prior.scale", f"must be a positive number, got {self.scale}")
        if self.kind == "halft" and not (math.isfinite(self.df) and self.df > 0):
            raise ValidationError("tau_prior.df", f"must be a positive number, got {self.df}")

    @property
    def upper(self) -> float:
        """The largest tau with prior density (inf except for the uniform prior)."""
        return self.scale if self.kind == "uniform" else math.inf

    def logpdf(self, tau: NDArray[np.float64]) -> NDArray[np.float64]:
        """Log prior density on tau >= 0 (normalised, so posterior odds stay meaningful)."""
        s = self.scale
        z = tau / s
        if self.kind == "halfnormal":
            out = math.log(2.0 / s) + stats.norm.logpdf(z)
        elif self.kind == "halfcauchy":
            out = math.log(2.0 / (math.pi * s)) - np.log1p(z * z)
        elif self.kind == "halft":
            out = math.log(2.0 / s) + stats.t.logpdf(z, self.df)
        else:
            out = np.where(tau <= s, -math.log(s), -np.inf)
        return np.where(tau >= 0, out, -np.inf)

    def describe(self) -> str:
        if self.kind == "uniform":
            return f"uniform(0, {self.scale:g})"
        if self.kind == "halft":
            return f"half-Student-t(df={self.df:g}, scale={self.scale:g})"
        name = {"halfnormal": "half-normal", "halfcauchy": "half-Cauchy"}[self.kind]
        return f"{name}(scale={self.scale:g})"


@dataclass(frozen=True)
class MuPrior:
    """Prior for the overall effect mu: normal(mean, sd), or flat (improper) when sd is None."""

    mean: float = 0.0
    sd: float | None = None

    def __post_init__(self) -> None:
        if not math.isfinite(self.mean):
            raise ValidationError("mu_prior.mean", "must be a finite number")
        if self.sd is not None and not (math.isfinite(self.sd) and self.sd > 0):
            raise ValidationError("mu_prior.sd", f"must be a positive number, got {self.sd}")

    def describe(self) -> str:
        return (
            "flat (improper)" if self.sd is None else f"normal(mean={self.mean:g}, sd={self.sd:g})"
        )


@dataclass(frozen=True)
class ParameterSummary:
    """Marginal posterior of one quantity: the numbers a results table prints."""

    name: str
    median: float
    mean: float
    sd: float
    central: tuple[float, float]
    shortest: tuple[float, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "median": self.median,
            "mean": self.mean,
            "sd": self.sd,
            "central": list(self.central),
            "shortest": list(self.shortest),
        }


class _Mixture:
    """A finite normal mixture sum_j w_j N(m_j, v_j): the marginal of mu, theta_new or theta_i."""

    def __init__(self, w: NDArray[np.float64], m: NDArray[np.float64], v: NDArray[np.float64]):
        keep = w > 1e-300
        self.w, self.m, self.s = w[keep], m[keep], np.sqrt(v[keep])
        self.mean = float(np.sum(self.w * self.m))
        self.sd = float(
            math.sqrt(max(np.sum(self.w * (self.s**2 + self.m**2)) - self.mean**2, 0.0))
        )

    def cdf(self, x: float) -> float:
        return float(np.sum(self.w * special.ndtr((x - self.m) / self.s)))

    def pdf(self, x: float) -> float:
        z = (x - self.m) / self.s
        return float(np.sum(self.w * np.exp(-0.5 * z * z) / (self.s * math.sqrt(2 * math.pi))))

    def quantile(self, p: float) -> float:
        lo = float(np.min(self.m - 40 * self.s))
        hi = float(np.max(self.m + 40 * self.s))
        return float(
            optimize.brentq(lambda x: self.cdf(x) - p, lo, hi, xtol=1e-12 * (1 + abs(self.mean)))
        )

    def shortest(self, level: float) -> tuple[float, float]:
        """Highest-density interval: for a unimodal density the ends have equal density."""

        def gap(a: float) -> float:
            return self.pdf(self.quantile(a)) - self.pdf(self.quantile(a + level))

        tail = 1.0 - level
        eps = tail * 1e-6
        g_lo, g_hi = gap(eps), gap(tail - eps)
        if g_lo > 0 or g_hi < 0:  # not unimodal in the usual way: fall back to a width search
            res = optimize.minimize_scalar(
                lambda a: self.quantile(a + level) - self.quantile(a),
                bounds=(eps, tail - eps),
                method="bounded",
                options={"xatol": 1e-9},
            )
            a = float(res.x)
        else:
            a = float(optimize.brentq(gap, eps, tail - eps, xtol=1e-12))
        return self.quantile(a), self.quantile(a + level)


@dataclass
class BayesMetaResult:
    """The joint posterior of (mu, tau) and everything derived from it, bayesmeta-style.

    `tau_nodes` and `tau_weights` are the quadrature over tau (weights sum to 1);
    `cond_mean`/`cond_var` are mu | tau, y at each node. Everything else is derived lazily.
    """

    y: NDArray[np.float64]
    sigma: NDArray[np.float64]
    labels: list[str]
    tau_prior: TauPrior
    mu_prior: MuPrior
    level: float
    tau_nodes: NDArray[np.float64]
    tau_weights: NDArray[np.float64]
    cond_mean: NDArray[np.float64]
    cond_var: NDArray[np.float64]
    log_marginal_likelihood: float
    measure: str = "effect"
    extra: dict[str, Any] = field(default_factory=dict)
    # private quadrature description, for exact tau quantiles inside a panel
    _a: float = 0.0
    _edges: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    _cum: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    _logc: float = 0.0

    @property
    def k(self) -> int:
        return int(self.y.size)

    # -- the tau marginal ---------------------------------------------------------------------
    def _log_post_tau(self, tau: NDArray[np.float64]) -> NDArray[np.float64]:
        return _log_post_tau(self.y, self.sigma**2, tau, self.tau_prior, self.mu_prior)

    def _g(self, u: NDArray[np.float64]) -> NDArray[np.float64]:
        """Normalised posterior density in u (tau = a sinh u)."""
        tau = self._a * np.sinh(u)
        return np.exp(self._log_post_tau(tau) - self._logc) * self._a * np.cosh(u)

    def tau_pdf(self, tau: float) -> float:
        """Marginal posterior density of tau."""
        if tau < 0 or tau > self.tau_prior.upper:
            return 0.0
        return float(np.exp(self._log_post_tau(np.array([tau]))[0] - self._logc))

    def tau_cdf(self, tau: float) -> float:
        if tau <= 0:
            return 0.0
        u = math.asinh(tau / self._a)
        if u <= self._edges[0]:
            return 0.0
        if u >= self._edges[-1]:
            return 1.0
        j = int(np.searchsorted(self._edges, u, side="right") - 1)
        return float(self._cum[j] + self._panel_mass(self._edges[j], u))

    def _panel_mass(self, lo: float, hi: float) -> float:
        x = lo + (hi - lo) * _GL_X
        return float(np.sum(_GL_W * self._g(x)) * (hi - lo))

    def tau_quantile(self, p: float) -> float:
        if not 0 <= p <= 1:
            raise ValidationError("p", f"must be between 0 and 1, got {p}")
        if p <= self._cum[0]:
            return 0.0
        j = int(np.clip(np.searchsorted(self._cum, p, side="right") - 1, 0, self._edges.size - 2))
        lo, hi = float(self._edges[j]), float(self._edges[j + 1])
        base = float(self._cum[j])
        f = lambda u: base + self._panel_mass(lo, u) - p  # noqa: E731
        if f(hi) <= 0:
            return float(self._a * math.sinh(hi))
        u = optimize.brentq(f, lo, hi, xtol=1e-14)
        return float(self._a * math.sinh(u))

    def _tau_shortest(self, level: float) -> tuple[float, float]:
        tail = 1.0 - level

        def width(a: float) -> float:
            return self.tau_quantile(a + level) - self.tau_quantile(a)

        if self.tau_pdf(0.0) >= self.tau_pdf(self.tau_quantile(level)):
            return 0.0, self.tau_quantile(level)  # density falls from 0: one-sided interval
        res = optimize.minimize_scalar(
            width, bounds=(0.0, tail), method="bounded", options={"xatol": 1e-10}
        )
        a = float(res.x)
        return self.tau_quantile(a), self.tau_quantile(a + level)

    # -- mixtures -------------------------------------------------------------------------------
    @cached_property
    def _mu(self) -> _Mixture:
        return _Mixture(self.tau_weights, self.cond_mean, self.cond_var)

    @cached_property
    def _pred(self) -> _Mixture:
        return _Mixture(self.tau_weights, self.cond_mean, self.cond_var + self.tau_nodes**2)

    def _theta(self, i: int) -> _Mixture:
        s2 = self.sigma[i] ** 2
        b = s2 / (s2 + self.tau_nodes**2)  # shrinkage factor towards mu at each tau
        m = (1 - b) * self.y[i] + b * self.cond_mean
        v = (1 - b) * s2 + b**2 * self.cond_var
        return _Mixture(self.tau_weights, m, v)

    def _dist(self, param: str) -> _Mixture:
        if param == "mu":
            return self._mu
        if param in ("theta_new", "predictive"):
            return self._pred
        if param in self.labels:
            return self._theta(self.labels.index(param))
        raise ValidationError(
            "param", f"unknown parameter {param!r} (mu, tau, theta_new or a study label)"
        )

    def cdf(self, param: str, x: float) -> float:
        """P(param <= x | data) for mu, tau, theta_new or a study's label (its theta_i)."""
        return self.tau_cdf(x) if param == "tau" else self._dist(param).cdf(x)

    def pdf(self, param: str, x: float) -> float:
        return self.tau_pdf(x) if param == "tau" else self._dist(param).pdf(x)

    def quantile(self, param: str, p: float) -> float:
        if not 0 < p < 1 and param != "tau":
            raise ValidationError("p", f"must be strictly between 0 and 1, got {p}")
        return self.tau_quantile(p) if param == "tau" else self._dist(param).quantile(p)

    def prob_below(self, x: float, param: str = "mu") -> float:
        """Posterior probability that `param` is below x (e.g. P(mu < 0): LDN beats placebo)."""
        return self.cdf(param, x)

    def prob_outside(self, half_width: float, param: str = "mu") -> float:
        """P(|param| > half_width): is the effect larger than a minimal important size?"""
        return 1.0 - (self.cdf(param, half_width) - self.cdf(param, -half_width))

    def interval(
        self, param: str = "mu", level: float | None = None, kind: Interval = "shortest"
    ) -> tuple[float, float]:
        """Credible (mu, tau, theta_i) or prediction (theta_new) interval."""
        level = self.level if level is None else level
        if not 0 < level < 1:
            raise ValidationError("level", f"must be between 0 and 1, got {level}")
        if kind not in ("central", "shortest"):
            raise ValidationError("kind", f"use 'central' or 'shortest', not {kind!r}")
        tail = (1 - level) / 2
        if kind == "central":
            return self.quantile(param, tail), self.quantile(param, 1 - tail)
        if param == "tau":
            return self._tau_shortest(level)
        return self._dist(param).shortest(level)

    def _summary_of(self, param: str) -> ParameterSummary:
        if param == "tau":
            w, t = self.tau_weights, self.tau_nodes
            mean = float(np.sum(w * t))
            sd = float(math.sqrt(max(np.sum(w * t * t) - mean**2, 0.0)))
        else:
            d = self._dist(param)
            mean, sd = d.mean, d.sd
        return ParameterSummary(
            name=param,
            median=self.quantile(param, 0.5),
            mean=mean,
            sd=sd,
            central=self.interval(param, kind="central"),
            shortest=self.interval(param, kind="shortest"),
        )

    @cached_property
    def mu(self) -> ParameterSummary:
        return self._summary_of("mu")

    @cached_property
    def tau(self) -> ParameterSummary:
        return self._summary_of("tau")

    @cached_property
    def theta_new(self) -> ParameterSummary:
        """A new study's true effect: the prediction interval of Higgins et al. (2009)."""
        return self._summary_of("theta_new")

    @cached_property
    def shrinkage(self) -> list[ParameterSummary]:
        """Each study's true effect theta_i after borrowing strength from the others."""
        return [self._summary_of(lab) for lab in self.labels]

    # -- reports --------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "measure": self.measure,
            "level": self.level,
            "tau_prior": self.tau_prior.describe(),
            "mu_prior": self.mu_prior.describe(),
            "log_marginal_likelihood": self.log_marginal_likelihood,
            "mu": self.mu.to_dict(),
            "tau": self.tau.to_dict(),
            "theta_new": self.theta_new.to_dict(),
            "p_mu_below_0": self.prob_below(0.0),
            "studies": [
                {"label": lab, "y": float(y), "sigma": float(s), "shrinkage": sh.to_dict()}
                for lab, y, s, sh in zip(
                    self.labels, self.y, self.sigma, self.shrinkage, strict=True
                )
            ],
        }

    def summary(self) -> str:
        """A plain-text report in the layout of bayesmeta's print()."""
        pct = round(self.level * 100)
        lines = [
            f"Bayesian random-effects meta-analysis (k = {self.k}; numerical integration)",
            f"tau prior: {self.tau_prior.describe()};  mu prior: {self.mu_prior.describe()}",
            "",
            f"{'':<14}{'median':>10}{'mean':>10}{'sd':>10}"
            f"{f'{pct}% shortest':>24}{f'{pct}% central':>24}",
        ]
        for name, s in (("mu", self.mu), ("tau", self.tau), ("theta_new", self.theta_new)):
            lines.append(_row(name, s))
        lines += [
            "",
            f"P(mu < 0) = {self.prob_below(0.0):.4f}",
            "",
            "shrinkage estimates (theta_i | data):",
            f"{'study':<28}{'y':>9}{'sigma':>9}{'median':>10}{f'{pct}% shortest':>24}",
        ]
        for lab, y, s, sh in zip(self.labels, self.y, self.sigma, self.shrinkage, strict=True):
            lo, hi = sh.shortest
            lines.append(
                f"{lab[:28]:<28}{y:>9.4f}{s:>9.4f}{sh.median:>10.4f}{f'[{lo:.4f}, {hi:.4f}]':>24}"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def _row(name: str, s: ParameterSummary) -> str:
    sl, sh = s.shortest
    cl, ch = s.central
    return (
        f"{name:<14}{s.median:>10.4f}{s.mean:>10.4f}{s.sd:>10.4f}"
        f"{f'[{sl:.4f}, {sh:.4f}]':>24}{f'[{cl:.4f}, {ch:.4f}]':>24}"
    )


def _conditional(
    y: NDArray[np.float64], s2: NDArray[np.float64], tau: NDArray[np.float64], mu_prior: MuPrior
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """mu | tau, y ~ N(mean, var) and the log marginal likelihood p(y | tau), per tau."""
    v = s2[None, :] + (tau**2)[:, None]
    w = 1.0 / v
    prec = w.sum(axis=1)
    wy = (w * y[None, :]).sum(axis=1)
    if mu_prior.sd is not None:
        p0 = 1.0 / mu_prior.sd**2
        prec = prec + p0
        wy = wy + p0 * mu_prior.mean
    mean = wy / prec
    q = (w * (y[None, :] - mean[:, None]) ** 2).sum(axis=1)
    loglik = -0.5 * np.log(v).sum(axis=1) - 0.5 * np.log(prec) - 0.5 * q
    if mu_prior.sd is not None:
        q0 = (mu_prior.mean - mean) ** 2 / mu_prior.sd**2
        loglik = loglik - 0.5 * q0 - math.log(mu_prior.sd) - 0.5 * y.size * math.log(2 * math.pi)
    else:
        loglik = loglik - 0.5 * (y.size - 1) * math.log(2 * math.pi)
    return mean, 1.0 / prec, loglik


def _log_post_tau(
    y: NDArray[np.float64],
    s2: NDArray[np.float64],
    tau: NDArray[np.float64],
    tau_prior: TauPrior,
    mu_prior: MuPrior,
) -> NDArray[np.float64]:
    tau = np.asarray(tau, dtype=float)
    _, _, loglik = _conditional(y, s2, np.abs(tau), mu_prior)
    return loglik + tau_prior.logpdf(tau)


def _validate(
    y: ArrayLike, sigma: ArrayLike, labels: Sequence[str] | None
) -> tuple[NDArray[np.float64], NDArray[np.float64], list[str]]:
    yy = np.asarray(y, dtype=float).ravel()
    ss = np.asarray(sigma, dtype=float).ravel()
    if yy.size < 1:
        raise ValidationError("y", "needs at least one estimate")
    if yy.shape != ss.shape:
        raise ValidationError("sigma", f"{ss.size} standard errors for {yy.size} estimates")
    if not np.all(np.isfinite(yy)):
        raise ValidationError("y", "every estimate must be a finite number")
    if not np.all(np.isfinite(ss)) or np.any(ss <= 0):
        bad = int(np.flatnonzero(~np.isfinite(ss) | (ss <= 0))[0])
        raise ValidationError("sigma", f"standard error {ss[bad]!r} (study {bad + 1}) must be > 0")
    labs = list(labels) if labels is not None else [f"study {i + 1}" for i in range(yy.size)]
    if len(labs) != yy.size:
        raise ValidationError("labels", f"{len(labs)} labels for {yy.size} studies")
    if len(set(labs)) != len(labs):
        raise ValidationError("labels", "labels must be unique (they name the shrinkage estimates)")
    if any(lab in ("mu", "tau", "theta_new", "predictive") for lab in labs):
        raise ValidationError("labels", "mu, tau, theta_new and predictive are reserved names")
    return yy, ss, labs


def bayes_meta(
    y: ArrayLike,
    sigma: ArrayLike,
    labels: Sequence[str] | None = None,
    tau_prior: TauPrior | None = None,
    mu_prior: MuPrior | None = None,
    level: float = 0.95,
    measure: str = "effect",
) -> BayesMetaResult:
    """Posterior of (mu, tau) for estimates `y` with standard errors `sigma` (not variances).

    Defaults: half-normal(0.5) on tau, flat on mu: the weakly informative choice for
    log odds ratios and SMDs (Friede et al. 2017; Roever 2020 section 2.3).
    """
    yy, ss, labs = _validate(y, sigma, labels)
    tp = tau_prior or TauPrior()
    mp = mu_prior or MuPrior()
    if mp.sd is None and yy.size < 1:
        raise ValidationError("y", "a flat mu prior needs at least one estimate")
    if not 0 < level < 1:
        raise ValidationError("level", f"must be between 0 and 1, got {level!r}")
    s2 = ss**2

    # Scale of the sinh map: resolve tau near 0 finely relative to the data and the prior.
    a = 0.25 * min(float(np.median(ss)), tp.scale)
    u_max = math.asinh(tp.upper / a) if math.isfinite(tp.upper) else 90.0
    scan = np.linspace(0.0, u_max, 1801)
    log_g = _log_post_tau(yy, s2, a * np.sinh(scan), tp, mp) + np.log(a * np.cosh(scan))
    top = float(np.max(log_g))
    if not math.isfinite(top):
        raise ValidationError("y", "the posterior could not be evaluated for these data")
    inside = np.flatnonzero(log_g > top - _LOG_DROP)
    step = scan[1] - scan[0]
    u_lo = max(0.0, float(scan[inside[0]]) - step)
    u_hi = min(u_max, float(scan[inside[-1]]) + step)
    edges = np.linspace(u_lo, u_hi, _PANELS + 1)
    h = edges[1] - edges[0]
    u_nodes = (edges[:-1, None] + h * _GL_X[None, :]).ravel()
    tau_nodes = a * np.sinh(u_nodes)
    mean, var, loglik = _conditional(yy, s2, tau_nodes, mp)
    log_g_nodes = loglik + tp.logpdf(tau_nodes) + np.log(a * np.cosh(u_nodes))
    c = float(np.max(log_g_nodes))
    raw = np.exp(log_g_nodes - c) * np.tile(_GL_W, _PANELS) * h
    z = float(raw.sum())
    weights = raw / z
    log_evidence = c + math.log(z)
    cum = np.concatenate([[0.0], np.cumsum(weights.reshape(_PANELS, -1).sum(axis=1))])
    return BayesMetaResult(
        y=yy,
        sigma=ss,
        labels=labs,
        tau_prior=tp,
        mu_prior=mp,
        level=level,
        tau_nodes=tau_nodes,
        tau_weights=weights,
        cond_mean=mean,
        cond_var=var,
        log_marginal_likelihood=log_evidence,
        measure=measure,
        _a=a,
        _edges=edges,
        _cum=cum,
        _logc=log_evidence,
    )
