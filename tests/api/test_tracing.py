"""Tracing: the app's spans arrive at a real OTLP/HTTP receiver, decoded from protobuf, with their attributes.

The receiver is a small HTTP server of this file that accepts ``POST /v1/traces`` (OTLP's protobuf encoding, as
the OpenTelemetry exporter sends it) and decodes each body with ``opentelemetry-proto``'s message classes.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from spacecomputer.api._tracing import REQUEST_ID_ATTRIBUTE, SERVICE_NAME, TracedExecutor, Tracing
from spacecomputer.api._video_upload import MIN_CHUNK_BYTES
from spacecomputer.config import Settings
from spacecomputer.jobs import TEST_HANDLERS, JobQueue, JobRunner, LocalProcessExecutor, WorkerConfig
from spacecomputer.storage import Database, JobStatus, migrate
from tests.api.conftest import api_settings, running_api
from tests.api.test_videos import small_mp4
from tests.jobs.conftest import settle

__all__ = ["small_mp4"]  # the videos tests' session fixture, used here


@dataclass
class ReceivedSpan:
    name: str
    kind: int
    trace_id: bytes
    span_id: bytes
    parent_span_id: bytes
    attributes: dict[str, Any]
    status_code: int
    resource: dict[str, Any]
    events: list[str]


def _value(value: AnyValue) -> Any:
    return getattr(value, value.WhichOneof("value") or "string_value")


class Receiver(ThreadingHTTPServer):
    """An OTLP/HTTP traces endpoint on 127.0.0.1 keeping every span it is sent."""

    def __init__(self) -> None:
        self.spans: list[ReceivedSpan] = []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _ReceiverHandler)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def keep(self, request: ExportTraceServiceRequest) -> None:
        with self.lock:
            for resource_spans in request.resource_spans:
                resource = {item.key: _value(item.value) for item in resource_spans.resource.attributes}
                for scope_spans in resource_spans.scope_spans:
                    for span in scope_spans.spans:
                        self.spans.append(
                            ReceivedSpan(
                                name=span.name,
                                kind=span.kind,
                                trace_id=span.trace_id,
                                span_id=span.span_id,
                                parent_span_id=span.parent_span_id,
                                attributes={item.key: _value(item.value) for item in span.attributes},
                                status_code=span.status.code,
                                resource=resource,
                                events=[event.name for event in span.events],
                            )
                        )

    def named(self, name: str) -> list[ReceivedSpan]:
        with self.lock:
            return [span for span in self.spans if span.name == name]


class _ReceiverHandler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.path != "/v1/traces" or self.headers["Content-Type"] != "application/x-protobuf":
            self.send_error(404)
            return
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        self.server.keep(request)
        answer = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


SPAN_KIND_SERVER, SPAN_KIND_CLIENT = 2, 3
STATUS_ERROR = 2


def _ancestors(span: ReceivedSpan, spans: list[ReceivedSpan]) -> set[bytes]:
    by_id = {candidate.span_id: candidate for candidate in spans}
    found: set[bytes] = set()
    while span.parent_span_id in by_id:
        found.add(span.parent_span_id)
        span = by_id[span.parent_span_id]
    return found


@pytest.mark.anyio
async def test_requests_arrive_as_server_spans_with_route_status_and_request_id(
    backends: dict[str, Any], receiver: Receiver
) -> None:
    settings = api_settings(backends, otlp_endpoint=receiver.endpoint)
    async with running_api(settings) as api:
        account = await api.new_user()
        me = await api.client.get("/api/v1/users/me", headers=account.headers | {"X-Request-ID": "trace-me-1"})
        missing = await api.client.get(f"/api/v1/analyses/{uuid.uuid4()}", headers=account.headers)
        assert (await api.client.get("/health")).status_code == 200
    assert (me.status_code, missing.status_code) == (200, 404)

    (server,) = receiver.named("GET /api/v1/users/me")
    assert server.kind == SPAN_KIND_SERVER
    assert server.attributes["http.route"] == "/api/v1/users/me"
    assert server.attributes["http.request.method"] == "GET"
    assert server.attributes["http.response.status_code"] == 200
    assert server.attributes[REQUEST_ID_ATTRIBUTE] == "trace-me-1" == me.headers["X-Request-ID"]
    assert server.resource["service.name"] == SERVICE_NAME
    assert server.resource["deployment.environment.name"] == "test"

    (not_found,) = receiver.named("GET /api/v1/analyses/{analysis_id}")
    assert not_found.attributes["http.route"] == "/api/v1/analyses/{analysis_id}"
    assert not_found.attributes["http.response.status_code"] == 404
    assert not_found.attributes[REQUEST_ID_ATTRIBUTE] == missing.headers["X-Request-ID"]
    assert not_found.status_code != STATUS_ERROR  # a 4xx is the client's error, not the server's
    assert not receiver.named("GET /health")

    # The request's storage calls are spans of its trace, below its server span.
    inside = [span for span in receiver.spans if span.trace_id == server.trace_id and span is not server]
    statements = [span for span in inside if span.kind == SPAN_KIND_CLIENT and "db.query.text" in span.attributes]
    assert statements, [span.name for span in inside]
    select = next(span for span in statements if span.attributes["db.operation.name"] == "SELECT")
    assert select.name == "SELECT"
    assert select.attributes["db.system.name"] == ("sqlite" if "database_url" not in backends else "postgresql")
    assert server.span_id in _ancestors(select, receiver.spans)
    cache_reads = [span for span in inside if span.name == "cache get"]
    assert cache_reads
    assert all(server.span_id in _ancestors(span, receiver.spans) for span in cache_reads)
    assert {type(span.attributes["spacecomputer.cache.hit"]) for span in cache_reads} == {bool}


@pytest.mark.anyio
async def test_an_upload_traces_its_blob_calls_and_still_probes_the_stored_file(
    backends: dict[str, Any], receiver: Receiver, small_mp4: bytes
) -> None:
    async with running_api(api_settings(backends, otlp_endpoint=receiver.endpoint)) as api:
        account = await api.new_user()
        body = {
            "filename": "clip.mp4",
            "total_size_bytes": len(small_mp4),
            "sha256": hashlib.sha256(small_mp4).hexdigest(),
            "chunk_size_bytes": MIN_CHUNK_BYTES,
        }
        video = (await api.client.post("/api/v1/videos", json=body, headers=account.headers)).json()
        chunk_headers = account.headers | {"Content-SHA256": body["sha256"]}
        sent = await api.client.put(f"/api/v1/videos/{video['id']}/chunks/0", content=small_mp4, headers=chunk_headers)
        assert sent.status_code == 200, sent.text
        done = await api.client.post(f"/api/v1/videos/{video['id']}/complete", headers=account.headers)
    assert (done.status_code, done.json()["status"]) == (200, "ready"), done.text
    assert done.json()["probe"]["frame_count"] == 12  # probed from the stored file (behind the wrapper)
    (complete,) = receiver.named("POST /api/v1/videos/{video_id}/complete")
    calls = {span.name for span in receiver.spans if span.trace_id == complete.trace_id}
    assert {"blobs compose"} <= calls, calls
    stores = {span.attributes["spacecomputer.store"] for span in receiver.spans if span.name.startswith("blobs ")}
    assert stores == {"S3BlobStore" if backends.get("blob_backend") == "s3" else "LocalBlobStore"}


@pytest.mark.anyio
async def test_an_unexpected_error_marks_its_span_and_records_the_exception(
    backends: dict[str, Any], receiver: Receiver
) -> None:
    async with running_api(api_settings(backends, otlp_endpoint=receiver.endpoint)) as api:

        async def fail_inside() -> None:
            raise RuntimeError("the disk is full")

        api.app.add_api_route("/api/v1/fail-inside", fail_inside, methods=["GET"])
        answer = await api.client.get("/api/v1/fail-inside")
    assert answer.status_code == 500
    (server,) = receiver.named("GET /api/v1/fail-inside")
    assert server.attributes["http.response.status_code"] == 500
    assert server.status_code == STATUS_ERROR
    assert server.attributes[REQUEST_ID_ATTRIBUTE] == answer.headers["X-Request-ID"]
    assert "exception" in server.events


@pytest.mark.anyio
async def test_a_failing_statement_ends_its_span_as_an_error(backends: dict[str, Any], receiver: Receiver) -> None:
    bad, good = "SELECT * FROM no_such_table", "SELECT 1"
    async with running_api(api_settings(backends, otlp_endpoint=receiver.endpoint)) as api:
        database = api.platform.database
        async with database.session() as session:
            with pytest.raises(sa.exc.DBAPIError):
                await session.execute(sa.text(bad))
        async with database.session() as session:
            assert (await session.execute(sa.text(good))).scalar() == 1
    (failed,) = [span for span in receiver.spans if span.attributes.get("db.query.text") == bad]
    assert failed.status_code == STATUS_ERROR
    assert failed.attributes["error.type"] in ("OperationalError", "UndefinedTable")  # SQLite's, PostgreSQL's
    (fine,) = [span for span in receiver.spans if span.attributes.get("db.query.text") == good]
    assert fine.status_code != STATUS_ERROR


def test_nothing_is_traced_without_an_endpoint() -> None:
    assert Tracing.from_settings(Settings(environment="test", jwt_secret="s" * 48)) is None


@pytest.mark.parametrize("endpoint", ["collector:4318", "ftp://collector"])
def test_the_endpoint_must_be_an_http_url(endpoint: str) -> None:
    with pytest.raises(ValueError, match="otlp_endpoint must start with http"):
        Settings(environment="test", jwt_secret="s" * 48, otlp_endpoint=endpoint)


@pytest.fixture(scope="module")
def pool() -> Iterator[LocalProcessExecutor]:
    executor = LocalProcessExecutor(1)
    yield executor
    executor.shutdown()


def test_each_job_run_is_a_span_from_submission_to_outcome(
    tmp_path: Path, pool: LocalProcessExecutor, receiver: Receiver
) -> None:
    tracing = Tracing(receiver.endpoint, environment="test")
    url = f"sqlite:///{tmp_path / 'jobs.db'}"

    async def main() -> None:
        db = Database.from_url(url)
        await migrate(db)
        queue = JobQueue(db)
        echo = await queue.enqueue("echo", {"n": 1}, owner_id=None)
        flaky = await queue.enqueue("sleep", {"seconds": 0.05, "fail_attempts": 1}, owner_id=None)
        async with tracing.exporting():
            runner = JobRunner(
                queue,
                TracedExecutor(pool, tracing.tracer),
                config=WorkerConfig(url),
                handlers=TEST_HANDLERS,
                concurrency=1,
                heartbeat_s=0.2,
                stale_after_s=1.0,
                poll_s=0.05,
            )
            await runner.start()
            try:
                jobs = await settle(queue, [echo, flaky], timeout_s=60)
            finally:
                await runner.stop(grace_s=0)
                await db.dispose()
        assert [job.status for job in jobs] == [JobStatus.SUCCEEDED, JobStatus.SUCCEEDED]

    asyncio.run(main())
    (echo_span,) = receiver.named("job echo")
    assert echo_span.attributes["spacecomputer.job.kind"] == "echo"
    assert echo_span.attributes["spacecomputer.job.status"] == "succeeded"
    assert echo_span.attributes["spacecomputer.job.attempt"] == 1
    assert echo_span.parent_span_id == b""  # a trace of its own
    failed, retried = sorted(receiver.named("job sleep"), key=lambda span: span.attributes["spacecomputer.job.attempt"])
    assert failed.attributes["spacecomputer.job.id"] == retried.attributes["spacecomputer.job.id"]
    assert (failed.attributes["spacecomputer.job.status"], failed.status_code) == ("failed", STATUS_ERROR)
    assert failed.attributes["error.type"] == "internal_error"
    assert (retried.attributes["spacecomputer.job.attempt"], retried.attributes["spacecomputer.job.status"]) == (
        2,
        "succeeded",
    )
