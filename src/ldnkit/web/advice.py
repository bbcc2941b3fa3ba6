"""Today's advice for the clinician page, the patient's Today page and the API.

The response rules live in the pure core (`ldnkit.clinical.response`); this shell shapes what
they say for two readers. The clinician sees the reasoning: the rule, the reasons, the sources,
the suggested dose and whether it differs from the saved plan. The patient sees only patient
language and never a dose: their one dose is the plan's (on the Today card), and advice that
differs from the plan becomes a plan revision by the clinician, not a second dose on the
patient's screen. Patient text is marked for the message catalogue (`ldnkit.i18n`) and
translated where it is shown, in the patient's language; the API keeps the English source.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from ldnkit.clinical.history import DiaryDay, DoseOverride, plan_in_force
from ldnkit.clinical.models import Plan, fmt_mg
from ldnkit.clinical.response import Advice, advise


def _(message: str) -> str:
    """Mark patient text for extraction (`make messages`); the page translates it when shown.

    Translating here, at import, would fix one language for every patient; the Today page
    calls `gettext` on these English msgids in the reader's language instead.
    """
    return message


#: What the patient reads for each action: plain words, no dose, no clinical reasoning.
PATIENT_TEXT: dict[str, tuple[str, str]] = {
    "not_started": (
        _("Your treatment has not started yet"),
        _("Please fill in your pain diary every day until your start date."),
    ),
    "perioperative_hold": (
        _("Do not take LDN today"),
        _("LDN is paused around your operation. Your clinic will tell you when to restart."),
    ),
    "above_ceiling": (
        _("Please contact your clinic"),
        _(
            "Your diary shows a dose higher than your plan. Take only the dose on your plan "
            "and contact your clinic today."
        ),
    ),
    "step_back": (
        _("Please contact your clinic before your next dose"),
        _("You reported a side effect that was too strong. Your clinic will review your dose."),
    ),
    "stop": (
        _("Please contact your clinic before your next dose"),
        _("You reported a side effect that was too strong. Your clinic will review your dose."),
    ),
    "restart": (
        _("Please contact your clinic before you start again"),
        _("You have not taken LDN for a while. Your clinic will tell you how to restart."),
    ),
    "move_to_morning": (
        _("Your clinic will review when you take LDN"),
        _(
            "You reported trouble sleeping or vivid dreams. Keep to your plan and tell your "
            "clinic; they may change the time of your dose."
        ),
    ),
    "worsening_pain": (
        _("Please contact your clinic"),
        _("Your pain has been worse recently. Your clinic will review your treatment."),
    ),
    "insufficient_data": (
        _("Please fill in your diary every day"),
        _("Your clinic needs a few more days of diary to see how LDN works for you."),
    ),
    "review": (
        _("Your clinic will review your treatment"),
        _("Keep taking the dose on your plan until your next visit."),
    ),
    "escalate": (
        _("Keep to your plan"),
        _("Take the dose on your plan. Your clinic decides about any change."),
    ),
    "hold": (
        _("Keep to your plan"),
        _("Take the dose on your plan and fill in your diary every day."),
    ),
}
_SIDE_EFFECTS_HOLD = (
    _("Keep to your plan"),
    _("You reported side effects recently. Please tell your clinic before your dose changes."),
)
_BELOW_PLAN = (
    _("Please contact your clinic before your next dose"),
    _("Your diary shows your dose may need to change. Your clinic will review your plan."),
)
_RESPONDING = (
    _("LDN seems to be helping"),
    _("Keep taking the dose on your plan and fill in your diary every day."),
)


@dataclass(frozen=True)
class AdviceView:
    """What the pages and the API show as today's advice."""

    available: bool
    code: str = ""
    rule: str = ""
    title: str = ""
    message: str = ""
    reasons: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    responder: str | None = None
    responder_detail: str | None = None
    current_dose_mg: Decimal | None = None
    suggested_dose_mg: Decimal | None = None
    suggested_timing: str | None = None
    plan_dose_mg: Decimal | None = None
    plan_timing: str | None = None
    differs_from_plan: bool = False
    safety_finding: bool = False
    blocked: list[str] = field(default_factory=list)
    intolerable_mg: list[Decimal] = field(default_factory=list)
    missing_days: int = 0
    sparse: bool = False
    patient_title: str = ""
    patient_message: str = ""
    #: The advice is lower than the plan's dose today: the patient checks with the clinic
    #: before taking the planned dose (one dose on screen, with a caution, never two).
    check_with_clinic: bool = False
    audience: str = "clinician"

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    def for_patient(self) -> AdviceView:
        """The same advice in patient language only: no dose, no reasons, no sources."""
        return replace(
            self,
            title=self.patient_title,
            message=self.patient_message,
            rule="",
            reasons=[],
            sources=[],
            responder=None,
            responder_detail=None,
            current_dose_mg=None,
            suggested_dose_mg=None,
            suggested_timing=None,
            differs_from_plan=False,
            blocked=[],
            intolerable_mg=[],
            audience="patient",
        )


NO_PLAN = AdviceView(
    available=False,
    code="no_plan",
    title="No plan yet",
    message="Create a plan to get response-guided advice.",
    patient_title=_("No plan yet"),
    patient_message=_("Your clinician will set up your plan."),
)


def _patient_text(a: Advice, below_plan: bool) -> tuple[str, str]:
    if a.safety_finding or a.action in ("not_started", "insufficient_data"):
        return PATIENT_TEXT[a.action]
    if below_plan:
        return _BELOW_PLAN
    if a.rule == "escalation_blocked" and "side effects" in a.blocked:
        return _SIDE_EFFECTS_HOLD
    if a.rule == "responding":
        return _RESPONDING
    return PATIENT_TEXT[a.action]


def _tidy(dose: Decimal | None) -> Decimal | None:
    """3 rather than 3.000 (doses read back from the store carry its scale)."""
    return None if dose is None else Decimal(fmt_mg(dose))


def todays_advice(
    plan: Plan | None,
    diary: Sequence[DiaryDay],
    today: dt.date,
    *,
    versions: Sequence[Plan] = (),
    overrides: Sequence[DoseOverride] = (),
) -> AdviceView:
    """The core's advice for today (over the plan history and overrides), or NO_PLAN."""
    if plan is None:
        return NO_PLAN
    a = advise(plan=plan, entries=diary, today=today, plan_history=versions, overrides=overrides)
    r = a.responder
    detail = None
    if r.percent_reduction is not None and r.points_reduction is not None:
        detail = (
            f"pain {r.baseline_mean:.1f} at baseline -> {r.recent_mean:.1f} recently: "
            f"{r.percent_reduction:.0f}% ({r.points_reduction:+.1f} points) lower"
        )
    in_force = plan_in_force(versions or [plan], today) or plan
    step = in_force.step_on(today)
    plan_timing = step.timing if step else None
    differs = a.suggested_dose_mg is not None and (
        a.suggested_dose_mg != a.planned_dose_mg
        or (a.suggested_timing is not None and a.suggested_timing != plan_timing)
    )
    below_plan = (
        a.suggested_dose_mg is not None
        and a.planned_dose_mg is not None
        and a.suggested_dose_mg < a.planned_dose_mg
    )
    title, message = _patient_text(a, below_plan)
    return AdviceView(
        available=True,
        code=a.action,
        rule=a.rule,
        title=a.title,
        message=a.message,
        reasons=list(a.reasons),
        sources=list(a.sources),
        responder=r.category,
        responder_detail=detail,
        current_dose_mg=_tidy(a.current_dose_mg),
        suggested_dose_mg=_tidy(a.suggested_dose_mg),
        suggested_timing=a.suggested_timing,
        plan_dose_mg=_tidy(a.planned_dose_mg),
        plan_timing=plan_timing,
        differs_from_plan=differs,
        safety_finding=a.safety_finding,
        blocked=list(a.blocked),
        intolerable_mg=[Decimal(fmt_mg(d)) for d in a.intolerable_mg],
        missing_days=a.missing_days,
        sparse=a.action == "insufficient_data" or a.missing_days > 0,
        patient_title=title,
        patient_message=message,
        check_with_clinic=below_plan or a.safety_finding,
    )


def suggested_text(view: AdviceView) -> str:
    if view.suggested_dose_mg is None:
        return ""
    timing = f" at {view.suggested_timing}" if view.suggested_timing else ""
    return f"{fmt_mg(view.suggested_dose_mg)} mg{timing}"


__all__ = ["NO_PLAN", "PATIENT_TEXT", "AdviceView", "suggested_text", "todays_advice"]
