"""The pure clinical core: typed models, screening, titration, response-guided advice.

Nothing here does I/O or reads the clock: dates are inputs, the evidence base is an argument
(defaulting to the bundled one), and results are plain typed values a shell can render or store.

Where each name lives (one job per module):

- `models`: Patient, Medication, Plan, Assessment, Finding ... (the typed values);
- `screening`: `screen` (eligibility and contraindications -> Assessment);
- `titration`: `titration_plan`, `plan_for_patient` (dose schedules, visits);
- `compounding`: `dispensing` (what the pharmacy makes);
- `plan_safety`: `require_startable`, `check_plan_doses` (refusals before a plan is used);
- `diary`: `DiaryEntry`, `validate_diary_entry` (one day's record);
- `history`: `dosing_history`, `plan_in_force` (what was taken and tolerated);
- `response`: `advise`, `responder_status` (response-guided advice);
- `outcomes`: `patient_outcomes` (responder status and trends for review).
"""

from ldnkit.clinical.compounding import dispensing
from ldnkit.clinical.diary import DiaryEntry, SideEffectReport, validate_diary_entry
from ldnkit.clinical.history import DoseOverride, DosingHistory, dosing_history, plan_in_force
from ldnkit.clinical.models import (
    Assessment,
    ClinicianOverride,
    ConditionEntry,
    DispenseLine,
    Finding,
    Medication,
    Patient,
    Plan,
    PlannedProcedure,
    PlanOptions,
    PlanStep,
    PriorTherapy,
    Visit,
    fmt_mg,
)
from ldnkit.clinical.outcomes import PatientOutcome, ResponseThresholds, patient_outcomes
from ldnkit.clinical.plan_safety import check_plan_doses, require_startable
from ldnkit.clinical.response import (
    Advice,
    ResponderStatus,
    ResponseRules,
    advise,
    responder_status,
    response_rules,
)
from ldnkit.clinical.screening import screen
from ldnkit.clinical.titration import (
    default_protocol_for,
    dose_ladder,
    plan_for_patient,
    titration_plan,
)

__all__ = [
    "Advice",
    "Assessment",
    "ClinicianOverride",
    "ConditionEntry",
    "DiaryEntry",
    "DispenseLine",
    "DoseOverride",
    "DosingHistory",
    "Finding",
    "Medication",
    "Patient",
    "PatientOutcome",
    "Plan",
    "PlanOptions",
    "PlanStep",
    "PlannedProcedure",
    "PriorTherapy",
    "ResponderStatus",
    "ResponseRules",
    "ResponseThresholds",
    "SideEffectReport",
    "Visit",
    "advise",
    "check_plan_doses",
    "default_protocol_for",
    "dispensing",
    "dose_ladder",
    "dosing_history",
    "fmt_mg",
    "patient_outcomes",
    "plan_for_patient",
    "plan_in_force",
    "require_startable",
    "responder_status",
    "response_rules",
    "screen",
    "titration_plan",
    "validate_diary_entry",
]
