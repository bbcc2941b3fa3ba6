"""Population and CLI inputs are bounded before any work: a clear error naming the parameter
(CLI: one line, exit 2), never a raw numpy error, a blamed kinetic parameter, or a run that
exhausts memory."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ldnkit.cli import main
from ldnkit.errors import ValidationError
from ldnkit.pharmacology import Regimen, simulate_population
from ldnkit.pharmacology.population import (
    WEIGHT_RANGE_KG,
    PopulationModel,
    population_memory_bytes,
)

REG = Regimen.daily(4.5, 3, hour=22)


def _field(**kwargs) -> str:
    with pytest.raises(ValidationError) as info:
        simulate_population(REG, **{"n": 5, **kwargs})
    return info.value.field


def test_population_too_large_for_memory_is_refused_up_front() -> None:
    with pytest.raises(ValidationError, match=r"n: .*over the limit of 4\.0 GiB"):
        simulate_population(REG, n=10**12)
    # the estimate is what the cap is compared with; a lower cap refuses a smaller run
    need = population_memory_bytes(2000, REG.grid(1.0).size, REG.days, 24, 10_000, 200)
    with pytest.raises(ValidationError, match="memory"):
        simulate_population(REG, n=2000, memory_limit_bytes=need - 1)
    assert simulate_population(REG, n=2000, memory_limit_bytes=need).n == 2000


def test_memory_estimate_grows_with_patients_and_time_points() -> None:
    small = population_memory_bytes(10_000, 2017, 84, 24, 10_000, 200)
    assert small < 200 * 2**20  # 100,000 x 12 weeks stays a working size
    assert population_memory_bytes(10**9, 2017, 84, 24, 10_000, 200) > 4 * 2**30
    assert population_memory_bytes(10_000, 20_161, 84, 240, 10_000, 200) > small


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"n": 2.5}, "n"),
        ({"n": 0}, "n"),
        ({"n": "ten"}, "n"),
        ({"seed": -1}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"weight_kg": (70.0, -5.0)}, "weight_kg.sd"),
        ({"weight_kg": (math.nan, 5.0)}, "weight_kg.mean"),
        ({"weight_kg": math.nan}, "weight_kg"),
        ({"weight_kg": math.inf}, "weight_kg"),
        ({"weight_kg": 1e6}, "weight_kg"),
        ({"weight_kg": 3.0}, "weight_kg"),
        ({"weight_kg": [70.0, 80.0]}, "weight_kg"),
        ({"dt_h": 0}, "dt_h"),
        ({"dt_h": math.nan}, "dt_h"),
        ({"dt_h": 7.0}, "dt_h"),
        ({"chunk_size": 0}, "chunk_size"),
        ({"keep": -1}, "keep"),
        ({"memory_limit_bytes": 0}, "memory_limit_bytes"),
    ],
)
def test_bad_population_inputs_name_the_parameter(kwargs, field) -> None:
    assert _field(**kwargs) == field


def test_nan_weight_in_sample_blames_weight_not_clearance() -> None:
    model = PopulationModel.from_evidence()
    with pytest.raises(ValidationError) as info:
        model.sample(3, np.random.default_rng(0), np.array([70.0, math.nan, 80.0]))
    assert info.value.field == "weight_kg"


def test_plausible_weights_still_work() -> None:
    lo, hi = WEIGHT_RANGE_KG
    res = simulate_population(REG, n=4, weight_kg=np.array([lo, 70.0, 120.0, hi]), keep=0)
    assert res.n == 4
    assert simulate_population(REG, n=4, weight_kg=(80.0, 15.0), seed=2**64).n == 4
    # one weight per patient, split across chunks with the patients they belong to
    w = np.linspace(50.0, 120.0, 5)
    chunked = simulate_population(REG, n=5, weight_kg=w, chunk_size=2, keep=0)  # was ValueError
    assert chunked.n == 5 and np.all(chunked.metric("cmax_parent") > 0)


def _cli(capsys, *args: str) -> tuple[int, str]:
    code = main(["pk", "simulate", *args])
    err = capsys.readouterr().err
    return code, err


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (("--dose", "4.5", "-n", "1000000000000"), "--patients"),
        (("--dose", "4.5", "--dt", "0"), "--dt"),
        (("--dose", "4.5", "-n", "5", "--dt", "0"), "--dt"),
        (("--dose", "4.5", "--dt", "-1"), "--dt"),
        (("--dose", "4.5", "--dt", "1e-7"), "--dt"),
        (("--dose", "4.5", "-n", "10", "--seed", "-1"), "--seed"),
        (("--dose", "nan"), "--dose"),
        (("--dose", "4.5", "--days", "100000000"), "--days"),
        (("--dose", "4.5", "--bedtime-hour", "25"), "--bedtime-hour"),
        (("--dose", "4.5", "-n", "0"), "--patients"),
    ],
)
def test_cli_bad_options_are_one_line_exit_2(capsys, args, option) -> None:
    code, err = _cli(capsys, *args)
    assert code == 2
    assert err.startswith(f"error: {option}:") and err.count("\n") == 1


def test_cli_memory_limit_from_environment(capsys, monkeypatch) -> None:
    monkeypatch.setenv("LDNKIT_MEMORY_LIMIT_BYTES", "1000")
    code, err = _cli(capsys, "--dose", "4.5", "--days", "2", "-n", "3")
    assert code == 2 and "over the limit of 1,000 B" in err


def test_cli_table_bad_options(capsys) -> None:
    for args in (["--doses", "4.5,nan"], ["--days", "0"], ["--patients", "-3"], ["--hour", "24"]):
        assert main(["pk", "table", *args]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: --") and err.count("\n") == 1
