"""Backups a clinic can restore: consistent copies taken while the server keeps writing.

SQLite is copied with its online backup API (`sqlite3.Connection.backup`): pages are copied
under a read transaction, so the copy is one consistent snapshot even while other processes
commit, and WAL content not yet checkpointed is included. Copying the file with `cp` would not
be safe in WAL mode. PostgreSQL is dumped by `pg_dump` in its custom format (one repeatable-read
snapshot) and restored by `pg_restore` in a single transaction, so a failed restore leaves the
target as it was.

The backup kind is recognised from the file's first bytes, never from its name, so a PostgreSQL
dump is not silently "restored" into a SQLite file or the other way round. A restore refuses a
target that already holds ldnkit tables unless the caller says to replace them: restoring over a
live clinic database by mistake would lose everything written since the backup.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sqlalchemy import Engine, MetaData, inspect, select
from sqlalchemy.engine import URL

from ldnkit.errors import LdnkitError

__all__ = [
    "BackupError",
    "BackupResult",
    "backup_database",
    "backup_kind",
    "restore_database",
    "table_rows",
]

_SQLITE_MAGIC = b"SQLite format 3\x00"
_PG_MAGIC = b"PGDMP"
_PG_TIMEOUT_S = 3600

Kind = Literal["sqlite", "postgresql"]


class BackupError(LdnkitError):
    """A backup or restore could not be done; the message says why and what to do."""


@dataclass(frozen=True)
class BackupResult:
    """What a backup or restore did: the file, its kind and the rows per table it holds."""

    path: Path
    kind: Kind
    bytes: int
    rows: dict[str, int] | None


def _backend(url: URL) -> Kind:
    name = url.get_backend_name()
    if name == "sqlite":
        return "sqlite"
    if name == "postgresql":
        return "postgresql"
    raise BackupError(f"database backend {name!r} is not supported (SQLite or PostgreSQL)")


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(url.database).expanduser()


def backup_kind(path: Path) -> Kind:
    """The kind of a backup file, read from its first bytes."""
    try:
        with path.open("rb") as fh:
            head = fh.read(len(_SQLITE_MAGIC))
    except FileNotFoundError:
        raise BackupError(f"backup file {path} does not exist") from None
    except IsADirectoryError:
        raise BackupError(f"backup file {path} is a directory") from None
    if head.startswith(_SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(_PG_MAGIC):
        return "postgresql"
    raise BackupError(f"{path} is neither a SQLite backup nor a pg_dump custom-format archive")


def table_rows(engine: Engine) -> dict[str, int]:
    """Rows per table (alembic_version included), to report and to compare copies."""
    names = sorted(inspect(engine).get_table_names())
    meta = MetaData()
    meta.reflect(engine, only=names)
    out: dict[str, int] = {}
    with engine.connect() as conn:
        for name in names:
            table = meta.tables[name]
            out[name] = len(conn.execute(select(table)).all())
    return out


def _pg_env(url: URL) -> dict[str, str]:
    """libpq settings for pg_dump/pg_restore; the password travels in the environment only."""
    env = dict(os.environ)
    for key, value in (
        ("PGHOST", url.host),
        ("PGPORT", str(url.port) if url.port else None),
        ("PGUSER", url.username),
        ("PGPASSWORD", url.password),
        ("PGDATABASE", url.database),
    ):
        if value:
            env[key] = str(value)
    return env


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not installed; install the PostgreSQL client tools "
            "(Debian: postgresql-client) to back up or restore PostgreSQL"
        )
    return found


def _run(cmd: list[str], env: dict[str, str], what: str) -> None:
    try:
        done = subprocess.run(
            cmd, env=env, capture_output=True, text=True, timeout=_PG_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        raise BackupError(f"{what} did not finish within {_PG_TIMEOUT_S} s") from None
    if done.returncode != 0:
        detail = " ".join(done.stderr.split())[:300] or f"exit status {done.returncode}"
        raise BackupError(f"{what} failed: {detail}")


def _atomic_target(dest: Path) -> Path:
    """A temporary file beside `dest`, so a finished backup replaces it in one rename."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent)
    os.close(fd)
    return Path(tmp)


def backup_database(engine: Engine, dest: Path) -> BackupResult:
    """Write a consistent copy of the database behind `engine` to `dest`.

    The copy is written beside `dest` and renamed into place only when complete, so an
    interrupted backup never leaves a truncated file under the expected name.
    """
    url = engine.url
    kind = _backend(url)
    if dest.exists() and dest.is_dir():
        raise BackupError(f"{dest} is a directory; give a file name for the backup")
    tmp = _atomic_target(dest)
    try:
        if kind == "sqlite":
            src_path = _sqlite_path(url)
            if not src_path.exists():
                raise BackupError(f"database file {src_path} does not exist")
            src = sqlite3.connect(f"file:{src_path}?mode=ro", uri=True, timeout=30)
            dst = sqlite3.connect(tmp)
            try:
                src.backup(dst)
                dst.execute("PRAGMA journal_mode=DELETE")
            finally:
                dst.close()
                src.close()
        else:
            _run(
                [_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(tmp)],
                _pg_env(url),
                "pg_dump",
            )
        tmp.replace(dest)
    finally:
        tmp.unlink(missing_ok=True)
    # A pg_dump archive cannot be counted without restoring it; its rows stay unknown here.
    rows = _rows_of_sqlite_file(dest) if kind == "sqlite" else None
    return BackupResult(path=dest, kind=kind, bytes=dest.stat().st_size, rows=rows)


def _rows_of_sqlite_file(path: Path) -> dict[str, int]:
    from ldnkit.store.engine import create_store_engine

    eng = create_store_engine(f"sqlite:///{path}")
    try:
        return table_rows(eng)
    finally:
        eng.dispose()


def _has_tables(engine: Engine) -> bool:
    return bool(inspect(engine).get_table_names())


def restore_database(source: Path, engine: Engine, *, replace: bool = False) -> BackupResult:
    """Restore the backup `source` into the database behind `engine`.

    Refuses a backup of the other backend and, unless `replace` is set, a target that already
    has tables. With `replace`, SQLite's file is overwritten through the backup API (in one
    step for readers) and PostgreSQL objects are dropped and recreated in one transaction.
    """
    kind = backup_kind(source)
    url = engine.url
    target = _backend(url)
    if kind != target:
        raise BackupError(
            f"{source} is a {kind} backup; the target database is {target}. "
            "Restore it into a database of the same kind"
        )
    if not replace and _has_tables(engine):
        raise BackupError(
            "the target database already has tables; restore into an empty database, "
            "or pass --replace to overwrite it (everything written since the backup is lost)"
        )
    engine.dispose()
    if kind == "sqlite":
        dst_path = _sqlite_path(url)
        dst_path.parent.mkdir(parents=True, exist_ok=True)
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        check = src.execute("PRAGMA integrity_check").fetchone()
        if not check or check[0] != "ok":
            src.close()
            raise BackupError(f"{source} fails SQLite's integrity check: {check}")
        dst = sqlite3.connect(dst_path, timeout=30)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
    else:
        cmd = [
            _pg_tool("pg_restore"),
            "--no-owner",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={url.database}",
        ]
        if replace:
            cmd += ["--clean", "--if-exists"]
        _run([*cmd, str(source)], _pg_env(url), "pg_restore")
    return BackupResult(
        path=source, kind=kind, bytes=source.stat().st_size, rows=table_rows(engine)
    )
