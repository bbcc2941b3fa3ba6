"""Read FHIR Bundles back into core models: pain Observations into diary entries, the plan.

Pure: every function takes parsed JSON and returns core models (or raises
`ValidationError(field, reason)` naming the Bundle entry); the REST shell stores the result.

Pain scores are recognised by LOINC 72514-3 whichever system wrote them. An ldnkit export also
carries the rest of the diary day (sleep, mood, energy, clarity, dose) as components and the
side effects as their own Observations, so its round trip is exact. Importing is idempotent:
`new_entries` keeps only days the diary does not already hold with the same content, and never
overwrites a day the patient recorded differently (it reports it as a conflict instead).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from ldnkit.clinical.diary import DiaryEntry, validate_diary_entry
from ldnkit.clinical.medications import is_naltrexone_bupropion
from ldnkit.clinical.models import Coding, Medication, Patient, Plan, PlanStep
from ldnkit.errors import ValidationError
from ldnkit.evidence import Evidence, default_evidence
from ldnkit.inputs import parse_model
from ldnkit.interop.fhir import common as fc
from ldnkit.interop.fhir.export import SCALE_COMPONENTS
from ldnkit.yamlio import load_json

_USABLE_STATUS = {"final", "amended", "corrected"}
_SEVERITY_BY_SNOMED = {code: name for name, (code, _) in fc.SEVERITY_SNOMED.items()}
_GENDER = {"female": "female", "male": "male", "other": "other", "unknown": "unknown"}


@dataclass(frozen=True)
class DiaryImport:
    """Diary days read from a Bundle, and what was left out and why."""

    entries: tuple[DiaryEntry, ...]
    skipped: tuple[str, ...] = ()


@dataclass(frozen=True)
class MergePlan:
    """What importing into an existing diary would do (nothing is written here)."""

    new: tuple[DiaryEntry, ...]
    unchanged: tuple[dt.date, ...] = ()
    conflicts: tuple[dt.date, ...] = field(default_factory=tuple)


def _entries(bundle: Any) -> list[tuple[int, dict[str, Any]]]:
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise fc.FhirInvalid("resourceType", "expected a FHIR Bundle")
    raw = bundle.get("entry") or []
    if not isinstance(raw, list):
        raise fc.FhirInvalid("entry", "must be a list")
    out = []
    for i, e in enumerate(raw):
        res = e.get("resource") if isinstance(e, dict) else None
        if not isinstance(res, dict):
            raise fc.FhirInvalid(f"entry[{i}].resource", "missing")
        # Every resource is checked before any is read: a Bundle is imported whole or not at
        # all, and the readers below can rely on the shapes FHIR guarantees.
        fc.validate_resource(res, f"entry[{i}].resource")
        out.append((i, res))
    return out


def _day(res: dict[str, Any], where: str) -> dt.date:
    text = res.get("effectiveDateTime") or (res.get("effectivePeriod") or {}).get("start")
    if not isinstance(text, str) or len(text) < 10:
        raise ValidationError(f"{where}.effectiveDateTime", "a diary Observation needs a date")
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        raise ValidationError(f"{where}.effectiveDateTime", f"{text!r} is not a date") from None


def _pain_value(res: dict[str, Any], where: str) -> int:
    if "valueInteger" in res:
        value = res["valueInteger"]
    elif isinstance(res.get("valueQuantity"), dict):
        value = res["valueQuantity"].get("value")
    else:
        raise ValidationError(
            f"{where}.value[x]", "pain score must be valueInteger or valueQuantity"
        )
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise ValidationError(
            f"{where}.value[x]", f"pain score must be a whole number, got {value!r}"
        )
    return int(value)


def _component(res: dict[str, Any], name: str) -> dict[str, Any] | None:
    for comp in res.get("component") or []:
        if (fc.SYS_DIARY_FIELD, name) in fc.codes(comp.get("code")):
            return comp
    return None


def _subject(res: dict[str, Any]) -> str | None:
    subj = res.get("subject")
    return subj.get("reference") if isinstance(subj, dict) else None


def diary_from_bundle(
    bundle: Any,
    *,
    today: dt.date,
    dose_taken_default: bool = False,
    evidence: Evidence | None = None,
) -> DiaryImport:
    """Diary entries from a Bundle's pain (LOINC 72514-3) and side-effect Observations.

    Every Observation is validated with fhir.resources first; an invalid one rejects the
    Bundle (naming the entry). Observations that are not usable (entered-in-error, no date)
    are skipped with a reason. A pain Observation written by another system carries no dose
    information: `dose_taken_default` fills it and the entry's note says it was imported.
    Several pain scores on one day (another system may record more than one) keep the last.
    """
    pains: dict[dt.date, tuple[dict[str, Any], str]] = {}
    effects: dict[dt.date, list[dict[str, str]]] = {}
    skipped: list[str] = []
    subjects: set[str] = set()
    for i, res in _entries(bundle):
        if res.get("resourceType") != "Observation":
            continue
        where = f"entry[{i}].resource"
        codes = fc.codes(res.get("code"))
        is_pain = (fc.LOINC, fc.LOINC_PAIN) in codes
        effect = next((c for s, c in codes if s == fc.SYS_SIDE_EFFECT), None)
        if not is_pain and effect is None:
            continue
        if res.get("status") not in _USABLE_STATUS:
            skipped.append(f"{where}: status {res.get('status')!r}")
            continue
        if (ref := _subject(res)) is not None:
            subjects.add(ref)
        day = _day(res, where)
        if is_pain:
            pains[day] = (res, where)
        else:
            coding = fc.codes(res.get("valueCodeableConcept"))
            severity = next(
                (
                    _SEVERITY_BY_SNOMED[c]
                    for s, c in coding
                    if s == fc.SNOMED and c in _SEVERITY_BY_SNOMED
                ),
                (res.get("valueCodeableConcept") or {}).get("text") or "mild",
            )
            effects.setdefault(day, []).append({"code": str(effect), "severity": severity})
    if len(subjects) > 1:
        raise ValidationError("entry", f"the Bundle mixes patients ({', '.join(sorted(subjects))})")
    entries: list[DiaryEntry] = []
    for day in sorted(pains):
        res, where = pains[day]
        data: dict[str, Any] = {"entry_date": day, "pain": _pain_value(res, where)}
        for name in SCALE_COMPONENTS:
            if (comp := _component(res, name)) is not None:
                data[name] = comp.get("valueInteger")
        taken = _component(res, "dose_taken")
        notes = [
            n.get("text") for n in res.get("note") or [] if isinstance(n, dict) and n.get("text")
        ]
        if taken is not None:
            data["dose_taken"] = bool(taken.get("valueBoolean"))
        else:
            data["dose_taken"] = dose_taken_default
            notes.insert(0, "Imported from FHIR (dose not recorded)")
        comp = _component(res, "dose_mg")
        if comp is not None and (comp.get("valueQuantity") or {}).get("value") is not None:
            data["dose_mg"] = fc.to_decimal(comp["valueQuantity"]["value"], f"{where}.component")
        if (comp := _component(res, "dose_time")) is not None:
            data["dose_time"] = comp.get("valueTime")
        if notes:
            data["note"] = "\n".join(notes)
        data["side_effects"] = effects.pop(day, [])
        try:
            entries.append(validate_diary_entry(data, today=today, evidence=evidence))
        except ValidationError as exc:
            raise ValidationError(f"{where} ({day}): {exc.field}", exc.reason) from None
    skipped += [f"side effects on {d} without a pain score" for d in sorted(effects)]
    return DiaryImport(entries=tuple(entries), skipped=tuple(skipped))


def new_entries(imported: DiaryImport, existing: Mapping[dt.date, DiaryEntry]) -> MergePlan:
    """Split an import into new days, days already held identically, and conflicting days.

    This is what makes the import idempotent: a second import of the same Bundle finds every
    day unchanged and adds nothing. A day the diary holds with other values is left alone.
    """
    new, same, conflicts = [], [], []
    for entry in imported.entries:
        held = existing.get(entry.entry_date)
        if held is None:
            new.append(entry)
        elif held == entry:
            same.append(entry.entry_date)
        else:
            conflicts.append(entry.entry_date)
    return MergePlan(new=tuple(new), unchanged=tuple(same), conflicts=tuple(conflicts))


def plan_from_bundle(bundle: Any) -> Plan | None:
    """The exact plan from an ldnkit export (its plan DocumentReference), checked against the
    MedicationRequest's Dosages so a schedule edited in the EHR is never silently ignored.

    Returns None when the Bundle carries no ldnkit plan.
    """
    entries = _entries(bundle)
    doc = next(
        (
            (i, r)
            for i, r in entries
            if r.get("resourceType") == "DocumentReference"
            and (fc.SYS_DOCUMENT, "ldn-plan") in fc.codes(r.get("type"))
        ),
        None,
    )
    if doc is None:
        return None
    i, res = doc
    attachment = next(
        (
            c["attachment"]
            for c in res.get("content") or []
            if (c.get("attachment") or {}).get("contentType") == fc.PLAN_MIME
        ),
        None,
    )
    if attachment is None or not attachment.get("data"):
        raise ValidationError(f"entry[{i}].resource.content", "no ldnkit plan attachment")
    try:
        payload = load_json(base64.b64decode(attachment["data"], validate=True))
        plan = Plan.model_validate(payload)
    except (binascii.Error, ValueError, PydanticValidationError) as exc:
        reason = " ".join(str(exc).split())[:200]
        raise ValidationError(
            f"entry[{i}].resource.content", f"unreadable plan: {reason}"
        ) from None
    _check_schedule(plan, entries)
    return plan


def _check_schedule(plan: Plan, entries: list[tuple[int, dict[str, Any]]]) -> None:
    ident = f"{plan.patient_id or 'plan'}/{plan.protocol_id}/{plan.start.isoformat()}"
    for i, res in entries:
        if res.get("resourceType") != "MedicationRequest":
            continue
        if not any(
            x.get("system") == fc.SYS_PLAN and x.get("value") == ident
            for x in res.get("identifier") or []
        ):
            continue
        got = [schedule_row(d) for d in res.get("dosageInstruction") or []]
        want = [
            (s.index + 1, s.start, s.end, s.dose_mg, "HS" if s.timing == "bedtime" else "MORN")
            for s in plan.steps
        ]
        if got != want:
            raise ValidationError(
                f"entry[{i}].resource.dosageInstruction",
                "the dosing schedule differs from the attached ldnkit plan (edited elsewhere?)",
            )
        return
    raise ValidationError("entry", f"no MedicationRequest with plan identifier {ident!r}")


def schedule_row(d: dict[str, Any]) -> tuple[Any, ...]:
    """(sequence, start, end, dose mg, when) of one Dosage, for comparing schedules."""
    rep = (d.get("timing") or {}).get("repeat") or {}
    bounds = rep.get("boundsPeriod") or {}
    dose = None
    for dr in d.get("doseAndRate") or []:
        q = dr.get("doseQuantity") or {}
        if q.get("value") is not None:
            dose = fc.to_decimal(q["value"])
    when = (rep.get("when") or [None])[0]

    def day(v: Any) -> dt.date | None:
        # FHIR allows partial dates ("2026-03"); they cannot bound a dosing step.
        try:
            return dt.date.fromisoformat(v[:10]) if isinstance(v, str) else None
        except ValueError:
            return None

    return (d.get("sequence"), day(bounds.get("start")), day(bounds.get("end")), dose, when)


def medication_codings(concept: Any) -> tuple[Coding, ...]:
    """The codings of a medicationCodeableConcept as core `Coding`s (malformed ones skipped),
    so recognition can read ATC / RxNorm codes before the free text."""
    if not isinstance(concept, dict):
        return ()
    out = []
    for c in concept.get("coding") or []:
        if isinstance(c, dict) and isinstance(c.get("code"), str) and c["code"].strip():
            system = c.get("system") if isinstance(c.get("system"), str) else ""
            display = c.get("display") if isinstance(c.get("display"), str) else None
            out.append(Coding(system=system or "unknown", code=c["code"].strip(), display=display))
    return tuple(out)


def medication_name(res: dict[str, Any]) -> str:
    """A medication's name as written in a MedicationRequest/Statement (text, else displays)."""
    return fc.medication_text(res).strip()


def dosages(res: dict[str, Any]) -> list[dict[str, Any]]:
    """The Dosage entries of a MedicationRequest (dosageInstruction) or Statement (dosage)."""
    raw = res.get("dosageInstruction") or res.get("dosage") or []
    return [d for d in (raw if isinstance(raw, list) else [raw]) if isinstance(d, dict)]


def dose_mg(dosage: dict[str, Any]) -> Decimal | None:
    """A Dosage's dose in mg, or None when absent, in another unit, or not a number."""
    dr = dosage.get("doseAndRate") or []
    for item in dr if isinstance(dr, list) else [dr]:
        q = item.get("doseQuantity") if isinstance(item, dict) else None
        if isinstance(q, dict) and q.get("value") is not None:
            unit = str(q.get("code") or q.get("unit") or "mg").lower()
            try:
                value = Decimal(str(q["value"]))
            except InvalidOperation:
                return None
            return value if unit == "mg" and value >= 0 else None
    return None


def _last_dose(res: dict[str, Any]) -> dt.date | None:
    if res.get("resourceType") == "MedicationStatement":
        period = res.get("effectivePeriod") or {}
        return fc.fhir_date(period.get("end")) or fc.fhir_date(res.get("effectiveDateTime"))
    ends = []
    for d in dosages(res):
        b = ((d.get("timing") or {}).get("repeat") or {}).get("boundsPeriod") or {}
        if (end := fc.fhir_date(b.get("end"))) is not None:
            ends.append(end)
    validity = ((res.get("dispenseRequest") or {}).get("validityPeriod") or {}).get("end")
    if (v := fc.fhir_date(validity)) is not None:
        ends.append(v)
    return max(ends) if ends else None


MEDICATION_ACTIVE = frozenset({"active", "on-hold", "draft", "intended", "unknown"})
MEDICATION_ENDED = frozenset({"completed", "stopped"})


def medication_from_resource(res: dict[str, Any]) -> Medication | None:
    """A core Medication from a MedicationRequest/Statement, codes included; None when it does
    not count (entered in error, cancelled, not taken, no name and no code)."""
    status = res.get("status")
    codes = medication_codings(res.get("medicationCodeableConcept"))
    name = medication_name(res) or (codes[0].code if codes else "")
    if not name or (status not in MEDICATION_ACTIVE and status not in MEDICATION_ENDED):
        return None
    doses = [d for x in dosages(res) if (d := dose_mg(x)) is not None]
    active = status in MEDICATION_ACTIVE
    return Medication(
        name=name[:500],
        dose_mg=max(doses) if doses else None,
        active=active,
        last_dose=None if active else _last_dose(res),
        codes=codes,
    )


def patient_from_bundle(bundle: Any) -> Patient | None:
    """The core Patient (identity, sex, birth date, conditions) from a Bundle, if present.

    MedicationStatements (an EHR's medication list) become medications with their codes, so
    screening reads ATC / RxNorm codes first. Allergies and other screening facts are not
    exported as resources, so a patient rebuilt this way must be re-screened with the missing
    facts before a new plan.
    """
    entries = _entries(bundle)
    found = next(((i, r) for i, r in entries if r.get("resourceType") == "Patient"), None)
    if found is None:
        return None
    i, res = found
    pid = next(
        (x.get("value") for x in res.get("identifier") or [] if x.get("system") == fc.SYS_PATIENT),
        res.get("id"),
    )
    if not pid:
        raise ValidationError(f"entry[{i}].resource.id", "a Patient needs an id")
    names = res.get("name") or []
    name = None
    if names:
        n = names[0]
        name = n.get("text") or " ".join([*(n.get("given") or []), n.get("family") or ""]).strip()
    conditions = []
    for _, r in entries:
        if r.get("resourceType") == "Condition":
            code = next((c for s, c in fc.codes(r.get("code")) if s == fc.SYS_CONDITION), None)
            if code:
                conditions.append({"code": code})
    medications = [
        m.model_dump(mode="json")
        for _, r in entries
        if r.get("resourceType") == "MedicationStatement"
        and (m := medication_from_resource(r)) is not None
    ]
    birth = res.get("birthDate")
    data = {
        "id": pid,
        "name": name or None,
        "birth_date": birth if isinstance(birth, str) and len(birth) == 10 else None,
        "sex": _GENDER.get(res.get("gender") or "unknown", "unknown"),
        "conditions": conditions,
        "medications": medications,
    }
    return parse_model(Patient, data, prefix=f"entry[{i}].resource")


_KINDS = {"start", "increase", "maintain", "hold", "resume"}


def plan_from_medication_request(
    res: dict[str, Any], patient_id: str | None = None, evidence: Evidence | None = None
) -> Plan | None:
    """A core Plan rebuilt from any LDN MedicationRequest's dated Dosages (an EHR's or ours).

    Lets the response rules (`ldnkit.clinical.response`) judge a patient whose plan lives in
    the EHR. Dosages without a start date cannot be placed on a calendar: None is returned
    when no Dosage has one. Visits and compounding are not in an order and stay empty.
    """
    ev = evidence or default_evidence()
    raw = res.get("dosageInstruction") or []
    dosages = [d for d in (raw if isinstance(raw, list) else [raw]) if isinstance(d, dict)]
    rows = []
    for i, d in enumerate(dosages):
        seq, start, end, dose, when = schedule_row(d)
        if start is None or dose is None:
            continue
        kind = next(
            (
                c.get("code")
                for ai in d.get("additionalInstruction") or []
                for c in (ai.get("coding") or [])
                if c.get("system") == fc.SYS_STEP_KIND and c.get("code") in _KINDS
            ),
            None,
        )
        rows.append((seq if isinstance(seq, int) else i + 1, start, end, dose, when, kind, d))
    if not rows:
        return None
    rows.sort(key=lambda r: (r[1], r[0]))
    protocol_id = next(
        (
            u.removeprefix(fc.PROTOCOL_URI)
            for u in res.get("instantiatesUri") or []
            if isinstance(u, str) and u.startswith(fc.PROTOCOL_URI)
        ),
        None,
    )
    protocol = ev.protocols.get(protocol_id or "")
    sources = list(protocol.sources if protocol else ev.dosing.general.sources)
    steps: list[PlanStep] = []
    previous = Decimal(0)
    for i, (_, start, end, dose, when, kind, d) in enumerate(rows):
        nxt = rows[i + 1][1] - dt.timedelta(days=1) if i + 1 < len(rows) else None
        last = (
            end
            or nxt
            or start + dt.timedelta(days=int(ev.dosing.monitoring.adequate_trial_days.max))
        )
        if kind is None:
            if dose == 0:
                kind = "hold"
            elif i == 0:
                kind = "start"
            elif steps and steps[-1].kind == "hold":
                kind = "resume"
            else:
                kind = "increase" if dose > previous else "maintain"
        steps.append(
            PlanStep(
                index=i,
                kind=kind,
                start=start,
                end=max(last, start),
                dose_mg=dose,
                timing="morning" if when == "MORN" else "bedtime",
                note=str(d.get("text") or f"{dose} mg"),
                sources=sources,
            )
        )
        previous = dose if dose > 0 else previous
    top = max(s.dose_mg for s in steps)
    starts = [s.start for s in steps if s.kind in ("start", "increase")]
    interval = (
        (starts[1] - starts[0]).days
        if len(starts) > 1
        else (protocol.interval_days if protocol else 14)
    )
    return Plan(
        patient_id=patient_id,
        protocol_id=protocol.id if protocol else "ehr-order",
        protocol_name=protocol.name if protocol else "Order from the EHR",
        start=steps[0].start,
        target_mg=top,
        ceiling_mg=max(top, protocol.ceiling_mg) if protocol else top,
        interval_days=max(1, interval),
        steps=steps,
        visits=[],
        dispensing=[],
        sources=sources,
    )


#: Resources that carry one patient's data and must say whose it is.
_PATIENT_DATA = {
    "Observation": "subject",
    "Condition": "subject",
    "MedicationRequest": "subject",
    "MedicationStatement": "subject",
    "DocumentReference": "subject",
    "AllergyIntolerance": "patient",
}


def _patient_id_of(ref: str, by_url: Mapping[str, dict[str, Any]]) -> str:
    """The logical Patient id a reference points at (`Patient/7`, `{base}/Patient/7`, or the
    fullUrl of a Patient entry); any other reference is returned whole, so it never matches."""
    target = by_url.get(ref)
    if target is not None and target.get("resourceType") == "Patient":
        return str(target.get("id") or ref)
    parts = ref.split("?")[0].rstrip("/").split("/")
    if len(parts) >= 2 and parts[-2] == "Patient":
        return parts[-1]
    if len(parts) >= 4 and parts[-4] == "Patient" and parts[-2] == "_history":
        return parts[-3]
    return ref


def bundle_subjects(bundle: Any) -> set[str]:
    """The logical ids of every patient a Bundle's resources are about.

    A Patient resource counts by its id; patient data (Observations, Conditions, orders, the
    plan document) by the reference in `subject`/`patient`. Resources of those kinds without
    a reference are refused: data that does not say whose it is cannot be filed under anyone.
    """
    entries = _entries(bundle)
    by_url = {
        e["fullUrl"]: e["resource"]
        for e in bundle.get("entry") or []
        if isinstance(e, dict) and isinstance(e.get("fullUrl"), str)
    }
    out: set[str] = set()
    for i, res in entries:
        rtype = res.get("resourceType")
        if rtype == "Patient":
            if res.get("id"):
                out.add(str(res["id"]))
            continue
        key = _PATIENT_DATA.get(str(rtype))
        if key is None:
            continue
        ref = (res.get(key) or {}).get("reference") if isinstance(res.get(key), dict) else None
        if not isinstance(ref, str) or not ref:
            raise ValidationError(
                f"entry[{i}].resource.{key}", f"a {rtype} must name its patient to be imported"
            )
        out.add(_patient_id_of(ref, by_url))
    return out


def check_subject(
    bundle: Any, target_id: str, source_patient: str | None = None, plan: Plan | None = None
) -> None:
    """Refuse a Bundle about someone other than the patient it is imported into.

    Without `source_patient` the Bundle must be about `target_id` itself (an ldnkit export of
    the same record). Another system's ids differ, so the importer states the mapping
    explicitly: `source_patient` must then be the one patient the Bundle is about. The plan
    document's own patient id counts as a subject too.
    """
    subjects = bundle_subjects(bundle)
    if plan is not None and plan.patient_id is not None:
        subjects.add(plan.patient_id)
    if len(subjects) > 1:
        raise ValidationError(
            "subject", f"the Bundle is about several patients ({', '.join(sorted(subjects))})"
        )
    expected = target_id if source_patient is None else source_patient
    found = next(iter(subjects), None)
    if found is None or found == expected:
        return
    if source_patient is None:
        raise ValidationError(
            "subject",
            f"the Bundle is about Patient/{found}, not Patient/{target_id}; nothing was "
            f"imported (to file another system's record here, repeat with "
            f"?source_patient={found})",
        )
    raise ValidationError(
        "source_patient",
        f"source_patient={source_patient} but the Bundle is about Patient/{found}; "
        "nothing was imported",
    )


def ldn_orders(bundle: Any, evidence: Evidence | None = None) -> list[tuple[int, dict[str, Any]]]:
    """Naltrexone MedicationRequests in a Bundle (not naltrexone-bupropion), with entry index."""
    ev = evidence or default_evidence()
    out = []
    for i, res in _entries(bundle):
        if res.get("resourceType") != "MedicationRequest":
            continue
        concept = res.get("medicationCodeableConcept") or {}
        name = " ".join(
            [str(concept.get("text") or "")]
            + [str(c.get("display") or "") for c in concept.get("coding") or []]
        )
        if "naltrexone" in name.lower() and not is_naltrexone_bupropion(name, ev):
            out.append((i, res))
    return out


def order_plan(bundle: Any, patient_id: str, evidence: Evidence | None = None) -> Plan | None:
    """The plan of an active naltrexone MedicationRequest from another system, if any.

    A Bundle without our plan document may still carry an EHR's LDN order; it is imported as a
    plan (and so screened) rather than ignored, so an order cannot slip past screening.
    """
    for _, res in ldn_orders(bundle, evidence):
        if res.get("status") not in ("active", "draft", "on-hold"):
            continue
        plan = plan_from_medication_request(res, patient_id, evidence)
        if plan is not None:
            return plan
    return None
