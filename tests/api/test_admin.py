"""Admin routes: refused to users (403) and strangers (401); statistics, job queue and recent errors for admins."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from spacecomputer.storage import ErrorEvent, Job, JobStatus, Video, VideoStatus
from tests.api.conftest import Api, api_settings, running_api

pytestmark = pytest.mark.anyio

ADMIN_ROUTES = ("/api/v1/admin/stats", "/api/v1/admin/jobs", "/api/v1/admin/errors")


@pytest.mark.parametrize("route", ADMIN_ROUTES)
async def test_admin_routes_are_forbidden_to_users_and_need_a_credential(api: Api, route: str) -> None:
    user = await api.new_user()
    forbidden = await api.client.get(route, headers=user.headers)
    assert forbidden.status_code == 403
    assert forbidden.json()["error"]["details"]["permission"] == "admin.manage"
    assert (await api.client.get(route)).status_code == 401


async def test_stats_count_users_videos_and_jobs(api: Api) -> None:
    admin = await api.new_user(role="admin")
    before = (await api.client.get("/api/v1/admin/stats", headers=admin.headers)).json()
    owner = await api.new_user()
    async with api.platform.database.session() as session, session.begin():
        session.add(
            Video(
                owner_id=owner.id,
                filename="a.mp4",
                storage_key=f"users/{owner.id}/videos/a",
                total_size_bytes=1000,
                chunk_size_bytes=1000,
                status=VideoStatus.READY,
                size_bytes=1000,
            )
        )
        session.add(Job(kind="analysis", owner_id=owner.id, status=JobStatus.FAILED))
    after = (await api.client.get("/api/v1/admin/stats", headers=admin.headers)).json()
    assert after["users"]["total"] == before["users"]["total"] + 1
    assert after["users"]["by_status"]["user"] == before["users"]["by_status"].get("user", 0) + 1
    assert after["videos"]["by_status"]["ready"] == before["videos"]["by_status"].get("ready", 0) + 1
    assert after["video_bytes"] == before["video_bytes"] + 1000
    assert after["jobs"]["by_status"]["failed"] == before["jobs"]["by_status"].get("failed", 0) + 1
    assert after["users_by_plan"]["free"] >= 2


async def test_the_job_queue_lists_newest_first_and_filters_by_status(api: Api) -> None:
    admin = await api.new_user(role="admin")
    kind = f"test-{admin.id.hex[:8]}"
    async with api.platform.database.session() as session, session.begin():
        for status in (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.QUEUED):
            session.add(Job(kind=kind, status=status))
    queued = await api.client.get(
        "/api/v1/admin/jobs", params={"status": "queued", "limit": 500}, headers=admin.headers
    )
    assert queued.status_code == 200
    mine = [job for job in queued.json()["items"] if job["kind"] == kind]
    assert len(mine) == 2
    assert all(job["status"] == "queued" for job in mine)
    created = [job["created_at"] for job in queued.json()["items"]]
    assert created == sorted(created, reverse=True)
    page = await api.client.get("/api/v1/admin/jobs", params={"limit": 1}, headers=admin.headers)
    assert len(page.json()["items"]) == 1
    assert page.json()["total"] >= 3
    bad = await api.client.get("/api/v1/admin/jobs", params={"status": "exploded"}, headers=admin.headers)
    assert bad.status_code == 422


def _add_failing_route(app: FastAPI) -> None:
    async def explode() -> None:
        raise RuntimeError("the disk caught fire")

    app.add_api_route("/api/v1/explode", explode, methods=["GET"])


async def test_an_unexpected_error_is_a_500_in_the_error_shape_and_an_error_event(backends: dict[str, object]) -> None:
    async with running_api(api_settings(backends)) as api:
        _add_failing_route(api.app)
        request_id = f"explode-{uuid.uuid4().hex}"
        user = await api.new_user()
        response = await api.client.get("/api/v1/explode", headers={**user.headers, "X-Request-ID": request_id})
        assert response.status_code == 500
        assert response.json() == {
            "error": {
                "code": "internal_error",
                "message": "internal server error",
                "details": {},
                "request_id": request_id,
            }
        }
        assert "disk" not in response.text
        assert response.headers["x-request-id"] == request_id
        async with api.platform.database.session() as session:
            event = await session.scalar(sa.select(ErrorEvent).where(ErrorEvent.request_id == request_id))
        assert event is not None
        assert (event.user_id, event.path, event.status_code) == (user.id, "/api/v1/explode", 500)
        assert "the disk caught fire" in event.message
        assert "RuntimeError" in event.details["traceback"]

        admin = await api.new_user(role="admin")
        errors = await api.client.get("/api/v1/admin/errors", params={"limit": 5}, headers=admin.headers)
        assert errors.status_code == 200
        assert errors.json()[0]["request_id"] == request_id
