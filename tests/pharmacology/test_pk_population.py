"""Population runs: reproducible, chunk-order independent, summaries agree with raw data."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from ldnkit.pharmacology import Regimen, simulate, simulate_population
from ldnkit.pharmacology.population import PopulationModel

REG = Regimen.from_steps([(0, 6, 1.5, 22), (7, 13, 3.0, 22)], label="two steps")


def test_same_seed_same_result_and_different_seed_differs() -> None:
    a = simulate_population(REG, n=300, seed=5, chunk_size=128)
    b = simulate_population(REG, n=300, seed=5, chunk_size=128)
    c = simulate_population(REG, n=300, seed=6, chunk_size=128)
    np.testing.assert_array_equal(a.metrics, b.metrics)
    assert not np.array_equal(a.metrics, c.metrics)


def test_histogram_percentiles_equal_percentiles_of_raw_trajectories() -> None:
    res = simulate_population(REG, n=150, seed=2, chunk_size=64, keep=150)
    occ = res.kept_occupancy.astype(float)
    day = np.floor(res.times_h / 24 + 1e-9).astype(int)
    for d in (0, 6, 13):
        hours = np.sum(occ[:, day == d] >= 0.5, axis=1) * res.dt_h
        assert res.daily_hours(0.5, 50.0)[d] == np.percentile(hours, 50, method="inverted_cdf")


def test_population_patient_equals_single_simulation() -> None:
    """The reduced metrics of a chunk match a full simulation of the same patients."""
    model = PopulationModel.from_evidence()
    params = model.sample(4, np.random.default_rng(0))
    from ldnkit.pharmacology.population import _reduce
    from ldnkit.pharmacology.published import binding_parameters

    chunk = _reduce(params, binding_parameters(), REG, 1.0, 4)
    full = simulate(REG, params=params, dt_h=1.0)
    np.testing.assert_allclose(chunk.metrics[:, 0], full.parent.max(axis=1), rtol=1e-6)
    np.testing.assert_allclose(chunk.kept_occupancy, full.occupancy, rtol=1e-6, atol=1e-7)


def test_weight_covariate_lowers_levels_in_heavier_patients() -> None:
    model = PopulationModel.from_evidence()
    light = model.sample(1, np.random.default_rng(1), weight_kg=50.0)
    heavy = model.sample(1, np.random.default_rng(1), weight_kg=110.0)
    cl = simulate(Regimen.single(4.5), params=light).parent.max()
    ch = simulate(Regimen.single(4.5), params=heavy).parent.max()
    assert ch < cl


def test_summary_and_dict_explain_the_result() -> None:
    res = simulate_population(REG, n=50, seed=1)
    text = str(res.summary())
    assert "hours/day >= 50%" in text and "P95" in text
    d = res.to_dict()
    assert d["n"] == 50 and len(d["daily_median_hours_50"]) == REG.days


@pytest.mark.skipif(
    importlib.util.find_spec("distributed") is None,
    reason="dask[distributed] not installed (optional extra 'dask')",
)
def test_dask_path_gives_identical_results() -> None:
    from distributed import Client, LocalCluster

    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=False) as cluster,
        Client(cluster) as client,
    ):
        a = simulate_population(REG, n=200, seed=9, chunk_size=64, client=client)
    b = simulate_population(REG, n=200, seed=9, chunk_size=64)
    np.testing.assert_array_equal(a.metrics, b.metrics)
    np.testing.assert_array_equal(a.hist_50, b.hist_50)
    np.testing.assert_array_equal(a.mean_occupancy, b.mean_occupancy)
