"""EHR-supplied text made inert before it is placed in a CDS card's markdown.

Why: card `detail` is rendered as GitHub-flavoured markdown by the EHR, and medication names,
conditions and finding messages carry text the EHR sent us. A name such as
`[click](javascript:alert(1))` or `<img src=x onerror=...>` would otherwise become a live link
or HTML in the clinician's EHR. Every markdown-active character is backslash-escaped (CommonMark
lets any ASCII punctuation be escaped, and the escaped character shows as itself), and line
breaks and control characters become spaces so the text cannot open a new block (a heading,
a list, a quote) either.
"""

from __future__ import annotations

import re

_ACTIVE = re.compile(r"([\\`*_{}\[\]()<>#!|~&:])")
_BREAKS = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


def plain(text: str, limit: int = 500) -> str:
    """One line of at most `limit` characters: control characters and line breaks removed."""
    return " ".join(_BREAKS.sub(" ", text).split())[:limit]


def md_escape(text: str, limit: int = 500) -> str:
    """`text` as literal characters inside markdown: no links, HTML, emphasis or blocks."""
    return _ACTIVE.sub(r"\\\1", plain(text, limit))


__all__ = ["md_escape", "plain"]
