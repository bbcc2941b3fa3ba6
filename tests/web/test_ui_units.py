"""The pure parts behind issue 15's pages: CSV cells, list filters, chart marks, error words."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from ldnkit.web.charts import chart_summary, date_ticks, dose_ticks
from ldnkit.web.patient_list import ListRow, csv_safe, select_rows, to_csv
from ldnkit.web.templating import field_message, form_field

TODAY = dt.date(2026, 11, 25)


def _row(i: int, given: str, family: str, **kw: object) -> ListRow:
    base = dict(
        id=i,
        given_name=given,
        family_name=family,
        screening=None,
        screened_on=None,
        current_dose_mg=None,
        plan_version=None,
        responder=None,
        last_entry=None,
        days_since_entry=None,
        next_visit=None,
        recent_side_effects=(),
    )
    return ListRow(**{**base, **kw})  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_no_csv_cell_can_start_a_formula(text: str) -> None:
    cell = csv_safe(text)
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert cell.removeprefix("'") == text or cell == text


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=6))
def test_exported_names_read_back_unchanged_but_for_the_quote(names: list[str]) -> None:
    rows = [_row(i + 1, n, "X") for i, n in enumerate(names)]
    back = list(csv.reader(io.StringIO(to_csv(rows, TODAY), newline="")))
    for name, line in zip(names, back[1:], strict=True):
        assert line[1] in (name, "'" + name)


def test_filters_and_sorts() -> None:
    rows = [
        _row(1, "Ann", "Zed", plan_version=1, days_since_entry=5, last_entry=dt.date(2026, 11, 20)),
        _row(
            2,
            "Bob",
            "Young",
            plan_version=1,
            days_since_entry=0,
            last_entry=TODAY,
            responder="non_responder",
            recent_side_effects=("nausea",),
        ),
        _row(
            3, "Cy", "Xu", next_visit=TODAY + dt.timedelta(days=3), current_dose_mg=Decimal("4.5")
        ),
    ]
    assert [r.id for r in select_rows(rows, TODAY, flag="diary_missing")] == [1]
    assert [r.id for r in select_rows(rows, TODAY, flag="not_responding")] == [2]
    assert [r.id for r in select_rows(rows, TODAY, flag="side_effects")] == [2]
    assert [r.id for r in select_rows(rows, TODAY, flag="due_review")] == [3]
    assert [r.id for r in select_rows(rows, TODAY, q="YOUNG")] == [2]
    assert [r.id for r in select_rows(rows, TODAY, sort="name")] == [3, 2, 1]
    assert select_rows(rows, TODAY, sort="dose")[0].id == 3
    assert [r.id for r in select_rows(rows, TODAY, sort="last_diary")] == [3, 1, 2]


@settings(max_examples=200, deadline=None)
@given(st.decimals(min_value=0, max_value=50, places=3))
def test_dose_marks_are_round_and_cover_the_highest_dose(top: Decimal) -> None:
    ticks = dose_ticks(top)
    assert ticks[0] == 0 and ticks[-1] >= top and 2 <= len(ticks) <= 7
    step = ticks[1] - ticks[0]
    assert step in (Decimal("0.5"), 1, 2, 5, 10)
    assert all(t % step == 0 for t in ticks)


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 1, 1)), st.integers(0, 400))
def test_date_marks_span_the_chart(first: dt.date, days: int) -> None:
    last = first + dt.timedelta(days=days)
    ticks = date_ticks(first, last)
    assert ticks[0] == first and ticks[-1] == last and len(ticks) <= 5
    assert ticks == sorted(set(ticks))


def test_chart_summary_counts_in_words() -> None:
    one = chart_summary([(TODAY, 4, Decimal("1.5"))])
    assert one.startswith("1 diary day from") and "1 diary days" not in one
    two = chart_summary([(TODAY - dt.timedelta(days=1), 7, None), (TODAY, 3, Decimal("3"))])
    assert "Pain was 7 out of 10" in two and "recorded on 1 day." in two


def test_errors_use_the_page_words() -> None:
    assert form_field("options.ceiling_mg") == "ceiling_mg"
    assert form_field("account.password") == "account_password"
    msg = field_message("pain", "Input should be less than or equal to 10")
    assert msg == "Pain right now: must be at most 10"
    assert field_message("options.ceiling_mg", "Input should be greater than 0").startswith(
        "Highest dose (mg): must be more than 0"
    )


def test_profile_edit_keeps_what_the_form_cannot_show() -> None:
    from ldnkit.web.routes.patients import keep_unshown, profile_values

    stored = {
        "conditions": [{"code": "fibromyalgia", "pain_type": "nociplastic"}, {"code": "crps"}],
        "planned_procedures": [
            {"name": "knee", "date": "2026-12-01", "opioids_expected": True},
            {"name": "tooth", "date": "2027-01-05", "opioids_expected": False},
        ],
        "medications": [{"name": "duloxetine", "dose_mg": "60"}],
    }
    values = profile_values(stored)
    assert values["conditions"] == ["fibromyalgia", "crps"]
    assert values["medications"] == "duloxetine; 60"
    assert values["procedure_name"] == "knee"
    edited = {
        "conditions": [{"code": "fibromyalgia"}],
        "planned_procedures": [{"name": "hip", "date": "2026-12-02", "opioids_expected": True}],
    }
    merged = keep_unshown(stored, edited)
    assert merged["conditions"] == [{"code": "fibromyalgia", "pain_type": "nociplastic"}]
    assert [p["name"] for p in merged["planned_procedures"]] == ["hip", "tooth"]
