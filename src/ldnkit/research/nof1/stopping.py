"""Stopping rules of an N-of-1 trial, checked on the diary as it comes in.

Three reasons end a trial early (Kravitz 2018 collected daily side effects alongside pain for
the same purpose): a side effect the patient rates severe (intolerable), the patient asking
to stop, and severe worsening - mean pain over the last three diary days at least
`worsening_points` above the run-in mean (or above the first three days' mean when there was
no run-in). Pure: the caller passes the diary and any stop request.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ldnkit.research.nof1.design import SOURCES, Nof1Design

__all__ = ["StopSignal", "check_stopping"]


@dataclass(frozen=True)
class StopSignal:
    """One reason to stop (or review) the trial now, with the dates that triggered it."""

    code: str  # intolerable_side_effects | patient_request | severe_worsening
    message: str
    on: dt.date
    sources: tuple[str, ...] = SOURCES

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "on": self.on.isoformat(),
            "sources": list(self.sources),
        }


def check_stopping(
    design: Nof1Design,
    pain_by_date: Mapping[dt.date, float],
    side_effects_by_date: Mapping[dt.date, Sequence[Mapping[str, str]]] | None = None,
    patient_request_on: dt.date | None = None,
) -> list[StopSignal]:
    """Every stopping rule that fires, oldest first; empty when the trial may go on."""
    out: list[StopSignal] = []
    if patient_request_on is not None:
        out.append(
            StopSignal(
                "patient_request",
                "The patient asked to stop the trial; stop and review.",
                patient_request_on,
            )
        )
    for when in sorted(side_effects_by_date or {}):
        severe = [s for s in (side_effects_by_date or {})[when] if s.get("severity") == "severe"]
        if severe and design.day_info(when).stage == "period":
            codes = ", ".join(sorted(str(s.get("code")) for s in severe))
            out.append(
                StopSignal(
                    "intolerable_side_effects",
                    f"Severe side effect reported ({codes}); stop this pack and review.",
                    when,
                )
            )
            break
    s = design.settings
    dates = sorted(d for d, v in pain_by_date.items() if v is not None)
    run_in = [float(pain_by_date[d]) for d in dates if design.day_info(d).stage == "run_in"]
    in_trial = [d for d in dates if design.day_info(d).stage == "period"]
    base = run_in if run_in else [float(pain_by_date[d]) for d in in_trial[:3]]
    if base and len(in_trial) >= 3:
        ref = float(np.mean(base))
        vals = np.array([float(pain_by_date[d]) for d in in_trial])
        rolling = np.convolve(vals, np.ones(3) / 3.0, mode="valid")
        hit = np.nonzero(rolling >= ref + s.worsening_points)[0]
        if hit.size:
            when = in_trial[int(hit[0]) + 2]
            out.append(
                StopSignal(
                    "severe_worsening",
                    f"Pain over 3 days averaged {rolling[hit[0]]:.1f}, at least "
                    f"{s.worsening_points:g} points above the starting level {ref:.1f}; "
                    "review now.",
                    when,
                )
            )
    return sorted(out, key=lambda x: x.on)
