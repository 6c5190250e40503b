"""The types the brain's parts exchange: a parsed question, facts with their provenance, LLM requests and answers.

Flow: :func:`parse_query` turns text + :class:`QueryContext` into a :class:`ParsedQuery` (intent, entities, a
clarifying question when it cannot tell); the analytics engine turns entities into :class:`Fact` s read from a run
(every number with the file and field it came from); retrieval adds knowledge passages; a route composes the
:class:`Answer`, which is validated (every number traced to a fact or a cited passage) before it leaves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

__all__ = [
    "Answer",
    "Citation",
    "Completion",
    "CompletionRequest",
    "Entities",
    "Expertise",
    "Fact",
    "Intent",
    "Message",
    "NumberTrace",
    "ParsedQuery",
    "Provenance",
    "QueryContext",
    "Route",
    "Side",
    "Statistic",
    "Validation",
]


class Intent(StrEnum):
    """What a question asks for."""

    METRIC_LOOKUP = "metric_lookup"
    """A number of the run: "what was my peak left knee flexion?"."""
    EXPLANATION = "explanation"
    """Why or what it means: "why is my knee moment so high?", "what does margin of stability mean for me?"."""
    COMPARE_ATHLETE = "compare_athlete"
    """The run against an elite library clip: "how does my hip flexion compare with Bolt?"."""
    COMPARE_RUNS = "compare_runs"
    """The run against another of the user's runs."""
    WHAT_IF = "what_if"
    """Optimisation or a what-if on a pose: "what if I bent my knee 20° more at landing?"."""
    TECHNIQUE_SEARCH = "technique_search"
    """Which clip, technique or fault: "which reference clip moves most like me?"."""
    EVENT_QUERY = "event_query"
    """When something happened, or the state at a time/frame: "when did my left foot touch down?"."""
    GENERAL_KNOWLEDGE = "general_knowledge"
    """Biomechanics knowledge not about the run: "what is a ground reaction force?"."""
    OUT_OF_SCOPE = "out_of_scope"
    """Not about movement, sport or this analysis: "what's the weather in Paris?"."""


class Expertise(StrEnum):
    """Who the answer is written for."""

    BEGINNER = "beginner"
    COACH = "coach"
    SCIENTIST = "scientist"


Side = Literal["left", "right", "both"]
Statistic = Literal["max", "min", "range", "mean", "value"]
"""``value``: the value at a time, frame or event; the others over the whole run."""


@dataclass(frozen=True)
class QueryContext:
    """What the asker is looking at when they ask."""

    analysis_id: str | None = None
    frame: int | None = None
    """The video frame on screen (``video_frame`` of the run), if any."""
    joint: str | None = None
    """The joint selected in the viewer, ``<side>_<joint>`` (``left_knee``) or ``trunk``/``pelvis``."""
    expertise: Expertise = Expertise.COACH


@dataclass(frozen=True)
class Entities:
    """What a question names, in the brain's canonical vocabulary (``None``: not named).

    ``joint`` is one of ``hip knee ankle shoulder elbow wrist trunk pelvis com``; ``quantity`` names what of it
    (``flexion``, ``adduction``, ``dorsiflexion``, ``abduction``, ``lateral_lean``, ``obliquity``,
    ``angular_velocity``, ``moment``, ``power``, ``work``, ``grf``, ``speed``, ``height``, ``flight_time``,
    ``jump_height``, ``takeoff_velocity``, ``margin_of_stability``, ``energy``, ``step_length``,
    ``step_frequency``, ``contact_time``, …; the analytics engine documents the full list it resolves).
    """

    joint: str | None = None
    side: Side | None = None
    quantity: str | None = None
    statistic: Statistic | None = None
    event: str | None = None
    """``contact`` (foot strike, touch-down), ``toe_off``, ``take_off``, ``landing``, ``flight``."""
    time_s: float | None = None
    frame: int | None = None
    athlete: str | None = None
    """An elite library clip id (``bolt-force-motion``)."""
    sport: str | None = None
    objective: str | None = None
    """A solver objective (``joint_stress``, ``power_output``, ``energy_efficiency``, ``injury_risk``)."""
    risk: str | None = None
    """A risk indicator family (``knee_frontal_plane_projection_angle``, ``landing_peak_knee_flexion``, …)."""
    change_deg: float | None = None
    """A what-if's angle change or target, degrees (``bend my knee 20° more`` → 20)."""
    change_direction: int | None = None
    """A what-if's direction when it names no amount: 1 more ("bent more"), -1 less ("straighter"), else None."""
    ordinal: int | None = None
    """Which occurrence of ``event`` is meant: 1 the first, 2 the second, …, -1 the last (``None``: every one)."""
    unknown_terms: tuple[str, ...] = ()
    """Body parts or metrics the question names that the vocabulary does not know (``spine``, ``toe``)."""


@dataclass(frozen=True)
class ParsedQuery:
    """A question understood: its intent and entities, or the clarifying question to ask instead."""

    text: str
    """The question as asked, capped (see :data:`MAX_QUESTION_CHARS` in the query module)."""
    normalised: str
    """Lower-case, whitespace-collapsed, punctuation-trimmed: the cache key's question part."""
    intent: Intent
    confidence: float
    """0–1: how sure the classifier is of ``intent``."""
    entities: Entities
    context: QueryContext
    language: str = "en"
    """``en``, or the ISO 639-1 code of another language detected (the corpus covers English only)."""
    clarification: str | None = None
    """Set when the question is ambiguous: the question to ask back, with the valid choices."""
    truncated: bool = False
    """The question was longer than the cap and was cut."""


@dataclass(frozen=True)
class Provenance:
    """Where a number was read: a file of the run and the field, column and row in it."""

    source: str
    """``analysis.json``, ``metrics.csv``, ``comparison`` (the elite library), ``solver``, ``manifest.json``."""
    locator: str
    """The field or column and row: ``biomechanics.scalars[left_knee_flexion_max_deg]``, ``left_knee_flexion_deg
    row 72``."""


@dataclass(frozen=True)
class Fact:
    """One number read or computed from a run, with its unit, uncertainty, when it happened and where it came from."""

    key: str
    """Stable id (the scalar, risk indicator or ``<column>@<row>``)."""
    label: str
    """Plain words: ``peak left knee flexion``."""
    value: float | None
    unit: str
    """``deg``, ``deg/s``, ``m``, ``m/s``, ``N``, ``BW``, ``N·m``, ``N·m/kg``, ``W``, ``J``, ``s``, ``%``, ``Hz``."""
    display: str
    """The value as the answer prints it: ``147.2° ± 8.7°``; every number in it is a number of this fact."""
    provenance: Provenance
    uncertainty: float | None = None
    """± one standard deviation, in ``unit``."""
    time_s: float | None = None
    frame: int | None = None
    """The video frame (``video_frame`` of the run)."""
    row: int | None = None
    reliable: bool = True
    estimated_from_video: bool = False
    note: str | None = None
    """What the reader must know: unreliable, unavailable and why, an indicator's level and rule."""
    numbers: tuple[float, ...] = field(default=())
    """Every number this fact lets an answer state (value, uncertainty, time, frame, thresholds, as displayed)."""


@dataclass(frozen=True)
class Message:
    """One turn of a conversation sent to an LLM."""

    role: Literal["user", "assistant"]
    content: str


@dataclass(frozen=True)
class CompletionRequest:
    """What an LLM provider is asked: a system prompt, the turns, and the budget."""

    system: str
    messages: tuple[Message, ...]
    max_tokens: int = 600
    temperature: float = 0.0


@dataclass(frozen=True)
class Completion:
    """What an LLM provider answered, and what it cost."""

    text: str
    provider: str
    model: str
    input_tokens: int
    output_tokens: int
    cost_usd: float | None
    """From the configured prices per million tokens; ``None`` when no price is configured (never guessed)."""
    latency_ms: float
    attempts: int = 1


class Route(StrEnum):
    """The engine that produced an answer."""

    ANALYTICS = "analytics"
    """Exact numbers read from the run (:mod:`brain._analytics`)."""
    SOLVER = "solver"
    """A what-if or an optimisation on a pose of the run (:mod:`spacecomputer.biomech.solver`)."""
    COMPARISON = "comparison"
    """The run against the elite library (:mod:`spacecomputer.athletes`)."""
    LOCAL = "local"
    """The local grounded answerer: run facts and retrieved passages, every sentence cited; no network."""
    LLM = "llm"
    """A configured LLM given the same grounded context, validated like every other route."""
    CLARIFY = "clarify"
    """A question back: the question was ambiguous or named something we do not have."""
    REFUSAL = "refusal"
    """An honest refusal: out of scope, a diagnosis, a language the corpus does not cover."""


@dataclass(frozen=True)
class Citation:
    """A numbered source of an answer: a knowledge passage, or a field of the run's own files."""

    n: int
    """The number the text cites as ``[n]``."""
    kind: Literal["passage", "analysis"]
    reference: str
    """The passage id (``jump-height#2``) or the provenance of a run fact (``analysis.json
    biomechanics.scalars[jump_height_com_rise_m]``)."""
    title: str
    text: str
    """The passage text, or the fact as displayed."""
    sources: tuple[str, ...] = ()
    """A passage document's own references (``reference — what it supports``)."""


@dataclass(frozen=True)
class NumberTrace:
    """A number the answer states and where it comes from."""

    text: str
    """As written in the answer (``147.2``)."""
    value: float
    origin: Literal["analysis", "passage", "question"]
    reference: str
    """Fact key, passage id, or ``question``."""


@dataclass(frozen=True)
class Validation:
    """The checks an answer passed or failed before it left."""

    passed: bool
    untraced_numbers: tuple[str, ...] = ()
    """Numbers in the text found in no fact, cited passage or the question."""
    bad_citations: tuple[int, ...] = ()
    """``[n]`` markers that point at nothing retrieved."""
    uncited_sentences: int = 0
    """Sentences stating a number or a claim without a citation (local and LLM routes)."""
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Answer:
    """The answer to one question: text, the route that produced it and everything it rests on."""

    question: str
    text: str
    route: Route
    intent: Intent
    citations: tuple[Citation, ...]
    numbers: tuple[NumberTrace, ...]
    facts: tuple[Fact, ...]
    confidence: float
    """0–1: parse confidence × the reliability of the facts and passages used."""
    follow_ups: tuple[str, ...]
    complexity: float
    validation: Validation
    latency_ms: float = 0.0
    cached: bool = False
    provider: str | None = None
    """The LLM provider and model (``anthropic:claude-…``) when the LLM route answered."""
    fallback: str | None = None
    """Why a preferred route did not answer (provider down, validation failed and the local answer replaced it)."""
    events: tuple[str, ...] = ()
    """What happened on the way: retries, repairs, replacements — recorded for the monitor."""
