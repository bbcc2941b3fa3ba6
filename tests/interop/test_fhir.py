"""FHIR export validates resource by resource; the round trip keeps the diary and the plan."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
from decimal import Decimal

import pytest

from ldnkit.errors import ValidationError
from ldnkit.interop.fhir import common as fc
from ldnkit.interop.fhir.export import export_bundle
from ldnkit.interop.fhir.reading import (
    diary_from_bundle,
    new_entries,
    patient_from_bundle,
    plan_from_bundle,
)

TODAY = dt.date(2026, 6, 1)


def _resources(bundle, rtype):
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == rtype]


def test_every_exported_resource_validates(patient, plan, assessment, diary):
    bundle = export_bundle(patient, plan=plan, assessment=assessment, diary=diary)
    models = fc.validate_bundle(bundle)
    kinds = {type(m).__name__ for m in models}
    assert kinds == {
        "Patient",
        "Condition",
        "MedicationRequest",
        "DocumentReference",
        "DetectedIssue",
        "Observation",
    }
    assert len(models) == len(bundle["entry"])
    # JSON-serialisable as is, and byte-identical on a second export
    assert json.dumps(bundle) == json.dumps(
        export_bundle(patient, plan=plan, assessment=assessment, diary=diary)
    )


def test_medication_request_has_one_dosage_per_step_in_order(patient, surgery_plan):
    bundle = export_bundle(patient, plan=surgery_plan)
    fc.validate_bundle(bundle)
    (mr,) = _resources(bundle, "MedicationRequest")
    dosages = mr["dosageInstruction"]
    assert [d["sequence"] for d in dosages] == list(range(1, len(surgery_plan.steps) + 1))
    for d, step in zip(dosages, surgery_plan.steps, strict=True):
        rep = d["timing"]["repeat"]
        assert rep["boundsPeriod"] == {"start": step.start.isoformat(), "end": step.end.isoformat()}
        assert rep["when"] == ["HS"]
        q = d["doseAndRate"][0]["doseQuantity"]
        assert (q["unit"], q["system"], q["code"]) == ("mg", fc.UCUM, "mg")
        assert Decimal(str(q["value"])) == step.dose_mg
        assert d["additionalInstruction"][0]["coding"][0]["code"] == step.kind
    assert any(s.kind == "hold" for s in surgery_plan.steps)
    assert mr["instantiatesUri"] == ["urn:ldnkit:protocol:fibromyalgia"]
    assert mr["medicationCodeableConcept"]["coding"][0]["code"] == fc.RXNORM_NALTREXONE
    # compounding quantities: a single 1.5 mg capsule strength for all steps
    assert mr["dispenseRequest"]["quantity"]["unit"] == "1.5 mg capsule"
    assert mr["dispenseRequest"]["quantity"]["value"] == sum(
        d.quantity for d in surgery_plan.dispensing
    )


def test_pain_observations_use_loinc_and_side_effects_have_severity(patient, diary):
    bundle = export_bundle(patient, diary=diary)
    obs = _resources(bundle, "Observation")
    pains = [o for o in obs if o["code"]["coding"][0]["code"] == fc.LOINC_PAIN]
    assert len(pains) == len(diary)
    assert all(o["code"]["coding"][0]["system"] == "http://loinc.org" for o in pains)
    assert [o["valueInteger"] for o in pains] == [e.pain for e in diary]
    effects = [o for o in obs if o["code"]["coding"][0]["system"] == fc.SYS_SIDE_EFFECT]
    assert len(effects) == sum(len(e.side_effects) for e in diary)
    headache = next(o for o in effects if o["code"]["coding"][0]["code"] == "headache")
    assert headache["valueCodeableConcept"]["coding"][0]["code"] == "6736007"  # moderate


def test_findings_are_detected_issues_citing_sources(patient, assessment):
    bundle = export_bundle(patient, assessment=assessment)
    issues = _resources(bundle, "DetectedIssue")
    assert [i["code"]["coding"][0]["code"] for i in issues] == [f.code for f in assessment.findings]
    for issue, finding in zip(issues, assessment.findings, strict=True):
        assert f"[{finding.sources[0]}]" in issue["detail"]


def test_round_trip_preserves_diary_plan_and_patient(patient, surgery_plan, assessment, diary):
    bundle = export_bundle(patient, plan=surgery_plan, assessment=assessment, diary=diary)
    text = json.dumps(bundle)  # through JSON, as it travels
    back = json.loads(text)
    imported = diary_from_bundle(back, today=TODAY)
    assert imported.entries == tuple(diary)
    assert imported.skipped == ()
    assert plan_from_bundle(back) == surgery_plan
    rebuilt = patient_from_bundle(back)
    assert rebuilt is not None
    assert (rebuilt.id, rebuilt.name, rebuilt.birth_date, rebuilt.sex) == (
        patient.id,
        patient.name,
        patient.birth_date,
        patient.sex,
    )
    assert [c.code for c in rebuilt.conditions] == [c.code for c in patient.conditions]


def test_import_is_idempotent(patient, diary):
    bundle = export_bundle(patient, diary=diary)
    imported = diary_from_bundle(bundle, today=TODAY)
    first = new_entries(imported, {})
    assert len(first.new) == len(diary)
    held = {e.entry_date: e for e in first.new}
    second = new_entries(diary_from_bundle(bundle, today=TODAY), held)
    assert second.new == ()
    assert len(second.unchanged) == len(diary)
    # a day the patient recorded differently is a conflict, never overwritten
    changed = dict(held)
    day = diary[3].entry_date
    changed[day] = diary[3].model_copy(update={"pain": 9})
    third = new_entries(imported, changed)
    assert third.new == () and third.conflicts == (day,)


def test_foreign_pain_observations_import_with_a_note():
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [
            {
                "resource": {
                    "resourceType": "Observation",
                    "status": "final",
                    "code": {"coding": [{"system": "http://loinc.org", "code": "72514-3"}]},
                    "subject": {"reference": "Patient/ehr-42"},
                    "effectiveDateTime": "2026-05-01T09:30:00+02:00",
                    "valueQuantity": {"value": 6, "unit": "{score}"},
                }
            },
            {
                "resource": {
                    "resourceType": "Observation",
                    "status": "entered-in-error",
                    "code": {"coding": [{"system": "http://loinc.org", "code": "72514-3"}]},
                    "effectiveDateTime": "2026-05-02",
                    "valueInteger": 3,
                }
            },
            {
                "resource": {
                    "resourceType": "Observation",
                    "status": "final",
                    "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
                    "effectiveDateTime": "2026-05-02",
                    "valueQuantity": {"value": 70, "unit": "/min"},
                }
            },
        ],
    }
    imported = diary_from_bundle(bundle, today=TODAY)
    (entry,) = imported.entries
    assert (entry.entry_date, entry.pain, entry.dose_taken) == (dt.date(2026, 5, 1), 6, False)
    assert "dose not recorded" in (entry.note or "")
    assert len(imported.skipped) == 1 and "entered-in-error" in imported.skipped[0]


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda b: b.update(resourceType="Patient"), "resourceType"),
        (lambda b: b["entry"][0]["resource"].update(valueInteger=11), "pain"),
        (lambda b: b["entry"][0]["resource"].update(status=7), "status"),
        (lambda b: b["entry"][0]["resource"].pop("effectiveDateTime"), "effectiveDateTime"),
        (lambda b: b["entry"][0]["resource"].update(effectiveDateTime="2099-01-01"), "entry_date"),
        (lambda b: b["entry"][0]["resource"].update(valueInteger=4.5), "value"),
    ],
)
def test_bad_observations_are_rejected_naming_the_entry(patient, diary, mutate, field):
    bundle = export_bundle(patient, diary=diary[:1])
    bad = copy.deepcopy(bundle)
    bad["entry"] = [e for e in bad["entry"] if e["resource"]["resourceType"] == "Observation"]
    mutate(bad)
    with pytest.raises(ValidationError) as err:
        diary_from_bundle(bad, today=TODAY)
    assert field in str(err.value)


def test_a_schedule_edited_elsewhere_is_not_silently_imported(patient, plan):
    bundle = export_bundle(patient, plan=plan)
    mr = _resources(bundle, "MedicationRequest")[0]
    mr["dosageInstruction"][1]["doseAndRate"][0]["doseQuantity"]["value"] = 6
    with pytest.raises(ValidationError, match="differs"):
        plan_from_bundle(bundle)


def test_plan_document_carries_the_icalendar_file(patient, plan):
    bundle = export_bundle(patient, plan=plan)
    doc = _resources(bundle, "DocumentReference")[0]
    ics = next(c for c in doc["content"] if c["attachment"]["contentType"] == "text/calendar")
    text = base64.b64decode(ics["attachment"]["data"]).decode()
    assert "BEGIN:VCALENDAR" in text and "LDN 1.5 mg at bedtime" in text


def test_rest_style_full_urls(patient, plan):
    bundle = export_bundle(
        patient, plan=plan, base_url="https://ldn.example/fhir", bundle_type="searchset"
    )
    fc.validate_bundle(bundle)
    assert bundle["total"] == len(bundle["entry"])
    assert bundle["entry"][0]["fullUrl"] == "https://ldn.example/fhir/Patient/demo-fibro"
    mr = _resources(bundle, "MedicationRequest")[0]
    assert mr["subject"] == {"reference": "Patient/demo-fibro"}
