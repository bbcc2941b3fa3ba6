"""The pathway diagram of LDN's proposed mechanisms, drawn from `mechanism.yaml`.

Line style encodes how an edge is supported (the legend says which is which), so a reader sees
at once that only one link (LDN -> pain) was measured as pain in people, and that one is
contested by the largest trial. The mu-opioid receptor node links to the occupancy model,
where the "transient blockade" is computed rather than asserted.
"""

from __future__ import annotations

from ldnkit.diagrams.graph import Diagram, DiagramEdge, DiagramNode
from ldnkit.evidence import Evidence
from ldnkit.evidence.mechanism import EVIDENCE_LEVELS, mechanism

__all__ = ["EDGE_STYLES", "mechanism_diagram", "short_cite"]

#: evidence level -> (line style, colour); the strongest support in people is the boldest.
EDGE_STYLES: dict[str, tuple[str, str]] = {
    "human_clinical": ("bold", "#1b5e20"),
    "human_biomarker": ("solid", "#0d47a1"),
    "animal": ("dashed", "#6a1b9a"),
    "in_vitro": ("dashed", "#8d6e63"),
    "hypothesis": ("dotted", "#757575"),
}


def short_cite(ev: Evidence, ref_id: str) -> str:
    """'Hutchinson 2008' style label for a source id."""
    ref = ev.reference(ref_id)
    first = (ref.authors or ref.title).split(",")[0].split()[0]
    return f"{first} {ref.year}" if ref.year else first


def mechanism_diagram(ev: Evidence) -> Diagram:
    """Nodes and edges of `mechanism.yaml`, clustered by pathway, styled by evidence level."""
    data = mechanism(ev)
    nodes = [
        DiagramNode(
            id=n.id,
            label=n.label,
            kind=n.kind,
            group=n.pathway,
            href=n.link,
            detail=n.label,
        )
        for n in data.nodes
    ]
    edges: list[DiagramEdge] = []
    steps: list[str] = []
    for e in data.edges:
        style, color = EDGE_STYLES[e.evidence]
        level = EVIDENCE_LEVELS[e.evidence].split(" (")[0]
        cites = ", ".join(short_cite(ev, s) for s in e.sources)
        tag = f"{e.effect}\n[{level}]" + ("\ncontested" if e.contested else "")
        detail = f"{e.claim} Sources: {cites}."
        for c in e.contested:
            detail += f" Contested: {c.claim} ({', '.join(short_cite(ev, s) for s in c.sources)})."
        edges.append(
            DiagramEdge(
                source=e.source,
                target=e.target,
                label=tag,
                style=style,
                color="#e65100" if e.contested else color,
                detail=detail,
            )
        )
        src, dst = data.node(e.source).label, data.node(e.target).label
        steps.append(f"{src} {e.effect} {dst} ({EVIDENCE_LEVELS[e.evidence]}). {detail}")
    legend = [
        (f"{EDGE_STYLES[k][0]} line", text) for k, text in reversed(EVIDENCE_LEVELS.items())
    ] + [("orange line, 'contested'", "a later or larger study disagrees; both are cited")]
    return Diagram(
        id="ldn-mechanism",
        title="Proposed mechanisms of low-dose naltrexone in chronic pain",
        description=(
            "Two proposed pathways: TLR4 antagonism on microglia lowering pro-inflammatory "
            "cytokines, and a partial, transient mu-opioid receptor blockade followed by an "
            "endogenous-opioid rebound. Line style shows the level of evidence for each link."
        ),
        nodes=nodes,
        edges=edges,
        steps=steps,
        groups={p.id: p.title for p in data.pathways},
        legend=legend,
        direction="TB",
    )
