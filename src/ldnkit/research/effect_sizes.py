"""Effect sizes and their sampling variances from published trial summaries.

Meta-analysis pools numbers that papers print (means and SDs, event counts, a confidence
interval, a p-value); this module turns each of those into one (estimate, variance) pair on a
scale where pooling is valid. The formulas are the textbook large-sample ones (Borenstein et al.
2009, *Introduction to Meta-Analysis*, ch. 4-7; Hedges & Olkin 1985) so the results match what
metafor's `escalc` produces for the same inputs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import special, stats

from ldnkit.errors import ValidationError

__all__ = [
    "EffectSize",
    "from_ci",
    "from_p_paired",
    "hedges_correction",
    "is_double_zero",
    "log_odds_ratio",
    "log_risk_ratio",
    "mean_difference",
    "standardised_mean_difference",
]


@dataclass(frozen=True)
class EffectSize:
    """One study's estimate `yi` with sampling variance `vi` on the pooling scale."""

    yi: float
    vi: float
    measure: str

    @property
    def se(self) -> float:
        return math.sqrt(self.vi)

    def conf_int(self, level: float = 0.95) -> tuple[float, float]:
        z = stats.norm.ppf(0.5 + _level(level) / 2)
        return (self.yi - z * self.se, self.yi + z * self.se)


def _number(name: str, value: object) -> float:
    """A finite float, or a ValidationError naming the parameter (never a raw ValueError)."""
    if isinstance(value, bool):
        raise ValidationError(name, f"must be a number, got {value!r}")
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValidationError(name, f"must be a number, got {value!r}") from None
    if not math.isfinite(x):
        raise ValidationError(name, f"must be a finite number, got {value!r}")
    return x


def _positive(name: str, value: object) -> float:
    x = _number(name, value)
    if x <= 0:
        raise ValidationError(name, f"must be a positive number, got {value!r}")
    return x


def _nonneg(name: str, value: object) -> float:
    x = _number(name, value)
    if x < 0:
        raise ValidationError(name, f"must be zero or more, got {value!r}")
    return x


def _level(level: object) -> float:
    x = _number("level", level)
    if not 0 < x < 1:
        raise ValidationError("level", f"must be between 0 and 1, got {level!r}")
    return x


def mean_difference(m1: float, sd1: float, n1: int, m2: float, sd2: float, n2: int) -> EffectSize:
    """Raw mean difference (group 1 minus group 2): the natural scale when all trials share
    an instrument, e.g. a 0-10 pain NRS. Variance uses the unpooled SDs."""
    m1, m2 = _number("m1", m1), _number("m2", m2)
    sd1, sd2 = _nonneg("sd1", sd1), _nonneg("sd2", sd2)
    n1, n2 = _positive("n1", n1), _positive("n2", n2)
    vi = sd1**2 / n1 + sd2**2 / n2
    if vi == 0:
        raise ValidationError("sd1", "both SDs are zero: the difference has no variance")
    return EffectSize(m1 - m2, vi, "MD")


def hedges_correction(df: float) -> float:
    """Exact small-sample bias factor J(df) for Cohen's d (Hedges 1981).

    Uses the gamma-function form rather than the 1 - 3/(4df - 1) approximation, as metafor
    does, so small LDN trials (n around 10-30) are corrected exactly.
    """
    df = _positive("df", df)
    return float(
        math.exp(special.gammaln(df / 2) - 0.5 * math.log(df / 2) - special.gammaln((df - 1) / 2))
    )


def standardised_mean_difference(
    m1: float, sd1: float, n1: int, m2: float, sd2: float, n2: int
) -> EffectSize:
    """Hedges' g (bias-corrected SMD, group 1 minus group 2) with the large-sample variance
    1/n1 + 1/n2 + g^2 / (2 (n1 + n2)); needed when trials measure pain on different scales."""
    m1, m2 = _number("m1", m1), _number("m2", m2)
    sd1, sd2 = _positive("sd1", sd1), _positive("sd2", sd2)
    n1, n2 = _positive("n1", n1), _positive("n2", n2)
    if n1 + n2 <= 2:
        raise ValidationError("n1", "n1 + n2 must exceed 2 to pool the SDs")
    df = n1 + n2 - 2
    sp = math.sqrt(((n1 - 1) * sd1**2 + (n2 - 1) * sd2**2) / df)
    g = hedges_correction(df) * (m1 - m2) / sp
    return EffectSize(g, 1 / n1 + 1 / n2 + g**2 / (2 * (n1 + n2)), "SMD")


def is_double_zero(a: float, b: float, c: float, d: float) -> bool:
    """No events (or only events) in both groups: the study carries no information on a
    relative measure (OR, RR), so meta-analyses leave it out (Cochrane Handbook 6.5,
    section 10.4.4.2; the R package meta's default, incr applied only with allstudies=TRUE)."""
    return (a == 0 and c == 0) or (b == 0 and d == 0)


def _counts(a: object, b: object, c: object, d: object, add: object) -> tuple[float, ...]:
    """Validated 2x2 cells with metafor's default continuity correction (escalc add = 1/2,
    to = "only0": added to every cell of a study that has a zero cell)."""
    a, b, c, d = (_nonneg(n, v) for n, v in zip(("a", "b", "c", "d"), (a, b, c, d), strict=True))
    add = _nonneg("add", add)
    if a + b == 0:
        raise ValidationError("a", "group 1 has no patients (a + b = 0)")
    if c + d == 0:
        raise ValidationError("c", "group 2 has no patients (c + d = 0)")
    if is_double_zero(a, b, c, d):
        what = "no events" if a == 0 and c == 0 else "only events"
        raise ValidationError(
            "a" if a == 0 and c == 0 else "b",
            f"{what} in both groups: a ratio is not estimable (double-zero study; "
            "meta-analyses leave such studies out)",
        )
    if 0 in (a, b, c, d):
        if add == 0:
            raise ValidationError(
                "add", "a zero cell needs a continuity correction > 0 (metafor's default 0.5)"
            )
        return a + add, b + add, c + add, d + add
    return a, b, c, d


def log_risk_ratio(a: float, b: float, c: float, d: float, add: float = 0.5) -> EffectSize:
    """log RR from a 2x2 table: a/b events/non-events in group 1, c/d in group 2."""
    a, b, c, d = _counts(a, b, c, d, add)
    yi = math.log((a / (a + b)) / (c / (c + d)))
    return EffectSize(yi, 1 / a - 1 / (a + b) + 1 / c - 1 / (c + d), "RR")


def log_odds_ratio(a: float, b: float, c: float, d: float, add: float = 0.5) -> EffectSize:
    """log OR from a 2x2 table (Woolf variance), e.g. responder counts LDN vs placebo."""
    a, b, c, d = _counts(a, b, c, d, add)
    return EffectSize(math.log((a * d) / (b * c)), 1 / a + 1 / b + 1 / c + 1 / d, "OR")


def from_ci(
    estimate: float, lower: float, upper: float, level: float = 0.95, measure: str = "MD"
) -> EffectSize:
    """Recover the SE from a published symmetric confidence interval: SE = width / (2 z)."""
    estimate = _number("estimate", estimate)
    lower, upper = _number("ci_lower", lower), _number("ci_upper", upper)
    level = _level(level)
    if not lower <= estimate <= upper:
        raise ValidationError("ci", f"estimate {estimate} is not inside [{lower}, {upper}]")
    z = stats.norm.ppf(0.5 + level / 2)
    se = (upper - lower) / (2 * z)
    if se <= 0:
        raise ValidationError("ci", f"a zero-width interval [{lower}, {upper}] has no variance")
    return EffectSize(float(estimate), se**2, measure)


def from_p_paired(p: float, n: int, favours_treatment: bool = True) -> EffectSize:
    """Within-subject standardised effect d_z from a crossover's two-sided p-value and n.

    When a crossover paper reports only a p-value, t = t_{n-1}^{-1}(1 - p/2) and d_z = t /
    sqrt(n) (Lakens 2013); variance 1/n + d_z^2 / (2n). The sign is negative when the
    treatment lowered pain. An approximation: say so wherever it is used.
    """
    p = _number("p", p)
    if not 0 < p <= 1:
        raise ValidationError("p", f"must be in (0, 1], got {p!r}")
    n = _positive("n", n)
    if n < 2:
        raise ValidationError("n", "a paired comparison needs at least 2 participants")
    t = stats.t.ppf(1 - p / 2, n - 1)
    dz = t / math.sqrt(n)
    dz = -dz if favours_treatment else dz
    return EffectSize(dz, 1 / n + dz**2 / (2 * n), "SMD")
