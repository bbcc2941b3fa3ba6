"""Power and sample size by simulation, analysed the way the protocol would analyse the trial.

`protocol_fit(sim)` maps a design to its pre-specified analysis (random-intercept mixed model
of period summaries for crossovers, ANCOVA for the parallel RCT, within-patient cycle model
for N-of-1) and runs it for all trials at once through the closed forms in `fastfit`.
`mixedlm_fit` is the statsmodels reference the fast path is checked and benchmarked against.

Trials are simulated in chunks, each from its own child of `SeedSequence(seed)`, so a run
split across a Dask cluster gives the same numbers as the local run for the same seed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from ldnkit.bounds import check_int, check_memory, check_probability, check_real, check_seed
from ldnkit.errors import ValidationError
from ldnkit.research.designs import Design
from ldnkit.research.fastfit import FastFit, ancova_fit, within_fit
from ldnkit.research.simulation import (
    Assumptions,
    SimulatedTrials,
    simulate,
    simulation_memory_bytes,
)

__all__ = [
    "PowerCurve",
    "PowerResult",
    "analytic_crossover_power",
    "dose_fits",
    "estimate_power",
    "mixedlm_fit",
    "power_curve",
    "protocol_design_matrix",
    "protocol_fit",
    "sample_size",
]


MAX_TRIALS = 10_000_000  # Monte Carlo SE 0.00016 at p = 0.5: more is a typing error


def protocol_design_matrix(
    design: Design, sequence: NDArray[np.int64]
) -> tuple[list[str], NDArray[np.float64], NDArray[np.float64], list[str]]:
    """Summary names, within-patient design X[patient, summary, p], contrast, column names."""
    periods = design.treatment_periods
    if design.kind == "crossover":
        names = [p.name for p in periods]
        x = np.zeros((sequence.size, len(names), 2))
        for i, s in enumerate(sequence):
            seq = design.sequences[s]
            for k, ph in enumerate(periods):
                x[i, k, 0] = float(k > 0)
                x[i, k, 1] = float(seq.treatments[ph.name] == "ldn")
        return names, x, np.array([0.0, 1.0]), ["period", "ldn"]
    if design.kind == "single_blind_fixed_order":
        base = [p for p in design.phases if p.role == "baseline"]
        names = [*(p.name for p in base), *(p.name for p in periods)]
        seq = design.sequences[0]
        row = np.array(
            [
                [float(seq.treatments[nm] == "placebo"), float(seq.treatments[nm] == "ldn")]
                for nm in names
            ]
        )
        x = np.broadcast_to(row, (sequence.size, *row.shape)).copy()
        return names, x, np.array([-1.0, 1.0]), ["placebo", "ldn"]
    if design.kind == "n_of_1":
        # Pair (cycle) fixed effects + one LDN indicator per dose; contrast: highest dose.
        names = [p.name for p in periods]
        pairs = len(names) // 2
        doses = sorted({p.dose_mg or 0.0 for p in periods})
        x = np.zeros((sequence.size, len(names), pairs - 1 + len(doses)))
        for i, s in enumerate(sequence):
            seq = design.sequences[s]
            for k, ph in enumerate(periods):
                if k // 2 > 0:
                    x[i, k, k // 2 - 1] = 1.0
                j = pairs - 1 + doses.index(ph.dose_mg or 0.0)
                x[i, k, j] = float(seq.treatments[ph.name] == "ldn")
        cols = [*(f"cycle{c + 2}" for c in range(pairs - 1)), *(f"ldn_{d:g}mg" for d in doses)]
        contrast = np.zeros(x.shape[2])
        contrast[-1] = 1.0
        return names, x, contrast, cols
    raise ValidationError("design.kind", f"no within-patient model for {design.kind!r}")


def _per_patient_fit(
    y: NDArray[np.float64], x: NDArray[np.float64], contrast: NDArray[np.float64]
) -> FastFit:
    """N-of-1: every (trial, patient) is its own one-patient trial, each with its own design
    row (patients differ in cycle order); results come back in (trial, patient) order."""
    t_, n, _ = y.shape
    parts = [within_fit(y[:, i : i + 1, :], x[i : i + 1], contrast) for i in range(n)]
    stack = {
        f: np.stack([getattr(pt, f) for pt in parts], axis=1).reshape(t_ * n)
        for f in ("estimate", "se", "df", "n_used", "sigma2_within", "sigma2_between")
    }
    return FastFit(**stack)


def dose_fits(sim: SimulatedTrials) -> dict[float, FastFit]:
    """N-of-1 dose finding: the within-patient LDN-minus-placebo effect at each dose, one
    fit per simulated patient (rows = trial x patient)."""
    design = sim.design
    if design.kind != "n_of_1":
        raise ValidationError("design.kind", "dose fits are for N-of-1 designs")
    names, x, _, _ = protocol_design_matrix(design, sim.sequence)
    means = sim.window_means(phases=names)
    y = np.stack([means[nm] for nm in names], axis=2)
    doses = sorted({p.dose_mg or 0.0 for p in design.treatment_periods})
    out = {}
    for j, dose in enumerate(doses):
        c = np.zeros(x.shape[2])
        c[x.shape[2] - len(doses) + j] = 1.0
        out[dose] = _per_patient_fit(y, x, c)
    return out


def protocol_fit(sim: SimulatedTrials) -> FastFit:
    """The protocol's primary analysis for every simulated trial (vectorised)."""
    design = sim.design
    if design.kind == "parallel":
        means = sim.window_means()
        base = next(p for p in design.phases if p.role == "baseline")
        end = design.treatment_periods[-1]
        arm = np.array(
            [float(design.sequences[s].treatments[end.name] == "ldn") for s in sim.sequence]
        )
        return ancova_fit(means[end.name], means[base.name], arm)
    names, x, contrast, _ = protocol_design_matrix(design, sim.sequence)
    means = sim.window_means(phases=names)
    y = np.stack([means[nm] for nm in names], axis=2)
    if design.kind == "n_of_1":
        # Each patient is their own trial: one result per (trial, patient).
        return _per_patient_fit(y, x, contrast)
    return within_fit(y, x, contrast)


def mixedlm_fit(
    sim: SimulatedTrials,
    trial: int,
    means: dict[str, NDArray[np.float64]] | None = None,
    tight: bool = True,
) -> tuple[float, float, float]:
    """statsmodels MixedLM (REML, random intercept) for one simulated trial's summaries:
    (estimate, SE, df) of the same contrast as `protocol_fit`. The slow reference path.

    `tight` uses BFGS with gtol 1e-12 so the SE is converged to ~1e-9 (statsmodels' default
    L-BFGS stops around 1e-6 relative); `tight=False` is statsmodels' default fit."""
    import pandas as pd
    import statsmodels.formula.api as smf

    design = sim.design
    trial = check_int("trial", trial, 0, sim.n_trials - 1)
    if design.kind not in ("crossover", "single_blind_fixed_order"):
        raise ValidationError("design.kind", "the MixedLM reference covers crossover designs")
    names, x, contrast, cols = protocol_design_matrix(design, sim.sequence)
    means = sim.window_means() if means is None else means
    rows = []
    for i in range(sim.n_patients):
        vals = [means[nm][trial, i] for nm in names]
        if not np.all(np.isfinite(vals)):
            continue  # complete-case, as the fast path
        for k, v in enumerate(vals):
            rows.append({"y": v, "patient": i, **{c: x[i, k, j] for j, c in enumerate(cols)}})
    df = pd.DataFrame(rows)
    formula = "y ~ " + " + ".join(cols)
    model = smf.mixedlm(formula, df, groups=df["patient"])
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = (
            model.fit(reml=True, method=["bfgs"], gtol=1e-12, maxiter=2000)
            if tight
            else model.fit(reml=True)
        )
    fe = res.fe_params[cols].to_numpy()
    cov = res.cov_params().loc[cols, cols].to_numpy()
    n_used = df["patient"].nunique()
    dof = n_used * (len(names) - 1) - len(cols)
    return float(contrast @ fe), float(math.sqrt(contrast @ cov @ contrast)), float(dof)


def _wilson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    z = stats.norm.ppf(0.5 + level / 2)
    p = k / n
    den = 1 + z**2 / n
    mid = (p + z**2 / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / den
    return mid - half, mid + half


@dataclass
class PowerResult:
    """Estimated power with its Monte Carlo uncertainty, statsmodels-style."""

    design_id: str
    n_patients: int
    n_trials: int
    alpha: float
    rejections: int
    estimates: NDArray[np.float64]
    ses: NDArray[np.float64]
    seed: int
    assumptions: dict[str, Any] = field(default_factory=dict)

    @property
    def power(self) -> float:
        return self.rejections / self.n_trials

    @property
    def mc_se(self) -> float:
        """Monte Carlo standard error sqrt(p(1-p)/n_trials)."""
        p = self.power
        return math.sqrt(p * (1 - p) / self.n_trials)

    def conf_int(self, level: float = 0.95) -> tuple[float, float]:
        """Wilson interval for the true power given the simulated rejections."""
        return _wilson(self.rejections, self.n_trials, level)

    def to_dict(self) -> dict[str, Any]:
        lo, hi = self.conf_int()
        return {
            "design": self.design_id,
            "n_patients": self.n_patients,
            "n_trials": self.n_trials,
            "alpha": self.alpha,
            "power": self.power,
            "mc_se": self.mc_se,
            "ci_lower": lo,
            "ci_upper": hi,
            "mean_estimate": float(np.nanmean(self.estimates)),
            "mean_se": float(np.nanmean(self.ses)),
            "seed": self.seed,
            "assumptions": self.assumptions,
        }

    def plot(self, path: str | Path | None = None) -> Any:
        """Histogram of the simulated treatment estimates (the sampling distribution)."""
        from matplotlib.figure import Figure

        from ldnkit.research.plots import save

        fig = Figure(figsize=(6, 4))
        ax = fig.add_subplot(1, 1, 1)
        ax.hist(self.estimates[np.isfinite(self.estimates)], bins=40, color="tab:blue")
        ax.axvline(0, color="0.4", ls="--", lw=1)
        ax.set_xlabel("estimated LDN - placebo effect")
        ax.set_ylabel("simulated trials")
        ax.set_title(f"{self.design_id}, n = {self.n_patients}: power {self.power:.3f}", fontsize=9)
        return save(fig, path)

    def summary(self) -> str:
        lo, hi = self.conf_int()
        return (
            f"Power for {self.design_id}, n = {self.n_patients} patients, alpha = {self.alpha}: "
            f"{self.power:.3f} (MC SE {self.mc_se:.3f}; 95% CI {lo:.3f}-{hi:.3f}) from "
            f"{self.n_trials} simulated trials (seed {self.seed}); mean estimate "
            f"{np.nanmean(self.estimates):.3f}, mean SE {np.nanmean(self.ses):.3f}"
        )


def _chunk(
    design: Design,
    assumptions: Assumptions,
    n_patients: int,
    n_trials: int,
    seed: np.random.SeedSequence,
    alpha: float,
    memory_limit_bytes: int | None = None,
) -> tuple[int, NDArray[np.float64], NDArray[np.float64]]:
    sim = simulate(
        design,
        assumptions,
        n_patients=n_patients,
        n_trials=n_trials,
        seed=seed,
        memory_limit_bytes=memory_limit_bytes,
    )
    fit = protocol_fit(sim)
    return int(fit.reject(alpha).sum()), fit.estimate, fit.se


def estimate_power(
    design: Design,
    assumptions: Assumptions | None = None,
    n_patients: int = 30,
    n_trials: int = 2000,
    alpha: float = 0.05,
    seed: int = 0,
    chunk: int = 500,
    client: Any | None = None,
    progress: Callable[[int], None] | None = None,
    memory_limit_bytes: int | None = None,
) -> PowerResult:
    """Simulate and analyse `n_trials` trials; `client` (a dask.distributed Client) spreads
    the chunks over a cluster with the same per-chunk seeds, hence the same result."""
    alpha = check_probability("alpha", alpha)
    if not isinstance(design, Design):
        raise ValidationError("design", f"must be a Design, got {type(design).__name__}")
    if assumptions is not None and not isinstance(assumptions, Assumptions):
        raise ValidationError("assumptions", "must be an Assumptions object")
    n_patients = check_int("n_patients", n_patients, 1)
    n_trials = check_int("n_trials", n_trials, 1, MAX_TRIALS)
    seed = check_seed("seed", seed)
    chunk = check_int("chunk", chunk, 1)
    check_memory(
        "n_patients",
        simulation_memory_bytes(min(chunk, n_trials), n_patients, design.total_days),
        memory_limit_bytes,
        f"chunks of {min(chunk, n_trials):,} trials x {n_patients:,} patients",
    )
    a = assumptions or Assumptions()
    sizes = [min(chunk, n_trials - i) for i in range(0, n_trials, chunk)]
    seeds = np.random.SeedSequence(seed).spawn(len(sizes))
    if client is not None:
        futures = [
            client.submit(
                _chunk, design, a, n_patients, s, sd, alpha, memory_limit_bytes, pure=False
            )
            for s, sd in zip(sizes, seeds, strict=True)
        ]
        parts = client.gather(futures)
        if progress:
            progress(n_trials)
    else:
        parts = []
        for s, sd in zip(sizes, seeds, strict=True):
            parts.append(_chunk(design, a, n_patients, s, sd, alpha, memory_limit_bytes))
            if progress:
                progress(s)
    return PowerResult(
        design_id=design.id,
        n_patients=n_patients,
        n_trials=n_trials,
        alpha=alpha,
        rejections=sum(p[0] for p in parts),
        estimates=np.concatenate([p[1] for p in parts]),
        ses=np.concatenate([p[2] for p in parts]),
        seed=seed,
        assumptions=a.model_dump(),
    )


@dataclass
class PowerCurve:
    """Power over sample sizes (same seed at each n: common random numbers)."""

    results: list[PowerResult]

    @property
    def n(self) -> list[int]:
        return [r.n_patients for r in self.results]

    @property
    def power(self) -> list[float]:
        return [r.power for r in self.results]

    def to_dict(self) -> dict[str, Any]:
        return {"points": [r.to_dict() | {"assumptions": None} for r in self.results]}

    def summary(self) -> str:
        lines = [f"Power curve for {self.results[0].design_id} (alpha {self.results[0].alpha})"]
        for r in self.results:
            lo, hi = r.conf_int()
            lines.append(
                f"  n = {r.n_patients:4d}: power {r.power:.3f} (95% MC CI {lo:.3f}-{hi:.3f}, "
                f"{r.n_trials} trials)"
            )
        return "\n".join(lines)

    def plot(self, path: str | Path | None = None, target: float | None = None) -> Any:
        from matplotlib.figure import Figure

        from ldnkit.research.plots import save

        fig = Figure(figsize=(6, 4))
        ax = fig.add_subplot(1, 1, 1)
        lo = [r.conf_int()[0] for r in self.results]
        hi = [r.conf_int()[1] for r in self.results]
        ax.fill_between(self.n, lo, hi, color="tab:blue", alpha=0.2, label="95% MC interval")
        ax.plot(self.n, self.power, "o-", color="tab:blue", label="simulated power")
        if target is not None:
            ax.axhline(target, color="tab:red", ls="--", lw=1, label=f"target {target:.0%}")
        ax.set_xlabel("patients")
        ax.set_ylabel("power")
        ax.set_ylim(0, 1)
        ax.legend(fontsize=8)
        ax.set_title(f"Power curve: {self.results[0].design_id}", fontsize=9)
        return save(fig, path)


def power_curve(
    design: Design,
    ns: Sequence[int],
    assumptions: Assumptions | None = None,
    n_trials: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
    client: Any | None = None,
    progress: Callable[[int], None] | None = None,
    memory_limit_bytes: int | None = None,
) -> PowerCurve:
    """Power at each sample size in `ns` (common random numbers: the same seed at each n)."""
    if isinstance(ns, (str, bytes)) or not hasattr(ns, "__iter__"):
        raise ValidationError("ns", f"give a list of sample sizes, got {ns!r}")
    ns = [check_int("ns", n, 1) for n in ns]
    if not ns:
        raise ValidationError("ns", "give at least one sample size")
    return PowerCurve(
        [
            estimate_power(
                design,
                assumptions,
                n,
                n_trials,
                alpha,
                seed,
                client=client,
                progress=progress,
                memory_limit_bytes=memory_limit_bytes,
            )
            for n in ns
        ]
    )


def sample_size(
    design: Design,
    target: float = 0.8,
    assumptions: Assumptions | None = None,
    n_trials: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
    n_max: int = 400,
    client: Any | None = None,
    memory_limit_bytes: int | None = None,
) -> tuple[int, PowerCurve]:
    """Smallest n (a multiple of the number of sequences) whose simulated power reaches
    `target`, by doubling then bisection; returns it with every point evaluated."""
    target = check_probability("target", target)
    n_max = check_int("n_max", n_max, 2)
    step = len(design.sequences)
    cache: dict[int, PowerResult] = {}

    def pw(n: int) -> float:
        if n not in cache:
            cache[n] = estimate_power(
                design,
                assumptions,
                n,
                n_trials,
                alpha,
                seed,
                client=client,
                memory_limit_bytes=memory_limit_bytes,
            )
        return cache[n].power

    lo, hi = step * 2, step * 2
    while pw(hi) < target:
        lo, hi = hi, hi * 2
        if hi > n_max:
            raise ValidationError("target", f"power {target} not reached with {n_max} patients")
    while hi - lo > step:
        mid = (lo + hi) // 2 // step * step
        if mid in (lo, hi):
            break
        if pw(mid) >= target:
            hi = mid
        else:
            lo = mid
    return hi, PowerCurve([cache[n] for n in sorted(cache)])


def analytic_crossover_power(
    effect: float, sd_diff: float, n_per_sequence: tuple[int, int], alpha: float = 0.05
) -> float:
    """Exact power of the AB/BA crossover t-test (noncentral t, df n - 2): the treatment
    estimate is (mean d_AB - mean d_BA)/2 with d the period-2-minus-period-1 difference."""
    if isinstance(n_per_sequence, (str, bytes)) or len(n_per_sequence) != 2:
        raise ValidationError("n_per_sequence", "give the two sequence sizes (n1, n2)")
    n1 = check_int("n_per_sequence", n_per_sequence[0], 1)
    n2 = check_int("n_per_sequence", n_per_sequence[1], 1)
    if n1 + n2 < 3:
        raise ValidationError("n_per_sequence", "the t-test needs n1 + n2 >= 3 (df >= 1)")
    effect = check_real("effect", effect)
    sd_diff = check_real("sd_diff", sd_diff, 0.0, lo_open=True)
    alpha = check_probability("alpha", alpha)
    se = sd_diff / 2 * math.sqrt(1 / n1 + 1 / n2)
    df = n1 + n2 - 2
    nc = effect / se
    crit = stats.t.ppf(1 - alpha / 2, df)
    return float(stats.nct.sf(crit, df, nc) + stats.nct.cdf(-crit, df, nc))
