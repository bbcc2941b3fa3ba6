"""Where the database lives: `LDNKIT_DATABASE_URL`, else a SQLite file in the user data dir.

The default gives a working single-user install with no setup; a clinic points the same code
at PostgreSQL by setting one environment variable.
"""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_data_dir
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_database_path() -> Path:
    """The embedded database file, under the platform's per-user data directory."""
    return Path(user_data_dir("ldnkit", appauthor=False)) / "ldnkit.db"


def default_database_url() -> str:
    return f"sqlite:///{default_database_path()}"


class StoreSettings(BaseSettings):
    """Store configuration read from `LDNKIT_*` environment variables."""

    model_config = SettingsConfigDict(env_prefix="LDNKIT_", extra="ignore")

    database_url: str = ""

    def url(self) -> str:
        """The configured URL, or the embedded default when none is set."""
        return self.database_url or default_database_url()


def database_url(explicit: str | None = None) -> str:
    """An explicit URL wins; then `LDNKIT_DATABASE_URL`; then the embedded SQLite file."""
    return explicit or StoreSettings().url()


__all__ = ["StoreSettings", "database_url", "default_database_path", "default_database_url"]
