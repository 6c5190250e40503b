"""Faults on the infrastructure set (PostgreSQL, SeaweedFS, Redis): a back end stopped mid-run, the API restarted.

- Redis stopped: a Redis server of the test's own (``redis-server`` on a free port) is killed while the app
  serves. Every request is still answered: cached analysis reads go to the blob store, rate limits count in the
  process (and still refuse), ``/ready`` names the cache ``degraded`` with a 200; restarted, Redis is used again.
- The S3 server stopped: a SeaweedFS of the test's own (the storage tests' launcher) is killed. Requests that
  need a blob answer 503 with the error shape and ``Retry-After``, ``/ready`` names ``blobs`` down (503), and
  the rest — accounts, listings, metadata, a read already cached — keep working.
- The API restarted with a job in flight: an app running jobs is stopped (its lifespan exits) while an analysis
  of the short clip runs; a new app on the same database finishes it: once, on one attempt, and it succeeds.

No answer in any of them may be a 500.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import shutil
import signal
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import sqlalchemy as sa

from spacecomputer.api._analyses import import_video
from spacecomputer.jobs import JobQueue
from spacecomputer.storage import Analysis, Database, Job, JobStatus
from tests.api.conftest import Account, Api, api_settings, running_api
from tests.api.test_analyses import (
    imported,
    job_settings,
    metric_value,
    short_clip,
    store_video,
    tiny_run,
    wait_for,
)
from tests.storage import conftest as storage_fixtures
from tests.storage.conftest import S3Server, _free_ports, unavailable

__all__ = ["short_clip", "tiny_run"]  # session fixtures of the analysis tests, used here by name

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("backends", ["infrastructure"], indirect=True)]

# The storage tests' SeaweedFS launcher (a session fixture) as a context manager: a server of this test's own,
# killed (SIGKILL, as the fixture does) when the context closes.
private_seaweedfs = contextmanager(inspect.unwrap(storage_fixtures.s3_server))
READY_WAIT_S = 15.0


@dataclass
class RedisProcess:
    """A ``redis-server`` of the test's own on ``port``, without persistence; it can be killed and started again."""

    binary: str
    port: int
    folder: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        log = (self.folder / "redis.log").open("ab")
        self.process = subprocess.Popen(command, cwd=self.folder, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 10.0
        try:
            while True:
                try:
                    client.ping()
                    return
                except redis.exceptions.ConnectionError:
                    assert self.process.poll() is None, (self.folder / "redis.log").read_text()[-2000:]
                    assert time.monotonic() < deadline, "redis-server did not answer within 10 s"
                    time.sleep(0.05)
        finally:
            client.close()

    def kill(self) -> None:
        """Kill the server outright (SIGKILL: no goodbye to its clients)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisProcess]:
    binary = shutil.which("redis-server")
    if binary is None:
        unavailable("`redis-server` is not installed: the Redis fault test needs a server of its own to kill")
        raise AssertionError  # unreachable: unavailable() fails or skips
    server = RedisProcess(binary, _free_ports(1)[0], tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.kill()


def s3_settings(s3: S3Server) -> dict[str, Any]:
    """Settings naming the S3 server ``s3``."""
    return {
        "s3_bucket": s3.bucket,
        "s3_endpoint_url": s3.endpoint_url,
        "s3_access_key_id": s3.access_key_id,
        "s3_secret_access_key": s3.secret_access_key,
    }


async def get_all(api: Api, paths: list[str], headers: dict[str, str]) -> list[httpx.Response]:
    """GET every path at once (a burst of concurrent requests)."""
    return list(await asyncio.gather(*(api.client.get(path, headers=headers) for path in paths)))


def statuses(answers: list[httpx.Response]) -> Counter[int]:
    return Counter(answer.status_code for answer in answers)


async def ready_when(api: Api, status: str) -> dict[str, Any]:
    """Poll ``/ready`` until its overall status is ``status``; return its body."""
    deadline = time.monotonic() + READY_WAIT_S
    while True:
        body: dict[str, Any] = (await api.client.get("/ready")).json()
        if body["status"] == status:
            return body
        assert time.monotonic() < deadline, f"/ready still says {body} after {READY_WAIT_S} s"
        await asyncio.sleep(0.1)


def assert_unavailable(answer: httpx.Response) -> None:
    """The 503 of a back end that does not answer: the error shape, its request id, a Retry-After."""
    assert answer.status_code == 503, (answer.request.url, answer.status_code, answer.text)
    error = answer.json()["error"]
    assert error["code"] == "upstream_unavailable", error
    assert error["request_id"] == answer.headers["x-request-id"]
    assert int(answer.headers["retry-after"]) > 0


async def test_redis_stopped_mid_run_degrades_the_cache_and_rate_limits_and_answers_everything(
    backends: dict[str, Any], own_redis: RedisProcess, tiny_run: Path
) -> None:
    async with running_api(api_settings(backends, redis_url=own_redis.url)) as api:
        owner = await api.new_user()
        analysis_id = await imported(api, owner, tiny_run)
        reads = [f"/api/v1/analyses/{analysis_id}/{what}" for what in ("results", "metrics", "events")]
        before = {answer.request.url.path: answer.content for answer in await get_all(api, reads, owner.headers)}
        assert (await api.client.get("/ready")).json()["checks"]["cache"]["status"] == "ok"

        own_redis.kill()
        others = ["/api/v1/users/me", f"/api/v1/analyses/{analysis_id}", "/api/v1/analyses", "/api/v1/videos"]
        answers = await get_all(api, (reads + others) * 5, owner.headers)
        assert statuses(answers) == {200: len(answers)}
        assert all(answer.content == before[answer.request.url.path] for answer in answers if answer.url.path in before)
        assert all("x-ratelimit-remaining" in answer.headers for answer in answers)
        ready = await api.client.get("/ready")
        checks = ready.json()["checks"]
        assert (ready.status_code, ready.json()["status"]) == (200, "degraded")
        assert checks["cache"] == checks["cache"] | {"status": "degraded", "required": False}
        assert checks["cache"]["error"].startswith("Redis is unavailable")
        assert {checks[name]["status"] for name in ("database", "blobs")} == {"ok"}

        limited = await api.new_user(plan="tiny")  # 3 requests a minute, counted in this process meanwhile
        tries = [await api.client.get("/api/v1/users/me", headers=limited.headers) for _ in range(4)]
        assert [answer.status_code for answer in tries] == [200, 200, 200, 429]
        assert int(tries[-1].headers["retry-after"]) > 0
        exposition = (await api.client.get("/metrics")).text
        # Each read asked the failing cache whether the analysis is the owner's, then the database; the documents
        # themselves came from this process's memo, which never needed Redis.
        errors = metric_value(
            exposition, "spacecomputer_cache_requests_total", cache="analysis_succeeded", result="error"
        )
        assert errors >= 15, exposition

        own_redis.start()
        await ready_when(api, "ok")
        hits = metric_value(exposition, "spacecomputer_cache_requests_total", cache="analysis_succeeded", result="hit")
        for _ in range(2):  # a miss that fills the new, empty Redis, then a hit
            assert (await api.client.get(reads[0], headers=owner.headers)).content == before[reads[0]]
        exposition = (await api.client.get("/metrics")).text
        assert (
            metric_value(exposition, "spacecomputer_cache_requests_total", cache="analysis_succeeded", result="hit")
            == hits + 1
        )


async def test_the_s3_server_stopped_mid_run_answers_503_where_blobs_are_needed_and_serves_the_rest(
    backends: dict[str, Any], tmp_path_factory: pytest.TempPathFactory, tiny_run: Path, short_clip: Path
) -> None:
    with ExitStack() as seaweedfs:
        s3 = seaweedfs.enter_context(private_seaweedfs(tmp_path_factory))
        async with running_api(api_settings(backends, **s3_settings(s3))) as api:
            owner = await api.new_user()
            read, unread = await imported(api, owner, tiny_run), await imported(api, owner, tiny_run)
            video_id = (await import_video(api.platform, owner.id, short_clip, filename="clip.mp4")).id
            cached = await api.client.get(f"/api/v1/analyses/{read}/results", headers=owner.headers)
            assert cached.status_code == 200
            assert (await api.client.get("/ready")).json()["status"] == "ok"

            seaweedfs.close()  # the S3 server is killed
            needs_blobs = [
                f"/api/v1/analyses/{unread}/results",
                f"/api/v1/analyses/{unread}/metrics",
                f"/api/v1/analyses/{unread}/events",
                f"/api/v1/analyses/{read}/report",
                f"/api/v1/analyses/{read}/overlay",
                f"/api/v1/analyses/{read}/artefacts/poses.parquet",
                f"/api/v1/videos/{video_id}/content",
            ]
            blob_free = [
                f"/api/v1/analyses/{read}/results",  # cached before the stop
                f"/api/v1/analyses/{unread}",
                "/api/v1/analyses",
                f"/api/v1/videos/{video_id}",
                "/api/v1/videos",
                "/api/v1/users/me",
                "/api/v1/athletes",
                "/health",
            ]
            failed, served = await asyncio.gather(
                get_all(api, needs_blobs, owner.headers), get_all(api, blob_free, owner.headers)
            )
            for answer in failed:
                assert_unavailable(answer)
            assert statuses(served) == {200: len(served)}, [(a.request.url.path, a.status_code) for a in served]
            assert served[0].content == cached.content

            upload = await new_upload(api, owner, short_clip)
            assert upload.status_code == 201  # the row needs no blob
            chunk = await api.client.put(
                f"/api/v1/videos/{upload.json()['id']}/chunks/0",
                content=short_clip.read_bytes(),
                headers=owner.headers | {"Content-SHA256": upload.json()["sha256"]},
            )
            assert_unavailable(chunk)
            deleted = await api.client.delete(f"/api/v1/analyses/{unread}", headers=owner.headers)
            assert_unavailable(deleted)  # and the analysis stays, to be deleted again later
            assert (await api.client.get(f"/api/v1/analyses/{unread}", headers=owner.headers)).status_code == 200

            ready = await api.client.get("/ready")
            checks = ready.json()["checks"]
            assert (ready.status_code, ready.json()["status"]) == (503, "down")
            assert checks["blobs"] == checks["blobs"] | {"status": "down", "required": True}
            assert {checks[name]["status"] for name in ("database", "cache")} == {"ok"}


async def new_upload(api: Api, owner: Account, video: Path) -> httpx.Response:
    """Start an upload of ``video`` in one chunk (its body declared, none of it sent)."""
    data = video.read_bytes()
    body = {"filename": video.name, "total_size_bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    return await api.client.post(
        "/api/v1/videos", json=body | {"chunk_size_bytes": max(len(data), 256 * 1024)}, headers=owner.headers
    )


@pytest.mark.slow
async def test_a_job_in_flight_when_the_api_restarts_completes_once_in_the_new_api(
    backends: dict[str, Any], short_clip: Path
) -> None:
    # No grace at shutdown: the run in flight is handed back to the queue at once (else it might just finish).
    settings = job_settings(backends, job_stop_grace_s=0.0)
    async with running_api(settings) as first:  # jobs run on its own pool, shut down with it
        owner = await first.new_user()
        video_id = await store_video(first, owner, short_clip.read_bytes())
        created = await first.client.post("/api/v1/analyses", json={"video_id": str(video_id)}, headers=owner.headers)
        assert created.status_code == 202, created.text
        analysis_id = uuid.UUID(created.json()["id"])
        while (await wait_for(first, owner, analysis_id, "running"))["progress"] == 0.0:
            await asyncio.sleep(0.05)  # running in the worker, past the download
        async with first.platform.database.session() as session:
            job_id = await session.scalar(sa.select(Analysis.job_id).where(Analysis.id == analysis_id))
        assert job_id is not None
    # The first API is gone: its runner handed the run back (the attempt refunded) and its pool was shut down.
    database = Database.from_url(settings.platform_database_url())
    try:
        handed_back = await JobQueue(database).get(job_id)
    finally:
        await database.dispose()
    assert (handed_back.status, handed_back.attempts, handed_back.worker_id) == (JobStatus.QUEUED, 0, None)

    async with running_api(job_settings(backends)) as second:
        done = await wait_for(second, owner, analysis_id, "succeeded", "failed")
        assert done["status"] == "succeeded", done["error"]
        assert (done["progress"], done["summary"]["frames"]) == (1.0, 40)
        job = await second.platform.jobs.get(job_id)
        runner = second.app.state.jobs.runner
        assert (job.status, job.attempts, job.worker_id) == (JobStatus.SUCCEEDED, 1, runner.worker_id)
        results = await second.client.get(f"/api/v1/analyses/{analysis_id}/results", headers=owner.headers)
        assert (results.status_code, results.json()["pose"]["frames"]) == (200, 40)

        # The first attempt's worker stops at its next progress report (its lease is gone) and records nothing.
        await asyncio.sleep(4 * settings.job_heartbeat_s)
        again = await second.platform.jobs.get(job_id)
        assert (again.status, again.attempts, again.finished_at) == (JobStatus.SUCCEEDED, 1, job.finished_at)
        async with second.platform.database.session() as session:
            jobs = await session.scalar(sa.select(sa.func.count()).where(Job.owner_id == owner.id))
            analyses = await session.scalar(sa.select(sa.func.count()).where(Analysis.owner_id == owner.id))
        assert (jobs, analyses) == (1, 1)
