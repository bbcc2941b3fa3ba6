"""Diary entries in a real database: corrections keep history, bad input changes nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import Engine, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ldnkit.errors import NotFound, ValidationError
from ldnkit.store import repositories as repo
from ldnkit.store.models import DiaryEntryRow
from tests.store.helpers import TODAY, entry, make_patient, snapshot

D1 = dt.date(2026, 11, 20)


def test_entry_round_trips_with_all_fields(engine: Engine) -> None:
    pid = make_patient(engine)
    data = entry(
        D1,
        pain=6,
        sleep=4,
        mood=5,
        energy=3,
        clarity=7,
        dose_time=dt.time(22, 30),
        dose_mg=Decimal("1.5"),
        side_effects=[{"code": "vivid_dreams", "severity": "moderate"}],
        note="slept badly",
    )
    with Session(engine, expire_on_commit=False) as s, s.begin():
        row = repo.add_diary_entry(s, pid, data, today=TODAY, actor="user:1")
        assert row.revision == 1
    with Session(engine, expire_on_commit=False) as s:
        (got,) = repo.current_diary(s, pid)
    assert got.pain == 6 and got.sleep == 4 and got.clarity == 7
    assert got.dose_time == dt.time(22, 30)
    assert got.dose_mg == Decimal("1.5")
    assert got.side_effects[0].code == "vivid_dreams"
    assert got.side_effects[0].severity == "moderate"
    assert got.note == "slept badly"


def test_second_entry_same_day_is_a_correction_with_history(engine: Engine) -> None:
    pid = make_patient(engine)
    with Session(engine, expire_on_commit=False) as s, s.begin():
        repo.add_diary_entry(s, pid, entry(D1, pain=7), today=TODAY, actor="user:1")
    with Session(engine, expire_on_commit=False) as s, s.begin():
        row = repo.add_diary_entry(s, pid, entry(D1, pain=4), today=TODAY, actor="user:1")
        assert row.revision == 2
    with Session(engine, expire_on_commit=False) as s:
        history = repo.entry_history(s, pid, D1)
        current = repo.current_entries(s, pid)
        events = repo.audit.list_events(s, entity="diary_entry")
    assert [(h.revision, h.pain, h.superseded) for h in history] == [(1, 7, True), (2, 4, False)]
    assert history[1].supersedes_id == history[0].id
    assert [(c.entry_date, c.pain) for c in current] == [(D1, 4)]
    assert [e.action for e in events] == ["correct", "create"]


@pytest.mark.parametrize(
    ("bad", "field", "reason_part"),
    [
        ({"pain": 11}, "pain", "less than or equal to 10"),
        ({"entry_date": TODAY + dt.timedelta(days=1)}, "entry_date", "after today"),
        (
            {"side_effects": [{"code": "hair_loss", "severity": "mild"}]},
            "side_effects[0].code",
            "unknown side effect 'hair_loss'",
        ),
        ({"sleep": -1}, "sleep", "greater than or equal to 0"),
    ],
)
def test_invalid_input_is_rejected_and_nothing_changes(
    engine: Engine, bad: dict, field: str, reason_part: str
) -> None:
    pid = make_patient(engine)
    with Session(engine, expire_on_commit=False) as s, s.begin():
        repo.add_diary_entry(s, pid, entry(D1, pain=5, note="first"), today=TODAY, actor="t")
    before = snapshot(engine)
    data = entry(D1, pain=5) | bad
    with (
        pytest.raises(ValidationError) as err,
        Session(engine, expire_on_commit=False) as s,
        s.begin(),
    ):
        repo.add_diary_entry(s, pid, data, today=TODAY, actor="t")
    assert err.value.field == field
    assert reason_part in err.value.reason
    assert snapshot(engine) == before


def test_import_is_all_or_nothing_and_names_the_row(engine: Engine) -> None:
    pid = make_patient(engine)
    with Session(engine, expire_on_commit=False) as s, s.begin():
        repo.add_diary_entry(s, pid, entry(D1, pain=5), today=TODAY, actor="t")
    before = snapshot(engine)
    rows = [
        (pid, entry(D1, pain=3)),  # would be a correction
        (pid, entry(D1 + dt.timedelta(days=1), pain=3)),
        (pid, entry(D1 + dt.timedelta(days=2), pain=11)),  # bad
    ]
    with (
        pytest.raises(ValidationError) as err,
        Session(engine, expire_on_commit=False) as s,
        s.begin(),
    ):
        repo.add_diary_entries(s, rows, today=TODAY, actor="t")
    assert err.value.field == "row 3: pain"
    assert snapshot(engine) == before


def test_import_creates_and_corrects(engine: Engine) -> None:
    pid = make_patient(engine)
    with Session(engine, expire_on_commit=False) as s, s.begin():
        repo.add_diary_entry(s, pid, entry(D1, pain=5), today=TODAY, actor="t")
    rows = [(pid, entry(D1 + dt.timedelta(days=i), pain=i)) for i in range(4)]
    rows.append((pid, entry(D1 + dt.timedelta(days=3), pain=9)))  # same day twice in the file
    seen: list[int] = []
    with Session(engine, expire_on_commit=False) as s, s.begin():
        result = repo.add_diary_entries(s, rows, today=TODAY, actor="t", on_progress=seen.append)
    assert (result.created, result.corrected) == (3, 2)
    assert sum(seen) == 2 * len(rows)
    with Session(engine, expire_on_commit=False) as s:
        pains = [e.pain for e in repo.diary.diary(s, pid)]
        assert [h.revision for h in repo.entry_history(s, pid, D1 + dt.timedelta(days=3))] == [
            1,
            2,
        ]
    assert pains == [0, 1, 2, 9]


def test_unknown_patient_is_not_found(engine: Engine) -> None:
    with pytest.raises(NotFound), Session(engine, expire_on_commit=False) as s, s.begin():
        repo.add_diary_entry(s, 999, entry(D1), today=TODAY, actor="t")


def _insert_raw(engine: Engine, patient_id: int, *, revision: int, pain: int) -> None:
    """Insert a diary row with plain SQL, past the repository's checks."""
    raw = {
        "patient_id": patient_id,
        "entry_date": D1,
        "revision": revision,
        "pain": pain,
        "dose_taken": True,
        "side_effects": [],
        "recorded_at": dt.datetime(2026, 11, 25, tzinfo=dt.UTC),
        "recorded_by": "t",
    }
    with Session(engine, expire_on_commit=False) as s, s.begin():
        s.execute(insert(DiaryEntryRow).values(**raw))


def test_database_refuses_two_current_entries_for_one_day(engine: Engine) -> None:
    """The partial unique index holds even for code that bypasses the repository."""
    pid = make_patient(engine)
    with Session(engine, expire_on_commit=False) as s, s.begin():
        repo.add_diary_entry(s, pid, entry(D1), today=TODAY, actor="t")
    with pytest.raises(IntegrityError):
        _insert_raw(engine, pid, revision=2, pain=3)


def test_database_refuses_pain_out_of_range(engine: Engine) -> None:
    pid = make_patient(engine)
    with pytest.raises(IntegrityError):
        _insert_raw(engine, pid, revision=1, pain=11)


def test_current_entries_window(engine: Engine) -> None:
    pid = make_patient(engine)
    with Session(engine, expire_on_commit=False) as s, s.begin():
        for i in range(10):
            repo.add_diary_entry(s, pid, entry(D1 - dt.timedelta(days=i)), today=TODAY, actor="t")
    with Session(engine, expire_on_commit=False) as s:
        got = repo.current_entries(s, pid, start=D1 - dt.timedelta(days=2), end=D1)
    assert [r.entry_date for r in got] == [D1 - dt.timedelta(days=i) for i in (2, 1, 0)]
