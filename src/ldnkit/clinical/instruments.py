"""Standard patient-reported instruments: definitions, validation, scoring and the schedule.

Why: the daily 0-10 pain number alone misses what matters to people in pain (whether pain
lets them enjoy life and get things done) and how they judge the change themselves. ldnkit
ships the instruments that are free to ship (NRS, PEG-3, PGIC; `evidence/data/instruments.yaml`)
and lets a clinic add the ones it holds a licence for (BPI, FIQR, PROMIS short forms, ODI, RMDQ)
from its own definition file in the same format; ldnkit never carries their text.

Pure: definitions are data, scoring is a function of the answers, the schedule a function of
the plan; no clock, no I/O (reading a clinic's file is `load_instruments_file`, a thin shell).

Scoring rules (the small set clinics' instruments use):
- `sum`: the sum of all items;
- `mean`: the mean of all items (PEG-3: mean of its three 0-10 items, Krebs 2009);
- `mean_of_subset`: the mean of the items named in `items` (a subscale);
- `lookup`: the sum of all items, then a published raw-score table (e.g. PROMIS T-scores).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic import ValidationError as PydanticValidationError

from ldnkit.clinical.models import Plan
from ldnkit.errors import ValidationError

Schedule = Literal["daily", "weekly", "visits", "on_request"]
#: Plan visits at which a global impression of change is asked.
CHANGE_VISITS = frozenset({"follow_up", "efficacy_review"})


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ResponseOption(_Model):
    """One answer of a choice item: the value that is scored and the label the patient reads."""

    value: Decimal
    label: str = Field(min_length=1)


class Item(_Model):
    """One question: either a numeric range (`min`..`max`, whole numbers) or a list of options."""

    id: str = Field(pattern=r"^[A-Za-z0-9_]{1,40}$")
    text: str = Field(min_length=1)
    loinc: str | None = None
    min: int | None = None
    max: int | None = None
    options: tuple[ResponseOption, ...] = ()

    @model_validator(mode="after")
    def _one_kind(self) -> Item:
        ranged = self.min is not None and self.max is not None
        if ranged == bool(self.options):
            raise ValueError(f"item {self.id}: give either min and max or options, not both")
        if ranged and self.min > self.max:  # type: ignore[operator]
            raise ValueError(f"item {self.id}: min is above max")
        return self

    def allowed(self) -> str:
        """The allowed answers, as an error message shows them."""
        if self.options:
            return "one of " + ", ".join(str(o.value) for o in self.options)
        return f"a whole number from {self.min} to {self.max}"

    def check(self, value: Any, field: str) -> Decimal:
        """The answer as a number, or `ValidationError(field)` saying what is allowed."""
        if isinstance(value, bool) or value is None or value == "":
            raise ValidationError(field, f"missing or not a number; expected {self.allowed()}")
        try:
            number = Decimal(str(value).strip())
        except ArithmeticError:
            raise ValidationError(field, f"not a number; expected {self.allowed()}") from None
        if not number.is_finite():
            raise ValidationError(field, f"not a number; expected {self.allowed()}")
        if self.options:
            if number not in {o.value for o in self.options}:
                raise ValidationError(field, f"out of range; expected {self.allowed()}")
            return number
        if number != number.to_integral_value() or not self.min <= number <= self.max:  # type: ignore[operator]
            raise ValidationError(field, f"out of range; expected {self.allowed()}")
        return number

    def label_of(self, value: Decimal) -> str | None:
        return next((o.label for o in self.options if o.value == value), None)


class Scoring(_Model):
    """How the answers become one score (see the module docstring for the rules)."""

    rule: Literal["sum", "mean", "mean_of_subset", "lookup"]
    items: tuple[str, ...] = ()
    table: dict[int, Decimal] = Field(default_factory=dict)
    decimals: int = Field(default=2, ge=0, le=4)


class Instrument(_Model):
    """A questionnaire definition: items, scoring, when it is asked, codes and sources."""

    id: str = Field(pattern=r"^[a-z0-9_\-]{1,40}$")
    name: str
    version: str = "1"
    schedule: Schedule = "on_request"
    collected_by: Literal["instrument", "diary"] = "instrument"
    recall: str | None = None
    licence: str | None = None
    loinc_panel: str | None = None
    loinc_score: str | None = None
    score_display: str | None = None
    items: tuple[Item, ...] = Field(min_length=1)
    scoring: Scoring
    higher_is_better: bool = False
    sources: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Instrument:
        ids = [i.id for i in self.items]
        if len(set(ids)) != len(ids):
            raise ValueError(f"instrument {self.id}: duplicate item ids")
        if self.scoring.rule == "mean_of_subset":
            unknown = [i for i in self.scoring.items if i not in ids]
            if not self.scoring.items or unknown:
                raise ValueError(
                    f"instrument {self.id}: mean_of_subset needs items from {ids} "
                    f"(unknown: {unknown})"
                )
        if self.scoring.rule == "lookup":
            fractional = [
                i.id
                for i in self.items
                for o in i.options
                if o.value != o.value.to_integral_value()
            ]
            if fractional:
                raise ValueError(
                    f"instrument {self.id}: lookup scoring needs whole-number answers "
                    f"(items {sorted(set(fractional))})"
                )
            low, high = self._raw_range()
            missing = [r for r in range(int(low), int(high) + 1) if r not in self.scoring.table]
            if missing:
                raise ValueError(
                    f"instrument {self.id}: lookup table lacks raw scores {missing[:5]}"
                )
        return self

    def _raw_range(self) -> tuple[Decimal, Decimal]:
        low = high = Decimal(0)
        for item in self.items:
            if item.options:
                values = [o.value for o in item.options]
                low, high = low + min(values), high + max(values)
            else:
                low, high = low + item.min, high + item.max  # type: ignore[operator]
        return low, high

    def item(self, item_id: str) -> Item:
        for item in self.items:
            if item.id == item_id:
                return item
        raise ValidationError(f"answers.{item_id}", f"not an item of {self.id}")


@dataclass(frozen=True)
class ScoredResponse:
    """Validated answers and their score, ready to store and to export as an Observation."""

    instrument_id: str
    version: str
    answers: dict[str, Decimal]
    score: Decimal


def _quantize(value: Decimal, decimals: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def validate_answers(instrument: Instrument, answers: Mapping[str, Any]) -> dict[str, Decimal]:
    """Every item answered once, inside its range; unknown keys are refused by name."""
    if not isinstance(answers, Mapping):
        raise ValidationError("answers", "must be an object of item id -> answer")
    known = {i.id for i in instrument.items}
    for key in answers:
        if key not in known:
            raise ValidationError(f"answers.{key}", f"not an item of {instrument.id}")
    out: dict[str, Decimal] = {}
    for item in instrument.items:
        field = f"answers.{item.id}"
        if item.id not in answers:
            raise ValidationError(field, f"missing; expected {item.allowed()}")
        out[item.id] = item.check(answers[item.id], field)
    return out


def score(instrument: Instrument, answers: Mapping[str, Any]) -> ScoredResponse:
    """Validate the answers and score them by the instrument's published rule."""
    clean = validate_answers(instrument, answers)
    rule = instrument.scoring
    values = list(clean.values())
    if rule.rule == "sum":
        total = sum(values, Decimal(0))
    elif rule.rule == "mean":
        total = sum(values, Decimal(0)) / len(values)
    elif rule.rule == "mean_of_subset":
        subset = [clean[i] for i in rule.items]
        total = sum(subset, Decimal(0)) / len(subset)
    else:
        raw = sum(values, Decimal(0))
        total = rule.table[int(raw)]
    return ScoredResponse(
        instrument_id=instrument.id,
        version=instrument.version,
        answers=clean,
        score=_quantize(total, rule.decimals),
    )


# -- catalogue -------------------------------------------------------------------------------


class InstrumentFile(_Model):
    """The top level of an instrument definition file (shipped or a clinic's own)."""

    instruments: tuple[Instrument, ...]


def parse_instruments(data: Any, where: str = "instruments") -> tuple[Instrument, ...]:
    """Definitions from parsed YAML/JSON; a bad one is a `ValidationError` naming its path."""
    try:
        parsed = InstrumentFile.model_validate(data)
    except PydanticValidationError as exc:
        err = exc.errors()[0]
        path = ".".join(str(p) for p in err["loc"])
        raise ValidationError(f"{where}: {path}" if path else where, err["msg"]) from None
    ids = [i.id for i in parsed.instruments]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ValidationError(where, f"duplicate instrument ids {dupes}")
    return parsed.instruments


def load_instruments_file(path: Path | str) -> tuple[Instrument, ...]:
    """A clinic's definition file (YAML) of instruments it is licensed to use."""
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValidationError(str(p), f"cannot read instrument file: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ValidationError(str(p), f"not valid YAML: {exc}") from None
    return parse_instruments(data, p.name)


class Catalogue:
    """The shipped instruments plus a clinic's own; a clinic may not redefine a shipped id."""

    def __init__(self, shipped: Iterable[Instrument], extra: Iterable[Instrument] = ()) -> None:
        self._by_id: dict[str, Instrument] = {}
        for inst in shipped:
            self._by_id[inst.id] = inst
        for inst in extra:
            if inst.id in self._by_id:
                raise ValidationError(
                    f"instruments.{inst.id}", "clashes with an instrument ldnkit ships"
                )
            self._by_id[inst.id] = inst

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._by_id.values())

    def __contains__(self, instrument_id: object) -> bool:
        return instrument_id in self._by_id

    def get(self, instrument_id: str) -> Instrument:
        from ldnkit.errors import NotFound

        try:
            return self._by_id[instrument_id]
        except KeyError:
            raise NotFound("instrument", instrument_id, sorted(self._by_id)) from None


def shipped_instruments(evidence: Any | None = None) -> tuple[Instrument, ...]:
    """The instruments in `evidence/data/instruments.yaml` (NRS, PEG-3, PGIC)."""
    from ldnkit.evidence import default_evidence

    ev = evidence or default_evidence()
    return ev.section("instruments", InstrumentFile).instruments


# -- schedule --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    """An instrument due on a date, and why (the plan event that asks for it)."""

    instrument_id: str
    on: dt.date
    reason: str


def schedule(
    instruments: Iterable[Instrument], plan: Plan, *, start: dt.date, end: dt.date
) -> list[Due]:
    """Which instrument is due when between `start` and `end`, derived from the plan.

    Daily instruments every day of the plan; weekly ones on the plan's first day (baseline) and
    every 7 days after; visit instruments on each follow-up and efficacy-review visit (a change
    is judged against the start, so none at baseline). Sorted by date, then instrument.
    """
    last = plan.steps[-1].end if plan.steps else plan.start
    last = max([last, *(v.date for v in plan.visits)])
    lo, hi = max(start, plan.start), min(end, last)
    out: list[Due] = []
    for inst in instruments:
        if inst.schedule == "daily":
            day = lo
            while day <= hi:
                out.append(Due(inst.id, day, "daily"))
                day += dt.timedelta(days=1)
        elif inst.schedule == "weekly":
            offset = (lo - plan.start).days
            day = plan.start + dt.timedelta(days=-(-offset // 7) * 7)
            while day <= hi:
                week = (day - plan.start).days // 7
                out.append(Due(inst.id, day, "baseline" if week == 0 else f"week {week}"))
                day += dt.timedelta(days=7)
        elif inst.schedule == "visits":
            for visit in plan.visits:
                if visit.kind in CHANGE_VISITS and lo <= visit.date <= hi:
                    out.append(Due(inst.id, visit.date, visit.kind))
    return sorted(out, key=lambda d: (d.on, d.instrument_id))


def due_now(
    instruments: Iterable[Instrument],
    plan: Plan,
    today: dt.date,
    done: Mapping[str, Sequence[dt.date]],
    *,
    grace_days: int = 3,
) -> list[Due]:
    """What to ask the patient today: the latest due occasion of each instrument not yet done.

    An occasion counts as done when a response was completed on or after its date; one missed
    by more than `grace_days` is skipped (a weekly PEG from a month ago is no longer useful).
    Instruments collected through the diary (the NRS) are not listed here.
    """
    pending: list[Due] = []
    asked = [i for i in instruments if i.collected_by == "instrument"]
    occasions = schedule(asked, plan, start=today - dt.timedelta(days=grace_days), end=today)
    latest: dict[str, Due] = {}
    for due in occasions:
        latest[due.instrument_id] = due
    for inst_id, due in latest.items():
        if not any(day >= due.on for day in done.get(inst_id, ())):
            pending.append(due)
    return sorted(pending, key=lambda d: d.instrument_id)


# -- change over time -----------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreChange:
    """An instrument's latest score against its first (baseline), for the clinician's page.

    `improved_percent` is positive when the score moved in the better direction;
    `meaningful` compares it with the evidence base's clinically important change (IMMPACT:
    30%), which applies to pain intensity and interference measures such as PEG-3.
    """

    instrument_id: str
    baseline_on: dt.date
    baseline: Decimal
    latest_on: dt.date
    latest: Decimal
    improved_percent: Decimal | None
    meaningful: bool
    sources: tuple[str, ...]


def score_change(
    instrument: Instrument,
    points: Sequence[tuple[dt.date, Decimal]],
    *,
    important_percent: Decimal,
    sources: Sequence[str] = (),
) -> ScoreChange | None:
    """Baseline (first response) to latest; None with fewer than two responses."""
    if len(points) < 2:
        return None
    ordered = sorted(points, key=lambda p: p[0])
    (first_on, first), (last_on, last) = ordered[0], ordered[-1]
    percent: Decimal | None = None
    if first != 0:
        delta = (last - first) if instrument.higher_is_better else (first - last)
        percent = _quantize(delta / abs(first) * 100, 1)
    return ScoreChange(
        instrument_id=instrument.id,
        baseline_on=first_on,
        baseline=first,
        latest_on=last_on,
        latest=last,
        improved_percent=percent,
        meaningful=percent is not None and percent >= important_percent,
        sources=tuple(sources),
    )


# -- FHIR Questionnaire ----------------------------------------------------------------------

LOINC = "http://loinc.org"
QUESTIONNAIRE_BASE = "https://ldnkit.invalid/fhir/Questionnaire"


def to_questionnaire(instrument: Instrument) -> dict[str, Any]:
    """The instrument as a FHIR R4 Questionnaire (JSON dict), LOINC-coded where codes exist."""
    items: list[dict[str, Any]] = []
    for item in instrument.items:
        q: dict[str, Any] = {"linkId": item.id, "text": item.text, "required": True}
        if item.loinc:
            q["code"] = [{"system": LOINC, "code": item.loinc}]
        if item.options:
            q["type"] = "choice"
            q["answerOption"] = [
                {
                    "valueCoding": {
                        "system": f"{QUESTIONNAIRE_BASE}/{instrument.id}/answers",
                        "code": str(o.value),
                        "display": o.label,
                    },
                    "extension": [
                        {
                            "url": "http://hl7.org/fhir/StructureDefinition/ordinalValue",
                            "valueDecimal": float(o.value),
                        }
                    ],
                }
                for o in item.options
            ]
        else:
            q["type"] = "integer"
            q["extension"] = [
                {
                    "url": "http://hl7.org/fhir/StructureDefinition/minValue",
                    "valueInteger": item.min,
                },
                {
                    "url": "http://hl7.org/fhir/StructureDefinition/maxValue",
                    "valueInteger": item.max,
                },
            ]
        items.append(q)
    res: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": f"ldnkit-{instrument.id}",
        "url": f"{QUESTIONNAIRE_BASE}/{instrument.id}",
        "version": instrument.version,
        "name": instrument.id.upper().replace("-", "_"),
        "title": instrument.name,
        "status": "active",
        "subjectType": ["Patient"],
        "item": items,
    }
    code = instrument.loinc_panel or instrument.loinc_score
    if code:
        res["code"] = [{"system": LOINC, "code": code}]
    if instrument.licence:
        res["copyright"] = instrument.licence
    return res


__all__ = [
    "CHANGE_VISITS",
    "Catalogue",
    "Due",
    "Instrument",
    "InstrumentFile",
    "Item",
    "ResponseOption",
    "ScoreChange",
    "ScoredResponse",
    "Scoring",
    "due_now",
    "load_instruments_file",
    "parse_instruments",
    "schedule",
    "score",
    "score_change",
    "shipped_instruments",
    "to_questionnaire",
    "validate_answers",
]
