"""The brain behind ``/ai``: one orchestrator per app, run files mirrored locally, answers cached, AI metrics.

The orchestrator reads a run from a folder, so the few files it needs (:data:`MIRRORED`) are copied from the blob
store into a private folder of this process, one per analysis (at most :data:`MIRRORS` kept, least recently used
dropped; all removed at shutdown). A run never changes once stored, so a mirror never goes stale; it is dropped as
soon as its analysis is deleted (:meth:`AIService.forget`, and at every question for analyses no longer in the
database), so deleting an analysis or an account leaves no copy behind.

A first question (no conversation) is cached in the platform cache under the analysis' own prefix, keyed on the
normalised question, the context and the LLM configured; deleting the analysis deletes the prefix. Every answer is
counted in Prometheus on the app's registry::

    spacecomputer_ai_answers_total{route, validated}     counter
    spacecomputer_ai_answer_seconds{route}               histogram: question to answer, cache hits included
    spacecomputer_ai_llm_tokens_total{direction}         counter: input / output tokens of LLM calls
    spacecomputer_ai_llm_cost_usd_total                  counter: only for providers with configured prices
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
import tempfile
import threading
import uuid
from collections import OrderedDict
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram

from spacecomputer.api._runs import RunFiles
from spacecomputer.brain import Answer, Completion, Orchestrator, ParsedQuery, open_orchestrator
from spacecomputer.config import Settings

__all__ = ["MIRRORED", "MIRRORS", "AIService"]

MIRRORED = ("analysis.json", "metrics.csv", "poses.parquet")
"""The run files the orchestrator reads."""
MIRRORS = 16
"""Analyses mirrored at once."""
_LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class AIService:
    """The app's orchestrator, its run mirrors and its metrics (module docstring)."""

    def __init__(self, settings: Settings, registry: CollectorRegistry) -> None:
        self.settings = settings
        self._orchestrator: Orchestrator | None = None
        self._opening = threading.Lock()
        self._root = Path(tempfile.mkdtemp(prefix="spacecomputer-ai-"))
        self._mirrors: OrderedDict[uuid.UUID, Path] = OrderedDict()
        self._mirroring = asyncio.Lock()
        self.answers = Counter(
            "spacecomputer_ai_answers", "Answers by route and whether they passed validation.", ["route", "validated"],
            registry=registry,
        )  # fmt: skip
        self.latency_s = Histogram(
            "spacecomputer_ai_answer_seconds", "Question to answer, by route, seconds.", ["route"],
            buckets=_LATENCY_BUCKETS_S, registry=registry,
        )  # fmt: skip
        self.tokens = Counter(
            "spacecomputer_ai_llm_tokens", "LLM tokens by direction.", ["direction"], registry=registry
        )
        self.cost_usd = Counter(
            "spacecomputer_ai_llm_cost_usd", "LLM cost at the configured prices.", registry=registry
        )

    def orchestrator(self) -> Orchestrator:
        """Return the orchestrator, opening it on first use (it loads the embedding model and syncs the corpus)."""
        with self._opening:
            if self._orchestrator is None:
                orchestrator = open_orchestrator(self.settings)
                orchestrator.monitor.observe(answer=self._count, completion=self._count_completion)
                self._orchestrator = orchestrator
            return self._orchestrator

    def _count(self, answer: Answer) -> None:
        self.answers.labels(route=answer.route.value, validated=str(answer.validation.passed).lower()).inc()
        self.latency_s.labels(route=answer.route.value).observe(answer.latency_ms / 1000.0)

    def _count_completion(self, completion: Completion) -> None:
        self.tokens.labels(direction="input").inc(completion.input_tokens)
        self.tokens.labels(direction="output").inc(completion.output_tokens)
        if completion.cost_usd is not None:
            self.cost_usd.inc(completion.cost_usd)

    async def run_dir(self, analysis_id: uuid.UUID, run: RunFiles) -> Path:
        """Return the local mirror of the analysis' run files, copying them on first use."""
        async with self._mirroring:
            if analysis_id in self._mirrors:
                self._mirrors.move_to_end(analysis_id)
                return self._mirrors[analysis_id]
            target = self._root / str(analysis_id)
            partial = self._root / f".{analysis_id}.partial"
            shutil.rmtree(partial, ignore_errors=True)
            partial.mkdir()
            try:
                await run.copy_to(partial, MIRRORED)
                partial.rename(target)
            finally:
                shutil.rmtree(partial, ignore_errors=True)
            self._mirrors[analysis_id] = target
            while len(self._mirrors) > MIRRORS:
                _, oldest = self._mirrors.popitem(last=False)
                shutil.rmtree(oldest, ignore_errors=True)
            return target

    def mirrored(self) -> list[uuid.UUID]:
        """Return the analyses mirrored now."""
        return list(self._mirrors)

    def forget(self, analysis_ids: list[uuid.UUID]) -> None:
        """Drop the mirrors of ``analysis_ids`` (deleted analyses)."""
        for analysis_id in analysis_ids:
            folder = self._mirrors.pop(analysis_id, None)
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)

    def cache_key(self, parsed: ParsedQuery) -> str:
        """Return the answer-cache key part of a first question (normalised text, context, LLM configured)."""
        orchestrator = self.orchestrator()
        provider = orchestrator.provider
        document = {
            "question": parsed.normalised,
            "context": [parsed.context.frame, parsed.context.joint, parsed.context.expertise.value],
            "provider": f"{provider.name}:{provider.model}" if provider is not None else None,
        }
        return "ai:" + hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()

    def close(self) -> None:
        """Remove every mirror (at shutdown)."""
        shutil.rmtree(self._root, ignore_errors=True)
        self._mirrors.clear()
