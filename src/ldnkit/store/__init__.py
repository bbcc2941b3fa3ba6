"""Storage: SQLAlchemy 2 models, Alembic migrations and repositories.

SQLite (WAL, `synchronous=FULL`) by default, PostgreSQL through the same `LDNKIT_DATABASE_URL`.
The clinical core never imports this package; shells open sessions and call the repositories.
"""

from ldnkit.store.config import StoreSettings, database_url, default_database_url
from ldnkit.store.engine import create_store_engine, session_factory
from ldnkit.store.migrate import current_revision, head_revision, upgrade

__all__ = [
    "StoreSettings",
    "create_store_engine",
    "current_revision",
    "database_url",
    "default_database_url",
    "head_revision",
    "session_factory",
    "upgrade",
]
