"""The medication vocabulary fails loudly when broken, like every other evidence file.

Source ids are checked when the evidence base loads; the vocabulary's own cross-references
(products naming ingredients, classes, washouts) when the recogniser compiles it, which the web
app does at start-up, so a broken entry never reaches a patient."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from ldnkit.clinical.medications import recogniser
from ldnkit.errors import EvidenceError
from ldnkit.evidence.loader import DATA_DIR, load_evidence


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    return target


def _edit(path: Path, mutate) -> None:
    data = yaml.safe_load(path.read_text())
    mutate(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_product_naming_an_unknown_ingredient_fails(data_copy: Path) -> None:
    _edit(
        data_copy / "medications.yaml",
        lambda d: d["products"][0]["ingredients"].append("unobtainium"),
    )
    with pytest.raises(EvidenceError, match="unobtainium"):
        recogniser(load_evidence(data_copy))


def test_ingredient_with_an_unknown_class_fails(data_copy: Path) -> None:
    _edit(
        data_copy / "medications.yaml", lambda d: d["ingredients"][0].update({"class": "mystery"})
    )
    with pytest.raises(EvidenceError, match="mystery"):
        recogniser(load_evidence(data_copy))


def test_dangling_source_in_the_vocabulary_fails(data_copy: Path) -> None:
    _edit(
        data_copy / "medications.yaml", lambda d: d["classes"][0]["sources"].append("nobody-2099")
    )
    with pytest.raises(EvidenceError, match="nobody-2099"):
        load_evidence(data_copy)


def test_class_without_sources_fails(data_copy: Path) -> None:
    _edit(data_copy / "medications.yaml", lambda d: d["classes"][0].update({"sources": []}))
    with pytest.raises(EvidenceError, match=r"medications\.yaml: classes"):
        recogniser(load_evidence(data_copy))
