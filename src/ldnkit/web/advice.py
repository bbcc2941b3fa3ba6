"""Today's advice for the patient page and the API, from `ldnkit.clinical.response`.

The response rules (escalate, hold, step back, morning dosing, review, responder status) live
in the pure core; the web shell only shapes what they say, with their reasons and sources, for
display. Without a plan there is nothing to advise on, and the view says so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ldnkit.clinical.models import Plan, fmt_mg
from ldnkit.clinical.response import DiaryDay, advise


@dataclass(frozen=True)
class AdviceView:
    """What the patient page and the API show as today's advice."""

    available: bool
    code: str = ""
    title: str = ""
    message: str = ""
    reasons: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    responder: str | None = None
    responder_detail: str | None = None
    suggested_dose_mg: Decimal | None = None
    suggested_timing: str | None = None
    missing_days: int = 0
    sparse: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "available": self.available,
            "code": self.code,
            "title": self.title,
            "message": self.message,
            "reasons": self.reasons,
            "sources": self.sources,
            "responder": self.responder,
            "responder_detail": self.responder_detail,
            "suggested_dose_mg": self.suggested_dose_mg,
            "suggested_timing": self.suggested_timing,
            "missing_days": self.missing_days,
            "sparse": self.sparse,
        }


NO_PLAN = AdviceView(
    available=False,
    code="no_plan",
    title="No plan yet",
    message="Create a plan to get response-guided advice.",
)


def todays_advice(plan: Plan | None, diary: Sequence[DiaryDay], today: dt.date) -> AdviceView:
    """The core's advice for today, or NO_PLAN."""
    if plan is None:
        return NO_PLAN
    a = advise(plan, diary, today)
    r = a.responder
    detail = None
    if r.percent_reduction is not None and r.points_reduction is not None:
        detail = (
            f"pain {r.baseline_mean:.1f} at baseline -> {r.recent_mean:.1f} recently: "
            f"{r.percent_reduction:.0f}% ({r.points_reduction:+.1f} points) lower"
        )
    return AdviceView(
        available=True,
        code=a.action,
        title=a.title,
        message=a.message,
        reasons=list(a.reasons),
        sources=list(a.sources),
        responder=r.category,
        responder_detail=detail,
        suggested_dose_mg=a.suggested_dose_mg,
        suggested_timing=a.suggested_timing,
        missing_days=a.missing_days,
        sparse=a.action == "insufficient_data" or a.missing_days > 0,
    )


def suggested_text(view: AdviceView) -> str:
    if view.suggested_dose_mg is None:
        return ""
    timing = f" at {view.suggested_timing}" if view.suggested_timing else ""
    return f"{fmt_mg(view.suggested_dose_mg)} mg{timing}"


__all__ = ["NO_PLAN", "AdviceView", "suggested_text", "todays_advice"]
