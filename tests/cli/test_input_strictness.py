"""Inputs that used to be silently accepted: duplicate YAML keys, zero/negative options,
a child or an unborn patient, a plan starting in the past (issue 11, part 2)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml

from ldnkit.cli import main
from ldnkit.errors import EvidenceError, ValidationError
from ldnkit.evidence import DATA_DIR, load_evidence
from ldnkit.inputs import load_patient
from ldnkit.yamlio import DuplicateKeyError, load_yaml

PATIENT = """\
id: dup
conditions:
  - code: fibromyalgia
pregnancy: pregnant
hepatic_status: normal
pregnancy: not_pregnant
"""


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path: Path, text: str, name: str = "patient.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_duplicate_key_is_refused_with_the_key_named(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as exc:
        load_patient(write(tmp_path, PATIENT))
    assert exc.value.field == "pregnancy"
    assert "duplicate key 'pregnancy'" in str(exc.value)
    assert "line 4" in str(exc.value) and "line 6" in str(exc.value)


def test_duplicate_key_cli_exits_2_with_one_line(tmp_path: Path, capsys) -> None:
    code, _, err = run(["screen", str(write(tmp_path, PATIENT))], capsys)
    assert code == 2
    assert "duplicate key 'pregnancy'" in err and len(err.strip().splitlines()) == 1


def test_duplicate_key_in_a_nested_mapping_is_refused() -> None:
    text = "medications:\n  - name: tramadol\n    active: true\n    active: false\n"
    with pytest.raises(DuplicateKeyError, match="duplicate key 'active'"):
        load_yaml(text)


def test_merge_keys_keep_their_meaning() -> None:
    text = "base: &b {active: true, name: x}\nmed:\n  <<: *b\n  active: false\n"
    assert load_yaml(text)["med"] == {"active": False, "name": "x"}


def test_duplicate_key_in_the_evidence_base_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    path = data / "screening.yaml"
    path.write_text(path.read_text().replace("version: 1\n", "version: 1\nversion: 2\n", 1))
    with pytest.raises(EvidenceError, match="duplicate key 'version'"):
        load_evidence(data)


def test_duplicate_key_in_a_diary_file_is_refused(tmp_path: Path, capsys) -> None:
    patient = write(tmp_path, "id: p\nconditions:\n  - code: fibromyalgia\n")
    diary = write(tmp_path, "- entry_date: 2026-03-02\n  pain: 5\n  pain: 2\n", "diary.yaml")
    start = dt.date.today().isoformat()
    code, _, err = run(
        ["fhir", "export", str(patient), "--start", start, "--diary", str(diary)], capsys
    )
    assert code == 2 and "--diary" in err and "duplicate key 'pain'" in err


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (["plan", "{patient}", "--start", "{today}", "--interval", "0"], "--interval"),
        (["plan", "{patient}", "--start", "{today}", "--interval", "-7"], "--interval"),
        (["plan", "{patient}", "--start", "{today}", "--start-mg", "0"], "--start-mg"),
        (["plan", "{patient}", "--start", "{today}", "--target-mg", ""], "--target-mg"),
        (["prescribe", "1", "--start", "{today}", "--interval", "0"], "--interval"),
        (["pk", "simulate", "--dose", "0"], "--dose"),
        (["pk", "simulate", "--dose", "4.5", "--dt", "0"], "--dt"),
        (["pk", "simulate", "--dose", "4.5", "--bedtime-hour", "25"], "--bedtime-hour"),
        (["pk", "table", "--patients", "-3"], "--patients"),
        (["pk", "table", "--hour", "-1"], "--hour"),
        (["trial", "power", "--target", "2"], "--target"),
        (["cohort", "summary", "--grace-days", "-1"], "--grace-days"),
        (["trial", "power", "--curve", "a,5"], "--curve"),
        (["trial", "power", "--curve", "0,5"], "--curve"),
        (["screen", "{patient}", "--on", ""], "--on"),
        (["fhir", "read", "{patient}", "--today", ""], "--today"),
    ],
)
def test_zero_negative_or_blank_options_exit_2_naming_the_option(
    tmp_path: Path, capsys, argv: list[str], option: str
) -> None:
    patient = write(tmp_path, "id: p\nconditions:\n  - code: fibromyalgia\n")
    today = dt.date.today().isoformat()
    args = [a.format(patient=patient, today=today) for a in argv]
    code, out, err = run(args, capsys)
    assert code == 2
    assert option in err and len(err.strip().splitlines()) == 1
    assert "Day" not in out  # no plan table was printed


def test_plan_for_a_ten_year_old_is_refused(tmp_path: Path, capsys) -> None:
    today = dt.date.today()
    born = today.replace(year=today.year - 10) if (today.month, today.day) != (2, 29) else today
    patient = write(
        tmp_path, f"id: kid\nbirth_date: {born.isoformat()}\nconditions:\n  - code: fibromyalgia\n"
    )
    code, out, err = run(["plan", str(patient), "--start", today.isoformat()], capsys)
    assert code == 2 and "PAEDIATRIC" in err and out == ""


def test_plan_for_a_patient_born_in_2030_is_refused(tmp_path: Path, capsys) -> None:
    patient = write(
        tmp_path, "id: x\nbirth_date: 2030-01-01\nconditions:\n  - code: fibromyalgia\n"
    )
    code, _, err = run(["plan", str(patient), "--start", "2026-12-01"], capsys)
    assert code == 2 and "birth_date" in err and "input error" in err


def test_plan_starting_in_the_past_is_warned_about(tmp_path: Path, capsys) -> None:
    patient = write(tmp_path, "id: p\nconditions:\n  - code: fibromyalgia\n")
    past = (dt.date.today() - dt.timedelta(days=30)).isoformat()
    code, out, err = run(["plan", str(patient), "--start", past, "--format", "json"], capsys)
    assert code == 0 and yaml.safe_load(out)["start"] == past
    assert "warning" in err and past in err and "30 days before today" in err
    future = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    code, _, err = run(["plan", str(patient), "--start", future, "--format", "json"], capsys)
    assert code == 0 and "warning" not in err


def test_duplicate_key_in_a_json_regimen_is_refused(tmp_path: Path, capsys) -> None:
    regimen = write(tmp_path, '{"times_h": [22], "doses_mg": [1.5], "doses_mg": [50]}', "r.json")
    code, _, err = run(["pk", "simulate", "--regimen", str(regimen)], capsys)
    assert code == 2 and "--regimen" in err and "duplicate key 'doses_mg'" in err
