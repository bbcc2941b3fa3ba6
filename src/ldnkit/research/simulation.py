"""Monte Carlo simulation of daily pain diaries for any `Design`, vectorised over
trials x patients x days.

Model for patient i in trial r on study day t, on sequence s(i):

    y = mu_i + (placebo_i * P[s, t]) + (ldn_i * E[s, t]) + period[t] + e_t,   e_t AR(1)

* mu_i ~ N(baseline_mean, between_sd^2): between-patient variation of baseline pain.
* P[s, t] in [0, 1]: non-specific (placebo) response while any study medication is taken,
  rising with time constant `placebo_onset_days`; placebo_i ~ N(placebo_response, placebo_sd^2).
* E[s, t] in [0, 1]: LDN exposure effect, rising with time constant `onset_days` once LDN
  starts and decaying with half-life `carryover_halflife_days` after it stops (carry-over).
* ldn_i = R_i * N(ldn_effect, effect_sd^2), R_i ~ Bernoulli(responder_fraction): individual
  response including non-responders.
* period[t]: additive shift per treatment period (period effects).
* e_t: stationary AR(1) with SD `within_sd` and lag-1 correlation `ar1`.
* Each day is missing with probability `p_missing_day`; dropout is geometric per week.

Every default carries the published figure it came from, or says "assumed" where no trial
reports it (the between/within SDs and autocorrelation of daily diaries are not in the
abstracts): see `Assumptions` and docs/research.md. Seeds go through `numpy.random.SeedSequence`
so chunked runs (local or Dask) reproduce the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from ldnkit.bounds import check_int, check_memory, check_seed
from ldnkit.errors import ValidationError
from ldnkit.research.designs import Design

__all__ = [
    "Assumptions",
    "SimulatedTrials",
    "exposure_curves",
    "simulate",
    "simulation_memory_bytes",
]


class Assumptions(BaseModel):
    """Simulation inputs, pain on a 0-10 NRS. Field descriptions cite where each came from."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    baseline_mean: float = Field(
        6.0, description="assumed; FINAL (bruun-2024) enrolled average pain >= 4/10"
    )
    between_sd: float = Field(1.5, ge=0, description="assumed between-patient SD of baseline")
    within_sd: float = Field(1.2, ge=0, description="assumed day-to-day SD of diary pain")
    ar1: float = Field(0.5, ge=0, lt=1, description="assumed lag-1 autocorrelation of diaries")
    placebo_response: float = Field(
        -0.9, description="bruun-2024: placebo arm change -0.9 NRS points at 12 weeks"
    )
    placebo_sd: float = Field(0.5, ge=0, description="assumed SD of individual placebo response")
    placebo_onset_days: float = Field(3.0, gt=0, description="assumed")
    ldn_effect: float = Field(
        -0.34,
        description="bruun-2024: LDN minus placebo -0.34 NRS (95% CI -0.95 to 0.27); "
        "mean effect among responders when responder_fraction < 1",
    )
    effect_sd: float = Field(0.0, ge=0, description="SD of individual LDN effect (responders)")
    responder_fraction: float = Field(
        1.0, ge=0, le=1, description="younger-2013: responders 32% on LDN vs 11% on placebo"
    )
    onset_days: float = Field(
        14.0, gt=0, description="assumed; seed 002: judge response after 8-12 weeks"
    )
    carryover_halflife_days: float = Field(3.0, ge=0, description="assumed")
    period_effects: list[float] = Field(
        default_factory=list, description="shift per treatment period (1, 2, ...); assumed 0"
    )
    p_missing_day: float = Field(0.0, ge=0, lt=1, description="probability a diary day is missing")
    dropout_per_week: float = Field(0.0, ge=0, lt=1, description="weekly dropout hazard")
    clip: tuple[float, float] | None = Field(
        None, description="bound diary values to the scale, e.g. (0, 10); None for theory checks"
    )
    dose_response: Literal["flat", "linear"] = Field(
        "flat",
        description="LDN effect vs dose: 'flat' (same effect at any low dose) or 'linear' "
        "(effect x dose / reference_dose_mg); assumed - seed 002: effective dose idiosyncratic",
    )
    reference_dose_mg: float = Field(4.5, gt=0, description="dose at which ldn_effect applies")
    esr_median: float = Field(12.0, gt=0, description="assumed baseline ESR median, mm/h")
    esr_effect_slope: float = Field(
        0.0,
        description="extra LDN effect per unit log(ESR / median); younger-2009 found baseline "
        "ESR explained >80% of response variance; 0 = no link (assumed default)",
    )
    threshold_gain: float = Field(
        0.5, description="assumed rise of lab pain thresholds per unit of LDN effect weight"
    )


def exposure_curves(design: Design, a: Assumptions) -> tuple[NDArray[np.float64], ...]:
    """Per sequence and day: placebo-response weight P, LDN effect weight E, period shift."""
    d = design.total_days
    s = len(design.sequences)
    p = np.zeros((s, d))
    e = np.zeros((s, d))
    per = np.zeros(d)
    for ph in design.treatment_periods:
        idx = (ph.period or 1) - 1
        if idx < len(a.period_effects):
            per[ph.start_day : ph.end_day + 1] = a.period_effects[idx]
    decay = np.log(2) / a.carryover_halflife_days if a.carryover_halflife_days > 0 else np.inf
    for k, seq in enumerate(design.sequences):
        level_p = level_e = 0.0
        for t in range(d):
            treat = seq.treatments[design.phase_on(t).name]
            on_med = treat in ("placebo", "ldn", "active")
            if on_med:
                level_p += (1 - level_p) * (1 - np.exp(-1 / a.placebo_onset_days))
            else:
                level_p *= np.exp(-decay)
            if treat == "ldn":
                ph = design.phase_on(t)
                dose = ph.dose_mg or seq.dose_mg or a.reference_dose_mg
                goal = 1.0 if a.dose_response == "flat" else dose / a.reference_dose_mg
                level_e += (goal - level_e) * (1 - np.exp(-1 / a.onset_days))
            else:
                level_e *= np.exp(-decay)
            p[k, t], e[k, t] = level_p, level_e
    return p, e, per


@dataclass
class SimulatedTrials:
    """Daily diaries for `n_trials` trials: `daily[r, i, t]` (NaN = missing)."""

    design: Design
    assumptions: Assumptions
    daily: NDArray[np.float64]
    sequence: NDArray[np.int64]
    esr: NDArray[np.float64]
    responder: NDArray[np.bool_]

    @property
    def n_trials(self) -> int:
        return int(self.daily.shape[0])

    @property
    def n_patients(self) -> int:
        return int(self.daily.shape[1])

    def window_means(
        self, last_days: int | None = None, phases: list[str] | None = None
    ) -> dict[str, NDArray[np.float64]]:
        """Mean observed pain per phase (the last `last_days` days of treatment periods,
        the whole phase otherwise): the per-period summaries the protocol analyses."""
        last = (
            self.design.summary_days if last_days is None else check_int("last_days", last_days, 1)
        )
        out = {}
        with np.errstate(invalid="ignore"):
            for ph in self.design.phases:
                if phases is not None and ph.name not in phases:
                    continue
                lo = ph.start_day
                if ph.role == "treatment":
                    lo = max(ph.start_day, ph.end_day + 1 - last)
                block = self.daily[:, :, lo : ph.end_day + 1]
                n = np.sum(~np.isnan(block), axis=2)
                s = np.nansum(block, axis=2)
                out[ph.name] = np.where(n > 0, s / np.maximum(n, 1), np.nan)
        return out

    def to_frame(self, trial: int = 0) -> Any:
        """One simulated trial as the tidy table `analysis.analyze_trial` reads."""
        trial = check_int("trial", trial, 0, self.n_trials - 1)
        import pandas as pd

        d = self.design.total_days
        days = np.arange(d)
        phases = np.array([self.design.phase_on(t).name for t in range(d)])
        seqs = [s.name for s in self.design.sequences]
        visit_days = np.zeros(d, dtype=bool)
        visit_days[[v.day for v in self.design.visits]] = True
        _, e_curve, _ = exposure_curves(self.design, self.assumptions)
        # Visit-day lab thresholds (seed 000): a patient level, noise, and a rise with the
        # LDN effect weight among responders (threshold_gain, assumed).
        rng = np.random.default_rng([trial, 2009])
        frames = []
        for i in range(self.n_patients):
            s = self.sequence[i]
            treat = np.array([self.design.sequences[s].treatments[ph] for ph in phases])
            cols: dict[str, Any] = {
                "patient": f"P{i + 1:03d}",
                "sequence": seqs[s],
                "day": days,
                "phase": phases,
                "treatment": np.where(treat == "none", "none", treat),
                "severity": self.daily[trial, i],
            }
            gain = self.assumptions.threshold_gain * self.responder[trial, i] * e_curve[s]
            for name, level in (("mechanical", 4.0), ("heat", 44.0), ("cold", 10.0)):
                vals = level + rng.normal(0, 0.5) + gain + rng.normal(0, 0.3, d)
                cols[f"{name}_threshold"] = np.where(visit_days, np.round(vals, 2), np.nan)
            cols["esr"] = np.where(days == 0, np.round(self.esr[trial, i], 1), np.nan)
            frames.append(pd.DataFrame(cols))
        return pd.concat(frames, ignore_index=True)


def simulation_memory_bytes(n_trials: int, n_patients: int, days: int) -> int:
    """Bytes `simulate` holds at once: the daily diary buffer (8 B per trial-patient-day),
    the missing-day draws and dropout mask (9 B more), and ~20 per-patient arrays."""
    return int(n_trials * n_patients * (days * 17 + 160))


def simulate(
    design: Design,
    assumptions: Assumptions | None = None,
    n_patients: int = 30,
    n_trials: int = 1000,
    seed: int | np.random.SeedSequence = 0,
    memory_limit_bytes: int | None = None,
) -> SimulatedTrials:
    """Simulate `n_trials` trials of `n_patients`, allocated to sequences in balanced blocks
    (patient i gets sequence i mod S, i.e. a completed permuted-block list).

    Sizes are checked first: whole numbers, and the arrays the run holds
    (`simulation_memory_bytes`) within `memory_limit_bytes` (default 4 GiB)."""
    if not isinstance(design, Design):
        raise ValidationError("design", f"must be a Design, got {type(design).__name__}")
    if assumptions is not None and not isinstance(assumptions, Assumptions):
        raise ValidationError("assumptions", "must be an Assumptions object")
    a = assumptions or Assumptions()
    n_patients = check_int("n_patients", n_patients)
    n_trials = check_int("n_trials", n_trials)
    if n_patients < 1:
        raise ValidationError("n_patients", "must be at least 1")
    if n_trials < 1:
        raise ValidationError("n_trials", "must be at least 1")
    seed = check_seed("seed", seed)
    check_memory(
        "n_patients",
        simulation_memory_bytes(n_trials, n_patients, design.total_days),
        memory_limit_bytes,
        f"{n_trials:,} trials x {n_patients:,} patients x {design.total_days:,} days",
    )
    rng = np.random.default_rng(seed)
    t_, n, d = n_trials, n_patients, design.total_days
    seq = np.arange(n) % len(design.sequences)
    p_curve, e_curve, period = exposure_curves(design, a)

    mu = a.baseline_mean + a.between_sd * rng.standard_normal((t_, n))
    plac = a.placebo_response + a.placebo_sd * rng.standard_normal((t_, n))
    resp = rng.random((t_, n)) < a.responder_fraction
    eff = resp * (a.ldn_effect + a.effect_sd * rng.standard_normal((t_, n)))
    log_esr = 0.5 * rng.standard_normal((t_, n))
    esr = a.esr_median * np.exp(log_esr)
    eff = eff - resp * a.esr_effect_slope * log_esr
    # Days-first buffer: each day is one contiguous (trials x patients) slab, so the AR(1)
    # recursion and the daily means run at memory speed; `daily` is a (trials, patients,
    # days) view of it. Temporaries stay (trials x patients): 10,000 trials fit in memory.
    z = rng.standard_normal((d, t_, n))
    scale = np.sqrt(1 - a.ar1**2)
    p_seq, e_seq = p_curve[seq].T, e_curve[seq].T  # (D, N)
    for t in range(d):
        if t:
            z[t] *= scale
            z[t] += a.ar1 * z[t - 1]
    z *= a.within_sd
    for t in range(d):
        z[t] += mu
        z[t] += plac * p_seq[t]
        z[t] += eff * e_seq[t]
        z[t] += period[t]
    y = np.moveaxis(z, 0, 2)
    if a.clip is not None:
        np.clip(y, a.clip[0], a.clip[1], out=y)
    if a.p_missing_day > 0:
        y[rng.random((t_, n, d)) < a.p_missing_day] = np.nan
    if a.dropout_per_week > 0:
        weeks = rng.geometric(a.dropout_per_week, size=(t_, n))  # week of dropout, 1-based
        y[np.arange(d)[None, None, :] >= (weeks * 7)[:, :, None]] = np.nan
    return SimulatedTrials(design, a, y, seq, esr, resp)
