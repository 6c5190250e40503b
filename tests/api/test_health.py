"""``/health``, ``/ready`` (ok, degraded without Redis, down without the blob store) and ``/metrics``."""

from __future__ import annotations

from typing import Any

import pytest

from spacecomputer import __version__
from tests.api.conftest import PASSWORD, Api, api_settings, running_api
from tests.storage.conftest import _free_ports

pytestmark = pytest.mark.anyio


async def test_health_answers_while_the_process_lives(api: Api) -> None:
    response = await api.client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": __version__}


async def test_ready_names_each_dependency(api: Api) -> None:
    response = await api.client.get("/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "blobs", "cache"}
    assert all(check["status"] == "ok" and check["error"] is None for check in body["checks"].values())
    assert body["checks"]["database"]["required"] is True


async def test_without_redis_ready_says_degraded_and_the_api_still_serves(backends: dict[str, Any]) -> None:
    closed_port = _free_ports(1)[0]
    settings = api_settings(backends, redis_url=f"redis://127.0.0.1:{closed_port}/0")
    async with running_api(settings) as api:
        response = await api.client.get("/ready")
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "degraded"
        assert body["checks"]["cache"]["status"] == "degraded"
        assert body["checks"]["cache"]["required"] is False
        assert "Redis" in body["checks"]["cache"]["error"]
        assert body["checks"]["database"]["status"] == "ok"
        # Rate limits count in the process, account facts come from the database: no 500s.
        email = (await api.register())["email"]
        tokens = await api.login(email, PASSWORD)
        me = await api.client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
        assert me.status_code == 200
        assert "x-ratelimit-limit" in me.headers


async def test_without_the_blob_store_ready_is_503_and_says_which(backends: dict[str, Any]) -> None:
    closed_port = _free_ports(1)[0]
    settings = api_settings(
        backends,
        blob_backend="s3",
        s3_bucket="absent-bucket",
        s3_endpoint_url=f"http://127.0.0.1:{closed_port}",
        s3_access_key_id="nobody",
        s3_secret_access_key="nothing",
    )
    async with running_api(settings) as api:
        response = await api.client.get("/ready")
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "down"
        assert body["checks"]["blobs"]["status"] == "down"
        assert body["checks"]["blobs"]["required"] is True
        assert body["checks"]["database"]["status"] == "ok"
        assert (await api.client.get("/health")).status_code == 200


async def test_metrics_expose_latency_by_route_template(api: Api) -> None:
    account = await api.new_user()
    key = await api.client.post(
        "/api/v1/users/me/api-keys", json={"name": "m", "scopes": ["ai.query"]}, headers=account.headers
    )
    await api.client.get(f"/api/v1/users/me/api-keys/{key.json()['id']}", headers=account.headers)
    await api.client.get("/api/v1/definitely/not/here")
    response = await api.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert (
        'spacecomputer_http_request_duration_seconds_count{method="GET",'
        'route="/api/v1/users/me/api-keys/{key_id}",status="200"} 1.0'
    ) in text
    assert 'route="<unmatched>",status="404"' in text
    assert key.json()["id"] not in text
