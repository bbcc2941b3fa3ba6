"""CSV diary import and patient registration refuse another patient's rows and impossible
birth dates, leaving every table unchanged (issue 11, parts 2 and 4)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ldnkit.cli import main
from ldnkit.store import create_store_engine
from ldnkit.store.models import Base

EXAMPLE = Path(__file__).resolve().parents[2] / "src" / "ldnkit" / "examples" / "fibromyalgia.yaml"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def counts(url: str) -> dict[str, int]:
    engine = create_store_engine(url)
    try:
        with Session(engine) as s:
            return {
                t.name: s.scalar(select(func.count()).select_from(t))
                for t in Base.metadata.sorted_tables
            }
    finally:
        engine.dispose()


@pytest.fixture
def db(tmp_path: Path, capsys) -> str:
    url = f"sqlite:///{tmp_path / 'guard.db'}"
    assert run(capsys, "db", "upgrade", "--db", url)[0] == 0
    assert run(capsys, "clinician", "add", "Dr Rivera", "--db", url)[0] == 0
    for _ in range(2):
        code, _, err = run(capsys, "patient", "add", "--clinician", "1", "--profile",
                           str(EXAMPLE), "--db", url)  # fmt: skip
        assert code == 0, err
    return url


def test_csv_rows_of_another_patient_are_refused_under_patient(
    capsys, db: str, tmp_path: Path
) -> None:
    csv = tmp_path / "mixed.csv"
    csv.write_text("patient_id,date,pain,dose_taken\n1,2026-09-01,5,yes\n2,2026-09-02,4,yes\n")
    before = counts(db)
    code, _, err = run(capsys, "diary", "import", str(csv), "--patient", "1", "--db", db)
    assert code == 2 and "row 2: patient_id" in err and "not --patient 1" in err
    assert counts(db) == before


def test_csv_rows_matching_patient_are_imported(capsys, db: str, tmp_path: Path) -> None:
    csv = tmp_path / "mine.csv"
    csv.write_text("patient_id,date,pain,dose_taken\n2,2026-09-01,5,yes\n2,2026-09-02,4,yes\n")
    code, out, err = run(capsys, "diary", "import", str(csv), "--patient", "2", "--db", db)
    assert code == 0, err
    assert counts(db)["diary_entries"] == 2
    assert "2 new days" in out


def test_future_birth_date_is_an_input_error(capsys, db: str) -> None:
    before = counts(db)
    future = (dt.date.today() + dt.timedelta(days=400)).isoformat()
    code, _, err = run(capsys, "patient", "add", "--clinician", "1", "--given", "A",
                       "--family", "B", "--birth-date", future, "--db", db)  # fmt: skip
    assert code == 2 and "--birth-date" in err and "in the future" in err
    assert counts(db) == before
