"""Research tools: trial designs, Monte Carlo simulation and power, trial analysis, meta-analysis.

Pure computation: no clock, no network; random numbers come from a seeded
`numpy.random.Generator` so every simulation is reproducible.
"""

from ldnkit.research.bayesmeta import BayesMetaResult, MuPrior, TauPrior, bayes_meta
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
from ldnkit.research.tsa import TSAResult, trial_sequential_analysis

__all__ = [
    "BayesMetaResult",
    "EffectSize",
    "LeaveOneOut",
    "MetaResult",
    "MuPrior",
    "TSAResult",
    "TauPrior",
    "bayes_meta",
    "from_ci",
    "from_p_paired",
    "log_odds_ratio",
    "log_risk_ratio",
    "mean_difference",
    "meta_analysis",
    "standardised_mean_difference",
    "trial_sequential_analysis",
]
