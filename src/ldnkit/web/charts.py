"""Pain and dose on one timeline, drawn on the server as a small inline SVG.

No plotting library and no script: the page stays light on a phone, prints, and reads the same
with JavaScript off. Pain (0-10, left axis) is a line with a dot per diary day; the dose actually
taken (mg, right axis) is a step line, with the planned dose dashed behind it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from html import escape

from ldnkit.clinical.models import Plan, fmt_mg

W, H = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 40, 48, 16, 36


def _x(day: dt.date, first: dt.date, span: int) -> float:
    return LEFT + (W - LEFT - RIGHT) * ((day - first).days / max(span, 1))


def _y_pain(pain: float) -> float:
    return TOP + (H - TOP - BOTTOM) * (1 - pain / 10)


def _y_dose(dose: Decimal, top_mg: Decimal) -> float:
    return TOP + (H - TOP - BOTTOM) * (1 - float(dose / top_mg))


def timeline_svg(
    points: Sequence[tuple[dt.date, int, Decimal | None]],
    plan: Plan | None,
    *,
    title: str = "Pain and dose",
    end: dt.date | None = None,
) -> str:
    """`points` are (day, pain, dose taken in mg or None) for each diary day, oldest first."""
    days = [p[0] for p in points]
    if plan is not None:
        days += [plan.start]
    if end is not None:
        days.append(end)
    if not days:
        return (
            f'<svg class="chart" viewBox="0 0 {W} 60" role="img" aria-label="{escape(title)}">'
            '<text x="10" y="35">No diary entries yet.</text></svg>'
        )
    first, last = min(days), max(days)
    span = (last - first).days
    doses = [p[2] for p in points if p[2] is not None]
    if plan is not None:
        doses += [s.dose_mg for s in plan.steps]
    top_mg = max([Decimal(1), *doses])
    parts = [
        f'<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="{escape(title)}" '
        'xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for pain in (0, 2, 4, 6, 8, 10):
        y = _y_pain(pain)
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{W - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(
            f'<text class="axis" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{pain}</text>'
        )
    for frac in (Decimal(0), Decimal("0.5"), Decimal(1)):
        mg = top_mg * frac
        y = _y_dose(mg, top_mg)
        parts.append(
            f'<text class="axis dose" x="{W - RIGHT + 6}" y="{y + 4:.1f}">{fmt_mg(mg.quantize(Decimal("0.1")))} mg</text>'
        )
    parts.append(f'<text class="axis" x="{LEFT}" y="{H - 8}">{first.isoformat()}</text>')
    parts.append(
        f'<text class="axis" x="{W - RIGHT}" y="{H - 8}" text-anchor="end">{last.isoformat()}</text>'
    )
    if plan is not None:
        path = []
        for step in plan.steps:
            x1 = _x(max(step.start, first), first, span)
            x2 = _x(min(step.end, last), first, span)
            if step.start > last:
                break
            y = _y_dose(step.dose_mg, top_mg)
            path.append(f"M{x1:.1f},{y:.1f} H{x2:.1f}")
        parts.append(f'<path class="planned" d="{" ".join(path)}"/>')
    taken = [(d, dose) for d, _, dose in points if dose is not None]
    if taken:
        d = []
        for i, (day, dose) in enumerate(taken):
            x, y = _x(day, first, span), _y_dose(dose, top_mg)
            d.append(f"{'M' if i == 0 else 'H'}{x:.1f}" + ("" if i == 0 else f" V{y:.1f}"))
            if i == 0:
                d[-1] += f",{y:.1f}"
        parts.append(f'<path class="dose" d="{" ".join(d)}"/>')
    if points:
        coords = " ".join(f"{_x(d, first, span):.1f},{_y_pain(p):.1f}" for d, p, _ in points)
        parts.append(f'<polyline class="pain" points="{coords}"/>')
        for day, pain, _ in points:
            parts.append(
                f'<circle class="pain" cx="{_x(day, first, span):.1f}" cy="{_y_pain(pain):.1f}" '
                f'r="2.5"><title>{day.isoformat()}: pain {pain}</title></circle>'
            )
    parts.append(
        f'<text class="legend pain" x="{LEFT + 4}" y="{TOP + 10}">pain (0-10)</text>'
        f'<text class="legend dose" x="{LEFT + 100}" y="{TOP + 10}">dose taken (mg)</text>'
        f'<text class="legend planned" x="{LEFT + 230}" y="{TOP + 10}">planned dose</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


__all__ = ["timeline_svg"]
