from tests.db_fixtures import backend, engine, pg_migrated_url  # noqa: F401
