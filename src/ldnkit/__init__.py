"""ldnkit: low-dose naltrexone (LDN) for chronic pain, with every rule traceable to its source.

ldnkit supports clinical judgement; it does not replace it.
"""

from __future__ import annotations

from ldnkit.errors import (
    EvidenceError,
    Forbidden,
    LdnkitError,
    NotFound,
    UnsafeToStart,
    ValidationError,
)

__version__ = "0.1.0"

__all__ = [
    "EvidenceError",
    "Forbidden",
    "LdnkitError",
    "NotFound",
    "UnsafeToStart",
    "ValidationError",
    "__version__",
]
