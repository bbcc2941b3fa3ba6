"""Closed-form random-intercept mixed model for many trials at once (the power fast path).

Derivation. Each patient i contributes m period summaries y_i = a + X_i b + u_i 1 + e_i,
u_i ~ N(0, s_b^2), e_i ~ N(0, s_e^2 I). When the patient-mean of every column of X_i is the
same for all patients (true for any complete crossover: each patient has one period 1, one
period 2, one LDN and one placebo summary), split y_i into its mean and deviations:

* within stratum: y_i - ybar_i = (X_i - Xbar) b + (e_i - ebar_i), variance s_e^2 (I - J/m):
  b is estimated by OLS on patient-centred data and carries ALL the information on b,
  because the patient means ybar_i = a + xbar b + u_i + ebar_i have the same expectation
  for every patient and so only estimate the intercept;
* between stratum: ybar_i has variance lambda / m with lambda = s_e^2 + m s_b^2.

The restricted likelihood factorises over the strata, so REML gives
s_e^2 = SSE_within / (N(m-1) - p) and lambda = m SS_between / (N - 1); when lambda < s_e^2
the boundary s_b^2 = 0 applies and s^2 = (SSE_within + m SS_between) / (N(m-1) - p + N - 1).
The GLS estimate of b equals the within OLS estimate (for any variance values) and
Var(b) = s_e^2 (Xc' Xc)^-1. This is exactly what statsmodels MixedLM (REML) returns on
complete balanced data; the tests check it to 1e-6. Tests use t with the within degrees of
freedom N(m-1) - p, exact for this balanced design, and the same `research.mixed` inference
`trial analyze` reports: REML + Satterthwaite gives these very df whenever REML's s_b^2 > 0.
At the REML boundary (s_b^2 = 0) the SE keeps the within-patient s_e^2, so the test stays
the exact t (REML's pooled variance with those df would reject a true null too often);
`sigma2_within` still reports REML's pooled value there.

Patients with a missing summary are dropped trial by trial (complete-case analysis; the
per-trial X'X is then recomputed, so the closed form stays exact for the completers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from ldnkit.bounds import check_int
from ldnkit.errors import ValidationError
from ldnkit.research.mixed import EXACT, Contrast

__all__ = ["FastFit", "ancova_fit", "within_fit"]


@dataclass
class FastFit:
    """Per-trial estimate of one contrast with SE, df, t, p (vectorised over trials)."""

    estimate: NDArray[np.float64]
    se: NDArray[np.float64]
    df: NDArray[np.float64]
    n_used: NDArray[np.int64]
    sigma2_within: NDArray[np.float64]
    sigma2_between: NDArray[np.float64]
    method: str = EXACT  # the reference distribution's name, as `Contrast.method`

    @property
    def t(self) -> NDArray[np.float64]:
        return self.estimate / self.se

    @property
    def pvalue(self) -> NDArray[np.float64]:
        return 2 * stats.t.sf(np.abs(self.t), self.df)

    def conf_int(self, level: float = 0.95) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Per-trial t intervals for the contrast."""
        with np.errstate(invalid="ignore"):
            crit = stats.t.ppf(0.5 + level / 2, self.df)
        return self.estimate - crit * self.se, self.estimate + crit * self.se

    def contrast(self, trial: int = 0, label: str = "ldn - placebo") -> Contrast:
        """One trial's result as the typed `Contrast` that `trial analyze` reports."""
        trial = check_int("trial", trial, 0, self.estimate.size - 1)
        return Contrast(
            float(self.estimate[trial]),
            float(self.se[trial]),
            float(self.df[trial]),
            self.method,
            label,
        )

    def reject(self, alpha: float = 0.05) -> NDArray[np.bool_]:
        ok = np.isfinite(self.se) & (self.df > 0)
        return ok & (self.pvalue < alpha)


def within_fit(
    y: NDArray[np.float64], x: NDArray[np.float64], contrast: NDArray[np.float64]
) -> FastFit:
    """REML random-intercept fit of `y[trial, patient, summary]` on the within-patient design
    `x[patient, summary, p]` (no intercept column); returns the `contrast` of b."""
    y = np.asarray(y, dtype=float)
    x = np.asarray(x, dtype=float)
    c = np.asarray(contrast, dtype=float)
    if y.ndim != 3 or x.ndim != 3 or y.shape[1:] != x.shape[:2]:
        raise ValidationError("y", f"shape {y.shape} does not match design {x.shape}")
    m = y.shape[2]
    p = x.shape[2]
    xbar = x.mean(axis=1)  # (N, p)
    if not np.allclose(xbar, xbar[0]):
        raise ValidationError(
            "design", "patient means of the design differ: the closed form does not apply"
        )
    xc = x - xbar[:, None, :]
    ok = np.all(np.isfinite(y), axis=2)  # (T, N) complete patients
    yz = np.where(ok[:, :, None], y, 0.0)
    ybar = yz.mean(axis=2)
    yc = np.where(ok[:, :, None], yz - ybar[:, :, None], 0.0)
    okf = ok.astype(float)
    xtx = np.einsum("tn,nmp,nmq->tpq", okf, xc, xc)
    xty = np.einsum("nmp,tnm->tp", xc, yc)
    n_used = ok.sum(axis=1)
    df_w = n_used * (m - 1) - p
    good = df_w > 0
    xtx_safe = np.where(good[:, None, None], xtx, np.eye(p)[None])
    inv = np.linalg.inv(xtx_safe)
    b = np.einsum("tpq,tq->tp", inv, xty)
    resid = yc - np.einsum("nmp,tp->tnm", xc, b) * ok[:, :, None]
    sse = np.sum(resid**2, axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        s2e = sse / df_w
        grand = np.sum(ybar * okf, axis=1) / n_used
        ssb = np.sum(((ybar - grand[:, None]) ** 2) * okf, axis=1)
        df_b = n_used - 1
        lam = np.where(df_b > 0, m * ssb / np.maximum(df_b, 1), np.inf)
        boundary = lam < s2e
        s2 = np.where(boundary, (sse + m * ssb) / (df_w + df_b), s2e)
        s2b = np.where(boundary, 0.0, (lam - s2e) / m)
        var = np.einsum("p,tpq,q->t", c, inv, c) * s2e
        se = np.where(good, np.sqrt(var), np.nan)
    return FastFit(
        estimate=np.where(good, b @ c, np.nan),
        se=se,
        df=np.where(good, df_w, 0).astype(float),
        n_used=n_used,
        sigma2_within=s2,
        sigma2_between=s2b,
    )


def ancova_fit(
    end: NDArray[np.float64], baseline: NDArray[np.float64], arm: NDArray[np.float64]
) -> FastFit:
    """ANCOVA for a parallel trial, per trial: end ~ 1 + arm + baseline (OLS, exact)."""
    end = np.asarray(end, dtype=float)
    baseline = np.asarray(baseline, dtype=float)
    t_, n = end.shape
    ok = np.isfinite(end) & np.isfinite(baseline)
    okf = ok.astype(float)
    xs = np.stack(
        [np.ones((t_, n)), np.broadcast_to(arm, (t_, n)), np.where(ok, baseline, 0.0)], axis=2
    )
    xs = xs * okf[:, :, None]
    yv = np.where(ok, end, 0.0)
    xtx = np.einsum("tnp,tnq->tpq", xs, xs)
    xty = np.einsum("tnp,tn->tp", xs, yv)
    n_used = ok.sum(axis=1)
    df = n_used - 3
    good = df > 0
    xtx = np.where(good[:, None, None], xtx, np.eye(3)[None])
    try:
        inv = np.linalg.inv(xtx)
    except np.linalg.LinAlgError as exc:  # pragma: no cover - needs both arms in every trial
        raise ValidationError("arm", "a simulated trial has an empty arm") from exc
    b = np.einsum("tpq,tq->tp", inv, xty)
    resid = (yv - np.einsum("tnp,tp->tn", xs, b)) * okf
    with np.errstate(invalid="ignore", divide="ignore"):
        s2 = np.sum(resid**2, axis=1) / df
        se = np.where(good, np.sqrt(inv[:, 1, 1] * s2), np.nan)
    return FastFit(
        estimate=np.where(good, b[:, 1], np.nan),
        se=se,
        df=np.where(good, df, 0).astype(float),
        n_used=n_used,
        sigma2_within=s2,
        sigma2_between=np.zeros(t_),
        method="OLS t (ANCOVA)",
    )
