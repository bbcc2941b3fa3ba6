"""An N-of-1 trial as FHIR R4 (R4B models): ResearchStudy, ResearchSubject and Observations.

Pure: plain data in (the stored design, status, diary, result), JSON-ready dicts out.

- ResearchStudy: the trial (pseudonymous reference as identifier, period, status, the design
  in the description, one arm per pack). Arms name their contents only once the trial is
  unblinded; before that they say "blinded", so an EHR never sees what the patient must not.
- ResearchSubject: the patient's enrolment (individualPeriod, status).
- Observations: each analysed diary day's pain (LOINC 72514-3) with the period and pack as
  components, focused on the ResearchStudy; after unblinding, one Observation with the
  effect estimate, its 95% credible interval and the probabilities (ldnkit codes).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from ldnkit.interop.fhir import common as fc
from ldnkit.research.nof1 import Allocation, Nof1Design

__all__ = ["SYS_NOF1", "trial_bundle"]

SYS_NOF1 = "urn:ldnkit:nof1-trial"
SYS_NOF1_FIELD = "urn:ldnkit:nof1-field"
_STATUS = {
    "active": ("active", "on-study"),
    "stopped": ("administratively-completed", "withdrawn"),
    "completed": ("completed", "off-study"),
    "unblinded": ("completed", "off-study"),
}


def _arm_name(design: Nof1Design, arm: str) -> str:
    s = design.settings
    if arm == "ldn":
        return f"LDN {s.dose_mg} mg"
    if arm == "ldn_b":
        return f"LDN {s.comparator_dose_mg} mg"
    return "placebo (identical capsule)"


def trial_bundle(
    ref: str,
    patient_id: int,
    design: Nof1Design,
    status: str,
    pain_by_date: Mapping[dt.date, float],
    allocation: Allocation | None = None,
    result: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The trial, the subject and the observations as a collection Bundle.

    `allocation` is given only after unblinding; without it, arms and pack components stay
    blinded.
    """
    if status not in _STATUS:
        raise fc.FhirInvalid("status", f"unknown trial status {status!r}")
    study_status, subject_status = _STATUS[status]
    sid = fc.fhir_id("nof1", ref)
    pid = fc.fhir_id(patient_id)
    s = design.settings

    def url(rtype: str, rid: str) -> str:
        return f"urn:uuid:{fc.stable_uuid(ref, rtype, rid)}"

    study_ref = {"reference": url("ResearchStudy", sid)}
    patient_ref = {"reference": f"urn:uuid:{fc.stable_uuid(patient_id, 'Patient', pid)}"}
    arms = []
    for pack in ("A", "B"):
        arm = allocation.arm_of(pack) if allocation else None
        arms.append(
            {
                "name": f"pack {pack}",
                "description": _arm_name(design, arm) if arm else "blinded until the trial ends",
            }
        )
    comparator = (
        "an identical placebo capsule"
        if s.comparator_dose_mg is None
        else f"LDN {s.comparator_dose_mg} mg"
    )
    study = {
        "resourceType": "ResearchStudy",
        "id": sid,
        "identifier": [{"system": SYS_NOF1, "value": ref}],
        "title": f"N-of-1 trial {ref}: LDN {s.dose_mg} mg vs {comparator}",
        "status": study_status,
        "primaryPurposeType": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/research-study-prim-purp-type",
                    "code": "treatment",
                }
            ]
        },
        "description": (
            f"Blinded multi-crossover in one patient: {s.pairs} pairs of {design.period_days}-day "
            f"periods (first {design.washout_days} days of each are washout, not analysed), "
            f"order randomised within each pair; run-in {s.run_in_days} days at the titrated "
            "dose. Sources: " + ", ".join(design.sources)
        ),
        "period": {"start": s.start.isoformat(), "end": design.end.isoformat()},
        "arm": arms,
    }
    subject = {
        "resourceType": "ResearchSubject",
        "id": fc.fhir_id("nof1", ref, "subject"),
        "status": subject_status,
        "period": {"start": s.start.isoformat(), "end": design.end.isoformat()},
        "study": study_ref,
        "individual": patient_ref,
    }
    resources: list[dict[str, Any]] = [study, subject]
    for when in sorted(pain_by_date):
        info = design.day_info(when)
        if info.period is None or not info.analysed:
            continue
        comps: list[dict[str, Any]] = [
            {
                "code": {"coding": [{"system": SYS_NOF1_FIELD, "code": "period"}]},
                "valueInteger": info.period.index,
            },
            {
                "code": {"coding": [{"system": SYS_NOF1_FIELD, "code": "pack"}]},
                "valueString": info.period.pack,
            },
        ]
        if allocation is not None:
            comps.append(
                {
                    "code": {"coding": [{"system": SYS_NOF1_FIELD, "code": "arm"}]},
                    "valueString": allocation.arm_of(info.period.pack),
                }
            )
        resources.append(
            {
                "resourceType": "Observation",
                "id": fc.fhir_id("nof1", ref, when.isoformat()),
                "status": "final",
                "code": {
                    "coding": [
                        {
                            "system": "http://loinc.org",
                            "code": "72514-3",
                            "display": "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
                        }
                    ]
                },
                "subject": patient_ref,
                "focus": [study_ref],
                "effectiveDateTime": when.isoformat(),
                "valueInteger": round(float(pain_by_date[when])),
                "component": comps,
            }
        )
    if result is not None and allocation is not None:
        r = result
        resources.append(
            {
                "resourceType": "Observation",
                "id": fc.fhir_id("nof1", ref, "effect"),
                "status": "final",
                "code": {
                    "coding": [{"system": SYS_NOF1_FIELD, "code": "effect"}],
                    "text": "Pain on LDN minus comparator (NRS points; negative = LDN helped)",
                },
                "subject": patient_ref,
                "focus": [study_ref],
                "effectiveDateTime": design.end.isoformat(),
                "valueQuantity": {"value": round(float(r["effect_mean"]), 3), "unit": "{score}"},
                "referenceRange": [
                    {
                        "low": {"value": round(float(r["ci95"][0]), 3)},
                        "high": {"value": round(float(r["ci95"][1]), 3)},
                        "text": "95% credible interval",
                    }
                ],
                "component": [
                    {
                        "code": {"coding": [{"system": SYS_NOF1_FIELD, "code": key}]},
                        "valueQuantity": {"value": round(float(r[key]), 4), "unit": "1"},
                    }
                    for key in ("p_benefit", "p_goal", "p_relative")
                ],
            }
        )
    entries = [{"fullUrl": url(x["resourceType"], x["id"]), "resource": x} for x in resources]
    entries[1]["fullUrl"] = url("ResearchSubject", subject["id"])
    return {
        "resourceType": "Bundle",
        "id": fc.fhir_id("ldnkit", "nof1", ref),
        "type": "collection",
        "entry": entries,
    }
