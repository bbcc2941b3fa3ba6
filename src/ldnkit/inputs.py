"""Parse untrusted input (YAML files, date strings) into core models with clear errors.

Every failure becomes `ValidationError(field, reason)` naming the field path, so the CLI can
print one line and the web app can answer 422 with the same field path.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from ldnkit.clinical.models import Patient
from ldnkit.errors import ValidationError
from ldnkit.yamlio import DuplicateKeyError, describe_error, load_yaml

_M = TypeVar("_M", bound=BaseModel)


def validation_error(exc: PydanticValidationError, prefix: str = "") -> ValidationError:
    """The first pydantic error as ours: dotted field path and a readable reason."""
    err = exc.errors()[0]
    path = ".".join(str(p) for p in err["loc"])
    field = f"{prefix}.{path}" if prefix and path else (prefix or path or "(root)")
    reason = err["msg"]
    if err["type"] == "extra_forbidden":
        reason = "unknown key"
    elif err["type"] == "missing":
        reason = "required field missing"
    return ValidationError(field, reason)


def parse_model(model: type[_M], data: Any, prefix: str = "") -> _M:
    """Validate `data` into `model`, translating pydantic errors."""
    try:
        return model.model_validate(data)
    except PydanticValidationError as exc:
        raise validation_error(exc, prefix) from None


def load_patient(path: Path | str) -> Patient:
    """Read a patient YAML file (see examples/)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValidationError("PATIENT", f"file not found: {p}") from None
    except OSError as exc:
        raise ValidationError("PATIENT", f"cannot read {p}: {exc.strerror}") from None
    try:
        data = load_yaml(text)
    except DuplicateKeyError as exc:
        raise ValidationError(str(exc.key), f"{p.name}: {describe_error(exc)}") from None
    except yaml.YAMLError as exc:
        raise ValidationError("PATIENT", f"{p.name}: {describe_error(exc)}") from None
    if not isinstance(data, dict):
        raise ValidationError("PATIENT", f"{p.name} must hold a mapping of patient fields")
    return parse_model(Patient, data)


def parse_date(field: str, text: str) -> date:
    """An ISO date (YYYY-MM-DD) or a ValidationError naming the field."""
    try:
        return date.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        raise ValidationError(field, f"{text!r} is not a date (expected YYYY-MM-DD)") from None


def past_start_warning(start: date, today: date) -> str | None:
    """A warning when a plan starts before today: its first steps are already history, which
    is right for recording a plan begun elsewhere and wrong for a typo in the year."""
    if start >= today:
        return None
    days = (today - start).days
    return (
        f"warning: the plan starts {start.isoformat()}, {days} day{'s' if days != 1 else ''} "
        f"before today ({today.isoformat()}); check the start date"
    )


def parse_mg(field: str, text: str) -> Decimal:
    """A positive dose in mg, kept exact."""
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, AttributeError):
        raise ValidationError(field, f"{text!r} is not a number of mg") from None
    if not value.is_finite() or value <= 0:
        raise ValidationError(field, f"{text} mg: a dose must be positive")
    return value
