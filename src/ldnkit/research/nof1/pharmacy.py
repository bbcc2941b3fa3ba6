"""What the compounding pharmacy makes for a blinded N-of-1 trial, and the blinding check.

Both packs hold identical capsules, one per night: LDN at the pack's dose in the filler, or
the filler alone (placebo, e.g. microcrystalline cellulose, as the pharmacy compounds it).
The pharmacist's worksheet (`dispensing`) names contents; the label the patient sees
(`PackLine.label`) names only the trial, the pack letter, the period and the directions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from scipy import stats

from ldnkit.errors import ValidationError
from ldnkit.research.nof1.design import Allocation, Nof1Design

__all__ = ["BlindingCheck", "PackLine", "blinding_check", "dispensing"]

Guess = Literal["ldn", "comparator", "unsure"]


@dataclass(frozen=True)
class PackLine:
    """One period's pack: the pharmacist's line (contents) and the patient's label."""

    period: int
    pair: int
    pack: str
    contents: str  # pharmacist only: "LDN 4.5 mg in microcrystalline cellulose" / "placebo: ..."
    strength_mg: Decimal  # 0 for placebo
    capsules: int
    start: dt.date
    end: dt.date
    label: str  # what is printed on the pack: no contents

    def to_dict(self, blinded: bool = True) -> dict[str, Any]:
        d = {
            "period": self.period,
            "pair": self.pair,
            "pack": self.pack,
            "capsules": self.capsules,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "label": self.label,
        }
        if not blinded:
            d["contents"] = self.contents
            d["strength_mg"] = str(self.strength_mg)
        return d


def dispensing(
    design: Nof1Design,
    allocation: Allocation,
    trial_ref: str,
    filler: str = "microcrystalline cellulose",
    spare_capsules: int = 3,
) -> list[PackLine]:
    """One line per period: capsules for every night of it plus `spare_capsules`."""
    if not filler.strip():
        raise ValidationError("filler", "name the capsule filler")
    if not 0 <= spare_capsules <= 14:
        raise ValidationError("spare_capsules", "must be 0 to 14")
    s = design.settings
    out = []
    for p in design.periods:
        arm = allocation.arm_of(p.pack)
        if arm == "ldn":
            strength, contents = s.dose_mg, f"LDN {s.dose_mg} mg in {filler}"
        elif arm == "ldn_b":
            strength = s.comparator_dose_mg or Decimal(0)
            contents = f"LDN {strength} mg in {filler}"
        else:
            strength, contents = Decimal(0), f"placebo: {filler} only"
        start, end = design.date_of(p.start_day), design.date_of(p.end_day)
        n = p.days + spare_capsules
        label = (
            f"N-of-1 trial {trial_ref} - PACK {p.pack} - period {p.index} - take ONE capsule "
            f"at bedtime from {start.isoformat()} to {end.isoformat()} - {n} capsules - "
            "blinded study medication"
        )
        out.append(PackLine(p.index, p.pair, p.pack, contents, strength, n, start, end, label))
    return out


@dataclass(frozen=True)
class BlindingCheck:
    """The patient's end-of-period guesses against the truth (after unblinding)."""

    guesses: int
    unsure: int
    correct: int
    p_value: float | None  # exact binomial test of correct guesses against chance (0.5)

    @property
    def share_correct(self) -> float | None:
        decided = self.guesses - self.unsure
        return self.correct / decided if decided else None

    def plain(self) -> str:
        if self.guesses == 0:
            return "No end-of-period guesses were recorded."
        decided = self.guesses - self.unsure
        text = (
            f"You guessed which pack held LDN {decided} times "
            f"(unsure {self.unsure} times) and were right {self.correct} times."
        )
        if self.p_value is not None and self.p_value < 0.05:
            text += " That is more often than chance: the blinding may have been broken."
        elif decided:
            text += " That is in line with chance: the blinding appears to have held."
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "guesses": self.guesses,
            "unsure": self.unsure,
            "correct": self.correct,
            "share_correct": self.share_correct,
            "p_value": self.p_value,
            "plain": self.plain(),
        }


def blinding_check(
    design: Nof1Design, allocation: Allocation, guesses: Sequence[tuple[int, Guess]]
) -> BlindingCheck:
    """Score guesses given as (period index, "ldn" / "comparator" / "unsure")."""
    by_index = {p.index: p for p in design.periods}
    correct = unsure = 0
    for idx, guess in guesses:
        if idx not in by_index:
            raise ValidationError("period", f"no period {idx} in this trial")
        if guess not in ("ldn", "comparator", "unsure"):
            raise ValidationError("guess", "must be 'ldn', 'comparator' or 'unsure'")
        if guess == "unsure":
            unsure += 1
            continue
        truth = allocation.is_ldn(by_index[idx])
        correct += int((guess == "ldn") == truth)
    decided = len(guesses) - unsure
    p = (
        float(stats.binomtest(correct, decided, 0.5, alternative="greater").pvalue)
        if decided
        else None
    )
    return BlindingCheck(len(guesses), unsure, correct, p)
