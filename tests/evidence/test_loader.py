"""The evidence base loads, every citation resolves, and corruption fails loudly."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from ldnkit.clinical.medications import find_opioid
from ldnkit.errors import EvidenceError, NotFound
from ldnkit.evidence import DATA_DIR, default_evidence, load_evidence
from tests.clinical.conftest import REQUIRED_OPIOIDS


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    return target


def _edit(path: Path, mutate) -> None:
    data = yaml.safe_load(path.read_text())
    mutate(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_bundled_evidence_has_every_seed_table() -> None:
    ev = default_evidence()
    g = ev.dosing.general
    assert (g.start_mg.min, g.start_mg.max) == (Decimal("0.5"), Decimal("1.5"))
    assert (g.step_mg.min, g.step_mg.max) == (Decimal("0.5"), Decimal("1.5"))
    assert (g.target_mg.min, g.target_mg.max) == (Decimal("3"), Decimal("4.5"))
    assert (g.maximum_mg.min, g.maximum_mg.max) == (Decimal("4.5"), Decimal("10"))
    assert g.timing == "bedtime"
    assert set(ev.protocols) >= {
        "standard",
        "fibromyalgia",
        "crps",
        "neuropathic",
        "chronic_low_back_pain",
        "personalised",
        "very_low_dose",
    }
    clbp = ev.protocol("chronic_low_back_pain")
    assert (clbp.start_mg, clbp.target_mg) == (Decimal("2"), Decimal("4"))
    va = next(o for o in ev.studies.observational if o.id == "va-cohort")
    assert (va.mean_treatment_days, va.still_on_therapy_percent) == (123, 50)
    assert (va.mean_pain_change_points, va.adverse_effect_percent) == (Decimal("-0.83"), 32)
    assert ev.dosing.safety.opioid_free_days.min == 7
    assert ev.dosing.safety.opioid_free_days.max == 10
    nb = ev.standard_dose.naltrexone_bupropion
    assert nb.tablet == {"naltrexone_mg": 8, "bupropion_mg": 90}
    pilot = next(t for t in ev.studies.trials if t.id == "younger-2009-pilot")
    assert (pilot.n, pilot.dose_mg, pilot.duration_weeks) == (10, Decimal("4.5"), 8)


def test_every_cited_source_resolves_to_a_reference() -> None:
    ev = default_evidence()
    cited = [s for p in ev.protocols.values() for s in p.sources]
    cited += [s for r in ev.rules.values() for s in r.sources]
    cited += [s for e in ev.side_effects.effects for s in e.sources]
    assert cited
    for ref in ev.cite(cited):
        assert ref.title


def test_opioid_list_covers_the_required_drugs() -> None:
    ev = default_evidence()
    for drug in (
        *REQUIRED_OPIOIDS,
        "Percocet 5/325",
        "Suboxone",
    ):
        assert find_opioid(drug, ev) is not None, drug
    for drug in ("ibuprofen", "gabapentin", "naltrexone"):
        assert find_opioid(drug, ev) is None, drug
    assert find_opioid("methadone", ev).washout == "long_acting"


def test_dangling_source_id_fails_loudly(data_copy: Path) -> None:
    _edit(
        data_copy / "protocols.yaml", lambda d: d["protocols"][0]["sources"].append("no-such-paper")
    )
    with pytest.raises(EvidenceError, match="dangling source id 'no-such-paper'"):
        load_evidence(data_copy)


def test_ceiling_above_published_maximum_fails(data_copy: Path) -> None:
    def raise_ceiling(d):
        d["protocols"][0]["options"]["ceiling_mg"]["max"] = 12

    _edit(data_copy / "protocols.yaml", raise_ceiling)
    with pytest.raises(EvidenceError, match="exceeds the published maximum"):
        load_evidence(data_copy)


def test_inverted_range_fails(data_copy: Path) -> None:
    _edit(data_copy / "dosing.yaml", lambda d: d["general"].update(start_mg={"min": 2, "max": 1}))
    with pytest.raises(EvidenceError, match=r"general\.start_mg"):
        load_evidence(data_copy)


def test_unknown_key_fails(data_copy: Path) -> None:
    _edit(data_copy / "side_effects.yaml", lambda d: d.update(surprise=1))
    with pytest.raises(EvidenceError, match="surprise"):
        load_evidence(data_copy)


def test_default_outside_allowed_options_fails(data_copy: Path) -> None:
    _edit(data_copy / "protocols.yaml", lambda d: d["protocols"][1].update(start_mg=3))
    with pytest.raises(EvidenceError, match="fibromyalgia"):
        load_evidence(data_copy)


def test_unknown_protocol_is_not_found() -> None:
    with pytest.raises(NotFound, match="unknown protocol 'nope'"):
        default_evidence().protocol("nope")


def test_area_files_are_cross_checked_and_parsed(data_copy: Path) -> None:
    from pydantic import BaseModel

    class Area(BaseModel):
        value: int
        sources: list[str]

    (data_copy / "references_area.yaml").write_text(
        "references:\n  - {id: area-paper, kind: paper, title: An area paper}\n"
    )
    (data_copy / "area.yaml").write_text("value: 3\nsources: [area-paper]\n")
    ev = load_evidence(data_copy)
    assert ev.section("area", Area).value == 3
    assert ev.reference("area-paper").title == "An area paper"
    (data_copy / "area.yaml").write_text("value: 3\nsources: [missing-paper]\n")
    with pytest.raises(EvidenceError, match=r"area\.yaml: .*missing-paper"):
        load_evidence(data_copy)
