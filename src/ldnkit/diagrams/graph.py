"""A diagram as plain data: nodes, edges, a title, a description and the steps in words.

Builders (`mechanism`, `trial`, `decision`) turn ldnkit's own definitions into this form without
any I/O, so a test can ask "which nodes, which edges, which are highlighted" without rendering;
`render` lays it out with Graphviz and writes accessible SVG. The `steps` are the diagram's text
alternative: what a screen-reader user, a printout or a failed renderer shows instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["Diagram", "DiagramEdge", "DiagramNode", "NodeKind"]

NodeKind = Literal[
    "start",
    "decision",
    "action",
    "stop",
    "info",
    "drug",
    "receptor",
    "cell",
    "mediator",
    "process",
    "outcome",
    "phase",
    "visit",
]


@dataclass(frozen=True)
class DiagramNode:
    """One box. `href` links to a page (its sources or a model); `detail` is the hover text."""

    id: str
    label: str
    kind: NodeKind = "action"
    href: str | None = None
    detail: str | None = None
    group: str | None = None
    highlight: bool = False
    value: str | None = None  # the deciding value on a patient's path, e.g. "5 days < 10"


@dataclass(frozen=True)
class DiagramEdge:
    """One arrow; `style` carries meaning the legend explains (e.g. an evidence level)."""

    source: str
    target: str
    label: str = ""
    style: str = "solid"
    color: str = "#333333"
    detail: str | None = None
    highlight: bool = False


@dataclass(frozen=True)
class Diagram:
    """Everything needed to draw and to describe one diagram."""

    id: str
    title: str
    description: str
    nodes: list[DiagramNode]
    edges: list[DiagramEdge]
    steps: list[str]
    groups: dict[str, str] = field(default_factory=dict)  # group id -> cluster title
    legend: list[tuple[str, str]] = field(default_factory=list)  # (what it looks like, meaning)
    direction: Literal["TB", "LR"] = "TB"

    def node(self, node_id: str) -> DiagramNode:
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)

    @property
    def highlighted(self) -> list[str]:
        """Ids of the nodes on the highlighted path, in diagram order."""
        return [n.id for n in self.nodes if n.highlight]
