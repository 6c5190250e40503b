"""``spacecomputer serve``: the demo account and its sample analysis on a development platform, and the real
server answering over TCP, then stopping on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from hashlib import sha256
from pathlib import Path
from typing import Any

import httpx
import pytest

from spacecomputer._cli_serve import DEMO_EMAIL, SAMPLE_OPTIONS, SAMPLE_VIDEO, ensure_demo_user, seed_demo_library
from spacecomputer.athletes import AthleteLibrary, bundled_library_dir
from spacecomputer.errors import InvalidInputError
from spacecomputer.storage import Analysis, Job, Video
from tests.api.conftest import api_settings, running_api
from tests.api.test_analyses import short_clip, tiny_run
from tests.storage.conftest import _free_ports

__all__ = ["short_clip", "tiny_run"]  # the session fixtures of test_analyses, used here

SERVE_TIMEOUT_S = 60.0


@pytest.mark.anyio
async def test_the_demo_account_is_created_then_its_password_reset(backends: dict[str, Any]) -> None:
    settings = api_settings(backends)
    first = await ensure_demo_user(settings)
    second = await ensure_demo_user(settings, password="Chosen word 42")
    assert first != second
    async with running_api(settings) as api:
        refused = await api.client.post("/api/v1/users/login", data={"username": DEMO_EMAIL, "password": first})
        assert refused.status_code == 401
        tokens = await api.login(DEMO_EMAIL, "Chosen word 42")
        me = await api.client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
        assert (me.json()["email"], me.json()["role"]) == (DEMO_EMAIL, "user")
    with pytest.raises(InvalidInputError):
        await ensure_demo_user(settings, password="short")


@pytest.mark.anyio
async def test_the_sample_is_seeded_once_as_a_queued_job_or_an_imported_run(
    backends: dict[str, Any], tiny_run: Path
) -> None:
    settings = api_settings(backends, run_jobs_in_api=False)
    password = await ensure_demo_user(settings)
    queued = await seed_demo_library(settings)
    again = await seed_demo_library(settings, seed_run=tiny_run)
    assert (queued.action, again.action) == ("queued", "present")
    assert (again.video_id, again.analysis_id) == (queued.video_id, queued.analysis_id)
    sample = SAMPLE_VIDEO.read_bytes()
    async with running_api(settings) as api:
        async with api.platform.database.session() as session:
            video = await session.get(Video, queued.video_id)
            analysis = await session.get(Analysis, queued.analysis_id)
            assert video is not None
            assert analysis is not None
            job = await session.get(Job, analysis.job_id)
        assert (video.filename, video.sha256, video.status) == (SAMPLE_VIDEO.name, sha256(sample).hexdigest(), "ready")
        assert await api.platform.blobs.read_bytes(video.storage_key) == sample
        assert job is not None
        assert (job.kind, job.payload["video_key"], job.payload["options"]) == (
            "analysis",
            video.storage_key,
            SAMPLE_OPTIONS,
        )
        tokens = await api.login(DEMO_EMAIL, password)
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        deleted = await api.client.delete(f"/api/v1/analyses/{queued.analysis_id}", headers=headers)
        assert deleted.status_code == 204  # and its queued job: no other test's runner will find it
    imported = await seed_demo_library(settings, seed_run=tiny_run)
    assert (imported.action, imported.video_id) == ("imported", queued.video_id)  # the video is stored once
    async with running_api(settings) as api:
        tokens = await api.login(DEMO_EMAIL, password)
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        listed = (await api.client.get("/api/v1/analyses", headers=headers)).json()
        assert [(item["id"], item["status"]) for item in listed["items"]] == [(str(imported.analysis_id), "succeeded")]


def test_serve_seeds_the_sample_prints_the_demo_login_and_stops_on_ctrl_c(tmp_path: Path, tiny_run: Path) -> None:
    port = _free_ports(1)[0]
    env = {name: value for name, value in os.environ.items() if not name.startswith("SPACECOMPUTER_")}
    env |= {
        "PYTHONUNBUFFERED": "1",
        "SPACECOMPUTER_ENVIRONMENT": "development",
        "SPACECOMPUTER_LIBRARY_DIR": str(tmp_path),
        "SPACECOMPUTER_PASSWORD_HASH_MEMORY_KIB": "1024",
        "SPACECOMPUTER_PASSWORD_HASH_TIME_COST": "1",
    }
    script = "import typer; from spacecomputer._cli_serve import serve; typer.run(serve)"
    process = subprocess.Popen(
        [sys.executable, "-c", script, "--port", str(port), "--seed-run", str(tiny_run)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # a process group of its own, as a terminal's job: Ctrl-C reaches all of it
    )
    watchdog = threading.Timer(SERVE_TIMEOUT_S, process.kill)  # a hung server ends the reads below
    watchdog.start()
    try:
        assert process.stdout is not None
        printed = next((line for line in process.stdout if line.startswith("demo login:")), "")
        password = printed.removeprefix(f"demo login: {DEMO_EMAIL} / ").strip()
        assert password, printed
        assert " " not in password
        seeded = process.stdout.readline()  # printed with the login (a later read skips what this one buffered)
        assert seeded.startswith(f"sample analysis: imported from {tiny_run}"), seeded
        clips = len(AthleteLibrary([bundled_library_dir()]).ids())
        assert process.stdout.readline().startswith(f"elite library: {clips} reference clips")
        base_url = f"http://127.0.0.1:{port}"
        while True:
            assert process.poll() is None, "the server exited"
            try:
                if httpx.get(f"{base_url}/health", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        login = httpx.post(f"{base_url}/api/v1/users/login", data={"username": DEMO_EMAIL, "password": password})
        assert login.status_code == 200, login.text
        assert login.headers["x-request-id"]
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        listed = httpx.get(f"{base_url}/api/v1/analyses", headers=headers).json()
        assert [item["status"] for item in listed["items"]] == ["succeeded"]
        results = httpx.get(f"{base_url}/api/v1/analyses/{listed['items'][0]['id']}/results", headers=headers)
        assert results.json()["pose"]["frames"] == 40
        ready = httpx.get(f"{base_url}/ready", timeout=10.0).json()  # pings (so starts) a pool worker
        assert ready["checks"]["executor"]["status"] in ("ok", "degraded")
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C in the terminal: the server and its workers
        output = process.communicate(timeout=SERVE_TIMEOUT_S)[0]
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
        watchdog.cancel()
    assert process.returncode == 0, output
    assert "Traceback" not in output, output
    assert '"route": "/api/v1/users/login"' in output  # the JSON access log, with the route template
    assert (tmp_path / "platform.db").is_file()
