"""Trial eligibility = the protocol's own criteria AND the clinical screening.

The crossover protocol (seed 000, from the Stanford registry entry NCT00568555) includes
adults 18-65 meeting the ACR fibromyalgia criteria and not taking opioid analgesics, and
excludes naltrexone allergy, pregnancy and planned pregnancy. Those are trial rules, stricter
than clinical practice (planning pregnancy is only a caution clinically), so they are checked
here; then `ldnkit.clinical.screening.screen` is run on the same patient and anything it calls
contraindicated also excludes, and a clinical "not yet" (e.g. inside the opioid-free window)
makes the candidate "not_yet" with the screening's earliest start.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ldnkit.clinical.medications import recogniser
from ldnkit.clinical.models import Assessment, Patient
from ldnkit.clinical.screening import screen
from ldnkit.evidence import Evidence, default_evidence

__all__ = ["CriterionResult", "TrialCandidate", "TrialCriteria", "TrialEligibility", "check"]

_SOURCES = ["seed-benchchem-2025", "stanford-ldn-fm", "younger-2009"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class TrialCriteria(_Model):
    """The protocol's inclusion/exclusion rules (defaults: the seeds' crossover protocol)."""

    min_age: int = 18
    max_age: int = 65
    require_acr_fibromyalgia: bool = True
    exclude_opioid_analgesics: bool = True
    exclude_naltrexone_allergy: bool = True
    exclude_pregnancy_or_planning: bool = True
    sources: list[str] = Field(default_factory=lambda: list(_SOURCES))


class TrialCandidate(_Model):
    """A clinical `Patient` plus what only the trial asks: the ACR criteria check."""

    patient: Patient
    meets_acr_fibromyalgia: bool


class CriterionResult(_Model):
    code: str
    met: bool
    message: str
    sources: list[str]


class TrialEligibility(_Model):
    patient_id: str
    on: date
    status: Literal["eligible", "not_yet", "ineligible"]
    criteria: list[CriterionResult]
    screening: Assessment

    @property
    def eligible(self) -> bool:
        return self.status == "eligible"

    def reasons(self) -> list[str]:
        """Why not (empty when eligible): failed criteria, then blocking screening findings."""
        out = [c.message for c in self.criteria if not c.met]
        out += [
            f.message for f in self.screening.findings if f.severity in ("contraindicated", "defer")
        ]
        return out


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def check(
    candidate: TrialCandidate,
    on: date,
    criteria: TrialCriteria | None = None,
    evidence: Evidence | None = None,
) -> TrialEligibility:
    """Is this candidate eligible for the trial on `on`? Every result carries its sources."""
    c = criteria or TrialCriteria()
    ev = evidence or default_evidence()
    p = candidate.patient
    results: list[CriterionResult] = []

    if p.birth_date is None:
        results.append(
            CriterionResult(
                code="AGE", met=False, message="Date of birth not recorded", sources=c.sources
            )
        )
    else:
        age = _age(p.birth_date, on)
        ok = c.min_age <= age <= c.max_age
        results.append(
            CriterionResult(
                code="AGE",
                met=ok,
                message=f"Age {age}" + ("" if ok else f": outside {c.min_age}-{c.max_age}"),
                sources=c.sources,
            )
        )
    if c.require_acr_fibromyalgia:
        results.append(
            CriterionResult(
                code="ACR_FIBROMYALGIA",
                met=candidate.meets_acr_fibromyalgia,
                message="Meets ACR fibromyalgia criteria"
                if candidate.meets_acr_fibromyalgia
                else "Does not meet the ACR fibromyalgia criteria",
                sources=c.sources,
            )
        )
    if c.exclude_opioid_analgesics:
        opioids = [
            m.name
            for m in p.medications
            if m.active and recogniser(ev).medication(m.name, m.codes).opioids
        ]
        results.append(
            CriterionResult(
                code="NO_OPIOID_ANALGESICS",
                met=not opioids,
                message="Not taking opioid analgesics"
                if not opioids
                else f"Taking opioid analgesics ({', '.join(opioids)})",
                sources=c.sources,
            )
        )
    if c.exclude_naltrexone_allergy:
        allergic = [a for a in p.allergies if "naltrexone" in a.lower() or a.lower() == "ldn"]
        results.append(
            CriterionResult(
                code="NO_NALTREXONE_ALLERGY",
                met=not allergic,
                message="No naltrexone allergy" if not allergic else "Allergy to naltrexone",
                sources=c.sources,
            )
        )
    if c.exclude_pregnancy_or_planning:
        preg = p.pregnancy in ("pregnant", "planning")
        results.append(
            CriterionResult(
                code="NOT_PREGNANT_OR_PLANNING",
                met=not preg,
                message="Not pregnant or planning pregnancy"
                if not preg
                else f"Pregnancy: {p.pregnancy} (trial exclusion)",
                sources=c.sources,
            )
        )

    assessment = screen(p, on, ev)
    if not all(r.met for r in results) or assessment.status == "contraindicated":
        status: Literal["eligible", "not_yet", "ineligible"] = "ineligible"
    elif assessment.status == "not_yet":
        status = "not_yet"
    else:
        status = "eligible"
    return TrialEligibility(
        patient_id=p.id, on=on, status=status, criteria=results, screening=assessment
    )
