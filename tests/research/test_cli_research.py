"""`ldnkit trial ...` and `ldnkit meta` end to end through the console entry point."""

from __future__ import annotations

import json

import pandas as pd

from ldnkit.cli import main


def test_trial_design_and_schedule(tmp_path, capsys) -> None:
    assert main(["trial", "design", "crossover"]) == 0
    assert "period 2" in capsys.readouterr().out
    ics = tmp_path / "visits.ics"
    assert (
        main(["trial", "schedule", "younger-2009", "--start", "2026-01-05", "--ics", str(ics)]) == 0
    )
    assert "2026-01-19" in capsys.readouterr().out
    assert ics.read_bytes().startswith(b"BEGIN:VCALENDAR")


def test_simulate_then_analyze(tmp_path, capsys) -> None:
    csv = tmp_path / "trial.csv"
    assert main(["trial", "simulate", "younger-2009", "--patients", "8", "--out", str(csv)]) == 0
    assert main(["trial", "analyze", str(csv), "--out", str(tmp_path / "rep")]) == 0
    out = capsys.readouterr().out
    assert "Mixed model" in out and (tmp_path / "rep" / "report.md").exists()


def test_power_curve_with_plot(tmp_path, capsys) -> None:
    png = tmp_path / "curve.png"
    argv = ["trial", "power", "crossover", "--curve", "8,16", "--trials", "200", "--plot", str(png)]
    assert main(argv) == 0
    assert "Simulated power" in capsys.readouterr().out
    assert png.stat().st_size > 1000


def test_meta_csv_and_ldn(tmp_path, capsys) -> None:
    csv = tmp_path / "m.csv"
    pd.DataFrame(
        {"study": ["A", "B", "C"], "yi": [-0.3, -0.1, 0.05], "vi": [0.04, 0.02, 0.05]}
    ).to_csv(csv, index=False)
    forest = tmp_path / "forest.svg"
    assert (
        main(["meta", str(csv), "--method", "DL", "--forest", str(forest), "--leave-one-out"]) == 0
    )
    out = capsys.readouterr().out
    assert "tau^2 estimator: DL" in out and "Leave-one-out" in out and forest.exists()
    assert main(["meta", "--ldn"]) == 0
    out = capsys.readouterr().out
    assert "-0.1353" in out  # classical REML + Hartung-Knapp over the 5 trials
    assert "Bayesian view" in out and "P(SMD < 0) = 0.869" in out and "P(|SMD| > 0.2)" in out
    assert "Trial sequential view" in out and "conclusion: inconclusive" in out
    assert "[rodriguez-freire-innova]" in out and "[bruun-2024]" in out
    assert main(["meta", "--ldn", "--json", "--delta", "0.3"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["k"] == 5 and data["tsa"]["delta"] == 0.3
    assert 0.8 < data["bayesian"]["p_mu_below_0"] < 0.9
    assert "p_abs_mu_above_0.3" in data["bayesian"]
    assert main(["meta", "--ldn", "--delta", "-1"]) == 2


def test_errors_are_one_line_exit_2(tmp_path, capsys) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("study,pain\na,1\n")
    assert main(["meta", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: csv: missing columns") and err.count("\n") == 1
    trial = tmp_path / "t.csv"
    trial.write_text("patient,day\n1,0\n")
    assert main(["trial", "analyze", str(trial)]) == 2
    assert "missing required column(s): phase, severity" in capsys.readouterr().err
    assert main(["trial", "design", "nope"]) == 2
