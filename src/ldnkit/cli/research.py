"""`ldnkit trial design|schedule|simulate|power|analyze` and `ldnkit meta FILE.csv`.

Thin shell over `ldnkit.research`: parse options, call the pure core, render Rich tables,
show progress bars on long simulations and write plots/reports to the files asked for.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ldnkit.bounds import check_probability, check_seed
from ldnkit.errors import LdnkitError, NotFound, ValidationError
from ldnkit.research.designs import DESIGNS, Design, schedule, schedule_ics
from ldnkit.research.simulation import Assumptions

trial_app = typer.Typer(
    help="Design, schedule, simulate, power and analyse LDN trials.", no_args_is_help=True
)
console = Console(width=140)


def _design(name: str) -> Design:
    if name not in DESIGNS:
        raise NotFound("design", name, list(DESIGNS))
    return DESIGNS[name]()


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError("start", f"{text!r} is not a date (YYYY-MM-DD)") from None


def _assumptions(
    effect: float, responders: float, missing: float, dropout: float, clip: bool
) -> Assumptions:
    try:
        return Assumptions(
            ldn_effect=effect,
            responder_fraction=responders,
            p_missing_day=missing,
            dropout_per_week=dropout,
            clip=(0.0, 10.0) if clip else None,
        )
    except ValueError as exc:  # pydantic's message names the field
        first = str(exc).splitlines()
        raise ValidationError("assumptions", " ".join(first[1:3]).strip()) from None


_DESIGN_ARG = typer.Argument("younger-2009", help=f"One of: {', '.join(DESIGNS)}")
_EFFECT = typer.Option(-0.34, help="LDN minus placebo, NRS points (FINAL: -0.34)")
_RESP = typer.Option(1.0, help="fraction of responders (younger-2013: 0.32)")
_MISSING = typer.Option(0.0, help="probability a diary day is missing")
_DROPOUT = typer.Option(0.0, help="weekly dropout hazard")
_CLIP = typer.Option(True, help="bound diaries to the 0-10 scale")
_MEMORY = typer.Option(
    None,
    "--memory-limit",
    envvar="LDNKIT_MEMORY_LIMIT_BYTES",
    help="refuse simulations needing more memory than this many bytes (default 4 GiB)",
)


@trial_app.command("design")
def design_cmd(
    name: str = _DESIGN_ARG,
    as_json: bool = typer.Option(False, "--json", help="print the design as JSON"),
    diagram: Path | None = typer.Option(
        None,
        "--diagram",
        help="also write the workflow diagram (SVG, or the text steps for a .txt name) and, "
        "beside it, the schedule chart per arm (NAME-schedule.svg)",
    ),
) -> None:
    """Show a design: phases by sequence, visits, outcome, analysis and sources."""
    d = _design(name)
    if diagram is not None:
        _write_design_diagram(d, diagram)
    if as_json:
        console.print_json(d.model_dump_json())
        return
    t = Table(title=d.title)
    rows = d.table()
    for col in rows[0]:
        t.add_column(col)
    for r in rows:
        t.add_row(*(str(v) for v in r.values()))
    console.print(t)
    console.print(f"Primary outcome: {d.primary_outcome}")
    console.print(f"Analysis: {d.analysis}")
    console.print(f"Daily: {', '.join(d.daily)}; visits on days {[v.day for v in d.visits]}")
    console.print(f"Sources: {', '.join(d.sources)}")


def _write_design_diagram(d: Design, path: Path) -> None:
    from ldnkit.diagrams import render_svg, schedule_chart_svg, trial_workflow

    flow = trial_workflow(d)
    if path.suffix.lower() == ".txt":
        lines = [f"{i}. {step}" for i, step in enumerate(flow.steps, 1)]
        path.write_text("\n".join([flow.title, *lines]) + "\n", encoding="utf-8")
    else:
        path.write_text(render_svg(flow), encoding="utf-8")
        chart = path.with_name(f"{path.stem}-schedule.svg")
        chart.write_text(schedule_chart_svg(d), encoding="utf-8")
        console.print(f"Wrote {chart}")
    console.print(f"Wrote {path}")


@trial_app.command("schedule")
def schedule_cmd(
    name: str = _DESIGN_ARG,
    start: str = typer.Option(..., help="first study day, YYYY-MM-DD"),
    ics: Path | None = typer.Option(None, help="also write the visit calendar (.ics)"),
) -> None:
    """The schedule of assessments from a start date (table, optional iCalendar file)."""
    d = _design(name)
    first = _parse_date(start)
    t = Table(title=f"Schedule of assessments: {d.title}")
    for col in ("day", "date", "phase", "visit", "assessments"):
        t.add_column(col)
    for r in schedule(d, first):
        t.add_row(str(r.day), str(r.date), r.phase, r.visit or "", ", ".join(r.assessments))
    console.print(t)
    if ics is not None:
        ics.write_bytes(schedule_ics(d, first))
        console.print(f"calendar written to {ics}")


@trial_app.command("simulate")
def simulate_cmd(
    name: str = _DESIGN_ARG,
    patients: int = typer.Option(10, min=1),
    seed: int = typer.Option(0),
    out: Path = typer.Option(Path("simulated_trial.csv"), help="tidy CSV of one trial"),
    effect: float = _EFFECT,
    responders: float = _RESP,
    missing: float = _MISSING,
    dropout: float = _DROPOUT,
    clip: bool = _CLIP,
    memory_limit: int | None = _MEMORY,
) -> None:
    """Simulate one trial's daily diaries (and lab visits) into a tidy CSV."""
    from ldnkit.research.simulation import simulate

    d = _design(name)
    a = _assumptions(effect, responders, missing, dropout, clip)
    seed = check_seed("--seed", seed)
    sim = simulate(
        d, a, n_patients=patients, n_trials=1, seed=seed, memory_limit_bytes=memory_limit
    )
    frame = sim.to_frame(0)
    frame.to_csv(out, index=False)
    console.print(
        f"{len(frame)} patient-days for {patients} patients ({d.total_days} days) written to {out}"
    )


def _progress(total: int) -> Progress:
    return Progress(
        TextColumn("[bold]simulating"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} trials"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def _sample_sizes(text: str) -> list[int]:
    """`--curve` as whole numbers of at least 2 patients, or a one-line error naming it."""
    try:
        ns = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ValidationError("--curve", f"{text!r} is not a list of whole numbers") from None
    if not ns or min(ns) < 1:
        raise ValidationError("--curve", "give sample sizes of at least 1, e.g. 10,20,40")
    return ns


@trial_app.command("power")
def power_cmd(
    name: str = _DESIGN_ARG,
    patients: int = typer.Option(20, min=1),
    trials: int = typer.Option(2000, min=10, help="simulated trials per sample size"),
    alpha: float = typer.Option(0.05),
    seed: int = typer.Option(0),
    effect: float = _EFFECT,
    responders: float = _RESP,
    missing: float = _MISSING,
    dropout: float = _DROPOUT,
    clip: bool = _CLIP,
    curve: str | None = typer.Option(None, help="comma-separated sample sizes, e.g. 10,20,40"),
    target: float | None = typer.Option(None, help="find the sample size for this power"),
    plot: Path | None = typer.Option(None, help="write the power curve (.png/.svg)"),
    dask: str | None = typer.Option(None, help="dask scheduler address, or 'local'"),
    memory_limit: int | None = _MEMORY,
) -> None:
    """Simulated power with its Monte Carlo interval; optional curve and sample size."""
    from ldnkit.research.power import power_curve, sample_size

    d = _design(name)
    a = _assumptions(effect, responders, missing, dropout, clip)
    alpha = check_probability("--alpha", alpha)
    seed = check_seed("--seed", seed)
    if target is not None:
        target = check_probability("--target", target)
    ns = _sample_sizes(curve) if curve is not None else [patients]
    client = None
    if dask:
        try:
            from distributed import Client
        except ImportError:
            raise ValidationError(
                "dask", "install the optional extra: pip install 'ldnkit[dask]'"
            ) from None
        client = Client(processes=False) if dask == "local" else Client(dask)
    try:
        if target is not None:
            n, pc = sample_size(
                d,
                target,
                a,
                n_trials=trials,
                alpha=alpha,
                seed=seed,
                client=client,
                memory_limit_bytes=memory_limit,
            )
            _power_table(pc.results)
            console.print(f"Sample size for power {target:.0%}: [bold]{n}[/] patients")
            if plot:
                pc.plot(plot, target=target)
            return
        total = trials * len(ns)
        with _progress(total) as bar:
            task = bar.add_task("power", total=total)
            pc = power_curve(
                d,
                ns,
                a,
                n_trials=trials,
                alpha=alpha,
                seed=seed,
                client=client,
                progress=lambda k: bar.advance(task, k),
                memory_limit_bytes=memory_limit,
            )
        _power_table(pc.results)
        if len(ns) == 1:
            console.print(pc.results[0].summary())
        if plot:
            pc.plot(plot, target=target)
            console.print(f"power curve written to {plot}")
    finally:
        if client is not None:
            client.close()


def _power_table(results: list) -> None:
    t = Table(title="Simulated power")
    for col in ("patients", "power", "MC SE", "95% CI", "mean estimate", "trials"):
        t.add_column(col)
    for r in results:
        lo, hi = r.conf_int()
        t.add_row(
            str(r.n_patients),
            f"{r.power:.3f}",
            f"{r.mc_se:.3f}",
            f"{lo:.3f}-{hi:.3f}",
            f"{r.to_dict()['mean_estimate']:.3f}",
            str(r.n_trials),
        )
    console.print(t)


@trial_app.command("analyze")
def analyze_cmd(
    file: Path = typer.Argument(..., help="tidy CSV or Parquet, one row per patient-day"),
    out: Path = typer.Option(Path("trial_report"), help="folder for report.md, JSON, plots"),
    summary_days: int = typer.Option(7, help="diary days at the end of each treatment phase"),
) -> None:
    """Analyse a trial table and write a report (tables + plots) in one go."""
    from ldnkit.research.analysis import analyze_trial
    from ldnkit.research.io import read_trial

    res = analyze_trial(read_trial(file), summary_days=summary_days)
    console.print(res.summary())
    files = res.report(out)
    console.print(f"report written: {', '.join(str(f) for f in files)}")


def _read_csv(file: Path):
    import pandas as pd

    if not file.exists():
        raise ValidationError("file", f"{file} does not exist")
    if file.is_dir():
        raise ValidationError("file", f"{file} is a folder, not a CSV file")
    try:
        return pd.read_csv(file)
    except (ValueError, OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValidationError("file", f"{file.name}: not a readable CSV ({first})") from None


_PLOT_SUFFIXES = frozenset({".png", ".svg", ".pdf", ".jpg", ".jpeg"})


def _write_plot(kind: str, draw, path: Path) -> None:
    try:
        draw(path)
    except (ValueError, OSError) as exc:
        raise ValidationError(f"--{kind}", f"cannot write {path} ({exc})") from None


def meta_cmd(
    file: Path | None = typer.Argument(
        None, help="CSV: study + yi,vi | yi,se | estimate,ci_lower,ci_upper | m1..n2 | a,b,c,d"
    ),
    ldn: bool = typer.Option(False, "--ldn", help="pool the shipped LDN trials dataset"),
    method: str = typer.Option("REML", help="FE, DL, REML or PM"),
    hartung_knapp: bool = typer.Option(True, "--hk/--no-hk", help="Hartung-Knapp adjustment"),
    hk_adhoc: bool = typer.Option(
        True,
        "--hk-adhoc/--hk-plain",
        help="Hartung-Knapp with the ad hoc correction max(1, q) (Roever 2015; metafor "
        "test='adhoc'), or plain (metafor test='knha')",
    ),
    forest: Path | None = typer.Option(None, help="write a forest plot (.png/.svg)"),
    funnel: Path | None = typer.Option(None, help="write a funnel plot (.png/.svg)"),
    loo: bool = typer.Option(False, "--leave-one-out", help="also print leave-one-out"),
    as_json: bool = typer.Option(False, "--json"),
    delta: float = typer.Option(
        0.2, help="--ldn: minimal relevant SMD for P(|SMD| > delta) and the TSA's RIS"
    ),
    tau_scale: float = typer.Option(
        0.5, help="--ldn: scale of the half-normal prior on tau (Bayesian view)"
    ),
) -> None:
    """Meta-analysis of a CSV of study results (or --ldn for the published LDN trials:
    classical, Bayesian and trial sequential views)."""
    try:
        _meta(
            file,
            ldn,
            method,
            hartung_knapp,
            hk_adhoc,
            forest,
            funnel,
            loo,
            as_json,
            delta,
            tau_scale,
        )
    except (LdnkitError, typer.Exit, typer.Abort):
        raise
    except Exception as exc:  # last resort: the CLI prints one line, never a traceback
        raise LdnkitError(
            f"meta: unexpected {type(exc).__name__}: {' '.join(str(exc).split())} "
            "(please report this input)"
        ) from None


def _meta(
    file: Path | None,
    ldn: bool,
    method: str,
    hartung_knapp: bool,
    hk_adhoc: bool,
    forest: Path | None,
    funnel: Path | None,
    loo: bool,
    as_json: bool,
    delta: float,
    tau_scale: float,
) -> None:
    from ldnkit.research.meta import meta_analysis, study_effects
    from ldnkit.research.published import load_trials_meta, pooled_ldn_example

    for kind, path in (("forest", forest), ("funnel", funnel)):
        if path is not None and path.suffix.lower() not in _PLOT_SUFFIXES:
            raise ValidationError(
                f"--{kind}", f"{path.name}: use one of {', '.join(sorted(_PLOT_SUFFIXES))}"
            )
    if ldn:
        res = pooled_ldn_example(method=method, hartung_knapp=hartung_knapp, hk_adhoc=hk_adhoc)
        data = load_trials_meta()
    else:
        if file is None:
            raise ValidationError("file", "give a CSV file or --ldn")
        eff = study_effects(_read_csv(file))
        res = meta_analysis(
            eff.yi,
            eff.vi,
            labels=eff.labels,
            method=method,
            hartung_knapp=hartung_knapp,
            measure=eff.measure,
            hk_adhoc=hk_adhoc,
        )
        res.notes.extend(eff.excluded)
        data = None
    bayes = tsa = None
    if ldn:
        from ldnkit.research.published import ldn_bayes, ldn_tsa

        if not delta > 0:
            raise ValidationError("delta", f"must be a positive SMD, got {delta}")
        bayes = ldn_bayes(tau_scale=tau_scale)
        tsa = ldn_tsa(delta=delta)
    if as_json:
        out = res.to_dict()
        if bayes is not None and tsa is not None:
            out["bayesian"] = bayes.to_dict() | {
                "p_mu_below_0": bayes.prob_below(0.0),
                f"p_abs_mu_above_{delta:g}": bayes.prob_outside(delta),
                f"p_mu_below_minus_{delta:g}": bayes.prob_below(-delta),
            }
            out["tsa"] = tsa.to_dict()
        console.print_json(json.dumps(out))
    else:
        console.print(res.summary())
        if data is not None:
            console.print("\nPublished pooled estimates for comparison:")
            for p in data.published_pooled:
                console.print(
                    f"  {p.id}: {p.measure} {p.estimate} ({p.ci[0]} to {p.ci[1]}), "
                    f"I2 {p.I2_percent}% - {p.population} [{', '.join(p.sources)}]"
                )
            console.print("\nHow each trial's figure became an SMD:")
            for t in data.trials:
                how = t.effect.method if t.effect else f"not pooled: {t.exclusion}"
                console.print(
                    f"  {t.label}: {how}; reported: {t.reported} [{', '.join(t.sources)}]",
                    markup=False,
                )
        if bayes is not None and tsa is not None:
            console.print("\n[bold]Bayesian view[/] (bayesmeta-style, exact integration)")
            console.print(bayes.summary(), markup=False)
            console.print(
                f"P(SMD < 0) = {bayes.prob_below(0.0):.3f} (LDN better than placebo);  "
                f"P(|SMD| > {delta:g}) = {bayes.prob_outside(delta):.3f};  "
                f"P(SMD < -{delta:g}) = {bayes.prob_below(-delta):.3f}",
                markup=False,
            )
            console.print("\n[bold]Trial sequential view[/]")
            console.print(tsa.summary(), markup=False)
    if loo:
        t = Table(title="Leave-one-out")
        for col in ("omitted", "estimate", "95% CI", "p", "tau^2", "I^2"):
            t.add_column(col)
        for r in res.leave_one_out():
            t.add_row(
                r.omitted,
                f"{r.estimate:.4f}",
                f"{r.ci_lower:.4f} to {r.ci_upper:.4f}",
                f"{r.pvalue:.3g}",
                f"{r.tau2:.4f}",
                f"{r.I2:.1f}%",
            )
        console.print(t)
    if forest:
        _write_plot("forest", res.plot_forest, forest)
        console.print(f"forest plot written to {forest}")
    if funnel:
        _write_plot("funnel", res.plot_funnel, funnel)
        console.print(f"funnel plot written to {funnel}")


def register(app: typer.Typer) -> None:
    """Add `ldnkit trial ...` and `ldnkit meta` to the main app."""
    app.add_typer(trial_app, name="trial")
    app.command("meta")(meta_cmd)


__all__ = ["register", "trial_app"]
