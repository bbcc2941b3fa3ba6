"""Calibration of the N-of-1 analysis by simulation: do its intervals and probabilities mean
what they say?

Simulated patients go through the real design (run-in, periods with washout days, seeded
counterbalanced packs) and the research simulator (`ldnkit.research.simulation`) writes their
diaries: between-patient baseline, placebo response while any pack is taken, AR(1) day-to-day
noise, exposure curves with onset and carry-over after stopping. Each patient's true LDN
effect is drawn from a stated distribution and added through the simulator's own exposure
curve, so it is known exactly. Each diary is then analysed by `fit`, and we count:

* coverage: the share of 95% credible intervals containing the true effect (should be ~95%);
* among patients told P(benefit) >= 0.9, the share whose true effect is a benefit.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from ldnkit.errors import ValidationError
from ldnkit.research.designs import Design, Phase, Sequence
from ldnkit.research.nof1.analysis import Nof1Prior, Series, Terms, fit
from ldnkit.research.nof1.design import Nof1Design, Nof1Settings, design_trial
from ldnkit.research.simulation import Assumptions, exposure_curves, simulate

__all__ = ["Calibration", "calibrate", "research_design"]


def _patterns(pairs: int) -> list[tuple[bool, ...]]:
    """Which period of each pair holds LDN (True = first), as balanced randomisation allows."""
    out = []
    for bits in itertools.product((True, False), repeat=pairs):
        first = sum(bits)
        if abs(first - (pairs - first)) <= 1:
            out.append(bits)
    return out


def research_design(design: Nof1Design) -> tuple[Design, list[tuple[bool, ...]]]:
    """The N-of-1 design as a research `Design` with one sequence per allowed LDN pattern.

    The run-in is open-label LDN; the simulator's exposure curves then carry the run-in's
    effect into the first period's washout days, as they would in a patient.
    """
    s = design.settings
    phases = []
    if s.run_in_days:
        phases.append(Phase(name="run-in", start_day=0, days=s.run_in_days, role="baseline"))
    for p in design.periods:
        phases.append(
            Phase(
                name=f"period {p.index}",
                start_day=p.start_day,
                days=p.days,
                role="treatment",
                period=p.index,
            )
        )
    pats = _patterns(s.pairs)
    seqs = []
    for k, pat in enumerate(pats):
        t: dict[str, Any] = {"run-in": "ldn"} if s.run_in_days else {}
        for p in design.periods:
            ldn_first = pat[p.pair - 1]
            first_of_pair = p.index % 2 == 1
            t[f"period {p.index}"] = "ldn" if ldn_first == first_of_pair else "placebo"
        seqs.append(Sequence(name=f"pattern {k + 1}", treatments=t, dose_mg=float(s.dose_mg)))
    rd = Design(
        id="n-of-1-calibration",
        title="N-of-1 trial as simulated",
        kind="n_of_1",
        blinding="double",
        phases=phases,
        sequences=seqs,
        visits=[],
        assessments=[],
        primary_outcome="daily pain, LDN minus placebo",
        analysis="exact Bayesian AR(1) model (ldnkit.research.nof1.analysis)",
    )
    return rd, pats


@dataclass(frozen=True)
class Calibration:
    """How often the analysis told the truth over simulated patients."""

    n_patients: int
    coverage95: float
    coverage_mc_se: float
    n_confident: int  # patients told P(benefit) >= threshold
    share_benefiting_when_confident: float
    threshold: float
    mean_abs_error: float
    effect_mean: float
    effect_sd: float
    assumptions: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def summary(self) -> str:
        return "\n".join(
            [
                f"N-of-1 calibration over {self.n_patients} simulated patients "
                f"(true effects ~ N({self.effect_mean:g}, {self.effect_sd:g}^2))",
                f"  95% credible intervals covering the truth: {100 * self.coverage95:.1f}% "
                f"(MC SE {100 * self.coverage_mc_se:.1f} points)",
                f"  told P(benefit) >= {self.threshold:g}: {self.n_confident} patients; "
                f"truly benefiting among them: {100 * self.share_benefiting_when_confident:.1f}%",
                f"  mean absolute error of the posterior mean: {self.mean_abs_error:.3f} points",
            ]
        )


def calibrate(
    n_patients: int = 1000,
    seed: int = 2026,
    settings: Nof1Settings | None = None,
    effect_mean: float = -0.5,
    effect_sd: float = 1.0,
    assumptions: Assumptions | None = None,
    prior: Nof1Prior | None = None,
    terms: Terms = "trend",
    threshold: float = 0.9,
    missing: float = 0.05,
) -> Calibration:
    """Simulate `n_patients` N-of-1 trials with known effects and score the analysis."""
    if n_patients < 10:
        raise ValidationError("n_patients", "need at least 10 simulated patients")
    if effect_sd < 0:
        raise ValidationError("effect_sd", "must not be negative")
    st = settings or Nof1Settings(dose_mg=Decimal("4.5"), start=dt.date(2026, 1, 5), seed=seed)
    design, _ = design_trial(st)
    rd, pats = research_design(design)
    a = assumptions or Assumptions(
        ldn_effect=0.0,  # the known effect is added below through the same exposure curve
        onset_days=0.5,
        carryover_halflife_days=0.5,
        p_missing_day=missing,
    )
    sim = simulate(rd, a, n_patients=n_patients, n_trials=1, seed=seed)
    _, e_curve, _ = exposure_curves(rd, a)
    rng = np.random.default_rng([seed, 1])
    truth = effect_mean + effect_sd * rng.standard_normal(n_patients)
    days = np.arange(rd.total_days)
    analysed = np.zeros(rd.total_days, dtype=bool)
    pair_of = np.zeros(rd.total_days, dtype=np.int64)
    period_of = np.zeros(rd.total_days, dtype=np.int64)
    for p in design.periods:
        analysed[p.first_analysed_day : p.end_day + 1] = True
        pair_of[p.start_day : p.end_day + 1] = p.pair
        period_of[p.start_day : p.end_day + 1] = p.index
    covered = np.zeros(n_patients, dtype=bool)
    confident = np.zeros(n_patients, dtype=bool)
    err = np.zeros(n_patients)
    for i in range(n_patients):
        k = int(sim.sequence[i])
        y = sim.daily[0, i] + truth[i] * e_curve[k]
        seq = rd.sequences[k]
        ldn = np.array(
            [seq.treatments.get(f"period {j}", "none") == "ldn" for j in period_of], dtype=float
        )
        keep = analysed & ~np.isnan(y)
        res = fit(Series(days[keep], y[keep], ldn[keep], pair_of[keep]), prior=prior, terms=terms)
        covered[i] = res.ci95[0] <= truth[i] <= res.ci95[1]
        confident[i] = res.p_benefit >= threshold
        err[i] = abs(res.effect_mean - truth[i])
    cov = float(covered.mean())
    n_conf = int(confident.sum())
    return Calibration(
        n_patients=n_patients,
        coverage95=cov,
        coverage_mc_se=float(np.sqrt(cov * (1 - cov) / n_patients)),
        n_confident=n_conf,
        share_benefiting_when_confident=float(np.mean(truth[confident] < 0)) if n_conf else 0.0,
        threshold=threshold,
        mean_abs_error=float(err.mean()),
        effect_mean=effect_mean,
        effect_sd=effect_sd,
        assumptions={
            **a.model_dump(mode="json"),
            "patterns": len(pats),
            "washout_days": design.washout_days,
            "measure_days": st.measure_days,
            "pairs": st.pairs,
        },
    )
