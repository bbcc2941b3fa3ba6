"""Trial sequential analysis (TSA) of a cumulative meta-analysis, as the Copenhagen TSA / RTSA.

Why: a pooled p-value recomputed every time a trial is added is a repeated significance test;
with the handful of small LDN trials a "significant" pool can be a random high (Wetterslev et
al. 2008, J Clin Epidemiol 61:64-75). TSA asks how much information a meta-analysis needs (the
required information size, RIS, inflated for heterogeneity by the diversity D^2; Wetterslev et
al. 2009, BMC Med Res Methodol 9:86) and monitors the cumulative Z-curve against Lan-DeMets
O'Brien-Fleming alpha-spending boundaries (Lan & DeMets 1983, Biometrika 70:659), optionally
with beta-spending futility boundaries.

Boundaries come from the recursive numerical integration of Armitage, McPherson & Rowe (1969,
J R Stat Soc A 132:235) in the form of Jennison & Turnbull (2000, ch. 19): the sub-density of
the score statistic B(t) = Z(t) sqrt(t) on the continuation region is carried from look to look
by convolving with the normal increment, here with composite 8-point Gauss-Legendre rules whose
panels are narrower than the increment's SD. No maintained PyPI package computes spending-function
boundaries for arbitrary information fractions (checked 2026-12), so this is hand-written and
checked against Jennison & Turnbull's tabulated constants and a Monte Carlo of Brownian motion.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special

from ldnkit.errors import ValidationError

__all__ = [
    "Look",
    "TSAResult",
    "diversity",
    "exit_probabilities",
    "obf_spending",
    "required_information_size",
    "required_information_size_binary",
    "spending_boundaries",
    "trial_sequential_analysis",
]

_GL_X, _GL_W = np.polynomial.legendre.leggauss(8)
_GL_X = (_GL_X + 1.0) / 2.0
_GL_W = _GL_W / 2.0
_FAR = 12.0  # a bound this many SDs out stands for "no bound"

Conclusion = Literal["benefit", "harm", "futility", "no effect of the assumed size", "inconclusive"]


def _z(p: float) -> float:
    return float(-special.ndtri(p))  # upper-tail quantile, accurate for tiny p


def _check_error_rates(alpha: float, beta: float | None, side: int) -> None:
    if not 0 < alpha < 1:
        raise ValidationError("alpha", f"must be between 0 and 1, got {alpha}")
    if beta is not None and not 0 < beta < 1:
        raise ValidationError("beta", f"must be between 0 and 1, got {beta}")
    if side not in (1, 2):
        raise ValidationError("side", f"must be 1 or 2, got {side}")


def obf_spending(t: ArrayLike, alpha: float = 0.05) -> NDArray[np.float64]:
    """Lan-DeMets O'Brien-Fleming-type spending: alpha*(t) = 2 - 2 Phi(z_{1-alpha/2} / sqrt t).

    `alpha` is the error spent by t = 1 on one side; a two-sided test at level a spends
    a/2 on each side with this function (RTSA's and gsDesign's sfLDOF convention).
    """
    tt = np.clip(np.asarray(t, dtype=float), 0.0, 1.0)
    out = np.zeros_like(tt)
    pos = tt > 0
    out[pos] = 2.0 * special.ndtr(-_z(alpha / 2.0) / np.sqrt(tt[pos]))
    return out


def required_information_size(
    delta: float,
    sd: float = 1.0,
    alpha: float = 0.05,
    beta: float = 0.2,
    side: int = 2,
    diversity: float = 0.0,
) -> float:
    """Participants (1:1, both groups) needed to detect a mean difference `delta` (SD `sd`).

    RIS = 4 (z_{1-alpha/side} + z_{1-beta})^2 sd^2 / delta^2, divided by (1 - D^2) for
    heterogeneity (Wetterslev 2009). On the SMD scale sd = 1.
    """
    _check_error_rates(alpha, beta, side)
    if not (math.isfinite(delta) and delta != 0):
        raise ValidationError("delta", "the minimal relevant difference must be non-zero")
    if not sd > 0:
        raise ValidationError("sd", f"must be positive, got {sd}")
    if not 0 <= diversity < 1:
        raise ValidationError("diversity", f"D^2 must be in [0, 1), got {diversity}")
    z = _z(alpha / side) + _z(beta)
    return 4.0 * z**2 * sd**2 / delta**2 / (1.0 - diversity)


def required_information_size_binary(
    p_control: float,
    rrr: float,
    alpha: float = 0.05,
    beta: float = 0.2,
    side: int = 2,
    diversity: float = 0.0,
) -> float:
    """RIS for a binary outcome: control risk and a relative risk reduction (TSA's inputs).

    RIS = 4 (z_a + z_b)^2 p(1 - p) / (p_c - p_e)^2 with p the mean of the two risks.
    """
    _check_error_rates(alpha, beta, side)
    if not 0 < p_control < 1:
        raise ValidationError("p_control", f"must be a proportion in (0, 1), got {p_control}")
    p_e = p_control * (1.0 - rrr)
    if not (0 < p_e < 1) or rrr == 0:
        raise ValidationError("rrr", f"gives an intervention risk of {p_e:.4g}")
    if not 0 <= diversity < 1:
        raise ValidationError("diversity", f"D^2 must be in [0, 1), got {diversity}")
    p = (p_control + p_e) / 2.0
    z = _z(alpha / side) + _z(beta)
    return 4.0 * z**2 * p * (1 - p) / (p_control - p_e) ** 2 / (1.0 - diversity)


def diversity(yi: ArrayLike, vi: ArrayLike) -> float:
    """D^2 = (v_R - v_F) / v_R: the share of the random-effects variance of the pooled estimate
    that heterogeneity adds (DerSimonian-Laird tau^2, as TSA)."""
    from ldnkit.research.meta import meta_analysis

    fe = meta_analysis(yi, vi, method="FE")
    re = meta_analysis(yi, vi, method="DL")
    return float(max(0.0, 1.0 - fe.se**2 / re.se**2))


# -- recursive integration --------------------------------------------------------------------
def _nodes(lo: float, hi: float, width: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Composite Gauss-Legendre nodes/weights on [lo, hi] with panels no wider than `width`."""
    m = max(4, math.ceil((hi - lo) / width))
    edges = np.linspace(lo, hi, m + 1)
    h = edges[1] - edges[0]
    x = (edges[:-1, None] + h * _GL_X[None, :]).ravel()
    w = np.tile(_GL_W * h, m)
    return x, w


class _Walker:
    """Carries the sub-density of B(t) over the continuation region from look to look."""

    def __init__(self, drift: float) -> None:
        self.drift = drift
        self.t = 0.0
        self.x: NDArray[np.float64] | None = None  # B values
        self.f: NDArray[np.float64] | None = None  # sub-density times quadrature weight

    def exit(self, t: float, z_lo: float, z_hi: float) -> tuple[float, float]:
        """P(still going, and Z(t) <= z_lo) and P(still going, and Z(t) >= z_hi)."""
        s = math.sqrt(t)
        if self.x is None:
            m, sd = self.drift * t, s
            return float(special.ndtr((z_lo * s - m) / sd)), float(
                special.ndtr(-(z_hi * s - m) / sd)
            )
        d = t - self.t
        sd = math.sqrt(d)
        m = self.x + self.drift * d
        lo = float(np.sum(self.f * special.ndtr((z_lo * s - m) / sd)))
        hi = float(np.sum(self.f * special.ndtr(-(z_hi * s - m) / sd)))
        return lo, hi

    def advance(self, t: float, z_lo: float, z_hi: float, next_gap: float) -> None:
        """Condition on continuing at t: keep the density on (z_lo, z_hi) in Z units."""
        s = math.sqrt(t)
        width = 0.25 * math.sqrt(min(next_gap, t if self.x is None else t - self.t))
        x, w = _nodes(z_lo * s, z_hi * s, width)
        if self.x is None:
            dens = np.exp(-0.5 * ((x - self.drift * t) / s) ** 2) / (s * math.sqrt(2 * math.pi))
        else:
            d = t - self.t
            sd = math.sqrt(d)
            k = (x[:, None] - self.x[None, :] - self.drift * d) / sd
            dens = (np.exp(-0.5 * k * k) / (sd * math.sqrt(2 * math.pi))) @ self.f
        self.x, self.f, self.t = x, dens * w, t


def _solve_upper(walker: _Walker, t: float, target: float, two_sided: bool) -> float:
    """The Z bound c with P(cross at t) = target (both tails when two-sided, symmetric)."""
    mult = 2.0 if two_sided else 1.0
    if target <= 1e-14:
        return min(_z(max(target, 1e-300) / mult), 40.0)

    def spent(c: float) -> float:
        lo, hi = walker.exit(t, -c if two_sided else -math.inf, c)
        return (lo if two_sided else 0.0) + hi - target

    hi_c = 40.0
    if spent(0.0) < 0:  # cannot spend that much here: the whole region already exits
        return 0.0
    return float(optimize.brentq(spent, 0.0, hi_c, xtol=1e-10))


def spending_boundaries(
    info: Sequence[float],
    alpha: float = 0.05,
    side: int = 2,
    beta: float | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64] | None]:
    """Lan-DeMets O'Brien-Fleming efficacy bounds (and, with `beta`, non-binding beta-spending
    futility bounds) at information fractions `info` (increasing, last <= 1).

    Efficacy bounds are +-c_k (two-sided) or +c_k (one-sided); the futility bound b_k is on the
    benefit side (continue while b_k < Z_k < c_k), computed under the drift that gives power
    1 - beta at t = 1, and meets c at t = 1.
    """
    _check_error_rates(alpha, beta, side)
    t = np.asarray(info, dtype=float)
    if t.ndim != 1 or t.size == 0 or np.any(t <= 0) or np.any(np.diff(t) <= 0) or t[-1] > 1:
        raise ValidationError("info", "information fractions must increase within (0, 1]")
    two = side == 2
    cum = side * obf_spending(t, alpha / side)  # each side spends alpha/side (as RTSA, gsDesign)
    gaps = np.append(np.diff(t), t[-1])
    walker = _Walker(0.0)
    c = np.empty(t.size)
    prev = 0.0
    for k, tk in enumerate(t):
        c[k] = _solve_upper(walker, float(tk), float(cum[k] - prev), two)
        prev = float(cum[k])
        walker.advance(float(tk), -c[k] if two else -_FAR, c[k], float(gaps[k]))
    if beta is None:
        return c, None

    theta = _z(alpha / side) + _z(beta)  # drift at t = 1 under the assumed effect
    bspend = obf_spending(t, beta)
    walker = _Walker(theta)
    b = np.empty(t.size)
    prev = 0.0
    for k, tk in enumerate(t):
        target = float(bspend[k] - prev)
        prev = float(bspend[k])
        floor = -c[k] if two else theta * math.sqrt(tk) - _FAR
        if math.isclose(tk, 1.0):
            b[k] = c[k]
        elif target <= 1e-14:
            b[k] = floor
        else:

            def fut(bk: float, tk: float = float(tk), target: float = target) -> float:
                return walker.exit(tk, bk, c[k])[0] - target  # noqa: B023

            lo_b = floor
            if fut(c[k]) <= 0:
                b[k] = c[k]
            elif fut(lo_b) >= 0:
                b[k] = lo_b
            else:
                b[k] = float(optimize.brentq(fut, lo_b, c[k], xtol=1e-10))
        b[k] = max(b[k], floor)
        if b[k] < c[k]:
            walker.advance(float(tk), b[k], c[k], float(gaps[k]))
    return c, b


def exit_probabilities(
    info: Sequence[float],
    upper: Sequence[float],
    lower: Sequence[float] | None = None,
    drift: float = 0.0,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per-look probabilities of first leaving through the lower / upper bound.

    `lower` defaults to -upper (symmetric two-sided). `drift` is E[Z(1)]. This is the
    Armitage-McPherson-Rowe recursion itself, exposed so boundaries can be checked and power
    computed.
    """
    t = np.asarray(info, dtype=float)
    up = np.asarray(upper, dtype=float)
    lo = -up if lower is None else np.asarray(lower, dtype=float)
    if not (t.shape == up.shape == lo.shape):
        raise ValidationError("info", "info, upper and lower need the same length")
    gaps = np.append(np.diff(t), t[-1])
    walker = _Walker(drift)
    p_lo, p_hi = np.empty(t.size), np.empty(t.size)
    for k, tk in enumerate(t):
        p_lo[k], p_hi[k] = walker.exit(float(tk), float(lo[k]), float(up[k]))
        walker.advance(float(tk), float(max(lo[k], -_FAR - abs(drift))), float(up[k]), gaps[k])
    return p_lo, p_hi


# -- the analysis ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Look:
    """The cumulative meta-analysis after one more trial, against its boundaries."""

    label: str
    year: int | None
    participants: int
    info_fraction: float
    estimate: float
    se: float
    z: float
    boundary: float  # efficacy bound: benefit or harm once |z| reaches it
    futility: float | None  # on z's scale: z on the no-benefit side of it means futility
    crossed: str | None

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass
class TSAResult:
    """Trial sequential analysis: RIS, diversity, the Z-curve and the conclusion."""

    looks: list[Look]
    ris: float
    ris_unadjusted: float
    diversity: float
    alpha: float
    beta: float
    side: int
    delta: float
    model: str
    benefit: str
    conclusion: Conclusion
    measure: str = "effect"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def participants(self) -> int:
        return self.looks[-1].participants if self.looks else 0

    @property
    def info_fraction(self) -> float:
        return self.participants / self.ris

    def to_dict(self) -> dict[str, Any]:
        return {
            "ris": self.ris,
            "ris_unadjusted": self.ris_unadjusted,
            "diversity": self.diversity,
            "alpha": self.alpha,
            "beta": self.beta,
            "side": self.side,
            "delta": self.delta,
            "model": self.model,
            "benefit": self.benefit,
            "measure": self.measure,
            "participants": self.participants,
            "info_fraction": self.info_fraction,
            "conclusion": self.conclusion,
            "looks": [lk.to_dict() for lk in self.looks],
        }

    def summary(self) -> str:
        lines = [
            f"Trial sequential analysis ({self.model} pooling; Lan-DeMets O'Brien-Fleming, "
            f"alpha {self.alpha:g} {'two' if self.side == 2 else 'one'}-sided, power "
            f"{1 - self.beta:.0%})",
            f"minimal relevant effect {self.delta:g} ({self.measure}); D^2 = "
            f"{self.diversity:.1%}; RIS {math.ceil(self.ris_unadjusted)} -> "
            f"{math.ceil(self.ris)} participants after the heterogeneity adjustment",
            f"accrued {self.participants} participants = {self.info_fraction:.1%} of the RIS",
            "",
            f"{'trial':<28}{'year':>6}{'N':>7}{'t':>8}{'estimate':>10}{'Z':>8}"
            f"{'bound':>10}{'futility':>10}",
        ]
        for lk in self.looks:
            bound = f"+-{lk.boundary:.3f}" if self.side == 2 else f"{lk.boundary:.3f}"
            fut = f"{lk.futility:.3f}" if lk.futility is not None else "-"
            lines.append(
                f"{lk.label[:28]:<28}{lk.year or '':>6}{lk.participants:>7}"
                f"{lk.info_fraction:>8.3f}{lk.estimate:>10.4f}{lk.z:>8.3f}{bound:>10}{fut:>10}"
                + (f"  crossed: {lk.crossed}" if lk.crossed else "")
            )
        lines += [
            "",
            f"benefit is a {self.benefit} Z; futility: z on the no-benefit side of the bound",
            f"conclusion: {self.conclusion}",
        ]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def trial_sequential_analysis(
    yi: ArrayLike,
    vi: ArrayLike,
    participants: Sequence[int],
    delta: float,
    labels: Sequence[str] | None = None,
    years: Sequence[int | None] | None = None,
    sd: float = 1.0,
    alpha: float = 0.05,
    beta: float = 0.2,
    side: int = 2,
    model: str = "DL",
    diversity_value: float | None = None,
    futility: bool = False,
    benefit: Literal["negative", "positive"] = "negative",
    measure: str = "effect",
) -> TSAResult:
    """Cumulative meta-analysis in publication order, monitored by TSA boundaries.

    Trials are ordered by `years` (undated ones last, ties in the given order). Information is
    the accrued number of participants over the heterogeneity-adjusted RIS, as in TSA; D^2
    comes from all trials (DerSimonian-Laird) unless `diversity_value` is given. `benefit`
    says which sign favours the intervention (negative for pain scores). Past the RIS the
    final boundary is the one at t = 1 (all alpha spent).
    """
    from ldnkit.research.meta import meta_analysis

    y = np.asarray(yi, dtype=float).ravel()
    v = np.asarray(vi, dtype=float).ravel()
    n = [int(x) for x in participants]
    k = y.size
    if k < 1 or v.size != k or len(n) != k:
        raise ValidationError("participants", "need one yi, vi and participant count per trial")
    if not np.all(np.isfinite(y)) or not np.all(np.isfinite(v)) or np.any(v <= 0):
        raise ValidationError("vi", "estimates must be finite and variances positive")
    if any(x <= 0 for x in n):
        raise ValidationError("participants", "every trial needs a positive participant count")
    if model.upper() not in ("FE", "DL", "REML", "PM"):
        raise ValidationError("model", f"unknown pooling model {model!r}")
    if benefit not in ("negative", "positive"):
        raise ValidationError("benefit", "use 'negative' or 'positive'")
    labs = list(labels) if labels is not None else [f"trial {i + 1}" for i in range(k)]
    yrs = list(years) if years is not None else [None] * k
    if len(labs) != k or len(yrs) != k:
        raise ValidationError("labels", "one label and one year per trial")
    order = sorted(range(k), key=lambda i: (yrs[i] is None, yrs[i] or 0, i))
    y, v = y[order], v[order]
    n = [n[i] for i in order]
    labs = [labs[i] for i in order]
    yrs = [yrs[i] for i in order]

    if diversity_value is None:
        d2 = diversity(y, v) if k >= 2 and model.upper() != "FE" else 0.0
    else:
        d2 = float(diversity_value)
    ris0 = required_information_size(delta, sd, alpha, beta, side, 0.0)
    ris = required_information_size(delta, sd, alpha, beta, side, d2)

    cum_n = np.cumsum(n)
    t_all = cum_n / ris
    # boundaries at the looks up to and including the first one that reaches the RIS
    reach = np.flatnonzero(t_all >= 1.0)
    last = int(reach[0]) if reach.size else k - 1
    t_b = np.minimum(t_all[: last + 1], 1.0)
    keep = np.concatenate([np.diff(t_b) > 1e-9, [True]])  # merge looks at the same information
    t_used = t_b[keep]
    c, b = spending_boundaries(t_used, alpha, side, beta if futility else None)
    idx = np.cumsum(keep) - 1  # boundary index for each look up to `last`
    sign = -1.0 if benefit == "negative" else 1.0

    looks: list[Look] = []
    conclusion: Conclusion = "inconclusive"
    for i in range(k):
        if i == 0:
            est, se = float(y[0]), math.sqrt(float(v[0]))
        else:
            r = meta_analysis(y[: i + 1], v[: i + 1], method=model.upper())
            est, se = r.estimate, r.se
        z = est / se
        zb = sign * z  # positive = towards benefit
        if i <= last:
            j = int(idx[i])
            bound, fut = float(c[j]), (float(b[j]) if b is not None else None)
        else:
            bound, fut = float(c[-1]), (float(b[-1]) if b is not None else None)
        if fut is not None and (fut <= -bound or math.isclose(fut, -bound)):
            fut = None  # no futility region at this look yet
        crossed = None
        if zb >= bound:
            crossed = "benefit"
        elif side == 2 and zb <= -bound:
            crossed = "harm"
        elif fut is not None and zb <= fut:
            crossed = "futility"
        if crossed and conclusion == "inconclusive":
            conclusion = crossed  # type: ignore[assignment]
        fut_raw = None if fut is None else sign * fut  # on the scale of z
        looks.append(
            Look(
                labs[i], yrs[i], int(cum_n[i]), float(t_all[i]), est, se, z, bound, fut_raw, crossed
            )
        )
    if conclusion == "inconclusive" and t_all[-1] >= 1.0:
        conclusion = "no effect of the assumed size"
    return TSAResult(
        looks=looks,
        ris=ris,
        ris_unadjusted=ris0,
        diversity=d2,
        alpha=alpha,
        beta=beta,
        side=side,
        delta=delta,
        model=model.upper(),
        benefit=benefit,
        conclusion=conclusion,
        measure=measure,
    )
