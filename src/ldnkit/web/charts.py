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

W, H = 640, 280
LEFT, RIGHT, TOP, BOTTOM = 44, 52, 24, 44
#: At most this many dates are written under the x axis (each at a grid line).
X_TICKS = 5


def _x(day: dt.date, first: dt.date, span: int) -> float:
    return LEFT + (W - LEFT - RIGHT) * ((day - first).days / max(span, 1))


def _y_pain(pain: float) -> float:
    return TOP + (H - TOP - BOTTOM) * (1 - pain / 10)


def _y_dose(dose: Decimal, top_mg: Decimal) -> float:
    return TOP + (H - TOP - BOTTOM) * (1 - float(dose / top_mg))


def dose_ticks(highest: Decimal) -> list[Decimal]:
    """Round milligram marks for the right axis: 0 up to a whole step at or above `highest`.

    Why: halving the largest dose printed marks such as "2.25 mg" that are nobody's dose;
    steps of 0.5, 1, 2 or 5 mg land on doses people actually take.
    """
    highest = max(highest, Decimal(1))
    for step in (Decimal("0.5"), Decimal(1), Decimal(2), Decimal(5), Decimal(10)):
        if highest / step <= 5:
            break
    n = int((highest / step).to_integral_value(rounding="ROUND_CEILING"))
    return [step * i for i in range(n + 1)]


def date_ticks(first: dt.date, last: dt.date, most: int = X_TICKS) -> list[dt.date]:
    """Evenly spread dates from `first` to `last` (both included), at most `most` of them."""
    span = (last - first).days
    if span <= 0:
        return [first]
    count = min(most, span + 1)
    return sorted({first + dt.timedelta(days=round(span * i / (count - 1))) for i in range(count)})


def _short(day: dt.date) -> str:
    return f"{day.day} {day.strftime('%b')}"


def chart_summary(points: Sequence[tuple[dt.date, int, Decimal | None]]) -> str:
    """One plain sentence that says what the chart shows (its text alternative)."""
    if not points:
        return "No diary entries yet."
    first, last = points[0], points[-1]
    n = len(points)
    days = f"{n} diary day{'s' if n != 1 else ''}"
    text = (
        f"{days} from {_short(first[0])} to {_short(last[0])}. "
        f"Pain was {first[1]} out of 10 on {_short(first[0])} and {last[1]} on {_short(last[0])}"
    )
    taken = [d for _, _, d in points if d is not None]
    if taken and taken[0] == taken[-1]:
        text += f"; the dose taken was {fmt_mg(taken[0])} mg"
    elif taken:
        text += f"; the dose taken went from {fmt_mg(taken[0])} mg to {fmt_mg(taken[-1])} mg"
    missed = sum(1 for _, _, d in points if d is None)
    if missed:
        text += f"; no dose taken is recorded on {missed} day{'s' if missed != 1 else ''}"
    return text + "."


def timeline_figure(
    points: Sequence[tuple[dt.date, int, Decimal | None]],
    plan: Plan | None,
    *,
    title: str = "Pain and dose",
    end: dt.date | None = None,
) -> str:
    """The chart with its legend (outside the plot, so no line crosses it), a one-sentence
    summary and the numbers as a table: the chart's text alternative for screen readers."""
    legend = (
        '<ul class="chart-legend" aria-hidden="true">'
        '<li><span class="swatch pain"></span>pain, 0 to 10 (left scale)</li>'
        '<li><span class="swatch dose"></span>dose taken, mg (right scale)</li>'
        + ('<li><span class="swatch planned"></span>planned dose</li>' if plan else "")
        + "</ul>"
    )
    rows = "".join(
        f"<tr><td>{d.isoformat()}</td><td>{p}</td>"
        f"<td>{fmt_mg(m) + ' mg' if m is not None else 'none recorded'}</td></tr>"
        for d, p, m in points
    )
    table = (
        '<details class="chart-table"><summary>The chart as a table</summary>'
        '<div class="scroll"><table><thead><tr><th>Day</th><th>Pain (0-10)</th>'
        f"<th>Dose taken</th></tr></thead><tbody>{rows}</tbody></table></div></details>"
        if points
        else ""
    )
    return (
        '<figure class="chart-figure" data-testid="chart">'
        f"{legend}{timeline_svg(points, plan, title=title, end=end)}"
        f'<figcaption data-testid="chart-summary">{escape(chart_summary(points))}</figcaption>'
        f"{table}</figure>"
    )


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
            '<text class="axis" x="10" y="35">No diary entries yet.</text></svg>'
        )
    first, last = min(days), max(days)
    span = (last - first).days
    doses = [p[2] for p in points if p[2] is not None]
    if plan is not None:
        doses += [s.dose_mg for s in plan.steps]
    ticks = dose_ticks(max([Decimal(0), *doses]))
    top_mg = ticks[-1]
    parts = [
        f'<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="{escape(title)}" '
        'xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for pain in (0, 2, 4, 6, 8, 10):
        y = _y_pain(pain)
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{W - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(
            f'<text class="axis" x="{LEFT - 6}" y="{y + 5:.1f}" text-anchor="end">{pain}</text>'
        )
    for mg in ticks:
        y = _y_dose(mg, top_mg)
        parts.append(
            f'<text class="axis dose" x="{W - RIGHT + 6}" y="{y + 5:.1f}">{fmt_mg(mg)}</text>'
        )
    parts.append(f'<text class="axis dose" x="{W - RIGHT + 6}" y="{TOP - 8}">mg</text>')
    for i, day in enumerate(date_ticks(first, last)):
        x = _x(day, first, span)
        anchor = "start" if i == 0 else ("end" if day == last else "middle")
        parts.append(
            f'<line class="grid" x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{H - BOTTOM}"/>'
            f'<text class="axis" x="{x:.1f}" y="{H - 10}" text-anchor="{anchor}">{_short(day)}</text>'
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
    parts.append("</svg>")
    return "".join(parts)


__all__ = ["chart_summary", "date_ticks", "dose_ticks", "timeline_figure", "timeline_svg"]
