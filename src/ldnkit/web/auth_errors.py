"""The two ways a login or a session is refused: web-only errors, raised by the access rules
(`web.deps`) and the login flow (`web.accounts`), answered by the handlers in `web.errors`.

Their own module so that the access rules need not import the error handlers, which resolve
the signed-in user for error pages through the access rules (no import circle).
"""

from __future__ import annotations

from ldnkit.errors import LdnkitError

__all__ = ["LockedOut", "NotAuthenticated"]


class NotAuthenticated(LdnkitError):
    """No valid session: the API answers 401, a page redirects to the login form."""


class LockedOut(LdnkitError):
    """Too many failed logins for this account or address; try again later."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"too many failed logins; try again in {retry_after} seconds")
