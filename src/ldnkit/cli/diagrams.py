"""`ldnkit diagram`: write the generated diagrams (SVG and their text alternatives) to files.

`ldnkit diagram export docs/img/diagrams` is how the images in `docs/` are made, so the pictures
in the documentation come from the same rules and data the engine runs.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from ldnkit.errors import NotFound

diagram_app = typer.Typer(help="Diagrams generated from the rules and data.", no_args_is_help=True)
console = Console(width=140)

_KINDS = ("mechanism", "trial", "decision")


def _diagrams(kind: str, name: str | None):  # type: ignore[no-untyped-def]
    from ldnkit.diagrams import mechanism_diagram, trial_workflow
    from ldnkit.evidence import default_evidence
    from ldnkit.research.designs import DESIGNS

    if kind == "mechanism":
        return [mechanism_diagram(default_evidence())]
    if kind == "decision":
        from ldnkit.diagrams.decision import decision_diagram

        return [decision_diagram(default_evidence())]
    if kind == "trial":
        names = [name] if name else list(DESIGNS)
        for n in names:
            if n not in DESIGNS:
                raise NotFound("design", n, list(DESIGNS))
        return [trial_workflow(DESIGNS[n]()) for n in names]
    raise NotFound("diagram", kind, list(_KINDS))


def _write(diagram, out: Path) -> None:  # type: ignore[no-untyped-def]
    from ldnkit.diagrams import render_svg

    out.mkdir(parents=True, exist_ok=True)
    svg = out / f"{diagram.id}.svg"
    svg.write_text(render_svg(diagram), encoding="utf-8")
    txt = out / f"{diagram.id}.txt"
    lines = [f"{i}. {step}" for i, step in enumerate(diagram.steps, 1)]
    txt.write_text("\n".join([diagram.title, *lines]) + "\n", encoding="utf-8")
    console.print(f"Wrote {svg} and {txt}")


@diagram_app.command("show")
def show_cmd(
    kind: str = typer.Argument(..., help="mechanism, trial or decision"),
    name: str | None = typer.Argument(None, help="design name for `trial` (default: all)"),
    out: Path = typer.Option(Path("."), "-o", "--out", help="folder to write into"),
) -> None:
    """Write one kind of diagram (SVG plus its steps as text)."""
    for d in _diagrams(kind, name):
        _write(d, out)


@diagram_app.command("export")
def export_cmd(out: Path = typer.Argument(Path("docs/img/diagrams"))) -> None:
    """Write every diagram: the documentation's images come from this command."""
    from ldnkit.diagrams import schedule_chart_svg
    from ldnkit.research.designs import DESIGNS

    for kind in _KINDS:
        for d in _diagrams(kind, None):
            _write(d, out)
    for key, make in DESIGNS.items():
        chart = out / f"trial-{key}-schedule.svg"
        chart.write_text(schedule_chart_svg(make()), encoding="utf-8")
        console.print(f"Wrote {chart}")


def register(app: typer.Typer) -> None:
    app.add_typer(diagram_app, name="diagram")


__all__ = ["diagram_app", "register"]
