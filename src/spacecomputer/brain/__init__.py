"""The brain: questions about a run in plain language, answered from its numbers and the knowledge base.

:func:`parse_query` understands a question; the analytics engine reads exact facts from a run; the orchestrator
routes each question (analytics, solver, comparison, local grounded answerer, or a configured LLM), validates the
answer against its sources and caches it.
"""

from spacecomputer.brain._types import (
    Completion,
    CompletionRequest,
    Entities,
    Expertise,
    Fact,
    Intent,
    Message,
    ParsedQuery,
    Provenance,
    QueryContext,
)

__all__ = [
    "Completion",
    "CompletionRequest",
    "Entities",
    "Expertise",
    "Fact",
    "Intent",
    "Message",
    "ParsedQuery",
    "Provenance",
    "QueryContext",
]
