"""Fixed- and random-effects meta-analysis of published trial results.

Why hand-written: statsmodels' `combine_effects` has DL and Paule-Mandel but no REML, no
Q-profile interval for tau^2, no prediction interval and no leave-one-out; metafor (R) is the
reference implementation researchers trust, so every number here follows metafor's definitions
(Viechtbauer 2005, 2007; Viechtbauer 2010, J Stat Softw 36(3)) and the tests reproduce
metafor's published outputs to 4 decimals.

One call, `meta_analysis(yi, vi, ...)`, returns a `MetaResult` that explains itself: estimate,
SE, `conf_int()`, tau^2 with its Q-profile interval, I^2, H^2, Q, prediction interval,
`leave_one_out()`, `summary()`, `to_dict()`, `plot_forest()` and `plot_funnel()`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, stats

from ldnkit.errors import ValidationError

Method = Literal["FE", "DL", "REML", "PM"]
METHODS: tuple[str, ...] = ("FE", "DL", "REML", "PM")

__all__ = [
    "METHODS",
    "LeaveOneOut",
    "MetaResult",
    "StudyEffects",
    "effects_from_table",
    "meta_analysis",
    "q_profile_ci",
    "study_effects",
    "tau2_estimate",
]


# Inverse-variance weights 1/vi beyond these limits overflow sums of w^3 (REML scoring) or
# make every other study's weight vanish below double precision: refuse, naming the study.
_VI_MIN = 1e-100
_VI_MAX = 1e100
_VI_RATIO = 1e12
_Y_MAX = 1e100


def _floats(name: str, values: ArrayLike) -> NDArray[np.float64]:
    """A 1-d float array, or a ValidationError naming the parameter and the study."""
    seq = np.asarray(values, dtype=object).ravel()
    out = np.empty(seq.size)
    for i, val in enumerate(seq):
        if isinstance(val, (bool, np.bool_)):
            raise ValidationError(name, f"study {i + 1}: {val!r} is not a number")
        try:
            out[i] = float(val)
        except (TypeError, ValueError):
            raise ValidationError(name, f"study {i + 1}: {val!r} is not a number") from None
    return out


def _validate(yi: ArrayLike, vi: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    y = _floats("yi", yi)
    v = _floats("vi", vi)
    if y.shape != v.shape:
        raise ValidationError("vi", f"{v.size} variances for {y.size} estimates")
    if y.size < 2:
        raise ValidationError("yi", "a meta-analysis needs at least 2 studies")
    if not np.all(np.isfinite(y)):
        bad = int(np.flatnonzero(~np.isfinite(y))[0])
        raise ValidationError("yi", f"every estimate must be a finite number (study {bad + 1})")
    if np.any(np.abs(y) > _Y_MAX):
        bad = int(np.flatnonzero(np.abs(y) > _Y_MAX)[0])
        raise ValidationError("yi", f"study {bad + 1}: {y[bad]:g} is out of range (|yi| <= 1e100)")
    if not np.all(np.isfinite(v)) or np.any(v < 0):
        bad = int(np.flatnonzero(~np.isfinite(v) | (v < 0))[0])
        raise ValidationError("vi", f"negative or missing variance {v[bad]!r} (study {bad + 1})")
    if np.any(v == 0):
        bad = int(np.flatnonzero(v == 0)[0])
        raise ValidationError(
            "vi", f"a variance of zero gives an infinite weight (study {bad + 1})"
        )
    if v.min() < _VI_MIN or v.max() > _VI_MAX:
        bad = int(np.argmin(v) if v.min() < _VI_MIN else np.argmax(v))
        raise ValidationError(
            "vi", f"study {bad + 1}: variance {v[bad]:g} is outside 1e-100 to 1e100 (check units)"
        )
    if v.max() / v.min() > _VI_RATIO:
        lo, hi = int(np.argmin(v)), int(np.argmax(v))
        raise ValidationError(
            "vi",
            f"study {lo + 1}'s variance {v[lo]:g} is {v[hi] / v[lo]:.3g} times smaller than "
            f"study {hi + 1}'s ({v[hi]:g}); weights more unequal than 1e12 cannot be pooled "
            "reliably in double precision (check the variances' units)",
        )
    return y, v


def _pooled(y: NDArray[np.float64], v: NDArray[np.float64], tau2: float) -> tuple[float, float]:
    w = 1.0 / (v + tau2)
    return float(np.sum(w * y) / np.sum(w)), float(np.sum(w))


def _q_gen(y: NDArray[np.float64], v: NDArray[np.float64], tau2: float) -> float:
    """Generalised Q statistic: sum w_i(tau^2) (y_i - mu(tau^2))^2; decreasing in tau^2."""
    w = 1.0 / (v + tau2)
    mu = np.sum(w * y) / np.sum(w)
    return float(np.sum(w * (y - mu) ** 2))


def _solve_q(y: NDArray[np.float64], v: NDArray[np.float64], target: float) -> float:
    """The tau^2 >= 0 at which the generalised Q equals `target` (0 if Q(0) is already below)."""
    if _q_gen(y, v, 0.0) <= target:
        return 0.0
    hi = max(float(np.var(y, ddof=1)), 1e-8)
    while _q_gen(y, v, hi) > target:
        hi *= 2.0
        if hi > 1e12:
            raise ValidationError("yi", "tau^2 is unbounded for these data")
    return float(optimize.brentq(lambda t: _q_gen(y, v, t) - target, 0.0, hi, xtol=1e-14))


def _reml(y: NDArray[np.float64], v: NDArray[np.float64]) -> tuple[float, float]:
    """REML tau^2 by Fisher scoring (Viechtbauer 2005), and its SE sqrt(2 / tr(P P))."""
    tau2 = max(_dl(y, v), 0.0)
    for _ in range(1000):
        w = 1.0 / (v + tau2)
        sw = w.sum()
        mu = np.sum(w * y) / sw
        tr_p = sw - np.sum(w**2) / sw
        tr_pp = np.sum(w**2) - 2 * np.sum(w**3) / sw + (np.sum(w**2) / sw) ** 2
        ypp_y = np.sum(w**2 * (y - mu) ** 2)
        step = (ypp_y - tr_p) / tr_pp
        new = max(tau2 + step, 0.0)
        if abs(new - tau2) < 1e-12 * max(1.0, tau2):
            tau2 = new
            break
        tau2 = new
    w = 1.0 / (v + tau2)
    sw = w.sum()
    tr_pp = np.sum(w**2) - 2 * np.sum(w**3) / sw + (np.sum(w**2) / sw) ** 2
    return float(tau2), float(math.sqrt(2.0 / tr_pp))


def _dl(y: NDArray[np.float64], v: NDArray[np.float64]) -> float:
    w = 1.0 / v
    q = _q_gen(y, v, 0.0)
    c = w.sum() - np.sum(w**2) / w.sum()
    return float(max(0.0, (q - (y.size - 1)) / c))


def tau2_estimate(yi: ArrayLike, vi: ArrayLike, method: str = "REML") -> float:
    """Between-study variance tau^2 by the named estimator (FE gives 0)."""
    y, v = _validate(yi, vi)
    if not isinstance(method, str):
        raise ValidationError("method", f"must be one of {', '.join(METHODS)}, got {method!r}")
    method = method.upper()
    if method == "FE":
        return 0.0
    if method == "DL":
        return _dl(y, v)
    if method == "PM":
        # Paule-Mandel: the tau^2 that makes the generalised Q equal its expectation k - 1.
        return _solve_q(y, v, y.size - 1.0)
    if method == "REML":
        return _reml(y, v)[0]
    raise ValidationError(
        "method", f"unknown tau^2 estimator {method!r} (use {', '.join(METHODS)})"
    )


def q_profile_ci(yi: ArrayLike, vi: ArrayLike, level: float = 0.95) -> tuple[float, float]:
    """Q-profile confidence interval for tau^2 (Viechtbauer 2007), independent of the estimator."""
    y, v = _validate(yi, vi)
    if not isinstance(level, (int, float)) or isinstance(level, bool) or not 0 < level < 1:
        raise ValidationError("level", f"must be between 0 and 1, got {level!r}")
    df = y.size - 1
    alpha = 1 - level
    lower = _solve_q(y, v, float(stats.chi2.ppf(1 - alpha / 2, df)))
    upper = _solve_q(y, v, float(stats.chi2.ppf(alpha / 2, df)))
    return lower, upper


@dataclass(frozen=True)
class LeaveOneOut:
    """The pooled result with one study left out: does any single trial drive the answer?"""

    omitted: str
    estimate: float
    se: float
    ci_lower: float
    ci_upper: float
    pvalue: float
    tau2: float
    I2: float


@dataclass
class MetaResult:
    """Everything a reader of a meta-analysis needs, statsmodels-style."""

    yi: NDArray[np.float64]
    vi: NDArray[np.float64]
    labels: list[str]
    method: str
    hartung_knapp: bool
    level: float
    estimate: float
    se: float
    statistic: float
    df: int | None
    pvalue: float
    tau2: float
    tau2_se: float | None
    tau2_ci: tuple[float, float]
    I2: float
    I2_ci: tuple[float, float]
    H2: float
    Q: float
    Q_df: int
    Q_pvalue: float
    prediction_interval: tuple[float, float]
    weights: NDArray[np.float64]
    measure: str = "effect"
    extra: dict[str, Any] = field(default_factory=dict)
    hk_adhoc: bool = False  # Hartung-Knapp with the ad hoc variance correction max(1, q)
    notes: list[str] = field(default_factory=list)  # e.g. studies left out, and why

    @property
    def k(self) -> int:
        return int(self.yi.size)

    @property
    def tau(self) -> float:
        return math.sqrt(self.tau2)

    def conf_int(self, level: float | None = None) -> tuple[float, float]:
        """CI for the pooled effect (t_{k-1} under Hartung-Knapp, else normal)."""
        level = self.level if level is None else level
        crit = (
            stats.t.ppf(0.5 + level / 2, self.df)
            if self.df is not None
            else stats.norm.ppf(0.5 + level / 2)
        )
        return (self.estimate - crit * self.se, self.estimate + crit * self.se)

    def leave_one_out(self) -> list[LeaveOneOut]:
        """Refit k times, each without one study, with the same method and adjustment."""
        if self.k < 3:
            raise ValidationError("yi", "leave-one-out needs at least 3 studies")
        out = []
        for i in range(self.k):
            keep = np.arange(self.k) != i
            r = meta_analysis(
                self.yi[keep],
                self.vi[keep],
                labels=[lab for j, lab in enumerate(self.labels) if j != i],
                method=self.method,
                hartung_knapp=self.hartung_knapp,
                level=self.level,
                hk_adhoc=self.hk_adhoc,
            )
            lo, hi = r.conf_int()
            out.append(
                LeaveOneOut(self.labels[i], r.estimate, r.se, lo, hi, r.pvalue, r.tau2, r.I2)
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        lo, hi = self.conf_int()
        return {
            "k": self.k,
            "method": self.method,
            "measure": self.measure,
            "hartung_knapp": self.hartung_knapp,
            "hk_adhoc": self.hk_adhoc,
            "notes": list(self.notes),
            "level": self.level,
            "estimate": self.estimate,
            "se": self.se,
            "ci_lower": lo,
            "ci_upper": hi,
            "statistic": self.statistic,
            "df": self.df,
            "pvalue": self.pvalue,
            "tau2": self.tau2,
            "tau2_se": self.tau2_se,
            "tau2_ci": list(self.tau2_ci),
            "tau": self.tau,
            "I2": self.I2,
            "I2_ci": list(self.I2_ci),
            "H2": self.H2,
            "Q": self.Q,
            "Q_df": self.Q_df,
            "Q_pvalue": self.Q_pvalue,
            "prediction_interval": list(self.prediction_interval),
            "studies": [
                {"label": lab, "yi": float(y), "vi": float(v), "weight_percent": float(w)}
                for lab, y, v, w in zip(self.labels, self.yi, self.vi, self.weights, strict=True)
            ],
        }

    def summary(self) -> str:
        """A plain-text report in the layout researchers know from metafor."""
        model = "Fixed-effect model" if self.method == "FE" else "Random-effects model"
        est = "" if self.method == "FE" else f"; tau^2 estimator: {self.method}"
        lo, hi = self.conf_int()
        stat = f"t({self.df})" if self.df is not None else "z"
        pct = round(self.level * 100)
        lines = [
            f"{model} (k = {self.k}{est}"
            + (
                "; Hartung-Knapp adjustment"
                + (" with ad hoc variance correction max(1, q)" if self.hk_adhoc else "")
                if self.hartung_knapp
                else ""
            )
            + ")",
            "",
        ]
        if self.method != "FE":
            se = f" (SE = {self.tau2_se:.4f})" if self.tau2_se is not None else ""
            lines += [
                f"tau^2: {self.tau2:.4f}{se}  {pct}% CI [{self.tau2_ci[0]:.4f}, "
                f"{self.tau2_ci[1]:.4f}] (Q-profile)",
                f"tau:   {self.tau:.4f}",
            ]
        lines += [
            f"I^2:   {self.I2:.2f}%  {pct}% CI [{self.I2_ci[0]:.2f}, {self.I2_ci[1]:.2f}]",
            f"H^2:   {self.H2:.4f}",
            f"Q(df = {self.Q_df}) = {self.Q:.4f}, p = {self.Q_pvalue:.4g}",
            "",
            f"estimate  {self.estimate:.4f}  SE {self.se:.4f}  {stat} = {self.statistic:.4f}  "
            f"p = {self.pvalue:.4g}",
            f"{pct}% CI [{lo:.4f}, {hi:.4f}]",
        ]
        if self.method != "FE":
            lines.append(
                f"{pct}% prediction interval [{self.prediction_interval[0]:.4f}, "
                f"{self.prediction_interval[1]:.4f}]"
            )
        lines += ["", f"{'study':<32} {'yi':>9} {'se':>8} {'weight':>8}"]
        for lab, y, v, w in zip(self.labels, self.yi, self.vi, self.weights, strict=True):
            lines.append(f"{lab[:32]:<32} {y:>9.4f} {math.sqrt(v):>8.4f} {w:>7.2f}%")
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    # -- plots ------------------------------------------------------------------------------
    def plot_forest(self, path: str | Path | None = None, title: str | None = None) -> Any:
        """Forest plot: each study's CI sized by weight, the pooled diamond and the PI."""
        from ldnkit.research.plots import forest_plot

        return forest_plot(self, path=path, title=title)

    def plot_funnel(self, path: str | Path | None = None, title: str | None = None) -> Any:
        """Funnel plot (estimate vs SE) with pseudo-confidence limits around the pooled effect."""
        from ldnkit.research.plots import funnel_plot

        return funnel_plot(self, path=path, title=title)

    def plot(self, path: str | Path | None = None) -> Any:
        return self.plot_forest(path)


def meta_analysis(
    yi: ArrayLike,
    vi: ArrayLike,
    labels: Sequence[str] | None = None,
    method: str = "REML",
    hartung_knapp: bool = False,
    level: float = 0.95,
    measure: str = "effect",
    hk_adhoc: bool = True,
) -> MetaResult:
    """Pool study estimates `yi` with sampling variances `vi`.

    method: FE (inverse variance, tau^2 = 0), DL (DerSimonian-Laird), REML or PM (Paule-Mandel).
    hartung_knapp: rescale the SE by the weighted residual variance q and use t_{k-1} (Hartung &
    Knapp 2001; metafor's test="knha"), advised when k is small, as it is for LDN.
    hk_adhoc (default): use max(1, q) instead of q, the ad hoc variance correction of Roever,
    Knapp & Friede 2015 (BMC Med Res Methodol 15:99; metafor's test="adhoc"), so the
    Hartung-Knapp interval is never narrower than the normal-theory one. Without it a q below 1
    (studies agreeing more closely than their variances predict, common when tau^2 = 0 and k is
    small) shrinks the interval, and q = 0 (identical estimates) gives SE 0; with
    hk_adhoc=False that case is refused.
    The prediction interval is mu +/- crit * sqrt(tau^2 + SE^2) with the same critical value
    as the CI (metafor's convention).
    """
    y, v = _validate(yi, vi)
    if not isinstance(level, (int, float)) or isinstance(level, bool) or not 0 < level < 1:
        raise ValidationError("level", f"must be between 0 and 1, got {level!r}")
    if not isinstance(method, str):
        raise ValidationError("method", f"must be one of {', '.join(METHODS)}, got {method!r}")
    if not isinstance(hartung_knapp, (bool, np.bool_)):
        raise ValidationError("hartung_knapp", f"must be true or false, got {hartung_knapp!r}")
    if not isinstance(hk_adhoc, (bool, np.bool_)):
        raise ValidationError("hk_adhoc", f"must be true or false, got {hk_adhoc!r}")
    method = method.upper()
    if method not in METHODS:
        raise ValidationError("method", f"unknown method {method!r} (use {', '.join(METHODS)})")
    k = y.size
    labs = (
        [str(lab) for lab in labels] if labels is not None else [f"study {i + 1}" for i in range(k)]
    )
    if len(labs) != k:
        raise ValidationError("labels", f"{len(labs)} labels for {k} studies")

    tau2_se: float | None = None
    if method == "REML":
        tau2, tau2_se = _reml(y, v)
    else:
        tau2 = tau2_estimate(y, v, method)
    mu, sw = _pooled(y, v, tau2)
    w = 1.0 / (v + tau2)
    se = math.sqrt(1.0 / sw)
    df: int | None = None
    if hartung_knapp:
        q = float(np.sum(w * (y - mu) ** 2) / (k - 1))
        if hk_adhoc:
            q = max(1.0, q)
        elif q <= 0:
            raise ValidationError(
                "hartung_knapp",
                "the estimates agree exactly (q = 0), so the unmodified Hartung-Knapp SE is 0; "
                "use the ad hoc correction max(1, q) (hk_adhoc=True, the default)",
            )
        se = math.sqrt(q / sw)
        df = k - 1
    statistic = mu / se
    if df is not None:
        pvalue = float(2 * stats.t.sf(abs(statistic), df))
        crit = float(stats.t.ppf(0.5 + level / 2, df))
    else:
        pvalue = float(2 * stats.norm.sf(abs(statistic)))
        crit = float(stats.norm.ppf(0.5 + level / 2))

    q_fe = _q_gen(y, v, 0.0)
    w0 = 1.0 / v
    s2 = (k - 1) * w0.sum() / (w0.sum() ** 2 - np.sum(w0**2))  # typical within-study variance
    tau2_for_i2 = _dl(y, v) if method == "FE" else tau2
    i2 = 100.0 * tau2_for_i2 / (tau2_for_i2 + s2)
    h2 = (tau2_for_i2 + s2) / s2
    t_lo, t_hi = q_profile_ci(y, v, level)
    i2_ci = (100.0 * t_lo / (t_lo + s2), 100.0 * t_hi / (t_hi + s2))
    half = crit * math.sqrt(tau2 + se**2)
    return MetaResult(
        yi=y,
        vi=v,
        labels=labs,
        method=method,
        hartung_knapp=hartung_knapp,
        level=level,
        estimate=mu,
        se=se,
        statistic=statistic,
        df=df,
        pvalue=pvalue,
        tau2=tau2,
        tau2_se=tau2_se,
        tau2_ci=(t_lo, t_hi),
        I2=float(i2),
        I2_ci=(float(i2_ci[0]), float(i2_ci[1])),
        H2=float(h2),
        Q=q_fe,
        Q_df=k - 1,
        Q_pvalue=float(stats.chi2.sf(q_fe, k - 1)),
        prediction_interval=(mu - half, mu + half),
        weights=100.0 * w / w.sum(),
        measure=measure,
        hk_adhoc=bool(hartung_knapp and hk_adhoc),
    )


_COLUMN_SETS = (
    ("yi", "vi"),
    ("yi", "se"),
    ("estimate", "ci_lower", "ci_upper"),
    ("m1", "sd1", "n1", "m2", "sd2", "n2"),
    ("a", "b", "c", "d"),
)


_MEASURES_FOR = {
    ("m1", "sd1", "n1", "m2", "sd2", "n2"): ("MD", "SMD"),
    ("a", "b", "c", "d"): ("OR", "RR"),
}


@dataclass(frozen=True)
class StudyEffects:
    """Per-study effects read from a table, with the studies left out and why."""

    labels: list[str]
    yi: list[float]
    vi: list[float]
    measure: str
    excluded: list[str] = field(default_factory=list)

    def as_tuple(self) -> tuple[list[str], list[float], list[float], str]:
        return self.labels, self.yi, self.vi, self.measure


def _cell(row: dict[str, Any], col: str, label: str) -> float:
    """One numeric cell, or a ValidationError naming the column and the study."""
    val = row[col]
    try:
        x = float(val)
    except (TypeError, ValueError):
        raise ValidationError(col, f"study {label!r}: {val!r} is not a number") from None
    if not math.isfinite(x):
        raise ValidationError(col, f"study {label!r}: a value is missing or not finite")
    return x


def study_effects(frame: Any) -> StudyEffects:
    """Labels, yi, vi and measure from a table with one of the accepted column sets:
    yi+vi, yi+se, estimate+ci_lower+ci_upper, m1..n2 (MD/SMD by `measure`, default SMD),
    or a,b,c,d counts (OR/RR by `measure`, default OR; 0.5 added to every cell of a study
    with a zero cell, as metafor's escalc; double-zero studies are left out with a note).
    `study` labels the rows. Every bad cell raises a ValidationError naming its column."""
    from ldnkit.research import effect_sizes as es

    cols = set(frame.columns)
    if len(frame) == 0:
        raise ValidationError("csv", "the table has no rows")
    labels = (
        [str(s) for s in frame["study"]]
        if "study" in cols
        else [f"study {i + 1}" for i in range(len(frame))]
    )
    measure = None
    if "measure" in cols and frame["measure"].notna().any():
        measure = str(frame["measure"].dropna().iloc[0]).strip().upper()
    for need in _COLUMN_SETS:
        if set(need) <= cols:
            break
    else:
        wanted = "; ".join("+".join(s) for s in _COLUMN_SETS)
        raise ValidationError(
            "csv", f"missing columns: need one of {wanted} (found {', '.join(sorted(cols))})"
        )
    allowed = _MEASURES_FOR.get(need)
    if allowed is not None and measure is not None:
        measure = measure.removeprefix("LOG").strip()  # "log OR" names the same measure
    if allowed is not None and measure is not None and measure not in allowed:
        raise ValidationError(
            "measure",
            f"unknown measure {measure!r} for {','.join(need)} columns (use {' or '.join(allowed)})",
        )
    rows = frame.to_dict(orient="records")
    ys: list[float] = []
    vs: list[float] = []
    kept: list[str] = []
    excluded: list[str] = []
    for lab, r in zip(labels, rows, strict=True):
        vals = {c: _cell(r, c, lab) for c in need}
        if need == ("yi", "vi"):
            y, v = vals["yi"], vals["vi"]
            if v <= 0:
                raise ValidationError("vi", f"study {lab!r}: variance {v:g} must be positive")
        elif need == ("yi", "se"):
            y, se = vals["yi"], vals["se"]
            if se <= 0:
                raise ValidationError(
                    "se", f"study {lab!r}: standard error {se:g} must be positive"
                )
            v = se**2
        elif need == ("estimate", "ci_lower", "ci_upper"):
            e = es.from_ci(vals["estimate"], vals["ci_lower"], vals["ci_upper"])
            y, v = e.yi, e.vi
        elif need[0] == "m1":
            fn = es.mean_difference if measure == "MD" else es.standardised_mean_difference
            e = fn(vals["m1"], vals["sd1"], vals["n1"], vals["m2"], vals["sd2"], vals["n2"])
            y, v = e.yi, e.vi
        else:
            a, b, c, d = vals["a"], vals["b"], vals["c"], vals["d"]
            if min(a, b, c, d) >= 0 and a + b > 0 and c + d > 0 and es.is_double_zero(a, b, c, d):
                what = "no events" if a == 0 and c == 0 else "only events"
                excluded.append(f"{lab}: {what} in both groups (double-zero study), left out")
                continue
            fn = es.log_risk_ratio if measure == "RR" else es.log_odds_ratio
            try:
                e = fn(a, b, c, d)
            except ValidationError as exc:
                raise ValidationError(exc.field, f"study {lab!r}: {exc.reason}") from None
            y, v = e.yi, e.vi
        ys.append(y)
        vs.append(v)
        kept.append(lab)
    if need[0] == "a":
        out_measure = f"log {measure or 'OR'}"
    elif need[0] == "m1":
        out_measure = measure or "SMD"
    else:
        out_measure = measure or "effect"
    return StudyEffects(kept, ys, vs, out_measure, excluded)


def effects_from_table(frame: Any) -> tuple[list[str], list[float], list[float], str]:
    """Labels, yi, vi and measure from a table (see `study_effects`, which also says which
    studies were left out)."""
    return study_effects(frame).as_tuple()
