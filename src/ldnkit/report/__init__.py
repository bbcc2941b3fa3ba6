"""Reports for follow-up visits and clinic reviews: plots written as SVG or PNG.

A presentation shell over `ldnkit.analytics` (cohort summaries) and the clinical outcomes;
the core never imports it. Shared pieces the core also uses live a layer down:
`ldnkit.table.Table` (result tables) and `ldnkit.figures.save_figure` (writing a figure).
"""

from ldnkit.report.plots import FORMATS, cohort_responder_chart, patient_timeline

__all__ = ["FORMATS", "cohort_responder_chart", "patient_timeline"]
