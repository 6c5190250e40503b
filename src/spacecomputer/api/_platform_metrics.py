"""Prometheus metrics of the platform beyond HTTP: job durations, queue depth, cache reads.

Registered on the app's own registry (``app.state.metrics.registry``, see ``_metrics``), so ``/metrics`` shows
them beside the request latencies::

    spacecomputer_job_duration_seconds{kind, status}     histogram: claim to end of the jobs this API's runner ran
    spacecomputer_jobs{status}                           gauge: jobs in each status (the queue depth), every status
    spacecomputer_cache_requests_total{cache, result}    counter: hit, miss or error per cached read

The cache hit ratio is ``rate(…{result="hit"}) / rate(…)`` over the counter; the gauge is refreshed by the job
service every heartbeat (``settings.job_heartbeat_s``), not at scrape time, so a scrape never waits on the
database.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

from fastapi import Depends, Request
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from spacecomputer.storage import JobStatus

__all__ = ["CacheResult", "PlatformMetrics", "PlatformMetricsDep"]

CacheResult = Literal["hit", "miss", "error"]
"""How a cached read went: found, not found (computed and stored), or the cache failed (computed anyway)."""
_JOB_BUCKETS_S = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)


class PlatformMetrics:
    """Job and cache metrics of one app (module docstring).

    Parameters
    ----------
    registry
        The app's registry.

    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self.job_duration_s = Histogram(
            "spacecomputer_job_duration_seconds",
            "Time from a job's last claim to its end, by kind and final status, seconds.",
            ["kind", "status"],
            buckets=_JOB_BUCKETS_S,
            registry=registry,
        )
        self.jobs = Gauge("spacecomputer_jobs", "Jobs in each status (queue depth).", ["status"], registry=registry)
        self.cache_requests = Counter(
            "spacecomputer_cache_requests",
            "Cached reads by cache and result (hit, miss, error).",
            ["cache", "result"],
            registry=registry,
        )

    def observe_job(self, *, kind: str, status: str, duration_s: float) -> None:
        """Record one finished job."""
        self.job_duration_s.labels(kind=kind, status=status).observe(max(0.0, duration_s))

    def set_depth(self, depth: Mapping[JobStatus, int]) -> None:
        """Set the number of jobs in each status."""
        for status in JobStatus:
            self.jobs.labels(status=status.value).set(depth.get(status, 0))

    def count_cache(self, cache: str, result: CacheResult) -> None:
        """Record one cached read of ``cache`` (``"analysis_results"``, ``"athlete_analysis"`` …)."""
        self.cache_requests.labels(cache=cache, result=result).inc()


async def _platform_metrics(request: Request) -> PlatformMetrics:
    metrics: PlatformMetrics = request.app.state.platform_metrics
    return metrics


PlatformMetricsDep = Annotated[PlatformMetrics, Depends(_platform_metrics)]
"""A route's handle on the app's :class:`PlatformMetrics`."""
