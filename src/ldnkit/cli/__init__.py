"""The `ldnkit` command: a Typer app with one sub-module per area.

Every area registers itself in `_register`; errors derived from `LdnkitError` (and bad
parameters) are printed on one line and exit with status 2, never as a traceback.
"""

from __future__ import annotations

import sys

import typer

from ldnkit.errors import LdnkitError

app = typer.Typer(
    name="ldnkit",
    help="Low-dose naltrexone for chronic pain: evidence, screening, titration and research.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Low-dose naltrexone for chronic pain: evidence, screening, titration and research."""


_AREAS = (
    "evidence",
    "clinical",
    "demo",
    "research",
    "pk",
    "store",
    "advise",
    "web",
    "interop",
    "diagrams",
    "nof1",
    "reminders",
    "instruments",
)


def _register() -> None:
    """Attach each area's commands; one line per area in `_AREAS` keeps merges trivial."""
    import importlib

    for area in _AREAS:
        importlib.import_module(f"ldnkit.cli.{area}").register(app)


def main(argv: list[str] | None = None) -> int:
    """Console entry point: run the app and turn ldnkit errors into a one-line message."""
    _register()
    try:
        result = app(args=argv, standalone_mode=False)
    except LdnkitError as exc:
        print(f"error: {exc.one_line()}", file=sys.stderr)
        return exc.exit_code
    except (typer.Exit, typer.Abort) as exc:
        return getattr(exc, "exit_code", 1)
    except Exception as exc:
        # Typer vendors its own click; its usage errors are recognised by shape, not by class.
        if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):
            print(f"error: {' '.join(exc.format_message().split())}", file=sys.stderr)
            return int(exc.exit_code) or 2
        raise
    # In non-standalone mode click returns the code given to typer.Exit instead of raising.
    return result if isinstance(result, int) else 0


def run() -> None:
    """Entry point used by `python -m ldnkit`."""
    sys.exit(main())
