"""Prometheus metrics of one app: a registry of its own, and the HTTP request metrics the middleware records.

Each app has its own :class:`~prometheus_client.CollectorRegistry` (two apps in one process — the tests — do not
collide); other parts of the platform (job durations and queue depth, AI route counts, cache hit ratio) register
their collectors on ``app.state.metrics.registry`` and ``/metrics`` exposes them all.

The request histogram is labelled by the *route template* (``/api/v1/users/me/api-keys/{key_id}``), never the
raw path, so one label value stands for a route however many ids it is called with; requests that match no route
share the label ``<unmatched>``.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, Histogram, generate_latest

__all__ = ["UNMATCHED_ROUTE", "HttpMetrics"]

UNMATCHED_ROUTE = "<unmatched>"
"""Route label of requests that matched no route (404s of unknown paths)."""
_LATENCY_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class HttpMetrics:
    """The registry of one app and its HTTP request metrics.

    Attributes
    ----------
    registry
        Where every metric of the app is registered; :meth:`exposition` renders it.
    request_duration_s
        Histogram ``spacecomputer_http_request_duration_seconds{method, route, status}``: time from the request's
        arrival to the end of its response body, seconds.
    requests_in_progress
        Gauge ``spacecomputer_http_requests_in_progress``: requests being served now.

    """

    content_type = CONTENT_TYPE_LATEST
    """Media type of :meth:`exposition` (Prometheus text format 0.0.4)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.request_duration_s = Histogram(
            "spacecomputer_http_request_duration_seconds",
            "HTTP request latency by route template, method and status, seconds.",
            ["method", "route", "status"],
            buckets=_LATENCY_BUCKETS_S,
            registry=self.registry,
        )
        self.requests_in_progress = Gauge(
            "spacecomputer_http_requests_in_progress", "HTTP requests being served.", registry=self.registry
        )

    def observe(self, *, method: str, route: str, status: int, duration_s: float) -> None:
        """Record one finished request."""
        self.request_duration_s.labels(method=method, route=route, status=str(status)).observe(duration_s)

    def exposition(self) -> bytes:
        """Return every metric of the registry in the Prometheus text format."""
        return generate_latest(self.registry)
