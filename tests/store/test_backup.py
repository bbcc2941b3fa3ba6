"""`ldnkit db backup` / `restore` on real SQLite files and the real PostgreSQL server.

A writer thread keeps committing diary entries (each with its audit row, in one transaction)
while the backup is taken; the restored copy must be one consistent snapshot: it holds every
entry acknowledged before the backup began, no diary row without its audit row, and every row
it holds is identical to the source's. A backup taken at rest must restore row for row.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, inspect, select
from sqlalchemy.orm import Session

from ldnkit.cli import main as cli_main
from ldnkit.store import create_store_engine
from ldnkit.store import repositories as repo
from ldnkit.store.backup import BackupError, backup_database, backup_kind, restore_database
from tests.db_fixtures import empty_database_url
from tests.store.helpers import TODAY, entry, make_patient


@pytest.fixture
def target_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A brand-new empty database of the same backend to restore into."""
    yield from empty_database_url(backend, tmp_path)


def _rows(engine: Engine) -> dict[str, dict[tuple[Any, ...], tuple[Any, ...]]]:
    """Every table's rows keyed by primary key (the whole row when a table has none)."""
    meta = MetaData()
    meta.reflect(engine)
    out: dict[str, dict[tuple[Any, ...], tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for name, table in meta.tables.items():
            pk = [c.name for c in table.primary_key.columns] or [c.name for c in table.columns]
            rows = {}
            for row in conn.execute(select(table)).mappings():
                rows[tuple(row[c] for c in pk)] = tuple(row[c.name] for c in table.columns)
            out[name] = rows
    return out


class _Writer(threading.Thread):
    """Commits one diary day per transaction until stopped; counts acknowledged commits."""

    def __init__(self, engine: Engine, patients: list[int]) -> None:
        super().__init__(daemon=True)
        self.engine = engine
        self.patients = patients
        self.acknowledged: list[tuple[int, dt.date]] = []
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for offset in range(300):
                for pid in self.patients:
                    if self.stop.is_set():
                        return
                    day = TODAY - dt.timedelta(days=offset)
                    with Session(self.engine) as s, s.begin():
                        repo.add_diary_entry(
                            s, pid, entry(day, pain=offset % 11), today=TODAY, actor="load"
                        )
                    self.acknowledged.append((pid, day))
        except BaseException as exc:  # surfaced by the test, never swallowed
            self.error = exc


def _diary_keys(engine: Engine) -> set[tuple[int, dt.date]]:
    meta = MetaData()
    meta.reflect(engine, only=["diary_entries"])
    table = meta.tables["diary_entries"]
    with engine.connect() as conn:
        return {
            (r.patient_id, r.entry_date)
            for r in conn.execute(select(table.c.patient_id, table.c.entry_date))
        }


def _audited_diary_ids(engine: Engine) -> set[int]:
    meta = MetaData()
    meta.reflect(engine, only=["audit_log"])
    log = meta.tables["audit_log"]
    with engine.connect() as conn:
        rows = conn.execute(
            select(log.c.entity_id).where(log.c.entity == "diary_entry", log.c.action == "create")
        )
        return {r.entity_id for r in rows}


def test_backup_under_load_restores_a_consistent_snapshot(
    engine: Engine, target_url: str, tmp_path: Path
) -> None:
    patients = [make_patient(engine, given=f"P{i}") for i in range(3)]
    writer = _Writer(engine, patients)
    writer.start()
    while len(writer.acknowledged) < 30 and writer.is_alive():
        threading.Event().wait(0.01)
    acknowledged_before = set(writer.acknowledged)
    result = backup_database(engine, tmp_path / "clinic.backup")
    acknowledged_during = len(writer.acknowledged)
    threading.Event().wait(0.2)
    writer.stop.set()
    writer.join(timeout=60)
    assert writer.error is None, writer.error
    assert len(writer.acknowledged) > acknowledged_during, "the writer kept writing afterwards"

    target = create_store_engine(target_url)
    try:
        restored = restore_database(result.path, target)
        assert restored.rows is not None and restored.rows["diary_entries"] > 0
        source_rows, copy_rows = _rows(engine), _rows(target)
        audited = _audited_diary_ids(target)
    finally:
        target.dispose()
    assert set(copy_rows) == set(source_rows)
    for name, rows in copy_rows.items():
        for key, row in rows.items():
            assert source_rows[name].get(key) == row, (name, key)
    copy_diary = {(r[1], r[2]) for r in copy_rows["diary_entries"].values()}
    assert acknowledged_before <= copy_diary
    assert len(copy_diary) < len(writer.acknowledged), "the snapshot predates later writes"
    diary_ids = {key[0] for key in copy_rows["diary_entries"]}
    assert audited == diary_ids, "every diary row has its audit row and no audit row is orphaned"


def test_backup_at_rest_restores_every_table_row_for_row(
    engine: Engine, target_url: str, tmp_path: Path
) -> None:
    pid = make_patient(engine)
    with Session(engine) as s, s.begin():
        for i in range(20):
            repo.add_diary_entry(
                s, pid, entry(TODAY - dt.timedelta(days=i), note=f"n{i}"), today=TODAY, actor="t"
            )
        repo.add_diary_entry(s, pid, entry(TODAY, pain=2), today=TODAY, actor="t")  # correction
    result = backup_database(engine, tmp_path / "rest.backup")
    assert backup_kind(result.path) == (
        "sqlite" if engine.url.get_backend_name() == "sqlite" else "postgresql"
    )
    target = create_store_engine(target_url)
    try:
        restore_database(result.path, target)
        assert _rows(target) == _rows(engine)
        with pytest.raises(BackupError, match="already has tables"):
            restore_database(result.path, target)
        restore_database(result.path, target, replace=True)
        assert _rows(target) == _rows(engine)
    finally:
        target.dispose()


def test_restore_refuses_the_other_backend_and_foreign_files(tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("not a backup")
    target = create_store_engine(f"sqlite:///{tmp_path / 't.db'}")
    try:
        with pytest.raises(BackupError, match="neither a SQLite backup"):
            restore_database(junk, target)
        fake_pg = tmp_path / "dump.pgc"
        fake_pg.write_bytes(b"PGDMP" + b"\0" * 64)
        with pytest.raises(BackupError, match="postgresql backup"):
            restore_database(fake_pg, target)
        assert inspect(target).get_table_names() == []
    finally:
        target.dispose()


def test_cli_backup_and_restore_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    src = f"sqlite:///{tmp_path / 'src.db'}"
    dst = f"sqlite:///{tmp_path / 'dst.db'}"
    assert cli_main(["db", "upgrade", "--db", src]) == 0
    eng = create_store_engine(src)
    try:
        make_patient(eng)
    finally:
        eng.dispose()
    backup_file = tmp_path / "b" / "clinic.sqlite"
    assert cli_main(["db", "backup", str(backup_file), "--db", src]) == 0
    assert cli_main(["db", "restore", str(backup_file), "--db", dst]) == 0
    out = capsys.readouterr().out
    assert "patients" in out and "Restored" in out
    assert cli_main(["db", "restore", str(backup_file), "--db", dst]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "--replace" in err and "Traceback" not in err
    assert cli_main(["db", "restore", str(tmp_path / "missing"), "--db", dst]) == 2
    assert "does not exist" in capsys.readouterr().err
