"""`ldnkit demo`: the main job until the web app lands - screen and plan the examples."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer
from rich.console import Console
from rich.rule import Rule

from ldnkit.cli.clinical import render_assessment, render_plan
from ldnkit.cli.evidence import evidence_tables
from ldnkit.clinical.screening import screen
from ldnkit.clinical.titration import default_protocol_for, plan_for_patient
from ldnkit.errors import UnsafeToStart
from ldnkit.inputs import load_patient, parse_date

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
DEMO_DATE = date(2026, 11, 25)


def run_demo(console: Console, on: date) -> None:
    """Screen every bundled example and plan those that may start."""
    console.print(
        "[bold]ldnkit demo[/]: low-dose naltrexone screening and titration for the bundled "
        f"example patients, as of {on}. ldnkit supports clinical judgement; it does not "
        "replace it."
    )
    for table in evidence_tables("protocols"):
        console.print(table)
    for path in sorted(EXAMPLES.glob("*.yaml")):
        patient = load_patient(path)
        console.print(Rule(f"{path.name}"))
        assessment = screen(patient, on)
        render_assessment(console, assessment)
        start = assessment.may_start_on
        if start is None:
            console.print("[red]No plan: LDN is contraindicated for this patient.[/]")
            continue
        if assessment.status == "not_yet" and assessment.earliest_start is None:
            console.print("[magenta]No plan until the missing information is recorded.[/]")
            continue
        try:
            plan = plan_for_patient(patient, default_protocol_for(patient), start)
        except UnsafeToStart as exc:
            console.print(f"[red]No plan: {exc}[/]")
            continue
        render_plan(console, plan)


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo_cmd(
        on: str = typer.Option(DEMO_DATE.isoformat(), "--on", help="Screening date"),
    ) -> None:
        """Screen and plan the bundled example patients (the main job of `make run`)."""
        run_demo(Console(width=160), parse_date("--on", on))
