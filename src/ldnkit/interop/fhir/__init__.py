"""FHIR R4 in one import: export a patient's LDN care as a Bundle, read Bundles back.

Modules, one job each:

- `common`: code systems, identifiers, validation and the one reader of incoming codes;
- `export`: a patient's care as a Bundle; `instruments`: questionnaire scores as Observations;
- `reading`: Bundles and EHR resources back into core models (diary, plan, patient, orders);
- `records`: the typed storage interface the FHIR REST routes read and write through;
- `nof1`: an N-of-1 trial as a ResearchStudy Bundle.

This package gathers their public names, as the issue and the docs call it
`ldnkit.interop.fhir`. The HTTP routes live in the web shell (`ldnkit.web.routes.fhir`).
"""

from __future__ import annotations

from ldnkit.interop.fhir.common import (
    FHIR_VERSION,
    LOINC_PAIN,
    FhirInvalid,
    validate_bundle,
    validate_resource,
)
from ldnkit.interop.fhir.export import (
    bundle_json,
    diary_observations,
    dosage,
    export_bundle,
    medication_request,
    patient_resource,
)
from ldnkit.interop.fhir.reading import (
    DiaryImport,
    MergePlan,
    diary_from_bundle,
    new_entries,
    patient_from_bundle,
    plan_from_bundle,
    plan_from_medication_request,
)

__all__ = [
    "FHIR_VERSION",
    "LOINC_PAIN",
    "DiaryImport",
    "FhirInvalid",
    "MergePlan",
    "bundle_json",
    "diary_from_bundle",
    "diary_observations",
    "dosage",
    "export_bundle",
    "medication_request",
    "new_entries",
    "patient_from_bundle",
    "patient_resource",
    "plan_from_bundle",
    "plan_from_medication_request",
    "validate_bundle",
    "validate_resource",
]
