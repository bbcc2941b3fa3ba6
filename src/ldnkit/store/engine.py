"""Engines and sessions tuned for a diary that must not lose an acknowledged entry.

SQLite runs in WAL mode (readers do not block the writer) with `synchronous=FULL`, so a commit
that returned is on disk even if the process is killed or the machine loses power right after.
Foreign keys are switched on (SQLite leaves them off by default) and writers wait for the lock
instead of failing at once. PostgreSQL keeps its durable default (`synchronous_commit=on`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from ldnkit.store.config import database_url

SQLITE_BUSY_TIMEOUT_MS = 10_000


def _normalise_url(url: str) -> str:
    """Route plain `postgresql://` URLs to psycopg 3, the driver ldnkit ships with."""
    u = make_url(url)
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    return u.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    try:
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    finally:
        cur.close()


def create_store_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """An engine for the configured (or given) database, with the durability settings above."""
    resolved = _normalise_url(database_url(url))
    u = make_url(resolved)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(resolved, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(resolved, **kwargs)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions for the shells; `expire_on_commit=False` so returned rows stay readable."""
    return sessionmaker(bind=engine, expire_on_commit=False)


__all__ = ["create_store_engine", "session_factory"]
