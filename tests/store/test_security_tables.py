"""The security tables on SQLite and PostgreSQL: login budgets (claim, window, release, clear),
CDS token ids (a replay is refused, expired ids are purged) and stored CDS feedback."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from ldnkit.store.models import CdsJtiRow
from ldnkit.store.repositories import cds, throttle

T0 = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)
WINDOW = dt.timedelta(minutes=15)


def _claim(engine: Engine, key: str, at: dt.datetime, limit: int = 3) -> int | None:
    with Session(engine) as s, s.begin():
        return throttle.claim(s, key, limit=limit, window=WINDOW, now=at)


def test_budget_claims_up_to_the_limit_then_waits_for_the_window(engine: Engine) -> None:
    assert [_claim(engine, "acct:x", T0) for _ in range(3)] == [None, None, None]
    retry = _claim(engine, "acct:x", T0 + dt.timedelta(minutes=5))
    assert retry == 600  # ten minutes left in the window
    assert _claim(engine, "acct:y", T0) is None  # other keys are independent
    assert _claim(engine, "acct:x", T0 + WINDOW + dt.timedelta(seconds=1)) is None  # new window
    with Session(engine) as s:
        assert throttle.failures(s, "acct:x", window=WINDOW, now=T0 + WINDOW * 1.5) == 1


def test_release_gives_back_one_slot_and_clear_forgets(engine: Engine) -> None:
    for _ in range(3):
        _claim(engine, "acct:x", T0)
    with Session(engine) as s, s.begin():
        throttle.release(s, "acct:x")
    assert _claim(engine, "acct:x", T0) is None
    assert _claim(engine, "acct:x", T0) is not None
    with Session(engine) as s, s.begin():
        assert throttle.clear(s, "acct:x") is True
        assert throttle.clear(s, "acct:x") is False
    assert _claim(engine, "acct:x", T0) is None


def test_token_ids_are_claimed_once(engine: Engine) -> None:
    exp = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    with Session(engine) as s, s.begin():
        assert cds.claim_jti(s, "https://ehr", "abc", exp) is True
    with Session(engine) as s, s.begin():
        assert cds.claim_jti(s, "https://ehr", "abc", exp) is False
        assert cds.claim_jti(s, "https://other-ehr", "abc", exp) is True


def test_expired_token_ids_are_purged(engine: Engine) -> None:
    old = dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)
    with Session(engine) as s, s.begin():
        for i in range(50):
            s.add(CdsJtiRow(issuer="i", jti=f"old-{i}", expires_at=old))
    fresh = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    with Session(engine) as s, s.begin():
        for _ in range(400):  # about one claim in 64 purges
            cds.claim_jti(s, "i", uuid.uuid4().hex, fresh)
    with Session(engine) as s:
        left = s.scalar(select(func.count()).where(CdsJtiRow.expires_at < dt.datetime.now(dt.UTC)))
    assert left == 0


def test_feedback_is_stored(engine: Engine) -> None:
    item = {"card": "c1", "outcome": "overridden", "accepted": [], "override_code": "X", "at": "t"}
    with Session(engine) as s, s.begin():
        assert cds.add_feedback(s, "ldn-order-select", "https://ehr", [item, item]) == 2
    with Session(engine) as s:
        rows = cds.list_feedback(s)
    assert len(rows) == 2 and rows[0]["override_code"] == "X" and rows[0]["client"] == "https://ehr"
