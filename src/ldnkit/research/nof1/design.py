"""A blinded N-of-1 multi-crossover of LDN for one patient.

The patient first takes their titrated dose openly (run-in), then k pairs of periods; in each
pair one period uses pack A and the other pack B, in a random order. Which pack holds LDN (the
other holds an identical placebo capsule, or a second dose) is drawn once and sealed in the
`Allocation`; everything the patient and the clinician see during the trial (`Nof1Design`,
its schedule, calendar and today's pack) names packs only.

Period length is not a fixed number of weeks: each period starts with `washout_days` that
are taken but not analysed (the previous pack may still act; see `washout.py`), followed by
`measure_days` that are analysed. Randomisation uses `numpy.random.default_rng(seed)` with a
stored seed, so the list can be regenerated and audited (Zucker 1997; Kravitz 2018).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ldnkit.errors import ValidationError
from ldnkit.research.nof1.washout import WashoutEstimate, washout_estimate

__all__ = [
    "SOURCES",
    "Allocation",
    "DayInfo",
    "Nof1Design",
    "Nof1Settings",
    "Period",
    "ScheduleItem",
    "design_trial",
    "randomise",
]

#: Evidence ids behind the design rules (resolved in references_nof1.yaml).
SOURCES: tuple[str, ...] = ("zucker-1997", "kravitz-2018", "schmid-yang-2022")

Arm = Literal["ldn", "placebo", "ldn_b"]
Pack = Literal["A", "B"]


class Nof1Settings(BaseModel):
    """What the clinician chooses; everything else is derived."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dose_mg: Decimal = Field(gt=0, le=50, description="LDN dose found in titration")
    comparator_dose_mg: Decimal | None = Field(
        default=None, gt=0, le=50, description="None: identical placebo; else dose B"
    )
    pairs: int = Field(default=3, ge=2, le=12)
    measure_days: int = Field(default=14, ge=5, le=56, description="analysed days per period")
    pd_lag_days: int = Field(default=3, ge=0, le=60, description="clinician's effect lag")
    occupancy_threshold: float = Field(default=0.05, gt=0, lt=1)
    run_in_days: int = Field(default=14, ge=0, le=84)
    start: dt.date
    seed: int | None = Field(
        default=None,
        ge=0,
        lt=2**63,
        description="randomisation seed; kept only in the sealed allocation",
    )
    balanced: bool = True
    goal_points: float = Field(default=1.0, gt=0, le=10, description="patient's chosen goal")
    goal_relative: float = Field(default=0.30, gt=0, lt=1)
    worsening_points: float = Field(default=3.0, gt=0, le=10)
    scenario: str | None = None

    @model_validator(mode="after")
    def _distinct(self) -> Nof1Settings:
        if self.comparator_dose_mg is not None and self.comparator_dose_mg == self.dose_mg:
            raise ValueError("comparator_dose_mg: must differ from dose_mg")
        return self


class Period(BaseModel):
    """One treatment period as the patient sees it: a pack letter and dates, no contents."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    index: int  # 1-based
    pair: int  # 1-based
    pack: Pack
    start_day: int
    days: int
    washout_days: int

    @property
    def end_day(self) -> int:
        return self.start_day + self.days - 1

    @property
    def first_analysed_day(self) -> int:
        return self.start_day + self.washout_days


class ScheduleItem(BaseModel):
    """One dated entry of the schedule of assessments."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    day: int
    date: dt.date
    kind: Literal["visit", "dispense", "end_of_period", "daily"]
    title: str
    assessments: tuple[str, ...]


@dataclass(frozen=True)
class DayInfo:
    """Where a calendar date falls in the trial (for the patient's Today page)."""

    day: int
    stage: Literal["before", "run_in", "period", "finished"]
    period: Period | None
    analysed: bool
    last_day_of_period: bool


class Allocation(BaseModel):
    """The sealed randomisation: what each pack holds. Pharmacist-only until unblinding."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seed: int
    pack_contents: dict[str, Arm]  # {"A": "ldn", "B": "placebo"} or reversed
    orders: tuple[str, ...]  # per pair, "AB" or "BA"

    def arm_of(self, pack: str) -> Arm:
        return self.pack_contents[pack]

    def is_ldn(self, period: Period) -> bool:
        """True when the period's pack holds the test dose (LDN at `dose_mg`)."""
        return self.pack_contents[period.pack] == "ldn"


class Nof1Design(BaseModel):
    """The blinded design: settings, derived washout, periods (packs only), schedule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    settings: Nof1Settings
    washout: dict[str, Any]
    periods: tuple[Period, ...]
    sources: tuple[str, ...] = SOURCES

    @property
    def washout_days(self) -> int:
        return int(self.washout["days"])

    @property
    def period_days(self) -> int:
        return self.washout_days + self.settings.measure_days

    @property
    def total_days(self) -> int:
        return self.settings.run_in_days + len(self.periods) * self.period_days

    @property
    def end(self) -> dt.date:
        return self.date_of(self.total_days - 1)

    @property
    def comparator_label(self) -> str:
        c = self.settings.comparator_dose_mg
        return "placebo" if c is None else f"LDN {c} mg"

    def date_of(self, day: int) -> dt.date:
        return self.settings.start + dt.timedelta(days=day)

    def day_of(self, when: dt.date) -> int:
        return (when - self.settings.start).days

    def day_info(self, when: dt.date) -> DayInfo:
        """Stage, period and pack on a date; the patient's page reads this."""
        day = self.day_of(when)
        if day < 0:
            return DayInfo(day, "before", None, False, False)
        if day < self.settings.run_in_days:
            return DayInfo(day, "run_in", None, False, False)
        if day >= self.total_days:
            return DayInfo(day, "finished", None, False, False)
        p = self.periods[(day - self.settings.run_in_days) // self.period_days]
        return DayInfo(day, "period", p, day >= p.first_analysed_day, day == p.end_day)

    def period_of_day(self, day: int) -> Period | None:
        if day < self.settings.run_in_days or day >= self.total_days:
            return None
        return self.periods[(day - self.settings.run_in_days) // self.period_days]

    def schedule(self) -> list[ScheduleItem]:
        """Visits, dispensing, end-of-period questions and the daily diary, by date."""
        s = self.settings
        out = [
            ScheduleItem(
                day=0,
                date=self.date_of(0),
                kind="visit",
                title="Start: consent, run-in at your titrated dose"
                if s.run_in_days
                else "Start: consent",
                assessments=("consent", "baseline_pain", "side_effects"),
            ),
            ScheduleItem(
                day=0,
                date=self.date_of(0),
                kind="daily",
                title="Daily diary every evening until the end",
                assessments=("pain", "sleep", "mood", "side_effects"),
            ),
        ]
        for pair in range(1, s.pairs + 1):
            first = self.periods[2 * (pair - 1)]
            out.append(
                ScheduleItem(
                    day=first.start_day,
                    date=self.date_of(first.start_day),
                    kind="dispense",
                    title=f"Collect packs A and B for pair {pair}",
                    assessments=("dispense", "stopping_rules"),
                )
            )
        for p in self.periods:
            out.append(
                ScheduleItem(
                    day=p.end_day,
                    date=self.date_of(p.end_day),
                    kind="end_of_period",
                    title=f"End of period {p.index} (pack {p.pack}): questions",
                    assessments=("blinding_guess", "global_impression", "side_effects"),
                )
            )
        last = self.total_days  # the day after the last period: the trial is over
        out.append(
            ScheduleItem(
                day=last,
                date=self.date_of(last),
                kind="visit",
                title="Final visit: unblinding and results",
                assessments=("unblinding", "report", "decision"),
            )
        )
        order = {"visit": 0, "dispense": 1, "daily": 2, "end_of_period": 3}
        return sorted(out, key=lambda r: (r.day, order[r.kind]))

    def to_ics(self, ref: str = "nof1") -> bytes:
        """The patient's calendar: packs by date, questions, visits; never pack contents.

        `ref` (the trial's pseudonymous reference) makes the event ids unique per trial."""
        from icalendar import Calendar, Event

        cal = Calendar()
        cal.add("prodid", "-//ldnkit//n-of-1 trial//EN")
        cal.add("version", "2.0")
        stamp = dt.datetime.combine(self.settings.start, dt.time(0, 0), tzinfo=dt.UTC)
        if self.settings.run_in_days:
            ev = Event()
            ev.add("uid", f"{ref}-runin@ldnkit")
            ev.add("summary", "Run-in: your usual LDN capsule each night")
            ev.add("dtstart", self.date_of(0))
            ev.add("dtend", self.date_of(self.settings.run_in_days))
            ev.add("dtstamp", stamp)
            cal.add_component(ev)
        for p in self.periods:
            ev = Event()
            ev.add("uid", f"{ref}-p{p.index}@ldnkit")
            ev.add("summary", f"Period {p.index}: one capsule from pack {p.pack} each night")
            ev.add("dtstart", self.date_of(p.start_day))
            ev.add("dtend", self.date_of(p.end_day + 1))
            ev.add("dtstamp", stamp)
            ev.add("description", "Fill in the diary every evening.")
            cal.add_component(ev)
        for row in self.schedule():
            if row.kind in ("daily",):
                continue
            ev = Event()
            ev.add("uid", f"{ref}-{row.kind}-{row.day}@ldnkit")
            ev.add("summary", row.title)
            ev.add("dtstart", row.date)
            ev.add("dtend", row.date + dt.timedelta(days=1))
            ev.add("dtstamp", stamp)
            cal.add_component(ev)
        return cal.to_ical()

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def randomise(settings: Nof1Settings) -> Allocation:
    """Draw the pack contents and the order within each pair from the stored seed.

    Balanced (the default) uses exactly half AB and half BA pairs (one extra random pair when
    the count is odd), so a steady trend cannot favour one pack; unbalanced draws each pair
    independently.
    """
    if settings.seed is None:
        raise ValidationError("seed", "a randomisation seed is required")
    rng = np.random.default_rng(settings.seed)
    other: Arm = "placebo" if settings.comparator_dose_mg is None else "ldn_b"
    contents: dict[str, Arm] = (
        {"A": "ldn", "B": other} if rng.integers(0, 2) == 0 else {"A": other, "B": "ldn"}
    )
    k = settings.pairs
    if settings.balanced:
        orders = ["AB"] * (k // 2) + ["BA"] * (k // 2)
        if k % 2:
            orders.append("AB" if rng.integers(0, 2) == 0 else "BA")
        perm = rng.permutation(len(orders))
        orders = [orders[i] for i in perm]
    else:
        orders = ["AB" if b == 0 else "BA" for b in rng.integers(0, 2, size=k)]
    return Allocation(seed=settings.seed, pack_contents=contents, orders=tuple(orders))


def design_trial(
    settings: Nof1Settings, washout: WashoutEstimate | None = None
) -> tuple[Nof1Design, Allocation]:
    """The blinded design and its sealed allocation, both from `settings` alone.

    The washout comes from the occupancy model at the higher of the two doses (the one that
    takes longer to leave), unless the caller passes one already computed.
    """
    top = max(settings.dose_mg, settings.comparator_dose_mg or Decimal(0))
    w = washout or washout_estimate(
        top, settings.occupancy_threshold, settings.pd_lag_days, settings.scenario
    )
    if w.days >= 28:
        raise ValidationError(
            "pd_lag_days", f"washout of {w.days} days is longer than a practical period"
        )
    length = w.days + settings.measure_days
    total = settings.run_in_days + 2 * settings.pairs * length
    try:
        settings.start + dt.timedelta(days=total + 1)
    except OverflowError:
        raise ValidationError(
            "start", "the trial would end after the calendar's last date"
        ) from None
    alloc = randomise(settings)
    periods = []
    day = settings.run_in_days
    for pair, order in enumerate(alloc.orders, start=1):
        for pack in order:
            periods.append(
                Period(
                    index=len(periods) + 1,
                    pair=pair,
                    pack=pack,  # type: ignore[arg-type]
                    start_day=day,
                    days=length,
                    washout_days=w.days,
                )
            )
            day += length
    # The seed regenerates the list, so it stays with the sealed allocation only.
    public = settings.model_copy(update={"seed": None})
    design = Nof1Design(settings=public, washout=w.to_dict(), periods=tuple(periods))
    return design, alloc
