"""Logging in and out, with lock-out after repeated failures.

Failed and successful logins are audit events (ids only), and the lock-out is computed from
them: after `lockout_attempts` failures within `lockout_minutes` since the last success, the
account is locked until the oldest of those failures ages out. Because the count lives in the
database, it holds across restarts and across server processes. Unknown usernames cannot be
counted per account, so each client address also has an in-memory failure budget.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import defaultdict, deque

from sqlalchemy import select

from ldnkit.store.models import AuditEvent
from ldnkit.store.repositories import audit, authenticate, get_user_by_username
from ldnkit.web.db import Database
from ldnkit.web.deps import Principal
from ldnkit.web.errors import LockedOut, NotAuthenticated
from ldnkit.web.settings import WebSettings

ADDRESS_ATTEMPTS_FACTOR = 4


class InvalidCredentials(NotAuthenticated):
    """Wrong username or password (deliberately not saying which)."""


class _AddressBudget:
    """Failed logins per client address within the lock-out window (this process only)."""

    def __init__(self) -> None:
        self._fails: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _trim(self, address: str, window: float) -> deque[float]:
        fails = self._fails[address]
        cutoff = time.monotonic() - window
        while fails and fails[0] < cutoff:
            fails.popleft()
        return fails

    def check(self, address: str, limit: int, window: float) -> None:
        with self._lock:
            fails = self._trim(address, window)
            if len(fails) >= limit:
                raise LockedOut(max(1, int(fails[0] + window - time.monotonic())))

    def fail(self, address: str) -> None:
        with self._lock:
            self._fails[address].append(time.monotonic())

    def clear(self, address: str) -> None:
        with self._lock:
            self._fails.pop(address, None)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


class Accounts:
    """Login and logout for one app instance."""

    def __init__(self, db: Database, settings: WebSettings) -> None:
        self.db = db
        self.settings = settings
        self.addresses = _AddressBudget()

    def _account_lock(self, user_id: int) -> int | None:
        """Seconds until this account unlocks, or None when it is not locked."""
        window = dt.timedelta(minutes=self.settings.lockout_minutes)
        now = dt.datetime.now(dt.UTC)
        with self.db.read() as s:
            events = s.execute(
                select(AuditEvent.action, AuditEvent.at)
                .where(
                    AuditEvent.entity == "user",
                    AuditEvent.entity_id == user_id,
                    AuditEvent.action.in_(("login_failed", "login")),
                    AuditEvent.at >= now - window,
                )
                .order_by(AuditEvent.id)
            ).all()
        fails: list[dt.datetime] = []
        for action, at in events:
            if action == "login":
                fails = []
            else:
                fails.append(_aware(at))
        if len(fails) < self.settings.lockout_attempts:
            return None
        oldest = fails[-self.settings.lockout_attempts]
        return max(1, int((oldest + window - now).total_seconds()))

    def login(self, username: str, password: str, address: str) -> Principal:
        """The account for these credentials, or InvalidCredentials / LockedOut."""
        window = self.settings.lockout_minutes * 60
        limit = self.settings.lockout_attempts * ADDRESS_ATTEMPTS_FACTOR
        self.addresses.check(address, limit, window)
        with self.db.read() as s:
            known = get_user_by_username(s, username)
            known_id = known.id if known is not None else None
        if known_id is not None:
            retry = self._account_lock(known_id)
            if retry is not None:
                raise LockedOut(retry)
        with self.db.read() as s:
            user = authenticate(s, username, password)
            principal = (
                Principal(user.id, user.username, user.role, user.clinician_id, user.patient_id)
                if user is not None
                else None
            )
        if principal is None:
            self.addresses.fail(address)
            self.db.write(
                lambda s: audit.record(
                    s, actor="anonymous", action="login_failed", entity="user", entity_id=known_id
                )
            )
            raise InvalidCredentials("wrong username or password")
        self.addresses.clear(address)
        self.db.write(
            lambda s: audit.record(
                s, actor=principal.actor, action="login", entity="user", entity_id=principal.user_id
            )
        )
        return principal

    def logout(self, principal: Principal) -> None:
        """Void every session token this account holds (tokens issued before now)."""
        # Token times have sub-second precision; make sure the logout sorts after them.
        time.sleep(0.001)
        self.db.write(
            lambda s: audit.record(
                s,
                actor=principal.actor,
                action="logout",
                entity="user",
                entity_id=principal.user_id,
            )
        )


__all__ = ["Accounts", "InvalidCredentials"]
