"""``/analyses`` through the real app on both back-end sets, its jobs run on a real local process pool.

A short clip (frames 45–84 of the sample) is stored as a ready video directly through storage, analysed by the
app's runner on one warm worker process (shared by the tests of this module), and every output downloaded.
Tests that need a finished run but not the job import :func:`tiny_run` (the same clip analysed once per session)
as a succeeded analysis.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from pydantic import ValidationError

from spacecomputer.api import create_app
from spacecomputer.api._analyses import import_run, video_blob_key
from spacecomputer.api._downloads import RangeNotSatisfiableError, parse_range
from spacecomputer.api._platform import analysis_blob_prefix
from spacecomputer.api._runs import RUN_FILES, analysis_cache_prefix
from spacecomputer.config import Settings
from spacecomputer.jobs import Executor, LocalProcessExecutor
from spacecomputer.pipeline import AnalyzeOptions, analyze_video
from spacecomputer.storage import Job, Video, VideoStatus
from tests.api.conftest import Account, Api, _forget_redis_keys, api_settings
from tests.videos import HOSTILE_BUILDERS, sample_frames, write_rgb_frames

pytestmark = pytest.mark.anyio
JOB_TIMEOUT_S = 120.0


@pytest.fixture(scope="session")
def short_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Frames 45–84 of the sample video (the athlete in view throughout); made once per session (shared path)."""
    path = tmp_path_factory.getbasetemp() / "api-short-clip.mp4"
    if not path.is_file():
        staged = path.with_suffix(".partial.mp4")
        write_rgb_frames(staged, sample_frames(85)[45:])
        staged.rename(path)
    return path


@pytest.fixture(scope="session")
def tiny_run(short_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``spacecomputer analyze``'s run folder of the short clip at 1.65 m (made once per session, shared path)."""
    run = tmp_path_factory.getbasetemp() / "api-tiny-run"
    if not (run / "analysis.json").is_file():
        analyze_video(short_clip, AnalyzeOptions(height_m=1.65), out_dir=run)
    return run


@pytest.fixture(scope="module")
def pool() -> Iterator[LocalProcessExecutor]:
    """One worker process, kept warm across the tests and back ends (it loads the pose model once)."""
    executor = LocalProcessExecutor(1)
    yield executor
    executor.shutdown()


def job_settings(backends: dict[str, Any], **overrides: Any) -> Settings:
    """Test settings with the app running jobs, its heartbeats and polling quick."""
    values = {"run_jobs_in_api": True, "job_heartbeat_s": 0.5, "job_stale_after_s": 10.0, "job_poll_s": 0.05}
    return api_settings(backends, **(values | overrides))


@asynccontextmanager
async def running_app(settings: Settings, executor: Executor | None = None) -> AsyncIterator[Api]:
    """The app for ``settings`` (running jobs on ``executor`` when given), with a client; Redis keys removed after."""
    app = create_app(settings, executor=executor)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                yield Api(app=app, client=client)
    finally:
        _forget_redis_keys(settings)


async def store_video(api: Api, owner: Account, data: bytes, *, status: VideoStatus = VideoStatus.READY) -> uuid.UUID:
    """Store ``data`` as a video of ``owner`` directly through storage (what an upload leaves behind)."""
    video_id = uuid.uuid4()
    key = video_blob_key(owner.id, video_id)
    info = await api.platform.blobs.put_bytes(key, data)
    async with api.platform.database.session() as session, session.begin():
        session.add(
            Video(
                id=video_id,
                owner_id=owner.id,
                filename="my clip.mp4",
                storage_key=key,
                total_size_bytes=info.size_bytes,
                chunk_size_bytes=info.size_bytes,
                upload_offset_bytes=info.size_bytes,
                status=status,
                size_bytes=info.size_bytes,
                sha256=info.sha256,
            )
        )
    return video_id


async def imported(api: Api, owner: Account, run: Path) -> uuid.UUID:
    """Import ``run`` as a succeeded analysis of ``owner``; return its id."""
    return (await import_run(api.platform, owner.id, run, video_id=None)).id


async def wait_for(api: Api, owner: Account, analysis_id: uuid.UUID, *statuses: str) -> dict[str, Any]:
    """Poll the analysis until its status is one of ``statuses``; return it."""
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while True:
        response = await api.client.get(f"/api/v1/analyses/{analysis_id}", headers=owner.headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["status"] in statuses:
            return body
        assert time.monotonic() < deadline, f"analysis still {body['status']} after {JOB_TIMEOUT_S} s"
        await asyncio.sleep(0.1)


async def run_exists(api: Api, owner: Account, analysis_id: uuid.UUID) -> bool:
    prefix = analysis_blob_prefix(owner.id, analysis_id)
    return await api.platform.blobs.exists(prefix + "analysis.json")


def metric_value(text: str, name: str, **labels: str) -> float:
    """Return the value of one sample of the Prometheus exposition ``text`` (0 when absent)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    for line in text.splitlines():
        match = re.fullmatch(rf"{name}\{{(.*)\}} (\S+)", line)
        if match and ",".join(sorted(match.group(1).split(","))) == wanted:
            return float(match.group(2))
    return 0.0


@pytest.mark.slow
async def test_an_analysis_job_runs_and_every_output_downloads(
    backends: dict[str, Any], pool: LocalProcessExecutor, short_clip: Path
) -> None:
    async with running_app(job_settings(backends), pool) as api:
        owner = await api.new_user()
        video_id = await store_video(api, owner, short_clip.read_bytes())
        created = await api.client.post(
            "/api/v1/analyses", json={"video_id": str(video_id), "options": {"height_m": 1.65}}, headers=owner.headers
        )
        assert created.status_code == 202, created.text
        body = created.json()
        analysis_id = uuid.UUID(body["id"])
        assert (body["status"], body["progress"], body["options"]) == ("queued", 0.0, {"height_m": 1.65})
        assert created.headers["location"] == body["links"]["self"] == f"/api/v1/analyses/{analysis_id}"
        assert (await api.client.get(f"{body['links']['results']}", headers=owner.headers)).status_code == 409

        done = await wait_for(api, owner, analysis_id, "succeeded", "failed")
        assert done["status"] == "succeeded", done["error"]
        assert (done["progress"], done["summary"]["frames"]) == (1.0, 40)
        assert "run_key" not in done["summary"]  # where the blobs live stays the server's
        listed = await api.client.get("/api/v1/analyses", params={"status": "succeeded"}, headers=owner.headers)
        assert [item["id"] for item in listed.json()["items"]] == [str(analysis_id)]

        base = f"/api/v1/analyses/{analysis_id}"
        results = await api.client.get(f"{base}/results", headers=owner.headers)
        document = results.json()
        assert (document["pose"]["frames"], document["subject"]["height_m"]) == (40, 1.65)
        assert (await api.client.get(f"{base}/results", headers=owner.headers)).json() == document

        columns = (await api.client.get(f"{base}/metrics", headers=owner.headers)).json()
        assert columns["rows"] == 40
        assert set(document["biomechanics"]["series_columns"]) <= set(columns["columns"])
        assert all(len(values) == 40 for values in columns["columns"].values())
        csv = await api.client.get(f"{base}/metrics", headers=owner.headers | {"Accept": "text/csv"})
        assert csv.headers["content-type"].startswith("text/csv")
        assert csv.text.splitlines()[0].split(",") == list(columns["columns"])

        events = (await api.client.get(f"{base}/events", headers=owner.headers)).json()
        assert events["events"] == document["biomechanics"]["events"]
        assert events["movement"] == document["biomechanics"]["movement"]

        report = await api.client.get(f"{base}/report", headers=owner.headers)
        assert report.headers["content-type"].startswith("text/html")
        assert report.headers["content-security-policy"].startswith("sandbox")
        assert "<html" in report.text[:500].lower()

        overlay = await api.client.get(f"{base}/overlay", headers=owner.headers)
        size = len(overlay.content)
        assert (overlay.status_code, overlay.headers["accept-ranges"], overlay.content[4:8]) == (200, "bytes", b"ftyp")
        part = await api.client.get(f"{base}/overlay", headers=owner.headers | {"Range": "bytes=100-199"})
        assert (part.status_code, part.headers["content-range"]) == (206, f"bytes 100-199/{size}")
        assert part.content == overlay.content[100:200]
        past = await api.client.get(f"{base}/overlay", headers=owner.headers | {"Range": f"bytes={size}-"})
        assert (past.status_code, past.headers["content-range"]) == (416, f"bytes */{size}")
        assert past.json()["error"]["code"] == "range_not_satisfiable"

        poses = await api.client.get(f"{base}/artefacts/poses.parquet", headers=owner.headers)
        assert poses.content[:4] == b"PAR1"
        assert poses.headers["content-disposition"] == 'attachment; filename="poses.parquet"'
        unknown = await api.client.get(f"{base}/artefacts/platform.db", headers=owner.headers)
        assert unknown.status_code == 404
        assert unknown.json()["error"]["details"]["valid"] == list(RUN_FILES)

        deadline = time.monotonic() + 10.0
        while True:  # the job gauges and durations are refreshed every heartbeat
            exposition = (await api.client.get("/metrics")).text
            finished = metric_value(
                exposition, "spacecomputer_job_duration_seconds_count", kind="analysis", status="succeeded"
            )
            if finished == 1.0 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        assert finished == 1.0, exposition
        assert metric_value(exposition, "spacecomputer_jobs", status="succeeded") >= 1.0, exposition
        results_reads = {
            result: metric_value(
                exposition, "spacecomputer_cache_requests_total", cache="analysis_results", result=result
            )
            for result in ("miss", "hit")
        }
        assert results_reads == {"miss": 1.0, "hit": 2.0}  # the second read, and the events derived from it
        ready = (await api.client.get("/ready")).json()
        assert ready["checks"]["executor"] == ready["checks"]["executor"] | {"status": "ok", "required": False}


@pytest.mark.slow
async def test_a_truncated_video_fails_with_a_reason_and_the_worker_survives(
    backends: dict[str, Any], pool: LocalProcessExecutor, tmp_path: Path
) -> None:
    _, build, _ = HOSTILE_BUILDERS["truncated_half"]
    build(tmp_path / "half.mp4")
    async with running_app(job_settings(backends), pool) as api:
        owner = await api.new_user()
        video_id = await store_video(api, owner, (tmp_path / "half.mp4").read_bytes())
        created = await api.client.post("/api/v1/analyses", json={"video_id": str(video_id)}, headers=owner.headers)
        analysis_id = uuid.UUID(created.json()["id"])
        failed = await wait_for(api, owner, analysis_id, "succeeded", "failed")
        assert failed["status"] == "failed"
        assert failed["error"]["code"] == "invalid_video"
        assert failed["error"]["message"]
        results = await api.client.get(f"/api/v1/analyses/{analysis_id}/results", headers=owner.headers)
        assert (results.status_code, results.json()["error"]["details"]["status"]) == (409, "failed")
        ready = (await api.client.get("/ready")).json()
        assert ready["checks"]["executor"]["status"] == "ok"  # the worker process answers
        assert not await run_exists(api, owner, analysis_id)


@pytest.mark.slow
async def test_deleting_a_running_analysis_cancels_its_job_and_removes_it(
    backends: dict[str, Any], pool: LocalProcessExecutor, short_clip: Path
) -> None:
    async with running_app(job_settings(backends), pool) as api:
        owner = await api.new_user()
        video_id = await store_video(api, owner, short_clip.read_bytes())
        created = await api.client.post("/api/v1/analyses", json={"video_id": str(video_id)}, headers=owner.headers)
        analysis_id = uuid.UUID(created.json()["id"])
        while (await wait_for(api, owner, analysis_id, "running"))["progress"] == 0.0:
            await asyncio.sleep(0.05)  # running in the worker, past the download
        async with api.platform.database.session() as session:
            job_id = await session.scalar(sa.select(Job.id).where(Job.owner_id == owner.id))
        deleted = await api.client.delete(f"/api/v1/analyses/{analysis_id}", headers=owner.headers)
        assert deleted.status_code == 204
        async with api.platform.database.session() as session:
            assert await session.get(Job, job_id) is None
        deadline = time.monotonic() + 10.0
        while api.app.state.jobs.runner.in_flight and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert api.app.state.jobs.runner.in_flight == []  # the worker stopped the run and is free again
        assert (await api.client.get(f"/api/v1/analyses/{analysis_id}", headers=owner.headers)).status_code == 404
        assert await api.platform.blobs.delete_prefix(analysis_blob_prefix(owner.id, analysis_id)) == 0


async def test_another_users_analysis_is_404_everywhere(backends: dict[str, Any], tiny_run: Path) -> None:
    async with running_app(api_settings(backends, run_jobs_in_api=False)) as api:
        owner, other = await api.new_user(), await api.new_user()
        analysis_id = await imported(api, owner, tiny_run)
        base = f"/api/v1/analyses/{analysis_id}"
        for path in ("", "/results", "/metrics", "/events", "/report", "/overlay", "/artefacts/analysis.json"):
            mine = await api.client.get(base + path, headers=owner.headers)
            theirs = await api.client.get(base + path, headers=other.headers)
            assert (mine.status_code, theirs.status_code) == (200, 404), path
            assert theirs.json()["error"]["code"] == "not_found"
        assert (await api.client.delete(base, headers=other.headers)).status_code == 404
        assert (await api.client.get("/api/v1/analyses", headers=other.headers)).json()["total"] == 0
        assert await run_exists(api, owner, analysis_id)
        assert (await api.client.get(base)).status_code == 401


async def test_deleting_an_analysis_removes_its_files_rows_and_cached_reads(
    backends: dict[str, Any], tiny_run: Path
) -> None:
    async with running_app(api_settings(backends, run_jobs_in_api=False)) as api:
        owner = await api.new_user()
        analysis_id = await imported(api, owner, tiny_run)
        base = f"/api/v1/analyses/{analysis_id}"
        for path in ("/results", "/metrics", "/events"):
            assert (await api.client.get(base + path, headers=owner.headers)).status_code == 200
        cached = analysis_cache_prefix(owner.id, analysis_id)
        assert json.loads(await api.platform.cache.get(cached + "results"))["pose"]["frames"] == 40
        assert await api.platform.cache.get(cached + "succeeded") is True  # reads now skip the analysis row
        assert api.platform.documents.get(cached + "metrics_json") is not None
        assert (await api.client.delete(base, headers=owner.headers)).status_code == 204
        assert await api.platform.cache.get(cached + "results") is None
        assert await api.platform.cache.get(cached + "metrics_json") is None
        assert await api.platform.cache.get(cached + "succeeded") is None
        assert api.platform.documents.drop_prefix(cached) == 0  # this process's copies went with them
        assert not await run_exists(api, owner, analysis_id)
        assert (await api.client.get(base + "/results", headers=owner.headers)).status_code == 404


BAD_OPTIONS = [
    ({"height_m": 175}, "did you mean 1.75 m"),
    ({"mass_kg": 7000}, "mass must be in kilograms"),
    ({"sex": "robot"}, "sex must be one of"),
    ({"workers": 8}, "options.workers"),
    ({"height_m": "tall"}, "options.height_m"),
]


async def test_options_the_pipeline_refuses_are_422_and_queue_nothing(
    backends: dict[str, Any], short_clip: Path
) -> None:
    async with running_app(api_settings(backends, run_jobs_in_api=False)) as api:
        owner = await api.new_user()
        video_id = await store_video(api, owner, short_clip.read_bytes())
        for options, message in BAD_OPTIONS:
            answer = await api.client.post(
                "/api/v1/analyses", json={"video_id": str(video_id), "options": options}, headers=owner.headers
            )
            assert answer.status_code == 422, options
            assert message in answer.json()["error"]["message"]
        async with api.platform.database.session() as session:
            assert await session.scalar(sa.select(sa.func.count()).where(Job.owner_id == owner.id)) == 0


async def test_only_my_ready_videos_can_be_analysed(backends: dict[str, Any], short_clip: Path) -> None:
    async with running_app(api_settings(backends, run_jobs_in_api=False)) as api:
        owner, other = await api.new_user(), await api.new_user()
        uploading = await store_video(api, owner, b"\x00" * 16, status=VideoStatus.UPLOADING)
        ready = await store_video(api, owner, short_clip.read_bytes())
        refused = await api.client.post("/api/v1/analyses", json={"video_id": str(uploading)}, headers=owner.headers)
        assert (refused.status_code, refused.json()["error"]["details"]["status"]) == (409, "uploading")
        theirs = await api.client.post("/api/v1/analyses", json={"video_id": str(ready)}, headers=other.headers)
        assert theirs.status_code == 404
        smuggled = await api.client.post(
            "/api/v1/analyses", json={"video_id": str(ready), "owner_id": str(other.id)}, headers=other.headers
        )
        assert smuggled.status_code == 422


@pytest.mark.parametrize(
    ("header", "size", "span"),
    [
        (None, 10, None),
        ("bytes=0-0", 10, (0, 1)),
        ("bytes=2-", 10, (2, 10)),
        ("bytes=-3", 10, (7, 10)),
        ("bytes=-30", 10, (0, 10)),
        ("bytes=5-99", 10, (5, 10)),
        ("items=0-1", 10, None),
        ("bytes=0-1, 4-5", 10, None),
    ],
)
def test_byte_ranges_are_read_as_rfc_9110_says(header: str | None, size: int, span: tuple[int, int] | None) -> None:
    assert parse_range(header, size) == span


@pytest.mark.parametrize(
    ("header", "size"), [("bytes=10-", 10), ("bytes=-0", 10), ("bytes=5-2", 10), ("bytes=x-y", 10), ("bytes=0-", 0)]
)
def test_unsatisfiable_or_malformed_byte_ranges_are_refused(header: str, size: int) -> None:
    with pytest.raises(RangeNotSatisfiableError):
        parse_range(header, size)


def test_job_settings_refuse_a_staleness_shorter_than_two_heartbeats() -> None:
    with pytest.raises(ValidationError, match="job_stale_after_s"):
        Settings(environment="test", jwt_secret="s" * 48, job_heartbeat_s=5.0, job_stale_after_s=9.0)
    settings = Settings(environment="test", jwt_secret="s" * 48, executor="ray", ray_address="ray://head:10001")
    assert (settings.executor, settings.run_jobs_in_api, settings.job_workers) == ("ray", True, 1)
