"""Virtual populations: between-patient variability, chunked exact simulation, summaries.

Memory is bounded by chunking: each chunk of patients is propagated hour by hour and reduced
on the fly to per-patient summaries (12 float32 numbers each), per-day histograms of hours
above 50% and 90% occupancy, population-mean time courses, and the full trajectories of a
small kept sample (for percentile bands in plots). Nothing of size patients x time is ever
held, so 100,000 patients x 12 weeks needs tens of megabytes.

Reproducibility: chunk i draws its patients from `SeedSequence(seed).spawn(n_chunks)[i]`, so
the same seed and chunk size give identical results whether chunks run here, in any order, or
on a Dask cluster (`client=`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from ldnkit.bounds import check_int, check_memory, check_real, check_seed
from ldnkit.errors import ValidationError
from ldnkit.pharmacology.model import propagate
from ldnkit.pharmacology.occupancy import potency
from ldnkit.pharmacology.parameters import BindingParameters, FloatArray, PKParameters
from ldnkit.pharmacology.published import (
    PharmacokineticsEvidence,
    binding_parameters,
    pk_evidence,
    typical_parameters,
)
from ldnkit.pharmacology.regimen import Regimen
from ldnkit.table import Table

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_FRACTIONS = ("F", "fm")
_CLEARANCES = ("CL", "Q", "CLm")
_VOLUMES = ("Vc", "Vp", "Vm")
METRICS = (
    "cmax_parent",
    "cmax_metabolite",
    "auc_parent",
    "auc_metabolite",
    "peak_occupancy",
    "mean_hours_50",
    "mean_hours_90",
    "mean_trough",
    "last_day_hours_50",
    "last_day_hours_90",
    "last_day_peak",
    "last_day_trough",
)
PERCENTILES = (5.0, 50.0, 95.0)
# Body weights an adult LDN patient can plausibly have; outside is a unit or typing error
# (the model's own normal draws are clipped to 35-200 kg).
WEIGHT_RANGE_KG = (30.0, 300.0)
WEIGHT_SD_MAX_KG = 100.0
MAX_STORED_PATIENTS = 1_000_000  # above this, per-patient metrics are summarised by histograms

# Fixed bins for streaming percentiles when patients are too many to keep: concentrations and
# AUCs on a log scale (200 bins per decade, 1.2% resolution), occupancy 0-1 in 0.05% steps,
# hours 0-24 in 0.01 h steps.
_LOG_EDGES = np.logspace(-6.0, 7.0, 13 * 200 + 1)
_FRAC_EDGES = np.linspace(0.0, 1.0, 2001)
_HOUR_EDGES = np.linspace(0.0, 24.0, 2401)
_METRIC_EDGES = tuple(
    _LOG_EDGES if m.startswith(("cmax", "auc")) else _HOUR_EDGES if "hours" in m else _FRAC_EDGES
    for m in METRICS
)


def _metric_histograms(metrics: FloatArray) -> list[FloatArray]:
    """Counts of each metric column in its fixed bins (values outside go to the end bins)."""
    out = []
    for col, edges in enumerate(_METRIC_EDGES):
        idx = np.searchsorted(edges, metrics[:, col].astype(float), side="right") - 1
        out.append(np.bincount(np.clip(idx, 0, edges.size - 2), minlength=edges.size - 1))
    return out


def _hist_quantile(counts: FloatArray, edges: FloatArray, q: float) -> float:
    """Percentile from binned counts, linear within the bin (log-linear for log bins)."""
    cum = np.cumsum(counts)
    target = q / 100.0 * cum[-1]
    i = int(np.searchsorted(cum, target, side="left"))
    i = min(i, counts.size - 1)
    below = cum[i - 1] if i else 0
    frac = (target - below) / counts[i] if counts[i] else 0.0
    lo, hi = edges[i], edges[i + 1]
    if edges is _LOG_EDGES:
        return float(lo * (hi / lo) ** frac)
    return float(lo + (hi - lo) * frac)


@dataclass(frozen=True)
class PopulationModel:
    """Typical parameters, log-normal variability (CV) and an optional weight covariate.

    Fractions (F, fm) vary on the logit scale so they stay in (0, 1). Weight scales
    clearances by (w/ref)^clearance_exponent and volumes by (w/ref)^volume_exponent.
    """

    typical: PKParameters
    cv: dict[str, float]
    weight_ref_kg: float = 70.0
    clearance_exponent: float = 0.75
    volume_exponent: float = 1.0

    def __post_init__(self) -> None:
        for name, cv in self.cv.items():
            if not hasattr(self.typical, name):
                raise ValidationError(f"cv.{name}", "not a kinetic parameter")
            if not np.isfinite(cv) or cv < 0:
                raise ValidationError(f"cv.{name}", "variability must be a CV >= 0")

    @classmethod
    def from_evidence(
        cls, scenario: str | None = None, evidence: PharmacokineticsEvidence | None = None
    ) -> PopulationModel:
        e = evidence or pk_evidence()
        cv = {
            name: getattr(e.parameters, name).iiv_cv
            for name in type(e.parameters).model_fields
            if getattr(e.parameters, name).iiv_cv > 0
        }
        w = e.covariates.weight
        return cls(
            typical_parameters(scenario, e),
            cv,
            w.reference_kg,
            w.clearance_exponent,
            w.volume_exponent,
        )

    def sample(
        self,
        n: int,
        rng: np.random.Generator,
        weight_kg: float | tuple[float, float] | FloatArray | None = None,
    ) -> PKParameters:
        """Draw `n` patients. `weight_kg`: fixed, (mean, sd) normal, or an array of n weights."""
        n = check_int("n", n, 1)
        check_weight(weight_kg, n)
        t = self.typical
        values: dict[str, Any] = {}
        for name, cv in self.cv.items():
            theta = float(np.asarray(getattr(t, name)))
            omega = float(np.sqrt(np.log1p(cv * cv)))
            eta = rng.normal(0.0, omega, n)
            if name in _FRACTIONS:
                logit = np.log(theta / (1.0 - theta)) + eta
                values[name] = 1.0 / (1.0 + np.exp(-logit))
            else:
                values[name] = theta * np.exp(eta)
        if weight_kg is not None:
            if isinstance(weight_kg, tuple):
                w = np.clip(rng.normal(weight_kg[0], weight_kg[1], n), 35.0, 200.0)
            else:
                w = np.broadcast_to(np.asarray(weight_kg, dtype=float), (n,))
            ratio = w / self.weight_ref_kg
            for name in _CLEARANCES:
                values[name] = (
                    values.get(name, float(np.asarray(getattr(t, name))))
                    * ratio**self.clearance_exponent
                )
            for name in _VOLUMES:
                values[name] = (
                    values.get(name, float(np.asarray(getattr(t, name))))
                    * ratio**self.volume_exponent
                )
        full = {
            k: np.broadcast_to(np.asarray(v, dtype=float), (n,)).copy()
            for k, v in {**vars(t), **values}.items()
        }
        return PKParameters(**full)


def check_weight(weight_kg: Any, n: int) -> None:
    """Body weight: a number, (mean, sd) or n numbers, each finite and plausible for an adult
    (WEIGHT_RANGE_KG); raises ValidationError naming `weight_kg`, never a kinetic parameter."""
    if weight_kg is None:
        return
    lo, hi = WEIGHT_RANGE_KG
    if isinstance(weight_kg, tuple):
        if len(weight_kg) != 2:
            raise ValidationError("weight_kg", "give (mean, sd) in kg")
        check_real("weight_kg.mean", weight_kg[0], lo, hi)
        check_real("weight_kg.sd", weight_kg[1], 0.0, WEIGHT_SD_MAX_KG)
        return
    try:
        w = np.asarray(weight_kg, dtype=float)
    except (TypeError, ValueError):
        raise ValidationError("weight_kg", f"must be a number of kg, got {weight_kg!r}") from None
    if w.ndim > 1 or (w.ndim == 1 and w.size != n):
        raise ValidationError("weight_kg", f"give one weight or {n} weights, got shape {w.shape}")
    bad = ~np.isfinite(w) | (w < lo) | (w > hi)
    if np.any(bad):
        first = float(w.ravel()[np.flatnonzero(bad.ravel())[0]])
        raise ValidationError(
            "weight_kg", f"{first!r} kg is not a plausible body weight ({lo:g}-{hi:g} kg)"
        )


def population_memory_bytes(
    n: int, n_times: int, days: int, steps_per_day: int, chunk_size: int, keep: int
) -> int:
    """Bytes `simulate_population` holds at once (local run), counted from its arrays:
    per chunk, patients x (days x 40 B of daily counters/peaks/troughs + ~2 kB of parameters,
    state and propagators); for the whole run, per-patient metrics up to MAX_STORED_PATIENTS
    (48 B each), one 3 x time-points x 8 B sum per chunk plus ~1 kB of seed/spec, the kept
    trajectories (3 x keep x time points x 4 B) and the day histograms."""
    c = min(chunk_size, n)
    n_chunks = -(-n // chunk_size)
    per_chunk = c * (days * 40 + 2048) + 3 * min(keep, c) * n_times * 4 + 3 * n_times * 8
    merged = (
        (n * 48 if n <= MAX_STORED_PATIENTS else 0)
        + n_chunks * (3 * n_times * 8 + 1024)
        + 3 * min(keep, n) * n_times * 4
        + 2 * days * (steps_per_day + 1) * 8
    )
    return int(per_chunk + merged)


@dataclass
class _Chunk:
    """Reduced results of one chunk of patients."""

    index: int
    metrics: FloatArray  # patients x len(METRICS), float32
    hist_50: FloatArray  # days x (steps per day + 1) counts
    hist_90: FloatArray
    sum_parent: FloatArray  # per output time
    sum_metabolite: FloatArray
    sum_occupancy: FloatArray
    kept_parent: FloatArray  # kept patients x times, float32
    kept_metabolite: FloatArray
    kept_occupancy: FloatArray


@dataclass(frozen=True)
class _ChunkSpec:
    index: int
    size: int
    keep: int
    seed: np.random.SeedSequence
    model: PopulationModel
    binding: BindingParameters
    regimen: Regimen
    dt_h: float
    weight_kg: Any = None


def _run_chunk(spec: _ChunkSpec) -> _Chunk:
    """Simulate one chunk exactly and reduce it; top-level so Dask can ship it."""
    rng = np.random.default_rng(spec.seed)
    params = spec.model.sample(spec.size, rng, spec.weight_kg)
    chunk = _reduce(params, spec.binding, spec.regimen, spec.dt_h, spec.keep)
    chunk.index = spec.index
    return chunk


def _reduce(
    params: PKParameters, binding: BindingParameters, regimen: Regimen, dt_h: float, keep: int
) -> _Chunk:
    times = regimen.grid(dt_h)
    n, nt, days = params.n, times.size, regimen.days
    spd = round(24.0 / dt_h)
    a, am = potency(binding)
    cmax_p = np.zeros(n)
    cmax_m = np.zeros(n)
    auc_p = np.zeros(n)
    auc_m = np.zeros(n)
    peak = np.zeros(n)
    # Day-major layout keeps each day's row contiguous for the per-step updates.
    h50 = np.zeros((days, n), dtype=np.int32)
    h90 = np.zeros((days, n), dtype=np.int32)
    dpeak = np.zeros((days, n))
    dtrough = np.ones((days, n))
    sums = np.zeros((3, nt))
    kept = np.zeros((3, keep, nt), dtype=np.float32)
    u = np.empty(n)
    occ = np.empty(n)
    tmp = np.empty(n)
    above = np.empty(n, dtype=bool)
    day_of = np.floor(times / 24.0 + 1e-9).astype(int)
    for st in propagate(params, regimen, times):
        cp, cm = st.parent, st.metabolite
        np.maximum(cmax_p, cp, out=cmax_p)
        np.maximum(cmax_m, cm, out=cmax_m)
        auc_p += cp
        auc_m += cm
        ep = st.effect if st.effect is not None else cp
        em = st.effect_m if st.effect_m is not None else cm
        np.multiply(ep, a, out=u)
        np.multiply(em, am, out=tmp)
        u += tmp
        np.maximum(u, 0.0, out=u)
        np.add(u, 1.0, out=tmp)
        np.divide(u, tmp, out=occ)
        np.maximum(peak, occ, out=peak)
        j = st.index
        d = int(day_of[j])
        if d < days:
            np.greater_equal(occ, 0.5, out=above)
            h50[d] += above
            np.greater_equal(occ, 0.9, out=above)
            h90[d] += above
            np.maximum(dpeak[d], occ, out=dpeak[d])
            np.minimum(dtrough[d], occ, out=dtrough[d])
        sums[0, j] = cp.sum()
        sums[1, j] = cm.sum()
        sums[2, j] = occ.sum()
        if keep:
            kept[0, :, j] = cp[:keep]
            kept[1, :, j] = cm[:keep]
            kept[2, :, j] = occ[:keep]
    hours50 = h50 * dt_h
    hours90 = h90 * dt_h
    metrics = np.column_stack(
        [
            cmax_p,
            cmax_m,
            auc_p * dt_h,
            auc_m * dt_h,
            peak,
            hours50.mean(axis=0),
            hours90.mean(axis=0),
            dtrough.mean(axis=0),
            hours50[-1],
            hours90[-1],
            dpeak[-1],
            dtrough[-1],
        ]
    ).astype(np.float32)
    hist50 = np.stack([np.bincount(h50[d], minlength=spd + 1)[: spd + 1] for d in range(days)])
    hist90 = np.stack([np.bincount(h90[d], minlength=spd + 1)[: spd + 1] for d in range(days)])
    return _Chunk(0, metrics, hist50, hist90, sums[0], sums[1], sums[2], kept[0], kept[1], kept[2])


def _hist_percentile(hist: FloatArray, q: float, dt_h: float) -> FloatArray:
    """Exact percentile (lower) per day from integer histograms of grid-step counts."""
    cum = np.cumsum(hist, axis=1)
    total = cum[:, -1:]
    target = np.maximum(np.ceil(q / 100.0 * total), 1)
    return np.argmax(cum >= target, axis=1) * dt_h


@dataclass(frozen=True)
class PopulationResult:
    """A simulated virtual population; `summary()` gives percentiles across patients."""

    regimen: Regimen
    scenario: str
    n: int
    seed: int
    dt_h: float
    chunk_size: int
    times_h: FloatArray
    metrics: FloatArray | None  # n x len(METRICS); None above MAX_STORED_PATIENTS
    metric_hist: tuple[FloatArray, ...]  # fixed-bin counts per metric (always)
    hist_50: FloatArray
    hist_90: FloatArray
    mean_parent: FloatArray
    mean_metabolite: FloatArray
    mean_occupancy: FloatArray
    kept_parent: FloatArray
    kept_metabolite: FloatArray
    kept_occupancy: FloatArray
    notes: tuple[str, ...] = field(default=())

    def metric(self, name: str) -> FloatArray:
        """One metric for every patient (kept up to MAX_STORED_PATIENTS patients)."""
        if name not in METRICS:
            raise ValidationError("metric", f"unknown {name!r}; one of {', '.join(METRICS)}")
        if self.metrics is None:
            raise ValidationError(
                "metric", f"per-patient values are not kept above {MAX_STORED_PATIENTS:,} patients"
            )
        return self.metrics[:, METRICS.index(name)].astype(float)

    def percentiles(self, name: str, q: tuple[float, ...] = PERCENTILES) -> FloatArray:
        """Exact percentiles when patients are kept, else from the fixed bins."""
        if self.metrics is not None:
            return np.percentile(self.metric(name), q)
        if name not in METRICS:
            raise ValidationError("metric", f"unknown {name!r}; one of {', '.join(METRICS)}")
        i = METRICS.index(name)
        return np.array([_hist_quantile(self.metric_hist[i], _METRIC_EDGES[i], x) for x in q])

    def daily_hours(self, threshold: float = 0.5, q: float = 50.0) -> FloatArray:
        """Per-day percentile (exact, from histograms) of hours above 50% or 90% occupancy."""
        hist = {0.5: self.hist_50, 0.9: self.hist_90}.get(threshold)
        if hist is None:
            raise ValidationError("threshold", "0.5 or 0.9")
        return _hist_percentile(hist, q, self.dt_h)

    def summary(self) -> str:
        """`table()` as plain text: every result's `summary()` is a `str` (research and
        pharmacology alike); shells that draw tables (the CLI's Rich) use `table()`."""
        return str(self.table())

    def table(self) -> Table:
        """Percentiles across patients of exposure and occupancy metrics."""
        labels = {
            "cmax_parent": ("Cmax naltrexone", "ng/mL"),
            "cmax_metabolite": ("Cmax 6-beta-naltrexol", "ng/mL"),
            "auc_parent": ("AUC naltrexone (whole period)", "ng.h/mL"),
            "auc_metabolite": ("AUC 6-beta-naltrexol (whole period)", "ng.h/mL"),
            "peak_occupancy": ("peak MOR occupancy", "%"),
            "mean_hours_50": ("hours/day >= 50% occupancy (mean over days)", "h"),
            "mean_hours_90": ("hours/day >= 90% occupancy (mean over days)", "h"),
            "mean_trough": ("daily trough occupancy (mean over days)", "%"),
            "last_day_hours_50": ("last day: hours >= 50%", "h"),
            "last_day_hours_90": ("last day: hours >= 90%", "h"),
            "last_day_peak": ("last day: peak occupancy", "%"),
            "last_day_trough": ("last day: trough occupancy", "%"),
        }
        rows = []
        for name in METRICS:
            label, unit = labels[name]
            pct = self.percentiles(name)
            scale = 100.0 if unit == "%" else 1.0
            rows.append((label, unit, *(f"{scale * v:.3g}" for v in pct)))
        return Table(
            title=f"{self.regimen.label or 'regimen'}: {self.n} virtual patients "
            f"(seed {self.seed}, {self.scenario} scenario, {self.dt_h:g} h steps)",
            columns=("metric", "unit", *(f"P{q:g}" for q in PERCENTILES)),
            rows=tuple(rows),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "regimen": self.regimen.to_dict(),
            "scenario": self.scenario,
            "n": self.n,
            "seed": self.seed,
            "dt_h": self.dt_h,
            "percentiles": {
                name: dict(
                    zip(
                        (f"P{q:g}" for q in PERCENTILES),
                        self.percentiles(name).tolist(),
                        strict=True,
                    )
                )
                for name in METRICS
            },
            "daily_median_hours_50": self.daily_hours(0.5).tolist(),
            "daily_median_hours_90": self.daily_hours(0.9).tolist(),
            "notes": list(self.notes),
        }

    def plot(self, path: str | None = None) -> Figure:
        """Concentration and occupancy bands over the period and over the last day."""
        from ldnkit.pharmacology.plots import plot_bands

        return plot_bands(
            self.times_h,
            (self.kept_parent, self.kept_metabolite, self.kept_occupancy),
            (self.mean_parent, self.mean_metabolite, self.mean_occupancy),
            title=f"{self.regimen.label or 'regimen'}: {self.n} patients "
            f"({self.kept_occupancy.shape[0]} kept for bands), {self.scenario} scenario",
            path=path,
        )


def simulate_population(
    regimen: Regimen,
    n: int = 1000,
    seed: int = 0,
    scenario: str | None = None,
    dt_h: float = 1.0,
    chunk_size: int = 10_000,
    keep: int = 200,
    weight_kg: float | tuple[float, float] | None = None,
    model: PopulationModel | None = None,
    binding: BindingParameters | None = None,
    client: Any = None,
    progress: Callable[[int], None] | None = None,
    memory_limit_bytes: int | None = None,
) -> PopulationResult:
    """Simulate `n` virtual patients on `regimen` in chunks (optionally on a Dask `client`).

    Every argument is checked before any work: `n` a whole number >= 1, `seed` 0 .. 2^128-1,
    `dt_h` a step dividing 24 h, `weight_kg` plausible (WEIGHT_RANGE_KG), and the memory the
    run would hold (`population_memory_bytes`) within `memory_limit_bytes` (default
    `ldnkit.bounds.DEFAULT_MEMORY_LIMIT_BYTES`), so an impossible size is refused up front
    with the limit instead of exhausting the machine."""
    n = check_int("n", n, 1)
    seed = check_seed("seed", seed)
    chunk_size = check_int("chunk_size", chunk_size, 1)
    keep = check_int("keep", keep, 0)
    dt_h = check_real("dt_h", dt_h, 0.0, 24.0, lo_open=True)
    if abs(24.0 / dt_h - round(24.0 / dt_h)) > 1e-9:
        raise ValidationError("dt_h", "time step must divide 24 hours")
    if not isinstance(regimen, Regimen):
        raise ValidationError("regimen", f"must be a Regimen, got {type(regimen).__name__}")
    check_weight(weight_kg, n)
    n_times = round(float(regimen.end_h or 0.0) / dt_h) + 1
    need = population_memory_bytes(n, n_times, regimen.days, round(24.0 / dt_h), chunk_size, keep)
    check_memory("n", need, memory_limit_bytes, f"{n:,} patients x {n_times:,} time points")
    name = scenario or pk_evidence().default_scenario
    mdl = model or PopulationModel.from_evidence(name)
    bnd = binding or binding_parameters(name)
    sizes = [min(chunk_size, n - i) for i in range(0, n, chunk_size)]
    seeds = np.random.SeedSequence(seed).spawn(len(sizes))
    keep_left = max(0, keep)
    specs = []
    for i, (size, ss) in enumerate(zip(sizes, seeds, strict=True)):
        k = min(size, keep_left)
        keep_left -= k
        w = weight_kg
        if w is not None and not isinstance(w, tuple) and np.ndim(w) == 1:
            w = np.asarray(w, dtype=float)[i * chunk_size : i * chunk_size + size]  # per patient
        specs.append(_ChunkSpec(i, size, k, ss, mdl, bnd, regimen, dt_h, w))
    merge = _Merger(n, chunk_size, keep, regimen.grid(dt_h).size, regimen.days, dt_h)
    if client is not None:
        from distributed import as_completed

        futures = client.map(_run_chunk, specs, pure=False)
        for _, chunk in as_completed(futures, with_results=True):
            merge.add(chunk)
            if progress:
                progress(specs[chunk.index].size)
    else:
        for spec in specs:
            merge.add(_run_chunk(spec))
            if progress:
                progress(spec.size)
    return merge.result(regimen, name, seed, dt_h, chunk_size)


class _Merger:
    """Folds chunk results in as they arrive, in any order, into bounded accumulators.

    Integer counts are order-free; per-chunk float sums are kept (one time series per chunk)
    and added in chunk order at the end, so the result is bit-identical whatever the order
    the chunks finished in (locally or on Dask).
    """

    def __init__(self, n: int, chunk_size: int, keep: int, n_times: int, days: int, dt_h: float):
        self.n, self.chunk_size = n, chunk_size
        self.store = n <= MAX_STORED_PATIENTS
        self.metrics = np.zeros((n, len(METRICS)), dtype=np.float32) if self.store else None
        self.metric_hist = [np.zeros(e.size - 1, dtype=np.int64) for e in _METRIC_EDGES]
        spd = round(24.0 / dt_h)
        self.hist_50 = np.zeros((days, spd + 1), dtype=np.int64)
        self.hist_90 = np.zeros((days, spd + 1), dtype=np.int64)
        self.sums: dict[int, FloatArray] = {}
        k = min(max(keep, 0), n)
        self.kept = np.zeros((3, k, n_times), dtype=np.float32)

    def add(self, c: _Chunk) -> None:
        start = c.index * self.chunk_size
        if self.metrics is not None:
            self.metrics[start : start + c.metrics.shape[0]] = c.metrics
        for h, add in zip(self.metric_hist, _metric_histograms(c.metrics), strict=True):
            h += add
        self.hist_50 += c.hist_50
        self.hist_90 += c.hist_90
        self.sums[c.index] = np.stack([c.sum_parent, c.sum_metabolite, c.sum_occupancy])
        k = c.kept_parent.shape[0]
        if k:
            for i, arr in enumerate((c.kept_parent, c.kept_metabolite, c.kept_occupancy)):
                self.kept[i, start : start + k] = arr

    def result(
        self, regimen: Regimen, name: str, seed: int, dt_h: float, chunk_size: int
    ) -> PopulationResult:
        total = np.zeros_like(next(iter(self.sums.values())))
        for i in sorted(self.sums):
            total += self.sums[i]
        notes = [
            "Percentile bands over time use the first kept patients; metric percentiles use all.",
            "Variability (CV) values are assumptions; see pharmacokinetics.yaml.",
        ]
        if self.metrics is None:
            notes.append(
                f"More than {MAX_STORED_PATIENTS:,} patients: metric percentiles come from fixed "
                "bins (1.2% for concentrations, 0.05% occupancy, 0.01 h)."
            )
        return PopulationResult(
            regimen=regimen,
            scenario=name,
            n=self.n,
            seed=seed,
            dt_h=dt_h,
            chunk_size=chunk_size,
            times_h=regimen.grid(dt_h),
            metrics=self.metrics,
            metric_hist=tuple(self.metric_hist),
            hist_50=self.hist_50,
            hist_90=self.hist_90,
            mean_parent=total[0] / self.n,
            mean_metabolite=total[1] / self.n,
            mean_occupancy=total[2] / self.n,
            kept_parent=self.kept[0],
            kept_metabolite=self.kept[1],
            kept_occupancy=self.kept[2],
            notes=tuple(notes),
        )


def with_scenario(model: PopulationModel, ke0: float, ke0m: float) -> PopulationModel:
    """The same population with another brain-equilibration assumption."""
    return replace(model, typical=replace(model.typical, ke0=ke0, ke0m=ke0m))


__all__ = [
    "METRICS",
    "WEIGHT_RANGE_KG",
    "PopulationModel",
    "PopulationResult",
    "check_weight",
    "population_memory_bytes",
    "simulate_population",
    "with_scenario",
]
