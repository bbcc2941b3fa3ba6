"""The clinic's completed N-of-1 trials combined (Zucker 1997): population mean effect,
between-patient SD, each patient's effect shrunk towards the population, share of responders.

Each trial contributes its posterior mean and variance of the effect (the exact analysis with
its own weakly informative prior, so the prior adds a little information per patient). They
are pooled by `research.meta.meta_analysis` (REML, Hartung-Knapp), the normal-normal
hierarchical model in its empirical-Bayes form; individual effects are the usual shrinkage
estimates. Nothing here holds a name: trials carry the pseudonymous labels the shell gives.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from ldnkit.errors import ValidationError
from ldnkit.research.meta import MetaResult, meta_analysis
from ldnkit.research.nof1.analysis import Nof1Result

__all__ = ["PooledTrials", "ShrunkenEffect", "pool_trials"]


@dataclass(frozen=True)
class ShrunkenEffect:
    label: str
    own: float  # the trial's own posterior mean
    own_sd: float
    shrunken: float
    shrunken_sd: float

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class PooledTrials:
    """Hierarchical summary of a clinic's N-of-1 trials (points of pain, LDN minus control)."""

    meta: MetaResult
    individuals: tuple[ShrunkenEffect, ...]
    responder_points: float
    share_benefiting: float  # P(theta < 0) under N(mu, tau^2)
    share_responders: float  # P(theta <= -responder_points)

    @property
    def mean(self) -> float:
        return self.meta.estimate

    @property
    def between_sd(self) -> float:
        return self.meta.tau

    def conf_int(self) -> tuple[float, float]:
        lo, hi = self.meta.conf_int()
        return float(lo), float(hi)

    def to_dict(self) -> dict[str, Any]:
        lo, hi = self.conf_int()
        return {
            "k": self.meta.k,
            "mean_effect": self.mean,
            "ci95": [lo, hi],
            "between_patient_sd": self.between_sd,
            "prediction_interval": list(self.meta.prediction_interval),
            "I2": self.meta.I2,
            "share_benefiting": self.share_benefiting,
            "share_responders": self.share_responders,
            "responder_points": self.responder_points,
            "method": f"{self.meta.method}, Hartung-Knapp",
            "individuals": [i.to_dict() for i in self.individuals],
            "sources": ["zucker-1997", "viechtbauer-2010"],
        }

    def summary(self) -> str:
        lo, hi = self.conf_int()
        lines = [
            f"Pooled N-of-1 trials (k = {self.meta.k}): mean effect {self.mean:+.2f} points "
            f"(95% CI {lo:+.2f} to {hi:+.2f}), between-patient SD {self.between_sd:.2f}",
            f"  estimated share benefiting {100 * self.share_benefiting:.0f}%, "
            f"responders (>= {self.responder_points:g} point) "
            f"{100 * self.share_responders:.0f}%",
        ]
        for i in self.individuals:
            lines.append(
                f"  {i.label:<12} own {i.own:+.2f} (SD {i.own_sd:.2f})  shrunken "
                f"{i.shrunken:+.2f} (SD {i.shrunken_sd:.2f})"
            )
        return "\n".join(lines)


def pool_trials(
    trials: Sequence[tuple[str, Nof1Result]], responder_points: float = 1.0
) -> PooledTrials:
    """Pool completed trials given as (pseudonymous label, result) pairs."""
    if len(trials) < 2:
        raise ValidationError("trials", "pooling needs at least 2 completed trials")
    if responder_points <= 0:
        raise ValidationError("responder_points", "must be greater than zero")
    labels = [t[0] for t in trials]
    y = np.array([t[1].effect_mean for t in trials])
    v = np.array([t[1].effect_sd ** 2 for t in trials])
    meta = meta_analysis(
        y, v, labels=labels, method="REML", hartung_knapp=True, measure="NRS points"
    )
    mu, tau2 = meta.estimate, meta.tau2
    inds = []
    for lab, yi, vi in zip(labels, y, v, strict=True):
        if tau2 > 0:
            prec = 1 / vi + 1 / tau2
            m, s = (yi / vi + mu / tau2) / prec, math.sqrt(1 / prec)
        else:
            m, s = mu, meta.se
        inds.append(ShrunkenEffect(lab, float(yi), float(math.sqrt(vi)), float(m), float(s)))
    tau = math.sqrt(tau2)
    if tau > 0:
        share_b = float(stats.norm.cdf(-mu / tau))
        share_r = float(stats.norm.cdf((-responder_points - mu) / tau))
    else:
        share_b = float(mu < 0)
        share_r = float(mu <= -responder_points)
    return PooledTrials(meta, tuple(inds), responder_points, share_b, share_r)
