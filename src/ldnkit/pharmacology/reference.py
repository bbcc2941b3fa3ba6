"""ODE reference: the same model integrated numerically with scipy's solve_ivp.

It exists to check the closed form (tests, benchmark), not to be used for results: it solves
one patient at a time, restarting the integrator at every dose because a dose is a jump in the
gut amount. It shares `system_matrix` with the closed form, so it checks the solution method,
not the equations; the equations are checked against published figures instead.
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp

from ldnkit.errors import ValidationError
from ldnkit.pharmacology.model import (
    CENTRAL,
    EFFECT,
    EFFECT_M,
    GUT,
    METABOLITE,
    Trajectories,
    check_times,
    system_matrix,
)
from ldnkit.pharmacology.parameters import PKParameters
from ldnkit.pharmacology.regimen import Regimen


def solve_reference(
    p: PKParameters,
    regimen: Regimen,
    times_h: np.ndarray,
    rtol: float = 1e-10,
    atol: float = 1e-14,
) -> Trajectories:
    """Integrate x' = A x for one patient between doses (DOP853, tight tolerances)."""
    if p.n != 1:
        raise ValidationError("params", "the ODE reference solves one patient at a time")
    times_h = check_times(times_h)
    a = system_matrix(p)[0]
    s = a.shape[0]
    b = p.broadcast()
    salt = float(b.salt_fraction[0])
    vc, vm = float(b.Vc[0]), float(b.Vm[0])
    out = np.zeros((s, times_h.size))
    # A segment runs from one dose to the next (the last to the final output time); outputs
    # before the first dose stay zero (drug-free). Each segment is integrated afresh.
    starts = [float(t) for t in regimen.times_h]
    ends = [*starts[1:], max(float(times_h[-1]), starts[-1])]
    x = np.zeros(s)
    last = len(starts) - 1
    for k, (t0, t1, dose) in enumerate(zip(starts, ends, regimen.doses_mg, strict=True)):
        x = x.copy()
        x[GUT] += dose * salt
        sel = (times_h >= t0) & ((times_h < t1) if k < last else (times_h <= t1))
        if t1 == t0:
            out[:, sel] = x[:, None]
            continue
        t_eval = np.unique(np.append(times_h[sel], t1))
        sol = solve_ivp(
            lambda _t, y: a @ y,
            (t0, t1),
            x,
            method="DOP853",
            rtol=rtol,
            atol=atol,
            t_eval=t_eval,
        )
        if not sol.success:
            raise RuntimeError(f"solve_ivp failed: {sol.message}")
        out[:, sel] = sol.y[:, : int(np.sum(sel))]
        x = sol.y[:, -1]
    cp = out[CENTRAL] * 1000.0 / vc
    cm = out[METABOLITE] * 1000.0 / vm
    eff = out[EFFECT][None, :] if s == 6 else None
    eff_m = out[EFFECT_M][None, :] if s == 6 else None
    return Trajectories(times_h, cp[None, :], cm[None, :], eff, eff_m)


__all__ = ["solve_reference"]
