"""Export the current diary to Parquet, the columnar file DuckDB (and anyone else) reads fast.

Only what cohort analysis needs leaves the database: patient and clinician ids, dates, the
scores, the dose, the side-effect codes. No names, dates of birth or free-text notes are
exported, so the file can go to a research team without a second de-identification pass.
Doses are integer micrograms (the project's rule: no binary floats for doses).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.orm import Session

from ldnkit.store.models import DiaryEntryRow, PatientRow

DIARY_SCHEMA = pa.schema(
    [
        pa.field("patient_id", pa.int64(), nullable=False),
        pa.field("entry_date", pa.date32(), nullable=False),
        pa.field("revision", pa.int32(), nullable=False),
        pa.field("pain", pa.int8(), nullable=False),
        pa.field("sleep", pa.int8()),
        pa.field("mood", pa.int8()),
        pa.field("energy", pa.int8()),
        pa.field("clarity", pa.int8()),
        pa.field("dose_taken", pa.bool_(), nullable=False),
        pa.field("dose_ug", pa.int32()),
        pa.field("n_side_effects", pa.int8(), nullable=False),
        pa.field("side_effects", pa.string()),
    ]
)
_BATCH = 50_000


@dataclass(frozen=True)
class ExportResult:
    path: Path
    rows: int
    patients: int


def _batch(rows: list[DiaryEntryRow]) -> pa.RecordBatch:
    cols = {
        "patient_id": [r.patient_id for r in rows],
        "entry_date": [r.entry_date for r in rows],
        "revision": [r.revision for r in rows],
        "pain": [r.pain for r in rows],
        "sleep": [r.sleep for r in rows],
        "mood": [r.mood for r in rows],
        "energy": [r.energy for r in rows],
        "clarity": [r.clarity for r in rows],
        "dose_taken": [r.dose_taken for r in rows],
        "dose_ug": [None if r.dose_mg is None else int(r.dose_mg * 1000) for r in rows],
        "n_side_effects": [len(r.side_effects or ()) for r in rows],
        "side_effects": [
            ";".join(f"{s['code']}:{s['severity']}" for s in r.side_effects) or None
            if r.side_effects
            else None
            for r in rows
        ],
    }
    return pa.RecordBatch.from_pydict(cols, schema=DIARY_SCHEMA)


def export_diary_parquet(
    session: Session, path: Path, *, clinician_id: int | None = None
) -> ExportResult:
    """Write the current revision of every diary day (optionally one clinician's patients)."""
    stmt = (
        select(DiaryEntryRow)
        .where(DiaryEntryRow.superseded.is_(False))
        .order_by(DiaryEntryRow.patient_id, DiaryEntryRow.entry_date)
        .execution_options(yield_per=_BATCH)
    )
    if clinician_id is not None:
        stmt = stmt.join(PatientRow, PatientRow.id == DiaryEntryRow.patient_id).where(
            PatientRow.clinician_id == clinician_id
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    patients: set[int] = set()
    with pq.ParquetWriter(path, DIARY_SCHEMA, compression="zstd") as writer:
        for part in session.scalars(stmt).partitions():
            writer.write_batch(_batch(list(part)))
            rows += len(part)
            patients.update(r.patient_id for r in part)
    return ExportResult(path=path, rows=rows, patients=len(patients))


__all__ = ["DIARY_SCHEMA", "ExportResult", "export_diary_parquet"]
