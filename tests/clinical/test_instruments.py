"""Patient-reported instruments: published scoring, item-level validation, the plan schedule,
and a clinic's own definition file (a fictional one: ldnkit ships no licensed text)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ldnkit.clinical.instruments import (
    Catalogue,
    due_now,
    load_instruments_file,
    parse_instruments,
    schedule,
    score,
    score_change,
    shipped_instruments,
    to_questionnaire,
)
from ldnkit.clinical.titration import plan_for_patient
from ldnkit.errors import NotFound, ValidationError
from ldnkit.evidence import default_evidence
from ldnkit.interop.fhir.common import validate_resource

FICTIONAL = Path(__file__).parent / "data" / "fictional_instruments.yaml"
SHIPPED = {i.id: i for i in shipped_instruments()}


def test_shipped_instruments_carry_their_loinc_codes_and_existing_sources() -> None:
    assert set(SHIPPED) == {"nrs", "peg", "pgic"}
    peg = SHIPPED["peg"]
    assert (peg.loinc_panel, peg.loinc_score) == ("91148-7", "91147-9")
    assert [i.loinc for i in peg.items] == ["75893-8", "91145-3", "91146-1"]
    assert SHIPPED["nrs"].loinc_score == "72514-3"
    ev = default_evidence()
    for inst in SHIPPED.values():
        assert inst.sources
        for source in inst.sources:
            assert ev.reference(source).id == source
    assert [o.value for o in SHIPPED["pgic"].items[0].options] == list(range(1, 8))


def test_peg_is_the_mean_of_its_three_items() -> None:
    r = score(SHIPPED["peg"], {"pain_average": 7, "enjoyment": 5, "activity": 6})
    assert r.score == Decimal("6.00")
    r = score(SHIPPED["peg"], {"pain_average": 7, "enjoyment": 5, "activity": 5})
    assert r.score == Decimal("5.67")


@settings(max_examples=60, deadline=None)
@given(st.tuples(*[st.integers(0, 10)] * 3))
def test_peg_score_stays_between_its_lowest_and_highest_item(values: tuple[int, ...]) -> None:
    a, b, c = values
    r = score(SHIPPED["peg"], {"pain_average": a, "enjoyment": b, "activity": c})
    assert min(values) <= r.score <= max(values)
    assert abs(r.score - Decimal(a + b + c) / 3) <= Decimal("0.005")


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ({"pain_average": 7, "enjoyment": 5}, "answers.activity"),
        ({"pain_average": 11, "enjoyment": 5, "activity": 1}, "answers.pain_average"),
        ({"pain_average": 3, "enjoyment": -1, "activity": 1}, "answers.enjoyment"),
        ({"pain_average": 3, "enjoyment": 4.5, "activity": 1}, "answers.enjoyment"),
        ({"pain_average": 3, "enjoyment": "x", "activity": 1}, "answers.enjoyment"),
        ({"pain_average": 3, "enjoyment": True, "activity": 1}, "answers.enjoyment"),
        ({"pain_average": 3, "enjoyment": 4, "activity": 1, "mood": 2}, "answers.mood"),
    ],
)
def test_bad_answers_name_the_item(answers: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as exc:
        score(SHIPPED["peg"], answers)
    assert exc.value.field == field


def test_pgic_accepts_only_its_seven_points() -> None:
    assert score(SHIPPED["pgic"], {"change": 2}).score == 2
    with pytest.raises(ValidationError, match=r"answers\.change"):
        score(SHIPPED["pgic"], {"change": 8})


def test_a_clinic_file_adds_instruments_with_subset_and_lookup_scoring() -> None:
    extra = load_instruments_file(FICTIONAL)
    cat = Catalogue(shipped_instruments(), extra)
    teapot = cat.get("zz-teapot-index")
    assert score(teapot, {"spout": 4, "lid": 1, "handle": 0}).score == Decimal("2.50")
    kettle = cat.get("zz-kettle-scale")
    assert score(kettle, {"whistle": 2, "steam": 1}).score == Decimal("48.7")
    with pytest.raises(ValidationError, match=r"answers\.whistle"):
        score(kettle, {"whistle": 1, "steam": 1})
    with pytest.raises(NotFound):
        cat.get("bpi")


def test_a_clinic_cannot_redefine_a_shipped_instrument() -> None:
    with pytest.raises(ValidationError, match=r"instruments\.peg"):
        Catalogue(shipped_instruments(), shipped_instruments()[1:2])


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (
            {"instruments": [{"id": "x", "name": "X", "items": [], "scoring": {"rule": "sum"}}]},
            "items",
        ),
        (
            {
                "instruments": [
                    {
                        "id": "x",
                        "name": "X",
                        "scoring": {"rule": "median"},
                        "items": [{"id": "a", "text": "A", "min": 0, "max": 3}],
                    }
                ]
            },
            "scoring.rule",
        ),
        (
            {
                "instruments": [
                    {
                        "id": "x",
                        "name": "X",
                        "scoring": {"rule": "lookup", "table": {0: 1}},
                        "items": [{"id": "a", "text": "A", "min": 0, "max": 3}],
                    }
                ]
            },
            "lookup table lacks",
        ),
        (
            {
                "instruments": [
                    {
                        "id": "x",
                        "name": "X",
                        "scoring": {"rule": "lookup", "table": {0: 1, 1: 2}},
                        "items": [
                            {
                                "id": "a",
                                "text": "A",
                                "options": [
                                    {"value": 0, "label": "no"},
                                    {"value": 0.5, "label": "half"},
                                ],
                            }
                        ],
                    }
                ]
            },
            "whole-number answers",
        ),
        (
            {
                "instruments": [
                    {
                        "id": "x",
                        "name": "X",
                        "scoring": {"rule": "sum"},
                        "items": [{"id": "a", "text": "A", "min": 0}],
                    }
                ]
            },
            "min and max or options",
        ),
    ],
)
def test_bad_definition_files_are_refused_with_the_path(data: object, fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        parse_instruments(data, "clinic.yaml")


def _plan(start: dt.date):  # type: ignore[no-untyped-def]
    from ldnkit.clinical.models import Patient

    patient = Patient.model_validate(
        {"id": "p1", "conditions": [{"code": "fibromyalgia"}], "pregnancy": "not_pregnant"}
    )
    return plan_for_patient(patient, "fibromyalgia", start)


def test_schedule_follows_the_plan_daily_weekly_and_at_visits() -> None:
    start = dt.date(2026, 11, 2)
    plan = _plan(start)
    due = schedule(SHIPPED.values(), plan, start=start, end=start + dt.timedelta(days=120))
    peg = [d.on for d in due if d.instrument_id == "peg"]
    assert peg[0] == start and all((b - a).days == 7 for a, b in pairwise(peg))
    pgic = [d for d in due if d.instrument_id == "pgic"]
    visits = [v for v in plan.visits if v.kind in ("follow_up", "efficacy_review")]
    horizon = start + dt.timedelta(days=120)
    assert pgic and [d.on for d in pgic] == sorted(v.date for v in visits if v.date <= horizon)
    assert start not in [d.on for d in pgic]
    nrs = [d.on for d in due if d.instrument_id == "nrs"]
    assert nrs[0] == start and len(set(nrs)) == len(nrs)


def test_due_now_lists_what_is_not_yet_done() -> None:
    start = dt.date(2026, 11, 2)
    plan = _plan(start)
    today = start + dt.timedelta(days=8)
    due = due_now(SHIPPED.values(), plan, today, {})
    assert [(d.instrument_id, d.on) for d in due] == [("peg", start + dt.timedelta(days=7))]
    assert due_now(SHIPPED.values(), plan, today, {"peg": [today]}) == []
    # a weekly PEG missed by more than the grace period is not chased
    assert due_now(SHIPPED.values(), plan, start + dt.timedelta(days=12), {}) == []


def test_questionnaires_are_valid_fhir_r4() -> None:
    for inst in [*SHIPPED.values(), *load_instruments_file(FICTIONAL)]:
        q = validate_resource(to_questionnaire(inst), "Questionnaire")
        assert len(q.item) == len(inst.items)
    peg = to_questionnaire(SHIPPED["peg"])
    assert peg["code"][0]["code"] == "91148-7"
    assert [i["code"][0]["code"] for i in peg["item"]] == ["75893-8", "91145-3", "91146-1"]


def test_score_change_from_baseline_against_the_clinically_important_change() -> None:
    peg = SHIPPED["peg"]
    monitoring = default_evidence().dosing.monitoring
    day = dt.date(2026, 11, 2)
    points = [
        (day + dt.timedelta(days=14), Decimal("4.00")),
        (day, Decimal("6.00")),
        (day + dt.timedelta(days=7), Decimal("5.00")),
    ]
    change = score_change(
        peg,
        points,
        important_percent=monitoring.clinically_important_percent,
        sources=monitoring.clinically_important_sources,
    )
    assert change is not None
    assert (change.baseline, change.latest) == (Decimal("6.00"), Decimal("4.00"))
    assert change.improved_percent == Decimal("33.3") and change.meaningful
    assert change.sources == ("farrar-2001", "dworkin-2008")
    worse = score_change(
        peg,
        [(day, Decimal(4)), (day + dt.timedelta(days=7), Decimal(5))],
        important_percent=Decimal(30),
    )
    assert worse is not None and worse.improved_percent == Decimal("-25.0")
    assert not worse.meaningful
    assert score_change(peg, points[:1], important_percent=Decimal(30)) is None
    zero = score_change(
        peg,
        [(day, Decimal(0)), (day + dt.timedelta(days=7), Decimal(0))],
        important_percent=Decimal(30),
    )
    assert zero is not None and zero.improved_percent is None and not zero.meaningful
