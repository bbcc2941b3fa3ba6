"""Run the packaged Alembic migrations from Python (`ldnkit db upgrade` calls this).

Migrations are the only way ldnkit tables come into being, so an empty database, an old one and
a test database all reach the same schema by the same path. No alembic.ini is needed: the
configuration is built here and the scripts ship inside the package.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from ldnkit.store.engine import create_store_engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    """An Alembic config that runs the packaged scripts on `engine`'s connection."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine | str | None = None, revision: str = "head") -> str | None:
    """Bring the database up to `revision` (default: latest); returns the revision reached."""
    eng = engine if isinstance(engine, Engine) else create_store_engine(engine)
    command.upgrade(alembic_config(eng), revision)
    return current_revision(eng)


def downgrade(engine: Engine | str | None, revision: str) -> str | None:
    """Step the schema back (used by tests to prove each migration is reversible)."""
    eng = engine if isinstance(engine, Engine) else create_store_engine(engine)
    command.downgrade(alembic_config(eng), revision)
    return current_revision(eng)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for a database never migrated."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    """The newest revision shipped with this version of ldnkit."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(cfg).get_current_head()


__all__ = ["MIGRATIONS_DIR", "current_revision", "downgrade", "head_revision", "upgrade"]
