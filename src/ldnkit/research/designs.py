"""Trial designs: phases, arms, sequences, visits and assessments, and their schedule.

A design is data (typed, validated) so the same object drives the schedule of assessments,
the randomisation list, the simulator and the analysis. Day numbers are study days counted
from 0 at the start of the first phase; calendar dates only appear when a start date is given.
The seeds' protocol (Younger & Mackey 2009, seed 000) is `younger_2009_crossover()`.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from ldnkit.bounds import check_int, check_real
from ldnkit.errors import ValidationError

Treatment = Literal["none", "placebo", "ldn", "active"]
Kind = Literal["single_blind_fixed_order", "parallel", "crossover", "n_of_1"]

__all__ = [
    "DESIGNS",
    "Assessment",
    "Design",
    "Phase",
    "ScheduleRow",
    "Sequence",
    "Visit",
    "n_of_1",
    "parallel_rct",
    "schedule",
    "schedule_ics",
    "two_period_crossover",
    "younger_2009_crossover",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Phase(_Model):
    """A block of study days with one role (run-in, treatment period, washout)."""

    name: str
    start_day: int = Field(ge=0)
    days: int = Field(gt=0)
    role: Literal["baseline", "treatment", "washout"]
    period: int | None = None  # 1-based index of the treatment period, None outside them
    dose_mg: float | None = Field(default=None, gt=0)  # LDN dose here (dose-finding designs)

    @property
    def end_day(self) -> int:
        """Last day (inclusive)."""
        return self.start_day + self.days - 1


class Sequence(_Model):
    """What one arm/sequence receives in each phase (by phase name)."""

    name: str
    treatments: dict[str, Treatment]
    dose_mg: float | None = None


class Assessment(_Model):
    code: str
    description: str
    sources: list[str] = []


class Visit(_Model):
    name: str
    day: int = Field(ge=0)
    assessments: list[str]


class Design(_Model):
    """A complete trial design; validation rejects overlapping or gapped phases."""

    id: str
    title: str
    kind: Kind
    blinding: Literal["open", "single", "double"]
    phases: list[Phase]
    sequences: list[Sequence]
    visits: list[Visit]
    daily: list[str] = ["symptom_severity"]
    assessments: list[Assessment]
    primary_outcome: str
    analysis: str
    summary_days: int = Field(default=7, gt=0)
    sources: list[str] = []

    def __init__(self, **data: object) -> None:
        super().__init__(**data)
        # Checked after pydantic, so the error stays an ldnkit ValidationError naming the field
        # (pydantic would wrap a ValueError raised inside a validator).
        self._check()

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any) -> Design:  # type: ignore[override]
        """Parsing from a dict/JSON (e.g. a protocol file) runs the same phase checks and
        raises the same ldnkit ValidationError (pydantic would otherwise wrap it)."""
        try:
            return super().model_validate(obj, **kwargs)
        except PydanticValidationError as exc:
            for err in exc.errors():
                original = (err.get("ctx") or {}).get("error")
                if isinstance(original, ValidationError):
                    raise original from None
            raise

    def _check(self) -> None:
        phases = sorted(self.phases, key=lambda p: p.start_day)
        names = [p.name for p in phases]
        if len(set(names)) != len(names):
            raise ValidationError("phases", "phase names must be unique")
        for a, b in itertools.pairwise(phases):
            if b.start_day <= a.end_day:
                raise ValidationError(
                    "phases",
                    f"phase {b.name!r} (day {b.start_day}) overlaps {a.name!r} "
                    f"(days {a.start_day}-{a.end_day})",
                )
            if b.start_day != a.end_day + 1:
                raise ValidationError(
                    "phases", f"gap of {b.start_day - a.end_day - 1} days before {b.name!r}"
                )
        if phases and phases[0].start_day != 0:
            raise ValidationError("phases", "the first phase must start on day 0")
        for s in self.sequences:
            unknown = set(s.treatments) - set(names)
            missing = set(names) - set(s.treatments)
            if unknown or missing:
                raise ValidationError(
                    f"sequences.{s.name}",
                    f"treatments must name every phase (unknown {sorted(unknown)}, "
                    f"missing {sorted(missing)})",
                )
        codes = {a.code for a in self.assessments}
        last = self.total_days - 1
        for v in self.visits:
            if v.day > last:
                raise ValidationError(f"visits.{v.name}", f"day {v.day} is after the end {last}")
            bad = set(v.assessments) - codes
            if bad:
                raise ValidationError(f"visits.{v.name}", f"unknown assessments {sorted(bad)}")

    @property
    def total_days(self) -> int:
        return max(p.end_day for p in self.phases) + 1

    @property
    def treatment_periods(self) -> list[Phase]:
        return sorted((p for p in self.phases if p.period is not None), key=lambda p: p.period)

    def phase(self, name: str) -> Phase:
        for p in self.phases:
            if p.name == name:
                return p
        raise ValidationError("phase", f"no phase named {name!r}")

    def phase_on(self, day: int) -> Phase:
        for p in self.phases:
            if p.start_day <= day <= p.end_day:
                return p
        raise ValidationError("day", f"day {day} is outside the design (0-{self.total_days - 1})")

    def table(self) -> list[dict[str, object]]:
        """Phases x sequences as rows, for printing."""
        return [
            {
                "phase": p.name,
                "days": f"{p.start_day}-{p.end_day}",
                "weeks": round(p.days / 7, 1),
                **{s.name: s.treatments[p.name] for s in self.sequences},
            }
            for p in sorted(self.phases, key=lambda p: p.start_day)
        ]


# -- assessments used by the ready-made designs ---------------------------------------------
def _assessments() -> list[Assessment]:
    src = ["younger-2009", "seed-benchchem-2025"]
    return [
        Assessment(code="consent", description="Informed consent and eligibility", sources=src),
        Assessment(
            code="esr", description="Erythrocyte sedimentation rate (baseline)", sources=src
        ),
        Assessment(
            code="mechanical_threshold", description="Mechanical pain threshold", sources=src
        ),
        Assessment(code="heat_threshold", description="Heat pain threshold", sources=src),
        Assessment(code="cold_threshold", description="Cold pain threshold", sources=src),
        Assessment(code="adverse_events", description="Side effects review", sources=src),
        Assessment(code="dispense", description="Dispense next bottle of capsules", sources=src),
    ]


_LAB = ["mechanical_threshold", "heat_threshold", "cold_threshold", "adverse_events"]


def _biweekly_visits(total_days: int, first: list[str]) -> list[Visit]:
    """Lab visits every 14 days (seed 000: bi-weekly mechanical, heat and cold thresholds)."""
    visits = [Visit(name="visit 0", day=0, assessments=first)]
    visits += [
        Visit(name=f"visit {i}", day=d, assessments=[*_LAB, "dispense"])
        for i, d in enumerate(range(14, total_days, 14), start=1)
    ]
    visits.append(Visit(name="final", day=total_days - 1, assessments=_LAB))
    return visits


MAX_WEEKS = 520  # ten years: longer is a typing error (and every day costs simulation memory)
MAX_DOSE_MG = 50.0  # the licensed full naltrexone dose; "low dose" designs stay far below


def _weeks(name: str, value: object, lo: int = 1) -> int:
    return check_int(name, value, lo, MAX_WEEKS)


def _dose(name: str, value: object) -> float:
    return check_real(name, value, 0.0, MAX_DOSE_MG, lo_open=True)


def younger_2009_crossover(dose_mg: float = 4.5) -> Design:
    """The seeds' single-blind fixed-order protocol: baseline 2 w, placebo 2 w, LDN 8 w,
    washout 2 w; daily symptom diary; bi-weekly lab visits; baseline ESR (seed 000)."""
    dose_mg = _dose("dose_mg", dose_mg)
    phases = [
        Phase(name="baseline", start_day=0, days=14, role="baseline"),
        Phase(name="placebo", start_day=14, days=14, role="treatment", period=1),
        Phase(name="ldn", start_day=28, days=56, role="treatment", period=2),
        Phase(name="washout", start_day=84, days=14, role="washout"),
    ]
    seq = Sequence(
        name="fixed",
        treatments={"baseline": "none", "placebo": "placebo", "ldn": "ldn", "washout": "none"},
        dose_mg=dose_mg,
    )
    return Design(
        id="younger-2009",
        title="Single-blind fixed-order crossover (Younger & Mackey 2009)",
        kind="single_blind_fixed_order",
        blinding="single",
        phases=phases,
        sequences=[seq],
        visits=_biweekly_visits(98, ["consent", "esr", *_LAB]),
        assessments=_assessments(),
        primary_outcome="Change in daily symptom severity, LDN phase vs placebo phase",
        analysis="Random-intercept mixed model of phase means (baseline, placebo, LDN)",
        sources=["younger-2009", "seed-benchchem-2025"],
    )


def parallel_rct(weeks: int = 12, baseline_weeks: int = 2, dose_mg: float = 4.5) -> Design:
    """Double-blind parallel RCT (the FINAL layout, Bruun 2024): run-in, then LDN or placebo."""
    weeks = _weeks("weeks", weeks)
    baseline_weeks = _weeks("baseline_weeks", baseline_weeks)
    dose_mg = _dose("dose_mg", dose_mg)
    base = baseline_weeks * 7
    phases = [
        Phase(name="baseline", start_day=0, days=base, role="baseline"),
        Phase(name="treatment", start_day=base, days=weeks * 7, role="treatment", period=1),
    ]
    seqs = [
        Sequence(name="LDN", treatments={"baseline": "none", "treatment": "ldn"}, dose_mg=dose_mg),
        Sequence(name="placebo", treatments={"baseline": "none", "treatment": "placebo"}),
    ]
    total = base + weeks * 7
    return Design(
        id="parallel",
        title=f"Double-blind parallel RCT, {weeks} weeks",
        kind="parallel",
        blinding="double",
        phases=phases,
        sequences=seqs,
        visits=_biweekly_visits(total, ["consent", "esr", *_LAB]),
        assessments=_assessments(),
        primary_outcome="Change in pain from baseline to the end of treatment",
        analysis="ANCOVA of end-of-treatment mean pain adjusted for baseline mean",
        sources=["bruun-2024"],
    )


def two_period_crossover(
    period_weeks: int = 8, washout_weeks: int = 2, baseline_weeks: int = 2, dose_mg: float = 4.5
) -> Design:
    """Randomised AB/BA crossover with washout (Younger 2013, Bested 2023, Beaudette 2023)."""
    period_weeks = _weeks("period_weeks", period_weeks)
    washout_weeks = _weeks("washout_weeks", washout_weeks, 0)
    baseline_weeks = _weeks("baseline_weeks", baseline_weeks)
    dose_mg = _dose("dose_mg", dose_mg)
    b, p, w = baseline_weeks * 7, period_weeks * 7, washout_weeks * 7
    phases = [Phase(name="baseline", start_day=0, days=b, role="baseline")]
    phases.append(Phase(name="period 1", start_day=b, days=p, role="treatment", period=1))
    start = b + p
    if w:
        phases.append(Phase(name="washout", start_day=start, days=w, role="washout"))
        start += w
    phases.append(Phase(name="period 2", start_day=start, days=p, role="treatment", period=2))
    names = [ph.name for ph in phases]

    def seq(name: str, first: Treatment, second: Treatment) -> Sequence:
        t: dict[str, Treatment] = dict.fromkeys(names, "none")
        t["period 1"], t["period 2"] = first, second
        return Sequence(name=name, treatments=t, dose_mg=dose_mg)

    total = start + p
    return Design(
        id="crossover",
        title=f"Randomised double-blind two-period crossover ({period_weeks} w periods)",
        kind="crossover",
        blinding="double",
        phases=phases,
        sequences=[seq("LDN-placebo", "ldn", "placebo"), seq("placebo-LDN", "placebo", "ldn")],
        visits=_biweekly_visits(total, ["consent", "esr", *_LAB]),
        assessments=_assessments(),
        primary_outcome="Mean daily pain in the last days of each period, LDN vs placebo",
        analysis="Random-intercept mixed model: period + treatment, patient random intercept",
        sources=["younger-2013", "bested-2023", "beaudette-2023"],
    )


def n_of_1(cycles: int = 3, period_weeks: int = 2, doses: tuple[float, ...] = (4.5,)) -> Design:
    """N-of-1 multi-crossover for one patient: `cycles` pairs of LDN/placebo periods at each
    dose in `doses` (ascending, as titration goes), for a single patient's dose finding.

    Seed 002: the effective dose is idiosyncratic (1-4.5 mg), so dose finding compares each
    dose with placebo within the same patient. Each cycle's order is randomised by
    `randomisation.n_of_1_orders`; the design lists both orders as sequences.
    """
    cycles = check_int("cycles", cycles, None, 52)
    if cycles < 2:
        raise ValidationError("cycles", "an N-of-1 comparison needs at least 2 cycles")
    period_weeks = _weeks("period_weeks", period_weeks)
    if isinstance(doses, (str, bytes)) or not hasattr(doses, "__iter__"):
        raise ValidationError("doses", f"give a list of doses in mg, got {doses!r}")
    doses = tuple(_dose("doses", d) for d in doses)
    if cycles * len(doses) * period_weeks > MAX_WEEKS:
        raise ValidationError("cycles", f"the design would last more than {MAX_WEEKS} weeks")
    if not doses or any(d <= 0 for d in doses) or list(doses) != sorted(set(doses)):
        raise ValidationError("doses", "give distinct positive doses in ascending order")
    d = period_weeks * 7
    phases = [Phase(name="baseline", start_day=0, days=14, role="baseline")]
    start, k = 14, 0
    for dose in doses:
        prefix = f"{dose:g} mg " if len(doses) > 1 else ""
        for c in range(1, cycles + 1):
            for half in ("a", "b"):
                k += 1
                phases.append(
                    Phase(
                        name=f"{prefix}cycle {c}{half}",
                        start_day=start,
                        days=d,
                        role="treatment",
                        period=k,
                        dose_mg=dose,
                    )
                )
                start += d
    names = [p.name for p in phases]
    ab: dict[str, Treatment] = {"baseline": "none"}
    ba: dict[str, Treatment] = {"baseline": "none"}
    for n in names[1:]:
        ab[n] = "ldn" if n.endswith("a") else "placebo"
        ba[n] = "placebo" if n.endswith("a") else "ldn"
    label = ", ".join(f"{x:g}" for x in doses)
    return Design(
        id="n-of-1",
        title=f"N-of-1 multi-crossover, {cycles} cycles of {period_weeks} w at {label} mg",
        kind="n_of_1",
        blinding="double",
        phases=phases,
        sequences=[
            Sequence(name="LDN first", treatments=ab, dose_mg=max(doses)),
            Sequence(name="placebo first", treatments=ba, dose_mg=max(doses)),
        ],
        visits=_biweekly_visits(start, ["consent", "esr", *_LAB]),
        assessments=_assessments(),
        primary_outcome="Within-cycle difference in mean daily pain, LDN minus placebo, per dose",
        analysis="Within-patient model over cycles: cycle effects + one LDN effect per dose",
        sources=["seed-droracle-dosing-2026", "seed-droracle-chronic-pain-2025"],
    )


DESIGNS = {
    "younger-2009": younger_2009_crossover,
    "parallel": parallel_rct,
    "crossover": two_period_crossover,
    "n-of-1": n_of_1,
}


class ScheduleRow(_Model):
    day: int
    date: date | None
    phase: str
    visit: str | None
    assessments: list[str]


def _check_design(design: object) -> None:
    if not isinstance(design, Design):
        raise ValidationError("design", f"must be a Design, got {type(design).__name__}")


def schedule(design: Design, start: date | None = None, daily: bool = False) -> list[ScheduleRow]:
    """The schedule of assessments: one row per visit (or per day with `daily`)."""
    _check_design(design)
    if start is not None and not isinstance(start, date):
        raise ValidationError("start", f"must be a date, got {start!r}")
    by_day = {v.day: v for v in design.visits}
    rows = []
    for day in range(design.total_days):
        v = by_day.get(day)
        if v is None and not daily:
            continue
        rows.append(
            ScheduleRow(
                day=day,
                date=start + timedelta(days=day) if start else None,
                phase=design.phase_on(day).name,
                visit=v.name if v else None,
                assessments=[*(v.assessments if v else []), *design.daily],
            )
        )
    return rows


def schedule_ics(design: Design, start: date) -> bytes:
    """The visit calendar as an iCalendar file (all-day events), for study coordinators."""
    _check_design(design)
    if not isinstance(start, date):
        raise ValidationError("start", f"must be a date, got {start!r}")
    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", "-//ldnkit//research schedule//EN")
    cal.add("version", "2.0")
    for row in schedule(design, start):
        ev = Event()
        ev.add("uid", f"{design.id}-day{row.day}@ldnkit")
        ev.add("summary", f"{design.title}: {row.visit} ({row.phase})")
        ev.add("dtstart", row.date)
        ev.add("dtend", row.date + timedelta(days=1) if row.date else None)
        ev.add("dtstamp", start)  # deterministic: the core never reads the clock
        ev.add("description", ", ".join(row.assessments))
        cal.add_component(ev)
    return cal.to_ical()
