"""The CLI: real output for the examples, one-line errors with exit status 2, ICS export."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import icalendar
import pytest

from ldnkit.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "patient.yaml"
    path.write_text(text)
    return path


def test_screen_example_prints_status_and_sources(capsys) -> None:
    code, out, _ = run(
        ["screen", str(EXAMPLES / "low_back_tramadol.yaml"), "--on", "2026-11-25"], capsys
    )
    assert code == 0
    assert "not_yet" in out and "2026-11-30" in out and "OPIOID_WASHOUT" in out
    assert "praxis-naltrexone-2026" in out


def test_screen_contraindicated_exits_1(capsys) -> None:
    code, out, _ = run(["screen", str(EXAMPLES / "active_opioid.yaml")], capsys)
    assert code == 1 and "contraindicated" in out


def test_plan_table(capsys) -> None:
    code, out, _ = run(
        ["plan", str(EXAMPLES / "fibromyalgia.yaml"), "--start", "2026-01-05", "--capsules", "1.5"],
        capsys,
    )
    assert code == 0
    assert "2026-01-19" in out and "2026-02-02" in out and "4.5 mg" in out
    assert "3 x 1.5 mg capsule" in out


def test_plan_ics_round_trips(tmp_path: Path, capsys) -> None:
    target = tmp_path / "plan.ics"
    code, _, _ = run(
        [
            "plan",
            str(EXAMPLES / "fibromyalgia.yaml"),
            "--start",
            "2026-01-05",
            "--format",
            "ics",
            "-o",
            str(target),
        ],
        capsys,
    )
    assert code == 0
    cal = icalendar.Calendar.from_ical(target.read_bytes())
    daily = [e for e in cal.walk("VEVENT") if "RRULE" in e]
    assert len(daily) == 3 and all(e.walk("VALARM") for e in daily)
    events = [e for e in cal.walk("VEVENT") if "RRULE" not in e]
    summaries = [str(e["SUMMARY"]) for e in events]
    dose_events = [s for s in summaries if s.startswith("LDN ") and " mg " in s]
    visit_events = [s for s in summaries if "follow up" in s or "efficacy review" in s]
    assert len(dose_events) == 3 and len(visit_events) == 2
    assert len(events) == 5
    starts = {e.decoded("DTSTART").isoformat() for e in events}
    assert starts == {"2026-01-05", "2026-01-19", "2026-02-02", "2026-03-30"}


def test_plan_json(capsys) -> None:
    code, out, _ = run(
        ["plan", str(EXAMPLES / "fibromyalgia.yaml"), "--start", "2026-01-05", "--format", "json"],
        capsys,
    )
    assert code == 0 and '"dose_mg": "4.5"' in out


@pytest.mark.parametrize(
    ("patient", "args", "expect"),
    [
        ("conditions: []\n", [], "id: required field missing"),
        ("id: x\nmedications:\n  - {name: morphine, dose_mg: -5}\n", [], "medications.0.dose_mg"),
        ("id: x\nfavourite_colour: blue\n", [], "favourite_colour: unknown key"),
        ("id: x\n", ["--protocol", "magic"], "unknown protocol 'magic'"),
        ("id: x\n", ["--start", "2026-13-40"], "--start: '2026-13-40' is not a date"),
        ("id: x\n", ["--start-mg", "-1"], "--start-mg: -1 mg: a dose must be positive"),
        ("id: x\n", ["--interval", "10"], "options.interval_days"),
        ("id: x\nbirth_date: yesterday\n", [], "birth_date"),
        ("id: [unclosed\n", [], "not valid YAML"),
    ],
)
def test_bad_input_is_one_line_exit_2(tmp_path: Path, capsys, patient, args, expect) -> None:
    path = write(tmp_path, patient)
    argv = ["plan", str(path), "--start", "2026-01-05", *args]
    code, out, err = run(argv, capsys)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert expect in err
    assert out == ""


def test_unsafe_start_is_refused(capsys) -> None:
    code, _, err = run(
        ["plan", str(EXAMPLES / "low_back_tramadol.yaml"), "--start", "2026-11-25"], capsys
    )
    assert code == 2 and "earliest safe start 2026-11-30" in err


def test_installed_console_script_exits_2(tmp_path: Path) -> None:
    path = write(tmp_path, "id: x\nunknown: 1\n")
    result = subprocess.run(
        [sys.executable, "-m", "ldnkit", "screen", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "error: unknown: unknown key"


def test_evidence_tables(capsys) -> None:
    code, out, _ = run(["evidence", "trials"], capsys)
    assert code == 0 and "younger-2009-pilot" in out and "final-2024" in out
    code, _, err = run(["evidence", "nonsense"], capsys)
    assert code == 2 and "unknown evidence table" in err


def test_demo_runs(capsys) -> None:
    code, out, _ = run(["demo"], capsys)
    assert code == 0
    assert "contraindicated" in out and "not_yet" in out and "HOLD" in out
