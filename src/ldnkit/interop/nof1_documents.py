"""The N-of-1 report as a PDF: the same `Nof1Report` the web page shows, rendered with the
printable-document styles of `interop.documents` (reportlab), with a chart of daily pain by
period (unblinded: each period is labelled with what its pack held) and the reference list."""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from reportlab.graphics.shapes import Drawing, Line, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer

from ldnkit.evidence import Evidence, default_evidence
from ldnkit.interop.documents import (
    DocumentView,
    Section,
    _heading,
    _page,
    _refs,
    _styles,
    _table,
)
from ldnkit.research.nof1.report import Nof1Report

__all__ = ["pain_drawing", "report_pdf", "report_view"]

_MARGIN = 14 * mm


def report_view(report: Nof1Report, evidence: Evidence | None = None) -> DocumentView:
    """The report as a printable document view (sections, tables, sources)."""
    ev = evidence or default_evidence()
    sections = [
        Section(heading=h, paragraphs=list(ps), table=table) for h, ps, table in report.sections()
    ]
    return DocumentView(
        kind="handout",  # A4 layout of the handout
        title=report.title,
        subtitle="Blinded N-of-1 trial (LDN against an identical comparator) - result",
        sections=sections,
        references=_refs(report.sources, ev),
    )


def pain_drawing(report: Nof1Report, width: float, height: float = 42 * mm) -> Drawing:
    """Daily pain (0-10) over the trial, periods shaded and labelled by their contents."""
    d = Drawing(width, height)
    if not report.daily or not report.periods:
        return d
    first = min(report.daily[0][0], report.periods[0].start)
    last = report.periods[-1].end
    span = max((last - first).days + 1, 1)
    left, bottom, top = 18.0, 14.0, 4.0

    def x(day: object) -> float:
        return left + (width - left - 4) * ((day - first).days + 0.5) / span  # type: ignore[operator]

    def y(v: float) -> float:
        return bottom + (height - bottom - top) * v / 10.0

    for p in report.periods:
        x0 = left + (width - left - 4) * (p.start - first).days / span
        x1 = left + (width - left - 4) * ((p.end - first).days + 1) / span
        fill = colors.HexColor("#dbeafe") if p.arm.startswith("LDN") else colors.HexColor("#fde68a")
        d.add(Rect(x0, bottom, x1 - x0, height - bottom - top, fillColor=fill, strokeColor=None))
        d.add(String((x0 + x1) / 2, 3, p.arm, fontSize=6, textAnchor="middle"))
    for v in (0, 5, 10):
        d.add(String(left - 3, y(v) - 2, str(v), fontSize=6, textAnchor="end"))
        d.add(Line(left, y(v), width - 4, y(v), strokeColor=colors.lightgrey, strokeWidth=0.3))
    pts: list[float] = []
    for day, v in report.daily:
        if first <= day <= last:
            pts += [x(day), y(v)]
    if len(pts) >= 4:
        d.add(PolyLine(pts, strokeColor=colors.HexColor("#1f4e79"), strokeWidth=0.8))
    return d


def report_pdf(report: Nof1Report, evidence: Evidence | None = None) -> bytes:
    """One A4 page: headline, chart, numbers, periods, side effects, blinding, decision, sources."""
    view = report_view(report, evidence)
    st = _styles()
    buf = io.BytesIO()
    doc = _page(buf, A4, _MARGIN, view.title)
    width = A4[0] - 2 * _MARGIN
    story = _heading(view, st)
    for k, sec in enumerate(view.sections):
        story.append(Paragraph(escape(sec.heading), st["h"]))
        story += [Paragraph(escape(p), st["p"]) for p in sec.paragraphs]
        if k == 0:
            story += [Spacer(1, 3), pain_drawing(report, width)]
        if sec.table:
            story.append(_table(sec.table, st, width))
    story += [Spacer(1, 4), Paragraph("Sources", st["h"])]
    story += [Paragraph(escape(r), st["ref"]) for r in view.references]
    doc.build(story)
    return buf.getvalue()
