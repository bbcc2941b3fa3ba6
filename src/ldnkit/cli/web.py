"""`ldnkit serve` and `ldnkit seed-demo`: the web app and its demo clinic."""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Console
from rich.table import Table


def _print_logins(console: Console, url: str) -> None:
    from ldnkit.web.demo_seed import LOGINS

    table = Table(title=f"Demo logins for {url}")
    for col in ("username", "password", "role", "who"):
        table.add_column(col)
    for login in LOGINS:
        table.add_row(login.username, login.password, login.role, login.who)
    console.print(table)


def full_app(settings: Any = None) -> Any:
    """The served product (`ldnkit.web.main.served_app`); this name is kept for callers of
    the old factory path `ldnkit.cli.web:full_app`."""
    from ldnkit.web.main import served_app

    return served_app(settings)


def register(app: typer.Typer) -> None:
    @app.command("seed-demo")
    def seed_demo_cmd(
        url: str = typer.Option("http://127.0.0.1:8000", help="Where the app will be served"),
    ) -> None:
        """Upgrade the database and seed the demo clinic once (a second run keeps the data)."""
        from ldnkit.store import create_store_engine, upgrade
        from ldnkit.web import WebSettings
        from ldnkit.web.demo_seed import seed_demo

        console = Console()
        settings = WebSettings()
        engine = create_store_engine(settings.url())
        upgrade(engine)
        created = seed_demo(engine, settings.current_date())
        engine.dispose()
        console.print(
            "Seeded the demo clinic." if created else "Demo clinic already present; kept as is."
        )
        _print_logins(console, url)

    @app.command("serve")
    def serve_cmd(
        host: str = typer.Option("127.0.0.1", help="Interface to listen on"),
        port: int = typer.Option(8000, min=1, max=65535, help="TCP port"),
        upgrade_db: bool = typer.Option(True, help="Apply database migrations first"),
        access_log: bool = typer.Option(True, help="Log each request (paths carry ids only)"),
        workers: int = typer.Option(
            1,
            min=1,
            max=64,
            help="Server processes (they share the database: PostgreSQL for a clinic)",
        ),
    ) -> None:
        """Serve the web app and JSON API (OpenAPI at /docs) with uvicorn."""
        import os

        import uvicorn

        from ldnkit.store import upgrade
        from ldnkit.web import WebSettings
        from ldnkit.web.main import FACTORY, served_app

        settings = WebSettings()
        if upgrade_db:
            upgrade(settings.url())
        if workers > 1 and not settings.secret_key:
            # Every worker must sign and verify sessions with the same key, or a login served
            # by one worker is refused by the next. Workers inherit the environment.
            os.environ["LDNKIT_SECRET_KEY"] = settings.resolved_secret().decode()
        uvicorn.run(
            FACTORY if workers > 1 else served_app(settings),
            factory=workers > 1,
            workers=workers,
            host=host,
            port=port,
            # Forwarded headers are believed only from LDNKIT_TRUSTED_PROXIES, by the app.
            proxy_headers=False,
            access_log=access_log,
            log_level="info",
        )
