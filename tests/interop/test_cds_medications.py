"""CDS cards and FHIR import read medications the way screening does: codes, then chart text."""

from __future__ import annotations

import datetime as dt

from ldnkit.clinical.screening import screen
from ldnkit.interop import cds
from ldnkit.interop.fhir.reading import medication_from_resource, patient_from_bundle
from tests.interop import hooks as h

TODAY = dt.date(2026, 5, 4)
ATC = "http://www.whocc.no/atc"


def _statement(text: str, *, coding: list[dict] | None = None, status: str = "active") -> dict:
    return {
        "resourceType": "MedicationStatement",
        "id": f"ms-{abs(hash(text)) % 10_000}",
        "status": status,
        "medicationCodeableConcept": {"coding": coding or [], "text": text},
        "subject": {"reference": f"Patient/{h.PATIENT_ID}"},
    }


def test_naltrexone_order_with_free_text_opioid_gets_the_critical_card() -> None:
    nal = h.med_request("nal", "naltrexone 4.5 mg", dose_mg=4.5, start=TODAY)
    oxy = h.med_request("oxy", "oxycodone, as needed", status="active")
    out = cds.cards("ldn-order-select", h.order_select(nal, medications=(oxy,)), TODAY)
    (card,) = out["cards"]
    assert card["indicator"] == "critical" and "active opioids" in card["summary"]
    # Card text is markdown with EHR-derived text escaped; read it as the EHR renders it.
    assert "oxycodone: full opioid agonist" in card["detail"].replace("\\", "")


def test_opioid_order_in_chart_wording_warns_a_patient_on_ldn() -> None:
    ldn = h.med_request("ldn", "Naltrexone 3 mg compounded capsule", status="active", dose_mg=3)
    for text in ("Tylenol #3", "Percocet 5/325", "tramodol 50mg"):
        order = h.med_request("rx", text)
        out = cds.cards("ldn-order-select", h.order_select(order, medications=(ldn,)), TODAY)
        assert [c["indicator"] for c in out["cards"]] == ["critical"], text
        assert "hold LDN" in out["cards"][0]["summary"]


def test_coded_opioid_statement_with_uninformative_text_blocks_naltrexone() -> None:
    nal = h.med_request("nal", "naltrexone 4.5 mg", dose_mg=4.5, start=TODAY)
    body = h.order_select(nal)
    body["prefetch"]["statements"] = h.bundle(
        _statement("Home med 3", coding=[{"system": ATC, "code": "N02AX02"}])
    )
    (card,) = cds.cards("ldn-order-select", body, TODAY)["cards"]
    assert card["indicator"] == "critical" and "ATC N02AX02" in card["detail"]


def test_vivitrol_is_not_read_as_ldn() -> None:
    viv = h.med_request("viv", "Vivitrol 380 mg", status="active")
    req = cds.parse_request(cds.SERVICES["ldn-patient-view"], h.patient_view((viv,)))
    assert cds.ldn_status(req, TODAY) is None


def test_fhir_import_fills_codes_and_screening_reads_them() -> None:
    med = medication_from_resource(
        _statement("Item 4", coding=[{"system": ATC, "code": "N07BC51", "display": "x"}])
    )
    assert med is not None and med.codes[0].code == "N07BC51"
    bundle = h.bundle(
        h.patient(), _statement("Item 4", coding=[{"system": ATC, "code": "N07BC51"}])
    )
    patient = patient_from_bundle(bundle)
    assert patient is not None and len(patient.medications) == 1
    assert screen(patient, TODAY).status == "contraindicated"


def test_unrecognised_chart_medication_gets_a_warning_card() -> None:
    nal = h.med_request("nal", "naltrexone 4.5 mg", dose_mg=4.5, start=TODAY)
    odd = h.med_request("odd", "zorblax 10 mg nightly", status="active")
    out = cds.cards("ldn-order-select", h.order_select(nal, medications=(odd,)), TODAY)
    warnings = [c for c in out["cards"] if c["indicator"] == "warning"]
    assert len(warnings) == 1 and "zorblax" in warnings[0]["detail"]
    assert "Medication not recognised" in warnings[0]["summary"]


def test_cards_link_to_the_decision_path_of_this_case() -> None:
    """Issue 18: each card links to the decision diagram with the rules that fired (no patient
    data in the link); the status card names today's advice rule."""
    nal = h.med_request("nal", "naltrexone 4.5 mg", dose_mg=4.5, start=TODAY)
    oxy = h.med_request("oxy", "oxycodone, as needed", status="active")
    body = h.order_select(nal, medications=(oxy,))
    out = cds.cards("ldn-order-select", body, TODAY, app_url="https://ldn.example/")
    (card,) = out["cards"]
    (link,) = [x for x in card["links"] if "decision" in x["url"]]
    assert link["url"].startswith("https://ldn.example/evidence/decision?codes=")
    assert "ACTIVE_OPIOID" in link["url"] and "oxycodone" not in link["url"]
    assert not any(
        "decision" in x["url"]
        for c in cds.cards("ldn-order-select", body, TODAY)["cards"]
        for x in c["links"]
    )
    start = TODAY - dt.timedelta(days=70)
    ldn = h.med_request(
        "ldn", "low dose naltrexone 4.5 mg", status="active", dose_mg=4.5, start=start
    )
    pains = [h.pain_obs(start - dt.timedelta(days=d), 8, d) for d in range(1, 8)]
    pains += [h.pain_obs(TODAY - dt.timedelta(days=d), 5, 100 + d) for d in range(0, 10)]
    view = cds.cards(
        "ldn-patient-view", h.patient_view((ldn,), tuple(pains)), TODAY, app_url="http://a"
    )
    urls = [x["url"] for c in view["cards"] for x in c["links"] if "decision" in x["url"]]
    assert urls and "rule=" in urls[0]
