"""Plain HTML form fields -> the dictionaries the core models validate.

Forms post strings; these functions only reshape them (split lines, map checkboxes, drop blank
fields) and leave every rule to the core models, so the pages and the API reject the same
inputs with the same reasons. Malformed lines are reported with the form field that holds them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from ldnkit.errors import ValidationError
from ldnkit.inputs import parse_date

Form = Mapping[str, Any]


def text(form: Form, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def values(form: Any) -> dict[str, Any]:
    """The submitted values to put back into a re-displayed form (lists kept as lists)."""
    out: dict[str, Any] = {}
    for key in form:
        items = form.getlist(key) if hasattr(form, "getlist") else [form[key]]
        items = [v for v in items if isinstance(v, str)]
        if key in ("password", "account_password", "csrf_token"):
            continue
        out[key] = items if len(items) > 1 or key in _MULTI else (items[0] if items else "")
    return out


_MULTI = {"conditions", "side_effects"}


def optional_date(form: Form, name: str) -> dt.date | None:
    raw = text(form, name)
    return parse_date(name, raw) if raw else None


def required_date(form: Form, name: str) -> dt.date:
    raw = text(form, name)
    if not raw:
        raise ValidationError(name, "required")
    return parse_date(name, raw)


def _lines(form: Form, name: str) -> list[list[str]]:
    raw = text(form, name)
    return [[p.strip() for p in line.split(";")] for line in raw.splitlines() if line.strip()]


def profile_from_form(form: Any) -> dict[str, Any]:
    """The clinical profile fields of the new-patient / screening form."""
    profile: dict[str, Any] = {}
    for name in (
        "sex",
        "hepatic_status",
        "renal_status",
        "pregnancy",
        "naloxone_challenge",
        "paediatric_override",
    ):
        if text(form, name):
            profile[name] = text(form, name)
    profile["breastfeeding"] = text(form, "breastfeeding") == "on"
    if text(form, "weight_kg"):
        profile["weight_kg"] = text(form, "weight_kg")
    profile["opioid_use_disorder_history"] = text(form, "opioid_use_disorder_history") == "on"
    codes = form.getlist("conditions") if hasattr(form, "getlist") else []
    profile["conditions"] = [{"code": c} for c in codes if isinstance(c, str) and c.strip()]
    meds = []
    for i, parts in enumerate(_lines(form, "medications"), start=1):
        med: dict[str, Any] = {"name": parts[0]}
        if len(parts) > 1 and parts[1]:
            med["dose_mg"] = parts[1].removesuffix("mg").strip()
        if len(parts) > 2 and parts[2]:
            med["active"] = False
            try:
                med["last_dose"] = dt.date.fromisoformat(parts[2])
            except ValueError:
                raise ValidationError(
                    "medications", f"line {i}: last dose {parts[2]!r} is not YYYY-MM-DD"
                ) from None
        if len(parts) > 3:
            raise ValidationError("medications", f"line {i}: use 'name; dose mg; last dose'")
        meds.append(med)
    profile["medications"] = meds
    allergies = [a.strip() for a in text(form, "allergies").split(",") if a.strip()]
    profile["allergies"] = allergies
    therapies = []
    for i, parts in enumerate(_lines(form, "prior_therapies"), start=1):
        if len(parts) > 2:
            raise ValidationError("prior_therapies", f"line {i}: use 'name; outcome'")
        item: dict[str, Any] = {"name": parts[0]}
        if len(parts) > 1 and parts[1]:
            item["outcome"] = parts[1]
        therapies.append(item)
    profile["prior_therapies"] = therapies
    procedures = []
    if text(form, "procedure_name") or text(form, "procedure_date"):
        procedures.append(
            {
                "name": text(form, "procedure_name"),
                "date": required_date(form, "procedure_date"),
                "opioids_expected": text(form, "procedure_opioids") == "on",
            }
        )
    profile["planned_procedures"] = procedures
    return profile


PLAN_OPTION_FIELDS = (
    "start_mg",
    "step_mg",
    "interval_days",
    "target_mg",
    "ceiling_mg",
    "timing",
    "follow_up_days",
    "review_after_days",
)


def plan_options_from_form(form: Form) -> dict[str, Any]:
    """Only the options the clinician filled in; blank means the protocol's default."""
    out: dict[str, Any] = {k: text(form, k) for k in PLAN_OPTION_FIELDS if text(form, k)}
    if text(form, "surgery_date"):
        out["surgery_date"] = text(form, "surgery_date")
    return out


def diary_from_form(form: Any, entry_date: dt.date) -> dict[str, Any]:
    """The diary form: scales, dose taken, side effects with severity, a note."""
    data: dict[str, Any] = {"entry_date": text(form, "entry_date") or entry_date.isoformat()}
    if not text(form, "pain"):
        raise ValidationError("pain", "required: choose a number from 0 to 10")
    for name in ("pain", "sleep", "mood", "energy", "clarity"):
        if text(form, name):
            data[name] = text(form, name)
    taken = text(form, "dose_taken")
    if taken not in ("yes", "no"):
        raise ValidationError("dose_taken", "say whether you took tonight's dose")
    data["dose_taken"] = taken == "yes"
    if data["dose_taken"]:
        if text(form, "dose_time"):
            data["dose_time"] = text(form, "dose_time")
        if text(form, "dose_mg"):
            data["dose_mg"] = text(form, "dose_mg")
    effects = []
    codes = form.getlist("side_effects") if hasattr(form, "getlist") else []
    for code in codes:
        if isinstance(code, str) and code:
            effects.append({"code": code, "severity": text(form, f"severity_{code}") or "mild"})
    data["side_effects"] = effects
    if text(form, "note"):
        data["note"] = text(form, "note")
    return data


__all__ = [
    "PLAN_OPTION_FIELDS",
    "diary_from_form",
    "optional_date",
    "plan_options_from_form",
    "profile_from_form",
    "required_date",
    "text",
    "values",
]
