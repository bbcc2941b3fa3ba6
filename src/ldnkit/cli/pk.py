"""`ldnkit pk ...`: simulate naltrexone kinetics and receptor occupancy from the command line.

A thin shell: it parses options into a `Regimen`, calls the pure core and renders the result
objects' tables with Rich; plots and JSON are written only when asked for.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from ldnkit.bounds import check_int, check_memory, check_real, check_seed
from ldnkit.errors import ValidationError
from ldnkit.pharmacology import (
    Regimen,
    Table,
    occupancy_table,
    regimen_from_plan,
    simulate,
    simulate_population,
)
from ldnkit.yamlio import load_json

MAX_DAYS = 3650  # ten years of daily dosing: longer is a typing error, and memory grows with it
_MEMORY = typer.Option(
    None,
    "--memory-limit",
    envvar="LDNKIT_MEMORY_LIMIT_BYTES",
    help="Refuse runs needing more memory than this many bytes (default 4 GiB).",
)

pk_app = typer.Typer(
    name="pk",
    help="Naltrexone kinetics and mu-opioid receptor occupancy (single patient or population).",
    no_args_is_help=True,
)


def _rich(t: Table) -> RichTable:
    rt = RichTable(title=t.title)
    for c in t.columns:
        rt.add_column(c, justify="right")
    for r in t.rows:
        rt.add_row(*r)
    return rt


@dataclass(frozen=True)
class _Step:
    """Stand-in for a clinical PlanStep read from a plan file."""

    start: date
    end: date
    dose_mg: Decimal
    timing: str


@dataclass(frozen=True)
class _Plan:
    steps: list[_Step]
    protocol: str = "plan file"


def _read_schedule(path: Path, bedtime: float, morning: float) -> Regimen:
    """A JSON file with either {"times_h": [...], "doses_mg": [...]} or plan "steps"."""
    try:
        data: Any = load_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValidationError("--regimen", f"no such file {path}") from None
    except json.JSONDecodeError as exc:
        raise ValidationError("--regimen", f"not valid JSON ({exc.msg})") from None
    if isinstance(data, dict) and "times_h" in data:
        return Regimen(data["times_h"], data["doses_mg"], label=data.get("label", path.stem))
    if isinstance(data, dict) and "steps" in data:
        try:
            steps = [
                _Step(
                    date.fromisoformat(s["start"]),
                    date.fromisoformat(s["end"]),
                    Decimal(str(s["dose_mg"])),
                    s.get("timing", "bedtime"),
                )
                for s in data["steps"]
            ]
        except (KeyError, ValueError, TypeError) as exc:
            raise ValidationError("--regimen", f"bad plan step ({exc})") from None
        return regimen_from_plan(_Plan(steps, data.get("protocol", path.stem)), bedtime, morning)
    raise ValidationError("--regimen", "expected 'times_h' and 'doses_mg', or 'steps'")


def _protocol_plan(protocol: str, start: date, timing: str) -> Any:
    """A protocol's dated titration plan, built by `ldnkit.clinical.titration`."""
    from ldnkit.clinical.models import PlanOptions
    from ldnkit.clinical.titration import titration_plan

    return titration_plan(protocol, start, PlanOptions(timing=timing))


def _population(regimen: Regimen, **kwargs: Any) -> Any:
    """`simulate_population` with its errors named by the CLI option (-n is --patients)."""
    try:
        return simulate_population(regimen, **kwargs)
    except ValidationError as exc:
        option = {"n": "--patients", "dt_h": "--dt", "seed": "--seed"}.get(exc.field)
        if option is None:
            raise
        raise ValidationError(option, exc.reason) from None


@pk_app.command("simulate")
def simulate_cmd(
    dose: float = typer.Option(None, "--dose", help="Daily dose, mg naltrexone hydrochloride."),
    days: int = typer.Option(14, "--days", help="Days of daily dosing (with --dose)."),
    timing: str = typer.Option("bedtime", "--timing", help="bedtime or morning."),
    regimen_file: Path = typer.Option(None, "--regimen", help="JSON schedule or plan file."),
    protocol: str = typer.Option(None, "--protocol", help="Titration protocol id (needs --start)."),
    start: str = typer.Option(None, "--start", help="Plan start date, YYYY-MM-DD."),
    patients: int = typer.Option(
        1, "--patients", "-n", help="Virtual patients (1 = typical adult)."
    ),
    seed: int = typer.Option(0, "--seed", help="Random seed for the population."),
    scenario: str = typer.Option(
        None, "--scenario", help="fitted (default), delayed or equilibrium brain equilibration."
    ),
    dt: float = typer.Option(
        None, "--dt", help="Output step, hours (default 0.1 for one patient, 1 for many)."
    ),
    bedtime_hour: float = typer.Option(22.0, "--bedtime-hour"),
    morning_hour: float = typer.Option(8.0, "--morning-hour"),
    plot: Path = typer.Option(
        None, "--plot", help="Write a PNG/SVG of concentrations and occupancy."
    ),
    json_out: Path = typer.Option(None, "--json", help="Write the result as JSON."),
    memory_limit: int = _MEMORY,
) -> None:
    """Simulate a regimen: a daily dose, a schedule/plan file, or a protocol's titration plan."""
    bedtime_hour = check_real("--bedtime-hour", bedtime_hour, 0.0, 24.0, hi_open=True)
    morning_hour = check_real("--morning-hour", morning_hour, 0.0, 24.0, hi_open=True)
    patients = check_int("--patients", patients, 1)
    seed = check_seed("--seed", seed)
    if dt is not None:
        dt = check_real("--dt", dt, 0.0, 24.0, lo_open=True)
    if dose is not None:
        dose = check_real("--dose", dose, 0.0, lo_open=True)
        days = check_int("--days", days, 1, MAX_DAYS)
    hours = {"bedtime": bedtime_hour, "morning": morning_hour}
    if timing not in hours:
        raise ValidationError("--timing", f"{timing!r} is not bedtime or morning")
    chosen = sum(x is not None for x in (dose, regimen_file, protocol))
    if chosen != 1:
        raise ValidationError("regimen", "give exactly one of --dose, --regimen, --protocol")
    if dose is not None and not dose > 0:
        raise ValidationError("--dose", f"{dose:g} mg: a daily dose must be positive")
    if dt is not None and not dt > 0:
        raise ValidationError("--dt", f"{dt:g} h: the output step must be positive")
    for option, hour in (("--bedtime-hour", bedtime_hour), ("--morning-hour", morning_hour)):
        if not 0 <= hour < 24:
            raise ValidationError(option, f"{hour:g} is not an hour of the day (0 to 24)")
    if dose is not None:
        regimen = Regimen.daily(dose, days, hour=hours[timing])
    elif regimen_file is not None:
        regimen = _read_schedule(regimen_file, bedtime_hour, morning_hour)
    else:
        if start is None:
            raise ValidationError("--start", "a protocol plan needs a start date")
        try:
            start_date = date.fromisoformat(start)
        except ValueError:
            raise ValidationError("--start", f"{start!r} is not a date YYYY-MM-DD") from None
        plan = _protocol_plan(protocol, start_date, timing)
        regimen = regimen_from_plan(plan, bedtime_hour, morning_hour)
    console = Console(width=140)
    if patients == 1:
        step = 0.1 if dt is None else dt
        points = round(float(regimen.end_h or 0.0) / step) + 1
        # trajectories (6 states), concentrations, effect sites and occupancy: ~16 arrays
        check_memory("--dt", points * 16 * 8, memory_limit, f"{points:,} time points")
        sim = simulate(regimen, scenario=scenario, dt_h=step)
        console.print(_rich(sim.table()))
        result: Any = sim
    else:
        with Progress(
            TextColumn("simulating"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} patients"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task("pk", total=patients)
            result = _population(
                regimen,
                n=patients,
                seed=seed,
                scenario=scenario,
                dt_h=1.0 if dt is None else dt,
                progress=lambda k: bar.advance(task, k),
                memory_limit_bytes=memory_limit,
            )
        console.print(_rich(result.table()))
        median = result.daily_hours(0.5)
        console.print(
            "median hours >=50% occupancy by week: "
            + ", ".join(
                f"w{w + 1} {median[7 * w : 7 * w + 7].mean():.1f}"
                for w in range((len(median) + 6) // 7)
            )
        )
    if plot is not None:
        result.plot(str(plot))
        console.print(f"plot written to {plot}")
    if json_out is not None:
        json_out.write_text(json.dumps(result.to_dict()), encoding="utf-8")
        console.print(f"JSON written to {json_out}")


@pk_app.command("table")
def table_cmd(
    doses: str = typer.Option("1.5,3,4.5,50", "--doses", help="Comma-separated daily doses, mg."),
    days: int = typer.Option(14, "--days", help="Days to steady state."),
    hour: float = typer.Option(22.0, "--hour", help="Hour of the daily dose."),
    patients: int = typer.Option(0, "--patients", "-n", help="Add population percentiles."),
    seed: int = typer.Option(0, "--seed"),
    markdown: bool = typer.Option(False, "--markdown", help="Print Markdown (for the docs)."),
) -> None:
    """Hours per day above 50% / 90% receptor occupancy, per dose, under each scenario."""
    if not 0 <= hour < 24:
        raise ValidationError("--hour", f"{hour:g} is not an hour of the day (0 to 24)")
    try:
        values = [float(x) for x in doses.split(",") if x.strip()]
    except ValueError:
        raise ValidationError("--doses", f"{doses!r} is not a list of numbers") from None
    if not values:
        raise ValidationError("--doses", "give at least one dose")
    values = [check_real("--doses", v, 0.0, lo_open=True) for v in values]
    days = check_int("--days", days, 1, MAX_DAYS)
    hour = check_real("--hour", hour, 0.0, 24.0, hi_open=True)
    patients = check_int("--patients", patients, 0)
    seed = check_seed("--seed", seed)
    table = occupancy_table(values, days=days, hour=hour, patients=patients, seed=seed)
    if markdown:
        typer.echo(table.to_markdown())
    else:
        Console(width=140).print(_rich(table))


@pk_app.command("fit")
def fit_cmd(
    draws: int = typer.Option(2000, "--draws", help="Parameter draws for the intervals."),
    seed: int = typer.Option(20261201, "--seed", help="Seed of the parameter draws."),
    scan_h: float = typer.Option(
        None, "--scan-h", help="Refit with another single-dose PET scan time (sensitivity)."
    ),
    out: Path = typer.Option(None, "--out", help="Write the fit as YAML (occupancy_fit.yaml)."),
    markdown: bool = typer.Option(False, "--markdown", help="Print Markdown (for the docs)."),
    stored: bool = typer.Option(
        False, "--stored", help="Show the bundled fit (occupancy_fit.yaml) without refitting."
    ),
    with_held_out: bool = typer.Option(
        False,
        "--with-held-out",
        help="Sensitivity: also fit the held-out data that have a value or range (midpoint).",
    ),
) -> None:
    """Fit brain occupancy to the published PET data (maximum likelihood, AIC, intervals)."""
    from ldnkit.pharmacology import fit as occfit

    if stored:
        sf = occfit.stored_fit()
        rows = tuple(
            (f"{h.dose_mg:g}", f"{h.point:.1f}", f"{h.median:.1f}", f"{h.lo95:.1f}-{h.hi95:.1f}")
            for h in sf.hours_above_50.rows
        )
        t = Table(
            f"Stored fit ({sf.default_structure}): steady-state hours/day above 50% occupancy",
            ("dose mg", "at MLE", "median", "95% interval"),
            rows,
        )
        typer.echo(t.to_markdown() if markdown else str(t))
        return
    if draws < 10:
        raise ValidationError("--draws", "need at least 10 parameter draws")
    if scan_h is not None and not (0 < scan_h <= 24):
        raise ValidationError("--scan-h", "scan time must be within 24 h of the dose")
    data = occfit.occupancy_data()
    if scan_h is not None:
        data = data.model_copy(
            update={
                "observations": [
                    o.model_copy(update={"time_after_last_dose_h": scan_h})
                    if o.role == "fit" and o.kind == "occupancy" and o.doses == 1
                    else o
                    for o in data.observations
                ]
            }
        )
    if with_held_out:
        data = occfit.with_held_out_fitted(data)
    console = Console(width=160)
    with console.status("fitting (about a minute)"):
        result = occfit.fit_occupancy(data=data, n_draws=draws, seed=seed)
    tables = (
        result.comparison(),
        result.parameters(),
        result.residuals(),
        result.held_out_table(),
        result.hours_table(),
    )
    for t in tables:
        if markdown:
            typer.echo(t.to_markdown() + "\n")
        else:
            console.print(_rich(t))
    if out is not None:
        import yaml

        text = yaml.safe_dump(
            occfit.stored_form(result, data), sort_keys=False, allow_unicode=True, width=100
        )
        header = "# Generated by `ldnkit pk fit`; do not edit by hand. Data: occupancy_data.yaml.\n"
        out.write_text(header + text, encoding="utf-8")
        console.print(f"fit written to {out}")


def register(app: typer.Typer) -> None:
    """Add `ldnkit pk` to the main app."""
    app.add_typer(pk_app, name="pk")


__all__ = ["pk_app", "register"]
