"""`ldnkit nof1 ...` against a real SQLite database: design prints packs only, unblind,
analyse, PDF report, pool with a name-free export, calibrate; bad input is one line, exit 2."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from ldnkit.cli import main
from ldnkit.store import create_store_engine, upgrade
from ldnkit.store import repositories as repo
from ldnkit.store.models import Nof1AllocationRow
from ldnkit.store.repositories import nof1 as trials


def run(argv: list[str], capsys) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _diary(url: str, patient_id: int, trial_id: int, effect: float, seed: int) -> None:
    engine = create_store_engine(url)
    with Session(engine) as s, s.begin():
        design = trials.design_of(trials.get_trial(s, trial_id))
        alloc = trials.allocation_of(
            s.scalars(select(Nof1AllocationRow).where(Nof1AllocationRow.trial_id == trial_id)).one()
        )
        rng = np.random.default_rng(seed)
        rows = []
        for day in range(design.total_days):
            info = design.day_info(design.date_of(day))
            on = info.period is not None and alloc.is_ldn(info.period)
            pain = int(np.clip(round(6 + rng.normal(0, 0.8) + effect * on), 0, 10))
            rows.append(
                (patient_id, {"entry_date": design.date_of(day), "pain": pain, "dose_taken": True})
            )
        repo.add_diary_entries(s, rows, today=dt.date.today(), actor="t")
    engine.dispose()


def test_nof1_cli_end_to_end(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'c.db'}"
    upgrade(url)
    engine = create_store_engine(url)
    with Session(engine, expire_on_commit=False) as s, s.begin():
        c = repo.create_clinician(s, name="Dr C", actor="t")
        pats = [
            repo.create_patient(
                s,
                clinician_id=c.id,
                given_name="Zed",
                family_name=f"Hidden{k}",
                profile={},
                actor="t",
            )
            for k in range(2)
        ]
    engine.dispose()
    start = (dt.date.today() - dt.timedelta(days=200)).isoformat()
    for k, p in enumerate(pats):
        code, out, err = run(
            [
                "nof1",
                "design",
                str(p.id),
                "--start",
                start,
                "--dose",
                "4.5",
                "--pairs",
                "2",
                "--seed",
                str(10 + k),
                "--db",
                url,
            ],
            capsys,
        )
        assert code == 0, err
        assert "N1-000" in out and "pack A" in out and "placebo" not in out
        _diary(url, p.id, k + 1, -1.5 if k == 0 else 0.0, seed=k)
    code, out, _ = run(["nof1", "status", "1", "--on", start, "--db", url], capsys)
    assert code == 0 and '"stage": "run_in"' in out
    code, _, err = run(["nof1", "analyze", "1", "--db", url], capsys)
    assert code == 2 and "must be unblinded" in err and "\n" not in err.strip()
    code, out, _ = run(["nof1", "unblind", "1", "--db", url], capsys)
    assert code == 0 and "pack A = " in out
    code, out, _ = run(["nof1", "analyze", "1", "--db", url], capsys)
    assert code == 0 and "P(benefit)" in out and "LDN 4.5 mg lowered your pain" in out
    pdf = tmp_path / "r.pdf"
    code, _, _ = run(["nof1", "report", "1", "-o", str(pdf), "--db", url], capsys)
    assert code == 0 and pdf.read_bytes().startswith(b"%PDF")
    run(["nof1", "unblind", "2", "--db", url], capsys)
    run(["nof1", "analyze", "2", "--db", url], capsys)
    csv_path = tmp_path / "pool.csv"
    code, out, _ = run(["nof1", "pool", "--export", str(csv_path), "--db", url], capsys)
    assert code == 0 and "k = 2" in out and "published randomised trials" in out
    text = csv_path.read_text()
    assert "N1-0001" in text and "Hidden" not in text and "Zed" not in text
    code, _, err = run(["nof1", "analyze", "1", "--informed", "--db", url], capsys)
    assert code == 2 and "at least 2 other completed trials" in err
    code, _, err = run(["nof1", "design", "1", "--start", "soon", "--db", url], capsys)
    assert code == 2 and "start" in err


def test_calibrate_command(capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run(["nof1", "calibrate", "--patients", "60", "--json"], capsys)
    assert code == 0 and '"coverage95"' in out and '"n_patients": 60' in out
