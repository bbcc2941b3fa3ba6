"""`ldnkit evidence [TABLE]`: the evidence base as Rich tables, each row with its sources."""

from __future__ import annotations

from collections.abc import Callable

import typer
from rich.console import Console
from rich.table import Table

from ldnkit.errors import NotFound
from ldnkit.evidence import Evidence, default_evidence
from ldnkit.evidence.tables import dosing_rows


def _src(ids: list[str]) -> str:
    return ", ".join(ids)


def _dosing(ev: Evidence) -> Table:
    t = Table(title="General dosing (LDN, chronic pain)")
    for col in ("parameter", "value", "sources"):
        t.add_column(col)
    for row in dosing_rows(ev):
        t.add_row(row["parameter"], row["value"], _src(row["sources"]))
    return t


def _protocols(ev: Evidence) -> Table:
    t = Table(title="Condition protocols")
    for col in ("id", "protocol", "start", "step", "every", "target", "ceiling", "sources"):
        t.add_column(col)
    for p in ev.protocols.values():
        t.add_row(
            p.id,
            p.name,
            f"{p.start_mg} mg",
            f"+{p.step_mg} mg",
            f"{p.interval_days} d",
            f"{p.target_mg} mg",
            f"{p.ceiling_mg} mg",
            _src(p.sources),
        )
    return t


def _trials(ev: Evidence) -> Table:
    t = Table(title="Trials of LDN in chronic pain")
    for col in ("trial", "condition", "design", "n", "dose", "weeks", "outcome", "sources"):
        t.add_column(col)
    for tr in ev.studies.trials:
        dose = (
            f"{tr.dose_mg} mg"
            if tr.dose_mg
            else f"{tr.dose_mg_range} mg"
            if tr.dose_mg_range
            else ""
        )
        n = str(tr.n) if tr.n else f"{tr.n_studies} studies" if tr.n_studies else ""
        weeks = str(tr.duration_weeks) if tr.duration_weeks else ""
        t.add_row(tr.id, tr.condition, tr.design, n, dose, weeks, tr.outcome, _src(tr.sources))
    return t


def _observational(ev: Evidence) -> Table:
    t = Table(title="Observational data")
    for col in ("study", "setting", "figures", "sources"):
        t.add_column(col)
    for o in ev.studies.observational:
        figures = []
        if o.mean_treatment_days is not None:
            figures.append(f"mean treatment {o.mean_treatment_days} days")
        if o.still_on_therapy_percent is not None:
            figures.append(f"~{o.still_on_therapy_percent}% still on therapy")
        if o.mean_pain_change_points is not None:
            figures.append(f"mean pain change {o.mean_pain_change_points} points")
        if o.adverse_effect_percent is not None:
            figures.append(f"{o.adverse_effect_percent}% adverse effects")
        if o.n is not None:
            figures.append(f"n={o.n}")
        if o.finding:
            figures.append(o.finding)
        t.add_row(o.id, o.setting, "; ".join(figures), _src(o.sources))
    return t


def _screening(ev: Evidence) -> Table:
    t = Table(title="Contraindications and precautions (screening rules)")
    for col in ("code", "severity", "rule", "sources"):
        t.add_column(col)
    for r in ev.rules.values():
        t.add_row(r.code, r.severity, r.title, _src(r.sources))
    return t


def _side_effects(ev: Evidence) -> Table:
    se = ev.side_effects
    t = Table(title=f"Side effects ({se.adverse_effect_rate_percent}% reported any, VA data)")
    for col in ("id", "side effect", "note", "sources"):
        t.add_column(col)
    for e in se.effects:
        t.add_row(e.id, e.name, e.note or "", _src(e.sources))
    return t


def _first_line(ev: Evidence) -> Table:
    t = Table(title="First-line therapies before LDN, by pain type")
    for col in ("pain type", "first-line", "sources"):
        t.add_column(col)
    for p in ev.pain_types.values():
        names = ", ".join(f.name for f in p.first_line) or (p.note or "none listed")
        t.add_row(p.name, names, _src(p.sources))
    return t


def _standard_dose(ev: Evidence) -> Table:
    sd = ev.standard_dose
    t = Table(title="Standard-dose naltrexone and naltrexone-bupropion (not LDN)")
    for col in ("use", "regimen", "sources"):
        t.add_column(col)
    for r in sd.standard_dose:
        t.add_row(r.indication, r.regimen, _src(r.sources))
    nb = sd.naltrexone_bupropion
    tablet = (
        f"{nb.tablet['naltrexone_mg']} mg naltrexone + {nb.tablet['bupropion_mg']} mg bupropion"
    )
    t.add_row(f"Naltrexone-bupropion: {nb.indication}", tablet, _src(nb.sources))
    t.add_row("Compounding", sd.compounding.note, _src(sd.compounding.sources))
    return t


def _references(ev: Evidence) -> Table:
    t = Table(title="References")
    for col in ("id", "kind", "citation", "verified"):
        t.add_column(col)
    for r in ev.references.values():
        t.add_row(r.id, r.kind, r.citation(), r.verified or "")
    return t


TABLES: dict[str, Callable[[Evidence], Table]] = {
    "dosing": _dosing,
    "protocols": _protocols,
    "trials": _trials,
    "observational": _observational,
    "contraindications": _screening,
    "side-effects": _side_effects,
    "first-line": _first_line,
    "standard-dose": _standard_dose,
    "references": _references,
}


def evidence_tables(name: str | None, ev: Evidence | None = None) -> list[Table]:
    """The named evidence table, or all of them."""
    ev = ev or default_evidence()
    if name is None:
        return [build(ev) for build in TABLES.values()]
    if name not in TABLES:
        raise NotFound("evidence table", name, list(TABLES))
    return [TABLES[name](ev)]


def register(app: typer.Typer) -> None:
    """Add `ldnkit evidence` to the main app."""

    @app.command("evidence")
    def evidence_cmd(
        table: str | None = typer.Argument(None, help=f"One of: {', '.join(TABLES)}"),
    ) -> None:
        """Show the evidence base (dosing, protocols, trials, ...) with sources."""
        console = Console(width=160)
        for t in evidence_tables(table):
            console.print(t)


__all__ = ["TABLES", "evidence_tables", "register"]
