"""FHIR R4 in one import: export a patient's LDN care as a Bundle, read Bundles back.

The work lives in `fhir_export`, `fhir_import` and `fhir_common` (one job each); this module
gathers their public names, as the issue and the docs call it `ldnkit.interop.fhir`.
"""

from __future__ import annotations

from ldnkit.interop.fhir_common import (
    FHIR_VERSION,
    LOINC_PAIN,
    FhirInvalid,
    validate_bundle,
    validate_resource,
)
from ldnkit.interop.fhir_export import (
    bundle_json,
    diary_observations,
    dosage,
    export_bundle,
    medication_request,
    patient_resource,
)
from ldnkit.interop.fhir_import import (
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
