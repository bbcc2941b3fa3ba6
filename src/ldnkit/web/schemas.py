"""Request and response bodies of the JSON API (they make the OpenAPI schema).

Clinical bodies reuse the core's models (`Patient`, `PlanOptions`, `Assessment`, `Plan`,
`DiaryEntry`), so the API accepts exactly what the core accepts and nothing is re-declared.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

from ldnkit.clinical.history import OverrideReason
from ldnkit.clinical.models import Patient, PlanOptions

_IDENTITY = ("id", "name", "birth_date")


def _nul_path(value: Any, path: str) -> str | None:
    """The first field path whose text (or key) holds a NUL character, else None."""
    if isinstance(value, str):
        return (path or "(body)") if "\x00" in value else None
    if isinstance(value, dict):
        pairs: list[tuple[Any, Any]] = list(value.items())
    elif isinstance(value, list | tuple):
        pairs = list(enumerate(value))
    else:
        return None
    for key, item in pairs:
        if isinstance(key, str) and "\x00" in key:
            return path or "(body)"
        if (found := _nul_path(item, f"{path}.{key}" if path else str(key))) is not None:
            return found
    return None


class _In(BaseModel):
    """Every API input: unknown keys refused, text trimmed, NUL characters refused (PostgreSQL
    cannot store them and no clinical text needs them)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        if (where := _nul_path(data, "")) is not None:
            raise ValueError(f"{where}: contains a NUL character")
        return data


#: The clinical part of a patient record: the core `Patient` without its identity fields.
ClinicalProfile: type[BaseModel] = create_model(  # type: ignore[call-overload]
    "ClinicalProfile",
    __config__=ConfigDict(extra="forbid", str_strip_whitespace=True),
    **{k: (f.annotation, f) for k, f in Patient.model_fields.items() if k not in _IDENTITY},
)


class LoginIn(_In):
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=1024)


class TokenOut(BaseModel):
    token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    user_id: int
    role: str


class MeOut(BaseModel):
    user_id: int
    username: str
    role: str
    clinician_id: int | None
    patient_id: int | None


class AccountIn(_In):
    """An optional login for the patient, created with the record."""

    username: str = Field(min_length=3, max_length=150, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str = Field(min_length=8, max_length=1024)


class PatientIn(_In):
    given_name: str = Field(min_length=1, max_length=200)
    family_name: str = Field(min_length=1, max_length=200)
    birth_date: dt.date | None = None
    mrn: str | None = Field(default=None, max_length=64)
    profile: ClinicalProfile = Field(default_factory=lambda: ClinicalProfile())  # type: ignore[valid-type]
    account: AccountIn | None = None


class PatientOut(BaseModel):
    id: int
    clinician_id: int
    given_name: str
    family_name: str
    birth_date: dt.date | None
    mrn: str | None
    profile: dict[str, Any]


class PatientSummaryOut(BaseModel):
    id: int
    given_name: str
    family_name: str
    screening: str | None
    screened_on: dt.date | None
    current_dose_mg: Decimal | None
    plan_version: int | None
    responder: str | None
    last_entry: dt.date | None
    days_since_entry: int | None


class ScreenIn(_In):
    on: dt.date


class ScreenPreviewIn(_In):
    patient: Patient
    on: dt.date


class AssessmentOut(BaseModel):
    id: int
    patient_id: int
    assessed_on: dt.date
    status: str
    payload: dict[str, Any]


class PlanIn(_In):
    protocol_id: str | None = Field(default=None, max_length=64)
    start: dt.date
    options: PlanOptions = Field(default_factory=PlanOptions)


class PlanPreviewIn(PlanIn):
    patient: Patient


class PlanOut(BaseModel):
    id: int
    patient_id: int
    version: int
    protocol_id: str
    start_date: dt.date
    created_at: dt.datetime
    plan: dict[str, Any]


class DiaryOut(BaseModel):
    id: int
    entry_date: dt.date
    revision: int
    superseded: bool
    pain: int
    sleep: int | None
    mood: int | None
    energy: int | None
    clarity: int | None
    dose_taken: bool
    dose_time: dt.time | None
    dose_mg: Decimal | None
    side_effects: list[dict[str, str]]
    note: str | None
    recorded_at: dt.datetime


class AdviceOut(BaseModel):
    """Today's advice; `audience` says whose wording it is (a patient gets no dose/reasons)."""

    available: bool
    code: str
    rule: str
    title: str
    message: str
    reasons: list[str]
    sources: list[str]
    responder: str | None
    responder_detail: str | None
    current_dose_mg: Decimal | None
    suggested_dose_mg: Decimal | None
    suggested_timing: str | None
    plan_dose_mg: Decimal | None
    plan_timing: str | None
    differs_from_plan: bool
    safety_finding: bool
    blocked: list[str]
    intolerable_mg: list[Decimal]
    missing_days: int
    sparse: bool
    patient_title: str
    patient_message: str
    check_with_clinic: bool
    audience: Literal["clinician", "patient"]


class DoseOverrideIn(_In):
    """A clinician's decision to allow a dose found intolerable (audited)."""

    dose_mg: Decimal = Field(gt=0, le=50, decimal_places=3)
    effective_on: dt.date
    reason: OverrideReason
    note: str | None = Field(default=None, max_length=2000)


class DoseOverrideOut(BaseModel):
    id: int
    patient_id: int
    dose_mg: Decimal
    effective_on: dt.date
    reason: str
    note: str | None
    created_at: dt.datetime
    created_by: str


class AuditOut(BaseModel):
    id: int
    at: dt.datetime
    actor: str
    action: str
    entity: str
    entity_id: int | None
    details: dict[str, Any]


class ClinicianIn(_In):
    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    username: str = Field(min_length=3, max_length=150, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str = Field(min_length=8, max_length=1024)


class ClinicianOut(BaseModel):
    clinician_id: int
    user_id: int
    username: str


__all__ = [
    "AccountIn",
    "AdviceOut",
    "AssessmentOut",
    "AuditOut",
    "ClinicalProfile",
    "ClinicianIn",
    "ClinicianOut",
    "DiaryOut",
    "DoseOverrideIn",
    "DoseOverrideOut",
    "LoginIn",
    "MeOut",
    "PatientIn",
    "PatientOut",
    "PatientSummaryOut",
    "PlanIn",
    "PlanOut",
    "PlanPreviewIn",
    "ScreenIn",
    "ScreenPreviewIn",
    "TokenOut",
]
