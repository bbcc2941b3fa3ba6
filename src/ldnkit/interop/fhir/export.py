"""A patient's LDN care as a FHIR R4 Bundle, so an EHR can read what ldnkit knows.

Pure: takes core models (and diary entries), returns plain JSON-ready dicts; no clock, no I/O.

What goes where:
- Patient; one Condition per diagnosis (ldnkit condition code plus the evidence name).
- MedicationRequest for compounded naltrexone: one Dosage per titration step, in order
  (`sequence`, `timing.repeat.boundsPeriod`, `when: HS` at bedtime / `MORN` in the morning,
  `doseAndRate.doseQuantity` in mg; a perioperative hold is a 0 mg Dosage), the protocol in
  `instantiatesUri`, compounding amounts in `dispenseRequest` and a note.
- DocumentReference holding the exact plan (JSON) and its iCalendar file, so an import
  restores the plan with its visits and sources; the import checks it against the Dosages.
- Observations: one per diary day (LOINC 72514-3 pain 0-10; sleep, mood, energy, clarity and
  the dose as components) and one per side effect (severity as SNOMED CT).
- DetectedIssue per screening finding (severity, message, sources as the authority).
- Observations for completed instruments (PEG-3, PGIC, a clinic's own), LOINC-coded where
  codes exist (`ldnkit.interop.fhir.instruments`).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal, Protocol

from ldnkit.clinical.models import Assessment, Patient, Plan, PlanStep, fmt_mg
from ldnkit.evidence import Evidence, default_evidence
from ldnkit.interop.fhir import common as fc
from ldnkit.interop.ical import plan_to_ics

if TYPE_CHECKING:
    from ldnkit.clinical.instruments import Instrument


class SideEffectLike(Protocol):
    code: str
    severity: str


class DiaryLike(Protocol):
    """The diary entry fields the export reads (`ldnkit.clinical.diary.DiaryEntry` fits)."""

    entry_date: dt.date
    pain: int
    sleep: int | None
    mood: int | None
    energy: int | None
    clarity: int | None
    dose_taken: bool
    dose_time: dt.time | None
    dose_mg: Decimal | None
    side_effects: Sequence[SideEffectLike]
    note: str | None


_SEX = {"female": "female", "male": "male", "other": "other", "unknown": "unknown"}
_WHEN = {"bedtime": "HS", "morning": "MORN"}
_FINDING_SEVERITY = {
    "contraindicated": "high",
    "defer": "high",
    "caution": "moderate",
    "info": "low",
}
SCALE_COMPONENTS = ("sleep", "mood", "energy", "clarity")


class _Refs:
    """Builds fullUrls and references: REST style under a base URL, else stable urn:uuid."""

    def __init__(self, patient_id: str, base_url: str | None) -> None:
        self.patient_id = patient_id
        self.base = base_url.rstrip("/") if base_url else None

    def full_url(self, rtype: str, rid: str) -> str:
        if self.base:
            return f"{self.base}/{rtype}/{rid}"
        return f"urn:uuid:{fc.stable_uuid(self.patient_id, rtype, rid)}"

    def ref(self, rtype: str, rid: str) -> dict[str, str]:
        return {"reference": f"{rtype}/{rid}" if self.base else self.full_url(rtype, rid)}


def _citations(ev: Evidence, ids: Iterable[str]) -> str:
    return "; ".join(f"[{r.id}] {r.citation()}" for r in ev.cite(ids))


def patient_resource(patient: Patient) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "Patient",
        "id": fc.fhir_id(patient.id),
        "identifier": [{"system": fc.SYS_PATIENT, "value": patient.id}],
        "gender": _SEX[patient.sex],
    }
    if patient.name:
        res["name"] = [{"text": patient.name}]
    if patient.birth_date:
        res["birthDate"] = patient.birth_date.isoformat()
    return res


def _condition(patient: Patient, code: str, refs: _Refs, ev: Evidence) -> dict[str, Any]:
    known = ev.condition(code)
    name = known.name if known else code.replace("_", " ")
    return {
        "resourceType": "Condition",
        "id": fc.fhir_id("cond", code),
        "clinicalStatus": {"coding": [{"system": fc.CONDITION_CLINICAL, "code": "active"}]},
        "code": {"coding": [{"system": fc.SYS_CONDITION, "code": code, "display": name}]},
        "subject": refs.ref("Patient", fc.fhir_id(patient.id)),
    }


def dosage(step: PlanStep) -> dict[str, Any]:
    """One FHIR Dosage for one plan step (public: the CDS suggestion builds the same)."""
    if step.dose_mg > 0:
        text = (
            f"{fmt_mg(step.dose_mg)} mg by mouth at {step.timing}, "
            f"{step.start.isoformat()} to {step.end.isoformat()}"
        )
    else:
        text = f"Do not take LDN (hold), {step.start.isoformat()} to {step.end.isoformat()}"
    return {
        "sequence": step.index + 1,
        "text": text,
        "additionalInstruction": [
            {"coding": [{"system": fc.SYS_STEP_KIND, "code": step.kind}], "text": step.note}
        ],
        "timing": {
            "repeat": {
                "boundsPeriod": {"start": step.start.isoformat(), "end": step.end.isoformat()},
                "frequency": 1,
                "period": 1,
                "periodUnit": "d",
                "when": [_WHEN[step.timing]],
            }
        },
        "route": {"coding": [fc.ORAL_ROUTE]},
        "doseAndRate": [{"doseQuantity": fc.mg_quantity(step.dose_mg)}],
    }


def _compounding_lines(plan: Plan) -> list[str]:
    lines = []
    for d in plan.dispensing:
        step = f"step {d.step_index + 1}: {fmt_mg(d.dose_mg)} mg x {d.days} days"
        if d.form == "capsule":
            lines.append(
                f"{step}: {d.quantity} x {fmt_mg(d.strength_mg or Decimal(0))} mg capsules "
                f"({d.units_per_dose} per dose)"
            )
        else:
            lines.append(
                f"{step}: {fmt_mg(d.total_ml or Decimal(0))} mL of {fmt_mg(d.mg_per_ml or Decimal(0))} mg/mL "
                f"({fmt_mg(d.ml_per_dose or Decimal(0))} mL per dose)"
            )
    return lines


def medication_request(
    plan: Plan,
    subject: dict[str, str],
    *,
    rid: str | None = None,
    status: str = "active",
    condition_refs: Sequence[dict[str, str]] = (),
    evidence: Evidence | None = None,
) -> dict[str, Any]:
    """The compounded-naltrexone order for a plan: one Dosage per step, in order."""
    ev = evidence or default_evidence()
    owner = plan.patient_id or "plan"
    res: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": rid or fc.fhir_id("ldn", plan.start.isoformat()),
        "identifier": [
            {
                "system": fc.SYS_PLAN,
                "value": f"{owner}/{plan.protocol_id}/{plan.start.isoformat()}",
            }
        ],
        "status": status,
        "intent": "order",
        "instantiatesUri": [f"{fc.PROTOCOL_URI}{plan.protocol_id}"],
        "courseOfTherapyType": {"coding": [{"system": fc.COURSE_OF_THERAPY, "code": "continuous"}]},
        "medicationCodeableConcept": {
            "coding": [
                {"system": fc.RXNORM, "code": fc.RXNORM_NALTREXONE, "display": "naltrexone"}
            ],
            "text": "Naltrexone, compounded low-dose (LDN), oral",
        },
        "subject": subject,
        "dosageInstruction": [dosage(s) for s in plan.steps],
        "dispenseRequest": {
            "validityPeriod": {"start": plan.start.isoformat(), "end": plan.end.isoformat()},
            "expectedSupplyDuration": {
                "value": (plan.end - plan.start).days + 1,
                "unit": "days",
                "system": fc.UCUM,
                "code": "d",
            },
        },
        "note": [
            {
                "text": (
                    f"{plan.protocol_name}: target {fmt_mg(plan.target_mg)} mg, ceiling "
                    f"{fmt_mg(plan.ceiling_mg)} mg, steps every {plan.interval_days} days. "
                    f"Sources: {_citations(ev, plan.sources)}"
                )
            }
        ],
    }
    if condition_refs:
        res["reasonReference"] = list(condition_refs)
    totals = {(d.form, d.strength_mg, d.mg_per_ml) for d in plan.dispensing}
    if len(totals) == 1:
        form, strength, _ = next(iter(totals))
        if form == "capsule":
            qty = sum(d.quantity or 0 for d in plan.dispensing)
            unit = f"{fmt_mg(strength or Decimal(0))} mg capsule"
            res["dispenseRequest"]["quantity"] = {"value": qty, "unit": unit}
        else:
            total = sum((d.total_ml or Decimal(0) for d in plan.dispensing), Decimal(0))
            res["dispenseRequest"]["quantity"] = {
                "value": fc.json_number(total),
                "unit": "mL",
                "system": fc.UCUM,
                "code": "mL",
            }
    if plan.dispensing:
        res["note"].append({"text": "Compounding: " + "; ".join(_compounding_lines(plan))})
    return res


def _plan_document(plan: Plan, refs: _Refs, mr_id: str) -> dict[str, Any]:
    payload = json.dumps(plan.model_dump(mode="json"), sort_keys=True).encode()
    return {
        "resourceType": "DocumentReference",
        "id": fc.fhir_id("plan", plan.start.isoformat()),
        "identifier": [
            {
                "system": fc.SYS_PLAN,
                "value": f"{plan.patient_id or 'plan'}/{plan.protocol_id}/{plan.start}/document",
            }
        ],
        "status": "current",
        "type": {"coding": [{"system": fc.SYS_DOCUMENT, "code": "ldn-plan"}]},
        "subject": refs.ref("Patient", fc.fhir_id(plan.patient_id or "plan")),
        "description": f"LDN titration plan ({plan.protocol_name}) from {plan.start}",
        "content": [
            {
                "attachment": {
                    "contentType": fc.PLAN_MIME,
                    "data": base64.b64encode(payload).decode(),
                    "title": "ldnkit plan (exact, for re-import)",
                }
            },
            {
                "attachment": {
                    "contentType": "text/calendar",
                    "data": base64.b64encode(plan_to_ics(plan)).decode(),
                    "title": "LDN schedule (iCalendar)",
                }
            },
        ],
        "context": {"related": [refs.ref("MedicationRequest", mr_id)]},
    }


def diary_observations(
    entry: DiaryLike, patient_id: str, refs: _Refs, evidence: Evidence | None = None
) -> list[dict[str, Any]]:
    """The pain Observation of one diary day, then one Observation per side effect."""
    ev = evidence or default_evidence()
    day = entry.entry_date.isoformat()
    subject = refs.ref("Patient", fc.fhir_id(patient_id))
    components: list[dict[str, Any]] = []
    for name in SCALE_COMPONENTS:
        value = getattr(entry, name, None)
        if value is not None:
            components.append(
                {
                    "code": {"coding": [{"system": fc.SYS_DIARY_FIELD, "code": name}]},
                    "valueInteger": value,
                }
            )
    components.append(
        {
            "code": {"coding": [{"system": fc.SYS_DIARY_FIELD, "code": "dose_taken"}]},
            "valueBoolean": bool(entry.dose_taken),
        }
    )
    if entry.dose_mg is not None:
        components.append(
            {
                "code": {"coding": [{"system": fc.SYS_DIARY_FIELD, "code": "dose_mg"}]},
                "valueQuantity": fc.mg_quantity(entry.dose_mg),
            }
        )
    if entry.dose_time is not None:
        components.append(
            {
                "code": {"coding": [{"system": fc.SYS_DIARY_FIELD, "code": "dose_time"}]},
                "valueTime": entry.dose_time.isoformat(),
            }
        )
    pain: dict[str, Any] = {
        "resourceType": "Observation",
        "id": fc.fhir_id("pain", day),
        "identifier": [{"system": fc.SYS_DIARY, "value": f"{patient_id}/{day}/pain"}],
        "status": "final",
        "category": [{"coding": [{"system": fc.OBS_CATEGORY, "code": "survey"}]}],
        "code": {
            "coding": [
                {"system": fc.LOINC, "code": fc.LOINC_PAIN, "display": fc.LOINC_PAIN_DISPLAY}
            ],
            "text": "Pain severity 0-10",
        },
        "subject": subject,
        "effectiveDateTime": day,
        "valueInteger": entry.pain,
        "component": components,
    }
    if entry.note:
        pain["note"] = [{"text": entry.note}]
    out = [pain]
    names = {e.id: e.name for e in ev.side_effects.effects}
    for se in entry.side_effects:
        code, text = fc.SEVERITY_SNOMED[se.severity]
        out.append(
            {
                "resourceType": "Observation",
                "id": fc.fhir_id("se", day, se.code),
                "identifier": [
                    {"system": fc.SYS_DIARY, "value": f"{patient_id}/{day}/side-effect/{se.code}"}
                ],
                "status": "final",
                "category": [{"coding": [{"system": fc.OBS_CATEGORY, "code": "survey"}]}],
                "code": {
                    "coding": [
                        {
                            "system": fc.SYS_SIDE_EFFECT,
                            "code": se.code,
                            "display": names.get(se.code, se.code),
                        }
                    ],
                    "text": f"LDN side effect: {names.get(se.code, se.code)}",
                },
                "subject": subject,
                "effectiveDateTime": day,
                "valueCodeableConcept": {
                    "coding": [{"system": fc.SNOMED, "code": code, "display": text}],
                    "text": se.severity,
                },
                "derivedFrom": [refs.ref("Observation", pain["id"])],
            }
        )
    return out


def finding_issue(
    assessment: Assessment, index: int, refs: _Refs, evidence: Evidence | None = None
) -> dict[str, Any]:
    """One screening finding as a DetectedIssue citing its sources."""
    ev = evidence or default_evidence()
    f = assessment.findings[index]
    first = ev.reference(f.sources[0])
    detail = f"{f.message} Sources: {_citations(ev, f.sources)}"
    if f.earliest_start:
        detail += f" Earliest safe start: {f.earliest_start.isoformat()}."
    res: dict[str, Any] = {
        "resourceType": "DetectedIssue",
        "id": fc.fhir_id("finding", assessment.on.isoformat(), index, f.code),
        "identifier": [
            {"system": fc.SYS_FINDING, "value": f"{assessment.patient_id}/{assessment.on}/{f.code}"}
        ],
        "status": "final",
        "code": {
            "coding": [{"system": fc.SYS_FINDING, "code": f.code, "display": f.title}],
            "text": f"{f.severity}: {f.title}",
        },
        "severity": _FINDING_SEVERITY[f.severity],
        "patient": refs.ref("Patient", fc.fhir_id(assessment.patient_id)),
        "identifiedDateTime": assessment.on.isoformat(),
        "detail": detail,
    }
    if first.url:
        res["reference"] = first.url
    return res


def export_bundle(
    patient: Patient,
    *,
    plan: Plan | None = None,
    assessment: Assessment | None = None,
    diary: Iterable[DiaryLike] = (),
    base_url: str | None = None,
    bundle_type: Literal["collection", "searchset"] = "collection",
    evidence: Evidence | None = None,
    instrument_responses: Iterable[Mapping[str, Any]] = (),
    instruments: Mapping[str, Instrument] | None = None,
) -> dict[str, Any]:
    """Everything ldnkit holds on one patient's LDN care, as one Bundle (JSON dict).

    `base_url` gives REST-style fullUrls (`{base}/Patient/p1`, as `$everything` answers);
    without it the Bundle is self-contained with stable `urn:uuid:` URLs. Entries come in a
    fixed order (patient, conditions, order, plan document, findings, diary by date), so two
    exports of the same data are byte-identical.
    """
    ev = evidence or default_evidence()
    refs = _Refs(patient.id, base_url)
    pid = fc.fhir_id(patient.id)
    resources: list[dict[str, Any]] = [patient_resource(patient)]
    conditions = [_condition(patient, c.code, refs, ev) for c in patient.conditions]
    resources += conditions
    if plan is not None:
        mr = medication_request(
            plan,
            refs.ref("Patient", pid),
            condition_refs=[refs.ref("Condition", c["id"]) for c in conditions],
            evidence=ev,
        )
        resources += [mr, _plan_document(plan, refs, mr["id"])]
    if assessment is not None:
        resources += [
            finding_issue(assessment, i, refs, ev) for i in range(len(assessment.findings))
        ]
    for entry in sorted(diary, key=lambda e: e.entry_date):
        resources += diary_observations(entry, patient.id, refs, ev)
    if instrument_responses:
        from ldnkit.clinical.instruments import shipped_instruments
        from ldnkit.interop.fhir.instruments import instrument_observation

        known = (
            instruments if instruments is not None else {i.id: i for i in shipped_instruments(ev)}
        )
        for resp in sorted(instrument_responses, key=lambda r: (r["completed_on"], r["id"])):
            resources.append(
                instrument_observation(
                    resp, known.get(resp["instrument_id"]), patient.id, refs.ref("Patient", pid)
                )
            )
    entries = [
        {"fullUrl": refs.full_url(r["resourceType"], r["id"]), "resource": r} for r in resources
    ]
    if bundle_type == "searchset":
        for e in entries:
            e["search"] = {"mode": "match"}
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "id": fc.fhir_id("ldnkit", patient.id),
        "type": bundle_type,
        "entry": entries,
    }
    if bundle_type == "searchset":
        bundle["total"] = len(entries)
    return bundle


def bundle_json(bundle: dict[str, Any]) -> str:
    """Serialise a Bundle dict as indented JSON (the CLI and REST export use this)."""
    return json.dumps(bundle, indent=2, ensure_ascii=False)
