"""`ldnkit screen` and `ldnkit plan`: the clinical core from the command line."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from ldnkit.clinical.models import Assessment, Plan, PlanOptions, fmt_mg
from ldnkit.clinical.screening import screen
from ldnkit.clinical.titration import default_protocol_for, plan_for_patient
from ldnkit.inputs import load_patient, parse_date, parse_mg, parse_model, past_start_warning
from ldnkit.interop.ical import plan_to_ics

_STATUS_STYLE = {
    "eligible": "green",
    "eligible_with_cautions": "yellow",
    "not_yet": "magenta",
    "contraindicated": "bold red",
}
_SEVERITY_STYLE = {
    "info": "cyan",
    "caution": "yellow",
    "defer": "magenta",
    "contraindicated": "red",
}


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    ics = "ics"


def render_assessment(console: Console, a: Assessment) -> None:
    """Print the overall status line and one row per finding with its sources."""
    style = _STATUS_STYLE[a.status]
    when = f" (earliest safe start {a.earliest_start})" if a.earliest_start else ""
    console.print(f"Screening of [bold]{a.patient_id}[/] on {a.on}: [{style}]{a.status}[/]{when}")
    t = Table(show_lines=False)
    for col in ("severity", "code", "finding", "sources"):
        t.add_column(col)
    for f in a.findings:
        t.add_row(
            f"[{_SEVERITY_STYLE[f.severity]}]{f.severity}[/]",
            f.code,
            f.message,
            ", ".join(f.sources),
        )
    console.print(t)


def render_plan(console: Console, plan: Plan) -> None:
    """Print the dated steps, visits and compounding amounts."""
    console.print(
        f"Plan for [bold]{plan.patient_id or '-'}[/]: {plan.protocol_name} from {plan.start}, "
        f"target {fmt_mg(plan.target_mg)} mg, ceiling {fmt_mg(plan.ceiling_mg)} mg, "
        f"steps every {plan.interval_days} days"
    )
    steps = Table(title="Dose steps")
    for col in ("#", "from", "to", "dose", "when", "note"):
        steps.add_column(col)
    for s in plan.steps:
        dose = f"{fmt_mg(s.dose_mg)} mg" if s.dose_mg > 0 else "HOLD"
        steps.add_row(str(s.index + 1), str(s.start), str(s.end), dose, s.timing, s.note)
    console.print(steps)
    visits = Table(title="Visits")
    for col in ("date", "visit", "window", "sources"):
        visits.add_column(col)
    for v in plan.visits:
        visits.add_row(
            str(v.date),
            v.kind.replace("_", " "),
            f"{v.window_start} to {v.window_end}",
            ", ".join(v.sources),
        )
    console.print(visits)
    disp = Table(title="Compounding")
    for col in ("step", "dose", "days", "form", "per dose", "quantity"):
        disp.add_column(col)
    for d in plan.dispensing:
        if d.form == "capsule":
            per = f"{d.units_per_dose} x {fmt_mg(d.strength_mg or Decimal(0))} mg capsule"
            qty = f"{d.quantity} capsules"
        else:
            per = f"{d.ml_per_dose} mL of {fmt_mg(d.mg_per_ml or Decimal(0))} mg/mL"
            qty = f"{d.total_ml} mL"
        disp.add_row(
            str(d.step_index + 1), f"{fmt_mg(d.dose_mg)} mg", str(d.days), d.form, per, qty
        )
    console.print(disp)
    console.print(f"Sources: {', '.join(plan.sources)}")


def register(app: typer.Typer) -> None:
    """Add `ldnkit screen` and `ldnkit plan` to the main app."""

    @app.command("screen")
    def screen_cmd(
        patient_file: Path = typer.Argument(..., metavar="PATIENT.yaml"),
        on: str = typer.Option(None, "--on", help="Screening date YYYY-MM-DD (default today)"),
        fmt: OutputFormat = typer.Option(OutputFormat.table, "--format"),
    ) -> None:
        """Is LDN appropriate for this patient? Findings with severity, reason and sources."""
        patient = load_patient(patient_file)
        day = parse_date("--on", on) if on is not None else date.today()
        assessment = screen(patient, day)
        if fmt is OutputFormat.json:
            typer.echo(assessment.model_dump_json(indent=2))
        else:
            render_assessment(Console(width=160), assessment)
        if assessment.status == "contraindicated":
            raise typer.Exit(1)

    @app.command("plan")
    def plan_cmd(
        patient_file: Path = typer.Argument(..., metavar="PATIENT.yaml"),
        start: str = typer.Option(..., "--start", help="First dose date YYYY-MM-DD"),
        protocol: str = typer.Option(
            None, "--protocol", help="Protocol id (default: from the patient's condition)"
        ),
        interval: int = typer.Option(
            None, "--interval", min=1, help="Days between steps (7 or 14)"
        ),
        start_mg: str = typer.Option(None, "--start-mg"),
        step_mg: str = typer.Option(None, "--step-mg"),
        target_mg: str = typer.Option(None, "--target-mg"),
        ceiling_mg: str = typer.Option(None, "--ceiling-mg"),
        morning: bool = typer.Option(False, "--morning", help="Dose in the morning"),
        surgery: str = typer.Option(None, "--surgery", help="Surgery date needing opioids"),
        capsules: str = typer.Option(
            None, "--capsules", help="Capsule strengths in mg, comma-separated (e.g. 1.5,3)"
        ),
        liquid: str = typer.Option(None, "--liquid", help="Liquid concentration in mg/mL"),
        fmt: OutputFormat = typer.Option(OutputFormat.table, "--format"),
        output: Path = typer.Option(None, "--output", "-o", help="Write to this file"),
    ) -> None:
        """A dated titration plan (screens first; refuses unsafe starts)."""
        patient = load_patient(patient_file)
        raw: dict[str, object] = {
            # `is not None`, never truthiness: an option given as 0 or "" is an error, not unset.
            "interval_days": interval,
            "start_mg": None if start_mg is None else parse_mg("--start-mg", start_mg),
            "step_mg": None if step_mg is None else parse_mg("--step-mg", step_mg),
            "target_mg": None if target_mg is None else parse_mg("--target-mg", target_mg),
            "ceiling_mg": None if ceiling_mg is None else parse_mg("--ceiling-mg", ceiling_mg),
            "timing": "morning" if morning else None,
            "surgery_date": None if surgery is None else parse_date("--surgery", surgery),
            "capsule_strengths_mg": None
            if capsules is None
            else [parse_mg("--capsules", c) for c in capsules.split(",")],
            "liquid_mg_per_ml": None if liquid is None else parse_mg("--liquid", liquid),
        }
        options = parse_model(
            PlanOptions, {k: v for k, v in raw.items() if v is not None}, "options"
        )
        first = parse_date("--start", start)
        pid = protocol if protocol is not None else default_protocol_for(patient)
        plan = plan_for_patient(patient, pid, first, options)
        if (warning := past_start_warning(first, date.today())) is not None:
            typer.echo(warning, err=True)
        if fmt is OutputFormat.ics:
            data = plan_to_ics(plan)
            if output:
                output.write_bytes(data)
            else:
                typer.echo(data.decode())
            return
        if fmt is OutputFormat.json:
            text = json.dumps(plan.model_dump(mode="json"), indent=2)
            if output:
                output.write_text(text)
            else:
                typer.echo(text)
            return
        render_plan(Console(width=160), plan)
