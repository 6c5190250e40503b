"""Request and response bodies of ``/ai``."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from spacecomputer.brain import MAX_QUESTION_CHARS, Answer, Citation, Expertise, Fact, NumberTrace, Validation

__all__ = ["AnswerPublic", "AskRequest", "AskResponse", "ConversationPublic", "MessagePublic"]

_QUESTION_BODY_CHARS = 4 * MAX_QUESTION_CHARS
"""Longest question body accepted; the brain itself cuts a question to ``MAX_QUESTION_CHARS``."""


class AskRequest(BaseModel):
    """A question about one of my analyses, with what I am looking at."""

    model_config = ConfigDict(extra="forbid")

    analysis_id: uuid.UUID
    question: str = Field(min_length=1, max_length=_QUESTION_BODY_CHARS, pattern=r"\S")
    conversation_id: uuid.UUID | None = Field(default=None, description="Continue this conversation.")
    frame: int | None = Field(default=None, ge=0, description="The video frame on screen.")
    joint: str | None = Field(
        default=None, max_length=64, pattern=r"^[a-z_]+$", description="The selected joint, e.g. left_knee."
    )
    expertise: Expertise = Expertise.COACH

    @field_validator("question")
    @classmethod
    def _no_nul(cls, question: str) -> str:
        if "\x00" in question:  # it is stored, and PostgreSQL's text cannot hold U+0000
            raise ValueError("the question may not contain the NUL character (U+0000)")
        return question


class AnswerPublic(BaseModel):
    """The brain's answer: text, route, citations, numbers with provenance, validation, follow-ups."""

    question: str
    text: str
    route: str = Field(description="analytics, solver, comparison, local, llm, clarify or refusal.")
    intent: str
    citations: list[Citation]
    numbers: list[NumberTrace]
    facts: list[Fact]
    confidence: float
    follow_ups: list[str]
    complexity: float
    validation: Validation
    latency_ms: float = Field(description="This request, question to answer, ms.")
    cached: bool
    provider: str | None
    fallback: str | None

    @classmethod
    def of(cls, answer: Answer, *, latency_ms: float) -> AnswerPublic:
        """Return the public view of ``answer``."""
        return cls(
            question=answer.question,
            text=answer.text,
            route=answer.route.value,
            intent=answer.intent.value,
            citations=list(answer.citations),
            numbers=list(answer.numbers),
            facts=list(answer.facts),
            confidence=answer.confidence,
            follow_ups=list(answer.follow_ups),
            complexity=answer.complexity,
            validation=answer.validation,
            latency_ms=round(latency_ms, 3),
            cached=answer.cached,
            provider=answer.provider,
            fallback=answer.fallback,
        )


class AskResponse(BaseModel):
    """The answer and where it was filed."""

    conversation_id: uuid.UUID
    message_id: uuid.UUID
    answer: AnswerPublic


class ConversationPublic(BaseModel):
    """One of my conversations."""

    id: uuid.UUID
    analysis_id: uuid.UUID
    title: str
    created_at: datetime


class MessagePublic(BaseModel):
    """One message of a conversation."""

    id: uuid.UUID
    role: str
    content: str
    citations: list[dict[str, Any]]
    created_at: datetime
