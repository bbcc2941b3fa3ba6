"""`ldnkit instruments ...`: the instruments a clinic uses, and checking its definition file.

A clinic that holds a licence for an instrument (BPI, FIQR, PROMIS, ODI, RMDQ) writes its own
definition file; `ldnkit instruments check FILE` validates it before the server is pointed at
it (`LDNKIT_INSTRUMENTS_FILE`), and `questionnaire ID` prints the FHIR Questionnaire.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

instruments_app = typer.Typer(
    help="Patient-reported instruments (NRS, PEG-3, PGIC, a clinic's own).", no_args_is_help=True
)

_FILE = typer.Option(None, "--file", envvar="LDNKIT_INSTRUMENTS_FILE", help="Clinic definitions")


def _catalogue(path: Path | None):  # type: ignore[no-untyped-def]
    from ldnkit.clinical.instruments import Catalogue, load_instruments_file, shipped_instruments

    extra = load_instruments_file(path) if path else ()
    return Catalogue(shipped_instruments(), extra)


def _table(cat) -> Table:  # type: ignore[no-untyped-def]
    table = Table("id", "name", "items", "scoring", "schedule", "LOINC")
    for inst in cat:
        table.add_row(
            inst.id,
            inst.name,
            str(len(inst.items)),
            inst.scoring.rule,
            inst.schedule,
            inst.loinc_panel or inst.loinc_score or "-",
        )
    return table


@instruments_app.command("list")
def list_cmd(file: Path = _FILE) -> None:
    """The shipped instruments and the clinic's own."""
    Console(width=140).print(_table(_catalogue(file)))


@instruments_app.command("check")
def check_cmd(file: Path = typer.Argument(..., metavar="FILE.yaml")) -> None:
    """Validate a clinic's definition file (exit 2 with the bad field named)."""
    cat = _catalogue(file)
    console = Console(width=140)
    console.print(_table(cat))
    console.print(f"{file}: ok")


@instruments_app.command("questionnaire")
def questionnaire_cmd(instrument_id: str, file: Path = _FILE) -> None:
    """Print an instrument as a FHIR R4 Questionnaire (JSON)."""
    from ldnkit.clinical.instruments import to_questionnaire

    print(json.dumps(to_questionnaire(_catalogue(file).get(instrument_id)), indent=2))


def register(app: typer.Typer) -> None:
    app.add_typer(instruments_app, name="instruments")


__all__ = ["instruments_app", "register"]
