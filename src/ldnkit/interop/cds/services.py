"""The CDS services ldnkit offers: their discovery entries, prefetch templates and the call itself.

`cards(service_id, body, today)` is the whole service call: parse the request
(`parsing`), then answer with the order rules (`orders`) or the patient-view rules
(`patient_view`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import InvalidOperation
from typing import Any

from ldnkit.errors import LdnkitError, NotFound, ValidationError
from ldnkit.evidence import Evidence
from ldnkit.interop.cds.orders import order_cards
from ldnkit.interop.cds.parsing import parse_request
from ldnkit.interop.cds.patient_view import patient_view_cards
from ldnkit.interop.fhir import common as fc

_PATIENT = "Patient/{{context.patientId}}"
_MEDS = "MedicationRequest?patient={{context.patientId}}"
_STATEMENTS = "MedicationStatement?patient={{context.patientId}}"
_CONDITIONS = "Condition?patient={{context.patientId}}&clinical-status=active"
_ALLERGIES = "AllergyIntolerance?patient={{context.patientId}}"
_PAIN = f"Observation?patient={{{{context.patientId}}}}&code={fc.LOINC}|{fc.LOINC_PAIN}&_sort=-date&_count=200"
_ENCOUNTERS = "Encounter?patient={{context.patientId}}&_sort=-date&_count=20"

_ORDER_PREFETCH = {
    "patient": _PATIENT,
    "medications": _MEDS,
    "statements": _STATEMENTS,
    "conditions": _CONDITIONS,
    "allergies": _ALLERGIES,
}


@dataclass(frozen=True)
class Service:
    """One entry of the discovery document; `needs` are the prefetch keys it cannot do without."""

    id: str
    hook: str
    title: str
    description: str
    prefetch: dict[str, str]
    needs: tuple[str, ...]

    def discovery(self) -> dict[str, Any]:
        return {
            "hook": self.hook,
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "prefetch": dict(self.prefetch),
            "usageRequirements": (
                "Send the prefetch keys listed; the service never queries the FHIR server."
            ),
        }


SERVICES: dict[str, Service] = {
    s.id: s
    for s in (
        Service(
            id="ldn-patient-view",
            hook="patient-view",
            title="LDN status",
            description=(
                "Low-dose naltrexone status: current dose, next titration step, responder "
                "status from pain scores (LOINC 72514-3) and overdue follow-up."
            ),
            prefetch={
                "patient": _PATIENT,
                "medications": _MEDS,
                "pain": _PAIN,
                "encounters": _ENCOUNTERS,
            },
            needs=("medications",),
        ),
        Service(
            id="ldn-order-select",
            hook="order-select",
            title="LDN and opioid order safety",
            description=(
                "Warns when an opioid is ordered for a patient on LDN, when naltrexone is "
                "ordered with active opioids or inside the opioid-free window, and offers a "
                "titration plan in place of a fixed 4.5 mg LDN order."
            ),
            prefetch=dict(_ORDER_PREFETCH),
            needs=("medications",),
        ),
        Service(
            id="ldn-order-sign",
            hook="order-sign",
            title="LDN and opioid order safety (at signing)",
            description="The order-select checks, run again on the orders about to be signed.",
            prefetch=dict(_ORDER_PREFETCH),
            needs=("medications",),
        ),
    )
}


def discovery() -> dict[str, Any]:
    """The `GET /cds-services` document."""
    return {"services": [s.discovery() for s in SERVICES.values()]}


def cards(
    service_id: str,
    body: Any,
    today: dt.date,
    evidence: Evidence | None = None,
    *,
    app_url: str | None = None,
) -> dict[str, Any]:
    """The whole service call: parse, decide, answer `{"cards": [...]}`.

    With `app_url` (where the ldnkit web app is served), each card links to the decision
    diagram with the path this case took highlighted."""
    service = SERVICES.get(service_id)
    if service is None:
        raise NotFound("CDS service", service_id, sorted(SERVICES))
    req = parse_request(service, body)
    try:
        if service.hook == "patient-view":
            return {"cards": patient_view_cards(req, today, evidence, app_url=app_url)}
        return {"cards": order_cards(req, today, evidence, app_url=app_url)}
    except LdnkitError:
        raise
    except (AttributeError, TypeError, KeyError, ValueError, InvalidOperation) as exc:
        # Incoming resources are read leniently (the spec's own examples are not strictly
        # valid FHIR); content of the wrong JSON type deep inside one is still the caller's
        # malformed request, not a server error.
        raise ValidationError(
            "context", f"malformed FHIR content ({exc.__class__.__name__}: {exc})"[:300]
        ) from None
