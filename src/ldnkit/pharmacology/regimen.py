"""Dosing schedules as plain numbers: dose times in hours from an origin, doses in mg.

The kinetic core knows nothing about dates or plans; this module turns a daily regimen, a
single dose or a clinical titration plan into (times, doses) and rejects schedules that cannot
be taken (negative doses, times out of order) before any computation starts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np

from ldnkit.errors import ValidationError
from ldnkit.pharmacology.parameters import FloatArray

TIMING_HOURS_DEFAULT = {"bedtime": 22.0, "morning": 8.0}


@dataclass(frozen=True)
class Regimen:
    """Oral doses (mg naltrexone hydrochloride) at times in hours after the origin.

    `origin` (a date, optional) anchors hour 0 at midnight of that day, for plots and tables;
    `end_h` is the end of the period the regimen covers (default: 24 h after the last dose).
    """

    times_h: FloatArray
    doses_mg: FloatArray
    origin: date | None = None
    end_h: float | None = None
    label: str = ""
    steps: tuple[tuple[float, float, float], ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        t = np.asarray(self.times_h, dtype=float).reshape(-1)
        d = np.asarray(self.doses_mg, dtype=float).reshape(-1)
        if t.size != d.size:
            raise ValidationError("doses_mg", f"{d.size} doses for {t.size} dose times")
        if t.size == 0:
            raise ValidationError("times_h", "a regimen needs at least one dose")
        for i in range(t.size):
            if not np.isfinite(t[i]) or t[i] < 0:
                raise ValidationError(f"times_h[{i}]", f"dose time {t[i]} h is not a time >= 0")
            if not np.isfinite(d[i]) or d[i] < 0:
                raise ValidationError(
                    f"doses_mg[{i}]", f"dose {d[i]} mg is negative or not a number"
                )
            if i and t[i] <= t[i - 1]:
                raise ValidationError(
                    f"times_h[{i}]",
                    f"schedule out of order: dose at {t[i]} h does not follow {t[i - 1]} h",
                )
        end = float(t[-1] + 24.0) if self.end_h is None else float(self.end_h)
        if not np.isfinite(end) or end <= t[-1]:
            raise ValidationError("end_h", f"end {end} h must be after the last dose {t[-1]} h")
        object.__setattr__(self, "times_h", t)
        object.__setattr__(self, "doses_mg", d)
        object.__setattr__(self, "end_h", end)

    # -- builders --------------------------------------------------------------------------
    @classmethod
    def single(cls, dose_mg: float | Decimal, hour: float = 0.0, follow_h: float = 96.0) -> Regimen:
        """One dose, followed for `follow_h` hours (the shape of a single-dose PK study)."""
        return cls(
            np.array([hour]),
            np.array([float(dose_mg)]),
            end_h=hour + follow_h,
            label=f"{_fmt(dose_mg)} mg single dose",
        )

    @classmethod
    def daily(
        cls, dose_mg: float | Decimal, days: int, hour: float = 22.0, origin: date | None = None
    ) -> Regimen:
        """The same dose every day at `hour` (22 = bedtime, 8 = morning) for `days` days."""
        if days < 1:
            raise ValidationError("days", "need at least one day")
        if not 0 <= hour < 24:
            raise ValidationError("hour", f"{hour} is not an hour of the day")
        t = np.arange(days) * 24.0 + hour
        return cls(
            t,
            np.full(days, float(dose_mg)),
            origin=origin,
            end_h=days * 24.0,
            label=f"{_fmt(dose_mg)} mg daily at {hour:g}:00",
            steps=((0.0, days * 24.0, float(dose_mg)),),
        )

    @classmethod
    def from_steps(
        cls,
        steps: Iterable[tuple[int, int, float | Decimal, float]],
        origin: date | None = None,
        label: str = "",
    ) -> Regimen:
        """Consecutive steps (first day, last day inclusive, dose mg, hour of day).

        Days count from 0 at the origin. Zero-dose days (a perioperative hold) give no dose
        but still belong to the period, so the drug-free time is simulated.
        """
        times: list[float] = []
        doses: list[float] = []
        spans: list[tuple[float, float, float]] = []
        end_day = 0
        for k, (first, last, dose, hour) in enumerate(steps):
            if last < first:
                raise ValidationError(
                    f"steps[{k}]", f"ends (day {last}) before it starts ({first})"
                )
            if not 0 <= float(hour) < 24:
                raise ValidationError(f"steps[{k}].hour", f"{hour} is not an hour of the day")
            if float(dose) < 0:
                raise ValidationError(f"steps[{k}].dose_mg", f"dose {dose} mg is negative")
            if k and first < end_day:
                raise ValidationError(
                    f"steps[{k}]",
                    f"schedule out of order: starts on day {first}, before day {end_day}",
                )
            spans.append((first * 24.0, (last + 1) * 24.0, float(dose)))
            if float(dose) > 0:
                for day in range(first, last + 1):
                    times.append(day * 24.0 + float(hour))
                    doses.append(float(dose))
            end_day = last + 1
        if not times:
            raise ValidationError("steps", "no dose in the schedule")
        return cls(
            np.array(times),
            np.array(doses),
            origin=origin,
            end_h=end_day * 24.0,
            label=label,
            steps=tuple(spans),
        )

    # -- views -----------------------------------------------------------------------------
    @property
    def days(self) -> int:
        """Whole days covered, counting from the origin."""
        return int(np.ceil(float(self.end_h or 0.0) / 24.0 - 1e-9))

    def grid(self, dt_h: float = 1.0) -> FloatArray:
        """Output times every `dt_h` hours over the whole period, from hour 0."""
        if not np.isfinite(dt_h) or dt_h <= 0:
            raise ValidationError("dt_h", "time step must be greater than zero")
        n = round(float(self.end_h or 0.0) / dt_h)
        return np.arange(n + 1) * dt_h

    def dose_on_day(self) -> FloatArray:
        """Total mg taken on each day of the period (for tables and plots)."""
        per_day = np.zeros(self.days)
        idx = np.minimum((self.times_h // 24).astype(int), self.days - 1)
        np.add.at(per_day, idx, self.doses_mg)
        return per_day

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "origin": self.origin.isoformat() if self.origin else None,
            "end_h": self.end_h,
            "times_h": self.times_h.tolist(),
            "doses_mg": self.doses_mg.tolist(),
        }


def regimen_from_plan(plan: Any, bedtime_hour: float = 22.0, morning_hour: float = 8.0) -> Regimen:
    """A titration plan (from `ldnkit.clinical.titration`) as a dose schedule.

    Duck-typed on purpose: it reads only `plan.steps[*].start`, `.end` (inclusive last day),
    `.dose_mg` and `.timing` ("bedtime" or "morning"), so the pharmacology core does not
    depend on the clinical package. Hour 0 is midnight of the first step's start date.
    """
    steps: Sequence[Any] = list(getattr(plan, "steps", None) or [])
    if not steps:
        raise ValidationError("plan.steps", "the plan has no steps")
    hours = {"bedtime": float(bedtime_hour), "morning": float(morning_hour)}
    origin: date = steps[0].start
    rows: list[tuple[int, int, float, float]] = []
    for k, st in enumerate(steps):
        timing = str(getattr(st, "timing", "bedtime"))
        if timing not in hours:
            raise ValidationError(f"plan.steps[{k}].timing", f"unknown timing {timing!r}")
        rows.append(
            ((st.start - origin).days, (st.end - origin).days, float(st.dose_mg), hours[timing])
        )
    name = getattr(plan, "protocol", None) or getattr(plan, "protocol_id", None) or "plan"
    return Regimen.from_steps(rows, origin=origin, label=f"titration plan ({name})")


def _fmt(dose: float | Decimal) -> str:
    return f"{float(dose):g}"


__all__ = ["TIMING_HOURS_DEFAULT", "Regimen", "regimen_from_plan"]
