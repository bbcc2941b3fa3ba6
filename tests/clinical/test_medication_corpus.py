"""Recognition of 800 stored chart lines must not change when matching is restructured.

The expectation was generated from the recogniser before its speed work (see
`medication_corpus.py`); each line is checked on a fresh recogniser (nothing memoised), again
through the memo (second call), and with a per-line strength appended, which is how the
benchmark makes every line unique.
"""

from __future__ import annotations

import json

import pytest

from ldnkit.clinical.medications import Recogniser
from ldnkit.evidence import default_evidence
from tests.clinical.medication_corpus import CORPUS, summary

ENTRIES = json.loads(CORPUS.read_text(encoding="utf-8"))


def test_corpus_is_large_and_varied() -> None:
    expected = [e["expected"] for e in ENTRIES]
    assert len(ENTRIES) >= 500
    vias = {m[1] for e in expected for m in e["matches"]}
    assert vias == {"exact", "joined", "fuzzy"}
    assert any(e["ambiguous"] for e in expected)
    assert any(e["unknown"] for e in expected)
    assert any(e["form"] == "ldn" for e in expected)


def test_every_stored_line_is_recognised_as_before_fresh_and_memoised() -> None:
    rec = Recogniser(default_evidence())
    fresh = [summary(rec.text(e["line"])) for e in ENTRIES]
    memo = [summary(rec.text(e["line"])) for e in ENTRIES]
    for entry, got, again in zip(ENTRIES, fresh, memo, strict=True):
        assert got == entry["expected"], entry["line"]
        assert again == got, entry["line"]


@pytest.mark.parametrize("suffix", [" 7.3 mg", " 12345", " q4h 2 tabs"])
def test_a_unique_suffix_changes_only_what_it_says(suffix: str) -> None:
    """The benchmark's unique lines: the same line with a strength or count appended is read
    the same as a fresh recogniser reads it (masked numbers must not leak between lines)."""
    shared, alone = Recogniser(default_evidence()), Recogniser(default_evidence())
    lines = [e["line"] + suffix for e in ENTRIES]
    alone_reads = {line: summary(alone.text(line)) for line in reversed(lines)}
    for entry, line in zip(ENTRIES, lines, strict=True):
        shared.text(entry["line"])
        assert summary(shared.text(line)) == alone_reads[line], line
