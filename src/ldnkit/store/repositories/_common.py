"""Helpers shared by the repositories: the clock at the shell edge, lookups that raise NotFound."""

from __future__ import annotations

import datetime as dt
from typing import TypeVar

from sqlalchemy.orm import Session

from ldnkit.errors import NotFound

_T = TypeVar("_T")


def utcnow() -> dt.datetime:
    """Wall-clock time for `recorded_at`/`created_at`; the store is a shell, so it may read it."""
    return dt.datetime.now(dt.UTC)


def get_or_404(session: Session, model: type[_T], key: int, kind: str) -> _T:
    """Load a row by primary key or raise `NotFound` naming the kind (never the contents)."""
    row = session.get(model, key)
    if row is None:
        raise NotFound(kind, str(key))
    return row
