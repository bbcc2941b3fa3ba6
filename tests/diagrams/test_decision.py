"""The decision diagram is generated from the screening checks and the advice rules."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import yaml

from ldnkit.clinical.diary import DiaryEntry
from ldnkit.clinical.models import Medication, Patient
from ldnkit.clinical.response import RULES, advise
from ldnkit.clinical.screening import CHECKS, screen
from ldnkit.clinical.titration import titration_plan
from ldnkit.diagrams.decision import decision_diagram
from ldnkit.evidence import default_evidence, load_evidence
from ldnkit.evidence.loader import DATA_DIR

ON = dt.date(2026, 11, 25)


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    shutil.copytree(DATA_DIR, root)
    return root


def _edit(path: Path, change) -> None:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_every_screening_rule_belongs_to_exactly_one_check() -> None:
    codes = [c for check in CHECKS for c in check.codes]
    assert len(codes) == len(set(codes))
    assert set(codes) == set(default_evidence().rules)


def test_every_check_and_rule_is_a_node_in_order() -> None:
    d = decision_diagram(default_evidence())
    ids = [n.id for n in d.nodes]
    checks = [i for i in ids if i.startswith("check-")]
    assert checks == [f"check-{c.id}" for c in CHECKS]
    rules = [i for i in ids if i.startswith("rule-")]
    assert rules == [f"rule-{fn.__name__.lstrip('_')}" for fn in RULES]
    assert all(
        n.href and n.href.startswith("/evidence/references#")
        for n in d.nodes
        if n.id.startswith(("check-", "rule-"))
    )


def test_changing_a_threshold_in_the_evidence_changes_the_diagram(tmp_path: Path) -> None:
    before = decision_diagram(default_evidence())
    root = _copy(tmp_path)
    _edit(root / "dosing.yaml", lambda d: d["safety"]["opioid_free_days"].update(min=5))
    _edit(root / "response.yaml", lambda d: d.update(restart_gap_days=10))
    after = decision_diagram(load_evidence(root))
    assert "Opioid-free 7-10 days" in before.node("check-medications").label
    assert "Opioid-free 5-10 days" in after.node("check-medications").label
    assert "10+ days" in after.node("rule-restart_after_gap").label
    assert "7+ days" in before.node("rule-restart_after_gap").label


def test_a_patients_screening_path_shows_the_deciding_values() -> None:
    patient = Patient(
        id="p",
        birth_date=dt.date(1970, 1, 1),
        medications=[Medication(name="tramadol", active=False, last_dose=dt.date(2026, 11, 20))],
    )
    a = screen(patient, ON)
    assert a.status == "not_yet"
    d = decision_diagram(default_evidence(), assessment=a)
    med = d.node("check-medications")
    assert med.highlight and "2026-11-20" in (med.value or "")
    assert d.node("out-defer").highlight
    assert not d.node("out-contraindicated").highlight
    assert "earliest 2026-11-30" in (d.node("status").value or "")
    assert not d.node("titration-start").highlight, "a deferred patient does not reach titration"
    assert any("2026-11-30" in s for s in d.steps)


def test_todays_advice_path_stops_at_the_rule_that_applied() -> None:
    plan = titration_plan("fibromyalgia", ON - dt.timedelta(days=30))
    entries = [
        DiaryEntry(
            entry_date=ON - dt.timedelta(days=i),
            pain=6,
            dose_taken=True,
            dose_mg=plan.dose_on(ON - dt.timedelta(days=i)),
        )
        for i in range(37, -1, -1)
    ]
    advice = advise(plan=plan, entries=entries, today=ON)
    d = decision_diagram(default_evidence(), protocol_id="fibromyalgia", advice=advice)
    fired = [fn for fn in RULES if advice.rule in fn.rule_names]  # type: ignore[attr-defined]
    assert len(fired) == 1
    index = RULES.index(fired[0])
    for i, fn in enumerate(RULES):
        node = d.node(f"rule-{fn.__name__.lstrip('_')}")
        assert node.highlight == (i <= index)
        if i < index:
            assert node.value == "no"
    assert d.node(f"action-{fired[0].__name__.lstrip('_')}").highlight
    assert "Fibromyalgia" in d.node("titration-protocol").label


def test_a_cds_link_path_from_codes_and_rule_alone() -> None:
    """The path a CDS card's link asks for: fired screening codes and the advice rule."""
    d = decision_diagram(default_evidence(), codes=["OPIOID_WASHOUT", "NOPE"], rule="escalate")
    assert d.node("check-medications").highlight and d.node("out-defer").highlight
    assert "not yet" in (d.node("status").value or "")
    fired = [fn for fn in RULES if "escalate" in fn.rule_names]  # type: ignore[attr-defined]
    assert d.node(f"action-{fired[0].__name__.lstrip('_')}").highlight
    assert d.node("rule-not_started").value == "no"
