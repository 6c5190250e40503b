"""Complexity analysis and routing: which engine answers a parsed question.

**Complexity** (:func:`complexity`) is a score in [0, 1], the clipped sum of documented features (our own
weights, chosen so that a plain look-up scores under 0.2 and a causal comparison with several entities over 0.5):

============================== =====================================================================
feature                        contribution
============================== =====================================================================
intent                         explanation 0.35, what-if 0.30, compare 0.30, general knowledge 0.20,
                               technique search 0.20, metric look-up / event 0.05, out of scope 0
length                         0.20 × min(words / 40, 1)
causal or comparative cues     0.10 each ("why", "because", "compare", "than", "versus", "affect",
                               "should", "improve", "relationship"), at most 0.20
entities named                 0.03 each (joint, side, quantity, statistic, event, time, frame,
                               athlete, objective, risk), at most 0.15
scientist asking               0.10
============================== =====================================================================

**Routing** (:func:`choose_route`): a question in another language or out of scope is refused; an ambiguous one
gets its clarifying question; metric look-ups and event questions go to analytics, what-ifs to the solver,
comparisons and technique searches to the elite library; explanations and general knowledge go to the local
grounded answerer, or to the configured LLM when the complexity reaches the threshold (default
:data:`LLM_MIN_COMPLEXITY`) — the local answer is always composed too, as the LLM's context and its fallback.
"""

from __future__ import annotations

import re
from dataclasses import fields

from spacecomputer.brain._types import Entities, Expertise, Intent, ParsedQuery, Route

__all__ = ["LLM_MIN_COMPLEXITY", "choose_route", "complexity", "is_diagnosis_request"]

LLM_MIN_COMPLEXITY = 0.5
"""Complexity from which an explanation goes to a configured LLM (our own setting)."""

_INTENT_WEIGHT = {
    Intent.EXPLANATION: 0.35,
    Intent.WHAT_IF: 0.30,
    Intent.COMPARE_ATHLETE: 0.30,
    Intent.COMPARE_RUNS: 0.30,
    Intent.GENERAL_KNOWLEDGE: 0.20,
    Intent.TECHNIQUE_SEARCH: 0.20,
    Intent.METRIC_LOOKUP: 0.05,
    Intent.EVENT_QUERY: 0.05,
    Intent.OUT_OF_SCOPE: 0.0,
}
_CUES = re.compile(r"\b(why|because|compare[sd]?|than|versus|vs|affects?|should|improve|relationship)\b")
_COUNTED = ("joint", "side", "quantity", "statistic", "event", "time_s", "frame", "athlete", "objective", "risk")
_DIAGNOSIS = re.compile(
    r"\b(diagnos\w*|do i have an? |have i (torn|broken|injured)|is (it|my \w+) (torn|broken|fractured|sprained)|"
    r"torn (acl|mcl|meniscus|ligament)|(acl|mcl|meniscus) (tear|injury)|should i see a doctor)"
)
_ROUTES = {
    Intent.METRIC_LOOKUP: Route.ANALYTICS,
    Intent.EVENT_QUERY: Route.ANALYTICS,
    Intent.WHAT_IF: Route.SOLVER,
    Intent.COMPARE_ATHLETE: Route.COMPARISON,
    Intent.COMPARE_RUNS: Route.COMPARISON,
    Intent.TECHNIQUE_SEARCH: Route.COMPARISON,
    Intent.EXPLANATION: Route.LOCAL,
    Intent.GENERAL_KNOWLEDGE: Route.LOCAL,
    Intent.OUT_OF_SCOPE: Route.REFUSAL,
}


def _named(entities: Entities) -> int:
    return sum(getattr(entities, f.name) is not None for f in fields(entities) if f.name in _COUNTED)


def complexity(parsed: ParsedQuery) -> float:
    """Score the question's complexity in [0, 1] from the features of the module docstring."""
    words = len(parsed.normalised.split())
    cues = len(_CUES.findall(parsed.normalised))
    score = (
        _INTENT_WEIGHT[parsed.intent]
        + 0.20 * min(words / 40, 1.0)
        + min(0.10 * cues, 0.20)
        + min(0.03 * _named(parsed.entities), 0.15)
        + (0.10 if parsed.context.expertise is Expertise.SCIENTIST else 0.0)
    )
    return round(min(max(score, 0.0), 1.0), 3)


def is_diagnosis_request(parsed: ParsedQuery) -> bool:
    """Whether the question asks for a medical diagnosis (we give indicators, never diagnoses)."""
    return bool(_DIAGNOSIS.search(parsed.normalised))


def choose_route(parsed: ParsedQuery, *, llm_available: bool, llm_min_complexity: float = LLM_MIN_COMPLEXITY) -> Route:
    """Choose the route that answers ``parsed`` (module docstring)."""
    if parsed.language != "en" or parsed.intent is Intent.OUT_OF_SCOPE or is_diagnosis_request(parsed):
        return Route.REFUSAL
    if parsed.clarification is not None:
        return Route.CLARIFY
    route = _ROUTES[parsed.intent]
    if route is Route.LOCAL and llm_available and complexity(parsed) >= llm_min_complexity:
        return Route.LLM
    return route
