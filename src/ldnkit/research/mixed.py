"""Small-sample inference for the random-intercept mixed model that LDN trials are analysed with.

Why this module exists: statsmodels' MixedLM fits the model (REML) but reports Wald z tests,
which reject a true null far too often in trials of 10-24 patients (a simulated null AB/BA
crossover: 8.6% at n = 10, 6.6% at n = 24 instead of 5%). Trial analysis (`analysis.py`),
the power fast path (`fastfit.py`) and the reports all take their p-values and confidence
intervals from here, so `trial power` describes the test `trial analyze` reports.

Two routes, one answer where both apply:

* Complete data in which every patient's design has the same mean (every complete AB/BA
  crossover, the fixed-order baseline-placebo-LDN protocol): the fixed effects are estimated
  within patients, and the contrast's exact distribution is t with N(m - 1) - p degrees of
  freedom (N patients, m summaries each, p fixed effects besides the intercept). For the
  2x2 crossover this is the classical two-sample t-test on period differences with n - 2 df
  (Jones & Kenward 2014, *Design and Analysis of Cross-Over Trials*, 3rd ed., ch. 2). REML
  with Satterthwaite (lmerTest) or Kenward-Roger (SAS) degrees of freedom gives exactly these
  numbers whenever the REML between-patient variance is positive; when REML truncates it at
  zero the exact test is kept (REML's pooled variance would be anti-conservative there) and
  a note says so.
* Anything else (a patient missing a period, unequal numbers of summaries): REML fitted by
  statsmodels MixedLM, and Satterthwaite's degrees of freedom for the contrast,
  df = 2 Var(c'b)^2 / (g' A g), with g the gradient of Var(c'b) in the variance parameters
  (sigma_b^2, sigma_e^2) and A the inverse of the observed REML information, both computed
  analytically (Satterthwaite 1946; Kuznetsova, Brockhoff & Christensen 2017, J Stat Softw
  82(13), the lmerTest method). A variance on the boundary (sigma_b^2 = 0) is held fixed, as
  lmerTest does through its Cholesky parametrisation.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from ldnkit.errors import ValidationError

__all__ = ["Contrast", "RandomInterceptFit", "random_intercept_contrast", "satterthwaite"]

EXACT = "exact within-patient t"
SATTERTHWAITE = "REML, Satterthwaite df"
_BOUNDARY_RATIO = 1e-6  # sigma_b^2 / sigma_e^2 below this is REML's boundary


@dataclass(frozen=True)
class Contrast:
    """One linear contrast of fixed effects with its t reference distribution.

    The typed result trial analysis returns: `p_value` and `conf_int(level)` use t with `df`
    degrees of freedom, never the normal, so intervals and tests agree with the power path."""

    estimate: float
    se: float
    df: float
    method: str = EXACT
    label: str = "ldn - placebo"

    @property
    def statistic(self) -> float:
        """t = estimate / SE."""
        return self.estimate / self.se if self.se > 0 else math.nan

    @property
    def p_value(self) -> float:
        """Two-sided p-value from t with `df` degrees of freedom."""
        if not (self.df > 0 and math.isfinite(self.statistic)):
            return math.nan
        return float(2 * stats.t.sf(abs(self.statistic), self.df))

    def conf_int(self, level: float = 0.95) -> tuple[float, float]:
        """Two-sided t interval at `level` (the same distribution as the test)."""
        if not (isinstance(level, (int, float)) and 0 < level < 1):
            raise ValidationError("level", f"must be between 0 and 1, got {level!r}")
        if not self.df > 0:
            return (math.nan, math.nan)
        crit = float(stats.t.ppf(0.5 + level / 2, self.df))
        return (self.estimate - crit * self.se, self.estimate + crit * self.se)

    def to_dict(self, level: float = 0.95) -> dict[str, Any]:
        lo, hi = self.conf_int(level)
        return {
            "label": self.label,
            "estimate": self.estimate,
            "se": self.se,
            "df": self.df,
            "statistic": self.statistic,
            "p_value": self.p_value,
            "ci_lower": lo,
            "ci_upper": hi,
            "level": level,
            "method": self.method,
        }


@dataclass(frozen=True)
class RandomInterceptFit:
    """REML variance components and one contrast's small-sample inference."""

    contrast: Contrast
    fe_params: dict[str, float]
    sigma2_between: float
    sigma2_within: float
    n_obs: int
    n_groups: int
    boundary: bool
    notes: tuple[str, ...] = field(default=())


def _as_design(
    y: ArrayLike, groups: ArrayLike, x: ArrayLike, contrast: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    yv = np.asarray(y, dtype=float).ravel()
    xm = np.asarray(x, dtype=float)
    if xm.ndim == 1:
        xm = xm[:, None]
    c = np.asarray(contrast, dtype=float).ravel()
    _, gidx = np.unique(np.asarray(groups).ravel(), return_inverse=True)
    if xm.shape[0] != yv.size or gidx.size != yv.size:
        raise ValidationError(
            "x", f"{xm.shape[0]} design rows and {gidx.size} groups for {yv.size} observations"
        )
    if c.size != xm.shape[1]:
        raise ValidationError("contrast", f"{c.size} weights for {xm.shape[1]} fixed effects")
    if not (np.all(np.isfinite(yv)) and np.all(np.isfinite(xm))):
        raise ValidationError("y", "observations and design must be finite numbers")
    return yv, gidx.astype(np.int64), xm, c


def _balanced(gidx: NDArray[np.int64], x: NDArray[np.float64]) -> bool:
    """Every group has the same number of rows and the same design mean."""
    counts = np.bincount(gidx)
    if counts.min() != counts.max() or counts[0] < 2:
        return False
    sums = np.zeros((counts.size, x.shape[1]))
    np.add.at(sums, gidx, x)
    means = sums / counts[:, None]
    return bool(np.allclose(means, means[0], rtol=0, atol=1e-12))


def _exact_within(
    y: NDArray[np.float64], gidx: NDArray[np.int64], x: NDArray[np.float64], c: NDArray[np.float64]
) -> tuple[Contrast, dict[str, float], float, float, bool, float]:
    """Within-patient OLS: the GLS estimate for any variance values, exact t test."""
    n_g = int(gidx.max()) + 1
    m = y.size // n_g
    p = x.shape[1]
    counts = np.full(n_g, m, dtype=float)
    ysum = np.bincount(gidx, weights=y, minlength=n_g)
    xsum = np.zeros((n_g, p))
    np.add.at(xsum, gidx, x)
    ybar = ysum / counts
    xc = x - (xsum / counts[:, None])[gidx]
    yc = y - ybar[gidx]
    df_w = n_g * (m - 1) - p
    xtx = xc.T @ xc
    if df_w <= 0 or np.linalg.matrix_rank(xtx) < p:
        raise ValidationError(
            "design", "too few patients or periods to estimate the treatment effect"
        )
    inv = np.linalg.inv(xtx)
    b = inv @ (xc.T @ yc)
    sse = float(np.sum((yc - xc @ b) ** 2))
    s2e = sse / df_w
    if not s2e > 1e-12 * max(float(np.var(y)), 1e-300) or not np.var(y) > 0:
        raise ValidationError(
            "y", "the summaries leave no residual variation (an exact fit): nothing to test against"
        )
    ssb = float(np.sum((ybar - ybar.mean()) ** 2))
    lam = m * ssb / (n_g - 1) if n_g > 1 else math.inf
    boundary = lam < s2e
    if boundary:
        s2w = (sse + m * ssb) / (df_w + n_g - 1)
        s2b = 0.0
    else:
        s2w, s2b = s2e, (lam - s2e) / m
    est = float(c @ b)
    se = math.sqrt(max(float(c @ inv @ c) * s2e, 0.0))
    reml_se = math.sqrt(max(float(c @ inv @ c) * s2w, 0.0))
    fe = {f"x{j}": float(b[j]) for j in range(p)}
    return Contrast(est, se, float(df_w), EXACT), fe, s2b, s2w, boundary, reml_se


def satterthwaite(
    y: ArrayLike,
    groups: ArrayLike,
    x: ArrayLike,
    contrast: ArrayLike,
    sigma2_between: float,
    sigma2_within: float,
    fix_between: bool = False,
) -> tuple[float, float, float]:
    """(estimate, SE, Satterthwaite df) of `contrast` at given REML variance components.

    `x` is the fixed-effect design WITH its intercept column (`contrast` has a weight for
    it). Derivatives of the REML log-likelihood and of Var(c'b) in (sigma_b^2, sigma_e^2)
    are analytic; `fix_between` treats sigma_b^2 as known (REML on its boundary)."""
    yv, gidx, xm, c = _as_design(y, groups, x, contrast)
    s2b, s2e = float(sigma2_between), float(sigma2_within)
    if not (s2e > 0 and s2b >= 0):
        raise ValidationError("sigma2_within", "variance components must be >= 0 (within > 0)")
    p = xm.shape[1]
    counts = np.bincount(gidx)
    order = np.argsort(gidx, kind="stable")
    ys, xs, gs = yv[order], xm[order], gidx[order]
    # Per-group blocks, batched by group size: A = V^-1, V = s2e I + s2b J.
    blocks = []
    for size in np.unique(counts):
        members = np.flatnonzero(counts == size)
        rows = np.concatenate([np.flatnonzero(gs == g) for g in members])
        yb = ys[rows].reshape(members.size, size)
        xb = xs[rows].reshape(members.size, size, p)
        w = s2b / (s2e + size * s2b)
        a = (np.eye(size) - w * np.ones((size, size))) / s2e
        blocks.append((int(size), yb, xb, a))
    m_mat = np.zeros((p, p))
    xay = np.zeros(p)
    for _, yb, xb, a in blocks:
        ax = np.einsum("ij,gjp->gip", a, xb)
        m_mat += np.einsum("gip,giq->pq", xb, ax)
        xay += np.einsum("gip,ij,gj->p", xb, a, yb)
    cmat = np.linalg.inv(m_mat)
    b = cmat @ xay
    var = float(c @ cmat @ c)
    # Derivative matrices: dV/ds2b = J, dV/ds2e = I.
    names = ("e",) if fix_between else ("b", "e")
    g_mats = {k: np.zeros((p, p)) for k in names}
    tr_w = {(k, ll): 0.0 for k in names for ll in names}
    tr_x = {(k, ll): 0.0 for k in names for ll in names}
    s_vec = {k: np.zeros(p) for k in names}
    uau = {(k, ll): 0.0 for k in names for ll in names}
    for size, yb, xb, a in blocks:
        dv = {"b": np.ones((size, size)), "e": np.eye(size)}
        py = np.einsum("ij,gj->gi", a, yb - np.einsum("gip,p->gi", xb, b))
        ax = np.einsum("ij,gjp->gip", a, xb)
        u = {k: np.einsum("ij,gj->gi", dv[k], py) for k in names}
        for k in names:
            avka = a @ dv[k] @ a
            g_mats[k] += np.einsum("gip,ij,gjq->pq", xb, avka, xb)
            s_vec[k] += np.einsum("gip,gi->p", ax, u[k])
            for ll in names:
                tr_w[k, ll] += xb.shape[0] * float(np.trace(a @ dv[k] @ a @ dv[ll]))
                tr_x[k, ll] += float(
                    np.einsum("gip,ij,jk,kl,glq,qp->", xb, avka, dv[ll], a, xb, cmat, optimize=True)
                )
                uau[k, ll] += float(np.einsum("gi,ij,gj->", u[k], a, u[ll]))
    info = np.zeros((len(names), len(names)))
    grad = np.zeros(len(names))
    for i, k in enumerate(names):
        grad[i] = float(c @ cmat @ g_mats[k] @ cmat @ c)
        for j, ll in enumerate(names):
            tr_pp = (
                tr_w[k, ll]
                - 2 * tr_x[k, ll]
                + float(np.trace(cmat @ g_mats[k] @ cmat @ g_mats[ll]))
            )
            ypppy = uau[k, ll] - float(s_vec[k] @ cmat @ s_vec[ll])
            info[i, j] = -0.5 * tr_pp + ypppy
    if not np.all(np.linalg.eigvalsh(info) > 0):
        # not at a strict maximum (a flat or boundary-adjacent likelihood): the expected
        # information 1/2 tr(P V_k P V_l), always positive definite, as Kenward-Roger uses
        info = np.array(
            [
                [
                    0.5
                    * (
                        tr_w[k, ll]
                        - 2 * tr_x[k, ll]
                        + float(np.trace(cmat @ g_mats[k] @ cmat @ g_mats[ll]))
                    )
                    for ll in names
                ]
                for k in names
            ]
        )
    try:
        acov = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        return float(c @ b), math.sqrt(var), math.nan
    denom = float(grad @ acov @ grad)
    df = 2 * var**2 / denom if denom > 0 else math.nan
    return float(c @ b), math.sqrt(var), df


def _profile_reml(
    y: NDArray[np.float64], gidx: NDArray[np.int64], x: NDArray[np.float64], gamma: float
) -> tuple[float, float]:
    """REML log-likelihood profiled over sigma_e^2 at gamma = sigma_b^2 / sigma_e^2, and the
    sigma_e^2 that maximises it: H_i = I + gamma J, |H_i| = 1 + m_i gamma."""
    counts = np.bincount(gidx).astype(float)
    f = gamma / (1.0 + counts * gamma)
    ysum = np.bincount(gidx, weights=y)
    xsum = np.zeros((counts.size, x.shape[1]))
    np.add.at(xsum, gidx, x)
    m = x.T @ x - (xsum * f[:, None]).T @ xsum
    xy = x.T @ y - (xsum * f[:, None]).T @ ysum
    b = np.linalg.solve(m, xy)
    r = y - x @ b
    rsum = np.bincount(gidx, weights=r)
    rss = float(r @ r - np.sum(f * rsum**2))
    dof = y.size - x.shape[1]
    s2e = rss / dof
    if not s2e > 1e-12 * max(float(np.var(y)), 1e-300):
        raise ValidationError(
            "y", "the summaries leave no residual variation (an exact fit): nothing to test against"
        )
    ll = -0.5 * (
        dof * math.log(s2e) + float(np.sum(np.log1p(counts * gamma))) + np.linalg.slogdet(m)[1]
    )
    return float(ll), s2e


def _gls(
    y: NDArray[np.float64], gidx: NDArray[np.int64], x: NDArray[np.float64], gamma: float
) -> NDArray[np.float64]:
    """GLS fixed effects at variance ratio gamma (the REML estimates at the polished optimum)."""
    counts = np.bincount(gidx).astype(float)
    f = gamma / (1.0 + counts * gamma)
    ysum = np.bincount(gidx, weights=y)
    xsum = np.zeros((counts.size, x.shape[1]))
    np.add.at(xsum, gidx, x)
    m = x.T @ x - (xsum * f[:, None]).T @ xsum
    return np.linalg.solve(m, x.T @ y - (xsum * f[:, None]).T @ ysum)


def _polish(
    y: NDArray[np.float64],
    gidx: NDArray[np.int64],
    x: NDArray[np.float64],
    s2b: float,
    s2e: float,
) -> tuple[float, float]:
    """statsmodels' REML optimum made exact: it can stop short of the boundary (sigma_b^2 a
    tiny positive number) or a little off the maximum, and the Satterthwaite df need the
    true maximum. Profile REML over gamma, starting from statsmodels' value; the boundary
    gamma = 0 wins when its likelihood is at least as high."""
    from scipy import optimize

    g0 = max(s2b, 0.0) / s2e if s2e > 0 else 0.0
    ll0 = _profile_reml(y, gidx, x, 0.0)[0]
    hi = max(10.0 * g0, 10.0)
    best = optimize.minimize_scalar(
        lambda t: -_profile_reml(y, gidx, x, float(np.expm1(t)))[0],
        bounds=(0.0, math.log1p(hi)),
        method="bounded",
        options={"xatol": 1e-12},
    )
    g = float(np.expm1(best.x))
    ll_g = -float(best.fun)
    if g0 > 0:
        ll_sm = _profile_reml(y, gidx, x, g0)[0]
        if ll_sm > ll_g:
            g, ll_g = g0, ll_sm
    if ll0 >= ll_g - 1e-12 or g <= _BOUNDARY_RATIO:
        return 0.0, _profile_reml(y, gidx, x, 0.0)[1]
    return g, _profile_reml(y, gidx, x, g)[1]


def random_intercept_contrast(
    y: ArrayLike,
    groups: ArrayLike,
    x: ArrayLike,
    contrast: ArrayLike,
    names: list[str] | None = None,
    label: str = "ldn - placebo",
) -> RandomInterceptFit:
    """Fit y = a + x b + u_group + e (REML) and test `contrast` of b with small-sample t.

    `x` holds the fixed effects WITHOUT the intercept; `contrast` weights its columns."""
    yv, gidx, xm, c = _as_design(y, groups, x, contrast)
    p = xm.shape[1]
    cols = names or [f"x{j}" for j in range(p)]
    n_g = int(gidx.max()) + 1 if gidx.size else 0
    if n_g < 2:
        raise ValidationError("patient", "the mixed model needs at least 2 patients")
    notes: list[str] = []
    if _balanced(gidx, xm):
        con, fe, s2b, s2w, boundary, reml_se = _exact_within(yv, gidx, xm, c)
        if boundary:
            notes.append(
                "REML puts the between-patient variance at zero; the exact within-patient t "
                f"test is reported (REML's pooled variance would give SE {reml_se:.4g})"
            )
        return RandomInterceptFit(
            Contrast(con.estimate, con.se, con.df, EXACT, label),
            dict(zip(cols, fe.values(), strict=True)),
            s2b,
            s2w,
            yv.size,
            n_g,
            boundary,
            tuple(notes),
        )
    import statsmodels.api as sm

    full = np.column_stack([np.ones(yv.size), xm])
    if np.linalg.matrix_rank(full) < p + 1 or yv.size - p - 1 < 1:
        raise ValidationError("design", "too few observations to estimate the treatment effect")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = sm.MixedLM(yv, full, groups=gidx).fit(
            reml=True, method=["bfgs"], gtol=1e-10, maxiter=2000
        )
    gamma, s2e = _polish(yv, gidx, full, float(np.asarray(res.cov_re)[0, 0]), float(res.scale))
    boundary = gamma == 0.0
    s2b = gamma * s2e
    if boundary:
        notes.append("REML puts the between-patient variance at zero (held fixed for the df)")
    c_full = np.concatenate([[0.0], c])
    est, se, df = satterthwaite(yv, gidx, full, c_full, s2b, s2e, fix_between=boundary)
    fe = dict(zip(cols, (float(v) for v in _gls(yv, gidx, full, gamma)[1:]), strict=True))
    return RandomInterceptFit(
        Contrast(est, se, df, SATTERTHWAITE, label),
        fe,
        s2b,
        s2e,
        yv.size,
        n_g,
        boundary,
        tuple(notes),
    )
