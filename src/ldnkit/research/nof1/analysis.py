"""Exact Bayesian analysis of one patient's N-of-1 diary, with the paired t-test beside it.

Model (daily pain y_t on the analysed days of each period, t in study days):

    y_t = level + effect * LDN_t + trend * (t - t_mid) / 7  [+ pair terms] + e_t
    e_t stationary AR(1): corr(e_s, e_t) = phi^|t - s|, var(e_t) = sigma^2

Prior: beta | sigma^2 ~ N(m0, sigma^2 V0) and sigma^2 ~ InvGamma(a0, b0) (normal-inverse-
gamma, conjugate), phi ~ Uniform(phi_lo, phi_hi). Given phi, the Prais-Winsten transform
(exact for any gaps between observed days: row i is divided by sqrt(1 - phi^(2 g_i)) after
subtracting phi^g_i times the previous row) turns the AR(1) errors into independent ones, so
the posterior given phi is NIG in closed form and the marginal likelihood p(y | phi) is exact.
phi is then integrated on a fine grid (midpoint rule), which leaves a mixture of Student-t
distributions for any linear combination of the coefficients: the effect, and effect + 0.3 x
level for "pain at least 30% lower". No sampling, no Monte Carlo error; a NUTS sampler on the
same model (benchmarks/nof1.py, tests) is the check (Schmid & Yang 2022 describe the model
family; Zucker 1997 the use of a prior informed by other patients' trials).

`effect` is pain on LDN minus pain on the comparator: negative means LDN helped.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special

from ldnkit.errors import ValidationError

__all__ = [
    "Nof1Prior",
    "Nof1Result",
    "PairedResult",
    "Series",
    "fit",
    "paired_analysis",
    "series_from_diary",
]

Terms = Literal["none", "trend", "pairs"]
F = NDArray[np.float64]


@dataclass(frozen=True)
class Nof1Prior:
    """Normal-inverse-gamma prior, on the pain scale (0-10 NRS points).

    The effect's prior SD is sqrt(effect_g) x sigma: with the default effect_g = 4 and a
    day-to-day SD near 1.2, about 2.4 points, so the data dominate (weakly informative).
    `label` says where an informed prior came from, and is printed on every report.
    """

    effect_mean: float = 0.0
    effect_g: float = 4.0
    level_mean: float = 5.0
    level_g: float = 100.0
    trend_g: float = 1.0
    a0: float = 2.0
    b0: float = 1.5
    phi_lo: float = -0.5
    phi_hi: float = 0.95
    phi_prior: Literal["uniform", "arcsine"] = "uniform"
    label: str = "weakly informative: effect ~ N(0, (2 sigma)^2)"

    def __post_init__(self) -> None:
        for name in ("effect_g", "level_g", "trend_g", "a0", "b0"):
            if not getattr(self, name) > 0:
                raise ValidationError(f"prior.{name}", "must be greater than zero")
        if not -1 < self.phi_lo < self.phi_hi < 1:
            raise ValidationError("prior.phi_lo", "need -1 < phi_lo < phi_hi < 1")
        if self.phi_prior not in ("uniform", "arcsine"):
            raise ValidationError("prior.phi_prior", "must be 'uniform' or 'arcsine'")

    def log_phi_density(self, phi: F) -> F:
        """Unnormalised log prior density of phi on [phi_lo, phi_hi]."""
        if self.phi_prior == "arcsine":
            return -0.5 * np.log1p(-phi * phi)
        return np.zeros_like(phi)

    @classmethod
    def informed(
        cls, pooled_mean: float, pooled_sd: float, sigma_ref: float, source: str
    ) -> Nof1Prior:
        """A prior centred on the clinic's pooled N-of-1 effect (Zucker 1997).

        In the conjugate form the effect's prior SD scales with sigma; `sigma_ref` (a typical
        day-to-day SD in the clinic's trials) turns the pooled SD into that scale.
        """
        if pooled_sd <= 0 or sigma_ref <= 0:
            raise ValidationError("prior", "pooled_sd and sigma_ref must be greater than zero")
        return cls(
            effect_mean=pooled_mean,
            effect_g=(pooled_sd / sigma_ref) ** 2,
            label=f"informed by {source}: effect ~ N({pooled_mean:.2f}, {pooled_sd:.2f}^2) "
            f"at sigma {sigma_ref:.2f}",
        )

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Series:
    """The analysed days of one trial: study day, pain, LDN indicator, pair (1-based)."""

    day: NDArray[np.int64]
    pain: F
    ldn: F
    pair: NDArray[np.int64]

    def __post_init__(self) -> None:
        n = len(self.day)
        if not (len(self.pain) == len(self.ldn) == len(self.pair) == n):
            raise ValidationError("series", "day, pain, ldn and pair must have the same length")
        if n and np.any(np.diff(self.day) <= 0):
            raise ValidationError("series.day", "days must be strictly increasing")
        if not np.all(np.isfinite(self.pain)):
            raise ValidationError("series.pain", "pain must be finite (drop missing days)")

    @classmethod
    def of(cls, day: ArrayLike, pain: ArrayLike, ldn: ArrayLike, pair: ArrayLike) -> Series:
        d = np.asarray(day, dtype=np.int64)
        order = np.argsort(d, kind="stable")
        return cls(
            d[order],
            np.asarray(pain, dtype=float)[order],
            np.asarray(ldn, dtype=float)[order],
            np.asarray(pair, dtype=np.int64)[order],
        )


def _design_matrix(s: Series, terms: Terms) -> tuple[F, list[str]]:
    cols = [np.ones(len(s.day)), s.ldn]
    names = ["level", "effect"]
    if terms == "trend":
        mid = 0.5 * (s.day[0] + s.day[-1])
        cols.append((s.day - mid) / 7.0)
        names.append("trend_per_week")
    elif terms == "pairs":
        pairs = np.unique(s.pair)
        last = pairs[-1]
        for p in pairs[:-1]:  # sum-to-zero coding keeps `level` the average over pairs
            cols.append((s.pair == p).astype(float) - (s.pair == last).astype(float))
            names.append(f"pair_{p}")
    return np.column_stack(cols), names


@dataclass(frozen=True)
class PairedResult:
    """The frequentist paired analysis: per-pair mean differences, t-test and 95% CI."""

    differences: tuple[float, ...]
    mean: float
    ci95: tuple[float, float]
    p_value: float
    df: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "differences": list(self.differences),
            "mean": self.mean,
            "ci95": list(self.ci95),
            "p_value": self.p_value,
            "df": self.df,
        }


def paired_analysis(s: Series) -> PairedResult | None:
    """Mean pain on LDN minus comparator within each pair; one-sample t over pairs.

    None when fewer than two pairs have data in both periods (no variance to test with).
    """
    diffs = []
    for p in np.unique(s.pair):
        sel = s.pair == p
        on, off = s.pain[sel & (s.ldn == 1)], s.pain[sel & (s.ldn == 0)]
        if on.size and off.size:
            diffs.append(float(on.mean() - off.mean()))
    if len(diffs) < 2:
        return None
    d = np.asarray(diffs)
    k = d.size
    mean, sd = float(d.mean()), float(d.std(ddof=1))
    if sd == 0:
        return PairedResult(tuple(diffs), mean, (mean, mean), 0.0 if mean else 1.0, k - 1)
    # The one-sample t-test written out (scipy.stats.ttest_1samp gives the same numbers,
    # checked in the tests) because it runs inside the calibration loop.
    se = sd / math.sqrt(k)
    half = float(special.stdtrit(k - 1, 0.975)) * se
    p = float(2.0 * special.stdtr(k - 1, -abs(mean) / se))
    return PairedResult(tuple(diffs), mean, (mean - half, mean + half), p, k - 1)


@dataclass(frozen=True)
class _TMix:
    """A mixture of Student-t distributions (one per grid point of phi)."""

    w: F
    loc: F
    scale: F
    df: float

    def cdf(self, x: float) -> float:
        return float(np.dot(self.w, special.stdtr(self.df, (x - self.loc) / self.scale)))

    @property
    def mean(self) -> float:
        return float(np.dot(self.w, self.loc))

    @property
    def sd(self) -> float:
        var = self.scale**2 * self.df / (self.df - 2.0) if self.df > 2 else np.inf * self.scale
        m = self.mean
        return float(math.sqrt(max(np.dot(self.w, var + self.loc**2) - m * m, 0.0)))

    def quantile(self, q: float) -> float:
        m, s = self.mean, max(self.sd, 1e-12)
        lo, hi = m - 6 * s, m + 6 * s
        while self.cdf(lo) > q:
            lo -= 6 * s
        while self.cdf(hi) < q:
            hi += 6 * s
        return float(optimize.brentq(lambda x: self.cdf(x) - q, lo, hi, xtol=1e-9))


@dataclass(frozen=True)
class Nof1Result:
    """Posterior of one patient's LDN effect, explained in the statsmodels style."""

    effect_mean: float
    effect_sd: float
    ci95: tuple[float, float]
    p_benefit: float  # P(effect < 0)
    p_goal: float  # P(effect <= -goal_points)
    p_relative: float  # P(pain on LDN at least `relative` lower than on the comparator)
    goal_points: float
    relative: float
    level_mean: float
    phi_mean: float
    sigma_mean: float
    n_days: int
    terms: str
    coef_names: tuple[str, ...]
    coef_mean: tuple[float, ...]
    prior: Nof1Prior
    paired: PairedResult | None
    phi_grid: F = field(repr=False)
    phi_weights: F = field(repr=False)

    @property
    def benefit_mean(self) -> float:
        """Points of pain LDN took away (positive = helped)."""
        return -self.effect_mean

    def to_dict(self) -> dict[str, Any]:
        return {
            "effect_mean": self.effect_mean,
            "effect_sd": self.effect_sd,
            "ci95": list(self.ci95),
            "p_benefit": self.p_benefit,
            "p_goal": self.p_goal,
            "p_relative": self.p_relative,
            "goal_points": self.goal_points,
            "relative": self.relative,
            "level_mean": self.level_mean,
            "phi_mean": self.phi_mean,
            "sigma_mean": self.sigma_mean,
            "n_days": self.n_days,
            "terms": self.terms,
            "coefficients": dict(zip(self.coef_names, self.coef_mean, strict=True)),
            "prior": self.prior.to_dict(),
            "paired": self.paired.to_dict() if self.paired else None,
        }

    def summary(self) -> str:
        lo, hi = self.ci95
        lines = [
            "N-of-1 analysis: pain on LDN minus comparator (negative = LDN helped)",
            f"  posterior mean {self.effect_mean:+.2f} (SD {self.effect_sd:.2f}), "
            f"95% credible interval {lo:+.2f} to {hi:+.2f}",
            f"  P(benefit) {self.p_benefit:.3f}; P(benefit >= {self.goal_points:g} point) "
            f"{self.p_goal:.3f}; P(pain >= {100 * self.relative:.0f}% lower) "
            f"{self.p_relative:.3f}",
            f"  days analysed {self.n_days}; AR(1) phi {self.phi_mean:.2f}; "
            f"sigma {self.sigma_mean:.2f}; terms {self.terms}",
            f"  prior: {self.prior.label}",
        ]
        if self.paired:
            p = self.paired
            lines.append(
                f"  paired t-test over {p.df + 1} pairs: mean {p.mean:+.2f}, 95% CI "
                f"{p.ci95[0]:+.2f} to {p.ci95[1]:+.2f}, p = {p.p_value:.3f}"
            )
        return "\n".join(lines)


@functools.lru_cache(maxsize=8)
def _legendre(n: int) -> tuple[F, F]:
    return np.polynomial.legendre.leggauss(n)


def _grid(prior: Nof1Prior, n: int) -> tuple[F, F]:
    """Gauss-Legendre nodes and weights on [phi_lo, phi_hi] (the uniform prior's support).

    p(y | phi) is smooth inside the support, so n = 64 nodes integrate it far below the
    Monte Carlo error of any sampler (the tests compare with 400 nodes)."""
    x, w = _legendre(n)
    half = 0.5 * (prior.phi_hi - prior.phi_lo)
    return prior.phi_lo + half * (x + 1.0), w * half


def _prior_arrays(pr: Nof1Prior, terms: Terms, p: int) -> tuple[F, F]:
    """Prior scale factors (diagonal of V0) and means of the coefficients."""
    g0 = np.full(p, 1.0)
    g0[0], g0[1] = pr.level_g, pr.effect_g
    if terms == "trend":
        g0[2] = pr.trend_g
    m0 = np.zeros(p)
    m0[0], m0[1] = pr.level_mean, pr.effect_mean
    return g0, m0


def _conditional_posteriors(
    s: Series, x: F, pr: Nof1Prior, g0: F, m0: F, phi: F
) -> tuple[F, F, F, F, float, F]:
    """For each phi: log p(y | phi) and the NIG posterior (m_n, Lambda_n, a_n, b_n).

    Exact for any gaps between diary days (Prais-Winsten with gap-dependent weights and the
    transform's Jacobian), vectorised over the phi values.
    """
    n, p = x.shape
    gaps = np.diff(s.day).astype(float)  # (n-1,)
    r = phi[:, None] ** gaps[None, :]  # (G, n-1)
    sd = np.sqrt(1.0 - r * r)
    ys = np.empty((phi.size, n))
    ys[:, 0] = s.pain[0]
    ys[:, 1:] = (s.pain[None, 1:] - r * s.pain[None, :-1]) / sd
    xs = np.empty((phi.size, n, p))
    xs[:, 0, :] = x[0]
    xs[:, 1:, :] = (x[None, 1:, :] - r[:, :, None] * x[None, :-1, :]) / sd[:, :, None]
    log_jac = -np.sum(np.log(sd), axis=1)
    lam0 = np.diag(1.0 / g0)
    xtx = np.einsum("gni,gnj->gij", xs, xs)
    xty = np.einsum("gni,gn->gi", xs, ys)
    yty = np.einsum("gn,gn->g", ys, ys)
    lam_n = xtx + lam0
    chol = np.linalg.cholesky(lam_n)
    rhs = xty + lam0 @ m0
    m_n = np.linalg.solve(lam_n, rhs[..., None])[..., 0]
    a_n = pr.a0 + 0.5 * n
    b_n = pr.b0 + 0.5 * (yty + m0 @ lam0 @ m0 - np.einsum("gi,gi->g", m_n, rhs))
    logdet_n = 2.0 * np.sum(np.log(np.diagonal(chol, axis1=1, axis2=2)), axis=1)
    logml = (
        -0.5 * n * math.log(2 * math.pi)
        - 0.5 * float(np.sum(np.log(g0)))
        - 0.5 * logdet_n
        + pr.a0 * math.log(pr.b0)
        - a_n * np.log(b_n)
        + special.gammaln(a_n)
        - special.gammaln(pr.a0)
        + log_jac
    )
    return logml, m_n, lam_n, rhs, a_n, b_n


def fit(
    series: Series,
    prior: Nof1Prior | None = None,
    terms: Terms = "trend",
    goal_points: float = 1.0,
    relative: float = 0.30,
    grid_points: int = 64,
) -> Nof1Result:
    """The exact posterior of the effect (vectorised over the phi grid; about a millisecond)."""
    pr = prior or Nof1Prior()
    s = series
    if terms not in ("none", "trend", "pairs"):
        raise ValidationError("terms", "must be 'none', 'trend' or 'pairs'")
    if goal_points <= 0:
        raise ValidationError("goal_points", "must be greater than zero")
    if not 0 < relative < 1:
        raise ValidationError("relative", "must be a fraction between 0 and 1")
    n = len(s.day)
    if n < 6:
        raise ValidationError("diary", f"only {n} analysed diary days; need at least 6")
    if not (np.any(s.ldn == 1) and np.any(s.ldn == 0)):
        raise ValidationError("diary", "need analysed days on both packs")
    x, names = _design_matrix(s, terms)
    p = x.shape[1]
    if n <= p + 1:
        raise ValidationError("diary", f"{n} days are too few for {p} coefficients")
    if not 8 <= grid_points <= 2000:
        raise ValidationError("grid_points", "must be 8 to 2000")
    phi, quad = _grid(pr, grid_points)  # (G,)
    g0, m0 = _prior_arrays(pr, terms, p)
    logml, m_n, lam_n, _, a_n, b_n = _conditional_posteriors(s, x, pr, g0, m0, phi)
    logpost = logml + pr.log_phi_density(phi)
    w = quad * np.exp(logpost - logpost.max())
    w /= w.sum()
    cov_unit = np.linalg.inv(lam_n)  # (G, p, p): posterior covariance / (bn/an)
    dof = 2.0 * a_n
    scale2 = b_n / a_n

    def mix(c: F) -> _TMix:
        loc = m_n @ c
        var = scale2 * np.einsum("i,gij,j->g", c, cov_unit, c)
        return _TMix(w, loc, np.sqrt(var), dof)

    e = np.zeros(p)
    e[1] = 1.0
    eff = mix(e)
    rel = e.copy()
    rel[0] = relative  # effect + relative x level <= 0  <=>  LDN pain <= (1 - relative) x level
    paired = paired_analysis(s)
    return Nof1Result(
        effect_mean=eff.mean,
        effect_sd=eff.sd,
        ci95=(eff.quantile(0.025), eff.quantile(0.975)),
        p_benefit=eff.cdf(0.0),
        p_goal=eff.cdf(-goal_points),
        p_relative=mix(rel).cdf(0.0),
        goal_points=goal_points,
        relative=relative,
        level_mean=float(w @ m_n[:, 0]),
        phi_mean=float(w @ phi),
        sigma_mean=float(
            w @ np.sqrt(b_n) * math.exp(special.gammaln(a_n - 0.5) - special.gammaln(a_n))
        ),
        n_days=n,
        terms=terms,
        coef_names=tuple(names),
        coef_mean=tuple(float(v) for v in w @ m_n),
        prior=pr,
        paired=paired,
        phi_grid=phi,
        phi_weights=w,
    )


def series_from_diary(design: Any, allocation: Any, pain_by_date: Mapping[Any, float]) -> Series:
    """The analysed days of a trial from its design, its (unsealed) allocation and the diary.

    Run-in and each period's washout days are left out; so are days without a diary entry.
    `ldn` is 1 on the test dose's pack and 0 on the comparator's.
    """
    days, pain, ldn, pair = [], [], [], []
    for when, value in pain_by_date.items():
        if value is None:
            continue
        info = design.day_info(when)
        if info.stage != "period" or not info.analysed:
            continue
        days.append(info.day)
        pain.append(float(value))
        ldn.append(1.0 if allocation.is_ldn(info.period) else 0.0)
        pair.append(info.period.pair)
    return Series.of(days, pain, ldn, pair)
