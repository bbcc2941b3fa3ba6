"""Randomisation lists: permuted blocks, optionally stratified, reproducible from a seed.

Blocks of randomly chosen sizes (each a multiple of the number of arms) keep allocation
balanced throughout recruitment while hiding the block end from investigators; strata (e.g.
baseline ESR high/low, site) each get their own independent list. A seeded
`numpy.random.Generator` makes the list reproducible for the trial master file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ldnkit.bounds import check_int, check_seed
from ldnkit.errors import ValidationError
from ldnkit.research.designs import Design

__all__ = ["Allocation", "n_of_1_orders", "randomisation_list"]


@dataclass(frozen=True)
class Allocation:
    number: int  # position within the stratum's list, 1-based
    stratum: str
    block: int
    block_size: int
    arm: str


MAX_PER_STRATUM = 1_000_000  # larger lists are a typing error, not a trial


def randomisation_list(
    design: Design,
    n_per_stratum: int,
    strata: Sequence[str] = ("all",),
    block_sizes: Sequence[int] = (2, 4),
    seed: int = 0,
) -> list[Allocation]:
    """Allocations to the design's sequences/arms, `n_per_stratum` in each stratum."""
    if not isinstance(design, Design):
        raise ValidationError("design", f"must be a Design, got {type(design).__name__}")
    n_per_stratum = check_int("n_per_stratum", n_per_stratum, None, MAX_PER_STRATUM)
    seed = check_seed("seed", seed)
    if isinstance(strata, (str, bytes)):
        raise ValidationError("strata", "give a list of stratum names")
    strata = [str(s) for s in strata]
    if isinstance(block_sizes, (str, bytes)):
        raise ValidationError("block_sizes", "give a list of block sizes")
    block_sizes = [check_int("block_sizes", b, 1, 1000) for b in block_sizes]
    arms = [s.name for s in design.sequences]
    k = len(arms)
    if k < 2:
        raise ValidationError("design", f"{design.id!r} has one sequence; nothing to randomise")
    if n_per_stratum < 1:
        raise ValidationError("n_per_stratum", "must be at least 1")
    if not block_sizes or any(b < k or b % k for b in block_sizes):
        raise ValidationError(
            "block_sizes", f"each block size must be a positive multiple of {k} arms"
        )
    if len(set(strata)) != len(strata):
        raise ValidationError("strata", "stratum names must be unique")
    rng = np.random.default_rng(seed)
    out: list[Allocation] = []
    for stratum in strata:
        number, block = 0, 0
        while number < n_per_stratum:
            size = int(rng.choice(block_sizes))
            block += 1
            content = np.repeat(arms, size // k)
            rng.shuffle(content)
            for arm in content:
                number += 1
                out.append(Allocation(number, stratum, block, size, str(arm)))
                if number == n_per_stratum:
                    break
    return out


def n_of_1_orders(cycles: int, seed: int = 0) -> list[str]:
    """For an N-of-1 trial: the order within each cycle ("LDN first" / "placebo first")."""
    cycles = check_int("cycles", cycles, None, 1000)
    seed = check_seed("seed", seed)
    if cycles < 1:
        raise ValidationError("cycles", "must be at least 1")
    rng = np.random.default_rng(seed)
    return ["LDN first" if b else "placebo first" for b in rng.integers(0, 2, size=cycles)]
