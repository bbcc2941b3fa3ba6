"""The rules every plan obeys before it is stored, whoever wrote it.

`plan_for_patient` builds plans here; an import (a FHIR Bundle's plan document or an EHR's
MedicationRequest) brings plans written elsewhere. Both pass through `require_startable`, so a
plan for a patient whose screening says "not yet" or "contraindicated" is refused the same way
(a typed `UnsafeToStart` naming the findings), and an imported plan is also held to the dose
limits the titration code enforces when it builds one.
"""

from __future__ import annotations

from datetime import date

from ldnkit.clinical.models import Assessment, Patient, Plan, fmt_mg
from ldnkit.clinical.screening import screen
from ldnkit.errors import ImpossibleInput, UnsafeToStart
from ldnkit.evidence import Evidence, default_evidence


def require_startable(assessment: Assessment, start: date) -> None:
    """Raise `UnsafeToStart` unless screening allows a first dose on `start`.

    An impossible birth date is raised as `ImpossibleInput` (also an `UnsafeToStart`) naming
    `birth_date`, because it is a typing error to correct, not a clinical finding to weigh.
    """
    for f in assessment.findings:
        if f.code == "BIRTH_DATE_AFTER_START":
            raise ImpossibleInput("birth_date", f.message)
    if assessment.status == "contraindicated":
        codes = ", ".join(
            f"{f.code} ({f.title})" for f in assessment.findings if f.severity == "contraindicated"
        )
        raise UnsafeToStart(f"LDN is contraindicated for patient {assessment.patient_id}: {codes}")
    if assessment.status == "not_yet":
        when = assessment.earliest_start
        codes = ", ".join(f.code for f in assessment.findings if f.severity == "defer")
        hint = (
            f"; earliest safe start {when}"
            if when
            else "; no safe date can be given until the missing date is recorded"
        )
        raise UnsafeToStart(f"not yet safe to start on {start} ({codes}){hint}", when)


def check_plan_doses(plan: Plan, evidence: Evidence | None = None) -> None:
    """Refuse a plan whose doses leave LDN: a step above its own ceiling, or a ceiling above
    the published LDN maximum (a standard-dose order is not an LDN plan)."""
    ev = evidence or default_evidence()
    maximum = ev.dosing.general.maximum_mg.max
    if plan.ceiling_mg > maximum:
        raise UnsafeToStart(
            f"plan ceiling {fmt_mg(plan.ceiling_mg)} mg is above the LDN maximum "
            f"{fmt_mg(maximum)} mg"
        )
    for step in plan.steps:
        if step.dose_mg > plan.ceiling_mg or step.dose_mg > maximum:
            raise UnsafeToStart(
                f"plan step {step.index + 1} ({step.start}) gives {fmt_mg(step.dose_mg)} mg, "
                f"above the ceiling {fmt_mg(min(plan.ceiling_mg, maximum))} mg"
            )


def check_imported_plan(
    patient: Patient, plan: Plan, today: date, evidence: Evidence | None = None
) -> Assessment:
    """Screen `patient` for a plan written elsewhere and check its doses; the assessment or
    `UnsafeToStart`.

    Screening runs on the later of the plan's start and `today`: a plan that began in the past
    is followed from today, so today's facts (a new opioid, a washout) must allow it.
    """
    ev = evidence or default_evidence()
    check_plan_doses(plan, ev)
    on = max(plan.start, today)
    assessment = screen(patient, on, ev)
    require_startable(assessment, on)
    return assessment


__all__ = ["check_imported_plan", "check_plan_doses", "require_startable"]
