"""The brain: questions about a run in plain language, answered from its numbers and the knowledge base.

Usage (loads the bundled MiniLM model, offline)::

    orchestrator = open_orchestrator()  # knowledge index in library_dir/knowledge, the configured LLM if any
    answer = orchestrator.ask("What was my peak left knee flexion?", Path("runs/my-run"))
    answer.text, answer.route, answer.citations  # cited, validated, with the route that produced it

:func:`parse_query` understands a question (intent, entities, context, or a clarifying question);
:class:`RunFacts` reads exact facts from a run with their provenance; the :class:`Orchestrator` routes each
question (analytics, solver, comparison, the local grounded answerer, or a configured LLM), validates the answer
against its sources, caches it and records it in the :class:`PerformanceMonitor`.
"""

from spacecomputer.brain._analytics import Resolution, RunFacts
from spacecomputer.brain._monitor import PerformanceMonitor
from spacecomputer.brain._orchestrator import Conversation, Orchestrator, follow_up_of, open_orchestrator
from spacecomputer.brain._providers import (
    AnthropicProvider,
    LLMProvider,
    OpenAICompatibleProvider,
    OpenAIProvider,
    provider_from_settings,
)
from spacecomputer.brain._query import MAX_QUESTION_CHARS, QueryVocabulary, parse_query
from spacecomputer.brain._routing import LLM_MIN_COMPLEXITY, choose_route, complexity
from spacecomputer.brain._serialise import answer_from_dict, answer_to_dict
from spacecomputer.brain._types import (
    Answer,
    Citation,
    Completion,
    CompletionRequest,
    Entities,
    Expertise,
    Fact,
    Intent,
    Message,
    NumberTrace,
    ParsedQuery,
    Provenance,
    QueryContext,
    Route,
    Validation,
)
from spacecomputer.brain._validate import validate_answer

__all__ = [
    "LLM_MIN_COMPLEXITY",
    "MAX_QUESTION_CHARS",
    "Answer",
    "AnthropicProvider",
    "Citation",
    "Completion",
    "CompletionRequest",
    "Conversation",
    "Entities",
    "Expertise",
    "Fact",
    "Intent",
    "LLMProvider",
    "Message",
    "NumberTrace",
    "OpenAICompatibleProvider",
    "OpenAIProvider",
    "Orchestrator",
    "ParsedQuery",
    "PerformanceMonitor",
    "Provenance",
    "QueryContext",
    "QueryVocabulary",
    "Resolution",
    "Route",
    "RunFacts",
    "Validation",
    "answer_from_dict",
    "answer_to_dict",
    "choose_route",
    "complexity",
    "follow_up_of",
    "open_orchestrator",
    "parse_query",
    "provider_from_settings",
    "validate_answer",
]
