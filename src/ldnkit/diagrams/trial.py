"""The trial workflow and the schedule per arm, drawn from a `research.designs.Design`.

The same design object drives the schedule of assessments, the randomisation and the simulator,
so a picture built from it cannot drift from the protocol: add a washout to the design and the
flowchart and the chart gain it.
"""

from __future__ import annotations

import html

from ldnkit.diagrams.graph import Diagram, DiagramEdge, DiagramNode
from ldnkit.research.designs import Design, Phase

__all__ = ["TREATMENT_COLOURS", "schedule_chart_svg", "trial_workflow"]

TREATMENT_COLOURS = {
    "none": "#e0e0e0",
    "placebo": "#bbdefb",
    "ldn": "#a5d6a7",
    "active": "#ffcc80",
}
_TREATMENT_WORDS = {"none": "no study drug", "placebo": "placebo", "ldn": "LDN", "active": "active"}


def _treatment(design: Design, seq_name: str, phase: Phase) -> str:
    seq = next(s for s in design.sequences if s.name == seq_name)
    kind = seq.treatments[phase.name]
    dose = phase.dose_mg or seq.dose_mg
    if kind == "ldn" and dose:
        return f"LDN {dose:g} mg"
    return _TREATMENT_WORDS[kind]


def _visits_in(design: Design, phase: Phase) -> list[str]:
    return [v.name for v in design.visits if phase.start_day <= v.day <= phase.end_day]


def _phase_label(design: Design, phase: Phase, treatment: str) -> str:
    visits = _visits_in(design, phase)
    extra = f"\nvisits: {', '.join(visits)}" if visits else ""
    return (
        f"{phase.name}: {treatment}\ndays {phase.start_day}-{phase.end_day} ({phase.days} d){extra}"
    )


def trial_workflow(design: Design) -> Diagram:
    """Screening -> shared phases -> randomisation -> each sequence's phases -> analysis."""
    phases = sorted(design.phases, key=lambda p: p.start_day)
    seq_names = [s.name for s in design.sequences]
    shared: list[Phase] = []
    for p in phases:
        treatments = {
            next(s for s in design.sequences if s.name == n).treatments[p.name] for n in seq_names
        }
        if len(treatments) == 1 and p.role == "baseline" and len(shared) == phases.index(p):
            shared.append(p)
        else:
            break
    nodes = [DiagramNode("screening", "Screening, consent and eligibility", kind="start")]
    edges: list[DiagramEdge] = []
    steps = [f"Screening, consent and eligibility ({design.title})."]
    prev = "screening"
    for p in shared:
        nid = f"shared-{p.name}"
        label = _phase_label(design, p, _treatment(design, seq_names[0], p))
        nodes.append(DiagramNode(nid, label, kind="phase"))
        edges.append(DiagramEdge(prev, nid))
        steps.append(f"{label.replace(chr(10), '; ')}.")
        prev = nid
    rest = phases[len(shared) :]
    branch_from = prev
    if len(seq_names) > 1:
        nodes.append(
            DiagramNode(
                "randomise",
                f"Randomise ({design.blinding} blind) to\n{' / '.join(seq_names)}",
                kind="decision",
            )
        )
        edges.append(DiagramEdge(prev, "randomise"))
        steps.append(
            f"Randomise ({design.blinding} blind) to one of the sequences {', '.join(seq_names)}."
        )
        branch_from = "randomise"
    ends = []
    groups = {}
    for name in seq_names:
        prev = branch_from
        group = f"seq-{name}"
        groups[group] = f"Sequence {name}" if len(seq_names) > 1 else "Study phases"
        words = []
        for p in rest:
            nid = f"{name}-{p.name}"
            treatment = _treatment(design, name, p)
            nodes.append(
                DiagramNode(nid, _phase_label(design, p, treatment), kind="phase", group=group)
            )
            edges.append(DiagramEdge(prev, nid, label=name if prev == "randomise" else ""))
            words.append(f"{p.name} ({treatment}, {p.days} days)")
            prev = nid
        ends.append(prev)
        steps.append(f"Sequence {name}: " + " -> ".join(words) + ".")
    nodes.append(
        DiagramNode(
            "analysis",
            f"Primary outcome: {design.primary_outcome}\nAnalysis: {design.analysis}",
            kind="outcome",
        )
    )
    for end in ends:
        edges.append(DiagramEdge(end, "analysis"))
    steps.append(
        f"Daily: {', '.join(design.daily)}. Primary outcome "
        f"{design.primary_outcome}, analysed by {design.analysis}."
    )
    return Diagram(
        id=f"trial-{design.id}",
        title=f"Trial workflow: {design.title}",
        description=(
            f"{design.kind.replace('_', ' ')} design, {design.blinding} blind, "
            f"{len(seq_names)} sequence(s), {design.total_days} days in all."
        ),
        nodes=nodes,
        edges=edges,
        steps=steps,
        groups=groups,
        direction="TB",
    )


def schedule_chart_svg(design: Design, width: int = 760) -> str:
    """A Gantt-style chart, one row per sequence, phases coloured by treatment, visits marked.

    Drawn directly as SVG (no layout problem to solve); text at 12 px or more so it stays
    legible on a phone, with a title, a description and a data table as its text alternative.
    """
    phases = sorted(design.phases, key=lambda p: p.start_day)
    left, top, row_h, gap = 110, 36, 34, 14
    plot_w = width - left - 20
    days = design.total_days
    scale = plot_w / days
    rows = design.sequences
    height = top + len(rows) * (row_h + gap) + 70
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-labelledby="sched-{design.id}-t sched-{design.id}-d" '
        f'data-chart="schedule" font-family="Helvetica, Arial, sans-serif" font-size="12">',
        f'<title id="sched-{design.id}-t">Schedule per arm: {html.escape(design.title)}</title>',
        f'<desc id="sched-{design.id}-d">'
        + html.escape(
            "; ".join(
                f"sequence {s.name}: "
                + ", ".join(
                    f"{p.name} days {p.start_day}-{p.end_day} {_treatment(design, s.name, p)}"
                    for p in phases
                )
                for s in rows
            )
        )
        + "</desc>",
    ]
    for i, s in enumerate(rows):
        y = top + i * (row_h + gap)
        out.append(
            f'<text x="{left - 8}" y="{y + row_h / 2 + 4}" text-anchor="end">'
            f"Sequence {html.escape(s.name)}</text>"
        )
        for p in phases:
            x = left + p.start_day * scale
            w = max(p.days * scale, 1)
            kind = s.treatments[p.name]
            label = _treatment(design, s.name, p)
            out.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row_h}" '
                f'fill="{TREATMENT_COLOURS[kind]}" stroke="#555"><title>{html.escape(p.name)}: '
                f"{html.escape(label)}, days {p.start_day}-{p.end_day}</title></rect>"
            )
            if w > 60:
                out.append(
                    f'<text x="{x + w / 2:.1f}" y="{y + row_h / 2 + 4}" text-anchor="middle">'
                    f"{html.escape(label)}</text>"
                )
    axis_y = top + len(rows) * (row_h + gap)
    out.append(
        f'<line x1="{left}" y1="{axis_y}" x2="{left + plot_w}" y2="{axis_y}" stroke="#333"/>'
    )
    step = 7 if days <= 120 else 14
    for d in range(0, days + 1, step):
        x = left + d * scale
        out.append(
            f'<line x1="{x:.1f}" y1="{axis_y}" x2="{x:.1f}" y2="{axis_y + 5}" stroke="#333"/>'
        )
        if d % (step * 2) == 0:
            out.append(f'<text x="{x:.1f}" y="{axis_y + 18}" text-anchor="middle">{d}</text>')
    out.append(
        f'<text x="{left + plot_w / 2}" y="{axis_y + 34}" text-anchor="middle">study day</text>'
    )
    for v in design.visits:
        x = left + v.day * scale
        out.append(
            f'<path d="M{x:.1f},{top - 12} l-5,-8 h10 z" fill="#0d47a1">'
            f"<title>Visit {html.escape(v.name)} (day {v.day}): "
            f"{html.escape(', '.join(v.assessments))}</title></path>"
        )
    lx = left
    for kind, colour in TREATMENT_COLOURS.items():
        out.append(
            f'<rect x="{lx}" y="{height - 18}" width="14" height="14" fill="{colour}" '
            f'stroke="#555"/><text x="{lx + 19}" y="{height - 7}">{_TREATMENT_WORDS[kind]}</text>'
        )
        lx += 130
    out.append(
        f'<path d="M{lx + 7},{height - 6} l-5,-8 h10 z" fill="#0d47a1"/>'
        f'<text x="{lx + 19}" y="{height - 7}">visit</text>'
    )
    out.append("</svg>")
    return "".join(out)
