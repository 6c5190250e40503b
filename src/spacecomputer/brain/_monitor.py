"""The orchestrator's performance monitor: per-route latency, validation failures, cache hits, LLM tokens and cost.

Readable from Python (:meth:`PerformanceMonitor.snapshot`) and observable: the platform registers an observer that
turns every record into Prometheus metrics. Latencies are kept per route in a bounded window (the last
:data:`WINDOW` answers) for the percentiles; the counters are totals since start.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from spacecomputer.brain._types import Answer, Completion

__all__ = ["WINDOW", "PerformanceMonitor", "RouteStats"]

WINDOW = 2048
"""Answers per route whose latencies are kept for the percentiles."""


@dataclass
class RouteStats:
    """What one route did since the monitor started."""

    answers: int = 0
    cache_hits: int = 0
    validation_failures: int = 0
    fallbacks: int = 0
    latencies_ms: deque[float] = field(default_factory=lambda: deque(maxlen=WINDOW))

    def summary(self) -> dict[str, float | int | None]:
        """Return the counts and p50/p95 latency (ms; ``None`` before the first answer)."""
        values = np.asarray(self.latencies_ms, dtype=np.float64)
        p50, p95 = (float(np.percentile(values, q)) if values.size else None for q in (50, 95))
        return {
            "answers": self.answers,
            "cache_hits": self.cache_hits,
            "validation_failures": self.validation_failures,
            "fallbacks": self.fallbacks,
            "p50_ms": p50,
            "p95_ms": p95,
        }


Observer = Callable[[Answer], None]
CompletionObserver = Callable[[Completion], None]


class PerformanceMonitor:
    """Thread-safe record of every answer and every LLM completion (module docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._routes: dict[str, RouteStats] = {}
        self._events: dict[str, int] = {}
        self._llm = {"calls": 0, "input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0, "priced_calls": 0}
        self._observers: list[Observer] = []
        self._completion_observers: list[CompletionObserver] = []

    def observe(self, answer: Observer | None = None, completion: CompletionObserver | None = None) -> None:
        """Call ``answer`` with every recorded answer and ``completion`` with every LLM completion."""
        if answer is not None:
            self._observers.append(answer)
        if completion is not None:
            self._completion_observers.append(completion)

    def record(self, answer: Answer) -> None:
        """Count ``answer`` under its route (cache hit, validation, fallback, latency, events)."""
        with self._lock:
            stats = self._routes.setdefault(answer.route.value, RouteStats())
            stats.answers += 1
            stats.cache_hits += answer.cached
            stats.validation_failures += not answer.validation.passed
            stats.fallbacks += answer.fallback is not None
            stats.latencies_ms.append(answer.latency_ms)
            for event in answer.events:
                kind = event.split(":", 1)[0]
                self._events[kind] = self._events.get(kind, 0) + 1
        for observer in self._observers:
            observer(answer)

    def record_completion(self, completion: Completion) -> None:
        """Add an LLM completion's tokens and cost (cost only when the provider's prices are configured)."""
        with self._lock:
            self._llm["calls"] += 1
            self._llm["input_tokens"] += completion.input_tokens
            self._llm["output_tokens"] += completion.output_tokens
            if completion.cost_usd is not None:
                self._llm["cost_usd"] += completion.cost_usd
                self._llm["priced_calls"] += 1
        for observer in self._completion_observers:
            observer(completion)

    def snapshot(self) -> dict[str, object]:
        """Everything recorded: ``routes`` (per-route counts and latency percentiles), ``events``, ``llm``."""
        with self._lock:
            return {
                "routes": {name: stats.summary() for name, stats in sorted(self._routes.items())},
                "events": dict(sorted(self._events.items())),
                "llm": dict(self._llm),
            }
