"""Is LDN appropriate for this patient, on this date?

The rules' wording, severity and sources live in `screening.yaml`; this module only decides
which rules fire and fills in the patient's specifics. The overall status follows the worst
finding: contraindicated > not yet (with the earliest safe start) > cautions > eligible.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from ldnkit.clinical.medications import Recognition, Washout, recogniser
from ldnkit.clinical.models import Assessment, Finding, Medication, Patient, Status
from ldnkit.evidence import Evidence, default_evidence

_NALTREXONE_ALLERGENS = ("naltrexone", "ldn", "low-dose naltrexone", "low dose naltrexone")


def _finding(
    ev: Evidence,
    code: str,
    earliest_start: date | None = None,
    extra_sources: tuple[str, ...] = (),
    **values: Any,
) -> Finding:
    return _cached_finding(ev, code, earliest_start, extra_sources, tuple(sorted(values.items())))


@lru_cache(maxsize=8192)
def _cached_finding(
    ev: Evidence,
    code: str,
    earliest_start: date | None,
    extra_sources: tuple[str, ...],
    values: tuple[tuple[str, Any], ...],
) -> Finding:
    """Findings are immutable, so identical ones (same rule, same specifics) are shared.

    `extra_sources` adds what the specifics rest on (a drug class, a depot label) after the
    rule's own sources."""
    rule = ev.rule(code)
    return Finding(
        code=code,
        severity=rule.severity,
        title=rule.title,
        message=rule.message.format(**dict(values)),
        sources=list(dict.fromkeys([*rule.sources, *extra_sources])),
        earliest_start=earliest_start,
    )


def _unrecognised_why(rec: Recognition) -> str:
    if rec.ambiguous:
        return "spelling unclear (" + "; ".join(rec.ambiguous) + ")"
    if rec.ingredients:
        named = ", ".join(i.id for i in rec.ingredients)
        return f"recognised {named} but not '{' '.join(rec.unknown)}'"
    return "not in the medication vocabulary"


def _medication_findings(patient: Patient, on: date, ev: Evidence) -> list[Finding]:
    """Every medication line, recognised from its codes and text (`clinical.medications`).

    Opioids (active, washing out, unknown last dose, with each product's own window: depots
    count from the last injection), naltrexone products that are not LDN, peripherally acting
    opioids, and, never silently dropped, anything the vocabulary cannot read.
    """
    rec_of = recogniser(ev)
    ldn_max = ev.dosing.general.maximum_mg.max
    out: list[Finding] = []
    for med in patient.medications:
        rec = rec_of.medication(med.name, med.codes)
        opioids = rec.opioids
        if opioids:
            out.append(_opioid_finding(ev, med, rec, on))
            continue
        if rec.has_naltrexone:
            found = _naltrexone_finding(ev, med, rec, on, ldn_max)
            if found is not None:
                out.append(found)
            if rec.recognised:
                continue
            # "LDN/xyz": the naltrexone is read, the rest is not, and the rest may be an opioid.
        if not rec.recognised:
            if not rec.ingredients and rec_of.says_nothing(med.name):
                continue  # "none", "no current medications": nothing to screen
            # A stopped medicine matters only while it could still be inside a window.
            longest = max(w.max_days for w in rec_of.washouts.values())
            if med.active or med.last_dose is None or on < med.last_dose + timedelta(longest):
                out.append(
                    _finding(
                        ev, "UNRECOGNISED_MEDICATION", drug=med.name, why=_unrecognised_why(rec)
                    )
                )
            continue
        if rec.peripheral and med.active:
            out.append(
                _finding(
                    ev,
                    "PERIPHERAL_OPIOID",
                    extra_sources=rec.sources,
                    drug=med.name,
                    what=rec.describe(rec.peripheral),
                )
            )
    return out


def _days(w: Washout) -> str:
    """A window as published: a range stays a range (7-10), a single figure stays single."""
    return str(w.max_days) if w.min_days == w.max_days else f"{w.min_days}-{w.max_days}"


def _opioid_finding(ev: Evidence, med: Medication, rec: Recognition, on: date) -> Finding:
    washout = rec.washout or recogniser(ev).washouts["standard"]
    what = rec.opioid_summary
    sources = rec.opioid_sources
    if med.active:
        return _finding(ev, "ACTIVE_OPIOID", extra_sources=sources, drug=med.name, what=what)
    if med.last_dose is None:
        return _finding(
            ev,
            "OPIOID_LAST_DOSE_UNKNOWN",
            extra_sources=sources,
            drug=med.name,
            what=what,
            days=_days(washout),
        )
    earliest = med.last_dose + timedelta(days=washout.max_days)
    if on < earliest:
        return _finding(
            ev,
            "OPIOID_WASHOUT",
            earliest_start=earliest,
            extra_sources=sources,
            drug=med.name,
            what=what,
            basis=washout.basis,
            last_dose=med.last_dose.isoformat(),
            days=_days(washout),
            earliest=earliest.isoformat(),
        )
    return _finding(
        ev,
        "OPIOID_WASHOUT_COMPLETE",
        extra_sources=sources,
        drug=med.name,
        what=what,
        last_dose=med.last_dose.isoformat(),
        max_days=washout.max_days,
    )


def _naltrexone_finding(
    ev: Evidence, med: Medication, rec: Recognition, on: date, ldn_max: Decimal
) -> Finding | None:
    """Naltrexone that is not LDN: the combination, a depot, a standard dose, or unknown."""
    sources = rec.sources
    if rec.form == "naltrexone_bupropion":
        if not med.active:
            return None
        return _finding(ev, "NALTREXONE_BUPROPION", extra_sources=sources, drug=med.name)
    if rec.form == "naltrexone_depot":
        window = rec.washout or recogniser(ev).washouts["naltrexone_depot"]
        if med.active:
            return _finding(ev, "NALTREXONE_DEPOT", extra_sources=sources, drug=med.name)
        if med.last_dose is None:
            return _finding(
                ev,
                "NALTREXONE_DEPOT_DATE_UNKNOWN",
                extra_sources=sources,
                drug=med.name,
                days=_days(window),
            )
        earliest = med.last_dose + timedelta(days=window.max_days)
        if on >= earliest:
            return None
        return _finding(
            ev,
            "NALTREXONE_DEPOT_WASHOUT",
            earliest_start=earliest,
            extra_sources=sources,
            drug=med.name,
            last_dose=med.last_dose.isoformat(),
            days=_days(window),
            earliest=earliest.isoformat(),
        )
    if not med.active:
        return None
    dose = med.dose_mg if med.dose_mg is not None else rec.strength_mg
    if (dose is not None and dose > ldn_max) or rec.form == "standard_naltrexone":
        shown = f"{dose} mg" if dose is not None else "standard strength"
        return _finding(
            ev, "STANDARD_DOSE_NALTREXONE", extra_sources=sources, drug=med.name, dose=shown
        )
    if dose is None and rec.form != "ldn":
        return _finding(
            ev, "NALTREXONE_DOSE_UNKNOWN", extra_sources=sources, drug=med.name, ldn_max=ldn_max
        )
    return None


def _occult_dependence_reason(patient: Patient, ev: Evidence) -> str | None:
    """Why occult opioid dependence is possible, or None when nothing suggests it."""
    if patient.opioid_use_disorder_history:
        return "history of opioid use disorder"
    rec_of = recogniser(ev)
    past = [m.name for m in patient.medications if rec_of.medication(m.name, m.codes).opioids]
    if past:
        return f"recent opioid use ({', '.join(past)})"
    return None


def _first_line_findings(patient: Patient, on: date, ev: Evidence) -> list[Finding]:
    out: list[Finding] = []
    tried_names = [t.name.lower() for t in patient.prior_therapies]
    seen: set[str] = set()
    for entry in patient.conditions:
        condition = ev.condition(entry.code)
        pain_type_id = entry.pain_type or (condition.pain_type if condition else None)
        if condition is None:
            out.append(_finding(ev, "NO_PROTOCOL_FOR_CONDITION", condition=entry.code))
        if pain_type_id is None or pain_type_id in seen:
            continue
        seen.add(pain_type_id)
        pain_type = ev.pain_type(pain_type_id)
        if pain_type is None or not pain_type.first_line:
            continue
        tried, untried = [], []
        for therapy in pain_type.first_line:
            hit = any(member in name for member in therapy.members for name in tried_names)
            (tried if hit else untried).append(therapy.name)
        if untried and not tried:
            out.append(
                _finding(
                    ev, "FIRST_LINE_NOT_TRIED", pain_type=pain_type.name, untried=", ".join(untried)
                )
            )
        elif untried:
            out.append(
                _finding(
                    ev,
                    "FIRST_LINE_PARTLY_TRIED",
                    pain_type=pain_type.name,
                    tried=", ".join(tried),
                    untried=", ".join(untried),
                )
            )
    return out


def _age_on(birth: date, on: date) -> int:
    """Completed years on `on` (a birthday counts from its own day)."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _birthday(birth: date, years: int) -> date:
    """The date of the `years`-th birthday; 29 February falls on 1 March in common years."""
    try:
        return birth.replace(year=birth.year + years)
    except ValueError:
        return date(birth.year + years, 3, 1)


#: Adult from this age: the naltrexone label gives no paediatric dosing and the LDN trials
#: enrolled adults (seed 000's crossover protocol: 18-65).
ADULT_AGE = 18
TRIAL_MAX_AGE = 65


def _age_findings(patient: Patient, on: date, ev: Evidence) -> list[Finding]:
    """Age on the screening date: a birth date after it is an input error; under 18 needs an
    explicit clinician override (a finding either way), never a silent adult plan."""
    birth = patient.birth_date
    if birth is None:
        # Residual risk (docs/safety.md H-06): no age, no age finding; the shells ask for it.
        return []
    if birth > on:
        return [
            _finding(ev, "BIRTH_DATE_AFTER_START", birth_date=birth.isoformat(), on=on.isoformat())
        ]
    age = _age_on(birth, on)
    if age < ADULT_AGE:
        override = patient.paediatric_override
        if override is not None:
            by = f" ({override.clinician})" if override.clinician else ""
            return [
                _finding(
                    ev,
                    "PAEDIATRIC_OVERRIDE",
                    age=age,
                    on=on.isoformat(),
                    reason=f"{override.reason}{by}",
                )
            ]
        return [
            _finding(
                ev,
                "PAEDIATRIC",
                age=age,
                on=on.isoformat(),
                adult_on=_birthday(birth, ADULT_AGE).isoformat(),
            )
        ]
    if age > TRIAL_MAX_AGE:
        return [_finding(ev, "AGE_ABOVE_TRIAL_RANGE", age=age)]
    return []


_RENAL_LABEL = {
    "mild": "Mild",
    "moderate": "Moderate",
    "severe": "Severe",
    "dialysis": "Dialysis-dependent",
}


def _renal_findings(patient: Patient, on: date, ev: Evidence) -> list[Finding]:
    """Renal impairment is a label caution (renal excretion of naltrexone and its metabolite)."""
    status = patient.renal_status
    if status in _RENAL_LABEL:
        return [_finding(ev, "RENAL_IMPAIRMENT", status=_RENAL_LABEL[status])]
    if status == "unknown":
        return [_finding(ev, "RENAL_STATUS_UNKNOWN")]
    return []


def _lactation_findings(patient: Patient, on: date, ev: Evidence) -> list[Finding]:
    """Breastfeeding: label caution in nursing women, LactMed's low milk transfer."""
    return [_finding(ev, "BREASTFEEDING")] if patient.breastfeeding else []


def _earliest_start(findings: list[Finding]) -> date | None:
    """The first date every deferring finding allows: the latest of their dates, or None when
    any of them has no date (an opioid stopped on an unknown day), because then no date is safe.
    """
    dates = [f.earliest_start for f in findings if f.severity == "defer"]
    if not dates or any(d is None for d in dates):
        return None
    return max(d for d in dates if d is not None)


def _status(findings: list[Finding]) -> tuple[Status, date | None]:
    severities = {f.severity for f in findings}
    if "contraindicated" in severities:
        return "contraindicated", None
    if "defer" in severities:
        return "not_yet", _earliest_start(findings)
    if "caution" in severities:
        return "eligible_with_cautions", None
    return "eligible", None


def _naloxone_findings(patient: Patient, on: date, ev: Evidence) -> list[Finding]:
    """Occult opioid dependence: a naloxone challenge before the first dose, or its result."""
    reason = _occult_dependence_reason(patient, ev)
    if patient.naloxone_challenge == "positive":
        return [_finding(ev, "NALOXONE_CHALLENGE_POSITIVE")]
    if reason is not None and patient.naloxone_challenge == "not_done":
        return [_finding(ev, "NALOXONE_CHALLENGE", why=reason)]
    return []


def _hepatic_findings(patient: Patient, on: date, ev: Evidence) -> list[Finding]:
    label = patient.hepatic_status.replace("_", " ").capitalize()
    if patient.hepatic_status in ("acute_hepatitis", "decompensated_cirrhosis"):
        return [_finding(ev, "HEPATIC_CONTRAINDICATION", status=label)]
    if patient.hepatic_status == "compensated_cirrhosis":
        return [_finding(ev, "HEPATIC_CAUTION", status=label)]
    return []


def _allergy_findings(patient: Patient, on: date, ev: Evidence) -> list[Finding]:
    return [
        _finding(ev, "ALLERGY", allergen=allergen)
        for allergen in patient.allergies
        if any(word in allergen.lower() for word in _NALTREXONE_ALLERGENS)
    ]


def _pregnancy_findings(patient: Patient, on: date, ev: Evidence) -> list[Finding]:
    if patient.pregnancy == "pregnant":
        return [_finding(ev, "PREGNANCY")]
    if patient.pregnancy == "planning":
        return [_finding(ev, "PLANNED_PREGNANCY")]
    return []


def _surgery_findings(patient: Patient, on: date, ev: Evidence) -> list[Finding]:
    hold = ev.dosing.safety.perioperative_hold_days
    return [
        _finding(
            ev,
            "SURGERY_HOLD",
            procedure=proc.name,
            date=proc.date.isoformat(),
            min_days=int(hold.min),
            max_days=int(hold.max),
            hold_from=(proc.date - timedelta(days=int(hold.max))).isoformat(),
        )
        for proc in patient.planned_procedures
        if proc.opioids_expected and proc.date >= on
    ]


def _always_findings(patient: Patient, on: date, ev: Evidence) -> list[Finding]:
    """What every patient is told: LDN is not a monotherapy; carry an ID card."""
    return [_finding(ev, "NOT_MONOTHERAPY"), _finding(ev, "ID_CARD")]


Run = Callable[[Patient, date, Evidence], list[Finding]]


@dataclass(frozen=True)
class Check:
    """One screening question, the function that answers it and the rule codes it can raise.

    `question` names thresholds from the evidence (`{opioid_free_min}` ...), filled in by
    `check_values`, so the decision diagram drawn from `CHECKS` changes when the data do.
    """

    id: str
    question: str
    codes: tuple[str, ...]
    run: Run

    def ask(self, evidence: Evidence | None = None) -> str:
        return self.question.format(**check_values(evidence or default_evidence()))


def check_values(ev: Evidence) -> dict[str, object]:
    """The thresholds the screening questions name, from the evidence base."""
    safety = ev.dosing.safety
    return {
        "opioid_free_min": int(safety.opioid_free_days.min),
        "opioid_free_max": int(safety.opioid_free_days.max),
        "long_acting_days": safety.long_acting_opioid_free_days,
        "hold_min": int(safety.perioperative_hold_days.min),
        "hold_max": int(safety.perioperative_hold_days.max),
        "ldn_max": format(ev.dosing.general.maximum_mg.max, "f").rstrip("0").rstrip("."),
        "adult_age": ADULT_AGE,
        "trial_max_age": TRIAL_MAX_AGE,
    }


#: The screening, in order; every finding comes from exactly one check (tested).
CHECKS: tuple[Check, ...] = (
    Check(
        "medications",
        "Every medication recognised? Opioid or non-LDN naltrexone? Opioid-free "
        "{opioid_free_min}-{opioid_free_max} days ({long_acting_days} for long-acting; depots "
        "their own window)?",
        (
            "ACTIVE_OPIOID",
            "OPIOID_WASHOUT",
            "OPIOID_WASHOUT_COMPLETE",
            "OPIOID_LAST_DOSE_UNKNOWN",
            "NALTREXONE_BUPROPION",
            "STANDARD_DOSE_NALTREXONE",
            "NALTREXONE_DOSE_UNKNOWN",
            "NALTREXONE_DEPOT",
            "NALTREXONE_DEPOT_WASHOUT",
            "NALTREXONE_DEPOT_DATE_UNKNOWN",
            "PERIPHERAL_OPIOID",
            "UNRECOGNISED_MEDICATION",
        ),
        _medication_findings,
    ),
    Check(
        "naloxone",
        "Occult opioid dependence possible? Naloxone challenge done?",
        ("NALOXONE_CHALLENGE", "NALOXONE_CHALLENGE_POSITIVE"),
        _naloxone_findings,
    ),
    Check(
        "hepatic",
        "Acute hepatitis or liver failure? Cirrhosis?",
        ("HEPATIC_CONTRAINDICATION", "HEPATIC_CAUTION"),
        _hepatic_findings,
    ),
    Check("allergy", "Allergy to naltrexone?", ("ALLERGY",), _allergy_findings),
    Check(
        "pregnancy",
        "Pregnant or planning pregnancy?",
        ("PREGNANCY", "PLANNED_PREGNANCY"),
        _pregnancy_findings,
    ),
    Check(
        "surgery",
        "Surgery with opioids planned? (hold {hold_min}-{hold_max} days before)",
        ("SURGERY_HOLD",),
        _surgery_findings,
    ),
    Check(
        "age",
        "Age {adult_age} or over on the start date? (trials enrolled up to {trial_max_age})",
        ("BIRTH_DATE_AFTER_START", "PAEDIATRIC", "PAEDIATRIC_OVERRIDE", "AGE_ABOVE_TRIAL_RANGE"),
        _age_findings,
    ),
    Check(
        "renal",
        "Renal impairment?",
        ("RENAL_IMPAIRMENT", "RENAL_STATUS_UNKNOWN"),
        _renal_findings,
    ),
    Check("lactation", "Breastfeeding?", ("BREASTFEEDING",), _lactation_findings),
    Check(
        "first_line",
        "First-line therapies for the pain type tried? Protocol for the condition?",
        ("NO_PROTOCOL_FOR_CONDITION", "FIRST_LINE_NOT_TRIED", "FIRST_LINE_PARTLY_TRIED"),
        _first_line_findings,
    ),
    Check(
        "always",
        "Every patient: LDN with other therapies; carry an ID card",
        ("NOT_MONOTHERAPY", "ID_CARD"),
        _always_findings,
    ),
)


def screen(patient: Patient, on: date, evidence: Evidence | None = None) -> Assessment:
    """Screen `patient` for starting LDN on `on`; every finding cites its sources.

    `not_yet` carries the earliest safe start date when one can be computed; an opioid stopped
    on an unknown date gives `not_yet` without a date until the date is recorded.
    """
    ev = evidence or default_evidence()
    findings = [f for check in CHECKS for f in check.run(patient, on, ev)]
    status, earliest = _status(findings)
    return Assessment(
        patient_id=patient.id, on=on, status=status, earliest_start=earliest, findings=findings
    )


def is_low_dose(dose_mg: Decimal, evidence: Evidence | None = None) -> bool:
    """True when a naltrexone dose lies at or below the published LDN maximum."""
    ev = evidence or default_evidence()
    return Decimal(0) < dose_mg <= ev.dosing.general.maximum_mg.max
