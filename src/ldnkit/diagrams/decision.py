"""The decision process for LDN therapy, drawn from the rules the engine runs.

Screening is `clinical.screening.CHECKS` (each question with the thresholds of the evidence
base and the rule codes it can raise, whose severities decide the branches); titration is the
protocol's numbers; monitoring is `clinical.response.RULES` in order (safety before efficacy),
each rule's question and action attached to the rule itself. Nothing here restates a rule:
change a threshold in the evidence or a rule's order and the picture changes with it.

Given a patient's `Assessment` and today's `Advice`, the same diagram highlights the path that
patient took and shows the deciding values (the finding that fired, the rule that applied).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from ldnkit.clinical.models import Assessment, Finding, fmt_mg
from ldnkit.clinical.response import RULES, response_rules, rule_values
from ldnkit.clinical.screening import CHECKS, check_values
from ldnkit.diagrams.graph import Diagram, DiagramEdge, DiagramNode
from ldnkit.evidence import Evidence

__all__ = ["AdviceLike", "decision_diagram"]


class AdviceLike(Protocol):
    """What the path needs of today's advice: the core's `Advice` or the web's view of it."""

    rule: str
    message: str
    reasons: list[str]


_OUTCOMES = {
    "contraindicated": ("Contraindicated: do not start LDN", "stop"),
    "defer": ("Not yet: wait until the earliest safe date", "stop"),
    "caution": ("Caution: act on it, then continue", "info"),
}
_WIDTH = 60


def _short(text: str, width: int = _WIDTH) -> str:
    """One deciding value, cut to a box-sized line (the full text is in the hover and steps)."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1].rstrip() + "..."


@dataclass(frozen=True)
class _RuleOnly:
    """Today's advice known only by the rule that gave it (from a CDS card's link)."""

    rule: str
    message: str
    reasons: list[str]


def _rule_title(rule: str) -> str:
    for fn in RULES:
        if rule in getattr(fn, "rule_names", ()):
            return f"rule {rule} applied"
    return f"unknown rule {rule!r}"


def _assessment_of_codes(ev: Evidence, codes: Sequence[str]) -> Assessment:
    """An assessment holding just the named findings (unknown codes are ignored)."""
    findings = []
    for code in dict.fromkeys(codes):
        if code not in ev.rules:
            continue
        r = ev.rule(code)
        findings.append(
            Finding(
                code=code, severity=r.severity, title=r.title, message=r.title, sources=r.sources
            )
        )
    severities = {f.severity for f in findings}
    status = (
        "contraindicated"
        if "contraindicated" in severities
        else "not_yet"
        if "defer" in severities
        else "eligible_with_cautions"
        if "caution" in severities
        else "eligible"
    )
    return Assessment(patient_id="cds", on=date.min, status=status, findings=findings)


def _ref_link(sources: Sequence[str]) -> str | None:
    return f"/evidence/references#{sources[0]}" if sources else None


def _rule_sources(ev: Evidence, fn: object) -> list[str]:
    rules = response_rules(ev)
    keys = getattr(fn, "sources_keys", ())
    out: list[str] = []
    for key in keys:
        out += [s for s in getattr(rules, key) if s not in out]
    return out or list(ev.dosing.safety.perioperative_sources)


def _range(r: object) -> str:
    lo, hi = r.min, r.max  # type: ignore[attr-defined]
    return fmt_mg(lo) if lo == hi else f"{fmt_mg(lo)}-{fmt_mg(hi)}"


def decision_diagram(
    ev: Evidence,
    *,
    protocol_id: str | None = None,
    assessment: Assessment | None = None,
    advice: AdviceLike | None = None,
    codes: Sequence[str] = (),
    rule: str | None = None,
) -> Diagram:
    """The whole decision path; with `assessment`/`advice`, one patient's path highlighted.

    `codes` (screening rule codes that fired) and `rule` (today's advice rule) give the same
    path from a CDS card's link, which carries no patient data: the deciding values shown are
    then the rules' titles.
    """
    if assessment is None and codes:
        assessment = _assessment_of_codes(ev, codes)
    if advice is None and rule:
        advice = _RuleOnly(rule=rule, message="", reasons=[_rule_title(rule)])
    values = check_values(ev)
    nodes: list[DiagramNode] = [
        DiagramNode(
            "start", "Chronic pain: LDN considered", kind="start", highlight=bool(assessment)
        )
    ]
    edges: list[DiagramEdge] = []
    steps: list[str] = []
    fired = {}
    if assessment is not None:
        for f in assessment.findings:
            fired.setdefault(f.code, f)
    prev = "start"
    worst: dict[str, str] = {}
    for check in CHECKS:
        nid = f"check-{check.id}"
        question = check.question.format(**values)
        sources = sorted({s for code in check.codes for s in ev.rule(code).sources})
        hits = [fired[c] for c in check.codes if c in fired]
        value = None
        if assessment is not None:
            value = _short(hits[0].message) if hits else "no finding"
        nodes.append(
            DiagramNode(
                nid,
                question,
                kind="decision",
                group="screening",
                href=_ref_link(sources),
                detail=f"{question} Rules: {', '.join(check.codes)}. Sources: {', '.join(sources)}",
                highlight=assessment is not None,
                value=value,
            )
        )
        edges.append(DiagramEdge(prev, nid, highlight=assessment is not None))
        by_severity: dict[str, list[str]] = {}
        for code in check.codes:
            sev = ev.rule(code).severity
            if sev in _OUTCOMES:
                by_severity.setdefault(sev, []).append(code)
        for sev, codes in by_severity.items():
            hit = any(h.code in codes for h in hits)
            if hit:
                worst[sev] = sev
            edges.append(
                DiagramEdge(
                    nid,
                    f"out-{sev}",
                    label=sev,
                    style="dashed",
                    color="#8d6e63",
                    detail=", ".join(codes),
                    highlight=hit,
                )
            )
        steps.append(
            f"Screening: {question}"
            + (f" Rules {', '.join(check.codes)}." if check.codes else "")
            + (
                f" This patient: {'; '.join(h.message for h in hits) or 'no finding'}."
                if assessment
                else ""
            )
        )
        prev = nid
    for sev, (label, kind) in _OUTCOMES.items():
        nodes.append(
            DiagramNode(f"out-{sev}", label, kind=kind, group="outcomes", highlight=sev in worst)
        )
    status_value = None
    if assessment is not None:
        status_value = assessment.status.replace("_", " ")
        if assessment.earliest_start:
            status_value += f", earliest {assessment.earliest_start}"
    nodes.append(
        DiagramNode(
            "status",
            "Status: eligible (with cautions)?",
            kind="decision",
            highlight=assessment is not None,
            value=status_value,
        )
    )
    edges.append(DiagramEdge(prev, "status", highlight=assessment is not None))
    steps.append(
        "Status follows the worst finding: contraindicated, then not yet (with the earliest safe "
        "start), then cautions, then eligible."
        + (f" This patient: {status_value}." if status_value else "")
    )
    _titration(ev, protocol_id, nodes, edges, steps, advice is not None)
    _monitoring(ev, nodes, edges, steps, advice)
    title = "Decision process for LDN therapy in chronic pain"
    if assessment is not None or advice is not None:
        title += " (this patient's path highlighted)"
    return Diagram(
        id="ldn-decision",
        title=title,
        description=(
            "Screening questions in order, each branching to contraindicated, not yet or "
            "caution by its rules' severity; then the titration protocol; then the monitoring "
            "rules in order, safety first, the first that applies giving today's advice."
        ),
        nodes=nodes,
        edges=edges,
        steps=steps,
        groups={
            "screening": "1. Screening (clinical.screening.CHECKS)",
            "outcomes": "Screening outcomes",
            "titration": "2. Titration",
            "monitoring": "3. Monitoring (clinical.response.RULES, first match applies)",
        },
        direction="TB",
    )


def _titration(
    ev: Evidence,
    protocol_id: str | None,
    nodes: list[DiagramNode],
    edges: list[DiagramEdge],
    steps: list[str],
    on_path: bool,
) -> None:
    general = ev.dosing.general
    monitoring = ev.dosing.monitoring
    if protocol_id is not None:
        p = ev.protocol(protocol_id)
        start = fmt_mg(p.start_mg)
        step = fmt_mg(p.step_mg)
        every = f"{p.interval_days} days"
        target = f"{fmt_mg(p.target_mg)} mg, ceiling {fmt_mg(p.ceiling_mg)} mg"
        head = f"Protocol: {p.name}"
        sources = list(p.sources)
    else:
        start = _range(general.start_mg)
        step = _range(general.step_mg)
        every = f"{_range(general.interval_days)} days"
        target = f"{_range(general.target_mg)} mg, maximum {_range(general.maximum_mg)} mg"
        head = f"Choose the protocol for the condition ({len(ev.protocols)} protocols)"
        sources = list(general.sources)
    labels = [
        ("protocol", head),
        ("start", f"Start {start} mg at bedtime"),
        ("step", f"Increase by {step} mg every {every}"),
        ("target", f"Target {target}; never above the ceiling"),
        (
            "follow",
            f"Follow up at {_range(monitoring.follow_up_days)} days; review after "
            f"{_range(monitoring.adequate_trial_days)} days at the best dose",
        ),
    ]
    prev = "status"
    for i, (key, label) in enumerate(labels):
        nid = f"titration-{key}"
        nodes.append(
            DiagramNode(
                nid,
                label,
                kind="action",
                group="titration",
                href=_ref_link(sources),
                detail=f"{label}. Sources: {', '.join(sources)}",
                highlight=on_path,
            )
        )
        edges.append(DiagramEdge(prev, nid, label="eligible" if i == 0 else "", highlight=on_path))
        steps.append(f"Titration: {label}.")
        prev = nid


def _monitoring(
    ev: Evidence,
    nodes: list[DiagramNode],
    edges: list[DiagramEdge],
    steps: list[str],
    advice: AdviceLike | None,
) -> None:
    values = rule_values(ev)
    fired_index = None
    if advice is not None:
        for i, fn in enumerate(RULES):
            if advice.rule in getattr(fn, "rule_names", ()):
                fired_index = i
                break
    prev = "titration-follow"
    for i, fn in enumerate(RULES):
        name = fn.__name__.lstrip("_")
        question = getattr(fn, "question", name).format(**values)
        action = getattr(fn, "action", name).format(**values)
        sources = _rule_sources(ev, fn)
        on_path = fired_index is not None and i <= fired_index
        is_fired = fired_index == i
        value = None
        if advice is not None and on_path:
            value = (
                _short(advice.reasons[0] if advice.reasons else advice.message)
                if is_fired
                else "no"
            )
        rid, aid = f"rule-{name}", f"action-{name}"
        nodes.append(
            DiagramNode(
                rid,
                question,
                kind="decision",
                group="monitoring",
                href=_ref_link(sources),
                detail=f"{question} Sources: {', '.join(sources)}",
                highlight=on_path,
                value=value,
            )
        )
        nodes.append(
            DiagramNode(
                aid,
                action,
                kind="stop" if "Safety" in action or "Step back" in action else "action",
                group="monitoring",
                highlight=is_fired,
            )
        )
        edges.append(DiagramEdge(prev, rid, label="" if i == 0 else "no", highlight=on_path))
        edges.append(DiagramEdge(rid, aid, label="yes", highlight=is_fired))
        steps.append(
            f"Monitoring rule {i + 1}: {question} If yes: {action}."
            + (f" This patient: {value}." if value and is_fired else "")
        )
        prev = rid
