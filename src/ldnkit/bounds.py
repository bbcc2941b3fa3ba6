"""Input bounds shared by the research and pharmacology entry points.

Why: a public function handed a float where a count belongs, NaN, a negative seed or a size
that cannot fit in memory used to fail deep inside numpy with a message naming the wrong
thing (or not fail at all, and exhaust the machine). These checks run first and raise
`ValidationError` naming the caller's parameter; shells turn that into HTTP 422 / one CLI line.

Memory: `check_memory` compares an estimate of the bytes a call will hold at once with a
limit, `DEFAULT_MEMORY_LIMIT_BYTES` unless the caller passes another; the CLI reads
`LDNKIT_MEMORY_LIMIT_BYTES` (the core never reads the environment).
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from ldnkit.errors import ValidationError

__all__ = [
    "DEFAULT_MEMORY_LIMIT_BYTES",
    "MAX_SEED",
    "check_int",
    "check_memory",
    "check_probability",
    "check_real",
    "check_seed",
    "format_bytes",
]

DEFAULT_MEMORY_LIMIT_BYTES = 4 * 2**30
MAX_SEED = 2**128 - 1


def check_int(name: str, value: Any, lo: int | None = None, hi: int | None = None) -> int:
    """An integer (not a bool, not 2.5) within [lo, hi]."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        if isinstance(value, float) and value.is_integer() and math.isfinite(value):
            value = int(value)
        else:
            raise ValidationError(name, f"must be a whole number, got {value!r}")
    v = int(value)
    if lo is not None and v < lo:
        raise ValidationError(name, f"must be at least {lo:,}, got {v:,}")
    if hi is not None and v > hi:
        raise ValidationError(name, f"must be at most {hi:,}, got {v:,}")
    return v


def check_real(
    name: str,
    value: Any,
    lo: float | None = None,
    hi: float | None = None,
    lo_open: bool = False,
    hi_open: bool = False,
) -> float:
    """A finite number within the bounds (open or closed)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.floating)):
        raise ValidationError(name, f"must be a number, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ValidationError(name, f"must be a finite number, got {value!r}")
    if lo is not None and (v < lo or (lo_open and v == lo)):
        raise ValidationError(name, f"must be {'>' if lo_open else '>='} {lo:g}, got {v:g}")
    if hi is not None and (v > hi or (hi_open and v == hi)):
        raise ValidationError(name, f"must be {'<' if hi_open else '<='} {hi:g}, got {v:g}")
    return v


def check_probability(name: str, value: Any) -> float:
    """A level or error rate strictly between 0 and 1."""
    return check_real(name, value, 0.0, 1.0, lo_open=True, hi_open=True)


def check_seed(name: str, value: Any) -> Any:
    """A seed numpy's SeedSequence accepts: an integer 0 .. 2^128 - 1 (or a SeedSequence)."""
    if isinstance(value, np.random.SeedSequence):
        return value
    return check_int(name, value, 0, MAX_SEED)


def format_bytes(n: float) -> str:
    """Human-readable size (GiB, MiB ...)."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:,.1f} {unit}" if unit != "B" else f"{int(n):,} B"
        n /= 1024
    return f"{n:.3g} EiB"  # pragma: no cover


def check_memory(name: str, estimate_bytes: float, limit_bytes: int | None, what: str) -> None:
    """Refuse up front a call whose working memory would exceed the limit."""
    limit = DEFAULT_MEMORY_LIMIT_BYTES if limit_bytes is None else limit_bytes
    check_int("memory_limit_bytes", limit, 1)
    if estimate_bytes > limit:
        raise ValidationError(
            name,
            f"{what} needs about {format_bytes(estimate_bytes)} of memory, over the limit of "
            f"{format_bytes(limit)} (LDNKIT_MEMORY_LIMIT_BYTES / memory_limit_bytes)",
        )
