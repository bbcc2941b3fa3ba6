"""What the FHIR REST routes need from storage, as a small typed interface, and the
implementation over `ldnkit.store`.

The routes never open sessions themselves: the shell hands them a `PatientRecords`. The
store-backed one takes the two callables the web app's `Database` already offers (`read()`, a
context manager yielding a Session; `write(fn)`, running `fn(session)` in one committed
transaction), so mounting needs no new plumbing: `StoreRecords(db.read, db.write)`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from sqlalchemy.orm import Session

from ldnkit.clinical.diary import DiaryEntry
from ldnkit.clinical.models import Assessment, Medication, Patient, Plan
from ldnkit.clinical.plan_safety import check_imported_plan
from ldnkit.inputs import parse_model
from ldnkit.interop.fhir.reading import DiaryImport, new_entries
from ldnkit.store.models import AssessmentRow
from ldnkit.store.repositories import (
    add_diary_entries,
    audit,
    current_plan,
    get_patient,
    list_assessments,
    save_plan,
)
from ldnkit.store.repositories import instruments as instrument_store
from ldnkit.store.repositories.diary import diary as stored_diary

_T = TypeVar("_T")


@dataclass(frozen=True)
class CareRecord:
    """Everything the export needs about one patient, as core models."""

    patient: Patient
    plan: Plan | None
    assessment: Assessment | None
    diary: list[DiaryEntry]
    #: Completed instruments (`store.repositories.instruments.response_dict`), oldest first.
    instrument_responses: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class ImportSummary:
    """What an import did; a repeat of the same Bundle reports created=0, plan_saved=False."""

    created: tuple[dt.date, ...]
    unchanged: tuple[dt.date, ...]
    conflicts: tuple[dt.date, ...]
    skipped: tuple[str, ...]
    plan_saved: bool


class PatientRecords(Protocol):
    """Storage as the FHIR routes see it (ids are the store's integer patient ids)."""

    def care_record(self, patient_id: int) -> CareRecord: ...

    def apply_import(
        self,
        patient_id: int,
        imported: DiaryImport,
        plan: Plan | None,
        *,
        actor: str,
        today: dt.date,
        medications: Sequence[Medication] = (),
    ) -> ImportSummary: ...


def core_patient(row: Any) -> Patient:
    """The core Patient of a stored row: its clinical profile plus identity from the row."""
    profile = {k: v for k, v in (row.profile or {}).items() if k not in ("id", "name")}
    data: dict[str, Any] = {**profile, "id": str(row.id)}
    data["name"] = f"{row.given_name} {row.family_name}".strip()
    if row.birth_date is not None and "birth_date" not in profile:
        data["birth_date"] = row.birth_date
    return parse_model(Patient, data, prefix="profile")


class StoreRecords:
    """`PatientRecords` over `ldnkit.store`, with the caller's session plumbing."""

    def __init__(
        self,
        read: Callable[[], AbstractContextManager[Session]],
        write: Callable[[Callable[[Session], _T]], _T],
    ) -> None:
        self._read = read
        self._write = write

    def care_record(self, patient_id: int) -> CareRecord:
        with self._read() as session:
            row = get_patient(session, patient_id)
            plan_row = current_plan(session, patient_id)
            assessments: list[AssessmentRow] = list(list_assessments(session, patient_id))
            entries = stored_diary(session, patient_id)
            responses = [
                instrument_store.response_dict(r)
                for r in instrument_store.list_responses(session, patient_id)
            ]
            return CareRecord(
                patient=core_patient(row),
                plan=Plan.model_validate(plan_row.payload) if plan_row else None,
                assessment=(
                    Assessment.model_validate(assessments[-1].payload) if assessments else None
                ),
                diary=entries,
                instrument_responses=responses,
            )

    def apply_import(
        self,
        patient_id: int,
        imported: DiaryImport,
        plan: Plan | None,
        *,
        actor: str,
        today: dt.date,
        medications: Sequence[Medication] = (),
    ) -> ImportSummary:
        """Add only new days and a changed plan, in one transaction (idempotent).

        A new plan is screened first against the stored profile plus `medications` (those the
        Bundle records): `UnsafeToStart` aborts the transaction, so nothing is stored.
        """

        def job(session: Session) -> ImportSummary:
            row = get_patient(session, patient_id)
            mine = None
            if plan is not None:
                mine = plan.model_copy(update={"patient_id": str(patient_id)})
                current = current_plan(session, patient_id)
                if current is None or Plan.model_validate(current.payload) != mine:
                    core = core_patient(row)
                    if medications:
                        core = core.model_copy(
                            update={"medications": [*core.medications, *medications]}
                        )
                    check_imported_plan(core, mine, today)
                else:
                    mine = None
            held = {e.entry_date: e for e in stored_diary(session, patient_id)}
            merge = new_entries(imported, held)
            if merge.new:
                add_diary_entries(
                    session,
                    [(patient_id, e) for e in merge.new],
                    today=today,
                    actor=actor,
                )
            saved = False
            if mine is not None:
                save_plan(
                    session,
                    patient_id=patient_id,
                    protocol_id=mine.protocol_id,
                    start_date=mine.start,
                    payload=mine.model_dump(mode="json"),
                    actor=actor,
                )
                saved = True
            audit.record(
                session,
                actor=actor,
                action="fhir_import",
                entity="patient",
                entity_id=patient_id,
                details={
                    "created": len(merge.new),
                    "unchanged": len(merge.unchanged),
                    "conflicts": len(merge.conflicts),
                    "plan_saved": saved,
                },
            )
            return ImportSummary(
                created=tuple(e.entry_date for e in merge.new),
                unchanged=merge.unchanged,
                conflicts=merge.conflicts,
                skipped=imported.skipped,
                plan_saved=saved,
            )

        return self._write(job)
