"""Typed view of `pharmacokinetics.yaml`: the published numbers behind the model.

The kinetic core takes plain parameter objects; this module is where they come from. Each value
carries its basis (published, derived, calibrated, assumption) and source ids, which the
evidence loader has already checked resolve to references, so a result can always say where
its numbers came from.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ldnkit.errors import NotFound
from ldnkit.evidence import Evidence, default_evidence
from ldnkit.pharmacology.parameters import BindingParameters, PKParameters

Basis = Literal["published", "derived", "calibrated", "assumption"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Range(_Model):
    """An inclusive published range."""

    min: float
    max: float

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.min > self.max:
            raise ValueError(f"range minimum {self.min} exceeds maximum {self.max}")
        return self

    def contains(self, x: float) -> bool:
        return self.min <= x <= self.max

    def __str__(self) -> str:
        return f"{self.min:g}" if self.min == self.max else f"{self.min:g}-{self.max:g}"


class Parameter(_Model):
    """One model parameter with its value, range, basis and sources."""

    value: float
    unit: str
    range: Range | None = None
    basis: Basis
    iiv_cv: float = Field(default=0.0, ge=0.0, le=2.0)
    sources: list[str]
    note: str | None = None

    @model_validator(mode="after")
    def _sourced(self) -> Parameter:
        if self.basis != "assumption" and not self.sources:
            raise ValueError(f"a {self.basis} value needs sources")
        if (
            self.range is not None
            and self.basis == "published"
            and not self.range.contains(self.value)
        ):
            raise ValueError(f"value {self.value} outside its published range {self.range}")
        return self


class Kinetics(_Model):
    ka: Parameter
    F: Parameter
    CL: Parameter
    Vc: Parameter
    Q: Parameter
    Vp: Parameter
    fm: Parameter
    CLm: Parameter
    Vm: Parameter
    salt_fraction: Parameter


class Binding(_Model):
    ki_nM: Parameter
    ki_m_nM: Parameter
    fu: Parameter
    fu_m: Parameter
    mw: Parameter
    mw_m: Parameter
    kp_m_ratio: Parameter


class Scenario(_Model):
    """How brain occupancy follows plasma (see the file for the two published fits)."""

    kp: float = Field(gt=0)
    ke0: float = Field(ge=0)
    ke0m: float = Field(ge=0)
    basis: Basis
    sources: list[str]
    note: str


class WeightCovariate(_Model):
    reference_kg: float = Field(gt=0)
    clearance_exponent: float
    volume_exponent: float
    basis: Basis
    sources: list[str]
    note: str


class Covariates(_Model):
    weight: WeightCovariate


class Check(_Model):
    range: Range
    sources: list[str]
    note: str | None = None


class PetPoint(_Model):
    dose_mg: float = Field(gt=0)
    min: float = Field(ge=0, le=1)
    max: float = Field(ge=0, le=1)


class PetCheck(_Model):
    hours_after_dose: float = Field(gt=0)
    tolerance: float = Field(ge=0, le=1)
    sources: list[str]
    note: str | None = None
    points: list[PetPoint]


class Validation(_Model):
    cmax_ng_ml: Check
    tmax_h: Check
    half_life_h: Check
    metabolite_cmax_ng_ml: Check
    metabolite_half_life_h: Check
    metabolite_ratio: Check
    pet_occupancy: PetCheck
    blockade_half_time_h: Check


class PharmacokineticsEvidence(_Model):
    """The whole `pharmacokinetics.yaml`."""

    parameters: Kinetics
    binding: Binding
    scenarios: dict[str, Scenario]
    default_scenario: str
    covariates: Covariates
    validation: Validation

    @model_validator(mode="after")
    def _default_exists(self) -> PharmacokineticsEvidence:
        if self.default_scenario not in self.scenarios:
            raise ValueError(f"default_scenario {self.default_scenario!r} is not a scenario")
        return self

    def scenario(self, name: str | None = None) -> Scenario:
        key = name or self.default_scenario
        if key not in self.scenarios:
            raise NotFound("occupancy scenario", key, sorted(self.scenarios))
        return self.scenarios[key]


def pk_evidence(evidence: Evidence | None = None) -> PharmacokineticsEvidence:
    """Parse the pharmacokinetics section of the evidence base (the bundled one by default)."""
    return (evidence or default_evidence()).section("pharmacokinetics", PharmacokineticsEvidence)


def typical_parameters(
    scenario: str | None = None, evidence: PharmacokineticsEvidence | None = None
) -> PKParameters:
    """A typical 70 kg adult's kinetics, with the brain equilibration of `scenario`."""
    e = evidence or pk_evidence()
    s = e.scenario(scenario)
    return replace(plasma_parameters(e), ke0=s.ke0, ke0m=s.ke0m)


def plasma_parameters(evidence: PharmacokineticsEvidence | None = None) -> PKParameters:
    """A typical 70 kg adult's plasma kinetics alone (no brain equilibration delay): what the
    fitter starts from before it estimates the delay, and what every scenario shares."""
    k = (evidence or pk_evidence()).parameters
    return PKParameters(
        ka=k.ka.value,
        F=k.F.value,
        CL=k.CL.value,
        Vc=k.Vc.value,
        Q=k.Q.value,
        Vp=k.Vp.value,
        fm=k.fm.value,
        CLm=k.CLm.value,
        Vm=k.Vm.value,
        salt_fraction=k.salt_fraction.value,
    )


def binding_parameters(
    scenario: str | None = None,
    evidence: PharmacokineticsEvidence | None = None,
    **overrides: float,
) -> BindingParameters:
    """Receptor binding for `scenario`; keyword overrides (e.g. kp=0.5) test other assumptions."""
    e = evidence or pk_evidence()
    b = e.binding
    s = e.scenario(scenario)
    values = {
        "ki_nM": b.ki_nM.value,
        "ki_m_nM": b.ki_m_nM.value,
        "fu": b.fu.value,
        "fu_m": b.fu_m.value,
        "kp": s.kp,
        "kp_m": s.kp * b.kp_m_ratio.value,
        "mw": b.mw.value,
        "mw_m": b.mw_m.value,
    }
    values.update(overrides)
    return BindingParameters(**values)


__all__ = [
    "Parameter",
    "PharmacokineticsEvidence",
    "Range",
    "Scenario",
    "binding_parameters",
    "pk_evidence",
    "plasma_parameters",
    "typical_parameters",
]
