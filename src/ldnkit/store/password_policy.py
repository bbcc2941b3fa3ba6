"""Which passwords an account may have: length, not the username, and zxcvbn's strength score.

Why zxcvbn: a length rule alone accepts "password" and "12345678"; zxcvbn estimates how many
guesses an attacker with common-password lists, dictionaries, keyboard patterns and dates
needs, and scores it 0-4. Clinicians and administrators reach many patients' records, so their
passwords need score 3 ("safely unguessable: moderate protection from offline attack");
patients reach only their own diary and often type on a phone, so score 2 ("somewhat guessable:
protection from unthrottled online attack") is asked of them, with online guessing throttled
by the lock-out on top. The username, and the product's own words, count as known to an
attacker: zxcvbn scores a password built on them as if they were common words.
"""

from __future__ import annotations

from zxcvbn import zxcvbn

from ldnkit.errors import ValidationError

MIN_CHARS = 10
#: Longer passwords are accepted but argon2 and zxcvbn do not need to see kilobytes of them.
MAX_CHARS = 256
MIN_SCORE = {"clinician": 3, "admin": 3, "patient": 2}
_PRODUCT_WORDS = ("ldnkit", "naltrexone", "ldn")
#: zxcvbn's matching grows quickly with length; its score saturates long before this.
_SCORED_CHARS = 64


def password_problem(password: str, *, username: str, role: str) -> str | None:
    """Why this password is refused for this account, or None when it is acceptable."""
    if len(password) < MIN_CHARS:
        return f"must be at least {MIN_CHARS} characters"
    if len(password) > MAX_CHARS:
        return f"must be at most {MAX_CHARS} characters"
    if "\x00" in password:
        return "must not contain NUL characters"
    name = username.strip().lower()
    if name and password.lower() in (name, name[::-1]):
        return "must not be the username"
    needed = MIN_SCORE.get(role, max(MIN_SCORE.values()))
    result = zxcvbn(password[:_SCORED_CHARS], user_inputs=[name, *_PRODUCT_WORDS])
    if result["score"] < needed:
        hint = result["feedback"].get("warning") or "add more words or characters"
        return f"too easy to guess (strength {result['score']} of 4, needs {needed}): {hint}"
    return None


def check_password(password: str, *, username: str, role: str) -> None:
    """Raise ValidationError("password", reason) when the policy refuses the password."""
    problem = password_problem(password, username=username, role=role)
    if problem is not None:
        raise ValidationError("password", problem)


__all__ = ["MAX_CHARS", "MIN_CHARS", "MIN_SCORE", "check_password", "password_problem"]
