"""Migrations upgrade an empty database, match the models, reverse cleanly, and are the only
way tables are created."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from ldnkit.store import create_store_engine, current_revision, head_revision, upgrade
from ldnkit.store.migrate import downgrade
from ldnkit.store.models import Base
from tests.db_fixtures import empty_database_url

SRC = Path(__file__).resolve().parents[2] / "src" / "ldnkit"


@pytest.fixture
def empty_url(backend: str, tmp_path: Path):
    yield from empty_database_url(backend, tmp_path)


def test_upgrade_creates_exactly_the_model_tables(empty_url: str) -> None:
    engine = create_store_engine(empty_url)
    try:
        assert inspect(engine).get_table_names() == []
        assert current_revision(engine) is None
        assert upgrade(engine) == head_revision()
        tables = set(inspect(engine).get_table_names())
        assert tables == set(Base.metadata.tables) | {"alembic_version"}
        # A second upgrade is a no-op, not an error.
        assert upgrade(engine) == head_revision()
    finally:
        engine.dispose()


def test_migrations_match_the_models(empty_url: str) -> None:
    engine = create_store_engine(empty_url)
    try:
        upgrade(engine)
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(ctx, Base.metadata) == []
    finally:
        engine.dispose()


def test_downgrade_to_base_removes_every_table_and_upgrade_restores(empty_url: str) -> None:
    engine = create_store_engine(empty_url)
    try:
        upgrade(engine)
        assert downgrade(engine, "base") is None
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(engine)
        assert set(inspect(engine).get_table_names()) >= set(Base.metadata.tables)
    finally:
        engine.dispose()


def test_no_code_creates_tables_outside_migrations() -> None:
    offenders = [
        str(p.relative_to(SRC))
        for p in SRC.rglob("*.py")
        if "create_all(" in p.read_text() and "migrations" not in p.parts
    ]
    assert offenders == []


def test_sqlite_runs_in_wal_mode_with_full_sync(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        engine.dispose()


def test_default_database_is_a_sqlite_file_in_the_user_data_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from ldnkit.store.config import database_url, default_database_path

    monkeypatch.delenv("LDNKIT_DATABASE_URL", raising=False)
    assert database_url() == f"sqlite:///{default_database_path()}"
    assert "ldnkit" in str(default_database_path())
    monkeypatch.setenv("LDNKIT_DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    assert database_url() == f"sqlite:///{tmp_path / 'env.db'}"
    assert database_url("sqlite:///explicit.db") == "sqlite:///explicit.db"
