"""Research tools: trial designs, Monte Carlo simulation and power, trial analysis, meta-analysis.

Pure computation: no clock, no network; random numbers come from a seeded
`numpy.random.Generator` so every simulation is reproducible.
"""

from ldnkit.research.effect_sizes import (
    EffectSize,
    from_ci,
    from_p_paired,
    log_odds_ratio,
    log_risk_ratio,
    mean_difference,
    standardised_mean_difference,
)
from ldnkit.research.meta import LeaveOneOut, MetaResult, meta_analysis

__all__ = [
    "EffectSize",
    "LeaveOneOut",
    "MetaResult",
    "from_ci",
    "from_p_paired",
    "log_odds_ratio",
    "log_risk_ratio",
    "mean_difference",
    "meta_analysis",
    "standardised_mean_difference",
]
