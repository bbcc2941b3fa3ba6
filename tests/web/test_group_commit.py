"""The group-commit writer: a batch of diary writes means the same as one write at a time
(corrections in order, one audit event each), and one failing job never fails the others."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from ldnkit.clinical.diary import validate_diary_entry
from ldnkit.errors import NotFound
from ldnkit.store import repositories as repo
from ldnkit.store import upgrade
from ldnkit.store.models import AuditEventRow, DiaryEntryRow
from ldnkit.web import writes
from ldnkit.web.db import Database
from tests.db_fixtures import BACKENDS, empty_database_url
from tests.web.conftest import seed

TODAY = dt.date(2026, 11, 25)


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    """The writer on a fresh migrated database: SQLite, and PostgreSQL where one answers."""
    urls = empty_database_url(request.param, tmp_path)
    url = next(urls)
    upgrade(url)
    ids = seed(url)
    database = Database(url)
    writes.register(database)
    yield database, ids
    database.stop()
    urls.close()


def _entry(day: dt.date, pain: int):  # type: ignore[no-untyped-def]
    return validate_diary_entry({"entry_date": day, "pain": pain, "dose_taken": True}, today=TODAY)


def test_batch_keeps_corrections_in_order_and_audits_each(db) -> None:  # type: ignore[no-untyped-def]
    database, ids = db
    pa, pb = ids["patient_a"], ids["patient_b"]
    items = [
        writes.DiaryWrite(pa, _entry(TODAY, 7), "user:1"),
        writes.DiaryWrite(pb, _entry(TODAY, 5), "user:2"),
        writes.DiaryWrite(pa, _entry(TODAY, 6), "user:1"),
        writes.DiaryWrite(pa, _entry(TODAY, 4), "user:1"),
    ]
    futures = [database.submit_item(writes.DIARY, i) for i in items]
    results = [f.result() for f in futures]
    assert [r["revision"] for r in results] == [1, 1, 2, 3]
    with database.read() as s:
        history = repo.entry_history(s, pa, TODAY)
        assert [(h.pain, h.superseded) for h in history] == [(7, True), (6, True), (4, False)]
        assert history[1].supersedes_id == history[0].id
        events = s.scalars(select(AuditEventRow).where(AuditEventRow.entity == "diary_entry")).all()
        assert sorted(e.action for e in events) == ["correct", "correct", "create", "create"]


def test_one_bad_job_fails_alone(db) -> None:  # type: ignore[no-untyped-def]
    database, ids = db
    good = writes.DiaryWrite(ids["patient_a"], _entry(TODAY - dt.timedelta(days=1), 3), "user:1")
    bad = writes.DiaryWrite(999_999, _entry(TODAY - dt.timedelta(days=1), 3), "user:1")
    f_good = database.submit_item(writes.DIARY, good)
    f_bad = database.submit_item(writes.DIARY, bad)
    f_fn = database.submit(lambda s: repo.get_patient(s, 424242))
    assert f_good.result()["revision"] == 1
    with pytest.raises(NotFound):
        f_bad.result()
    with pytest.raises(NotFound):
        f_fn.result()
    with database.read() as s:
        rows = s.scalars(select(DiaryEntryRow)).all()
        assert [(r.patient_id, r.pain) for r in rows] == [(ids["patient_a"], 3)]
