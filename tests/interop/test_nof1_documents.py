"""The N-of-1 report PDF: one A4 page carrying the headline, the periods with their contents
(after unblinding), the decision and the sources; the FHIR bundle validates as R4."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import numpy as np
from pypdf import PdfReader

from ldnkit.interop.fhir.common import validate_bundle
from ldnkit.interop.fhir.nof1 import trial_bundle
from ldnkit.interop.nof1_documents import report_pdf
from ldnkit.research.nof1 import Nof1Settings, build_report, design_trial, fit, series_from_diary


def _report():  # type: ignore[no-untyped-def]
    design, alloc = design_trial(
        Nof1Settings(dose_mg=Decimal("1.5"), start=dt.date(2026, 2, 2), seed=9)
    )
    rng = np.random.default_rng(9)
    pain = {}
    for day in range(design.total_days):
        info = design.day_info(design.date_of(day))
        on = info.period is not None and alloc.is_ldn(info.period)
        pain[design.date_of(day)] = float(np.clip(round(6 + rng.normal(0, 1) - 1.3 * on), 0, 10))
    res = fit(series_from_diary(design, alloc, pain))
    se = {design.date_of(20): [{"code": "vivid_dreams", "severity": "mild"}]}
    return design, alloc, pain, res, build_report(design, alloc, res, pain, se)


def test_report_pdf_is_one_page_with_the_result() -> None:
    *_, rep = _report()
    reader = PdfReader(io.BytesIO(report_pdf(rep)))
    assert len(reader.pages) == 1
    text = " ".join(reader.pages[0].extract_text().split())
    assert "LDN 1.5 mg lowered your pain" in text or "LDN 1.5 mg raised your pain" in text
    assert "placebo" in text and "zucker-1997" in text
    assert rep.decision_text.split(":")[0] in text


def test_fhir_bundle_blinded_then_unblinded() -> None:
    design, alloc, pain, res, _ = _report()
    blinded = trial_bundle("N1-0042", 7, design, "active", pain)
    validate_bundle(blinded)
    assert {a["description"] for a in blinded["entry"][0]["resource"]["arm"]} == {
        "blinded until the trial ends"
    }
    opened = trial_bundle("N1-0042", 7, design, "unblinded", pain, alloc, res.to_dict())
    validate_bundle(opened)
    study = opened["entry"][0]["resource"]
    assert study["status"] == "completed"
    assert {a["description"] for a in study["arm"]} == {"LDN 1.5 mg", "placebo (identical capsule)"}
    effect = opened["entry"][-1]["resource"]
    assert effect["valueQuantity"]["value"] == round(res.effect_mean, 3)
