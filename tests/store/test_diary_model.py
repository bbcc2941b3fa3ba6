"""The pure diary model: every bad field is named with its reason; good input round-trips."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ldnkit.clinical.diary import (
    DiaryEntry,
    format_side_effects,
    parse_side_effects,
    side_effect_codes,
    validate_diary_entry,
)
from ldnkit.errors import ValidationError

TODAY = dt.date(2026, 11, 25)


def _base(**extra: object) -> dict[str, object]:
    return {"date": "2026-11-20", "pain": 5, "dose_taken": True} | extra


@pytest.mark.parametrize(
    ("extra", "field", "reason_part"),
    [
        ({"pain": 11}, "pain", "less than or equal to 10"),
        ({"pain": 4.5}, "pain", "whole number"),
        ({"pain": None}, "pain", "valid integer"),
        ({"mood": 12}, "mood", "less than or equal to 10"),
        ({"date": "2026-11-26"}, "entry_date", "after today"),
        ({"side_effects": "hair_loss:mild"}, "side_effects[0].code", "unknown side effect"),
        ({"side_effects": "insomnia:awful"}, "side_effects[0].severity", "'mild'"),
        ({"side_effects": "insomnia;insomnia:severe"}, "side_effects", "listed twice"),
        ({"dose_taken": False, "dose_time": "22:00"}, "dose_time", "not taken"),
        ({"dose_mg": "abc"}, "dose_mg", "not a number"),
        ({"dose_mg": "-1"}, "dose_mg", "greater than or equal to 0"),
        ({"note": "x" * 2001}, "note", "at most 2000"),
        ({"colour": "blue"}, "colour", "Extra inputs"),
    ],
)
def test_bad_input_names_field_and_reason(extra: dict, field: str, reason_part: str) -> None:
    with pytest.raises(ValidationError) as err:
        validate_diary_entry(_base(**extra), today=TODAY)
    assert err.value.field == field
    assert reason_part in err.value.reason
    assert str(err.value).startswith(f"{field}: ")


def test_missing_pain_is_required() -> None:
    with pytest.raises(ValidationError) as err:
        validate_diary_entry({"date": "2026-11-20", "dose_taken": True}, today=TODAY)
    assert (err.value.field, err.value.reason) == ("pain", "required")


def test_shell_friendly_forms_are_accepted() -> None:
    e = validate_diary_entry(
        {
            "date": "2026-11-25",
            "pain": "3",
            "sleep": "",
            "dose_taken": "yes",
            "dose_time": "22:15",
            "dose_mg": "1.5",
            "side_effects": "vivid_dreams:moderate; headache",
        },
        today=TODAY,
    )
    assert e.entry_date == TODAY and e.pain == 3 and e.sleep is None
    assert e.dose_mg == Decimal("1.5") and e.dose_time == dt.time(22, 15)
    assert format_side_effects(e.side_effects) == "vivid_dreams:moderate;headache:mild"


def test_coded_list_comes_from_the_evidence_base() -> None:
    assert side_effect_codes() == (
        "vivid_dreams",
        "insomnia",
        "headache",
        "tachycardia",
        "drowsiness",
        "dizziness",
        "nausea",
        "other",
    )


scores = st.integers(0, 10)
effects = st.lists(
    st.tuples(
        st.sampled_from(side_effect_codes()), st.sampled_from(["mild", "moderate", "severe"])
    ),
    unique_by=lambda t: t[0],
    max_size=4,
)


@given(
    days_ago=st.integers(0, 3650),
    pain=scores,
    others=st.tuples(*(st.none() | scores for _ in range(4))),
    taken=st.booleans(),
    se=effects,
)
def test_valid_entries_round_trip(days_ago, pain, others, taken, se) -> None:
    data = {
        "entry_date": TODAY - dt.timedelta(days=days_ago),
        "pain": pain,
        "sleep": others[0],
        "mood": others[1],
        "energy": others[2],
        "clarity": others[3],
        "dose_taken": taken,
        "side_effects": ";".join(f"{c}:{s}" for c, s in se),
    }
    e = validate_diary_entry(data, today=TODAY)
    assert e.pain == pain and (e.sleep, e.mood, e.energy, e.clarity) == others
    assert parse_side_effects(format_side_effects(e.side_effects)) == [
        {"code": c, "severity": s} for c, s in se
    ]
    assert DiaryEntry.model_validate(e.model_dump()) == e


@given(pain=st.integers().filter(lambda x: not 0 <= x <= 10))
def test_any_pain_outside_the_scale_is_refused(pain: int) -> None:
    with pytest.raises(ValidationError) as err:
        validate_diary_entry(_base(pain=pain), today=TODAY)
    assert err.value.field == "pain"


@given(days_ahead=st.integers(1, 10_000))
def test_any_future_date_is_refused(days_ahead: int) -> None:
    with pytest.raises(ValidationError) as err:
        validate_diary_entry(_base(date=TODAY + dt.timedelta(days=days_ahead)), today=TODAY)
    assert err.value.field == "entry_date"
