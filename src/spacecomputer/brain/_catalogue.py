"""What we compute: the answer to "which metrics do you compute?", one cited document per metric family.

A question asking for the list of what the analysis computes is not answered from the passages nearest to it
(they would be whichever documents happen to say "compute"): it lists the shipped documents that define the
metric families (:data:`METRIC_DOCUMENTS`), or, when it asks about risk, every risk-indicator document in the
index, each cited by its opening passage.
"""

from __future__ import annotations

import re

from spacecomputer.brain._compose import Composition, passage_citation
from spacecomputer.brain._types import ParsedQuery
from spacecomputer.knowledge import KnowledgeIndex

__all__ = ["METRIC_DOCUMENTS", "RISK_PREFIX", "asks_catalogue", "catalogue"]

METRIC_DOCUMENTS = (
    "joint-angles",
    "range-of-motion",
    "body-model",
    "foot-events",
    "sprint-metrics",
    "jump-height",
    "strike-sequencing",
    "ground-reaction-force",
    "joint-moments-powers",
    "energy-work",
    "margin-of-stability",
)
"""The shipped documents defining the metric families every analysis computes, in the order they are listed."""
RISK_PREFIX = "risk-"
"""Id prefix of the shipped risk-indicator documents."""

_WHAT = r"(?:metrics|measures|measurements|quantities|variables|parameters|indicators|numbers|outputs)"
_VERB = r"(?:compute|computes|calculate|calculates|measure|measures|report|reports|give|gives|track|tracks|estimate|"
_VERB += r"estimates|provide|provides|output|outputs|get|offer|offers|flag|flags)"
_CATALOGUE = re.compile(
    rf"\b(?:which|what)(?: \w+){{0,2}} {_WHAT}\b(?: \w+){{0,4}} {_VERB}\b"
    rf"|\bwhat (?:can|do|does) (?:you|it|the system|space computer) {_VERB}\b"
    rf"|\blist (?:of )?(?:all )?(?:the |your )?{_WHAT}\b"
)
_RISK = re.compile(r"\b(?:risk|risks|injury|injuries|indicators?)\b")


def asks_catalogue(parsed: ParsedQuery) -> bool:
    """Whether the question asks for the list of what we compute (module docstring)."""
    return bool(_CATALOGUE.search(parsed.normalised))


def catalogue(parsed: ParsedQuery, index: KnowledgeIndex) -> Composition | None:
    """List the metric families (or risk indicators) with their documents; None if none of them is indexed."""
    if _RISK.search(parsed.normalised):
        ids = sorted(doc for doc in index.document_ids() if doc.startswith(RISK_PREFIX))
        opening = "Every analysis computes these risk indicators (indicators, never diagnoses)"
    else:
        ids, opening = list(METRIC_DOCUMENTS), "Every analysis computes these families of metrics"
    passages = [passage for doc in ids if (passage := index.lead_passage(doc)) is not None]
    if not passages:
        return None
    citations = tuple(passage_citation(n, passage) for n, passage in enumerate(passages, start=1))
    items = "; ".join(f"{p.title[:1].lower()}{p.title[1:]} [{n}]" for n, p in enumerate(passages, start=1))
    return Composition(f"{opening}, each described in its document: {items}.", citations, ())
