"""`ldnkit plan` and `ldnkit screen` refuse an active opioid however the chart writes it."""

from __future__ import annotations

from pathlib import Path

import pytest

from ldnkit.cli import main


@pytest.mark.parametrize("line", ["oxycodone, as needed", "Tylenol #3", "Oxy IR 5mg q4h prn"])
def test_plan_refuses_free_text_active_opioid(tmp_path: Path, capsys, line: str) -> None:
    path = tmp_path / "patient.yaml"
    path.write_text(
        "id: p1\nconditions: [{code: fibromyalgia}]\n"
        f'medications: [{{name: "{line}", active: true}}]\n'
    )
    code = main(["plan", str(path), "--start", "2026-01-05"])
    out, err = capsys.readouterr()
    assert code != 0 and "ACTIVE_OPIOID" in err and "Plan for" not in out
    code = main(["screen", str(path), "--on", "2026-01-05"])
    out, _ = capsys.readouterr()
    assert code == 1 and "contraindicated" in out and "ACTIVE_OPIOID" in out


def test_screen_shows_unrecognised_medication(tmp_path: Path, capsys) -> None:
    path = tmp_path / "patient.yaml"
    path.write_text(
        "id: p1\nconditions: [{code: fibromyalgia}]\nmedications: [{name: zorblax 5 mg}]\n"
    )
    code = main(["screen", str(path), "--on", "2026-01-05", "--format", "json"])
    out, _ = capsys.readouterr()
    assert code == 0 and "UNRECOGNISED_MEDICATION" in out and "eligible_with_cautions" in out
