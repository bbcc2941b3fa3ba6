"""`ldnkit pk` commands run end to end and write what they promise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ldnkit.cli import main


def test_simulate_single_patient_prints_daily_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pk", "simulate", "--dose", "4.5", "--days", "3"]) == 0
    out = capsys.readouterr().out
    assert "h >=50%" in out and "4.5" in out


def test_simulate_population_with_plan_file_plot_and_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = {
        "protocol": "fibromyalgia",
        "steps": [
            {"start": "2026-01-05", "end": "2026-01-11", "dose_mg": "1.5", "timing": "bedtime"},
            {"start": "2026-01-12", "end": "2026-01-18", "dose_mg": "3", "timing": "bedtime"},
        ],
    }
    f = tmp_path / "plan.json"
    f.write_text(json.dumps(plan))
    png, js = tmp_path / "pk.png", tmp_path / "pk.json"
    rc = main(
        [
            "pk",
            "simulate",
            "--regimen",
            str(f),
            "-n",
            "200",
            "--seed",
            "3",
            "--plot",
            str(png),
            "--json",
            str(js),
        ]
    )
    assert rc == 0
    assert "virtual patients" in capsys.readouterr().out
    assert png.stat().st_size > 1000
    assert json.loads(js.read_text())["n"] == 200


def test_table_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pk", "table", "--doses", "4.5", "--days", "4"]) == 0
    assert "equilibrium" in capsys.readouterr().out


def test_bad_plan_file_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "bad.json"
    f.write_text("{not json")
    assert main(["pk", "simulate", "--regimen", str(f)]) == 2
    assert "not valid JSON" in capsys.readouterr().err
