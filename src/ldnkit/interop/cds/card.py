"""One CDS card: summary, detail with its cited sources, links to them, override reasons.

Every card cites the evidence-base sources behind it and links each one that has a resolvable
address (URL, DOI, PubMed or trial registry id).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from ldnkit.evidence import Evidence
from ldnkit.interop.fhir import common as fc


def _source_url(ref_url: str | None, identifier: str | None) -> str | None:
    if ref_url:
        return ref_url
    for part in (identifier or "").split(";"):
        part = part.strip()
        if part.lower().startswith("doi:"):
            return f"https://doi.org/{part[4:]}"
        if part.upper().startswith("PMID:"):
            return f"https://pubmed.ncbi.nlm.nih.gov/{part[5:]}/"
        if part.upper().startswith("NCT"):
            return f"https://clinicaltrials.gov/study/{part}"
    return None


def _cite(ids: Iterable[str], ev: Evidence) -> tuple[str, list[dict[str, Any]], str | None]:
    """(markdown citation list, card links, first URL) for source ids, de-duplicated."""
    lines, links, first = [], [], None
    for ref in ev.cite(dict.fromkeys(ids)):
        lines.append(f"- [{ref.id}] {ref.citation()}")
        url = _source_url(ref.url, ref.identifier)
        if url:
            first = first or url
            label = ref.citation()
            links.append(
                {
                    "label": label if len(label) <= 120 else label[:117] + "...",
                    "url": url,
                    "type": "absolute",
                }
            )
    return "\n".join(lines), links, first


def make_card(
    hook_instance: str,
    code: str,
    *,
    summary: str,
    detail: str,
    indicator: str,
    sources: Sequence[str],
    ev: Evidence,
    suggestions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A card whose uuid is stable for (hook call, code), citing and linking its sources;
    without suggestions it offers override reasons."""
    cited, links, first = _cite(sources, ev)
    card: dict[str, Any] = {
        "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"ldnkit:{hook_instance}:{code}")),
        "summary": summary if len(summary) < 140 else summary[:136] + "...",
        "detail": f"{detail}\n\n**Sources**\n{cited}",
        "indicator": indicator,
        "source": {
            "label": "ldnkit LDN evidence base",
            "topic": {"system": fc.SYS_FINDING, "code": code},
        },
        "links": links,
    }
    if first:
        card["source"]["url"] = first
    if suggestions:
        card["suggestions"] = suggestions
        card["selectionBehavior"] = "at-most-one"
    else:
        card["overrideReasons"] = [
            {"system": "urn:ldnkit:override-reason", "code": code, "display": text}
            for code, text in (
                ("benefit-outweighs-risk", "Benefit outweighs risk; will monitor"),
                ("already-addressed", "Already addressed with the patient"),
            )
        ]
    return card


def decision_link(
    app_url: str, *, codes: Iterable[str] = (), rule: str | None = None
) -> dict[str, Any]:
    """A card link to the decision diagram with this case's path highlighted: the screening
    rule codes that fired and today's advice rule, as query parameters (no patient data)."""
    from urllib.parse import urlencode

    query = {}
    codes = [c for c in dict.fromkeys(codes)]
    if codes:
        query["codes"] = ",".join(codes)
    if rule:
        query["rule"] = rule
    url = f"{app_url.rstrip('/')}/evidence/decision"
    return {
        "label": "Decision path (how ldnkit reached this)",
        "url": f"{url}?{urlencode(query)}" if query else url,
        "type": "absolute",
    }
