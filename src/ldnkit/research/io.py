"""The file shell of the research tools: reading trial tables from disk.

The computing modules (`analysis`, `meta`, ...) take tables already in memory, so they stay
free of file I/O as `report` promises; this module is the one place a path becomes a table.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ldnkit.errors import ValidationError
from ldnkit.research.analysis import validate_trial

__all__ = ["read_trial"]


def read_trial(path: str | Path) -> pd.DataFrame:
    """Read a CSV or Parquet trial table and check its columns (`analysis.validate_trial`)."""
    if not isinstance(path, (str, Path)):
        raise ValidationError("file", f"must be a path, got {type(path).__name__}")
    p = Path(path)
    if p.is_dir():
        raise ValidationError("file", f"{p} is a folder, not a CSV or Parquet file")
    if not p.exists():
        raise ValidationError("file", f"{p} does not exist")
    try:
        frame = pd.read_parquet(p) if p.suffix.lower() in (".parquet", ".pq") else pd.read_csv(p)
    except (ValueError, OSError) as exc:
        raise ValidationError("file", f"{p.name}: cannot be read ({exc})") from None
    return validate_trial(frame)
