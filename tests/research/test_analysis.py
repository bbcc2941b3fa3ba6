"""Analysis of trial tables: outcomes, mixed model agreement, report files, input errors."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from ldnkit.errors import ValidationError
from ldnkit.research.analysis import ParallelAnalysis, analyze_trial
from ldnkit.research.designs import parallel_rct, two_period_crossover, younger_2009_crossover
from ldnkit.research.io import read_trial
from ldnkit.research.power import protocol_fit
from ldnkit.research.simulation import Assumptions, simulate


@pytest.fixture(scope="module")
def seed_trial() -> pd.DataFrame:
    a = Assumptions(ldn_effect=-1.5, responder_fraction=0.7, esr_effect_slope=2.0)
    return simulate(younger_2009_crossover(), a, n_patients=12, n_trials=1, seed=8).to_frame(0)


def test_outcomes_of_the_seed_protocol(seed_trial, tmp_path) -> None:
    path = tmp_path / "trial.csv"
    seed_trial.to_csv(path, index=False)
    res = analyze_trial(read_trial(path))
    assert res.n_patients == 12
    assert list(res.phase_table["phase"]) == ["baseline", "placebo", "ldn"]
    assert res.percent_reduction["ldn_percent"] > res.percent_reduction["placebo_percent"]
    assert res.mixed_model["estimate"] < 0
    assert list(res.responders["threshold_percent"]) == [30, 50]
    assert set(res.thresholds["measure"]) == {
        "mechanical_threshold",
        "heat_threshold",
        "cold_threshold",
    }
    assert -1 <= res.esr["pearson_r"] <= 1
    files = res.report(tmp_path / "report")
    names = {f.name for f in files}
    assert {"report.md", "report.json", "patients.csv", "course.png", "esr.png"} <= names
    assert json.loads((tmp_path / "report" / "report.json").read_text())["n_patients"] == 12
    assert "Mixed model" in res.summary()
    assert res.plot() is not None


@pytest.mark.parametrize("build", [two_period_crossover, younger_2009_crossover])
def test_mixed_model_matches_the_power_fast_path(build) -> None:
    """The analysis of real data and the simulation's fast path are the same model."""
    sim = simulate(build(), Assumptions(), n_patients=16, n_trials=1, seed=2)
    fast = protocol_fit(sim)
    res = analyze_trial(sim.to_frame(0))
    assert res.mixed_model["estimate"] == pytest.approx(fast.estimate[0], abs=1e-6)
    assert res.mixed_model["se"] == pytest.approx(fast.se[0], abs=1e-6)


def test_parallel_trial_is_analysed_by_ancova_like_the_power_fast_path(tmp_path) -> None:
    sim = simulate(parallel_rct(), Assumptions(ldn_effect=-1.0), n_patients=30, n_trials=1, seed=3)
    res = analyze_trial(sim.to_frame(0))
    assert isinstance(res, ParallelAnalysis)
    fast = protocol_fit(sim)
    assert res.ancova["estimate"] == pytest.approx(fast.estimate[0], abs=1e-9)
    assert res.ancova["se"] == pytest.approx(fast.se[0], abs=1e-9)
    assert list(res.arm_table["arm"]) == ["placebo", "ldn"]
    assert len(res.thresholds) == 3 and "ANCOVA" in res.summary()
    assert res.plot(tmp_path / "course.svg").axes
    files = res.report(tmp_path / "par")
    assert {f.name for f in files} >= {"report.md", "report.json", "course.png"}


def test_missing_columns_are_named(tmp_path) -> None:
    path = tmp_path / "bad.csv"
    pd.DataFrame({"patient": ["a"], "day": [0], "pain": [5]}).to_csv(path, index=False)
    with pytest.raises(ValidationError) as err:
        read_trial(path)
    assert err.value.field == "csv"
    assert "phase, severity" in str(err.value)


def test_other_input_errors(seed_trial, tmp_path) -> None:
    with pytest.raises(ValidationError, match="does not exist"):
        read_trial(tmp_path / "nope.csv")
    no_ldn = seed_trial[seed_trial["phase"] != "ldn"].drop(columns="treatment")
    with pytest.raises(ValidationError, match="both placebo and ldn"):
        analyze_trial(no_ldn)
    odd = seed_trial.drop(columns="treatment").replace({"phase": {"placebo": "dummy"}})
    with pytest.raises(ValidationError, match="need a 'treatment' column"):
        analyze_trial(odd)
