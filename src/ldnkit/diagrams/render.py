"""Lay out a `Diagram` with Graphviz and write accessible SVG.

Graphviz (`dot`, from the operating system's graphviz package; `make run` and `make test`
install it like chromium) does the layout; the `graphviz` Python package only builds the DOT
text with correct quoting and calls the binary. The SVG gets `role="img"`, a `<title>` and a
`<desc>` referenced by `aria-labelledby`, and every node keeps its link and hover text, so the
picture is navigable. Where Graphviz is missing, `DiagramUnavailable` says how to install it
and pages fall back to the text alternative (`Diagram.steps`), which is always shown anyway.
"""

from __future__ import annotations

import html
import re
import shutil

from ldnkit.diagrams.graph import Diagram, DiagramNode
from ldnkit.errors import LdnkitError

__all__ = ["DiagramUnavailable", "available", "render_svg", "to_dot"]

_SHAPES = {
    "start": ("oval", "#e8f0fe"),
    "decision": ("diamond", "#fff4d6"),
    "action": ("box", "#ffffff"),
    "stop": ("octagon", "#fde2e1"),
    "info": ("note", "#f3f3f3"),
    "drug": ("box3d", "#e3f5e1"),
    "receptor": ("component", "#e8f0fe"),
    "cell": ("ellipse", "#fdf0e0"),
    "mediator": ("box", "#fbe7f3"),
    "process": ("box", "#f0ecfb"),
    "outcome": ("doubleoctagon", "#fff4d6"),
    "phase": ("box", "#ffffff"),
    "visit": ("cds", "#e8f0fe"),
}
HIGHLIGHT = "#b3261e"


class DiagramUnavailable(LdnkitError):
    """Graphviz is not installed, so the diagram can only be given as text."""


def available() -> bool:
    """Whether the Graphviz `dot` program can be run here."""
    return shutil.which("dot") is not None


def _node_label(node: DiagramNode) -> str:
    return f"{node.label}\n{node.value}" if node.value else node.label


def to_dot(diagram: Diagram):  # type: ignore[no-untyped-def]
    """The diagram as a `graphviz.Digraph` (DOT source via `.source`)."""
    import graphviz

    g = graphviz.Digraph(
        diagram.id,
        graph_attr={
            "rankdir": diagram.direction,
            "label": diagram.title,
            "labelloc": "t",
            "fontname": "Helvetica",
            "fontsize": "16",
            "bgcolor": "white",
            "nodesep": "0.35",
            "ranksep": "0.45",
            "tooltip": diagram.description,
        },
    )
    g.attr("node", fontname="Helvetica", fontsize="11", style="filled", margin="0.12,0.06")
    g.attr("edge", fontname="Helvetica", fontsize="10")
    grouped: dict[str | None, list[DiagramNode]] = {}
    for n in diagram.nodes:
        grouped.setdefault(n.group, []).append(n)
    for group, nodes in grouped.items():
        target = g
        if group is not None:
            with g.subgraph(name=f"cluster_{group}") as sub:
                sub.attr(
                    label=diagram.groups.get(group, group),
                    style="rounded,dashed",
                    color="#888888",
                    fontname="Helvetica",
                    fontsize="12",
                )
                for n in nodes:
                    _add_node(sub, n)
            continue
        for n in nodes:
            _add_node(target, n)
    for e in diagram.edges:
        attrs = {
            "label": e.label,
            "style": e.style,
            "color": HIGHLIGHT if e.highlight else e.color,
            "penwidth": "2.5" if e.highlight else "1.2",
        }
        if e.detail:
            attrs["tooltip"] = e.detail
            attrs["labeltooltip"] = e.detail
        g.edge(e.source, e.target, **attrs)
    return g


def _add_node(g, n: DiagramNode) -> None:  # type: ignore[no-untyped-def]
    shape, fill = _SHAPES.get(n.kind, ("box", "#ffffff"))
    attrs = {
        "label": _node_label(n),
        "shape": shape,
        "fillcolor": "#fde2e1" if n.highlight else fill,
        "color": HIGHLIGHT if n.highlight else "#555555",
        "penwidth": "2.5" if n.highlight else "1",
        "tooltip": n.detail or n.label,
    }
    if n.href:
        attrs["href"] = n.href
        attrs["target"] = "_top"
    g.node(n.id, **attrs)


def render_svg(diagram: Diagram) -> str:
    """Accessible SVG text of the diagram (raises `DiagramUnavailable` without Graphviz)."""
    if not available():
        raise DiagramUnavailable(
            "Graphviz is not installed (Debian: apt-get install graphviz); "
            "the diagram is shown as text instead"
        )
    raw = to_dot(diagram).pipe(format="svg").decode("utf-8")
    return _accessible(raw, diagram)


def _accessible(svg: str, diagram: Diagram) -> str:
    """Drop the XML prolog, give the root element a role, a title and a description."""
    start = svg.find("<svg")
    svg = svg[start:]
    title_id, desc_id = f"{diagram.id}-title", f"{diagram.id}-desc"
    svg = re.sub(
        r"<svg\b",
        f'<svg role="img" aria-labelledby="{title_id} {desc_id}" data-diagram="{diagram.id}"',
        svg,
        count=1,
    )
    head_end = svg.find(">") + 1
    meta = (
        f'<title id="{title_id}">{html.escape(diagram.title)}</title>'
        f'<desc id="{desc_id}">{html.escape(diagram.description)} '
        f"{html.escape(' '.join(diagram.steps))}</desc>"
    )
    return svg[:head_end] + meta + svg[head_end:]
