"""Code systems, identifiers and validation shared by FHIR export, import and CDS Hooks.

FHIR version: the resources are written to FHIR R4 (4.0.1) and validated with the R4B (4.3.0)
models of `fhir.resources` 8.x. R4 models exist only in `fhir.resources` <= 6.1, which needs
pydantic 1 and is no longer maintained; R4B kept the resources ldnkit writes (Patient,
Condition, MedicationRequest, Observation, DetectedIssue, DocumentReference, Bundle) as they
were in R4. The optional test `test_r4_strict` re-validates an export with the real R4 models
when a pydantic-1 environment is named in `LDNKIT_FHIR_R4_PYTHON` (see docs/interop.md).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError as PydanticValidationError

from ldnkit.errors import ValidationError

FHIR_VERSION = "4.0.1"

LOINC = "http://loinc.org"
LOINC_PAIN = "72514-3"
LOINC_PAIN_DISPLAY = "Pain severity - 0-10 verbal numeric rating [Score] - Reported"
UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
RXNORM_NALTREXONE = "7243"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
COURSE_OF_THERAPY = "http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy"
ORAL_ROUTE = {"system": SNOMED, "code": "26643006", "display": "Oral route"}
#: SNOMED CT severity qualifiers used for side-effect Observations.
SEVERITY_SNOMED = {
    "mild": ("255604002", "Mild"),
    "moderate": ("6736007", "Moderate"),
    "severe": ("24484000", "Severe"),
}

# ldnkit's own code systems and identifier namespaces (URNs: valid FHIR URIs, no host needed).
SYS_PATIENT = "urn:ldnkit:patient"
SYS_CONDITION = "urn:ldnkit:condition"
SYS_PLAN = "urn:ldnkit:plan"
SYS_STEP_KIND = "urn:ldnkit:plan-step-kind"
SYS_DIARY = "urn:ldnkit:diary-entry"
SYS_DIARY_FIELD = "urn:ldnkit:diary-field"
SYS_SIDE_EFFECT = "urn:ldnkit:side-effect"
SYS_FINDING = "urn:ldnkit:finding"
SYS_DOCUMENT = "urn:ldnkit:document"
PROTOCOL_URI = "urn:ldnkit:protocol:"
PLAN_MIME = "application/vnd.ldnkit.plan+json"

_ID_BAD = re.compile(r"[^A-Za-z0-9\-.]")
_NS = uuid.UUID("5d7c0d0e-63a3-4f55-9d1e-0b9a3c1f1d2a")


class FhirInvalid(ValidationError):
    """The input is not valid FHIR (unparseable, wrong type, fails the resource model).

    A ValidationError, so every shell handles it; the REST shell answers 400 for it and 422
    for valid FHIR whose content breaks an ldnkit rule (a pain score of 11, a future date).
    """


def fhir_id(*parts: object) -> str:
    """A FHIR logical id ([A-Za-z0-9-.]{1,64}) derived from ldnkit keys, stable across runs."""
    text = _ID_BAD.sub("-", "-".join(str(p) for p in parts))
    if len(text) <= 64:
        return text
    return f"{text[:27]}-{uuid.uuid5(_NS, text).hex}"[:64]


def stable_uuid(*parts: object) -> str:
    """A name-based UUID, so the same export always carries the same `urn:uuid:` URLs."""
    return str(uuid.uuid5(_NS, "|".join(str(p) for p in parts)))


def mg_quantity(dose: Decimal) -> dict[str, Any]:
    """A UCUM milligram Quantity whose JSON number keeps the decimal as written (1.5, not 1.50)."""
    return {"value": json_number(dose), "unit": "mg", "system": UCUM, "code": "mg"}


def json_number(value: Decimal) -> int | float:
    """Decimal -> JSON number without binary noise: integers stay ints, 4.5 prints as 4.5."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def to_decimal(value: Any, where: str = "value") -> Decimal:
    """A JSON number back to an exact Decimal (via its shortest repr)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise FhirInvalid(where, f"not a number: {value!r}")
    try:
        out = Decimal(str(value))
    except InvalidOperation:
        raise FhirInvalid(where, f"not a number: {value!r}") from None
    if not out.is_finite():
        raise FhirInvalid(where, f"not a finite number: {value!r}")
    return out


def codes(concept: Any) -> set[tuple[str | None, str | None]]:
    """The (system, code) pairs of a CodeableConcept; empty for anything that is not one.

    The one reader of incoming codes (import, CDS prefetch): lenient, since incoming resources
    are read by shape and a missing or malformed concept simply matches nothing."""
    if not isinstance(concept, dict):
        return set()
    return {(c.get("system"), c.get("code")) for c in concept.get("coding") or []}


def concept_text(concept: Any) -> str:
    """A CodeableConcept's words: its text, else its codings' displays joined."""
    if not isinstance(concept, dict):
        return ""
    if concept.get("text"):
        return str(concept["text"])
    return " ".join(str(c.get("display") or "") for c in concept.get("coding") or []).strip()


def medication_text(res: dict[str, Any]) -> str:
    """A MedicationRequest/Statement's medication as written (concept text, else the
    reference's display), unstripped; empty when it names none."""
    name = concept_text(res.get("medicationCodeableConcept"))
    if not name and isinstance(res.get("medicationReference"), dict):
        name = str(res["medicationReference"].get("display") or "")
    return name


def fhir_date(value: Any) -> dt.date | None:
    """The calendar day of a FHIR date or dateTime string (its first ten characters); None
    for a partial date ("2024-05"), a non-string or a malformed one."""
    if isinstance(value, str) and len(value) >= 10:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def validate_resource(resource: dict[str, Any], where: str = "resource") -> Any:
    """Parse one resource dict with the fhir.resources model for its type, or raise ours.

    Returns the model instance, so callers can inspect it; raises `ValidationError` naming
    the resource and the first failing element path.
    """
    if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
        raise FhirInvalid(where, "not a FHIR resource (no resourceType)")
    try:
        model = get_fhir_model_class(resource["resourceType"])
    except (KeyError, ValueError, AttributeError):
        raise FhirInvalid(
            f"{where}.resourceType", f"unknown FHIR resource type {resource['resourceType']!r}"
        ) from None
    try:
        return model.model_validate(resource)
    except PydanticValidationError as exc:
        err = exc.errors()[0]
        path = ".".join(str(p) for p in err["loc"])
        raise FhirInvalid(
            f"{where}.{path}" if path else where, f"{resource['resourceType']}: {err['msg']}"
        ) from None


def validate_bundle(bundle: dict[str, Any]) -> list[Any]:
    """Validate a Bundle and each of its entries' resources; returns the entry models."""
    validate_resource(bundle, "Bundle")
    if bundle["resourceType"] != "Bundle":
        raise FhirInvalid("Bundle.resourceType", "expected a Bundle")
    return [
        validate_resource(e.get("resource"), f"Bundle.entry[{i}].resource")
        for i, e in enumerate(bundle.get("entry") or [])
    ]
