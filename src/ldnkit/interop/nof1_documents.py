"""The N-of-1 report as a PDF: the same `Nof1Report` the web page shows, through the
printable-document machinery of `interop.documents` (reportlab), with the reference list."""

from __future__ import annotations

from ldnkit.evidence import Evidence, default_evidence
from ldnkit.interop.documents import DocumentView, Section, _refs, to_pdf
from ldnkit.research.nof1.report import Nof1Report

__all__ = ["report_pdf", "report_view"]


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


def report_pdf(report: Nof1Report, evidence: Evidence | None = None) -> bytes:
    """One A4 page (two if there are many side effects) in PDF."""
    return to_pdf(report_view(report, evidence))
