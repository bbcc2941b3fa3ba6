"""Failed-login budgets, claimed and given back with single atomic statements.

A login claims one slot of each budget it is subject to (its account name, its client
address) *before* the password is verified. Claiming is one conditional UPDATE:

    UPDATE login_throttle SET failures = failures + 1 (or 1 in a new window)
    WHERE key = :key AND (failures < :limit OR window_start < :window_cutoff)
    RETURNING failures

so however many requests race (threads of one server, or several server processes sharing the
database), at most `limit` of them get a slot in one window, and only those have their password
checked. The database serialises the UPDATEs on the row (SQLite: the writer lock; PostgreSQL:
the row lock, with the WHERE re-checked on the updated row). A request whose password turns out
right gives its own slot back (`release`); nothing else lowers the count, so a success by one
client never restores the budget an attacker has spent.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ldnkit.store.models import LoginThrottleRow


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _ensure_row(session: Session, key: str, now: dt.datetime) -> None:
    dialect = session.get_bind().dialect.name
    values = {"key": key, "failures": 0, "window_start": now}
    if dialect == "postgresql":
        session.execute(pg_insert(LoginThrottleRow).values(values).on_conflict_do_nothing())
    elif dialect == "sqlite":
        session.execute(sqlite_insert(LoginThrottleRow).values(values).on_conflict_do_nothing())
    elif session.get(LoginThrottleRow, key) is None:  # other databases: best effort
        session.add(LoginThrottleRow(**values))
        session.flush()


def claim(
    session: Session, key: str, *, limit: int, window: dt.timedelta, now: dt.datetime
) -> int | None:
    """Take one slot of `key`'s budget of `limit` per `window`.

    Returns None when a slot was granted, else the seconds until the window ends and slots
    are available again (the caller answers 429 with that Retry-After).
    """
    _ensure_row(session, key, now)
    cutoff = now - window
    expired = LoginThrottleRow.window_start < cutoff
    granted = session.execute(
        update(LoginThrottleRow)
        .where(LoginThrottleRow.key == key, (LoginThrottleRow.failures < limit) | expired)
        .values(
            failures=case((expired, 1), else_=LoginThrottleRow.failures + 1),
            window_start=case((expired, now), else_=LoginThrottleRow.window_start),
        )
        .returning(LoginThrottleRow.failures)
        .execution_options(synchronize_session=False)
    ).first()
    if granted is not None:
        return None
    start = session.scalar(select(LoginThrottleRow.window_start).where(LoginThrottleRow.key == key))
    if start is None:
        return max(1, int(window.total_seconds()))
    return max(1, int((_aware(start) + window - now).total_seconds()))


def release(session: Session, key: str) -> None:
    """Give back the slot a request claimed (its password was right)."""
    session.execute(
        update(LoginThrottleRow)
        .where(LoginThrottleRow.key == key, LoginThrottleRow.failures > 0)
        .values(failures=LoginThrottleRow.failures - 1)
        .execution_options(synchronize_session=False)
    )


def clear(session: Session, key: str) -> bool:
    """Forget a budget entirely (an administrator unlocking an account); True if one existed."""
    result = session.execute(delete(LoginThrottleRow).where(LoginThrottleRow.key == key))
    return bool(result.rowcount)


def failures(session: Session, key: str, *, window: dt.timedelta, now: dt.datetime) -> int:
    """Failures counted against `key` in its current window (0 once the window has passed)."""
    row = session.get(LoginThrottleRow, key)
    if row is None or _aware(row.window_start) < now - window:
        return 0
    return row.failures


__all__ = ["claim", "clear", "failures", "release"]
