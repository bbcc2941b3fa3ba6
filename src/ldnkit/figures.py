"""Writing a matplotlib `Figure` to a file: the one place every plot module saves through.

Plots build `matplotlib.figure.Figure` objects directly (never pyplot, never
`matplotlib.use`), so they touch no global state and work headless in the web server, the CLI
and tests. This module only writes them; it does not import matplotlib itself, so the core can
import it without loading matplotlib.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ldnkit.errors import ValidationError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["save_figure"]


def save_figure(
    fig: Figure,
    path: str | Path,
    *,
    formats: Sequence[str] | None = None,
    stable: bool = False,
    **savefig: Any,
) -> Path:
    """Write `fig` to `path` (format from the suffix), creating missing parent folders.

    `formats` (suffixes such as ".svg") turns an unsupported suffix into a `ValidationError`
    on the field "path" instead of whatever matplotlib raises. `stable` writes fixed metadata
    (no creation date) so SVG output is byte-identical between runs. Other keyword arguments
    go to `Figure.savefig` unchanged.
    """
    p = Path(path)
    if formats is not None and p.suffix.lower() not in formats:
        raise ValidationError("path", f"plot file must end in {' or '.join(formats)}")
    p.parent.mkdir(parents=True, exist_ok=True)
    if stable:
        savefig.setdefault("metadata", _stable_metadata(p))
    fig.savefig(p, **savefig)
    return p


def _stable_metadata(path: Path) -> dict[str, str | None]:
    # Fixed metadata keeps SVG output byte-stable between runs (no creation date).
    if path.suffix.lower() == ".svg":
        return {"Date": None, "Creator": "ldnkit"}
    return {"Software": "ldnkit"}
