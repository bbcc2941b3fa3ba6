"""The store CLI end to end on a real SQLite file: one-line errors, nothing stored on bad input."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ldnkit.cli import main
from ldnkit.store import head_revision
from tests.store.helpers import snapshot

EXAMPLE = Path(__file__).resolve().parents[2] / "src" / "ldnkit" / "examples" / "fibromyalgia.yaml"


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _setup(capsys, db: str) -> None:
    assert run(capsys, "db", "upgrade", "--db", db)[0] == 0
    assert run(capsys, "clinician", "add", "Dr Rivera", "--db", db)[0] == 0
    code, out, _ = run(capsys, "patient", "add", "--clinician", "1", "--profile", str(EXAMPLE),
                       "--db", db)  # fmt: skip
    assert code == 0 and "Patient 1 added" in out


def test_commands_need_an_upgraded_database(capsys, db: str) -> None:
    code, _, err = run(capsys, "clinician", "add", "Dr X", "--db", db)
    assert code == 2 and "run `ldnkit db upgrade` first" in err
    code, out, _ = run(capsys, "db", "upgrade", "--db", db)
    head = head_revision()
    assert code == 0 and f"upgraded from empty to revision {head}" in out
    assert f"already at revision {head}" in run(capsys, "db", "upgrade", "--db", db)[1]


def test_diary_add_correct_and_reject(capsys, db: str, tmp_path: Path) -> None:
    _setup(capsys, db)
    from ldnkit.store import create_store_engine

    code, out, _ = run(capsys, "diary", "add", "1", "--date", "2026-11-20", "--pain", "6",
                       "--side-effect", "vivid_dreams:mild", "--dose-mg", "1.5", "--db", db)  # fmt: skip
    assert code == 0 and "added" in out
    code, out, _ = run(capsys, "diary", "add", "1", "--date", "2026-11-20", "--pain", "5",
                       "--db", db)  # fmt: skip
    assert code == 0 and "corrected (revision 2)" in out
    engine = create_store_engine(db)
    before = snapshot(engine)
    future = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    for args, message in [
        (("--pain", "11"), "error: pain: Input should be less than or equal to 10"),
        (("--pain", "3", "--date", future), "error: entry_date: "),
        (("--pain", "3", "--side-effect", "warts:mild"), "error: side_effects[0].code: unknown"),
    ]:
        code, _, err = run(capsys, "diary", "add", "1", *args, "--db", db)
        assert code == 2 and err.startswith(message) and err.count("\n") == 1
    assert snapshot(engine) == before
    code, out, _ = run(capsys, "diary", "show", "1", "--history", "--db", db)
    assert "1 (old)" in out and "vivid_dreams (mild)" in out
    engine.dispose()


def _csv(path: Path, rows: list[str]) -> Path:
    path.write_text("date,pain,dose_taken,dose_mg,side_effects\n" + "\n".join(rows) + "\n")
    return path


def test_import_plot_outcome_and_cohort(capsys, db: str, tmp_path: Path) -> None:
    _setup(capsys, db)
    from ldnkit.store import create_store_engine

    start = dt.date(2026, 9, 1)
    rows = [f"{start + dt.timedelta(days=d)},{7 if d < 0 else 3},{'yes' if d >= 0 else 'no'},"
            f"{'1.5' if d >= 0 else ''},{'insomnia:mild' if d == 3 else ''}"
            for d in range(-7, 30)]  # fmt: skip
    bad = _csv(tmp_path / "bad.csv", [*rows[:5], "2026-09-20,12,yes,1.5,"])
    engine = create_store_engine(db)
    before = snapshot(engine)
    code, _, err = run(capsys, "diary", "import", str(bad), "--patient", "1", "--db", db)
    assert code == 2 and "error: row 6: pain:" in err
    assert snapshot(engine) == before
    engine.dispose()

    good = _csv(tmp_path / "good.csv", rows)
    code, out, _ = run(capsys, "diary", "import", str(good), "--patient", "1", "--db", db)
    assert code == 0 and "Imported 37 rows for 1 patient(s): 37 new days, 0 corrections" in out

    code, out, _ = run(capsys, "patient", "outcome", "1", "--db", db)
    assert code == 0 and "Baseline pain 7.0 (7 days)" in out and "Change -4.0 points" in out

    svg = tmp_path / "p1.svg"
    code, out, _ = run(capsys, "plot", "1", "--out", str(svg), "--db", db)
    assert code == 0 and svg.read_text().lstrip().startswith("<?xml")

    chart = tmp_path / "c.png"
    code, out, _ = run(capsys, "cohort", "summary", "--chart", str(chart), "--db", db)
    assert code == 0 and chart.exists()
    assert "Mean treatment duration (days) │ 30.00" in out and "123.00" in out
    assert "Adverse effects reported (%)   │ 100.00" in out

    pq_path = tmp_path / "d.parquet"
    code, out, _ = run(capsys, "cohort", "export", str(pq_path), "--db", db)
    assert code == 0 and "Wrote 37 diary rows for 1 patients" in out
    code, out, _ = run(capsys, "cohort", "summary", "--parquet", str(pq_path))
    assert code == 0 and "Mean pain change (points)      │ -4.00" in out


def test_import_rejects_a_malformed_csv(capsys, db: str, tmp_path: Path) -> None:
    _setup(capsys, db)
    path = tmp_path / "x.csv"
    path.write_text("day,pain\n2026-01-01,3\n")
    code, _, err = run(capsys, "diary", "import", str(path), "--patient", "1", "--db", db)
    assert code == 2 and "missing column(s): date, dose_taken" in err
