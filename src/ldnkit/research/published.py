"""The published LDN chronic-pain trials as a meta-analysis dataset, and the pooled example.

The figures live in `evidence/data/trials_meta.yaml` (each with its source ids, checked at
load like every evidence file); this module types them, turns each trial's reported figure
into an effect size by the method the file names, and pools them.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from ldnkit.errors import ValidationError
from ldnkit.evidence import Evidence, default_evidence
from ldnkit.research.effect_sizes import EffectSize, from_p_paired, hedges_correction
from ldnkit.research.meta import MetaResult, meta_analysis

if TYPE_CHECKING:
    from ldnkit.research.bayesmeta import BayesMetaResult
    from ldnkit.research.tsa import TSAResult

__all__ = [
    "PublishedPooled",
    "PublishedTrial",
    "TrialsMeta",
    "ldn_bayes",
    "ldn_effects",
    "ldn_tsa",
    "load_trials_meta",
    "pooled_ldn_example",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TrialEffect(_Model):
    """How the trial's reported figure becomes an SMD (see the YAML header)."""

    method: Literal["reported_d_parallel", "reported_d_paired", "p_paired"]
    value: float | None = None
    p: float | None = None


class PublishedTrial(_Model):
    id: str
    label: str
    condition: str
    design: Literal["parallel", "crossover", "single_blind_fixed_order"]
    randomised: bool
    blinding: Literal["single", "double"]
    comparator: str
    dose_mg: float
    weeks: float
    n_randomised: int
    n_analysed: int
    n_ldn: int | None = None
    n_control: int | None = None
    outcome: str
    reported: str
    effect: TrialEffect | None = None
    pool: bool
    exclusion: str | None = None
    note: str | None = None
    verified: str
    sources: list[str] = Field(min_length=1)

    def effect_size(self) -> EffectSize:
        """The trial's (yi, vi) on the SMD scale, negative favouring LDN."""
        e = self.effect
        if e is None:
            raise ValidationError(f"trials_meta.{self.id}.effect", "no poolable effect recorded")
        if e.method == "reported_d_parallel":
            if e.value is None or self.n_ldn is None or self.n_control is None:
                raise ValidationError(f"trials_meta.{self.id}", "needs value, n_ldn, n_control")
            n1, n2 = self.n_ldn, self.n_control
            g = hedges_correction(n1 + n2 - 2) * e.value
            return EffectSize(g, 1 / n1 + 1 / n2 + g**2 / (2 * (n1 + n2)), "SMD")
        n = self.n_analysed
        if e.method == "reported_d_paired":
            if e.value is None:
                raise ValidationError(f"trials_meta.{self.id}.effect.value", "missing")
            g = hedges_correction(n - 1) * e.value
        else:
            if e.p is None:
                raise ValidationError(f"trials_meta.{self.id}.effect.p", "missing")
            g = hedges_correction(n - 1) * from_p_paired(e.p, n).yi
        return EffectSize(g, 1 / n + g**2 / (2 * n), "SMD")


class PublishedPooled(_Model):
    """A published meta-analysis result, shown next to ours for comparison."""

    id: str
    population: str
    measure: str
    estimate: float
    ci: tuple[float, float]
    I2_percent: float
    verified: str
    sources: list[str] = Field(min_length=1)


class TrialsMeta(_Model):
    version: int
    measure: str
    direction: str
    trials: list[PublishedTrial]
    published_pooled: list[PublishedPooled] = []


def load_trials_meta(evidence: Evidence | None = None) -> TrialsMeta:
    """The dataset, parsed from the evidence base (its citations already resolved at load)."""
    return (evidence or default_evidence()).section("trials_meta", TrialsMeta)


def ldn_effects(
    data: TrialsMeta | None = None, include_all: bool = False
) -> tuple[list[PublishedTrial], list[EffectSize]]:
    """The trials to pool (placebo-controlled, randomised, with an effect) and their effects."""
    data = data or load_trials_meta()
    chosen = [t for t in data.trials if t.effect is not None and (t.pool or include_all)]
    return chosen, [t.effect_size() for t in chosen]


def pooled_ldn_example(
    method: str = "REML",
    hartung_knapp: bool = True,
    data: TrialsMeta | None = None,
    hk_adhoc: bool = True,
) -> MetaResult:
    """Pool the randomised placebo-controlled LDN trials (SMD of pain, negative favours LDN).

    Hartung-Knapp by default: with 4 trials the normal-theory CI is too narrow; with the ad
    hoc correction max(1, q) (Roever, Knapp & Friede 2015) because these trials agree more
    closely than their variances predict (q < 1), which would make plain HK narrower still.
    """
    trials, effects = ldn_effects(data)
    res = meta_analysis(
        [e.yi for e in effects],
        [e.vi for e in effects],
        labels=[t.label for t in trials],
        method=method,
        hartung_knapp=hartung_knapp,
        measure="SMD of pain",
        hk_adhoc=hk_adhoc,
    )
    res.extra["trials"] = [
        {"id": t.id, "method": t.effect.method if t.effect else None, "sources": t.sources}
        for t in trials
    ]
    return res


def ldn_bayes(tau_scale: float = 0.5, data: TrialsMeta | None = None) -> BayesMetaResult:
    """The same trials pooled by Bayesian random effects (half-normal(tau_scale) on tau, flat mu).

    Why: with 5 small trials tau is barely identified; the posterior carries that uncertainty
    into P(SMD < 0) and P(|SMD| > 0.2) instead of a point estimate of tau. Half-normal(0.5)
    is the weakly informative heterogeneity prior of Friede et al. (2017) and Roever (2020).
    """
    from ldnkit.research.bayesmeta import MuPrior, TauPrior, bayes_meta

    trials, effects = ldn_effects(data)
    res = bayes_meta(
        [e.yi for e in effects],
        [math.sqrt(e.vi) for e in effects],
        labels=[t.label for t in trials],
        tau_prior=TauPrior("halfnormal", tau_scale),
        mu_prior=MuPrior(),
        measure="SMD of pain",
    )
    res.extra["trials"] = [{"id": t.id, "sources": t.sources} for t in trials]
    return res


def trial_years(data: TrialsMeta | None = None, evidence: Evidence | None = None) -> dict[str, int]:
    """Publication year of each trial, from its first source's reference entry (when known)."""
    ev = evidence or default_evidence()
    data = data or load_trials_meta(ev)
    out = {}
    for t in data.trials:
        year = ev.references[t.sources[0]].year
        if year is not None:
            out[t.id] = year
    return out


def ldn_tsa(
    delta: float = 0.2,
    alpha: float = 0.05,
    beta: float = 0.2,
    futility: bool = True,
    data: TrialsMeta | None = None,
) -> TSAResult:
    """Trial sequential analysis of the pooled LDN trials in publication order.

    Information is participants analysed (a crossover participant counts once, as TSA counts
    participants), against the RIS for an SMD of `delta` inflated by the trials' D^2.
    """
    from ldnkit.research.tsa import trial_sequential_analysis

    data = data or load_trials_meta()
    trials, effects = ldn_effects(data)
    years = trial_years(data)
    res = trial_sequential_analysis(
        [e.yi for e in effects],
        [e.vi for e in effects],
        [t.n_analysed for t in trials],
        delta=delta,
        labels=[t.label for t in trials],
        years=[years.get(t.id) for t in trials],
        alpha=alpha,
        beta=beta,
        futility=futility,
        benefit="negative",
        measure="SMD of pain",
    )
    res.extra["trials"] = [{"id": t.id, "sources": t.sources} for t in trials]
    return res
