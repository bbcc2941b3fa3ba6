"""Typed records of the evidence base.

Each YAML file in `data/` is parsed into these pydantic models, so a typo in a key, a dose in
the wrong unit or a range upside down fails when the evidence is loaded, not when a patient
is screened. Doses are `Decimal` so 4.5 mg never prints as 4.499999.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Severity = Literal["info", "caution", "defer", "contraindicated"]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Reference(_Record):
    """A citable source: seed document, paper, label, registry entry or guideline."""

    id: str
    kind: Literal["seed", "paper", "review", "label", "registry", "guideline", "web"]
    title: str
    authors: str | None = None
    year: int | None = None
    venue: str | None = None
    identifier: str | None = None
    url: str | None = None
    note: str | None = None
    verified: str | None = None

    def citation(self) -> str:
        """Short human-readable citation, as shown in tables and card links."""
        parts = [self.authors or "", f"({self.year})" if self.year else "", self.title]
        tail = ", ".join(p for p in (self.venue, self.identifier) if p)
        text = " ".join(p for p in parts if p)
        return f"{text}. {tail}" if tail else text


class DoseRange(_Record):
    """An inclusive range in mg (or days, or percent): published ranges stay ranges."""

    min: Decimal
    max: Decimal

    @model_validator(mode="after")
    def _ordered(self) -> DoseRange:
        if self.min < 0:
            raise ValueError(f"range minimum {self.min} is negative")
        if self.min > self.max:
            raise ValueError(f"range minimum {self.min} exceeds maximum {self.max}")
        return self

    def contains(self, value: Decimal | int) -> bool:
        return self.min <= Decimal(value) <= self.max

    def __str__(self) -> str:
        return f"{_fmt(self.min)}" if self.min == self.max else f"{_fmt(self.min)}-{_fmt(self.max)}"


def _fmt(value: Decimal) -> str:
    return format(value.normalize(), "f")


class Sourced(_Record):
    sources: list[str] = Field(min_length=1)


class LdnDefinition(Sourced):
    dose_mg: DoseRange
    standard_dose_mg: Decimal
    fraction_of_standard: Decimal
    very_low_dose_floor_mg: Decimal


class GeneralDosing(Sourced):
    start_mg: DoseRange
    step_mg: DoseRange
    interval_days: DoseRange
    target_mg: DoseRange
    maximum_mg: DoseRange
    timing: Literal["bedtime", "morning"]


class PersonalisedDosing(Sourced):
    start_mg: DoseRange
    sensitive_start_mg: Decimal
    step_mg: DoseRange
    interval_days: DoseRange
    effective_dose_mg: DoseRange
    stop_rule: str
    fixed_dose_warning: str


class Monitoring(_Record):
    follow_up_days: DoseRange
    follow_up_sources: list[str]
    adequate_trial_days: DoseRange
    adequate_trial_sources: list[str]
    response_goal_percent: DoseRange
    response_goal_sources: list[str]
    clinically_important_percent: Decimal
    clinically_important_points: Decimal
    clinically_important_sources: list[str]


class Safety(_Record):
    opioid_free_days: DoseRange
    long_acting_opioid_free_days: int
    opioid_free_sources: list[str]
    perioperative_hold_days: DoseRange
    perioperative_sources: list[str]


class Dosing(_Record):
    version: int
    ldn_definition: LdnDefinition
    general: GeneralDosing
    personalised: PersonalisedDosing
    monitoring: Monitoring
    safety: Safety


class ProtocolOptions(_Record):
    """What a clinician may change in a protocol, and within which bounds."""

    start_mg: DoseRange
    step_mg: DoseRange
    interval_days: list[int] = Field(min_length=1)
    target_mg: DoseRange
    ceiling_mg: DoseRange


class Protocol(Sourced):
    """A titration protocol: defaults chosen explicitly inside the published ranges."""

    id: str
    name: str
    start_mg: Decimal = Field(gt=0)
    step_mg: Decimal = Field(gt=0)
    interval_days: int = Field(gt=0)
    target_mg: Decimal = Field(gt=0)
    ceiling_mg: Decimal = Field(gt=0)
    timing: Literal["bedtime", "morning"]
    choice: str
    options: ProtocolOptions

    @model_validator(mode="after")
    def _consistent(self) -> Protocol:
        o = self.options
        checks = [
            ("start_mg", o.start_mg.contains(self.start_mg)),
            ("step_mg", o.step_mg.contains(self.step_mg)),
            ("interval_days", self.interval_days in o.interval_days),
            ("target_mg", o.target_mg.contains(self.target_mg)),
            ("ceiling_mg", o.ceiling_mg.contains(self.ceiling_mg)),
        ]
        for name, ok in checks:
            if not ok:
                raise ValueError(f"protocol {self.id}: default {name} outside its allowed options")
        if not self.start_mg <= self.target_mg <= self.ceiling_mg:
            raise ValueError(f"protocol {self.id}: needs start <= target <= ceiling")
        if o.target_mg.max > o.ceiling_mg.max:
            raise ValueError(f"protocol {self.id}: allowed target exceeds allowed ceiling")
        return self


class Protocols(_Record):
    version: int
    protocols: list[Protocol]


class FirstLineTherapy(_Record):
    id: str
    name: str
    members: list[str] = Field(min_length=1)


class PainType(Sourced):
    id: str
    name: str
    first_line: list[FirstLineTherapy]
    note: str | None = None


class Condition(Sourced):
    id: str
    name: str
    pain_type: str
    protocol: str


class Conditions(_Record):
    version: int
    pain_types: list[PainType]
    conditions: list[Condition]


class ScreeningRule(Sourced):
    code: str
    severity: Severity
    title: str
    message: str


class ScreeningRules(_Record):
    version: int
    rules: list[ScreeningRule]


class SideEffect(Sourced):
    id: str
    name: str
    note: str | None = None


class SideEffects(_Record):
    version: int
    summary: str
    summary_sources: list[str]
    adverse_effect_rate_percent: Decimal = Field(ge=0, le=100)
    adverse_effect_rate_sources: list[str]
    effects: list[SideEffect]


class StandardDoseRegimen(Sourced):
    indication: str
    regimen: str
    dose_mg: Decimal = Field(gt=0)


class EscalationStep(_Record):
    week: int = Field(gt=0)
    regimen: str


class NaltrexoneBupropion(Sourced):
    tablet: dict[str, Decimal]
    indication: str
    escalation: list[EscalationStep]


class Compounding(Sourced):
    note: str


class StandardDose(_Record):
    version: int
    standard_dose: list[StandardDoseRegimen]
    naltrexone_bupropion: NaltrexoneBupropion
    compounding: Compounding


class Trial(Sourced):
    id: str
    condition: str
    design: str
    n: int | None = Field(default=None, gt=0)
    n_studies: int | None = Field(default=None, gt=0)
    population: str | None = None
    dose_mg: Decimal | None = Field(default=None, gt=0, le=50)
    dose_mg_range: DoseRange | None = None
    duration_weeks: int | None = Field(default=None, gt=0)
    outcome: str
    result: str


class Observational(Sourced):
    id: str
    setting: str
    n: int | None = Field(default=None, gt=0)
    mean_treatment_days: Decimal | None = Field(default=None, gt=0)
    still_on_therapy_percent: Decimal | None = Field(default=None, ge=0, le=100)
    mean_pain_change_points: Decimal | None = Field(default=None, ge=-10, le=10)
    adverse_effect_percent: Decimal | None = Field(default=None, ge=0, le=100)
    finding: str | None = None


class Review(Sourced):
    id: str
    summary: str


class Studies(_Record):
    version: int
    trials: list[Trial]
    observational: list[Observational]
    reviews: list[Review]
