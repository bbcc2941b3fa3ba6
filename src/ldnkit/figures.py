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

    `formats` (suffixes such as ".svg") narrows the accepted suffixes; a suffix matplotlib
    cannot write, a path that is not a path, or a folder that cannot be written is a
    `ValidationError` on the field "path" instead of whatever matplotlib or the OS raises. `stable` writes fixed metadata
    (no creation date) so SVG output is byte-identical between runs. Other keyword arguments
    go to `Figure.savefig` unchanged.
    """
    if not isinstance(path, str | Path):
        raise ValidationError("path", f"must be a file path, got {type(path).__name__}")
    p = Path(path)
    if formats is not None and p.suffix.lower() not in formats:
        raise ValidationError("path", f"plot file must end in {' or '.join(formats)}")
    fmt = p.suffix.lower().lstrip(".")
    if fmt not in fig.canvas.get_supported_filetypes():
        raise ValidationError("path", f"{p.name}: unknown image format {fmt!r} (png, svg, pdf)")
    if stable:
        savefig.setdefault("metadata", _stable_metadata(p))
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(p, **savefig)
    except OSError as exc:
        raise ValidationError("path", f"cannot write {p} ({exc.strerror or exc})") from None
    return p


def _stable_metadata(path: Path) -> dict[str, str | None]:
    # Fixed metadata keeps SVG output byte-stable between runs (no creation date).
    if path.suffix.lower() == ".svg":
        return {"Date": None, "Creator": "ldnkit"}
    return {"Software": "ldnkit"}
