"""Diagrams come from the data and the designs: change those and the picture changes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from ldnkit.cli import main as cli_main
from ldnkit.diagrams import (
    DiagramUnavailable,
    available,
    mechanism_diagram,
    render_svg,
    schedule_chart_svg,
    trial_workflow,
)
from ldnkit.errors import EvidenceError
from ldnkit.evidence import default_evidence, load_evidence
from ldnkit.evidence.loader import DATA_DIR
from ldnkit.evidence.mechanism import mechanism
from ldnkit.research.designs import DESIGNS, two_period_crossover

needs_dot = pytest.mark.skipif(
    not available(), reason="Graphviz `dot` not installed (make test installs it)"
)


def _evidence_copy(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    return target


def test_mechanism_names_the_seeds_pathways_with_levels_and_sources() -> None:
    ev = default_evidence()
    data = mechanism(ev)
    labels = " ".join(n.label for n in data.nodes)
    for word in ("TLR4", "microglia", "IL-1beta", "TNF-alpha", "Mu-opioid", "endorphins"):
        assert word in labels
    assert {e.evidence for e in data.edges} >= {"in_vitro", "human_biomarker", "hypothesis"}
    clinical = [e for e in data.edges if e.evidence == "human_clinical"]
    assert clinical and all(e.contested for e in clinical), "FINAL 2024 shown beside the pilots"
    assert any("bruun-2024" in c.sources for e in clinical for c in e.contested)
    for e in data.edges:
        for s in e.sources:
            ev.reference(s)


def test_mechanism_diagram_follows_the_data_file(tmp_path: Path) -> None:
    root = _evidence_copy(tmp_path)
    path = root / "mechanism.yaml"
    data = yaml.safe_load(path.read_text())
    data["nodes"].append({"id": "il10", "label": "IL-10 (anti-inflammatory)", "kind": "mediator"})
    data["edges"].append(
        {
            "from": "ldn",
            "to": "il10",
            "effect": "raises",
            "evidence": "hypothesis",
            "claim": "test edge",
            "sources": ["seed-benchchem-2025"],
        }
    )
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    before = mechanism_diagram(default_evidence())
    after = mechanism_diagram(load_evidence(root))
    assert len(after.edges) == len(before.edges) + 1
    assert any(e.target == "il10" and e.style == "dotted" for e in after.edges)
    assert any("IL-10" in s for s in after.steps)


def test_mechanism_edge_to_an_unknown_node_or_source_is_refused(tmp_path: Path) -> None:
    root = _evidence_copy(tmp_path)
    path = root / "mechanism.yaml"
    data = yaml.safe_load(path.read_text())
    data["edges"][0]["to"] = "nowhere"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(EvidenceError, match="unknown node 'nowhere'"):
        mechanism(load_evidence(root))
    data["edges"][0]["to"] = "tlr4"
    data["edges"][0]["sources"] = ["made-up-2099"]
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(EvidenceError, match="dangling source id 'made-up-2099'"):
        load_evidence(root)


@pytest.mark.parametrize("key", list(DESIGNS))
def test_trial_workflow_has_every_phase_of_every_sequence(key: str) -> None:
    design = DESIGNS[key]()
    d = trial_workflow(design)
    text = " ".join(s for s in d.steps)
    for p in design.phases:
        assert p.name in text
    if len(design.sequences) > 1:
        branches = [e for e in d.edges if e.source == "randomise"]
        assert sorted(e.label for e in branches) == sorted(s.name for s in design.sequences)
    assert d.node("analysis").label.startswith("Primary outcome")


def test_trial_workflow_changes_with_the_design() -> None:
    short = trial_workflow(two_period_crossover(period_weeks=4, washout_weeks=1))
    long = trial_workflow(two_period_crossover(period_weeks=8, washout_weeks=2))
    assert "(28 d)" in short.node("LDN-placebo-period 1").label
    assert "(56 d)" in long.node("LDN-placebo-period 1").label
    assert short.steps != long.steps


def test_schedule_chart_draws_each_phase_per_arm() -> None:
    design = DESIGNS["crossover"]()
    svg = schedule_chart_svg(design)
    assert svg.count("<rect") == len(design.sequences) * len(design.phases) + 4  # + legend
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    assert 'font-size="12"' in svg


@needs_dot
def test_rendered_svg_is_accessible_and_links_the_occupancy_model() -> None:
    svg = render_svg(mechanism_diagram(default_evidence()))
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert 'aria-labelledby="ldn-mechanism-title ldn-mechanism-desc"' in svg
    assert '<title id="ldn-mechanism-title">' in svg and '<desc id="ldn-mechanism-desc">' in svg
    assert 'href="/evidence/pharmacology"' in svg


def test_without_graphviz_rendering_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(DiagramUnavailable, match="apt-get install graphviz"):
        render_svg(mechanism_diagram(default_evidence()))


@needs_dot
def test_cli_writes_design_diagram_and_export(tmp_path: Path) -> None:
    out = tmp_path / "crossover.svg"
    assert cli_main(["trial", "design", "crossover", "--diagram", str(out)]) == 0
    assert out.read_text().startswith("<svg")
    assert (tmp_path / "crossover-schedule.svg").exists()
    txt = tmp_path / "crossover.txt"
    assert cli_main(["trial", "design", "crossover", "--diagram", str(txt)]) == 0
    assert "Randomise" in txt.read_text()
    assert cli_main(["diagram", "export", str(tmp_path / "all")]) == 0
    names = {p.name for p in (tmp_path / "all").iterdir()}
    assert "ldn-mechanism.svg" in names and "trial-crossover.svg" in names
    assert cli_main(["diagram", "show", "trial", "nope", "-o", str(tmp_path)]) == 2
