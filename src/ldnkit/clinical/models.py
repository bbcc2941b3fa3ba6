"""Typed models of the clinical core.

Shells parse untrusted input (YAML, forms, JSON) into these models; `extra="forbid"` means an
unknown key is an error naming the key, not a silently ignored typo. Doses are `Decimal` mg.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Severity = Literal["info", "caution", "defer", "contraindicated"]
Status = Literal["eligible", "eligible_with_cautions", "not_yet", "contraindicated"]
Timing = Literal["bedtime", "morning"]
HepaticStatus = Literal[
    "normal", "unknown", "compensated_cirrhosis", "acute_hepatitis", "decompensated_cirrhosis"
]
PregnancyStatus = Literal["not_pregnant", "pregnant", "planning", "not_applicable"]
RenalStatus = Literal["normal", "unknown", "mild", "moderate", "severe", "dialysis"]
NaloxoneChallenge = Literal["not_done", "negative", "positive"]


def fmt_mg(dose: Decimal) -> str:
    """A dose as a clinician writes it: 3 mg, 1.5 mg, 10 mg (never 3.0 or 1E+1)."""
    text = format(dose, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Coding(_Model):
    """A code for a medication (ATC, RxNorm, SNOMED CT...), as FHIR carries it.

    `system` is the code system URI (e.g. `http://www.whocc.no/atc`) or a short name
    (`atc`, `rxnorm`); `display` is the coding's own text, read when the code is unknown.
    """

    system: str = Field(min_length=1)
    code: str = Field(min_length=1)
    display: str | None = None


class Medication(_Model):
    """A current or recent medication, as the chart writes it.

    Recognition (`ldnkit.clinical.medications`) reads `codes` first and the free-text `name`
    second; for a depot product `last_dose` is the last injection (or implant removal).
    """

    name: str = Field(min_length=1)
    dose_mg: Decimal | None = Field(default=None, ge=0)
    active: bool = True
    last_dose: date | None = None
    codes: tuple[Coding, ...] = ()


class ConditionEntry(_Model):
    """A diagnosis; `code` matches a condition id in the evidence base (e.g. `fibromyalgia`)."""

    code: str = Field(min_length=1)
    pain_type: Literal["neuropathic", "musculoskeletal", "nociplastic", "inflammatory"] | None = (
        None
    )


class PriorTherapy(_Model):
    """A therapy already tried, so screening can tell whether first-line options are exhausted."""

    name: str = Field(min_length=1)
    outcome: Literal["inadequate", "not_tolerated", "contraindicated", "partial", "ongoing"] = (
        "inadequate"
    )


class PlannedProcedure(_Model):
    name: str = Field(min_length=1)
    date: date
    opioids_expected: bool = True


class ClinicianOverride(_Model):
    """A clinician's recorded decision to treat outside the evidence, and why.

    Given as text it is the reason alone; the reason must say something (10+ characters), so a
    bare "ok" never turns a refusal into a plan.
    """

    reason: str = Field(min_length=10, max_length=500)
    clinician: str | None = Field(default=None, max_length=200)
    recorded_on: date | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: object) -> object:
        return {"reason": value} if isinstance(value, str) else value


class Patient(_Model):
    """Everything screening and planning need to know about one patient."""

    id: str = Field(min_length=1, max_length=64)
    name: str | None = None
    birth_date: date | None = None
    sex: Literal["female", "male", "other", "unknown"] = "unknown"
    weight_kg: Decimal | None = Field(default=None, gt=0, le=400)
    conditions: list[ConditionEntry] = Field(default_factory=list)
    medications: list[Medication] = Field(default_factory=list)
    opioid_use_disorder_history: bool = False
    naloxone_challenge: NaloxoneChallenge = "not_done"
    hepatic_status: HepaticStatus = "normal"
    pregnancy: PregnancyStatus = "not_applicable"
    breastfeeding: bool = False
    renal_status: RenalStatus = "normal"
    #: Under 18 lies outside the LDN evidence (trials enrolled adults); a plan for a child needs
    #: the treating clinician's recorded reason here, never a silent adult plan.
    paediatric_override: ClinicianOverride | None = None
    allergies: list[str] = Field(default_factory=list)
    prior_therapies: list[PriorTherapy] = Field(default_factory=list)
    planned_procedures: list[PlannedProcedure] = Field(default_factory=list)

    @field_validator("allergies")
    @classmethod
    def _allergies_nonempty(cls, value: list[str]) -> list[str]:
        if any(not a.strip() for a in value):
            raise ValueError("allergy names must not be empty")
        return value


class Finding(_Model):
    """One screening result: what, how serious, why, and who says so."""

    code: str
    severity: Severity
    title: str
    message: str
    sources: list[str] = Field(min_length=1)
    earliest_start: date | None = None


class Assessment(_Model):
    """The outcome of screening one patient on one date."""

    patient_id: str
    on: date
    status: Status
    earliest_start: date | None = None
    findings: list[Finding]

    @property
    def may_start_on(self) -> date | None:
        """The first date a plan may start, or None when LDN is contraindicated."""
        if self.status == "contraindicated":
            return None
        return self.earliest_start or self.on


class PlanOptions(_Model):
    """What a clinician may change in a protocol; `None` keeps the protocol's default."""

    start_mg: Decimal | None = Field(default=None, gt=0)
    step_mg: Decimal | None = Field(default=None, gt=0)
    interval_days: int | None = Field(default=None, gt=0)
    target_mg: Decimal | None = Field(default=None, gt=0)
    ceiling_mg: Decimal | None = Field(default=None, gt=0)
    timing: Timing | None = None
    follow_up_days: int | None = Field(default=None, gt=0)
    review_after_days: int | None = Field(default=None, gt=0)
    surgery_date: date | None = None
    surgery_hold_days: int | None = Field(default=None, gt=0)
    post_surgery_opioid_days: int = Field(default=3, ge=0, le=90)
    capsule_strengths_mg: list[Decimal] | None = None
    liquid_mg_per_ml: Decimal | None = Field(default=None, gt=0)
    #: Revise a running plan from the dose the patient is on (replaces `start_mg` and the
    #: protocol's starting range; still bounded by the ceiling).
    continue_from_mg: Decimal | None = Field(default=None, gt=0, le=50, decimal_places=3)
    #: The lowest dose found intolerable (and not overridden): the ladder stops below it.
    intolerable_from_mg: Decimal | None = Field(default=None, gt=0, le=50, decimal_places=3)

    @field_validator("capsule_strengths_mg")
    @classmethod
    def _positive_strengths(cls, value: list[Decimal] | None) -> list[Decimal] | None:
        if value is not None:
            if not value:
                raise ValueError("give at least one capsule strength")
            if any(v <= 0 for v in value):
                raise ValueError("capsule strengths must be positive")
        return value

    @model_validator(mode="after")
    def _one_formulation(self) -> PlanOptions:
        if self.capsule_strengths_mg is not None and self.liquid_mg_per_ml is not None:
            raise ValueError("choose capsules or liquid, not both")
        return self


class PlanStep(_Model):
    """A dated period at one dose. `dose_mg` is 0 during a perioperative hold."""

    index: int
    kind: Literal["start", "increase", "maintain", "hold", "resume"]
    start: date
    end: date
    dose_mg: Decimal
    timing: Timing
    note: str
    sources: list[str] = Field(min_length=1)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


class Visit(_Model):
    kind: Literal["follow_up", "efficacy_review", "pre_operative_hold", "restart_check"]
    date: date
    window_start: date
    window_end: date
    note: str
    sources: list[str] = Field(min_length=1)


class DispenseLine(_Model):
    """What the pharmacy compounds for one step."""

    step_index: int
    dose_mg: Decimal
    days: int
    form: Literal["capsule", "liquid"]
    strength_mg: Decimal | None = None
    units_per_dose: int | None = None
    quantity: int | None = None
    mg_per_ml: Decimal | None = None
    ml_per_dose: Decimal | None = None
    total_ml: Decimal | None = None


class Plan(_Model):
    """A dated, personalised titration plan."""

    patient_id: str | None
    protocol_id: str
    protocol_name: str
    start: date
    target_mg: Decimal
    ceiling_mg: Decimal
    interval_days: int
    steps: list[PlanStep]
    visits: list[Visit]
    dispensing: list[DispenseLine]
    sources: list[str]

    @property
    def end(self) -> date:
        return self.steps[-1].end

    def dose_on(self, day: date) -> Decimal | None:
        """The planned dose on `day`, or None outside the plan."""
        for step in self.steps:
            if step.start <= day <= step.end:
                return step.dose_mg
        return None

    def step_on(self, day: date) -> PlanStep | None:
        for step in self.steps:
            if step.start <= day <= step.end:
                return step
        return None
