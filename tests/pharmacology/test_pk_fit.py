"""The occupancy fit: exact unit responses, parameter recovery, the stored default, intervals.

Data: `occupancy_data.yaml` (Rabiner 2011 via Trostheim 2022, Lee 1988, Weerts 2008, product
information, a 2005 PET abstract); stored results: `occupancy_fit.yaml`, written by
`ldnkit pk fit --out ...`. The full fit takes about a minute, so these tests check the stored
results against the code instead of refitting all candidates, and fit one structure to
synthetic data to show the machinery recovers what generated it.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest

from ldnkit.cli import main
from ldnkit.pharmacology import Regimen, pk_evidence, simulate, trajectories, typical_parameters
from ldnkit.pharmacology.fit import (
    STRUCTURES,
    Observation,
    OccupancyData,
    Problem,
    fit_structure,
    held_out_predictions,
    hours_above,
    occupancy_data,
    pk_checks,
    plasma_responses,
    predict,
    stored_fit,
    structure,
)

DATA = occupancy_data()
STORED = stored_fit()


def _stored_values() -> dict[str, float]:
    return {n: e.value for n, e in STORED.estimates.items() if n != "sigma"}


def test_closed_form_unit_responses_match_the_exact_propagator() -> None:
    p = replace(typical_parameters("fitted"), ke0=0.0416, ke0m=0.0416)
    parent, metab = plasma_responses(replace(p, ke0=0.0, ke0m=0.0))
    times = np.arange(0.0, 200.0, 0.5)
    tr = trajectories(p, Regimen.single(3.0, follow_h=200), times)
    assert tr.effect is not None and tr.effect_m is not None
    np.testing.assert_allclose(3.0 * parent(times), tr.parent[0], rtol=1e-8, atol=1e-14)
    np.testing.assert_allclose(3.0 * metab(times), tr.metabolite[0], rtol=1e-8, atol=1e-14)
    np.testing.assert_allclose(
        3.0 * parent.effect_site(0.0416)(times), tr.effect[0], rtol=1e-7, atol=1e-12
    )
    np.testing.assert_allclose(
        3.0 * metab.effect_site(0.0416)(times), tr.effect_m[0], rtol=1e-7, atol=1e-12
    )


def test_closed_form_steady_state_matches_long_simulation() -> None:
    problem = Problem.from_evidence()
    pr = problem.predictor(structure("effect_site"), _stored_values())
    occ = pr.steady_day(4.5, step_h=0.25)
    sim = simulate(Regimen.daily(4.5, 40, hour=0.0), scenario="fitted", dt_h=0.25)
    last = sim.occupancy[0, -occ.size - 1 : -1]
    np.testing.assert_allclose(occ, last, atol=1e-4)


def _synthetic(kp: float, ke0: float, sigma: float, seed: int) -> Problem:
    """A richer design than the published one, values drawn from the model itself."""
    rng = np.random.default_rng(seed)
    base = Problem.from_evidence([])
    truth = base.predictor(structure("effect_site"), {"kp": kp, "ke0": ke0})
    obs = []
    for dose in (1.0, 2.0, 5.0, 15.0, 50.0):
        for t in (3.0, 24.0, 72.0):
            o = Observation(
                id=f"s{dose}-{t}",
                role="fit",
                kind="occupancy",
                dose_mg=dose,
                time_after_last_dose_h=t,
                value=0.5,
                sources=[],
            )
            value = float(np.clip(predict(truth, o) + rng.normal(0, sigma), 0, 1))
            obs.append(o.model_copy(update={"value": value}))
    return replace(base, observations=tuple(obs))


def test_fit_recovers_known_parameters_from_synthetic_data() -> None:
    problem = _synthetic(kp=2.0, ke0=0.06, sigma=0.02, seed=11)
    fit = fit_structure(problem, "effect_site", profile=False)
    est = {e.name: e for e in fit.estimates}
    for name, true in (("kp", 2.0), ("ke0", 0.06)):
        assert est[name].wald[0] <= true <= est[name].wald[1], (name, est[name])
        assert abs(est[name].value / true - 1) < 0.15
    assert 0.01 < fit.sigma < 0.04
    # AIC bookkeeping: 3 free parameters (kp, ke0, sigma).
    assert fit.k == 3 and fit.aic == pytest.approx(2 * fit.nll + 6)
    # The comparison recovers the structure too: instant equilibrium cannot fit delayed data.
    other = fit_structure(problem, "equilibrium", profile=False)
    assert other.aic > fit.aic + 10


def test_stored_default_was_chosen_by_aic_and_matches_the_scenario() -> None:
    aics = [c["aic"] for c in STORED.comparison]
    assert aics == sorted(aics)
    assert STORED.comparison[0]["structure"] == STORED.default_structure
    assert {c["structure"] for c in STORED.comparison} == set(STRUCTURES)
    sc = pk_evidence().scenarios["fitted"]
    assert sc.kp == pytest.approx(STORED.estimates["kp"].value, rel=1e-5)
    assert sc.ke0 == pytest.approx(STORED.estimates["ke0"].value, rel=1e-5)
    for e in STORED.estimates.values():
        assert e.wald95[0] < e.value < e.wald95[1]
        if e.profile95 is not None:
            assert e.profile95[0] < e.value < e.profile95[1]


def test_default_reproduces_the_fitted_data_within_stated_tolerance() -> None:
    """Every fitted PET value within 2.5 residual SDs; the half-time within its 72-108 h range.

    Predictions come from `simulate` with the default scenario (the path users run), so this
    also checks that the stored parameters reach the simulator unchanged.
    """
    sigma = STORED.estimates["sigma"].value
    stored_pred = {r["id"]: r["predicted"] for r in STORED.residuals}
    for o in DATA.fitted():
        doses = [o.interval_h * k for k in range(o.doses)]
        if o.kind == "blockade_half_time":
            sim = simulate(Regimen.single(o.dose_mg, follow_h=300), dt_h=0.05)
            assert 72.0 <= sim.blockade_half_time() <= 108.0
            assert sim.blockade_half_time() == pytest.approx(stored_pred[o.id], abs=0.1)
            continue
        assert o.time_after_last_dose_h is not None and o.value is not None
        t = doses[-1] + o.time_after_last_dose_h
        reg = Regimen(doses, [o.dose_mg] * o.doses, end_h=t + 1.0)
        sim = simulate(reg, dt_h=0.05)
        pred = float(np.interp(t, sim.times_h, sim.occupancy[0]))
        assert abs(o.value - pred) <= 2.5 * sigma, (o.id, o.value, pred)
        assert pred == pytest.approx(stored_pred[o.id], abs=1e-4)


def test_held_out_predictions_are_reported_for_every_held_out_datum() -> None:
    held_ids = {o.id for o in DATA.held_out()}
    assert held_ids, "at least one published data set is kept out of the fit"
    assert not held_ids & {o.id for o in DATA.fitted()}
    assert {h["id"] for h in STORED.held_out} == held_ids
    problem = Problem.from_evidence()
    fit = fit_structure(problem, STORED.default_structure, profile=False)
    fresh = {h.observation.id: h for h in held_out_predictions(fit, DATA)}
    for h in STORED.held_out:
        assert fresh[h["id"]].predicted == pytest.approx(h["predicted"], abs=2e-3)
    label = fresh["label-50mg-every-other-day-48h"]
    assert label.error is not None and label.inside_range is not None


def test_hours_above_50_intervals_are_monotone_in_dose() -> None:
    rows = STORED.hours_above_50.rows
    assert [r.dose_mg for r in rows] == [1.5, 3.0, 4.5, 50.0]
    for a, b in itertools.pairwise(rows):
        assert a.lo95 <= b.lo95 and a.median <= b.median and a.hi95 <= b.hi95
        assert a.trough < b.trough and a.peak < b.peak
    for r in rows:
        assert 0.0 <= r.lo95 <= r.median <= r.hi95 <= 24.0
    # The same property from a fresh fit and a different set of draws.
    fit = fit_structure(Problem.from_evidence(), "effect_site", profile=False)
    fresh = hours_above(fit, doses=(1.0, 1.5, 2.0, 3.0), n_draws=200, seed=3, step_h=0.05)
    for a, b in itertools.pairwise(fresh):
        assert a.lo <= b.lo and a.median <= b.median and a.hi <= b.hi


def test_single_50_mg_against_label_and_meyer_with_stated_windows() -> None:
    checks = {(m, w): v for m, w, v, _ in pk_checks()}
    assert 6.65 <= checks[("naltrexone Cmax ng/mL", "0-96 h")] <= 26.6
    assert 3.0 <= checks[("naltrexone t1/2 h", "2-24 h log-linear")] <= 5.5
    assert 11.0 <= checks[("6-beta-naltrexol t1/2 h", "24-72 h log-linear")] <= 15.0


def test_bad_observation_is_rejected_with_its_id() -> None:
    with pytest.raises(ValueError, match="x1: an occupancy needs time_after_last_dose_h"):
        Observation(id="x1", role="fit", kind="occupancy", dose_mg=2, value=0.3, sources=[])
    with pytest.raises(ValueError, match="x2: a half-time of blockade is after a single dose"):
        Observation(
            id="x2",
            role="fit",
            kind="blockade_half_time",
            dose_mg=50,
            doses=3,
            value=80.0,
            sd_log=0.1,
            sources=[],
        )
    with pytest.raises(ValueError, match="unique"):
        o = DATA.observations[0]
        OccupancyData(measurement_error="m", scan_time_assumption="s", observations=[o, o])


def test_cli_shows_the_stored_intervals(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pk", "fit", "--stored"]) == 0
    out = capsys.readouterr().out
    assert "hours/day above 50%" in out and "4.5" in out


def test_cli_rejects_too_few_draws(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pk", "fit", "--draws", "3"]) == 2
    assert "--draws" in capsys.readouterr().err
