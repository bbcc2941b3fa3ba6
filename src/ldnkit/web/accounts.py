"""Logging in and out, with failure budgets decided atomically in the database.

Every login is subject to two budgets (`store.repositories.throttle`): one for the account
name it tries, one for the client address it comes from. A slot of each is claimed *before*
the password is verified, with one conditional UPDATE per budget, so 40 parallel guesses
against one account get at most `lockout_attempts` password checks between them, in one
server process or many. A right password gives its slots back; it never resets what others
spent, so an attacker cannot refresh an address's budget by logging into their own account.

The account budget is keyed by the (hashed) name typed, not by the account's id, so a name
that does not exist locks exactly like one that does: both answer 401 for a wrong password
and 429 once spent, and both run one argon2 verification (against a dummy hash for unknown
names), so neither the answer nor its timing tells whether an account exists.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time

from ldnkit.store.repositories import audit, authenticate, get_user_by_username, throttle
from ldnkit.web.auth_errors import LockedOut, NotAuthenticated
from ldnkit.web.db import Database
from ldnkit.web.deps import Principal
from ldnkit.web.settings import WebSettings


class InvalidCredentials(NotAuthenticated):
    """Wrong username or password (deliberately not saying which)."""


def account_key(username: str) -> str:
    """The budget key of an account name: a hash, so the table holds no usernames."""
    digest = hashlib.sha256(username.strip().lower().encode("utf-8", "replace")).hexdigest()
    return f"acct:{digest[:40]}"


def address_key(address: str) -> str:
    return f"addr:{address[:64]}"


class Accounts:
    """Login and logout for one app instance (the budgets live in the shared database)."""

    def __init__(self, db: Database, settings: WebSettings) -> None:
        self.db = db
        self.settings = settings

    @property
    def window(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.settings.lockout_minutes)

    def _claim(self, username: str, address: str) -> None:
        """Claim one slot of the address and the account budgets, or raise LockedOut."""
        now = dt.datetime.now(dt.UTC)
        limit = self.settings.lockout_attempts
        keys = (
            (address_key(address), self.settings.lockout_address_attempts),
            (account_key(username), limit),
        )

        def job(s):  # type: ignore[no-untyped-def]
            taken: list[str] = []
            for key, key_limit in keys:
                retry = throttle.claim(s, key, limit=key_limit, window=self.window, now=now)
                if retry is not None:
                    # No password will be checked: give back what this request took.
                    for done in taken:
                        throttle.release(s, done)
                    return retry
                taken.append(key)
            return None

        retry = self.db.write(job)
        if retry is not None:
            raise LockedOut(retry)

    def login(self, username: str, password: str, address: str) -> Principal:
        """The account for these credentials, or InvalidCredentials / LockedOut."""
        self._claim(username, address)
        with self.db.read() as s:
            user = authenticate(s, username, password)
            principal = (
                Principal(user.id, user.username, user.role, user.clinician_id, user.patient_id)
                if user is not None
                else None
            )
            known = get_user_by_username(s, username) if user is None else None
            known_id = known.id if known is not None else None
        if principal is None:
            # The audit log (admins only) may say which account was tried; the answer may not.
            self.db.write(
                lambda s: audit.record(
                    s, actor="anonymous", action="login_failed", entity="user", entity_id=known_id
                )
            )
            raise InvalidCredentials("wrong username or password")

        def success(s):  # type: ignore[no-untyped-def]
            throttle.release(s, address_key(address))
            throttle.release(s, account_key(username))
            audit.record(
                s, actor=principal.actor, action="login", entity="user", entity_id=principal.user_id
            )

        self.db.write(success)
        return principal

    def unlock(self, username: str, *, actor: str, user_id: int) -> bool:
        """Forget the failures counted against an account name (an administrator's action)."""

        def job(s):  # type: ignore[no-untyped-def]
            cleared = throttle.clear(s, account_key(username))
            audit.record(s, actor=actor, action="unlock", entity="user", entity_id=user_id)
            return cleared

        return self.db.write(job)

    def failures(self, username: str) -> int:
        """Failed logins counted against this account name in the current window."""
        with self.db.read() as s:
            return throttle.failures(
                s, account_key(username), window=self.window, now=dt.datetime.now(dt.UTC)
            )

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


__all__ = ["Accounts", "InvalidCredentials", "account_key"]
