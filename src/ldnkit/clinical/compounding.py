"""What the compounding pharmacy makes for each step of a plan.

LDN is not sold at low strengths, so every step is compounded: capsules of a chosen strength
(count per dose, quantity for the step) or a liquid (mL per dose, total volume).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from ldnkit.clinical.models import DispenseLine, PlanOptions, PlanStep
from ldnkit.errors import ValidationError

_ML = Decimal("0.01")
_MAX_UNITS_PER_DOSE = 4


def _capsules_for(dose: Decimal, strengths: list[Decimal]) -> tuple[Decimal, int]:
    """The strength giving the dose in the fewest whole capsules (at most four)."""
    # Largest strength first: the first whole-number fit uses the fewest capsules.
    for strength in sorted(set(strengths), reverse=True):
        units = dose / strength
        if units == units.to_integral_value() and 1 <= units <= _MAX_UNITS_PER_DOSE:
            return strength, int(units)
    shown = ", ".join(str(s) for s in sorted(set(strengths)))
    raise ValidationError(
        "options.capsule_strengths_mg",
        f"no strength among {shown} mg makes {dose} mg in 1-{_MAX_UNITS_PER_DOSE} capsules",
    )


def dispensing(steps: list[PlanStep], options: PlanOptions) -> list[DispenseLine]:
    """One dispensing line per dosed step; holds dispense nothing."""
    lines: list[DispenseLine] = []
    for step in steps:
        if step.dose_mg <= 0:
            continue
        if options.liquid_mg_per_ml is not None:
            conc = options.liquid_mg_per_ml
            per_dose = (step.dose_mg / conc).quantize(_ML, rounding=ROUND_HALF_UP)
            lines.append(
                DispenseLine(
                    step_index=step.index,
                    dose_mg=step.dose_mg,
                    days=step.days,
                    form="liquid",
                    mg_per_ml=conc,
                    ml_per_dose=per_dose,
                    total_ml=per_dose * step.days,
                )
            )
            continue
        strengths = options.capsule_strengths_mg or [step.dose_mg]
        strength, units = _capsules_for(step.dose_mg, strengths)
        lines.append(
            DispenseLine(
                step_index=step.index,
                dose_mg=step.dose_mg,
                days=step.days,
                form="capsule",
                strength_mg=strength,
                units_per_dose=units,
                quantity=units * step.days,
            )
        )
    return lines
