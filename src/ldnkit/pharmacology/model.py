"""Exact solution of the linear naltrexone model by dose-to-dose propagation.

The model is a linear, time-invariant system x' = A x with doses as jumps into the gut state,
so between two events the exact solution is x(t + h) = expm(A h) x(t). We compute the
transition matrix once per patient and per distinct step length (an hourly grid has one), then
walk the event list: propagate, add any dose, record the outputs. No numerical integration is
involved; the only error is floating-point rounding, which is why `reference.py` (an ODE
solver) can be used to check this module to 1e-6 relative.

Only the non-zero entries of the transition matrix are multiplied (the gut and metabolite rows
are sparse), element-wise over patients, which keeps the population path vectorised over
patients with one short Python loop over time steps.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from scipy.linalg import expm

from ldnkit.errors import ValidationError
from ldnkit.pharmacology.parameters import FloatArray, PKParameters
from ldnkit.pharmacology.regimen import Regimen

GUT, CENTRAL, PERIPHERAL, METABOLITE, EFFECT, EFFECT_M = range(6)
STATE_NAMES = ("gut", "central", "peripheral", "metabolite", "effect", "effect_m")


def n_states(p: PKParameters) -> int:
    """4 plasma states, plus 2 effect-site states when brain equilibration is delayed."""
    return 6 if p.effect_site else 4


def system_matrix(p: PKParameters) -> FloatArray:
    """The rate matrix A (patients x states x states) of x' = A x.

    Amount states are in mg of naltrexone base; effect-site states are concentrations in ng/mL
    (1 mg/L = 1000 ng/mL), so occupancy reads them directly.
    """
    b = p.broadcast()
    n, s = b.n, n_states(p)
    a = np.zeros((n, s, s))
    k10 = b.CL / b.Vc
    k12 = b.Q / b.Vc
    k21 = b.Q / b.Vp
    km = b.CLm / b.Vm
    a[:, GUT, GUT] = -b.ka
    a[:, CENTRAL, GUT] = b.F * b.ka
    a[:, CENTRAL, CENTRAL] = -(k10 + k12)
    a[:, CENTRAL, PERIPHERAL] = k21
    a[:, PERIPHERAL, CENTRAL] = k12
    a[:, PERIPHERAL, PERIPHERAL] = -k21
    # First-pass loss (1 - F) and systemic clearance both form 6-beta-naltrexol in fraction fm.
    a[:, METABOLITE, GUT] = b.fm * (1.0 - b.F) * b.ka
    a[:, METABOLITE, CENTRAL] = b.fm * k10
    a[:, METABOLITE, METABOLITE] = -km
    if s == 6:
        a[:, EFFECT, CENTRAL] = b.ke0 * 1000.0 / b.Vc
        a[:, EFFECT, EFFECT] = -b.ke0
        a[:, EFFECT_M, METABOLITE] = b.ke0m * 1000.0 / b.Vm
        a[:, EFFECT_M, EFFECT_M] = -b.ke0m
    return a


def transition(p: PKParameters, h: float) -> FloatArray:
    """expm(A h) for every patient: the exact propagator over a step of h hours."""
    if h < 0:
        raise ValidationError("step", f"negative step {h} h")
    return expm(system_matrix(p) * h)


@dataclass(frozen=True)
class _Sparse:
    """Non-zero entries of a batch of transition matrices, as (row, col, values) triples."""

    rows: tuple[tuple[int, tuple[tuple[int, FloatArray], ...]], ...]

    @classmethod
    def of(cls, phi: FloatArray) -> _Sparse:
        s = phi.shape[1]
        nz = np.any(phi != 0.0, axis=0)
        rows = tuple(
            (i, tuple((j, np.ascontiguousarray(phi[:, i, j])) for j in range(s) if nz[i, j]))
            for i in range(s)
        )
        return cls(rows)

    def apply(self, x: FloatArray, out: FloatArray, tmp: FloatArray) -> None:
        """out = phi @ x for each patient; x, out (states x patients) and tmp not aliased."""
        mul = np.multiply
        for i, terms in self.rows:
            row = out[i]
            if not terms:
                row.fill(0.0)
                continue
            j0, v0 = terms[0]
            mul(v0, x[j0], out=row)
            for j, v in terms[1:]:
                mul(v, x[j], out=tmp)
                row += tmp


@dataclass(slots=True)
class Step:
    """Outputs at one output time, for every patient (concentrations in ng/mL).

    The arrays are views into the propagator's working state: valid until the next step is
    requested, so a consumer copies what it keeps (this saves a copy per step on the hot path).
    """

    index: int
    time_h: float
    parent: FloatArray
    metabolite: FloatArray
    effect: FloatArray | None
    effect_m: FloatArray | None


def _events(regimen: Regimen, times_h: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Merged, sorted event times with the dose (mg) and output index (-1: none) at each."""
    t_all = np.concatenate([regimen.times_h, times_h])
    t_uniq = np.unique(t_all)
    dose = np.zeros(t_uniq.size)
    np.add.at(dose, np.searchsorted(t_uniq, regimen.times_h), regimen.doses_mg)
    out_idx = np.full(t_uniq.size, -1)
    out_idx[np.searchsorted(t_uniq, times_h)] = np.arange(times_h.size)
    return t_uniq, dose, out_idx


def check_times(times_h: FloatArray) -> FloatArray:
    """Output times must be finite, non-negative and strictly increasing."""
    t = np.asarray(times_h, dtype=float)
    if t.ndim != 1 or t.size == 0:
        raise ValidationError("times_h", "need a non-empty 1-D array of output times")
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ValidationError("times_h", "output times must be finite and not negative")
    if np.any(np.diff(t) <= 0):
        raise ValidationError("times_h", "output times must be strictly increasing")
    return t


def propagate(p: PKParameters, regimen: Regimen, times_h: FloatArray) -> Iterator[Step]:
    """Walk the events exactly, yielding outputs at each requested time.

    Time zero is the regimen origin; every patient starts drug-free. Doses are mg of
    naltrexone hydrochloride (what is compounded), converted to base by `salt_fraction`.
    """
    times_h = check_times(times_h)
    b = p.broadcast()
    n, s = b.n, n_states(p)
    t_ev, dose_ev, out_ev = _events(regimen, times_h)
    steps = np.diff(t_ev, prepend=0.0)
    # One propagator per distinct step length; an hourly grid with on-the-hour doses has one.
    keys = np.round(steps, 9)
    cache: dict[float, _Sparse] = {}
    # Work in a scaled basis where the central and metabolite states are concentrations in
    # ng/mL (x' = D x, phi' = D phi D^-1), so outputs need no per-step rescaling.
    scale = np.ones((n, s))
    scale[:, CENTRAL] = 1000.0 / b.Vc
    scale[:, METABOLITE] = 1000.0 / b.Vm
    for key in np.unique(keys):
        if key > 0:
            phi = transition(b, float(key)) * scale[:, :, None] / scale[:, None, :]
            cache[float(key)] = _Sparse.of(phi)
    x = np.zeros((s, n))
    work = np.empty_like(x)
    tmp = np.empty(n)
    gut_dose = b.salt_fraction
    delayed = s == 6
    for k in range(t_ev.size):
        key = float(keys[k])
        if key > 0:
            cache[key].apply(x, work, tmp)
            x, work = work, x
        if dose_ev[k] != 0.0:
            x[GUT] += dose_ev[k] * gut_dose
        j = int(out_ev[k])
        if j >= 0:
            yield Step(
                j,
                float(t_ev[k]),
                x[CENTRAL],
                x[METABOLITE],
                x[EFFECT] if delayed else None,
                x[EFFECT_M] if delayed else None,
            )


@dataclass(frozen=True)
class Trajectories:
    """Concentrations (ng/mL) at the output times, patients x times."""

    times_h: FloatArray
    parent: FloatArray
    metabolite: FloatArray
    effect: FloatArray | None
    effect_m: FloatArray | None


def trajectories(p: PKParameters, regimen: Regimen, times_h: FloatArray) -> Trajectories:
    """Full concentration-time arrays; memory is patients x times, so for small runs only."""
    times_h = check_times(times_h)
    n, t = p.n, times_h.size
    cp = np.empty((n, t))
    cm = np.empty((n, t))
    delayed = p.effect_site
    ce = np.empty((n, t)) if delayed else None
    cem = np.empty((n, t)) if delayed else None
    for st in propagate(p, regimen, times_h):
        cp[:, st.index] = st.parent
        cm[:, st.index] = st.metabolite
        if ce is not None and cem is not None:
            ce[:, st.index] = st.effect
            cem[:, st.index] = st.effect_m
    return Trajectories(times_h, cp, cm, ce, cem)


__all__ = [
    "STATE_NAMES",
    "Step",
    "Trajectories",
    "check_times",
    "n_states",
    "propagate",
    "system_matrix",
    "trajectories",
    "transition",
]
