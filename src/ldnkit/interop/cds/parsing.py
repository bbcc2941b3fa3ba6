"""Reading a CDS Hooks request: its shape checks, the prefetched resources, and the feedback body.

Lenient by design: the specification's own examples are not all valid FHIR, so incoming
resources are read by shape (`ldnkit.interop.fhir.common` reads their codes and dates), and
only what ldnkit emits is validated. Every refusal is a ValidationError naming the field (HTTP
400) or PrefetchMissing (HTTP 412).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ldnkit.clinical.medications import Recognition, recogniser
from ldnkit.errors import LdnkitError, ValidationError
from ldnkit.evidence import Evidence
from ldnkit.interop.fhir import common as fc
from ldnkit.interop.fhir.reading import (
    dosages as _dosages,
)
from ldnkit.interop.fhir.reading import (
    dose_mg as _dose_mg,
)
from ldnkit.interop.fhir.reading import (
    medication_codings,
)

if TYPE_CHECKING:
    from ldnkit.interop.cds.services import Service

_REQUIRED_CONTEXT = {
    "patient-view": ("userId", "patientId"),
    "order-select": ("userId", "patientId", "selections", "draftOrders"),
    "order-sign": ("userId", "patientId", "draftOrders"),
}


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
        bundle_resources(context["draftOrders"], "context.draftOrders")
    prefetch = body.get("prefetch") or {}
    if not isinstance(prefetch, dict):
        raise ValidationError("prefetch", "must be an object")
    for key, value in prefetch.items():
        if value is not None and not (isinstance(value, dict) and "resourceType" in value):
            raise ValidationError(f"prefetch.{key}", "must be a FHIR resource, a Bundle or null")
        if isinstance(value, dict) and value.get("resourceType") == "Bundle":
            bundle_resources(value, f"prefetch.{key}")
    missing = [k for k in service.needs if k not in prefetch]
    if missing:
        raise PrefetchMissing(missing)
    return HookRequest(hook=hook, hook_instance=instance, context=context, prefetch=prefetch)


def bundle_resources(value: Any, where: str) -> list[dict[str, Any]]:
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


def prefetch_resources(prefetch: dict[str, Any], key: str, rtype: str) -> list[dict[str, Any]]:
    """The resources of type `rtype` under a prefetch key (one resource or a Bundle)."""
    value = prefetch.get(key)
    if isinstance(value, dict) and value.get("resourceType") == rtype:
        return [value]
    if isinstance(value, dict) and value.get("resourceType") == "Bundle":
        return [r for r in bundle_resources(value, key) if r.get("resourceType") == rtype]
    return []


def _bounds(dosage: dict[str, Any]) -> tuple[dt.date | None, dt.date | None]:
    rep = (dosage.get("timing") or {}).get("repeat") or {}
    b = rep.get("boundsPeriod") or {}
    return fc.fhir_date(b.get("start")), fc.fhir_date(b.get("end"))


def order_start(res: dict[str, Any]) -> dt.date | None:
    """The first day an order's dosage schedule names, if any."""
    starts = [s for d in _dosages(res) if (s := _bounds(d)[0]) is not None]
    return min(starts) if starts else None


def recognition(res: dict[str, Any], ev: Evidence) -> Recognition:
    """What an order or statement contains: its codes first, then its text (the same
    recognition screening applies)."""
    codes = medication_codings(res.get("medicationCodeableConcept"))
    return recogniser(ev).medication(fc.medication_text(res) or "(no name)", codes)


def _is_naltrexone(res: dict[str, Any], ev: Evidence) -> bool:
    """Naltrexone that is not the naltrexone-bupropion combination and holds no opioid."""
    rec = recognition(res, ev)
    return rec.has_naltrexone and not rec.opioids and rec.form != "naltrexone_bupropion"


def is_ldn(res: dict[str, Any], ev: Evidence) -> bool:
    """Low-dose naltrexone (by form, else by a dose within the LDN maximum; an order without a
    dose counts, for safety)."""
    rec = recognition(res, ev)
    if not _is_naltrexone(res, ev) or rec.form in ("naltrexone_depot", "standard_naltrexone"):
        return False
    if rec.form == "ldn":
        return True
    doses = [d for x in _dosages(res) if (d := _dose_mg(x)) is not None]
    # Unknown dose: a naltrexone order still blocks opioids, so treat it as LDN for safety.
    return not doses or max(doses) <= ev.dosing.general.maximum_mg.max


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
