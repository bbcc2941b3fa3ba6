"""Personalised, blinded N-of-1 trials of LDN: design, blinding, analysis, pooling.

    from ldnkit.research.nof1 import Nof1Settings, design_trial, fit, series_from_diary
    design, allocation = design_trial(Nof1Settings(dose_mg="4.5", start=day0, seed=seed))
    result = fit(series_from_diary(design, allocation, pain_by_date))
    print(result.summary())

Pure computation (no clock, no I/O); the store, web app and CLI are the shells. The exact
posterior (`fit`) is the product; `reference.sample_nuts` (NumPyro, dev extra) checks it.
"""

from ldnkit.research.nof1.analysis import (
    Nof1Prior,
    Nof1Result,
    PairedResult,
    Series,
    fit,
    paired_analysis,
    series_from_diary,
)
from ldnkit.research.nof1.design import (
    SOURCES,
    Allocation,
    DayInfo,
    Nof1Design,
    Nof1Settings,
    Period,
    ScheduleItem,
    design_trial,
    randomise,
)
from ldnkit.research.nof1.pharmacy import BlindingCheck, PackLine, blinding_check, dispensing
from ldnkit.research.nof1.pooling import PooledTrials, ShrunkenEffect, pool_trials
from ldnkit.research.nof1.report import Nof1Report, build_report, pain_svg, plain_words
from ldnkit.research.nof1.stopping import StopSignal, check_stopping
from ldnkit.research.nof1.washout import WashoutEstimate, washout_estimate

__all__ = [
    "SOURCES",
    "Allocation",
    "BlindingCheck",
    "DayInfo",
    "Nof1Design",
    "Nof1Prior",
    "Nof1Report",
    "Nof1Result",
    "Nof1Settings",
    "PackLine",
    "PairedResult",
    "Period",
    "PooledTrials",
    "ScheduleItem",
    "Series",
    "ShrunkenEffect",
    "StopSignal",
    "WashoutEstimate",
    "blinding_check",
    "build_report",
    "check_stopping",
    "design_trial",
    "dispensing",
    "fit",
    "pain_svg",
    "paired_analysis",
    "plain_words",
    "pool_trials",
    "randomise",
    "series_from_diary",
    "washout_estimate",
]
