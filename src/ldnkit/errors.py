"""One exception hierarchy for the whole package.

Shells translate these into their own idiom: the CLI prints one line and exits with status 2,
the web app answers 4xx with the field path. Keeping them here (and free of I/O) lets the pure
core raise them without knowing which shell called it.

The whole tree (tests/test_exports.py checks it against every subclass, after importing every
module). Classes defined in another module name it; catch the base, raise the leaf:

    LdnkitError
    ├── ValidationError                 input that breaks a rule; names the field (a ValueError)
    │   ├── ImpossibleInput             input that cannot be true (also an UnsafeToStart)
    │   └── FhirInvalid                 ldnkit.interop.fhir.common
    ├── EvidenceError                   the evidence base itself is inconsistent
    ├── NotFound                        a named protocol, patient or table does not exist
    ├── Forbidden                       the caller may not see or change this record
    ├── UnsafeToStart                   screening forbids starting LDN on that date
    ├── PrefetchMissing                 ldnkit.interop.cds.parsing
    ├── NotAuthenticated                ldnkit.web.auth_errors
    │   └── InvalidCredentials          ldnkit.web.accounts
    ├── LockedOut                       ldnkit.web.auth_errors
    ├── NotInitialised                  ldnkit.cli.store
    ├── BackupError                     ldnkit.store.backup
    ├── ConcurrentCorrection            ldnkit.store.repositories.diary
    └── DiagramUnavailable              ldnkit.diagrams.render
"""

from __future__ import annotations


class LdnkitError(Exception):
    """Base class: every error ldnkit raises on purpose derives from this."""

    exit_code: int = 2

    def one_line(self) -> str:
        """The message as a single line, as the CLI prints it."""
        return " ".join(str(self).split())


class ValidationError(LdnkitError, ValueError):
    """Input that breaks a rule; names the offending field and the reason."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class EvidenceError(LdnkitError):
    """The evidence base itself is inconsistent (dangling source id, value out of range)."""


class NotFound(LdnkitError):
    """A named thing (protocol, patient, table) does not exist."""

    def __init__(self, kind: str, key: str, known: list[str] | None = None) -> None:
        self.kind = kind
        self.key = key
        hint = f" (known: {', '.join(known)})" if known else ""
        super().__init__(f"unknown {kind} {key!r}{hint}")


class Forbidden(LdnkitError):
    """The caller may not see or change this record."""


class UnsafeToStart(LdnkitError):
    """A plan was requested for a patient whose screening forbids starting LDN on that date."""

    def __init__(self, message: str, earliest_start: object | None = None) -> None:
        self.earliest_start = earliest_start
        super().__init__(message)


class ImpossibleInput(ValidationError, UnsafeToStart):
    """Input that cannot be true, found while deciding whether to start (a birth date after
    the start date): an input error naming the field and, equally, a refused start, so the
    web shell answers 422 with the field and every caller that refuses unsafe starts stops."""

    def __init__(self, field: str, reason: str) -> None:
        ValidationError.__init__(self, field, reason)
        self.earliest_start = None
