"""Diagrams generated from ldnkit's own definitions: the mechanism (cited data), the trial
workflow (a design object) and the decision path (the screening and advice rules).

Builders are pure (`Diagram` data); `render_svg` lays them out with Graphviz.
"""

from ldnkit.diagrams.graph import Diagram, DiagramEdge, DiagramNode
from ldnkit.diagrams.mechanism import mechanism_diagram
from ldnkit.diagrams.render import DiagramUnavailable, available, render_svg, to_dot
from ldnkit.diagrams.trial import schedule_chart_svg, trial_workflow

__all__ = [
    "Diagram",
    "DiagramEdge",
    "DiagramNode",
    "DiagramUnavailable",
    "available",
    "mechanism_diagram",
    "render_svg",
    "schedule_chart_svg",
    "to_dot",
    "trial_workflow",
]
