"""`ldnkit reminders send`: e-mail today's diary reminders (run it from cron every few minutes).

    */10 * * * *  LDNKIT_SMTP_HOST=mail.example LDNKIT_PUBLIC_URL=https://ldn.example \\
                  ldnkit reminders send
"""

from __future__ import annotations

import datetime as dt

import typer
from rich.console import Console

from ldnkit.errors import ValidationError

reminders_app = typer.Typer(
    help="Reminders to patients (opt-in e-mail; no health data).", no_args_is_help=True
)


def _parse(value: str | None, kind: str, parse, default):  # type: ignore[no-untyped-def]
    if not value:
        return default
    try:
        return parse(value)
    except ValueError:
        raise ValidationError(f"--{kind}", f"not a valid {kind}: {value!r}") from None


@reminders_app.command("send")
def send_cmd(
    db: str = typer.Option(None, "--db", envvar="LDNKIT_DATABASE_URL", help="Database URL"),
    base_url: str = typer.Option(
        ..., "--base-url", envvar="LDNKIT_PUBLIC_URL", help="The app's public URL, for the link"
    ),
    today: str = typer.Option(None, "--today", help="Day to remind about (default: today)"),
    now: str = typer.Option(None, "--now", help="Local time HH:MM (default: now)"),
) -> None:
    """E-mail every opted-in patient whose reminder time has come and who has not logged today."""
    from ldnkit.notify import SmtpSettings, send_reminders
    from ldnkit.store import create_store_engine, current_revision, head_revision

    clock = dt.datetime.now()
    day = _parse(today, "today", dt.date.fromisoformat, clock.date())
    at = _parse(now, "now", dt.time.fromisoformat, clock.time())
    engine = create_store_engine(db)
    try:
        if current_revision(engine) != head_revision():
            raise ValidationError(
                "--db", "database is not at the current schema; run `ldnkit db upgrade`"
            )
        report = send_reminders(engine, SmtpSettings(), base_url=base_url, today=day, now=at)
    finally:
        engine.dispose()
    console = Console()
    console.print(
        f"reminders {day.isoformat()} {at.strftime('%H:%M')}: sent {len(report.sent)}, "
        f"failed {len(report.failed)}, not due {report.not_due}"
    )
    if report.failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(reminders_app, name="reminders")


__all__ = ["register", "reminders_app"]
