"""Printable documents from a plan: patient handout, wallet card, compounding prescription.

Each document is built once as a plain data "view" (`handout_view`, ...) from the plan and the
evidence base; the HTML (Jinja2 templates in `templates/`) and the PDF (reportlab, pure
Python, no system libraries, unlike WeasyPrint) render that same view, so the two never
disagree. Doses are printed with `fmt_mg`; every statement of fact carries its source ids and
the document ends with the reference list. Pure: no clock, no I/O (bytes/strings out).
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import lru_cache
from typing import Literal
from xml.sax.saxutils import escape

from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import BaseModel, ConfigDict, Field
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import (
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.flowables import Flowable

from ldnkit import i18n
from ldnkit.clinical.models import Patient, Plan, fmt_mg
from ldnkit.evidence import Evidence, default_evidence

#: The patient's documents are written in the language `ldnkit.i18n.use` sets (English by
#: default); the prescription is the pharmacist's and is always produced in English.
_ = i18n.gettext

Kind = Literal["handout", "wallet_card", "prescription"]
KINDS: tuple[Kind, ...] = ("handout", "wallet_card", "prescription")


class Clinic(BaseModel):
    """Who to contact and who prescribes (printed on every document)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    clinic: str = Field(default="Your pain clinic", max_length=200)
    clinician: str = Field(default="your prescriber", max_length=200)
    phone: str | None = Field(default=None, max_length=50)
    address: str | None = Field(default=None, max_length=300)
    licence: str | None = Field(default=None, max_length=100)


@dataclass
class Section:
    heading: str
    paragraphs: list[str] = field(default_factory=list)
    bullets: list[str] = field(default_factory=list)
    table: list[list[str]] | None = None  # first row is the header


@dataclass
class DocumentView:
    """What a document says, independent of HTML or PDF."""

    kind: Kind
    title: str
    subtitle: str
    sections: list[Section]
    references: list[str]
    calendar_url: str | None = None


def _when(timing: str) -> str:
    return _("at bedtime") if timing == "bedtime" else _("in the morning")


def _mg(d: Decimal) -> str:
    """A dose number in the document's language ("1.5" / "1,5"); English is `fmt_mg`."""
    return fmt_mg(d) if i18n.current() == i18n.DEFAULT else i18n.format_mg(d)


def _day(d: dt.date) -> str:
    """A date in the document's language: ISO in English (as before), "1 de diciembre de
    2026" in Spanish."""
    return d.isoformat() if i18n.current() == i18n.DEFAULT else i18n.format_long_date(d)


def _dose(d: Decimal) -> str:
    return _("%(dose)s mg") % {"dose": _mg(d)} if d > 0 else _("none (hold)")


def _refs(ids: Iterable[str], ev: Evidence) -> list[str]:
    return [f"[{r.id}] {r.citation()}" + (f" {r.url}" if r.url else "") for r in ev.cite(ids)]


def _cite(ids: Iterable[str]) -> str:
    return " [" + ", ".join(dict.fromkeys(ids)) + "]"


def _per_dose(plan: Plan) -> dict[int, str]:
    """How to measure each step's dose: '2 x 1.5 mg capsules' or '1.5 mL of 1 mg/mL'."""
    out = {}
    for d in plan.dispensing:
        if d.form == "capsule":
            n = d.units_per_dose or 1
            out[d.step_index] = i18n.ngettext(
                "%(n)s x %(mg)s mg capsule", "%(n)s x %(mg)s mg capsules", n
            ) % {"n": n, "mg": _mg(d.strength_mg or Decimal(0))}
        else:
            out[d.step_index] = _("%(ml)s mL of %(mg)s mg/mL") % {
                "ml": _mg(d.ml_per_dose or Decimal(0)),
                "mg": _mg(d.mg_per_ml or Decimal(0)),
            }
    return out


def _name(patient: Patient | None, plan: Plan) -> str:
    if patient is not None and patient.name:
        return patient.name
    return (_("patient") + f" {plan.patient_id or ''}").strip()


def handout_view(
    plan: Plan,
    patient: Patient | None = None,
    clinic: Clinic | None = None,
    *,
    calendar_url: str | None = None,
    evidence: Evidence | None = None,
) -> DocumentView:
    """The patient handout: schedule, how and when to take it, side effects, when to call."""
    ev = evidence or default_evidence()
    c = clinic or Clinic()
    per_dose = _per_dose(plan)
    rows = [[_("From"), _("To"), _("Dose"), _("When"), _("How to measure")]]
    for s in plan.steps:
        rows.append(
            [
                _day(s.start),
                _day(s.end),
                _dose(s.dose_mg),
                _when(s.timing) if s.dose_mg > 0 else _("do not take"),
                per_dose.get(s.index, "-"),
            ]
        )
    safety, mon = ev.dosing.safety, ev.dosing.monitoring
    se = ev.side_effects
    first = plan.steps[0]
    take = Section(
        _("How and when to take it"),
        bullets=[
            _(
                "Take your dose once a day %(when)s, at about the same time every day, "
                "starting on %(date)s."
            )
            % {"when": _when(first.timing), "date": _day(plan.start)}
            + _cite(plan.sources),
            _(
                "The dose goes up step by step, every %(days)s days, to %(mg)s mg; do not go "
                "above the dose in the table."
            )
            % {"days": plan.interval_days, "mg": _mg(plan.target_mg)}
            + _cite(plan.sources),
            _("LDN is made for you by a compounding pharmacy; it is not sold at these strengths.")
            + _cite(ev.standard_dose.compounding.sources),
            _(
                "LDN is one part of your pain care: keep up physical therapy and your other "
                "treatments; the aim is 30-50%% less pain, not no pain at all."
            )
            % {}
            + _cite(ev.rule("NOT_MONOTHERAPY").sources),
        ],
    )
    holds = [s for s in plan.steps if s.kind == "hold"]
    if holds:
        take.bullets.append(
            _(
                "Do NOT take LDN from %(start)s to %(end)s (before and after your operation), "
                "then restart as the table shows."
            )
            % {"start": _day(holds[0].start), "end": _day(holds[0].end)}
            + _cite(holds[0].sources)
        )
    effects = Section(
        _("What to expect"),
        paragraphs=[
            # The summary and the notes are evidence text (YAML, English); the sentence
            # around them and the side effects' names are translated.
            f"{se.summary} "
            + _("About %(percent)s%% of patients report a side effect.")
            % {"percent": se.adverse_effect_rate_percent}
            + _cite([*se.summary_sources, *se.adverse_effect_rate_sources])
        ],
        bullets=[
            f"{_(e.name)}{' (' + e.note + ')' if e.note else ''}" + _cite(e.sources)
            for e in se.effects
            if e.id != "other"
        ],
    )
    call = Section(
        _("When to call us"),
        paragraphs=[
            f"{c.clinic}, {c.clinician}"
            + (", " + _("phone %(phone)s") % {"phone": c.phone} if c.phone else "")
        ],
        bullets=[
            _("A side effect is severe, or does not settle after the first weeks.")
            + _cite(se.summary_sources),
            _(
                "You need an operation or any opioid pain medicine: LDN blocks opioids, and it "
                "must be stopped %(days)s days before planned opioid use."
            )
            % {"days": safety.perioperative_hold_days}
            + _cite(safety.perioperative_sources),
            _(
                "In an emergency, show your wallet card: opioid pain medicines may not work "
                "while you take LDN, and you are more sensitive to opioids after stopping it."
            )
            + _cite(ev.rule("ID_CARD").sources),
        ],
    )
    visits = Section(
        _("Your check-ups"),
        bullets=[
            _("%(date)s: %(kind)s (between %(start)s and %(end)s).")
            % {
                "date": _day(v.date),
                "kind": _(v.kind.replace("_", " ")),
                "start": _day(v.window_start),
                "end": _day(v.window_end),
            }
            + f" {v.note}"
            + _cite(v.sources)
            for v in plan.visits
        ],
        paragraphs=[
            _(
                "Keep a daily pain diary (0-10) from a week before the first dose: it shows "
                "whether LDN works for you."
            )
            + _cite(mon.response_goal_sources)
        ],
    )
    sections = [Section(_("Your schedule"), table=rows), take, effects, call, visits]
    if calendar_url:
        sections.append(
            Section(
                _("Add it to your calendar"),
                paragraphs=[
                    _("Calendar file (iCalendar) with every dose change and check-up: %(url)s")
                    % {"url": calendar_url}
                ],
            )
        )
    ids = [
        *plan.sources,
        *se.summary_sources,
        *se.adverse_effect_rate_sources,
        *(s for e in se.effects for s in e.sources),
        *safety.perioperative_sources,
        *ev.rule("ID_CARD").sources,
        *ev.rule("NOT_MONOTHERAPY").sources,
        *ev.standard_dose.compounding.sources,
        *(s for v in plan.visits for s in v.sources),
        *(s for h in holds for s in h.sources),
        *mon.response_goal_sources,
    ]
    return DocumentView(
        kind="handout",
        title=_("Your low-dose naltrexone (LDN) plan"),
        subtitle=_("For %(name)s: %(protocol)s, from %(date)s")
        % {"name": _name(patient, plan), "protocol": plan.protocol_name, "date": _day(plan.start)},
        sections=sections,
        references=_refs(dict.fromkeys(ids), ev),
        calendar_url=calendar_url,
    )


def wallet_card_view(
    plan: Plan,
    patient: Patient | None = None,
    clinic: Clinic | None = None,
    *,
    evidence: Evidence | None = None,
) -> DocumentView:
    """The wallet card: 'I take low-dose naltrexone: opioids may not work; contact ...'."""
    ev = evidence or default_evidence()
    c = clinic or Clinic()
    rule = ev.rule("ID_CARD")
    contact = f"{c.clinician}, {c.clinic}" + (f", {c.phone}" if c.phone else "")
    return DocumentView(
        kind="wallet_card",
        title=_("I take low-dose naltrexone (LDN)"),
        subtitle=_name(patient, plan),
        sections=[
            Section(
                _("Emergency information"),
                bullets=[
                    _("Opioid pain medicines may not work while I take LDN."),
                    _("After stopping LDN I am more sensitive to opioids."),
                    _("Dose: up to %(mg)s mg daily %(when)s (from %(date)s).")
                    % {
                        "mg": _mg(plan.target_mg),
                        "when": _when(plan.steps[0].timing),
                        "date": _day(plan.start),
                    },
                    _("Contact: %(contact)s") % {"contact": contact},
                ],
            )
        ],
        references=_refs(rule.sources, ev),
    )


def prescription_view(
    plan: Plan,
    patient: Patient | None = None,
    clinic: Clinic | None = None,
    *,
    evidence: Evidence | None = None,
) -> DocumentView:
    """The compounding prescription: strengths, quantities and directions per step."""
    ev = evidence or default_evidence()
    c = clinic or Clinic()
    by_step = {s.index: s for s in plan.steps}
    rows = [["Step", "Dates", "Dose", "Preparation", "Per dose", "Quantity", "Directions"]]
    totals: dict[str, Decimal] = {}
    for d in plan.dispensing:
        s = by_step[d.step_index]
        dates = f"{s.start.isoformat()} to {s.end.isoformat()}"
        if d.form == "capsule":
            strength = f"{fmt_mg(d.strength_mg or Decimal(0))} mg capsules"
            per = f"{d.units_per_dose} capsule{'s' if (d.units_per_dose or 1) > 1 else ''}"
            qty = f"{d.quantity} capsules"
            totals[strength] = totals.get(strength, Decimal(0)) + (d.quantity or 0)
        else:
            strength = f"oral liquid {fmt_mg(d.mg_per_ml or Decimal(0))} mg/mL"
            per = f"{fmt_mg(d.ml_per_dose or Decimal(0))} mL"
            qty = f"{fmt_mg(d.total_ml or Decimal(0))} mL"
            totals[strength] = totals.get(strength, Decimal(0)) + (d.total_ml or Decimal(0))
        rows.append(
            [
                str(d.step_index + 1),
                dates,
                f"{fmt_mg(d.dose_mg)} mg",
                strength,
                per,
                qty,
                f"Take {per} by mouth {_when(s.timing)} daily for {d.days} days",
            ]
        )
    holds = [s for s in plan.steps if s.kind == "hold"]
    patient_line = _name(patient, plan)
    if patient is not None and patient.birth_date:
        patient_line += f", born {patient.birth_date.isoformat()}"
    sections = [
        Section(
            "Prescription",
            paragraphs=[
                f"Patient: {patient_line}",
                f"Prescriber: {c.clinician}, {c.clinic}"
                + (f", licence {c.licence}" if c.licence else "")
                + (f", phone {c.phone}" if c.phone else ""),
                "Rx: Naltrexone hydrochloride, compounded low-dose (LDN), oral. "
                + ev.standard_dose.compounding.note
                + _cite(ev.standard_dose.compounding.sources),
            ],
        ),
        Section("Dispense", table=rows),
        Section(
            "Totals",
            bullets=[
                f"{fmt_mg(q)} {'mL' if 'liquid' in k else 'x'} {k}" for k, q in totals.items()
            ],
            paragraphs=[
                f"Titration: {plan.protocol_name}, start {plan.start.isoformat()}, target "
                f"{fmt_mg(plan.target_mg)} mg, maximum {fmt_mg(plan.ceiling_mg)} mg. "
                "Refills: none without review." + _cite(plan.sources)
            ],
        ),
    ]
    if holds:
        sections[-1].paragraphs.append(
            f"No doses {holds[0].start.isoformat()} to {holds[0].end.isoformat()} "
            "(perioperative hold)." + _cite(holds[0].sources)
        )
    ids = [
        *ev.standard_dose.compounding.sources,
        *plan.sources,
        *(s for h in holds for s in h.sources),
    ]
    return DocumentView(
        kind="prescription",
        title="Compounding prescription: low-dose naltrexone",
        subtitle=f"{plan.protocol_name}, from {plan.start.isoformat()}",
        sections=sections,
        references=_refs(dict.fromkeys(ids), ev),
    )


def document_view(
    kind: Kind,
    plan: Plan,
    patient: Patient | None = None,
    clinic: Clinic | None = None,
    *,
    calendar_url: str | None = None,
    evidence: Evidence | None = None,
) -> DocumentView:
    """One entry point for shells (CLI, web): the view of the named document."""
    if kind == "handout":
        return handout_view(plan, patient, clinic, calendar_url=calendar_url, evidence=evidence)
    if kind == "wallet_card":
        return wallet_card_view(plan, patient, clinic, evidence=evidence)
    return prescription_view(plan, patient, clinic, evidence=evidence)


_INLINE_CITATION = re.compile(r"\s*\[[A-Za-z0-9_.:, -]+\]$")


def without_inline_citations(view: DocumentView) -> DocumentView:
    """The same document with the trailing "[source ids]" taken off each statement.

    Why: on a patient's screen a row of database keys after every sentence reads as noise;
    the sources stay listed, in full, at the end of the document (issue 15, item 8).
    """

    def strip(text: str) -> str:
        return _INLINE_CITATION.sub("", text)

    sections = [
        Section(
            sec.heading,
            paragraphs=[strip(p) for p in sec.paragraphs],
            bullets=[strip(b) for b in sec.bullets],
            table=sec.table,
        )
        for sec in view.sections
    ]
    return replace(view, sections=sections)


# -- HTML ----------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(
        loader=PackageLoader("ldnkit.interop", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def to_html(view: DocumentView) -> str:
    """A self-contained printable HTML page (inline CSS, no scripts)."""
    return _env().get_template(f"{view.kind}.html").render(doc=view)


# -- PDF -----------------------------------------------------------------------------------
def _page(
    buf: io.BytesIO, size: tuple[float, float], margin: float, title: str
) -> SimpleDocTemplate:
    """A one-document template with equal margins, the document's title and ldnkit as author."""
    return SimpleDocTemplate(
        buf,
        pagesize=size,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=margin,
        title=title,
        author="ldnkit",
    )


def _heading(view: DocumentView, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    """The title and subtitle every printed document starts with."""
    return [
        Paragraph(escape(view.title), st["title"]),
        Paragraph(escape(view.subtitle), st["subtitle"]),
    ]


def _styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    return {
        "title": ParagraphStyle("t", parent=base["Title"], fontSize=16, spaceAfter=4),
        "subtitle": ParagraphStyle("s", parent=base["Normal"], fontSize=10, spaceAfter=8),
        "h": ParagraphStyle("h", parent=base["Heading2"], fontSize=12, spaceBefore=8),
        "p": ParagraphStyle("p", parent=base["Normal"], fontSize=9.5, leading=12),
        "li": ParagraphStyle("li", parent=base["Normal"], fontSize=9.5, leading=12, leftIndent=10),
        "cell": ParagraphStyle("c", parent=base["Normal"], fontSize=8, leading=10),
        "ref": ParagraphStyle("r", parent=base["Normal"], fontSize=7, leading=9),
    }


def _table(rows: list[list[str]], st: dict[str, ParagraphStyle], width: float) -> Table:
    data = [[Paragraph(escape(cell), st["cell"]) for cell in row] for row in rows]
    # Columns share the width by their longest cell, within bounds, so directions get room.
    longest = [min(40, max(8, *(len(r[i]) for r in rows))) for i in range(len(rows[0]))]
    widths = [width * n / sum(longest) for n in longest]
    table = Table(data, repeatRows=1, colWidths=widths)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def to_pdf(view: DocumentView) -> bytes:
    """The same content as `to_html`, as a PDF (A4; the wallet card on a card-sized page)."""
    buf = io.BytesIO()
    st = _styles()
    if view.kind == "wallet_card":
        size = (85.6 * mm, 54 * mm)
        margin = 3 * mm
        st = {
            k: ParagraphStyle(k + "w", parent=v, fontSize=6.5, leading=7.8) for k, v in st.items()
        }
        st["title"] = ParagraphStyle("tw", parent=st["title"], fontSize=9, leading=10, spaceAfter=1)
    else:
        size, margin = A4, 16 * mm
    doc = _page(buf, size, margin, view.title)
    width = size[0] - 2 * margin
    story = _heading(view, st)
    for sec in view.sections:
        block: list[Flowable] = []
        if view.kind != "wallet_card":
            block.append(Paragraph(escape(sec.heading), st["h"]))
        block += [Paragraph(escape(p), st["p"]) for p in sec.paragraphs]
        block += [Paragraph("&bull; " + escape(b), st["li"]) for b in sec.bullets]
        if sec.table:
            block.append(_table(sec.table, st, width))
        if view.kind == "wallet_card":
            story += block
        else:
            story.append(KeepTogether(block) if not sec.table else block[0])
            if sec.table:
                story += block[1:]
    if view.kind == "wallet_card":
        ids = "; ".join(r.split("]")[0][1:] for r in view.references)
        story.append(Paragraph(_("Sources:") + " " + escape(ids), st["ref"]))
    else:
        story.append(Spacer(1, 6))
        story.append(Paragraph(_("Sources"), st["h"]))
        story += [Paragraph(escape(r), st["ref"]) for r in view.references]
    doc.build(story)
    return buf.getvalue()
