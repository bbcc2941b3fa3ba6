"""`ldnkit instruments`: list, check a clinic file, print a Questionnaire; bad files exit 2."""

from __future__ import annotations

import json
from pathlib import Path

from ldnkit.cli import main

FICTIONAL = Path(__file__).parents[1] / "clinical" / "data" / "fictional_instruments.yaml"


def test_check_lists_shipped_and_clinic_instruments(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["instruments", "check", str(FICTIONAL)]) == 0
    out = capsys.readouterr().out
    for name in ("peg", "pgic", "nrs", "zz-teapot-index", "91148-7", "mean_of_subset", "ok"):
        assert name in out


def test_a_bad_file_is_one_line_naming_the_field(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "clinic.yaml"
    bad.write_text(
        "instruments:\n  - id: x\n    name: X\n    scoring: {rule: sum}\n"
        "    items:\n      - {id: a, text: A, min: 3, max: 1}\n"
    )
    assert main(["instruments", "check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: clinic.yaml: instruments.0.items.0") and "min is above max" in err
    assert err.count("\n") == 1


def test_questionnaire_is_fhir_json(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["instruments", "questionnaire", "peg"]) == 0
    q = json.loads(capsys.readouterr().out)
    assert q["resourceType"] == "Questionnaire" and q["code"][0]["code"] == "91148-7"
    assert main(["instruments", "questionnaire", "bpi"]) == 2
    assert "unknown instrument 'bpi'" in capsys.readouterr().err
