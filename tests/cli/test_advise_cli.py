"""The monitoring loop from the CLI on a real SQLite file: prescribe, diary, advise."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

from ldnkit.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_prescribe_then_advise_escalates_a_non_responder(tmp_path: Path, capsys) -> None:
    db = f"sqlite:///{tmp_path / 'clinic.db'}"
    assert run(["db", "upgrade", "--db", db], capsys)[0] == 0
    assert run(["clinician", "add", "Dr Test", "--db", db], capsys)[0] == 0
    code, out, _ = run(
        [
            "patient",
            "add",
            "--clinician",
            "1",
            "--profile",
            str(EXAMPLES / "fibromyalgia.yaml"),
            "--db",
            db,
        ],
        capsys,
    )
    assert code == 0 and "Patient 1 added" in out
    code, out, _ = run(["prescribe", "1", "--start", "2026-01-05", "--db", db], capsys)
    assert code == 0 and "Saved plan version 1" in out

    csv = tmp_path / "diary.csv"
    rows = ["date,pain,dose_taken"]
    day = date(2025, 12, 29)
    while day < date(2026, 1, 19):
        rows.append(f"{day},7,{'yes' if day >= date(2026, 1, 5) else 'no'}")
        day += timedelta(days=1)
    csv.write_text("\n".join(rows) + "\n")
    assert run(["diary", "import", str(csv), "--patient", "1", "--db", db], capsys)[0] == 0

    code, out, _ = run(
        ["advise", "1", "--on", "2026-01-19", "--format", "json", "--save", "--db", db], capsys
    )
    assert code == 0
    advice = json.loads(out)
    assert advice["action"] == "escalate"
    assert advice["current_dose_mg"] == "1.5" and advice["suggested_dose_mg"] == "3"
    assert advice["responder"]["category"] == "non_responder"
    assert advice["sources"]


def test_advise_without_plan_or_patient_is_a_clear_error(tmp_path: Path, capsys) -> None:
    db = f"sqlite:///{tmp_path / 'clinic.db'}"
    run(["db", "upgrade", "--db", db], capsys)
    run(["clinician", "add", "Dr Test", "--db", db], capsys)
    run(["patient", "add", "--clinician", "1", "--given", "A", "--family", "B", "--db", db], capsys)
    code, _, err = run(["advise", "1", "--db", db], capsys)
    assert code == 2 and "plan for patient" in err
    code, _, err = run(["advise", "42", "--db", db], capsys)
    assert code == 2 and "unknown patient '42'" in err


def test_advise_remembers_an_intolerable_dose(tmp_path: Path, capsys) -> None:
    """3 mg caused a severe headache; after stepping back, `ldnkit advise` never offers 3 mg."""
    db = f"sqlite:///{tmp_path / 'clinic.db'}"
    run(["db", "upgrade", "--db", db], capsys)
    run(["clinician", "add", "Dr Test", "--db", db], capsys)
    profile = str(EXAMPLES / "fibromyalgia.yaml")
    run(["patient", "add", "--clinician", "1", "--profile", profile, "--db", db], capsys)
    assert run(["prescribe", "1", "--start", "2026-01-05", "--db", db], capsys)[0] == 0
    rows = ["date,pain,dose_taken,dose_mg,side_effects"]
    day = date(2025, 12, 29)
    while day <= date(2026, 2, 15):
        offset = (day - date(2026, 1, 5)).days
        dose = "3" if offset in (14, 15) else "1.5"
        fx = "headache:severe" if offset == 15 else ""
        taken = offset >= 0
        rows.append(f"{day},7,{'yes' if taken else 'no'},{dose if taken else ''},{fx}")
        day += timedelta(days=1)
    csv = tmp_path / "diary.csv"
    csv.write_text("\n".join(rows) + "\n")
    assert run(["diary", "import", str(csv), "--patient", "1", "--db", db], capsys)[0] == 0
    code, out, _ = run(
        ["advise", "1", "--on", "2026-02-15", "--format", "json", "--db", db], capsys
    )
    assert code == 0
    advice = json.loads(out)
    assert advice["action"] != "escalate" and advice["suggested_dose_mg"] == "1.5"
    assert advice["intolerable_mg"] == ["3"] and advice["current_dose_mg"] == "1.5"
    code, out, _ = run(["advise", "1", "--on", "2026-02-15", "--db", db], capsys)
    assert code == 0 and "Not tolerated" in out and "3 mg" in out
