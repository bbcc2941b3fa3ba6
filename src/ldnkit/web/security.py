"""Signed session tokens and CSRF tokens (HMAC-SHA256 over a small JSON payload).

A session is a signed, expiring token naming the user id; it travels as an HttpOnly,
SameSite=Lax cookie for the pages or as a `Bearer` header for API clients. Every request still
loads the account from the database, so a deactivated account stops working at once, and a
logout (recorded in the audit log) invalidates every token issued before it.

CSRF tokens are bound to the session: each form carries the HMAC of the session token the
browser holds (`csrf_binding`), so a token leaked from one session (or planted before a login)
is worthless in any other. Before login there is no session; the login form's token is then
bound to a random value in its own cookie (signed double submit). A cross-site page can
neither read nor forge either.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

SESSION_COOKIE = "ldnkit_session"
CSRF_COOKIE = "ldnkit_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class SessionToken:
    """What a valid token says: whose session, when it was issued and until when."""

    user_id: int
    issued_at: float
    expires_at: float


class Signer:
    """Issues and checks the two kinds of tokens with one secret key."""

    def __init__(self, secret: bytes) -> None:
        self._key = hashlib.sha256(b"ldnkit-session:" + secret).digest()
        self._csrf_key = hashlib.sha256(b"ldnkit-csrf:" + secret).digest()

    def _sig(self, key: bytes, body: bytes) -> str:
        return _b64(hmac.new(key, body, hashlib.sha256).digest())

    def issue(self, user_id: int, hours: int) -> str:
        now = time.time()
        payload = {"u": user_id, "i": now, "e": now + hours * 3600, "n": secrets.token_hex(8)}
        body = _b64(json.dumps(payload, separators=(",", ":")).encode())
        return f"{body}.{self._sig(self._key, body.encode())}"

    def verify(self, token: str | None) -> SessionToken | None:
        """The token's claims when signature and expiry hold; None for anything else."""
        if not token or token.count(".") != 1 or len(token) > 512:
            return None
        body, sig = token.split(".")
        if not hmac.compare_digest(sig, self._sig(self._key, body.encode())):
            return None
        try:
            data = json.loads(_unb64(body))
            claims = SessionToken(int(data["u"]), float(data["i"]), float(data["e"]))
        except (ValueError, KeyError, TypeError):
            return None
        if claims.expires_at < time.time():
            return None
        return claims

    def csrf_binding(self, session_token: str | None, csrf_cookie: str | None) -> str | None:
        """What a CSRF token is bound to: the valid session token when there is one, else the
        pre-login CSRF cookie value; None when the browser holds neither."""
        if session_token and self.verify(session_token) is not None:
            return "session:" + session_token
        if csrf_cookie:
            return "anonymous:" + csrf_cookie
        return None

    def csrf_for(self, binding: str) -> str:
        """The form token for a binding (`csrf_binding`)."""
        return self._sig(self._csrf_key, binding.encode())

    def csrf_ok(self, binding: str | None, submitted: str | None) -> bool:
        if not binding or not submitted:
            return False
        return hmac.compare_digest(self.csrf_for(binding), submitted)


def new_csrf_cookie() -> str:
    return secrets.token_urlsafe(24)


__all__ = [
    "CSRF_COOKIE",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "SessionToken",
    "Signer",
    "new_csrf_cookie",
]
