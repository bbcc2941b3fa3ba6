"""The closed form (dose-to-dose propagation) equals the ODE reference (solve_ivp).

Both integrate the same rate matrix, so this checks the solution method: random parameters,
random schedules (irregular times, uneven doses), both brain-equilibration structures.
Tolerance: 1e-6 relative, with an absolute floor of 1e-9 x the series' peak for the instants
where a concentration is essentially zero (before the first dose).
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ldnkit.pharmacology import PKParameters, Regimen, solve_reference, trajectories


def _close(a: np.ndarray, b: np.ndarray) -> None:
    floor = 1e-9 * float(np.max(np.abs(b)))
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=floor)


positive = st.floats(min_value=0.05, max_value=1.0)


@st.composite
def cases(draw: st.DrawFn) -> tuple[PKParameters, Regimen, np.ndarray]:
    def logu(lo: float, hi: float) -> float:
        return float(np.exp(draw(st.floats(np.log(lo), np.log(hi)))))

    delayed = draw(st.booleans())
    p = PKParameters(
        ka=logu(0.3, 6.0),
        F=draw(st.floats(0.02, 0.9)),
        CL=logu(20, 300),
        Vc=logu(50, 2000),
        Q=draw(st.sampled_from([0.0, 1.0])) * logu(1, 100),
        Vp=logu(20, 1000),
        fm=draw(st.floats(0.1, 1.0)),
        CLm=logu(5, 80),
        Vm=logu(50, 1500),
        ke0=logu(0.01, 2.0) if delayed else 0.0,
        ke0m=logu(0.01, 2.0) if delayed else 0.0,
    )
    n = draw(st.integers(1, 6))
    gaps = draw(st.lists(st.floats(0.5, 30.0), min_size=n, max_size=n))
    times = np.cumsum(gaps) - gaps[0] + draw(st.floats(0.0, 5.0))
    doses = draw(st.lists(st.floats(0.1, 50.0), min_size=n, max_size=n))
    reg = Regimen(times, doses, end_h=float(times[-1]) + draw(st.floats(6.0, 72.0)))
    step = draw(st.sampled_from([0.25, 0.5, 1.0, 0.7]))
    return p, reg, reg.grid(step)


@settings(max_examples=40, deadline=None)
@given(cases())
def test_closed_form_matches_solve_ivp(case: tuple[PKParameters, Regimen, np.ndarray]) -> None:
    p, reg, t = case
    exact = trajectories(p, reg, t)
    ode = solve_reference(p, reg, t)
    _close(exact.parent, ode.parent)
    _close(exact.metabolite, ode.metabolite)
    if p.effect_site:
        assert exact.effect is not None and ode.effect is not None
        assert exact.effect_m is not None and ode.effect_m is not None
        _close(exact.effect, ode.effect)
        _close(exact.effect_m, ode.effect_m)


def test_vectorised_patients_equal_one_at_a_time() -> None:
    """A batch of patients gives each patient exactly what a batch of one gives."""
    rng = np.random.default_rng(3)
    n = 5
    p = PKParameters(
        ka=rng.uniform(1, 4, n),
        F=rng.uniform(0.1, 0.3, n),
        CL=rng.uniform(60, 200, n),
        Vc=rng.uniform(300, 600, n),
        Q=rng.uniform(5, 30, n),
        Vp=rng.uniform(100, 300, n),
        fm=rng.uniform(0.6, 0.9, n),
        CLm=rng.uniform(15, 30, n),
        Vm=rng.uniform(250, 400, n),
        ke0=rng.uniform(0.03, 0.1, n),
        ke0m=rng.uniform(0.03, 0.1, n),
    )
    reg = Regimen.daily(4.5, 5, hour=22)
    t = reg.grid(1.0)
    batch = trajectories(p, reg, t)
    for i in range(n):
        one = trajectories(p.patient(i), reg, t)
        np.testing.assert_allclose(batch.parent[i], one.parent[0], rtol=1e-12)
        np.testing.assert_allclose(batch.metabolite[i], one.metabolite[0], rtol=1e-12)
