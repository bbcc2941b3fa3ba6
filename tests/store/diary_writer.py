"""Subprocess for the durability test: writes diary entries and acknowledges each commit.

Usage: python -m tests.store.diary_writer DATABASE_URL PATIENT_ID COUNT
Prints `ack DATE REVISION PAIN` only after the transaction holding that entry has committed,
which is exactly the promise the web and CLI shells make to a patient.
"""

from __future__ import annotations

import datetime as dt
import sys

from sqlalchemy.orm import Session

from ldnkit.store import create_store_engine
from ldnkit.store import repositories as repo

TODAY = dt.date(2026, 11, 25)


def main(url: str, patient_id: int, count: int) -> None:
    engine = create_store_engine(url)
    print("ready", flush=True)
    for i in range(count):
        if i % 5 == 4:  # every fifth write corrects an earlier day
            day, pain = TODAY - dt.timedelta(days=i - 3), (i + 5) % 11
        else:
            day, pain = TODAY - dt.timedelta(days=i), i % 11
        with Session(engine) as s, s.begin():
            row = repo.add_diary_entry(
                s,
                patient_id,
                {"entry_date": day, "pain": pain, "dose_taken": True},
                today=TODAY,
                actor="durability",
            )
            revision = row.revision
        print(f"ack {day.isoformat()} {revision} {pain}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
