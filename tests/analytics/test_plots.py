"""Plots are written as real SVG and PNG files."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest

from ldnkit.analytics.cohort import CohortSummary
from ldnkit.clinical.diary import DiaryEntry
from ldnkit.clinical.outcomes import patient_outcomes
from ldnkit.errors import ValidationError
from ldnkit.report.plots import cohort_responder_chart, patient_timeline

START = dt.date(2026, 9, 1)


def _outcome():
    entries = [
        DiaryEntry(
            entry_date=START + dt.timedelta(days=d),
            pain=7 if d < 0 else 4,
            dose_taken=d >= 0 and d % 9 != 5,
            dose_mg=Decimal("1.5") * (1 + d // 14) if d >= 0 and d % 9 != 5 else None,
        )
        for d in range(-7, 40)
    ]
    return patient_outcomes(entries)


@pytest.mark.parametrize("suffix", [".svg", ".png"])
def test_patient_timeline_files(tmp_path: Path, suffix: str) -> None:
    path = patient_timeline(_outcome(), tmp_path / f"p{suffix}", label="Patient 7")
    data = path.read_bytes()
    if suffix == ".svg":
        root = ET.fromstring(data)
        assert root.tag.endswith("svg")
        assert b"Patient 7: pain and LDN dose" in data or b"Patient 7" in data
    else:
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 5000


def test_cohort_chart(tmp_path: Path) -> None:
    s = CohortSummary(START, 10, 5, 4, 4, 100.0, 50.0, -1.5, 50.0, 25.0, 50.0, 25.0)
    path = cohort_responder_chart(s, tmp_path / "c.svg")
    assert ET.fromstring(path.read_bytes()).tag.endswith("svg")


def test_unknown_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as err:
        patient_timeline(_outcome(), tmp_path / "p.gif")
    assert err.value.field == "path"
