"""Cohort analytics: diary export to Parquet and DuckDB summaries set against the VA figures.

A shell layer: it reads the store (export) and files; the per-patient definitions it shares
live in the pure `ldnkit.clinical.outcomes`.
"""

from ldnkit.analytics.cohort import CohortSummary, cohort_summary, latest_date
from ldnkit.analytics.export import DIARY_SCHEMA, ExportResult, export_diary_parquet

__all__ = [
    "DIARY_SCHEMA",
    "CohortSummary",
    "ExportResult",
    "cohort_summary",
    "export_diary_parquet",
    "latest_date",
]
