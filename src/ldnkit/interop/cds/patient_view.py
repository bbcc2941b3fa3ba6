"""Patient-view rules: the patient's LDN status from the EHR's order, pain scores and visits.

The EHR's LDN order is rebuilt as a core Plan, so responder status and today's advice come
from `ldnkit.clinical.response`, the same rules the web app applies to ldnkit's own plans.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ldnkit.clinical.models import (
    Plan,
    fmt_mg,
)
from ldnkit.clinical.response import Advice, ResponderStatus, advise, responder_status
from ldnkit.evidence import Evidence, default_evidence
from ldnkit.interop.cds.card import decision_link, make_card
from ldnkit.interop.cds.parsing import HookRequest, is_ldn, order_start, prefetch_resources
from ldnkit.interop.fhir import common as fc
from ldnkit.interop.fhir.reading import (
    dosages as _dosages,
)
from ldnkit.interop.fhir.reading import (
    dose_mg as _dose_mg,
)
from ldnkit.interop.fhir.reading import (
    plan_from_medication_request,
)
from ldnkit.interop.markdown import md_escape


@dataclass(frozen=True)
class _PainDay:
    """A prefetched pain score in the shape the response rules read."""

    entry_date: dt.date
    pain: int
    dose_taken: bool = True
    dose_mg: Decimal | None = None
    side_effects: tuple[Any, ...] = ()


@dataclass(frozen=True)
class LdnStatus:
    """What patient-view reports; pure data so other shells (web) can reuse it."""

    drug: str
    plan: Plan | None
    current_mg: Decimal | None
    next_step: tuple[dt.date, Decimal] | None
    responder: ResponderStatus | None
    advice: Advice | None
    too_early: dt.date | None
    overdue: tuple[str, ...]


def _pain_days(req: HookRequest) -> list[_PainDay]:
    """One score per day (the last one recorded that day), oldest first."""
    days: dict[dt.date, int] = {}
    for obs in sorted(
        prefetch_resources(req.prefetch, "pain", "Observation"),
        key=lambda o: str(o.get("effectiveDateTime") or ""),
    ):
        codes = fc.codes(obs.get("code"))
        if (fc.LOINC, fc.LOINC_PAIN) not in codes or obs.get("status") not in _FINAL:
            continue
        period = obs.get("effectivePeriod") or {}
        day = fc.fhir_date(obs.get("effectiveDateTime") or period.get("start"))
        value = obs.get("valueInteger", (obs.get("valueQuantity") or {}).get("value"))
        if day is None or isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if 0 <= value <= 10 and value == int(value):
            days[day] = int(value)
    return [_PainDay(entry_date=d, pain=v) for d, v in sorted(days.items())]


_FINAL = ("final", "amended", "corrected")


def ldn_status(
    req: HookRequest, today: dt.date, evidence: Evidence | None = None
) -> LdnStatus | None:
    """The patient's LDN status from prefetch, or None when no active LDN order is found.

    The EHR's LDN order is rebuilt as a core Plan, so responder status and today's advice come
    from `ldnkit.clinical.response`, the same rules the web app applies to ldnkit's own plans.
    """
    ev = evidence or default_evidence()
    orders = [
        r
        for r in prefetch_resources(req.prefetch, "medications", "MedicationRequest")
        if r.get("status") in ("active", "on-hold") and is_ldn(r, ev)
    ]
    if not orders:
        return None
    order = max(orders, key=lambda r: order_start(r) or dt.date.min)
    plan = plan_from_medication_request(order, str(req.context["patientId"]), ev)
    if plan is None:
        doses = [d for x in _dosages(order) if (d := _dose_mg(x)) is not None]
        return LdnStatus(
            fc.medication_text(order), None, max(doses, default=None), None, None, None, None, ()
        )
    step = plan.step_on(today)
    current = step.dose_mg if step else None
    nxt = next(((s.start, s.dose_mg) for s in plan.steps if s.start > today), None)
    pains = _pain_days(req)
    status = responder_status(plan, pains, today, ev) if today >= plan.start else None
    # EHR pain scores say nothing about doses taken: adherence and gap rules cannot apply.
    advice = advise(plan=plan, entries=pains, today=today, doses_recorded=False, evidence=ev)
    mon = ev.dosing.monitoring
    target_day = min(s.start for s in plan.steps if s.dose_mg == plan.target_mg)
    review_from = target_day + dt.timedelta(days=int(mon.adequate_trial_days.min))
    visits = [
        fc.fhir_date((e.get("period") or {}).get("start"))
        for e in prefetch_resources(req.prefetch, "encounters", "Encounter")
        if e.get("status") in ("finished", "in-progress", "arrived", "planned", "booked")
    ]
    overdue = []
    due_by = plan.start + dt.timedelta(days=int(mon.follow_up_days.max))
    if today > due_by and not any(v and v > plan.start for v in visits):
        overdue.append(
            f"follow-up was due {mon.follow_up_days} days after the start ({plan.start}), "
            f"by {due_by}; no visit recorded since"
        )
    review_by = target_day + dt.timedelta(days=int(mon.adequate_trial_days.max))
    if today > review_by and not any(v and v >= review_from for v in visits):
        overdue.append(
            f"efficacy review was due {mon.adequate_trial_days} days after reaching the "
            f"target ({target_day}), by {review_by}"
        )
    return LdnStatus(
        drug=fc.medication_text(order),
        plan=plan,
        current_mg=current,
        next_step=nxt,
        responder=status,
        advice=advice,
        too_early=review_from if today < review_from else None,
        overdue=tuple(overdue),
    )


def _responder_text(st: LdnStatus) -> tuple[str, str]:
    """(short label, detail) of the responder status."""
    r = st.responder
    if r is None:
        return "not started", "LDN has not started yet"
    label = r.category.replace("_", " ")
    if r.category == "unknown":
        detail = (
            f"not enough pain scores (LOINC {fc.LOINC_PAIN}): {r.baseline_entries} in the "
            f"baseline week, {r.recent_entries} of {r.recent_expected} recent days"
        )
    else:
        detail = (
            f"pain {r.baseline_mean:.1f} -> {r.recent_mean:.1f}, "
            f"{r.percent_reduction:.0f}% lower ({r.points_reduction:.1f} points)"
        )
    if st.too_early is not None and r.category == "non_responder":
        label = "not yet responding"
        detail += f"; too early to judge before {st.too_early} (adequate trial at target)"
    return label, detail


def patient_view_cards(
    req: HookRequest,
    today: dt.date,
    evidence: Evidence | None = None,
    *,
    app_url: str | None = None,
) -> list[dict[str, Any]]:
    """One LDN status card (none when the patient has no active LDN order)."""
    ev = evidence or default_evidence()
    st = ldn_status(req, today, ev)
    if st is None:
        return []
    if st.current_mg is None:
        now = "LDN (no dose scheduled today)"
    elif st.current_mg == 0:
        now = "LDN on hold"
    else:
        now = f"LDN {fmt_mg(st.current_mg)} mg"
    nxt = ""
    if st.next_step:
        nxt = f"; next {fmt_mg(st.next_step[1])} mg from {st.next_step[0]}"
    label, rdetail = _responder_text(st)
    overdue = "; follow-up OVERDUE" if st.overdue else ""
    current = f"{fmt_mg(st.current_mg)} mg" if st.current_mg is not None else "none today"
    following = (
        f"{fmt_mg(st.next_step[1])} mg from {st.next_step[0]}"
        if st.next_step
        else "none (maintenance)"
    )
    lines = [
        f"- **Current dose:** {current} ({md_escape(st.drug)})",
        f"- **Next step:** {following}",
        f"- **Responder status:** {label} ({rdetail})",
    ]
    if st.advice is not None:
        lines.append(f"- **Today's advice:** {st.advice.title}. {st.advice.message}")
    lines += [f"- **Overdue:** {o}" for o in st.overdue] or ["- **Follow-up:** none overdue"]
    mon = ev.dosing.monitoring
    sources = [*mon.follow_up_sources, *mon.adequate_trial_sources]
    if st.responder is not None:
        sources += st.responder.sources
    if st.advice is not None:
        sources += st.advice.sources
    card = make_card(
        req.hook_instance,
        "LDN_STATUS",
        summary=f"{now}{nxt}; {label}{overdue}",
        detail="\n".join(lines),
        indicator="warning" if st.overdue else "info",
        sources=sources,
        ev=ev,
    )
    if app_url:
        card["links"].append(
            decision_link(app_url, rule=st.advice.rule if st.advice is not None else None)
        )
    return [card]
