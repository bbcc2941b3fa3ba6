"""Handout, wallet card and compounding prescription: PDF text read back finds the plan."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from ldnkit.clinical.models import fmt_mg
from ldnkit.interop.documents import KINDS, Clinic, document_view, to_html, to_pdf

CLINIC = Clinic(clinic="Northside Pain Clinic", clinician="Dr R. Okafor", phone="020 7946 0000")


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return re.sub(r"\s+", " ", text)


@pytest.mark.parametrize("kind", ["handout", "prescription"])
def test_pdf_has_every_dose_and_date_of_the_plan(kind, patient, surgery_plan):
    view = document_view(
        kind, surgery_plan, patient, CLINIC, calendar_url="https://x.example/p.ics"
    )
    text = pdf_text(to_pdf(view))
    html = to_html(view)
    for step in surgery_plan.steps:
        if kind == "prescription" and step.dose_mg == 0:
            continue
        assert step.start.isoformat() in text and step.end.isoformat() in text
        assert step.start.isoformat() in html
        if step.dose_mg > 0:
            assert f"{fmt_mg(step.dose_mg)} mg" in text
            assert f"{fmt_mg(step.dose_mg)} mg" in html
    assert "Sources" in text and "seed-benchchem-2025" in text


def test_handout_says_how_when_side_effects_and_when_to_call(patient, surgery_plan):
    view = document_view(
        "handout", surgery_plan, patient, CLINIC, calendar_url="https://x.example/p.ics"
    )
    text = pdf_text(to_pdf(view))
    assert "at bedtime" in text
    assert "Vivid dreams" in text and "Insomnia" in text
    assert "When to call us" in text and "020 7946 0000" in text
    assert "stopped 2-3 days before planned opioid use" in text
    assert "Do NOT take LDN from 2026-04-17 to 2026-05-02" in text
    html = to_html(view)
    assert '<a href="https://x.example/p.ics">' in html
    for visit in surgery_plan.visits:
        assert visit.date.isoformat() in text


def test_wallet_card(patient, plan):
    data = to_pdf(document_view("wallet_card", plan, patient, CLINIC))
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert round(float(box.width)) == 243 and round(float(box.height)) == 153  # 85.6 x 54 mm
    text = pdf_text(data)
    assert "I take low-dose naltrexone (LDN)" in text
    assert "Opioid pain medicines may not work" in text
    assert "Dr R. Okafor" in text and "020 7946 0000" in text
    assert "4.5 mg" in text


def test_prescription_quantities(patient, surgery_plan):
    text = pdf_text(to_pdf(document_view("prescription", surgery_plan, patient, CLINIC)))
    for line in surgery_plan.dispensing:
        assert f"{line.quantity} capsules" in text
    total = sum(line.quantity or 0 for line in surgery_plan.dispensing)
    assert f"{total} x 1.5 mg capsules" in text
    assert "born 1978-04-12" in text


def test_liquid_prescription(patient):
    import datetime as dt
    from decimal import Decimal

    from ldnkit.clinical.models import PlanOptions
    from ldnkit.clinical.titration import plan_for_patient

    plan = plan_for_patient(
        patient, "fibromyalgia", dt.date(2026, 3, 2), PlanOptions(liquid_mg_per_ml=Decimal(1))
    )
    text = pdf_text(to_pdf(document_view("prescription", plan, patient, CLINIC)))
    assert "oral liquid 1 mg/mL" in text and "1.5 mL" in text


@pytest.mark.parametrize("kind", KINDS)
def test_html_escapes_names(kind, patient, plan):
    odd = patient.model_copy(update={"name": "<script>alert(1)</script>"})
    html = to_html(document_view(kind, plan, odd, CLINIC))
    assert "<script>" not in html and "&lt;script&gt;" in html
