"""CDS Hooks 2.0 card logic as pure functions: hook request (context + prefetch) -> cards.

No I/O and no clock: the HTTP shell (`cds_routes`) passes `today`. The service never calls
back to the EHR's FHIR server; it works from the request's context and prefetch alone, and
answers `PrefetchMissing` (HTTP 412, as the spec requires) when a prefetch it needs is absent.

Safety rules are not restated here: naltrexone orders are checked by running the clinical
core's `screen()` on a Patient rebuilt from the prefetched resources, and every number and
citation comes from the evidence base. Cards cite their sources in the detail text and link
every source that has a resolvable address (URL, DOI, PubMed or trial registry id).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from ldnkit.clinical.medications import Recognition, recogniser
from ldnkit.clinical.models import (
    Assessment,
    ConditionEntry,
    Finding,
    Medication,
    Patient,
    Plan,
    PlanOptions,
    fmt_mg,
)
from ldnkit.clinical.response import Advice, ResponderStatus, advise, responder_status
from ldnkit.clinical.screening import screen
from ldnkit.clinical.titration import default_protocol_for, titration_plan
from ldnkit.errors import LdnkitError, NotFound, ValidationError
from ldnkit.evidence import Evidence, default_evidence
from ldnkit.interop import fhir_common as fc
from ldnkit.interop.fhir_export import medication_request
from ldnkit.interop.fhir_import import (
    dosages as _dosages,
)
from ldnkit.interop.fhir_import import (
    dose_mg as _dose_mg,
)
from ldnkit.interop.fhir_import import (
    medication_codings,
    medication_from_resource,
    plan_from_medication_request,
)
from ldnkit.interop.markdown import md_escape, plain

_PATIENT = "Patient/{{context.patientId}}"
_MEDS = "MedicationRequest?patient={{context.patientId}}"
_STATEMENTS = "MedicationStatement?patient={{context.patientId}}"
_CONDITIONS = "Condition?patient={{context.patientId}}&clinical-status=active"
_ALLERGIES = "AllergyIntolerance?patient={{context.patientId}}"
_PAIN = f"Observation?patient={{{{context.patientId}}}}&code={fc.LOINC}|{fc.LOINC_PAIN}&_sort=-date&_count=200"
_ENCOUNTERS = "Encounter?patient={{context.patientId}}&_sort=-date&_count=20"

_ORDER_PREFETCH = {
    "patient": _PATIENT,
    "medications": _MEDS,
    "statements": _STATEMENTS,
    "conditions": _CONDITIONS,
    "allergies": _ALLERGIES,
}
_REQUIRED_CONTEXT = {
    "patient-view": ("userId", "patientId"),
    "order-select": ("userId", "patientId", "selections", "draftOrders"),
    "order-sign": ("userId", "patientId", "draftOrders"),
}


@dataclass(frozen=True)
class Service:
    """One entry of the discovery document; `needs` are the prefetch keys it cannot do without."""

    id: str
    hook: str
    title: str
    description: str
    prefetch: dict[str, str]
    needs: tuple[str, ...]

    def discovery(self) -> dict[str, Any]:
        return {
            "hook": self.hook,
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "prefetch": dict(self.prefetch),
            "usageRequirements": (
                "Send the prefetch keys listed; the service never queries the FHIR server."
            ),
        }


SERVICES: dict[str, Service] = {
    s.id: s
    for s in (
        Service(
            id="ldn-patient-view",
            hook="patient-view",
            title="LDN status",
            description=(
                "Low-dose naltrexone status: current dose, next titration step, responder "
                "status from pain scores (LOINC 72514-3) and overdue follow-up."
            ),
            prefetch={
                "patient": _PATIENT,
                "medications": _MEDS,
                "pain": _PAIN,
                "encounters": _ENCOUNTERS,
            },
            needs=("medications",),
        ),
        Service(
            id="ldn-order-select",
            hook="order-select",
            title="LDN and opioid order safety",
            description=(
                "Warns when an opioid is ordered for a patient on LDN, when naltrexone is "
                "ordered with active opioids or inside the opioid-free window, and offers a "
                "titration plan in place of a fixed 4.5 mg LDN order."
            ),
            prefetch=dict(_ORDER_PREFETCH),
            needs=("medications",),
        ),
        Service(
            id="ldn-order-sign",
            hook="order-sign",
            title="LDN and opioid order safety (at signing)",
            description="The order-select checks, run again on the orders about to be signed.",
            prefetch=dict(_ORDER_PREFETCH),
            needs=("medications",),
        ),
    )
}


def discovery() -> dict[str, Any]:
    """The `GET /cds-services` document."""
    return {"services": [s.discovery() for s in SERVICES.values()]}


class PrefetchMissing(LdnkitError):
    """A prefetch key the service needs was not sent (HTTP 412 Precondition Failed)."""

    def __init__(self, keys: Sequence[str]) -> None:
        self.keys = tuple(keys)
        super().__init__(
            f"prefetch missing: {', '.join(keys)}; send them as the discovery document asks "
            "(this service does not query the FHIR server)"
        )


@dataclass(frozen=True)
class HookRequest:
    """A hook call that passed the shape checks."""

    hook: str
    hook_instance: str
    context: dict[str, Any]
    prefetch: dict[str, Any]


# -- parsing -------------------------------------------------------------------------------
def parse_request(service: Service, body: Any) -> HookRequest:
    """Check a hook request's shape for `service`; raises ValidationError (HTTP 400) naming
    the field, or PrefetchMissing (HTTP 412)."""
    if not isinstance(body, dict):
        raise ValidationError("(body)", "a CDS Hooks request must be a JSON object")
    hook = body.get("hook")
    if not isinstance(hook, str) or not hook:
        raise ValidationError("hook", "required string")
    if hook != service.hook:
        raise ValidationError(
            "hook", f"service {service.id} answers {service.hook!r}, not {hook!r}"
        )
    instance = body.get("hookInstance")
    if not isinstance(instance, str) or not instance.strip():
        raise ValidationError("hookInstance", "required string (a UUID for this hook call)")
    for key in ("fhirServer",):
        if key in body and not isinstance(body[key], str):
            raise ValidationError(key, "must be a URL string")
    if "fhirAuthorization" in body and not isinstance(body["fhirAuthorization"], dict | None):
        raise ValidationError("fhirAuthorization", "must be an object")
    context = body.get("context")
    if not isinstance(context, dict):
        raise ValidationError("context", "required object")
    for key in _REQUIRED_CONTEXT[hook]:
        if key not in context or context[key] in (None, ""):
            raise ValidationError(f"context.{key}", f"required for {hook}")
    for key in ("userId", "patientId", "encounterId"):
        if key in context and not isinstance(context[key], str):
            raise ValidationError(f"context.{key}", "must be a string")
    if "selections" in context:
        sel = context["selections"]
        if not isinstance(sel, list) or not all(isinstance(s, str) and "/" in s for s in sel):
            raise ValidationError("context.selections", "must be a list of 'Type/id' strings")
    if "draftOrders" in context:
        _bundle_resources(context["draftOrders"], "context.draftOrders")
    prefetch = body.get("prefetch") or {}
    if not isinstance(prefetch, dict):
        raise ValidationError("prefetch", "must be an object")
    for key, value in prefetch.items():
        if value is not None and not (isinstance(value, dict) and "resourceType" in value):
            raise ValidationError(f"prefetch.{key}", "must be a FHIR resource, a Bundle or null")
        if isinstance(value, dict) and value.get("resourceType") == "Bundle":
            _bundle_resources(value, f"prefetch.{key}")
    missing = [k for k in service.needs if k not in prefetch]
    if missing:
        raise PrefetchMissing(missing)
    return HookRequest(hook=hook, hook_instance=instance, context=context, prefetch=prefetch)


def _bundle_resources(value: Any, where: str) -> list[dict[str, Any]]:
    """The resources of a Bundle-shaped JSON value (lenient: spec examples are not all valid
    FHIR, so incoming resources are read by shape, and only what ldnkit emits is validated)."""
    if value is None:
        return []
    if not isinstance(value, dict) or value.get("resourceType") != "Bundle":
        raise ValidationError(where, "must be a FHIR Bundle")
    entries = value.get("entry") or []
    if not isinstance(entries, list):
        raise ValidationError(f"{where}.entry", "must be a list")
    out = []
    for i, e in enumerate(entries):
        res = e.get("resource") if isinstance(e, dict) else None
        if not isinstance(res, dict) or not isinstance(res.get("resourceType"), str):
            raise ValidationError(f"{where}.entry[{i}].resource", "must be a FHIR resource")
        out.append(res)
    return out


def _resources(prefetch: dict[str, Any], key: str, rtype: str) -> list[dict[str, Any]]:
    value = prefetch.get(key)
    if isinstance(value, dict) and value.get("resourceType") == rtype:
        return [value]
    if isinstance(value, dict) and value.get("resourceType") == "Bundle":
        return [r for r in _bundle_resources(value, key) if r.get("resourceType") == rtype]
    return []


# -- reading medication resources ----------------------------------------------------------
def _concept_text(concept: Any) -> str:
    if not isinstance(concept, dict):
        return ""
    if concept.get("text"):
        return str(concept["text"])
    return " ".join(str(c.get("display") or "") for c in concept.get("coding") or []).strip()


def med_name(res: dict[str, Any]) -> str:
    """A medication's name as written in a MedicationRequest/Statement."""
    name = _concept_text(res.get("medicationCodeableConcept"))
    if not name and isinstance(res.get("medicationReference"), dict):
        name = str(res["medicationReference"].get("display") or "")
    return name


def _date(value: Any) -> dt.date | None:
    if isinstance(value, str) and len(value) >= 10:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _bounds(dosage: dict[str, Any]) -> tuple[dt.date | None, dt.date | None]:
    rep = (dosage.get("timing") or {}).get("repeat") or {}
    b = rep.get("boundsPeriod") or {}
    return _date(b.get("start")), _date(b.get("end"))


def _order_start(res: dict[str, Any]) -> dt.date | None:
    starts = [s for d in _dosages(res) if (s := _bounds(d)[0]) is not None]
    return min(starts) if starts else None


def core_medication(res: dict[str, Any]) -> Medication | None:
    """A core Medication (codes included) from a MedicationRequest/Statement; None when it does
    not count."""
    return medication_from_resource(res)


def _recognition(res: dict[str, Any], ev: Evidence) -> Recognition:
    """What an order or statement contains: its codes first, then its text (the same
    recognition screening applies)."""
    codes = medication_codings(res.get("medicationCodeableConcept"))
    return recogniser(ev).medication(med_name(res) or "(no name)", codes)


def _is_naltrexone(res: dict[str, Any], ev: Evidence) -> bool:
    """Naltrexone that is not the naltrexone-bupropion combination and holds no opioid."""
    rec = _recognition(res, ev)
    return rec.has_naltrexone and not rec.opioids and rec.form != "naltrexone_bupropion"


def _is_ldn(res: dict[str, Any], ev: Evidence) -> bool:
    rec = _recognition(res, ev)
    if not _is_naltrexone(res, ev) or rec.form in ("naltrexone_depot", "standard_naltrexone"):
        return False
    if rec.form == "ldn":
        return True
    doses = [d for x in _dosages(res) if (d := _dose_mg(x)) is not None]
    # Unknown dose: a naltrexone order still blocks opioids, so treat it as LDN for safety.
    return not doses or max(doses) <= ev.dosing.general.maximum_mg.max


# -- evidence links ------------------------------------------------------------------------
def _source_url(ref_url: str | None, identifier: str | None) -> str | None:
    if ref_url:
        return ref_url
    for part in (identifier or "").split(";"):
        part = part.strip()
        if part.lower().startswith("doi:"):
            return f"https://doi.org/{part[4:]}"
        if part.upper().startswith("PMID:"):
            return f"https://pubmed.ncbi.nlm.nih.gov/{part[5:]}/"
        if part.upper().startswith("NCT"):
            return f"https://clinicaltrials.gov/study/{part}"
    return None


def _cite(ids: Iterable[str], ev: Evidence) -> tuple[str, list[dict[str, Any]], str | None]:
    """(markdown citation list, card links, first URL) for source ids, de-duplicated."""
    lines, links, first = [], [], None
    for ref in ev.cite(dict.fromkeys(ids)):
        lines.append(f"- [{ref.id}] {ref.citation()}")
        url = _source_url(ref.url, ref.identifier)
        if url:
            first = first or url
            label = ref.citation()
            links.append(
                {
                    "label": label if len(label) <= 120 else label[:117] + "...",
                    "url": url,
                    "type": "absolute",
                }
            )
    return "\n".join(lines), links, first


def _card(
    hook_instance: str,
    code: str,
    *,
    summary: str,
    detail: str,
    indicator: str,
    sources: Sequence[str],
    ev: Evidence,
    suggestions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    cited, links, first = _cite(sources, ev)
    card: dict[str, Any] = {
        "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"ldnkit:{hook_instance}:{code}")),
        "summary": summary if len(summary) < 140 else summary[:136] + "...",
        "detail": f"{detail}\n\n**Sources**\n{cited}",
        "indicator": indicator,
        "source": {
            "label": "ldnkit LDN evidence base",
            "topic": {"system": fc.SYS_FINDING, "code": code},
        },
        "links": links,
    }
    if first:
        card["source"]["url"] = first
    if suggestions:
        card["suggestions"] = suggestions
        card["selectionBehavior"] = "at-most-one"
    else:
        card["overrideReasons"] = [
            {"system": "urn:ldnkit:override-reason", "code": code, "display": text}
            for code, text in (
                ("benefit-outweighs-risk", "Benefit outweighs risk; will monitor"),
                ("already-addressed", "Already addressed with the patient"),
            )
        ]
    return card


# -- order-select / order-sign -------------------------------------------------------------
@dataclass
class _Chart:
    """What the prefetch tells about the patient, as core models."""

    patient: Patient
    ldn: list[dict[str, Any]] = field(default_factory=list)


def _chart(req: HookRequest, ev: Evidence, extra: Sequence[dict[str, Any]] = ()) -> _Chart:
    pid = str(req.context["patientId"])
    pres = _resources(req.prefetch, "patient", "Patient")
    sex = (pres[0].get("gender") if pres else None) or "unknown"
    meds_res = [
        *_resources(req.prefetch, "medications", "MedicationRequest"),
        *_resources(req.prefetch, "statements", "MedicationStatement"),
        *extra,
    ]
    meds = [m for r in meds_res if (m := core_medication(r)) is not None]
    conditions = []
    for c in _resources(req.prefetch, "conditions", "Condition"):
        if match := condition_id(_concept_text(c.get("code")), ev):
            conditions.append(ConditionEntry(code=match))
    allergies = [
        t
        for a in _resources(req.prefetch, "allergies", "AllergyIntolerance")
        if (t := _concept_text(a.get("code")))
    ]
    # A full birth date lets screening see a child (FHIR also allows "2010" or "2010-05").
    birth = pres[0].get("birthDate") if pres else None
    patient = Patient(
        id=fc.fhir_id(pid),
        birth_date=_date(birth) if isinstance(birth, str) and len(birth) == 10 else None,
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
        and _is_ldn(r, ev)
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
    drafts = _bundle_resources(req.context.get("draftOrders"), "context.draftOrders")
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
    ldn_names = ", ".join(sorted({md_escape(med_name(r)) for r in chart.ldn}))
    drug = md_escape(med_name(order))
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
    return _card(
        req.hook_instance,
        f"OPIOID_ON_LDN:{order.get('id')}",
        summary=f"Patient on LDN: {plain(med_name(order))} analgesia will be blocked; hold LDN before planned opioid use",
        detail=detail,
        indicator="critical",
        sources=sources,
        ev=ev,
    )


_OPIOID_CODES = ("ACTIVE_OPIOID", "OPIOID_WASHOUT", "OPIOID_LAST_DOSE_UNKNOWN")
_ASK_CODES = ("UNRECOGNISED_MEDICATION", "NALTREXONE_DOSE_UNKNOWN")


def _naltrexone_cards(
    req: HookRequest, order: dict[str, Any], chart: _Chart, today: dt.date, ev: Evidence
) -> tuple[list[dict[str, Any]], Assessment]:
    """Cards for a naltrexone order from the core's screening, and the screening itself."""
    start = max(_order_start(order) or today, today)
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
            _card(
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
            _card(
                req.hook_instance,
                f"{f.code}:{order.get('id')}",
                summary=f"Naltrexone order: {plain(f.title)}",
                detail=md_escape(f.message),
                indicator="critical" if f.severity == "contraindicated" else "warning",
                sources=f.sources,
                ev=ev,
            )
        )
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
    start = max(_order_start(order) or today, today, not_before or today)
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
    return _card(
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
    req: HookRequest, today: dt.date, evidence: Evidence | None = None
) -> list[dict[str, Any]]:
    """Cards for order-select / order-sign: opioid on LDN, naltrexone with opioids, fixed dose."""
    ev = evidence or default_evidence()
    selected, others = _selected(req)
    cards: list[dict[str, Any]] = []
    chart = _chart(req, ev, extra=[o for o in others if o.get("status") in ("draft", "active")])
    for order in selected:
        if not med_name(order) and not order.get("medicationCodeableConcept"):
            continue
        rec = _recognition(order, ev)
        if rec.opioids:
            if chart.ldn:
                cards.append(_opioid_on_ldn_card(req, order, chart, ev))
        elif rec.has_naltrexone:
            found, assessment = _naltrexone_cards(req, order, chart, today, ev)
            cards += found
            # A titration plan is offered only where starting is possible: now, or from the
            # earliest safe date screening gives; never when naltrexone is contraindicated.
            startable = assessment.status != "contraindicated" and (
                assessment.status != "not_yet" or assessment.earliest_start is not None
            )
            if startable and _is_ldn(order, ev):
                card = _fixed_dose_card(
                    req, order, chart, today, ev, not_before=assessment.earliest_start
                )
                if card is not None:
                    cards.append(card)
    return cards


# -- patient-view --------------------------------------------------------------------------
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
        _resources(req.prefetch, "pain", "Observation"),
        key=lambda o: str(o.get("effectiveDateTime") or ""),
    ):
        codes = _codes(obs.get("code"))
        if (fc.LOINC, fc.LOINC_PAIN) not in codes or obs.get("status") not in _FINAL:
            continue
        period = obs.get("effectivePeriod") or {}
        day = _date(obs.get("effectiveDateTime") or period.get("start"))
        value = obs.get("valueInteger", (obs.get("valueQuantity") or {}).get("value"))
        if day is None or isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if 0 <= value <= 10 and value == int(value):
            days[day] = int(value)
    return [_PainDay(entry_date=d, pain=v) for d, v in sorted(days.items())]


def _codes(concept: Any) -> set[tuple[Any, Any]]:
    if not isinstance(concept, dict):
        return set()
    return {(c.get("system"), c.get("code")) for c in concept.get("coding") or []}


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
        for r in _resources(req.prefetch, "medications", "MedicationRequest")
        if r.get("status") in ("active", "on-hold") and _is_ldn(r, ev)
    ]
    if not orders:
        return None
    order = max(orders, key=lambda r: _order_start(r) or dt.date.min)
    plan = plan_from_medication_request(order, str(req.context["patientId"]), ev)
    if plan is None:
        doses = [d for x in _dosages(order) if (d := _dose_mg(x)) is not None]
        return LdnStatus(
            med_name(order), None, max(doses, default=None), None, None, None, None, ()
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
        _date((e.get("period") or {}).get("start"))
        for e in _resources(req.prefetch, "encounters", "Encounter")
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
        drug=med_name(order),
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
    req: HookRequest, today: dt.date, evidence: Evidence | None = None
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
    return [
        _card(
            req.hook_instance,
            "LDN_STATUS",
            summary=f"{now}{nxt}; {label}{overdue}",
            detail="\n".join(lines),
            indicator="warning" if st.overdue else "info",
            sources=sources,
            ev=ev,
        )
    ]


def cards(
    service_id: str, body: Any, today: dt.date, evidence: Evidence | None = None
) -> dict[str, Any]:
    """The whole service call: parse, decide, answer `{"cards": [...]}`."""
    service = SERVICES.get(service_id)
    if service is None:
        raise NotFound("CDS service", service_id, sorted(SERVICES))
    req = parse_request(service, body)
    try:
        if service.hook == "patient-view":
            return {"cards": patient_view_cards(req, today, evidence)}
        return {"cards": order_cards(req, today, evidence)}
    except LdnkitError:
        raise
    except (AttributeError, TypeError, KeyError, ValueError, InvalidOperation) as exc:
        # Incoming resources are read leniently (the spec's own examples are not strictly
        # valid FHIR); content of the wrong JSON type deep inside one is still the caller's
        # malformed request, not a server error.
        raise ValidationError(
            "context", f"malformed FHIR content ({exc.__class__.__name__}: {exc})"[:300]
        ) from None


_OUTCOMES = ("accepted", "overridden")


#: Feedback is stored; these bound what one call can make the store hold.
MAX_FEEDBACK_ITEMS = 100
_MAX_ID = 128


def parse_feedback(body: Any) -> list[dict[str, Any]]:
    """Check a CDS Hooks feedback body; returns its items (ids and codes only, for logging)."""
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("feedback"), list)
        or not body["feedback"]
    ):
        raise ValidationError("feedback", "required non-empty list")
    if len(body["feedback"]) > MAX_FEEDBACK_ITEMS:
        raise ValidationError("feedback", f"at most {MAX_FEEDBACK_ITEMS} items per call")
    out = []
    for i, item in enumerate(body["feedback"]):
        where = f"feedback[{i}]"
        if not isinstance(item, dict):
            raise ValidationError(where, "must be an object")
        if not isinstance(item.get("card"), str) or not 0 < len(item["card"]) <= _MAX_ID:
            raise ValidationError(f"{where}.card", f"required card uuid (1-{_MAX_ID} characters)")
        if item.get("outcome") not in _OUTCOMES:
            raise ValidationError(f"{where}.outcome", "must be 'accepted' or 'overridden'")
        stamp = item.get("outcomeTimestamp")
        if not isinstance(stamp, str) or not 0 < len(stamp) <= 64:
            raise ValidationError(f"{where}.outcomeTimestamp", "required instant")
        accepted = item.get("acceptedSuggestions") or []
        if (
            not isinstance(accepted, list)
            or len(accepted) > MAX_FEEDBACK_ITEMS
            or not all(
                isinstance(a, dict) and isinstance(a.get("id"), str) and len(a["id"]) <= _MAX_ID
                for a in accepted
            )
        ):
            raise ValidationError(f"{where}.acceptedSuggestions", "must be a list of {id}")
        if item["outcome"] == "accepted" and not accepted and "overrideReason" in item:
            raise ValidationError(f"{where}.overrideReason", "only for overridden cards")
        reason = item.get("overrideReason")
        code = None
        if reason is not None:
            if not isinstance(reason, dict):
                raise ValidationError(f"{where}.overrideReason", "must be an object")
            code = (
                (reason.get("reason") or {}).get("code")
                if isinstance(reason.get("reason"), dict)
                else None
            )
            if code is not None and (not isinstance(code, str) or len(code) > _MAX_ID):
                raise ValidationError(f"{where}.overrideReason.reason.code", "must be a short code")
        out.append(
            {
                "card": item["card"],
                "outcome": item["outcome"],
                "accepted": [a["id"] for a in accepted],
                "override_code": code,
                "at": item["outcomeTimestamp"],
            }
        )
    return out
