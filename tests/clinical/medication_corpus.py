"""A stored corpus of chart-style medication lines and what recognition made of each.

Why: recognition is memoised and tuned for speed (token masking, cached matching, fuzzy
candidate buckets). A restructuring must not change a single result, so
`test_medication_corpus.py` compares today's recognition of every line with the expectation
stored in `data/medication_corpus.json`, which was generated from the code *before* the speed
work. Regenerate it only for a deliberate behaviour change (and review the diff):

    .venv/bin/python -m tests.clinical.medication_corpus

Lines are built from the bundled vocabulary (names, products, misspellings, glued strengths,
separators, chart noise, unknown words, non-ASCII), deterministically from a fixed seed; the
strings themselves are stored, so a later vocabulary change shows as a changed summary, not as
a different corpus.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from ldnkit.clinical.medications import Recogniser, Recognition, recogniser

CORPUS = Path(__file__).parent / "data" / "medication_corpus.json"
SEED = 20261201
SIZE = 800

_NOISE = ["mg", "tab", "PO", "BID", "prn", "ER", "HCl", "daily", "q6h", "patch", "film", "SL"]
_UNKNOWN = ["zorblax", "xyzzy", "quibblex", "frobnicate", "plumbus", "gleeb"]
_SEPARATORS = [" / ", "/", " + ", " with ", " and ", "-", " & ", "; ", " w/ "]
# Lines worth pinning by hand: near-misses between an opioid and a non-opioid (asked, never
# guessed), "nothing" lines, naltrexone strengths and forms, codes-like shorthand.
_FIXED = [
    "lodeine 400 mg",
    "codine 30 mg",
    "deerol",
    "tarwin 50mg",
    "oldine",
    "naloron",
    "none",
    "N/A",
    "no current medications",
    "Tylenol #3",
    "Tylenol w/ codeine #3",
    "co-codamol 30/500",
    "Suboxone film 8/2",
    "Vivitrol 380 mg IM monthly",
    "naltrexone implant",
    "Contrave ER",
    "naltrexone 4.5 mg nightly",
    "naltrexone 50mg daily",
    "LDN 1.5mg",
    "naltrexone 4,5 mg",
    "Vitamin D3 50,000 units weekly",
    "fentanyl 25 \u00b5g/h patch",
    "OXYCODONE HCL 5 MG PO TABS",
    "hydrocodone-acetaminophen 10-325 mg tablet",
    "oxycodone5mg q6h",
    "ms contin 30 mg BID",
    "morning clinic codex oxygen methane mother modern tramline",
    "paracetamol/xyzzy",
    "",
    "   ",
    "5 mg",
]


def _misspell(rng: random.Random, word: str) -> str:
    """One slip: a swap of neighbours, a dropped, doubled or changed letter."""
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(4)
    if kind == 0:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == 1:
        return word[:i] + word[i + 1 :]
    if kind == 2:
        return word[:i] + word[i] + word[i:]
    return word[:i] + rng.choice("aeioutrnsl") + word[i + 1 :]


def generate(rec: Recogniser, size: int = SIZE, seed: int = SEED) -> list[str]:
    """`size` distinct medication lines in chart wording, from `rec`'s vocabulary."""
    rng = random.Random(seed)
    names = sorted(" ".join(k) for k in rec._names)
    singles = sorted(k[0] for k in rec._names if len(k) == 1 and k[0].isalpha())
    out: dict[str, None] = dict.fromkeys(_FIXED)
    while len(out) < size:
        kind = rng.randrange(10)
        name = rng.choice(names)
        strength = rng.choice(["", " 5 mg", " 4.5mg", "10mg", " 50 mcg/hr", " 30/500", " 0.5 mg"])
        noise = " ".join(rng.sample(_NOISE, rng.randrange(0, 4)))
        if kind == 0:
            line = f"{name}{strength} {noise}"
        elif kind == 1:
            line = f"{name.upper()}{strength} {noise}"
        elif kind == 2:
            line = f"{_misspell(rng, rng.choice(singles))}{strength} {noise}"
        elif kind == 3:
            line = f"{name}{rng.choice(_SEPARATORS)}{rng.choice(names)}{strength}"
        elif kind == 4:
            line = f"{name}{rng.choice(_SEPARATORS)}{rng.choice(_UNKNOWN)}"
        elif kind == 5:
            word = rng.choice(singles)
            cut = rng.randrange(2, max(3, len(word) - 1))
            line = f"{word[:cut]} {word[cut:]}{strength}"
        elif kind == 6:
            line = f"{rng.choice(_UNKNOWN)}{strength} {noise}"
        elif kind == 7:
            line = f"{name.capitalize()} #{rng.randrange(1, 5)} {noise}"
        elif kind == 8:
            line = f"{_misspell(rng, _misspell(rng, rng.choice(singles)))} {noise}"
        else:
            line = f"{name}{rng.randrange(1, 900)}{rng.choice(['mg', 'mcg', ''])} {noise} é"
        out[line.strip()] = None
    return list(out)[:size]


def summary(rec: Recognition) -> dict[str, Any]:
    """Everything a Recognition says, in a JSON-comparable form."""
    return {
        "ingredients": [i.id for i in rec.ingredients],
        "matches": [
            [m.ingredient, m.via, m.matched, m.found, round(m.score, 4)] for m in rec.matches
        ],
        "form": rec.form,
        "washout": rec.washout.id if rec.washout else None,
        "klass_override": rec.klass_override.id if rec.klass_override else None,
        "strength_mg": None if rec.strength_mg is None else str(rec.strength_mg),
        "unknown": list(rec.unknown),
        "ambiguous": list(rec.ambiguous),
        "sources": list(rec.sources),
        "recognised": rec.recognised,
        "opioid_summary": rec.opioid_summary,
        "opioid_sources": list(rec.opioid_sources),
        "has_naltrexone": rec.has_naltrexone,
    }


def main() -> None:
    rec = recogniser()
    lines = generate(rec)
    data = [{"line": line, "expected": summary(rec.text(line))} for line in lines]
    CORPUS.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {len(data)} lines to {CORPUS}")


if __name__ == "__main__":
    main()
