"""Alembic environment for ldnkit: runs on the engine handed over by `ldnkit.store.migrate`."""

from __future__ import annotations

from alembic import context

from ldnkit.store.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes["engine"]
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("ldnkit migrations run online only (ldnkit db upgrade)")
run_migrations_online()
