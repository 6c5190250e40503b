"""OpenTelemetry tracing of the API, exported over OTLP/HTTP when ``settings.otlp_endpoint`` is set.

Not configured (the default), nothing is set up: the app gets no span processor, no wrapper and no event listener,
and the OpenTelemetry SDK is not even imported. Configured, :class:`Tracing` holds the app's own tracer provider
(two apps in one process do not share one, as with the metrics registry) whose spans a batch processor sends to
``<otlp_endpoint>/v1/traces`` in the protobuf encoding, from the app's start to its shutdown (the last batch is
flushed then). What is traced::

    span                                  where from                 attributes (besides the usual ones)
    GET /api/v1/analyses/{analysis_id}    FastAPI's own telemetry    http.route (the template), http.request.method,
      (SERVER, one per request)                                      http.response.status_code, url.path,
                                                                     error.type on a 5xx; spacecomputer.request_id
                                                                     (the X-Request-ID answered), added by
                                                                     ``_middleware``
      fastapi.dependency / .endpoint …    FastAPI's operation spans  code.function.name
      SELECT, INSERT …  (CLIENT)          :func:`trace_statements`   db.system.name, db.operation.name,
                                                                     db.query.text (placeholders, never values)
      cache get, blobs read_bytes …       ``_tracing_stores``        spacecomputer.cache.hit on reads
    job analysis  (a trace of its own)    :class:`TracedExecutor`    spacecomputer.job.id, .kind, .attempt,
                                                                     .status; error.type (the error code) on failure

``/health``, ``/ready`` and ``/metrics`` are not traced (probes and scrapes would drown the rest). A job span runs
from the job's submission to its outcome, in the API process: the work inside the worker process is not traced.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from fastapi.telemetry import TelemetryConfig
from opentelemetry.trace import Span, SpanKind, StatusCode, Tracer

from spacecomputer import __version__
from spacecomputer.config import Settings
from spacecomputer.jobs import ExecutionHandle, Executor, JobOutcome, JobSpec
from spacecomputer.storage import Database

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

__all__ = [
    "EXPORT_TIMEOUT_S",
    "REQUEST_ID_ATTRIBUTE",
    "SERVICE_NAME",
    "TRACES_PATH",
    "TracedExecutor",
    "Tracing",
    "telemetry_config",
    "trace_statements",
]

SERVICE_NAME = "spacecomputer"
"""``service.name`` of the API's spans."""
TRACES_PATH = "/v1/traces"
"""Path of the OTLP/HTTP traces endpoint under ``otlp_endpoint`` (the OTLP specification's default)."""
EXPORT_TIMEOUT_S = 5.0
"""Longest wait for the collector to take one batch, seconds (our own choice: bounds a shutdown's last flush)."""
REQUEST_ID_ATTRIBUTE = "spacecomputer.request_id"
"""Attribute of a request's server span holding its request id."""
_SPAN_KEY = "spacecomputer.db_span"  # the span of the statement a connection is running, in its ``info``


class Tracing:
    """The app's tracer provider and tracer, exporting to an OTLP/HTTP collector (module docstring).

    Parameters
    ----------
    endpoint
        The collector's base URL (``http://collector:4318``); spans go to ``endpoint`` + :data:`TRACES_PATH`.
    environment
        ``deployment.environment.name`` of the spans.

    """

    def __init__(self, endpoint: str, *, environment: str) -> None:
        # The SDK loads only when tracing is configured: an app without it imports nothing of it.
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider

        self.endpoint = endpoint.rstrip("/")
        resource = Resource.create(
            {"service.name": SERVICE_NAME, "service.version": __version__, "deployment.environment.name": environment}
        )
        self.provider: TracerProvider = TracerProvider(resource=resource, shutdown_on_exit=False)
        self.tracer: Tracer = self.provider.get_tracer("spacecomputer.api", __version__)

    @classmethod
    def from_settings(cls, settings: Settings) -> Tracing | None:
        """Return the tracing ``settings`` ask for, or ``None`` when ``otlp_endpoint`` is unset."""
        if settings.otlp_endpoint is None:
            return None
        return cls(settings.otlp_endpoint, environment=settings.environment)

    @asynccontextmanager
    async def exporting(self) -> AsyncIterator[None]:
        """Send the spans ended inside the block to the collector; flush the last batch and stop at its end.

        A collector that is down costs the spans of that time (logged by the SDK), never a request.
        """
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        exporter = OTLPSpanExporter(endpoint=self.endpoint + TRACES_PATH, timeout=EXPORT_TIMEOUT_S)
        self.provider.add_span_processor(BatchSpanProcessor(exporter))
        try:
            yield
        finally:
            await asyncio.to_thread(self.provider.shutdown)


def telemetry_config(tracing: Tracing | None, *, untraced_paths: Iterable[str] = ()) -> TelemetryConfig:
    """Return FastAPI's ``telemetry`` argument: request spans on ``tracing``'s provider, or all telemetry off.

    FastAPI's metrics and logs stay off either way (Prometheus and the JSON access log have them); so does its
    tracing without ``tracing``, even if something in the process set a global tracer provider.
    """
    if tracing is None:
        return {"tracing": False, "metrics": False, "logs": False}
    skipped = frozenset(untraced_paths)

    def untraced(scope: Any) -> bool:
        return scope.get("path") in skipped

    return {"tracer_provider": tracing.provider, "metrics": False, "logs": False, "exclude": untraced}


def trace_statements(database: Database, tracer: Tracer) -> None:
    """Give each SQL statement ``database`` runs a client span (SQLAlchemy's cursor events, module docstring)."""
    engine = database.engine.sync_engine
    system = database.backend

    def end(connection: sa.Connection | None, error: BaseException | None = None) -> None:
        span: Span | None = connection.info.pop(_SPAN_KEY, None) if connection is not None else None
        if span is None:
            return
        if error is not None:
            span.set_attribute("error.type", type(error).__name__)
            span.set_status(StatusCode.ERROR)
        span.end()

    def before(connection: sa.Connection, _cursor: Any, statement: str, *_args: Any) -> None:
        end(connection)  # a statement cancelled before its end event: a connection runs one at a time
        operation = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "SQL"
        connection.info[_SPAN_KEY] = tracer.start_span(
            operation,
            kind=SpanKind.CLIENT,
            attributes={"db.system.name": system, "db.operation.name": operation, "db.query.text": statement},
        )

    def after(connection: sa.Connection, *_args: Any) -> None:
        end(connection)

    def failed(context: sa.engine.ExceptionContext) -> None:
        end(context.connection, context.original_exception)

    sa.event.listen(engine, "before_cursor_execute", before)
    sa.event.listen(engine, "after_cursor_execute", after)
    sa.event.listen(engine, "handle_error", failed)


class TracedExecutor:
    """An executor whose runs each get a span, from submission to outcome (module docstring).

    Parameters
    ----------
    executor
        The executor that runs the jobs; shutting this one down shuts it down.
    tracer
        Where the spans come from.

    """

    def __init__(self, executor: Executor, tracer: Tracer) -> None:
        self._executor = executor
        self._tracer = tracer
        self._spans: dict[ExecutionHandle, Span] = {}  # handles compare by identity

    def submit(self, spec: JobSpec) -> ExecutionHandle:
        """Start ``spec`` on the executor, and its span."""
        span = self._tracer.start_span(
            f"job {spec.kind}",
            attributes={
                "spacecomputer.job.id": str(spec.lease.job_id),
                "spacecomputer.job.kind": spec.kind,
                "spacecomputer.job.attempt": spec.lease.attempt,
            },
        )
        try:
            handle = self._executor.submit(spec)
        except Exception as error:
            span.record_exception(error)
            span.set_status(StatusCode.ERROR)
            span.end()
            raise
        self._spans[handle] = span
        return handle

    def poll(self, handle: ExecutionHandle) -> JobOutcome | None:
        """Return the run's outcome once it has ended (and end its span)."""
        outcome = self._executor.poll(handle)
        span = self._spans.pop(handle, None) if outcome is not None else None
        if outcome is not None and span is not None:
            span.set_attribute("spacecomputer.job.status", outcome.status)
            if outcome.status != "succeeded":
                code = (outcome.error or {}).get("code", outcome.status)
                span.set_attribute("error.type", str(code))
                span.set_status(StatusCode.ERROR, str((outcome.error or {}).get("message", outcome.status))[:500])
            span.end()
        return outcome

    def cancel(self, handle: ExecutionHandle) -> None:
        """Ask the run to stop (an event on its span)."""
        span = self._spans.get(handle)
        if span is not None:
            span.add_event("cancel requested")
        self._executor.cancel(handle)

    async def ping(self, *, timeout_s: float = 30.0) -> None:
        """Check that the executor can run jobs."""
        await self._executor.ping(timeout_s=timeout_s)

    def shutdown(self) -> None:
        """Shut the executor down; the spans of runs still open end as abandoned."""
        for span in self._spans.values():
            span.set_attribute("spacecomputer.job.status", "abandoned")
            span.end()
        self._spans.clear()
        self._executor.shutdown()
