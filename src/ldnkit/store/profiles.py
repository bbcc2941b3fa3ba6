"""A stored patient's clinical profile as the core's `Patient`.

The profile is JSON written by earlier input, so it is validated again on the way out. Identity
(name) is left out: screening and advice do not need it, so it never travels into them.
"""

from __future__ import annotations

from typing import Any

from ldnkit.clinical.models import Patient
from ldnkit.inputs import parse_model


def core_patient(patient_id: int, profile: dict[str, Any] | None) -> Patient:
    """The core patient for a stored profile; the store id is authoritative."""
    data = {k: v for k, v in (profile or {}).items() if k not in ("id", "name")}
    return parse_model(Patient, {**data, "id": str(patient_id)}, prefix="profile")


__all__ = ["core_patient"]
