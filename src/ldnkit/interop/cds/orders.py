"""Order rules (order-select, order-sign): opioid on LDN, naltrexone with opioids, fixed dose.

Safety rules are not restated here: a naltrexone order is checked by running the clinical
core's `screen()` on a Patient rebuilt from the prefetched resources (`_chart`), and every
number and citation comes from the evidence base.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

from ldnkit.clinical.models import (
    Assessment,
    ConditionEntry,
    Finding,
    Patient,
    Plan,
    PlanOptions,
    fmt_mg,
)
from ldnkit.clinical.screening import screen
from ldnkit.clinical.titration import default_protocol_for, titration_plan
from ldnkit.errors import ValidationError
from ldnkit.evidence import Evidence, default_evidence
from ldnkit.interop.cds.card import decision_link, make_card
from ldnkit.interop.cds.parsing import (
    HookRequest,
    bundle_resources,
    is_ldn,
    order_start,
    prefetch_resources,
    recognition,
)
from ldnkit.interop.fhir import common as fc
from ldnkit.interop.fhir.export import medication_request
from ldnkit.interop.fhir.reading import (
    dosages as _dosages,
)
from ldnkit.interop.fhir.reading import (
    dose_mg as _dose_mg,
)
from ldnkit.interop.fhir.reading import (
    medication_from_resource,
)
from ldnkit.interop.markdown import md_escape, plain


@dataclass
class _Chart:
    """What the prefetch tells about the patient, as core models."""

    patient: Patient
    ldn: list[dict[str, Any]] = field(default_factory=list)


def _chart(req: HookRequest, ev: Evidence, extra: Sequence[dict[str, Any]] = ()) -> _Chart:
    pid = str(req.context["patientId"])
    pres = prefetch_resources(req.prefetch, "patient", "Patient")
    sex = (pres[0].get("gender") if pres else None) or "unknown"
    meds_res = [
        *prefetch_resources(req.prefetch, "medications", "MedicationRequest"),
        *prefetch_resources(req.prefetch, "statements", "MedicationStatement"),
        *extra,
    ]
    meds = [m for r in meds_res if (m := medication_from_resource(r)) is not None]
    conditions = []
    for c in prefetch_resources(req.prefetch, "conditions", "Condition"):
        if match := condition_id(fc.concept_text(c.get("code")), ev):
            conditions.append(ConditionEntry(code=match))
    allergies = [
        t
        for a in prefetch_resources(req.prefetch, "allergies", "AllergyIntolerance")
        if (t := fc.concept_text(a.get("code")))
    ]
    # A full birth date lets screening see a child (FHIR also allows "2010" or "2010-05").
    birth = pres[0].get("birthDate") if pres else None
    patient = Patient(
        id=fc.fhir_id(pid),
        birth_date=fc.fhir_date(birth) if isinstance(birth, str) and len(birth) == 10 else None,
        sex=sex if sex in ("female", "male", "other", "unknown") else "unknown",
        conditions=conditions,
        medications=meds,
        allergies=allergies,
    )
    ldn = [
        r
        for r in meds_res
        if r.get("resourceType") in ("MedicationRequest", "MedicationStatement")
        and r.get("status") in ("active", "on-hold", "intended")
        and is_ldn(r, ev)
    ]
    return _Chart(patient=patient, ldn=ldn)


def condition_id(text: str, ev: Evidence) -> str | None:
    """The evidence condition an EHR's diagnosis text names (the longest matching name wins,
    so 'painful diabetic neuropathy' is not read as 'neuropathic pain'); None if none does."""
    low = " ".join(text.lower().replace("'", "").replace("-", " ").split())
    best: tuple[int, str] | None = None
    for cid, cond in ev.conditions.items():
        terms = {cid.replace("_", " "), cond.name.lower().replace("'", "").replace("-", " ")}
        for term in terms:
            if term in low and (best is None or len(term) > best[0]):
                best = (len(term), cid)
    return best[1] if best else None


def _selected(req: HookRequest) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(selected medication orders, the other draft orders)."""
    drafts = bundle_resources(req.context.get("draftOrders"), "context.draftOrders")
    if req.hook == "order-sign":
        chosen = drafts
    else:
        wanted = set(req.context.get("selections") or [])
        chosen = [d for d in drafts if f"{d.get('resourceType')}/{d.get('id')}" in wanted]
        found = {f"{d.get('resourceType')}/{d.get('id')}" for d in chosen}
        if unknown := sorted(wanted - found):
            raise ValidationError("context.selections", f"not in draftOrders: {', '.join(unknown)}")
    meds = [d for d in chosen if d.get("resourceType") == "MedicationRequest"]
    others = [
        d
        for d in drafts
        if d.get("resourceType") == "MedicationRequest" and not any(d is m for m in meds)
    ]
    return meds, others


def _opioid_on_ldn_card(
    req: HookRequest, order: dict[str, Any], chart: _Chart, ev: Evidence
) -> dict[str, Any]:
    safety = ev.dosing.safety
    hold = safety.perioperative_hold_days
    ldn_names = ", ".join(sorted({md_escape(fc.medication_text(r)) for r in chart.ldn}))
    drug = md_escape(fc.medication_text(order))
    detail = (
        f"The patient takes **{ldn_names}**. Naltrexone blocks opioid receptors: LDN reduces "
        f"or abolishes the analgesia of **{drug}**.\n\n"
        f"- For planned opioid use (e.g. surgery), **hold LDN {hold} days before**; restart only "
        f"after opioids stop and an opioid-free window of {safety.opioid_free_days} days "
        f"({safety.long_acting_opioid_free_days} for long-acting opioids).\n"
        "- **Opioid sensitivity increases after stopping LDN**: usual opioid doses act more "
        "strongly once naltrexone has cleared.\n"
        "- The patient should carry a card stating LDN use."
    )
    rule = ev.rule("ACTIVE_OPIOID")
    sources = [*safety.perioperative_sources, *rule.sources, *ev.rule("ID_CARD").sources]
    return make_card(
        req.hook_instance,
        f"OPIOID_ON_LDN:{order.get('id')}",
        summary=f"Patient on LDN: {plain(fc.medication_text(order))} analgesia will be blocked; hold LDN before planned opioid use",
        detail=detail,
        indicator="critical",
        sources=sources,
        ev=ev,
    )


_OPIOID_CODES = ("ACTIVE_OPIOID", "OPIOID_WASHOUT", "OPIOID_LAST_DOSE_UNKNOWN")
_ASK_CODES = ("UNRECOGNISED_MEDICATION", "NALTREXONE_DOSE_UNKNOWN")


def _naltrexone_cards(
    req: HookRequest,
    order: dict[str, Any],
    chart: _Chart,
    today: dt.date,
    ev: Evidence,
    app_url: str | None = None,
) -> tuple[list[dict[str, Any]], Assessment]:
    """Cards for a naltrexone order from the core's screening, and the screening itself."""
    start = max(order_start(order) or today, today)
    assessment = screen(chart.patient, start, ev)
    blocking: list[Finding] = [
        f for f in assessment.findings if f.severity in ("defer", "contraindicated")
    ]
    cards = []
    opioid = [f for f in blocking if f.code in _OPIOID_CODES]
    if opioid:
        safety = ev.dosing.safety
        when = assessment.earliest_start
        if any(f.code == "ACTIVE_OPIOID" for f in opioid):
            summary = "Naltrexone with active opioids: do not start (blocks analgesia, precipitates withdrawal)"
            earliest = (
                f"Earliest safe start: **{safety.opioid_free_days} days after the last opioid dose** "
                f"({safety.long_acting_opioid_free_days} for long-acting opioids), once opioids "
                "are stopped."
            )
        elif when is not None:
            summary = (
                f"Inside the opioid-free window: earliest safe naltrexone start {when.isoformat()}"
            )
            earliest = f"Earliest safe start: **{when.isoformat()}**."
        else:
            summary = "Opioid stopped on an unknown date: naltrexone start cannot be confirmed safe"
            earliest = "Record the last opioid dose date to get the earliest safe start."
        detail = "\n".join(f"- {md_escape(f.message)}" for f in opioid) + f"\n\n{earliest}"
        cards.append(
            make_card(
                req.hook_instance,
                f"NALTREXONE_OPIOID:{order.get('id')}",
                summary=summary,
                detail=detail,
                indicator="critical",
                sources=[s for f in opioid for s in f.sources],
                ev=ev,
            )
        )
    # A medication the vocabulary cannot read is never silent: it may be an opioid.
    asks = [f for f in assessment.findings if f.code in _ASK_CODES]
    for f in [*blocking, *asks]:
        if f.code in _OPIOID_CODES:
            continue
        cards.append(
            make_card(
                req.hook_instance,
                f"{f.code}:{order.get('id')}",
                summary=f"Naltrexone order: {plain(f.title)}",
                detail=md_escape(f.message),
                indicator="critical" if f.severity == "contraindicated" else "warning",
                sources=f.sources,
                ev=ev,
            )
        )
    if app_url:
        fired = [f.code for f in assessment.findings if f.severity != "info"]
        for c in cards:
            c["links"].append(decision_link(app_url, codes=fired))
    return cards, assessment


@lru_cache(maxsize=512)
def _suggested_plan(protocol_id: str, start: dt.date, target: Decimal, ev: Evidence) -> Plan:
    """The titration plan offered for a fixed-dose order. Pure in its arguments (plans are
    immutable models), so it is cached: EHRs ask about the same few start dates all day."""
    return titration_plan(protocol_id, start, PlanOptions(target_mg=target), ev)


def _fixed_dose_card(
    req: HookRequest,
    order: dict[str, Any],
    chart: _Chart,
    today: dt.date,
    ev: Evidence,
    not_before: dt.date | None = None,
) -> dict[str, Any] | None:
    """A single fixed LDN dose at or above target with no titration -> offer a plan."""
    dosages = _dosages(order)
    doses = [d for x in dosages if (d := _dose_mg(x)) is not None]
    if not doses or len(set(doses)) != 1:
        return None
    dose = doses[0]
    general = ev.dosing.general
    if not general.target_mg.min <= dose <= general.maximum_mg.max or dose < general.target_mg.max:
        return None
    if any(r is not order for r in chart.ldn):
        return None  # already on LDN: a continuation, not a fixed start
    protocol_id = default_protocol_for(chart.patient, ev)
    protocol = ev.protocol(protocol_id)
    start = max(order_start(order) or today, today, not_before or today)
    target = dose if protocol.options.target_mg.contains(dose) else protocol.target_mg
    plan = _suggested_plan(protocol_id, start, target, ev)
    subject = order.get("subject") if isinstance(order.get("subject"), dict) else None
    new = medication_request(
        plan.model_copy(update={"patient_id": req.context["patientId"]}),
        subject or {"reference": f"Patient/{req.context['patientId']}"},
        rid=fc.fhir_id("ldn-titration", start.isoformat()),
        status="draft",
        evidence=ev,
    )
    ladder = " -> ".join(
        f"{fmt_mg(s.dose_mg)} mg" for s in plan.steps if s.kind in ("start", "increase")
    )
    personalised = ev.dosing.personalised
    detail = (
        f"{personalised.fixed_dose_warning}\n\n"
        f"Suggested instead: **{plan.protocol_name}** protocol, {ladder} at {plan.steps[0].timing}, "
        f"one step every {plan.interval_days} days from {start.isoformat()} "
        f"(target {fmt_mg(plan.target_mg)} mg; effective doses range "
        f"{personalised.effective_dose_mg} mg, so stop titrating at the lowest dose that works)."
    )
    suggestion = {
        "label": f"Replace with a titration plan ({ladder})",
        "uuid": str(
            uuid.uuid5(uuid.NAMESPACE_URL, f"ldnkit:{req.hook_instance}:titrate:{order.get('id')}")
        ),
        "isRecommended": True,
        "actions": [
            {
                "type": "delete",
                "description": f"Remove the fixed {fmt_mg(dose)} mg order",
                "resourceId": f"MedicationRequest/{order.get('id')}",
            },
            {
                "type": "create",
                "description": f"Order LDN titrated {ladder}",
                "resource": new,
            },
        ],
    }
    return make_card(
        req.hook_instance,
        f"FIXED_DOSE:{order.get('id')}",
        summary=f"Fixed {fmt_mg(dose)} mg LDN without titration: start low and titrate",
        detail=detail,
        indicator="info",
        sources=[*personalised.sources, *plan.sources],
        ev=ev,
        suggestions=[suggestion],
    )


def order_cards(
    req: HookRequest,
    today: dt.date,
    evidence: Evidence | None = None,
    *,
    app_url: str | None = None,
) -> list[dict[str, Any]]:
    """Cards for order-select / order-sign: opioid on LDN, naltrexone with opioids, fixed dose."""
    ev = evidence or default_evidence()
    selected, others = _selected(req)
    cards: list[dict[str, Any]] = []
    chart = _chart(req, ev, extra=[o for o in others if o.get("status") in ("draft", "active")])
    for order in selected:
        if not fc.medication_text(order) and not order.get("medicationCodeableConcept"):
            continue
        rec = recognition(order, ev)
        if rec.opioids:
            if chart.ldn:
                cards.append(_opioid_on_ldn_card(req, order, chart, ev))
        elif rec.has_naltrexone:
            found, assessment = _naltrexone_cards(req, order, chart, today, ev, app_url)
            cards += found
            # A titration plan is offered only where starting is possible: now, or from the
            # earliest safe date screening gives; never when naltrexone is contraindicated.
            startable = assessment.status != "contraindicated" and (
                assessment.status != "not_yet" or assessment.earliest_start is not None
            )
            if startable and is_ldn(order, ev):
                card = _fixed_dose_card(
                    req, order, chart, today, ev, not_before=assessment.earliest_start
                )
                if card is not None:
                    cards.append(card)
    return cards
