"""The clinician's patient list: search, filters, sorting and the CSV export (issue 15).

Pure functions over the rows the route has loaded (no I/O, `today` is an input), so the page
and the export always agree on what "diary missing" or "due for review" means.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

#: A diary this many days old (or none at all while a plan runs) counts as missing.
DIARY_MISSING_DAYS = 3
#: A visit this many days ahead (or overdue by up to this many) makes a patient due for review.
REVIEW_WINDOW_DAYS = 7
#: Side effects recorded within this many days are flagged.
SIDE_EFFECT_DAYS = 14

FILTERS: dict[str, str] = {
    "": "All patients",
    "due_review": "Due for review",
    "not_responding": "Not responding",
    "diary_missing": "Diary missing",
    "side_effects": "Recent side effects",
}
SORTS: dict[str, str] = {
    "name": "Name",
    "last_diary": "Last diary (oldest first)",
    "dose": "Current dose",
    "screening": "Screening",
}


@dataclass(frozen=True)
class ListRow:
    """One patient in the list, with the flags the filters use."""

    id: int
    given_name: str
    family_name: str
    screening: str | None
    screened_on: dt.date | None
    current_dose_mg: Decimal | None
    plan_version: int | None
    responder: str | None
    last_entry: dt.date | None
    days_since_entry: int | None
    next_visit: dt.date | None
    recent_side_effects: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    def flags(self, today: dt.date) -> set[str]:
        out = set()
        if (
            self.next_visit is not None
            and abs((self.next_visit - today).days) <= REVIEW_WINDOW_DAYS
        ):
            out.add("due_review")
        if self.responder == "non_responder":
            out.add("not_responding")
        if self.plan_version and (
            self.days_since_entry is None or self.days_since_entry >= DIARY_MISSING_DAYS
        ):
            out.add("diary_missing")
        if self.recent_side_effects:
            out.add("side_effects")
        return out


def select_rows(
    rows: Iterable[ListRow], today: dt.date, *, q: str = "", flag: str = "", sort: str = "name"
) -> list[ListRow]:
    """Rows matching the search text (name, any part, any case) and the filter, sorted."""
    needle = q.strip().casefold()
    out = [
        r
        for r in rows
        if (not needle or needle in r.name.casefold() or needle == str(r.id))
        and (not flag or flag in r.flags(today))
    ]
    if sort == "last_diary":
        out.sort(key=lambda r: (r.last_entry is not None, r.last_entry or dt.date.min, r.id))
    elif sort == "dose":
        out.sort(key=lambda r: (r.current_dose_mg is None, -(r.current_dose_mg or 0), r.id))
    elif sort == "screening":
        out.sort(key=lambda r: (r.screening or "~", r.family_name.casefold(), r.id))
    else:
        out.sort(key=lambda r: (r.family_name.casefold(), r.given_name.casefold(), r.id))
    return out


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: object) -> str:
    """A cell a spreadsheet will not run as a formula (OWASP CSV injection advice)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


CSV_HEADER = (
    "id",
    "given_name",
    "family_name",
    "screening",
    "screened_on",
    "current_dose_mg",
    "plan_version",
    "responder",
    "last_diary",
    "next_visit",
    "flags",
)


def to_csv(rows: Sequence[ListRow], today: dt.date) -> str:
    """The list as CSV (the rows as shown: searched, filtered and sorted)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(CSV_HEADER)
    for r in rows:
        w.writerow(
            [
                csv_safe(v)
                for v in (
                    r.id,
                    r.given_name,
                    r.family_name,
                    r.screening,
                    r.screened_on,
                    r.current_dose_mg,
                    r.plan_version,
                    r.responder,
                    r.last_entry,
                    r.next_visit,
                    " ".join(sorted(r.flags(today))),
                )
            ]
        )
    return buf.getvalue()


__all__ = [
    "CSV_HEADER",
    "FILTERS",
    "SORTS",
    "ListRow",
    "csv_safe",
    "select_rows",
    "to_csv",
]
