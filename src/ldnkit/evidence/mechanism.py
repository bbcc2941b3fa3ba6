"""The proposed mechanisms of LDN as cited data (`mechanism.yaml`), typed and cross-checked.

The seeds describe two pathways (TLR4 antagonism on microglia; a transient mu-opioid blockade
with an endogenous-opioid rebound) in prose and one picture. Held as nodes and edges, each edge
with its sources and an evidence level, the same data drives the pathway diagram and lets a
reader see at a glance which links were measured in people and which are hypotheses. Findings
that disagree with a seed's claim stay next to it (`contested`), never replace it silently.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ldnkit.errors import EvidenceError
from ldnkit.evidence.loader import Evidence

__all__ = [
    "EVIDENCE_LEVELS",
    "Contested",
    "Mechanism",
    "MechanismEdge",
    "MechanismNode",
    "Pathway",
    "mechanism",
]

EvidenceLevel = Literal["in_vitro", "animal", "human_biomarker", "human_clinical", "hypothesis"]

#: Levels from weakest to strongest support in people, with the words shown in the legend.
EVIDENCE_LEVELS: dict[str, str] = {
    "hypothesis": "hypothesis (proposed, not measured)",
    "in_vitro": "in vitro (cells)",
    "animal": "animal models",
    "human_biomarker": "human biomarker (plasma, PET)",
    "human_clinical": "human clinical (pain outcomes)",
}


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Pathway(_Record):
    id: str
    title: str
    summary: str
    sources: list[str] = Field(min_length=1)


class MechanismNode(_Record):
    id: str
    label: str
    kind: Literal["drug", "receptor", "cell", "mediator", "process", "outcome"]
    pathway: str | None = None
    link: str | None = None


class Contested(_Record):
    """A finding that disagrees with the edge's claim, shown beside it."""

    claim: str
    sources: list[str] = Field(min_length=1)


class MechanismEdge(_Record):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    source: str = Field(alias="from")
    target: str = Field(alias="to")
    effect: str
    evidence: EvidenceLevel
    claim: str
    sources: list[str] = Field(min_length=1)
    contested: list[Contested] = []


class Mechanism(_Record):
    pathways: list[Pathway]
    nodes: list[MechanismNode]
    edges: list[MechanismEdge]

    def node(self, node_id: str) -> MechanismNode:
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)


def mechanism(ev: Evidence) -> Mechanism:
    """The mechanism data of an evidence base, with every edge's ends and pathways resolved."""
    data = ev.section("mechanism", Mechanism)
    ids = [n.id for n in data.nodes]
    if len(set(ids)) != len(ids):
        raise EvidenceError("mechanism.yaml: node ids must be unique")
    pathways = {p.id for p in data.pathways}
    for n in data.nodes:
        if n.pathway is not None and n.pathway not in pathways:
            raise EvidenceError(f"mechanism.yaml: nodes.{n.id}.pathway: unknown {n.pathway!r}")
    for i, e in enumerate(data.edges):
        for end in (e.source, e.target):
            if end not in ids:
                raise EvidenceError(f"mechanism.yaml: edges[{i}]: unknown node {end!r}")
    return data
