"""Per-patient outcomes from hand-built diaries, with numbers worked out by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ldnkit.clinical.diary import DiaryEntry
from ldnkit.clinical.outcomes import ResponseThresholds, patient_outcomes

START = dt.date(2026, 9, 1)


def day(offset: int, pain: int, taken: bool | None = None, **kw: object) -> DiaryEntry:
    taken = offset >= 0 if taken is None else taken
    return DiaryEntry(
        entry_date=START + dt.timedelta(days=offset),
        pain=pain,
        dose_taken=taken,
        dose_mg=Decimal("1.5") if taken else None,
        **kw,
    )


def test_thresholds_come_from_the_evidence_base() -> None:
    t = ResponseThresholds.from_evidence()
    assert (t.moderate_percent, t.substantial_percent, t.points) == (30, 50, 2)
    assert "farrar-2001" in t.sources and "dworkin-2008" in t.sources


def test_clear_responder() -> None:
    entries = [day(d, 8) for d in range(-7, 0)] + [day(d, 4) for d in range(0, 30)]
    o = patient_outcomes(entries)
    assert o.start == START and o.as_of == START + dt.timedelta(days=29)
    assert o.baseline_pain == 8 and o.baseline_days == 7 and not o.baseline_on_treatment
    assert o.latest_pain == 4 and o.latest_days == 14
    assert o.change_points == -4 and o.change_percent == -50
    assert o.responder == {"percent_moderate": True, "percent_substantial": True, "points": True}
    # The first 7-day window with 4 logged days on treatment is day 3, and it already meets 50%.
    assert o.days_to_response == {"percent_moderate": 3, "percent_substantial": 3, "points": 3}
    assert o.adherence is not None and o.adherence.rate == 1.0
    assert "Responder >=30% reduction (latest 14 days): yes" in o.summary()


def test_gradual_partial_response_and_adherence() -> None:
    # Baseline 6; pain 5 for the first two weeks, then 4 (a 33% fall, 2 points, not 50%).
    entries = [day(d, 6) for d in range(-7, 0)]
    entries += [day(d, 5 if d < 14 else 4) for d in range(0, 42) if d not in (20, 21)]
    entries = [e if e.entry_date != START + dt.timedelta(days=30) else day(30, 4, taken=False)
               for e in entries]  # fmt: skip
    o = patient_outcomes(entries)
    assert o.responder == {"percent_moderate": True, "percent_substantial": False, "points": True}
    assert o.days_to_response["percent_substantial"] is None
    # The window ending day 19 (days 13-19: one 5, six 4s, mean 4.14) is the first at or
    # below 4.2, i.e. 30% under the baseline of 6.
    assert o.days_to_response["percent_moderate"] == 19
    a = o.adherence
    assert a is not None
    assert (a.days, a.days_logged, a.days_taken) == (42, 40, 39)
    assert round(a.rate, 4) == round(39 / 42, 4)


def test_baseline_falls_back_to_first_week_when_nothing_before_start() -> None:
    entries = [day(d, 7 if d < 7 else 3) for d in range(0, 28)]
    o = patient_outcomes(entries)
    assert o.baseline_on_treatment and o.baseline_pain == 7 and o.baseline_days == 7


def test_no_dose_yet_means_no_outcome() -> None:
    o = patient_outcomes([day(d, 6, taken=False) for d in range(-7, 0)])
    assert o.start is None and o.adherence is None
    assert set(o.responder.values()) == {None}
    assert "not started" in o.summary()


def test_as_of_cuts_the_diary() -> None:
    entries = [day(d, 8) for d in range(-7, 0)] + [day(d, 8 if d < 20 else 2) for d in range(40)]
    early = patient_outcomes(entries, as_of=START + dt.timedelta(days=19))
    assert early.latest_pain == 8 and early.responder["points"] is False
    assert patient_outcomes(entries).responder["points"] is True
    d = early.to_dict()
    assert d["as_of"] == "2026-09-20" and d["change_points"] == 0
