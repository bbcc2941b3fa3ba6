"""`ldnkit prescribe` and `ldnkit advise`: the monitoring loop for a stored patient.

`prescribe` screens the stored clinical profile and saves the assessment and a new plan
version; `advise` reads the current plan and diary and prints today's response-guided advice
with its reasons and sources (and records it with `--save`).
"""

from __future__ import annotations

import datetime as dt
import json

import typer
from rich.console import Console
from rich.table import Table

from ldnkit.cli.clinical import OutputFormat, render_assessment, render_plan
from ldnkit.cli.store import ACTOR, DB_HELP, open_session
from ldnkit.clinical.models import Plan, PlanOptions, fmt_mg
from ldnkit.clinical.response import Advice, advise
from ldnkit.clinical.titration import default_protocol_for, plan_for_patient
from ldnkit.errors import NotFound
from ldnkit.inputs import parse_date, parse_model, past_start_warning
from ldnkit.store.profiles import (
    clinical_profile,
    core_patient,
    save_plan_version,
    screen_and_save,
)


def render_advice(console: Console, patient_id: int, a: Advice) -> None:
    """Today's advice, the responder summary and the reasons, each with sources."""
    r = a.responder
    console.print(f"Advice for patient {patient_id} on {a.on}: [bold]{a.title}[/] ({a.action})")
    console.print(a.message)
    t = Table(title="Response")
    for col in ("baseline", "latest", "reduction", "points", "category", "days recorded"):
        t.add_column(col)
    t.add_row(
        "-" if r.baseline_mean is None else f"{r.baseline_mean} ({r.baseline_entries} d)",
        "-" if r.recent_mean is None else str(r.recent_mean),
        "-" if r.percent_reduction is None else f"{r.percent_reduction}%",
        "-" if r.points_reduction is None else str(r.points_reduction),
        r.category,
        f"{r.recent_entries}/{r.recent_expected} ({a.missing_days} missing)",
    )
    console.print(t)
    dose = "-" if a.current_dose_mg is None else f"{fmt_mg(a.current_dose_mg)} mg"
    nxt = "-" if a.suggested_dose_mg is None else f"{fmt_mg(a.suggested_dose_mg)} mg"
    console.print(f"Current dose {dose} for {a.days_at_dose} days; suggested {nxt}")
    if a.safety_finding:
        console.print(f"[bold red]Safety finding[/] (rule {a.rule})")
    if a.intolerable_mg:
        doses = ", ".join(f"{fmt_mg(d)} mg" for d in a.intolerable_mg)
        console.print(f"Not tolerated (needs a clinician override to retry): {doses}")
    if a.blocked:
        console.print(f"Escalation held by: {', '.join(a.blocked)}")
    for reason in a.reasons:
        console.print(f"  - {reason}")
    console.print(f"Sources: {', '.join(a.sources)}")


def register(app: typer.Typer) -> None:
    """Add `ldnkit prescribe` and `ldnkit advise`."""

    @app.command("prescribe")
    def prescribe_cmd(
        patient: int = typer.Argument(..., help="Stored patient id"),
        start: str = typer.Option(..., "--start", help="First dose YYYY-MM-DD"),
        protocol: str = typer.Option(None, "--protocol", help="Default: from the condition"),
        interval: int = typer.Option(
            None, "--interval", min=1, help="Days between steps (7 or 14)"
        ),
        db: str | None = typer.Option(None, "--db", help=DB_HELP),
    ) -> None:
        """Screen a stored patient and save a new plan version (refuses unsafe starts)."""
        from ldnkit.store import repositories as repo

        day = parse_date("--start", start)
        options = parse_model(
            PlanOptions, {} if interval is None else {"interval_days": interval}, "options"
        )
        console = Console(width=160)
        with open_session(db) as s:
            row = repo.get_patient(s, patient)
            profile = clinical_profile(row)
            core = core_patient(row.id, profile)
            _, assessment = screen_and_save(s, row.id, profile, day, ACTOR)
            pid = protocol if protocol is not None else default_protocol_for(core)
            plan = plan_for_patient(core, pid, day, options)
            saved = save_plan_version(s, row.id, plan, ACTOR)
        if (warning := past_start_warning(day, dt.date.today())) is not None:
            typer.echo(warning, err=True)
        render_assessment(console, assessment)
        render_plan(console, plan)
        console.print(f"Saved plan version {saved.version} for patient {patient}")

    @app.command("advise")
    def advise_cmd(
        patient: int = typer.Argument(..., help="Stored patient id"),
        on: str = typer.Option(None, "--on", help="Date YYYY-MM-DD (default today)"),
        save: bool = typer.Option(False, "--save", help="Record the advice"),
        fmt: OutputFormat = typer.Option(OutputFormat.table, "--format"),
        db: str | None = typer.Option(None, "--db", help=DB_HELP),
    ) -> None:
        """Today's response-guided advice from the current plan and the diary."""
        from ldnkit.store import repositories as repo

        day = parse_date("--on", on) if on is not None else dt.date.today()
        with open_session(db) as s:
            repo.get_patient(s, patient)
            stored = repo.current_plan(s, patient)
            if stored is None:
                raise NotFound("plan for patient", str(patient))
            plan = parse_model(Plan, stored.payload, "plan")
            versions = [
                parse_model(Plan, v.payload, "plan") for v in repo.plan_versions(s, patient)
            ]
            entries = repo.diary.diary(s, patient, end=day)
            advice = advise(
                plan=plan,
                entries=entries,
                today=day,
                plan_history=versions,
                overrides=repo.core_overrides(s, patient),
            )
            if save:
                repo.save_advice(
                    s,
                    patient_id=patient,
                    given_on=day,
                    code=advice.action,
                    payload=advice.model_dump(mode="json"),
                    plan_id=stored.id,
                    actor=ACTOR,
                )
        if fmt is OutputFormat.json:
            typer.echo(json.dumps(advice.model_dump(mode="json"), indent=2))
        else:
            render_advice(Console(width=160), patient, advice)
