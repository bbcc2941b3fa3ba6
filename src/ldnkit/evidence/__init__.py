"""The evidence base: versioned YAML data with citations, and its typed, validated loader."""

from ldnkit.evidence.loader import DATA_DIR, Evidence, default_evidence, load_evidence
from ldnkit.evidence.models import DoseRange, Protocol, Reference, ScreeningRule

__all__ = [
    "DATA_DIR",
    "DoseRange",
    "Evidence",
    "Protocol",
    "Reference",
    "ScreeningRule",
    "default_evidence",
    "load_evidence",
]
