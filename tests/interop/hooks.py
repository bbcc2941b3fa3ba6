"""CDS Hooks request builders shaped like the specification's examples (R4 order-select)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

PATIENT_ID = "1288992"


def med_request(
    rid: str,
    text: str,
    *,
    status: str = "draft",
    dose_mg: float | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    rxnorm: str | None = None,
) -> dict[str, Any]:
    """A MedicationRequest as the spec's example writes one (rxnorm coding, text, dosage)."""
    res: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": rid,
        "status": status,
        "intent": "order",
        "medicationCodeableConcept": {
            "coding": [
                {
                    "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                    "code": rxnorm or "0",
                    "display": text,
                }
            ],
            "text": text,
        },
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
    }
    if dose_mg is not None or start is not None:
        repeat: dict[str, Any] = {"frequency": 1, "period": 1, "periodUnit": "d"}
        if start is not None:
            repeat["boundsPeriod"] = {"start": start.isoformat()}
            if end is not None:
                repeat["boundsPeriod"]["end"] = end.isoformat()
        dosage: dict[str, Any] = {"text": text, "timing": {"repeat": repeat}}
        if dose_mg is not None:
            dosage["doseAndRate"] = [
                {
                    "doseQuantity": {
                        "value": dose_mg,
                        "unit": "mg",
                        "system": "http://unitsofmeasure.org",
                        "code": "mg",
                    }
                }
            ]
        res["dosageInstruction"] = [dosage]
    return res


def bundle(*resources: dict[str, Any], kind: str = "searchset") -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": kind,
        "entry": [{"resource": r} for r in resources],
    }


def patient() -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": PATIENT_ID,
        "gender": "female",
        "birthDate": "1970-05-01",
    }


def order_select(
    selected: dict[str, Any],
    *,
    others: tuple[dict[str, Any], ...] = (),
    medications: tuple[dict[str, Any], ...] = (),
    hook: str = "order-select",
    conditions: tuple[dict[str, Any], ...] = (),
) -> dict[str, Any]:
    """An order-select request like the spec's R4 example, with the service's prefetch."""
    body: dict[str, Any] = {
        "hook": hook,
        "hookInstance": str(uuid.uuid4()),
        "fhirServer": "http://hooks.smarthealthit.org:9080",
        "context": {
            "userId": "PractitionerRole/123",
            "patientId": PATIENT_ID,
            "encounterId": "89284",
            "draftOrders": bundle(
                {
                    "resourceType": "NutritionOrder",
                    "id": "pureeddiet-simple",
                    "status": "draft",
                    "intent": "order",
                    "patient": {"reference": f"Patient/{PATIENT_ID}"},
                    "dateTime": "2014-09-17",
                },
                selected,
                *others,
                kind="collection",
            ),
        },
        "prefetch": {
            "patient": patient(),
            "medications": bundle(*medications),
            "statements": bundle(),
            "conditions": bundle(*conditions),
            "allergies": None,
        },
    }
    if hook == "order-select":
        body["context"]["selections"] = [
            "NutritionOrder/pureeddiet-simple",
            f"MedicationRequest/{selected['id']}",
        ]
    return body


def pain_obs(day: dt.date, score: int, n: int) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": f"pain-{n}",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "72514-3"}]},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "effectiveDateTime": day.isoformat(),
        "valueInteger": score,
    }


def patient_view(
    medications: tuple[dict[str, Any], ...],
    pains: tuple[dict[str, Any], ...] = (),
    encounters: tuple[dict[str, Any], ...] = (),
) -> dict[str, Any]:
    """A patient-view request like the spec's example, with prefetch filled in."""
    return {
        "hookInstance": str(uuid.uuid4()),
        "fhirServer": "http://hooks.smarthealthit.org:9080",
        "hook": "patient-view",
        "fhirAuthorization": None,
        "context": {"userId": "Practitioner/example", "patientId": PATIENT_ID},
        "prefetch": {
            "patient": patient(),
            "medications": bundle(*medications),
            "pain": bundle(*pains),
            "encounters": bundle(*encounters),
        },
    }
