"""Database fixtures shared by the store and analytics tests: real SQLite files, real PostgreSQL.

Each test session creates its own uniquely named PostgreSQL database (and drops it afterwards) so
parallel runs by several people on one server never collide. Where no server answers, every
PostgreSQL-backed test is skipped with the reason, which `-ra` prints.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import make_url

from ldnkit.store import create_store_engine, upgrade

PG_ADMIN_URL = os.environ.get(
    "LDNKIT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.database)]

_pg_reason: list[str | None] = []


def postgres_unavailable() -> str | None:
    """Why PostgreSQL cannot be used (None when it can); probed once per session."""
    if not _pg_reason:
        try:
            import psycopg

            u = make_url(PG_ADMIN_URL)
            with psycopg.connect(
                host=u.host,
                port=u.port or 5432,
                user=u.username,
                dbname=u.database,
                password=u.password,
                connect_timeout=3,
            ) as conn:
                conn.execute("SELECT 1")
            _pg_reason.append(None)
        except Exception as exc:
            _pg_reason.append(
                f"PostgreSQL not reachable at {make_url(PG_ADMIN_URL).render_as_string()}: "
                f"{' '.join(str(exc).split())[:160]}"
            )
    return _pg_reason[0]


def _admin_exec(sql: str) -> None:
    import psycopg

    u = make_url(PG_ADMIN_URL)
    with psycopg.connect(
        host=u.host,
        port=u.port or 5432,
        user=u.username,
        dbname=u.database,
        password=u.password,
        autocommit=True,
        connect_timeout=5,
    ) as conn:
        conn.execute(sql)


def create_pg_database(prefix: str = "ldnkit_store") -> str:
    """A new empty database with a unique name; returns its URL."""
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    _admin_exec(f'CREATE DATABASE "{name}"')
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(url: str) -> None:
    name = make_url(url).database
    _admin_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def empty_database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A brand-new database with no tables, on the requested backend."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    reason = postgres_unavailable()
    if reason:
        pytest.skip(reason)
    url = create_pg_database("ldnkit_empty")
    try:
        yield url
    finally:
        drop_pg_database(url)


def truncate_all(engine: Engine) -> None:
    """Empty every ldnkit table between PostgreSQL tests (the schema stays migrated)."""
    tables = [t for t in inspect(engine).get_table_names() if t != "alembic_version"]
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))


@pytest.fixture(scope="session")
def pg_migrated_url() -> Iterator[str]:
    """One migrated PostgreSQL database for the whole session (tables truncated per test)."""
    reason = postgres_unavailable()
    if reason:
        pytest.skip(reason)
    url = create_pg_database()
    engine = create_store_engine(url)
    try:
        upgrade(engine)
        yield url
    finally:
        engine.dispose()
        drop_pg_database(url)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def engine(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A migrated, empty database on each backend: a fresh SQLite file or the session's PG db."""
    if backend == "sqlite":
        eng = create_store_engine(f"sqlite:///{tmp_path / 'ldnkit.db'}")
        upgrade(eng)
        yield eng
        eng.dispose()
        return
    url = request.getfixturevalue("pg_migrated_url")
    eng = create_store_engine(url)
    try:
        yield eng
    finally:
        truncate_all(eng)
        eng.dispose()
