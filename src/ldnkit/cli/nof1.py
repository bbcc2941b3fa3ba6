"""`ldnkit nof1 design|status|unblind|analyze|report|pool|calibrate`: N-of-1 trials of LDN.

A thin shell over `ldnkit.store.nof1_trials` (stored trials) and `ldnkit.research.nof1`
(the core). The CLI acts as the clinic's clinician; like the web app it never prints pack
contents before a trial is unblinded, and every read of a sealed list is audited.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from ldnkit.errors import ValidationError
from ldnkit.inputs import parse_date

ACTOR = "cli"
DB_HELP = "Database URL (default: LDNKIT_DATABASE_URL, else a SQLite file in the user data dir)."

nof1_app = typer.Typer(
    help="Blinded N-of-1 trials: design, status, unblind, analyse, report, pool, calibrate.",
    no_args_is_help=True,
)


def _console() -> Console:
    return Console(width=140)


def _dose(text: str | None, field: str) -> Decimal | None:
    if text is None:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValidationError(field, f"{text!r} is not a dose in mg") from None


def _session(db: str | None):  # type: ignore[no-untyped-def]
    from ldnkit.cli.store import open_session

    return open_session(db)


@nof1_app.command("design")
def design_cmd(
    patient_id: int = typer.Argument(..., help="Stored patient id (see `ldnkit patient list`)."),
    start: str = typer.Option(..., help="First day of the run-in (YYYY-MM-DD)."),
    dose: str | None = typer.Option(None, help="LDN dose in mg (default: the titrated dose)."),
    versus: str | None = typer.Option(None, help="Compare with this dose (mg) instead of placebo."),
    pairs: int = typer.Option(3, help="Pairs of periods (2-12)."),
    measure_days: int = typer.Option(14, help="Analysed days per period."),
    pd_lag_days: int = typer.Option(3, help="Pharmacodynamic lag added to the washout (days)."),
    run_in_days: int = typer.Option(14, help="Open-label run-in at the titrated dose (days)."),
    goal: float = typer.Option(1.0, help="The patient's goal: points of pain less."),
    seed: int | None = typer.Option(None, help="Randomisation seed (default: a fresh random one)."),
    db: str | None = typer.Option(None, help=DB_HELP),
) -> None:
    """Design and store a blinded trial for a patient; prints the schedule by pack only."""
    from ldnkit.store.nof1_trials import start_trial

    when = parse_date("start", start)
    with _session(db) as s:
        row, design = start_trial(
            s,
            patient_id,
            when,
            ACTOR,
            dose_mg=_dose(dose, "dose"),
            seed=seed,
            comparator_dose_mg=_dose(versus, "versus"),
            pairs=pairs,
            measure_days=measure_days,
            pd_lag_days=pd_lag_days,
            run_in_days=run_in_days,
            goal_points=goal,
        )
        ref = row.ref
    con = _console()
    w = design.washout
    con.print(
        f"trial {ref} (id {row.id}): {design.settings.pairs} pairs, periods of "
        f"{design.period_days} days = washout {design.washout_days} (occupancy < "
        f"{w['occupancy_threshold']:g} after {w['hours_to_threshold']:.0f} h + "
        f"{w['pd_lag_days']} d lag) + {design.settings.measure_days} analysed"
    )
    t = Table(title=f"Schedule of {ref} (packs only; contents sealed)")
    for col in ("date", "day", "what", "assessments"):
        t.add_column(col)
    for r in design.schedule():
        t.add_row(r.date.isoformat(), str(r.day), r.title, ", ".join(r.assessments))
    con.print(t)


@nof1_app.command("status")
def status_cmd(
    trial_id: int = typer.Argument(..., help="Trial id."),
    on: str | None = typer.Option(None, help="Date to report on (default: today)."),
    db: str | None = typer.Option(None, help=DB_HELP),
) -> None:
    """Progress, stop signals and mean pain per pack letter (blinded)."""
    from ldnkit.store.nof1_trials import monitor
    from ldnkit.store.repositories import nof1 as trials

    when = parse_date("on", on) if on else dt.date.today()
    with _session(db) as s:
        info = monitor(s, trials.get_trial(s, trial_id), when)
    _console().print_json(json.dumps(info))


@nof1_app.command("unblind")
def unblind_cmd(
    trial_id: int = typer.Argument(..., help="Trial id."),
    emergency: str | None = typer.Option(
        None, help="Emergency unblinding with this reason code (e.g. serious_adverse_event)."
    ),
    note: str | None = typer.Option(None, help="Free-text note kept with the trial (not logged)."),
    db: str | None = typer.Option(None, help=DB_HELP),
) -> None:
    """Unblind after the last period (or in an emergency, with a reason); audited."""
    from ldnkit.store.repositories import nof1 as trials

    with _session(db) as s:
        row = trials.unblind(
            s,
            trial_id,
            actor=ACTOR,
            kind="emergency" if emergency else "final",
            today=dt.date.today(),
            reason=emergency,
            note=note,
        )
        alloc = trials.read_allocation(
            s, trial_id, actor=ACTOR, purpose="emergency" if emergency else "final"
        )
    _console().print(
        f"trial {row.ref} unblinded ({row.unblind_kind}): "
        + ", ".join(f"pack {k} = {v}" for k, v in sorted(alloc.pack_contents.items()))
    )


@nof1_app.command("analyze")
def analyze_cmd(
    trial_id: int = typer.Argument(..., help="Trial id (must be unblinded)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    informed: bool = typer.Option(
        False, "--informed", help="Prior from the clinic's other completed trials (labelled)."
    ),
    db: str | None = typer.Option(None, help=DB_HELP),
) -> None:
    """Exact Bayesian analysis with the paired t-test beside it; saves the result."""
    from ldnkit.store.nof1_trials import analyse_trial, clinic_prior

    with _session(db) as s:
        prior = clinic_prior(s, exclude_trial_id=trial_id) if informed else None
        _, result, report = analyse_trial(s, trial_id, ACTOR, prior=prior, save=not informed)
    con = _console()
    if as_json:
        con.print_json(json.dumps(result.to_dict()))
        return
    con.print(result.summary())
    con.print(report.headline)
    con.print(f"decision: {report.decision_text}")


@nof1_app.command("report")
def report_cmd(
    trial_id: int = typer.Argument(..., help="Trial id (must be unblinded)."),
    out: Path = typer.Option(..., "--out", "-o", help="PDF file to write."),
    db: str | None = typer.Option(None, help=DB_HELP),
) -> None:
    """Write the one-page report as PDF (reportlab)."""
    from ldnkit.interop.nof1_documents import report_pdf
    from ldnkit.store.nof1_trials import analyse_trial

    with _session(db) as s:
        _, _, report = analyse_trial(s, trial_id, ACTOR)
    out.write_bytes(report_pdf(report))
    _console().print(f"wrote {out} ({out.stat().st_size:,} bytes)")


@nof1_app.command("pool")
def pool_cmd(
    export: Path | None = typer.Option(None, help="Also write the name-free rows as CSV here."),
    responder: float = typer.Option(1.0, help="Points of pain less that count as responding."),
    db: str | None = typer.Option(None, help=DB_HELP),
) -> None:
    """Pool the clinic's completed trials (hierarchical model) next to the published RCTs."""
    import csv

    from ldnkit.research.published import pooled_ldn_example
    from ldnkit.store.nof1_trials import pool_clinic, pooled_export

    with _session(db) as s:
        pooled = pool_clinic(s, responder_points=responder)
        rows = pooled_export(s)
    con = _console()
    con.print(pooled.summary())
    rct = pooled_ldn_example()
    lo, hi = rct.conf_int()
    con.print(
        f"published randomised trials ({rct.k}, {rct.measure}): {rct.estimate:+.2f} "
        f"(95% CI {lo:+.2f} to {hi:+.2f}) - a standardised scale, not NRS points"
    )
    if export is not None and rows:
        with export.open("w", newline="") as fh:
            wr = csv.DictWriter(fh, fieldnames=list(rows[0]))
            wr.writeheader()
            wr.writerows(rows)
        con.print(f"wrote {len(rows)} rows to {export}")


@nof1_app.command("calibrate")
def calibrate_cmd(
    patients: int = typer.Option(1000, help="Simulated patients (>= 10)."),
    seed: int = typer.Option(2026, help="Simulation seed."),
    effect_mean: float = typer.Option(-0.5, help="Mean true effect (points, negative helps)."),
    effect_sd: float = typer.Option(1.0, help="SD of true effects between patients."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Coverage of the 95% intervals and the truth behind P(benefit) >= 0.9, by simulation."""
    from ldnkit.research.nof1.calibration import calibrate

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn()) as bar:
        bar.add_task(f"simulating and analysing {patients} N-of-1 trials", total=None)
        cal = calibrate(patients, seed, effect_mean=effect_mean, effect_sd=effect_sd)
    con = _console()
    if as_json:
        con.print_json(json.dumps(cal.to_dict()))
    else:
        con.print(cal.summary())


def register(app: typer.Typer) -> None:
    """Add `ldnkit nof1 ...` to the main app."""
    app.add_typer(nof1_app, name="nof1")


__all__ = ["nof1_app", "register"]
