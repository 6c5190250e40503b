"""The meta-orchestrator: one question in, one validated, cited answer out, from the route that fits it.

:meth:`Orchestrator.ask` parses the question (:func:`parse_query`), scores its complexity and picks a route
(:mod:`brain._routing`), runs it, validates the answer (:mod:`brain._validate`) and records it in the
:class:`PerformanceMonitor`. Answers are cached on (run and its analysis' modification time, normalised question,
context, compared run, provider): a re-analysed run never serves an old answer. A question with conversation
history is not cached (its meaning depends on the history).

The LLM route, when a provider is configured, is given the local answer's grounded context (the run facts and the
retrieved passages, numbered) and must cite it; an answer that fails validation is sent back once with the
failures listed, and if it fails again, or the provider is down, the local answer replaces it and the answer says
why (``fallback``). Retrieved passages are content, never instructions: the system prompt says so and no tool is
ever called because of what a passage or a user document says.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from spacecomputer.brain._analytics import Resolution, RunFacts
from spacecomputer.brain._answers import (
    clarify_answer,
    follow_ups,
    refusal_text,
    retrieval_query,
)
from spacecomputer.brain._catalogue import RISK_PREFIX, asks_catalogue, catalogue
from spacecomputer.brain._compose import Composition, compose
from spacecomputer.brain._llm import llm_answer
from spacecomputer.brain._monitor import PerformanceMonitor
from spacecomputer.brain._providers import LLMProvider, provider_from_settings
from spacecomputer.brain._query import QueryVocabulary, parse_query
from spacecomputer.brain._route_comparison import LibraryEngine
from spacecomputer.brain._route_solver import what_if
from spacecomputer.brain._routing import LLM_MIN_COMPLEXITY, choose_route, complexity
from spacecomputer.brain._types import (
    Answer,
    Entities,
    Expertise,
    Fact,
    Intent,
    Message,
    ParsedQuery,
    Provenance,
    QueryContext,
    Route,
)
from spacecomputer.brain._validate import numbers_in, split_sentences, validate_answer
from spacecomputer.config import Settings, get_settings
from spacecomputer.errors import InvalidInputError, NotFoundError
from spacecomputer.knowledge import KnowledgeIndex, MiniLMEmbedder, Passage

__all__ = ["CACHE_ENTRIES", "Conversation", "Orchestrator", "follow_up_of", "open_orchestrator"]

CACHE_ENTRIES = 1024
"""Answers kept in the in-process cache (least recently used dropped first)."""
FOLLOW_UP_WORDS = 6
"""Longest question read as a follow-up of the previous one (:func:`follow_up_of`)."""
RUNS_KEPT = 32
"""Runs whose facts are kept loaded (least recently used dropped first)."""
_RETRIEVED = 5
ANALYTICS_FACTS = 8
"""Facts an analytics answer states at most (every side, statistic or event asked for, at any level)."""
TECHNIQUE_PREFIX = "technique-"
"""Id prefix of the shipped technique documents."""
_TECHNIQUE_WORDS = re.compile(r"\b(technique|phase|phases|sprint\w*|punch\w*|header|batting|takedown|tackle|carry)\b")
_RISK_WORDS = re.compile(r"\b(risk|risks|indicators?|flag\w*|red|yellow|warning\w*)\b")
_WHOLE_BODY = frozenset(
    re.findall(
        r"\w+",
        "speed vertical_velocity height jump_height flight_time takeoff_velocity margin_of_stability com_over_base "
        "energy step_length step_frequency contact_time grf grf_horizontal",
    )
)
"""Quantities of the whole body: a follow-up naming one does not inherit the previous question's joint."""
_FIELD = re.compile(r"\[([a-z][a-z0-9_]*)\]")
"""A field name in a fact's provenance locator (``biomechanics.scalars[jump_height_flight_m]``)."""
_TECHNIQUE_INTENTS = {Intent.COMPARE_ATHLETE, Intent.COMPARE_RUNS, Intent.TECHNIQUE_SEARCH}


class Orchestrator:
    """Route, answer, validate, cache and monitor questions about runs (module docstring).

    Parameters
    ----------
    index
        The knowledge base to retrieve passages from (:class:`~spacecomputer.knowledge.KnowledgeIndex`).
    provider
        A configured LLM (:func:`provider_from_settings`), or ``None``: the local answerer explains.
    library
        The elite library engine (default: the shipped and user library).
    llm_min_complexity
        Complexity from which explanations go to the LLM.

    """

    def __init__(
        self,
        index: KnowledgeIndex,
        *,
        provider: LLMProvider | None = None,
        library: LibraryEngine | None = None,
        vocabulary: QueryVocabulary | None = None,
        monitor: PerformanceMonitor | None = None,
        llm_min_complexity: float = LLM_MIN_COMPLEXITY,
        cache_entries: int = CACHE_ENTRIES,
    ) -> None:
        self.index, self.provider = index, provider
        self._library = library
        self.vocabulary = vocabulary if vocabulary is not None else QueryVocabulary.default()
        self.monitor = monitor if monitor is not None else PerformanceMonitor()
        self.llm_min_complexity = llm_min_complexity
        self._cache: OrderedDict[str, Answer] = OrderedDict()
        self._cache_entries = cache_entries
        self._runs: OrderedDict[tuple[str, int], RunFacts] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def library(self) -> LibraryEngine:
        """The elite library engine (opened on first use)."""
        if self._library is None:
            self._library = LibraryEngine()
        return self._library

    # -- the public call ---------------------------------------------------------------------------------------

    def ask(
        self,
        question: str,
        run: Path | str | None = None,
        *,
        context: QueryContext | None = None,
        history: Sequence[Message] = (),
        previous: ParsedQuery | None = None,
        compare_with: Path | str | None = None,
    ) -> Answer:
        """Answer ``question`` about ``run`` (a run directory; ``None``: general questions only).

        ``previous`` is the last question of a conversation: a follow-up that names no joint or quantity ("and
        the right one?") inherits them. ``compare_with`` is another run directory for "compare with my last run".

        Raises
        ------
        InvalidInputError
            An empty question.
        NotFoundError
            ``run`` has no analysis.

        """
        started = time.perf_counter()
        parsed = self.parse(question, context)
        if previous is not None:
            parsed = follow_up_of(parsed, previous)
        return self.answer(parsed, run, history=history, compare_with=compare_with, started=started)

    def answer(
        self,
        parsed: ParsedQuery,
        run: Path | str | None = None,
        *,
        history: Sequence[Message] = (),
        compare_with: Path | str | None = None,
        started: float | None = None,
    ) -> Answer:
        """Answer an already parsed question (:meth:`ask` without the parsing)."""
        started = started if started is not None else time.perf_counter()
        run_dir = Path(run) if run is not None else None
        other = Path(compare_with) if compare_with is not None else None
        key = None if history else self._key(parsed, run_dir, other)
        if key is not None and (hit := self._cached(key)) is not None:
            answer = replace(hit, cached=True, latency_ms=_ms(started))
            self.monitor.record(answer)
            return answer
        answer = replace(self._answer(parsed, run_dir, other, history), latency_ms=_ms(started))
        if key is not None:
            self._store(key, answer)
        self.monitor.record(answer)
        return answer

    def parse(self, question: str, context: QueryContext | None = None) -> ParsedQuery:
        """Parse ``question`` as :meth:`ask` would (no answer)."""
        return parse_query(question, context or QueryContext(), vocabulary=self.vocabulary)

    def run_facts(self, run_dir: Path) -> RunFacts:
        """Return the run's facts, loaded once per version of its ``analysis.json``."""
        stamp = _stamp(run_dir)
        with self._lock:
            if stamp not in self._runs:
                for older in [k for k in self._runs if k[0] == stamp[0]]:
                    del self._runs[older]
                self._runs[stamp] = RunFacts.load(run_dir)
                while len(self._runs) > RUNS_KEPT:
                    self._runs.popitem(last=False)
            self._runs.move_to_end(stamp)
            return self._runs[stamp]

    def retrieve(
        self, parsed: ParsedQuery, extra: str = "", *, risk: bool = True, query: str | None = None
    ) -> list[Passage]:
        """Retrieve the passages for ``parsed``: the question with its entities spelled out, hybrid retrieval.

        Technique documents (``technique-*``) describe whole techniques and name many metrics; they answer
        questions about a technique, a sport, a phase or a comparison, and are left out of the others, whose
        answer is in the metric's own document. With ``risk=False`` the risk-indicator documents (``risk-*``) are
        left out too unless the question is about risk (a look-up of a metric is explained by its own document).
        ``query`` replaces the question as the text searched (a look-up searches with the metric's own name).
        """
        passages = self.index.search(query or retrieval_query(parsed, extra), k=3 * _RETRIEVED)
        if not _about_technique(parsed):
            passages = [p for p in passages if not p.doc_id.startswith(TECHNIQUE_PREFIX)]
        if not risk and parsed.entities.risk is None and not _RISK_WORDS.search(parsed.normalised):
            passages = [p for p in passages if not p.doc_id.startswith(RISK_PREFIX)]
        return passages[:_RETRIEVED]

    def best_documents(self, parsed: ParsedQuery, passages: list[Passage]) -> list[Passage]:
        """Keep the passages of the documents each ranking puts first: the fusion's, BM25's and the embeddings'.

        An explanation cites the document that answers the question, not the runners-up; when the lexical and the
        semantic ranking disagree on the best document, both are kept (it is where they differ that fusion helps).
        """
        if not passages:
            return passages
        query = retrieval_query(parsed)
        allowed = {p.doc_id for p in passages}
        best = {passages[0].doc_id}
        for mode in ("bm25", "dense"):
            ranked = [p.doc_id for p in self.index.search(query, k=3 * _RETRIEVED, mode=mode) if p.doc_id in allowed]
            if ranked:
                best.add(ranked[0])
        return [p for p in passages if p.doc_id in best]

    # -- routes --------------------------------------------------------------------------------------------------

    def _answer(
        self, parsed: ParsedQuery, run_dir: Path | None, other: Path | None, history: Sequence[Message]
    ) -> Answer:
        score = complexity(parsed)
        route = choose_route(
            parsed, llm_available=self.provider is not None, llm_min_complexity=self.llm_min_complexity
        )
        if route is Route.REFUSAL:
            return self._finish(parsed, Route.REFUSAL, refusal_text(parsed), (), score)
        if route is Route.CLARIFY:
            return clarify_answer(parsed, parsed.clarification or "", score)
        if route in {Route.ANALYTICS, Route.SOLVER, Route.COMPARISON}:
            if run_dir is None:
                return clarify_answer(parsed, "Which analysis is this about? Open a run first, then ask again.", score)
            return self._on_run(parsed, route, run_dir, other, score)
        local = self._local(parsed, run_dir, score)
        if route is Route.LLM and self.provider is not None:
            return llm_answer(self.provider, parsed, local, history, score, self.monitor)
        return local

    def _on_run(self, parsed: ParsedQuery, route: Route, run_dir: Path, other: Path | None, score: float) -> Answer:
        try:
            if route is Route.ANALYTICS:
                return self._analytics(parsed, run_dir, score)
            if route is Route.SOLVER:
                return self._solver(parsed, run_dir, score)
            return self._comparison(parsed, run_dir, other, score)
        except InvalidInputError as error:
            return clarify_answer(parsed, f"I cannot answer that as asked: {error}.", score)

    def _analytics(self, parsed: ParsedQuery, run_dir: Path, score: float) -> Answer:
        facts = self.run_facts(run_dir)
        resolution = facts.resolve(parsed.entities, parsed.context)
        if resolution.clarification is not None:
            return clarify_answer(parsed, resolution.clarification, score)
        if (reason := _unavailable(resolution)) is not None:
            text = _unavailable_text(reason)
            composition = compose(parsed.text, (reason,), [], parsed.context.expertise, sentences=(text,))
            answer = self._finished(parsed, Route.ANALYTICS, composition, score, run_dir)
            return replace(answer, follow_ups=("Which risk indicators were flagged in this run?",))
        if not resolution.facts:
            overview = facts.overview()
            flagged = [f for f in overview if f.provenance.locator.startswith("biomechanics.risk")]
            if flagged and _RISK_WORDS.search(parsed.normalised):
                lead, shown = (
                    "The risk indicators this run flagged yellow or red (indicators, never diagnoses).",
                    flagged,
                )
            else:
                lead, shown = "That question names no metric of this run; here is what it holds.", list(overview)
            composition = compose(
                parsed.text, shown, [], parsed.context.expertise, lead=lead, max_facts=ANALYTICS_FACTS
            )
            return self._finished(parsed, Route.ANALYTICS, composition, score, run_dir)
        beginner = parsed.context.expertise is Expertise.BEGINNER
        quantity = parsed.entities.quantity if parsed.entities.quantity not in {None, "angle"} else ""
        metric = f"{quantity or ''} {resolution.metric or ''}".replace("_", " ").strip()
        passages = [] if beginner else self.retrieve(parsed, risk=False, query=metric or None)
        names = {name for fact in resolution.facts for name in _FIELD.findall(fact.provenance.locator)}
        defining = [p for p in passages if any(f"`{name}`" in p.text for name in names)]
        passages = (defining or passages)[:1]  # the passage that defines the metric by its name, if one is retrieved
        expertise = parsed.context.expertise
        composition = compose(parsed.text, resolution.facts, passages, expertise, max_facts=ANALYTICS_FACTS)
        return self._finished(parsed, Route.ANALYTICS, composition, score, run_dir)

    def _solver(self, parsed: ParsedQuery, run_dir: Path, score: float) -> Answer:
        row = self._row(parsed, run_dir)
        instant: Fact | None = None
        if row is None:
            instant = self._peak_load(run_dir)
            if instant is None or instant.row is None:
                return clarify_answer(
                    parsed,
                    "At which instant? Give a frame (at frame 40), a time (at 1.2 s) or an event (at landing, at "
                    "left foot strike), or pick a frame in the viewer.",
                    score,
                )
            row = instant.row
        outcome = what_if(run_dir, row, parsed.entities)
        if outcome.clarification is not None:
            return clarify_answer(parsed, outcome.clarification, score)
        facts, sentences = list(outcome.facts), list(outcome.sentences)
        if instant is not None:
            facts.insert(0, instant)
            sentences.insert(
                0,
                f"No instant was named, so this is the instant of your highest estimated ground reaction force, "
                f"{instant.display} at {instant.time_s:.2f} s (frame {instant.frame}); name another to test it "
                "there [{n}].",
            )
        passages = self.retrieve(parsed)[:1]
        composition = compose(parsed.text, facts, passages, parsed.context.expertise, sentences=sentences)
        return self._finished(parsed, Route.SOLVER, composition, score, run_dir)

    def _row(self, parsed: ParsedQuery, run_dir: Path) -> int | None:
        """Find the run row a what-if is about: the named event, frame or time, else the frame on screen."""
        entities = parsed.entities
        if entities.event is None and entities.frame is None and entities.time_s is None:
            if parsed.context.frame is None:
                return None
            entities = Entities(frame=parsed.context.frame)
        probe = Entities(event=entities.event, side=entities.side, frame=entities.frame, time_s=entities.time_s)
        resolution = self.run_facts(run_dir).resolve(probe, parsed.context)
        rows = [fact.row for fact in resolution.facts if fact.row is not None]
        return rows[0] if rows else None

    def _peak_load(self, run_dir: Path) -> Fact | None:
        """Find the instant of the run's highest vertical ground reaction force (a what-if's default instant)."""
        resolution = self.run_facts(run_dir).resolve(Entities(quantity="grf", statistic="max"))
        return next((f for f in resolution.facts if f.row is not None and f.time_s is not None), None)

    def _comparison(self, parsed: ParsedQuery, run_dir: Path, other: Path | None, score: float) -> Answer:
        intent, athlete = parsed.intent, parsed.entities.athlete
        if intent is Intent.COMPARE_RUNS:
            if other is None:
                return clarify_answer(parsed, "Which of your runs should I compare this one with?", score)
            outcome = self.library.compare_runs(run_dir, other, parsed.entities)
        elif intent is Intent.COMPARE_ATHLETE and athlete is not None:
            outcome = self.library.compare_with_clip(run_dir, athlete, parsed.entities)
        elif intent is Intent.COMPARE_ATHLETE:
            names = ", ".join(self.library.library.usable_ids())
            return clarify_answer(parsed, f"Compare with which athlete? The library holds: {names}.", score)
        else:
            outcome = self.library.most_similar(run_dir)
        passages = self.retrieve(parsed, outcome.retrieval_terms)[:1]
        if outcome.message is not None:
            composition = compose(parsed.text, (), passages, parsed.context.expertise, lead=outcome.message)
        else:
            composition = compose(
                parsed.text,
                outcome.facts,
                passages,
                parsed.context.expertise,
                sentences=outcome.sentences,
                lead=outcome.lead,
            )
        return self._finished(parsed, Route.COMPARISON, composition, score, run_dir)

    def _local(self, parsed: ParsedQuery, run_dir: Path | None, score: float) -> Answer:
        facts: tuple[Fact, ...] = ()
        reason: Fact | None = None
        if run_dir is not None and parsed.intent is Intent.EXPLANATION:
            run = self.run_facts(run_dir)
            resolution = run.resolve(parsed.entities, parsed.context)
            reason = _unavailable(resolution)  # "why can't you give me X": the run's own reason comes first
            facts = (reason,) if reason is not None else run.related(parsed.entities) or resolution.facts
        if asks_catalogue(parsed) and (listed := catalogue(parsed, self.index)) is not None:
            return self._finished(parsed, Route.LOCAL, listed, score, run_dir)
        passages = self.best_documents(parsed, self.retrieve(parsed))
        if not passages and not facts:
            text = "I have no source on that in the knowledge base, so I will not guess."
            return self._finish(parsed, Route.LOCAL, text, (), score)
        sentences = (_unavailable_text(reason),) if reason is not None else None
        composition = compose(parsed.text, facts, passages, parsed.context.expertise, sentences=sentences)
        return self._finished(parsed, Route.LOCAL, composition, score, run_dir)

    # -- answers -------------------------------------------------------------------------------------------------

    def _finished(
        self, parsed: ParsedQuery, route: Route, composition: Composition, score: float, run_dir: Path | None
    ) -> Answer:
        validation, numbers = validate_answer(
            composition.text, route, facts=composition.facts, citations=composition.citations, question=parsed.text
        )
        reliability = [1.0 if fact.reliable else 0.6 for fact in composition.facts] or [1.0]
        confidence = parsed.confidence * min(reliability) * (1.0 if validation.passed else 0.5)
        return Answer(
            question=parsed.text,
            text=composition.text,
            route=route,
            intent=parsed.intent,
            citations=composition.citations,
            numbers=numbers,
            facts=composition.facts,
            confidence=round(confidence, 3),
            follow_ups=follow_ups(parsed, route, run_dir is not None),
            complexity=score,
            validation=validation,
        )

    def _finish(
        self,
        parsed: ParsedQuery,
        route: Route,
        text: str,
        facts: tuple[Fact, ...],
        score: float,
        *,
        run_dir: Path | None = None,
    ) -> Answer:
        """Answer in fixed wording (a refusal, an unavailable metric), validated like every other answer."""
        validation, numbers = validate_answer(text, route, facts=facts, citations=(), question=parsed.text)
        return Answer(
            question=parsed.text,
            text=text,
            route=route,
            intent=parsed.intent,
            citations=(),
            numbers=numbers,
            facts=facts,
            confidence=round(parsed.confidence, 3),
            follow_ups=follow_ups(parsed, route, run_dir is not None),
            complexity=score,
            validation=validation,
        )

    # -- cache ---------------------------------------------------------------------------------------------------

    def _key(self, parsed: ParsedQuery, run_dir: Path | None, other: Path | None) -> str:
        provider = f"{self.provider.name}:{self.provider.model}" if self.provider is not None else None
        document = {
            "run": _stamp(run_dir) if run_dir is not None and (run_dir / "analysis.json").exists() else None,
            "other": _stamp(other) if other is not None and (other / "analysis.json").exists() else None,
            "question": parsed.normalised,
            "context": [parsed.context.frame, parsed.context.joint, parsed.context.expertise.value],
            "entities": repr(parsed.entities),
            "provider": provider,
        }
        return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()

    def _cached(self, key: str) -> Answer | None:
        with self._lock:
            answer = self._cache.get(key)
            if answer is not None:
                self._cache.move_to_end(key)
            return answer

    def _store(self, key: str, answer: Answer) -> None:
        with self._lock:
            self._cache[key] = answer
            while len(self._cache) > self._cache_entries:
                self._cache.popitem(last=False)


def _about_technique(parsed: ParsedQuery) -> bool:
    """Whether a question is about a technique (its intent, a sport or athlete named, technique words)."""
    entities = parsed.entities
    return (
        parsed.intent in _TECHNIQUE_INTENTS
        or entities.sport is not None
        or entities.athlete is not None
        or bool(_TECHNIQUE_WORDS.search(parsed.normalised))
    )


def _unavailable(resolution: Resolution) -> Fact | None:
    """Return the run's reason an asked-for metric is unavailable, as a fact without a value (None if available)."""
    if resolution.unavailable is None or resolution.facts:
        return None
    return Fact(
        key=f"{resolution.metric or 'metric'}_unavailable",
        label=f"{(resolution.metric or 'this metric').replace('_', ' ')} unavailable",
        value=None,
        unit="",
        display=resolution.unavailable,
        provenance=Provenance("run files", f"the reason they give for {resolution.metric or 'it'}"),
        numbers=tuple(float(n) for n in numbers_in(resolution.unavailable)),
    )


def _unavailable_text(reason: Fact) -> str:
    """Word an unavailable metric's reason, every sentence of it cited (``{n}`` where the marker goes)."""
    sentences = split_sentences(f"Not available for this run: {reason.display}")
    return " ".join(f"{sentence.rstrip('.;')} [{{n}}]." for sentence in sentences)


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000.0, 3)


def _stamp(run_dir: Path) -> tuple[str, int]:
    try:
        return str(run_dir.resolve()), (run_dir / "analysis.json").stat().st_mtime_ns
    except OSError:
        raise NotFoundError(f"no analysis in {run_dir}", details={"run": str(run_dir)}) from None


def follow_up_of(parsed: ParsedQuery, previous: ParsedQuery) -> ParsedQuery:
    """Read ``parsed`` as a follow-up of ``previous``.

    A short question (at most :data:`FOLLOW_UP_WORDS` words) that names a side, a statistic, an instant, a joint or
    a quantity but not the whole subject ("and the right one?", "what about the hip?", "and the minimum?") takes
    the rest of the subject — joint, quantity, statistic, side — from the previous question, and its intent when
    alone it reads as general or out of scope. Anything longer, or naming an athlete, stands on its own.
    """
    now, before = parsed.entities, previous.entities
    if before.joint is None and before.quantity is None:
        return parsed
    named = (now.side, now.statistic, now.event, now.time_s, now.frame, now.joint, now.quantity)
    if len(parsed.normalised.split()) > FOLLOW_UP_WORDS or now.athlete is not None or all(n is None for n in named):
        return parsed
    if now.quantity in _WHOLE_BODY or now.risk is not None:  # "how high did I jump?" is a new subject
        return parsed
    entities = replace(
        now,
        joint=now.joint or before.joint,
        quantity=now.quantity or (before.quantity if now.joint in {None, before.joint} else None),
        statistic=now.statistic or before.statistic,
        side=now.side or before.side,
    )
    lone = {Intent.OUT_OF_SCOPE, Intent.GENERAL_KNOWLEDGE}
    intent = previous.intent if parsed.intent in lone else parsed.intent
    clarification = None if not now.unknown_terms else parsed.clarification
    return replace(
        parsed, entities=entities, intent=intent, clarification=clarification, confidence=previous.confidence
    )


class Conversation:
    """Questions about one run in a row: the history goes to the LLM, follow-ups inherit the subject.

    Parameters
    ----------
    history_turns
        Messages kept (user and assistant turns); older ones are dropped.

    """

    def __init__(
        self, orchestrator: Orchestrator, run: Path | str | None, *, context: QueryContext | None = None,
        history_turns: int = 12,
    ) -> None:  # fmt: skip
        self.orchestrator, self.run = orchestrator, run
        self.context = context or QueryContext()
        self.history: list[Message] = []
        self.previous: ParsedQuery | None = None
        self._turns = history_turns

    def ask(self, question: str) -> Answer:
        """Answer ``question`` in this conversation's context."""
        parsed = self.orchestrator.parse(question, self.context)
        if self.previous is not None:
            parsed = follow_up_of(parsed, self.previous)
        answer = self.orchestrator.answer(parsed, self.run, history=tuple(self.history))
        self.previous = parsed
        self.history = [*self.history, Message("user", parsed.text), Message("assistant", answer.text)][-self._turns :]
        return answer


def open_orchestrator(settings: Settings | None = None, *, index_dir: Path | None = None) -> Orchestrator:
    """Open the orchestrator of ``settings`` (default: the environment's).

    The knowledge index lives in ``library_dir/knowledge`` (the shipped corpus is synced into it, incrementally);
    the LLM is the configured one, if any; the elite library is the default one.
    """
    settings = settings if settings is not None else get_settings()
    index = KnowledgeIndex(index_dir if index_dir is not None else settings.library_dir / "knowledge", MiniLMEmbedder())
    index.sync_shipped()
    return Orchestrator(index, provider=provider_from_settings(settings))
