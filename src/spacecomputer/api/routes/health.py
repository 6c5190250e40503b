"""``/health`` (the process answers), ``/ready`` (its dependencies answer) and ``/metrics`` (Prometheus).

``/ready`` pings every :class:`~spacecomputer.api._platform.ReadinessCheck` at once, each within
:data:`READY_TIMEOUT_S`, and names each one's state: ``ok``; ``degraded`` — an optional dependency (a shared
Redis cache: the API carries on without it) is down; ``down`` — a required one (database, blob store) is, and the
answer is 503 so a load balancer stops sending traffic. None of the three is rate-limited or authenticated.
"""

from __future__ import annotations

import asyncio
import time

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from spacecomputer import __version__
from spacecomputer.api._deps import PlatformDep
from spacecomputer.api._metrics import HttpMetrics
from spacecomputer.api._platform import ReadinessCheck
from spacecomputer.api._schemas import DependencyStatus, HealthPublic, ReadinessPublic
from spacecomputer.errors import SpaceComputerError

__all__ = ["HEALTH_PATHS", "READY_TIMEOUT_S", "router"]

READY_TIMEOUT_S = 2.0
"""Longest wait for one dependency's ping, seconds."""
HEALTH_PATHS = ("/health", "/ready", "/metrics")
"""The paths of this router (exempt from rate limits)."""

router = APIRouter(tags=["health"])


@router.get("/health")
async def health() -> HealthPublic:
    """Answer 200 while the process serves requests (liveness)."""
    return HealthPublic(version=__version__)


async def _probe(check: ReadinessCheck) -> DependencyStatus:
    started = time.perf_counter()
    error: str | None = None
    try:
        await asyncio.wait_for(check.ping(), timeout=READY_TIMEOUT_S)
    except TimeoutError:
        error = f"no answer within {READY_TIMEOUT_S:g} s"
    except SpaceComputerError as failure:
        error = failure.message
    except Exception as failure:  # a dependency's client may fail in its own way; /ready must still answer
        error = f"{type(failure).__name__}: {failure}"
    latency_ms = round((time.perf_counter() - started) * 1000.0, 2)
    if error is None:
        return DependencyStatus(status="ok", required=check.required, latency_ms=latency_ms)
    state = "down" if check.required else "degraded"
    return DependencyStatus(status=state, required=check.required, latency_ms=latency_ms, error=error[:300])


@router.get(
    "/ready",
    response_model=ReadinessPublic,
    responses={503: {"model": ReadinessPublic, "description": "A required dependency is down."}},
)
async def ready(platform: PlatformDep) -> JSONResponse:
    """Ping the database, blob store, cache (and any other registered dependency); 503 if a required one is down."""
    names = list(platform.readiness)
    results = await asyncio.gather(*(_probe(platform.readiness[name]) for name in names))
    checks = dict(zip(names, results, strict=True))
    states = {result.status for result in results}
    overall = "down" if "down" in states else "degraded" if "degraded" in states else "ok"
    report = ReadinessPublic(status=overall, checks=checks)
    return JSONResponse(report.model_dump(mode="json"), status_code=503 if overall == "down" else 200)


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Return every metric of the app in the Prometheus text format."""
    http_metrics: HttpMetrics = request.app.state.metrics
    return Response(http_metrics.exposition(), media_type=http_metrics.content_type)
