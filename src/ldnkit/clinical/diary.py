"""The patient diary entry: one day's pain, sleep, mood, energy, clarity, dose and side effects.

This is the pure model every shell validates diary input into before anything is stored, so
an entry with pain 11, a date after "today" or an unknown side effect is refused in one place
with the field and the reason, whichever door (CLI, CSV import, web form, API) it came in by.
The core never reads the clock: the caller passes `today`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError

from ldnkit.errors import ValidationError
from ldnkit.evidence import Evidence, default_evidence

SideEffectSeverity = Literal["mild", "moderate", "severe"]
SEVERITIES: tuple[str, ...] = ("mild", "moderate", "severe")
SCALE_FIELDS: tuple[str, ...] = ("pain", "sleep", "mood", "energy", "clarity")
NOTE_MAX_CHARS = 2000
#: The earliest diary day accepted. The diary records a current treatment course; a date
#: decades back (0001-01-01, 1900-01-01) is a typo or a probe, and the calendar arithmetic
#: downstream (weeks on a dose, trends) has no use for it.
EARLIEST_ENTRY_DATE = dt.date(1990, 1, 1)
_CONTROL = frozenset(chr(c) for c in range(32) if chr(c) not in "\t\n\r") | {"\x7f"}


class SideEffectReport(BaseModel):
    """One coded side effect and how bad it was on that day."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    severity: SideEffectSeverity


class DiaryEntry(BaseModel):
    """One patient's diary for one day; scales are 0-10 numeric rating scales.

    Only pain is required: a patient who skips the other questions still gives the one number
    the response rules need. Higher is better for sleep, mood, energy and clarity; higher is
    worse for pain. `dose_mg` is what was taken (prefilled from the plan by the shell) so the
    dose timeline comes from what happened, not from what was planned.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    entry_date: dt.date
    pain: int = Field(ge=0, le=10)
    sleep: int | None = Field(default=None, ge=0, le=10)
    mood: int | None = Field(default=None, ge=0, le=10)
    energy: int | None = Field(default=None, ge=0, le=10)
    clarity: int | None = Field(default=None, ge=0, le=10)
    dose_taken: bool
    dose_time: dt.time | None = None
    dose_mg: Decimal | None = Field(default=None, ge=0, le=50, decimal_places=3)
    side_effects: tuple[SideEffectReport, ...] = ()
    note: str | None = Field(default=None, max_length=NOTE_MAX_CHARS)

    @field_validator("pain", "sleep", "mood", "energy", "clarity", mode="before")
    @classmethod
    def _whole_number(cls, value: Any) -> Any:
        # NRS scores are whole numbers; 4.5 is a typo, not a half point. JSON `true` is not a
        # score either (Python would read it as 1).
        if isinstance(value, bool):
            raise ValueError("must be a whole number from 0 to 10, not true/false")
        if isinstance(value, float) and not value.is_integer():
            raise ValueError("must be a whole number from 0 to 10")
        return value

    @field_validator("dose_mg", mode="before")
    @classmethod
    def _not_a_boolean(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("must be a number of milligrams, not true/false")
        return value

    @field_validator("entry_date", mode="after")
    @classmethod
    def _sane_date(cls, value: dt.date) -> dt.date:
        if value < EARLIEST_ENTRY_DATE:
            raise ValueError(f"{value.isoformat()} is before {EARLIEST_ENTRY_DATE.isoformat()}")
        return value

    @field_validator("note", mode="after")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        # NUL cannot be stored in PostgreSQL text, and control characters have no place in a
        # note a clinician reads.
        if value is not None and any(ch in _CONTROL for ch in value):
            raise ValueError("contains a NUL or control character")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> DiaryEntry:
        if not self.dose_taken and self.dose_time is not None:
            raise ValueError("dose_time: given although the dose was not taken")
        if not self.dose_taken and self.dose_mg not in (None, Decimal(0)):
            raise ValueError("dose_mg: given although the dose was not taken")
        codes = [s.code for s in self.side_effects]
        if len(codes) != len(set(codes)):
            raise ValueError("side_effects: the same side effect is listed twice")
        return self

    @property
    def has_side_effects(self) -> bool:
        return bool(self.side_effects)


def side_effect_codes(evidence: Evidence | None = None) -> tuple[str, ...]:
    """The coded side-effect list the diary accepts, from the evidence base."""
    ev = evidence or default_evidence()
    return tuple(e.id for e in ev.side_effects.effects)


def validate_diary_entry(
    data: Mapping[str, Any] | DiaryEntry,
    *,
    today: dt.date,
    evidence: Evidence | None = None,
) -> DiaryEntry:
    """Parse and check one diary entry, or raise `ValidationError(field, reason)`.

    This is the only door into storage: it adds the checks a bare model cannot know (the date
    is not after `today`, the side effect is on the evidence base's coded list).
    """
    if isinstance(data, DiaryEntry):
        entry = data
    else:
        try:
            entry = DiaryEntry.model_validate(_normalise(data))
        except PydanticValidationError as exc:
            raise _first_error(exc) from None
    if entry.entry_date > today:
        raise ValidationError(
            "entry_date", f"{entry.entry_date.isoformat()} is after today ({today.isoformat()})"
        )
    known = side_effect_codes(evidence)
    for i, report in enumerate(entry.side_effects):
        if report.code not in known:
            raise ValidationError(
                f"side_effects[{i}].code",
                f"unknown side effect {report.code!r} (known: {', '.join(known)})",
            )
    return entry


def parse_side_effects(text: str | None) -> list[dict[str, str]]:
    """Read the compact `code:severity;code:severity` form used by the CLI and CSV import.

    A code without a severity is taken as mild, the commonest case the seeds describe.
    """
    if text is None or not text.strip():
        return []
    reports = []
    for part in text.replace(",", ";").split(";"):
        part = part.strip()
        if not part:
            continue
        code, _, severity = part.partition(":")
        reports.append({"code": code.strip(), "severity": severity.strip() or "mild"})
    return reports


def format_side_effects(reports: tuple[SideEffectReport, ...]) -> str:
    """The inverse of `parse_side_effects`, for export and display."""
    return ";".join(f"{r.code}:{r.severity}" for r in reports)


def _normalise(data: Mapping[str, Any]) -> dict[str, Any]:
    """Accept the aliases shells naturally produce (`date`, a side-effect string, "yes")."""
    out = dict(data)
    if "date" in out and "entry_date" not in out:
        out["entry_date"] = out.pop("date")
    if isinstance(out.get("side_effects"), str):
        out["side_effects"] = parse_side_effects(out["side_effects"])
    for key in ("dose_time", "dose_mg", "note", *SCALE_FIELDS[1:]):
        if isinstance(out.get(key), str) and not out[key].strip():
            out[key] = None
    if isinstance(out.get("dose_mg"), str):
        try:
            out["dose_mg"] = Decimal(out["dose_mg"].strip())
        except InvalidOperation:
            raise ValidationError("dose_mg", f"not a number: {out['dose_mg']!r}") from None
    return out


def _first_error(exc: PydanticValidationError) -> ValidationError:
    """Turn pydantic's error list into our one-field, one-reason error."""
    err = exc.errors()[0]
    loc = err.get("loc", ())
    field = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in loc)
    field = field.replace(".[", "[")
    reason = str(err.get("msg", "invalid"))
    if err.get("type") == "value_error":
        reason = reason.removeprefix("Value error, ")
        if not field and ": " in reason:
            field, reason = reason.split(": ", 1)
    if err.get("type") == "missing":
        reason = "required"
    if loc and "input" in err and err.get("type") not in ("missing", "extra_forbidden"):
        reason = f"{reason} (got {err['input']!r})"
    return ValidationError(field or "entry", reason)


__all__ = [
    "EARLIEST_ENTRY_DATE",
    "NOTE_MAX_CHARS",
    "SCALE_FIELDS",
    "SEVERITIES",
    "DiaryEntry",
    "SideEffectReport",
    "SideEffectSeverity",
    "format_side_effects",
    "parse_side_effects",
    "side_effect_codes",
    "validate_diary_entry",
]
