"""What every response carries: request ids, security headers, the error shape, CORS only for known origins,
rate limits by plan tier, body limits enforced on the bytes that arrive."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from spacecomputer.errors import (
    AuthenticationError,
    ConflictError,
    InvalidVideoError,
    NoAthleteDetectedError,
    NotFoundError,
    OutputError,
    PermissionDeniedError,
    RateLimitedError,
    SpaceComputerError,
    UnsupportedVideoError,
    UpstreamUnavailableError,
    VideoTooLargeError,
)
from tests.api.conftest import PASSWORD, Api, api_settings, running_api

pytestmark = pytest.mark.anyio


def _is_uuid4(text: str) -> bool:
    try:
        return uuid.UUID(text).version == 4
    except ValueError:
        return False


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/health", 200),
        ("GET", "/api/v1/users/me", 401),
        ("GET", "/api/v1/no-such-route", 404),
        ("DELETE", "/api/v1/users", 405),
        ("POST", "/api/v1/users", 422),
    ],
)
async def test_every_response_has_a_request_id_and_every_error_the_error_shape(
    api: Api, method: str, path: str, status: int
) -> None:
    response = await api.client.request(method, path, json={})
    assert response.status_code == status
    request_id = response.headers["x-request-id"]
    assert _is_uuid4(request_id)
    if status >= 400:
        error = response.json()["error"]
        assert set(error) == {"code", "message", "details", "request_id"}
        assert error["request_id"] == request_id


@pytest.mark.parametrize(
    ("sent", "kept"), [("trace-abc.123:x", True), ("x" * 65, False), ("bad id\n", False), ("<script>", False)]
)
async def test_a_sane_incoming_request_id_is_kept_and_others_replaced(api: Api, sent: str, kept: bool) -> None:
    response = await api.client.get("/api/v1/users/me", headers={"X-Request-ID": sent})
    assert (response.headers["x-request-id"] == sent) is kept
    assert response.json()["error"]["request_id"] == response.headers["x-request-id"]


async def test_security_headers_on_success_and_error(api: Api) -> None:
    for path in ("/health", "/api/v1/users/me"):
        headers = (await api.client.get(path)).headers
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["content-security-policy"].startswith("default-src 'none'")
        assert "strict-transport-security" not in headers  # plain HTTP, public URL http
    docs = await api.client.get("/docs")
    assert docs.status_code == 200
    assert "script-src" in docs.headers["content-security-policy"]


async def test_hsts_when_the_public_url_is_https(backends: dict[str, Any]) -> None:
    async with running_api(api_settings(backends, public_base_url="https://platform.example.com")) as api:
        response = await api.client.get("/health")
        assert response.headers["strict-transport-security"].startswith("max-age=")


async def test_cors_answers_only_configured_origins(backends: dict[str, Any]) -> None:
    allowed = "https://app.example.com"
    async with running_api(api_settings(backends, cors_origins=[allowed])) as api:
        preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
        ok = await api.client.options("/api/v1/users", headers={"Origin": allowed, **preflight})
        assert ok.status_code == 200
        assert ok.headers["access-control-allow-origin"] == allowed
        refused = await api.client.options("/api/v1/users", headers={"Origin": "https://evil.example", **preflight})
        assert refused.status_code == 400
        assert "access-control-allow-origin" not in refused.headers
        assert refused.json()["error"]["request_id"] == refused.headers["x-request-id"]
        simple = await api.client.get("/health", headers={"Origin": "https://evil.example"})
        assert simple.status_code == 200
        assert "access-control-allow-origin" not in simple.headers
        exposed = await api.client.get("/health", headers={"Origin": allowed})
        assert "x-request-id" in exposed.headers["access-control-expose-headers"].lower()


async def test_no_origin_is_allowed_by_default(api: Api) -> None:
    preflight = {"Origin": "https://app.example.com", "Access-Control-Request-Method": "GET"}
    response = await api.client.options("/api/v1/users/me", headers=preflight)
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


async def test_a_users_plan_sets_its_rate_limit_and_429_says_when_to_retry(api: Api) -> None:
    account = await api.new_user(plan="tiny")  # tests' tier: 3 a minute
    neighbour = await api.new_user()
    for remaining in (2, 1, 0):
        response = await api.client.get("/api/v1/users/me", headers=account.headers)
        assert response.status_code == 200
        assert (response.headers["x-ratelimit-limit"], response.headers["x-ratelimit-remaining"]) == (
            "3",
            str(remaining),
        )
    limited = await api.client.get("/api/v1/users/me", headers=account.headers)
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert limited.headers["x-ratelimit-remaining"] == "0"
    assert limited.json()["error"]["code"] == "rate_limited"
    assert limited.json()["error"]["request_id"] == limited.headers["x-request-id"]
    assert (await api.client.get("/api/v1/users/me", headers=neighbour.headers)).status_code == 200
    assert (await api.client.get("/metrics")).status_code == 200  # never limited
    assert "x-ratelimit-limit" not in (await api.client.get("/health")).headers


async def test_anonymous_callers_are_limited_per_ip(backends: dict[str, Any]) -> None:
    settings = api_settings(backends, plan_limits={"anonymous": "2/minute", "free": "100/minute"})
    async with running_api(settings, client_ip="203.0.113.7") as first:
        for _ in range(2):
            assert (await first.client.get("/api/v1/openapi.json")).status_code == 200
        assert (await first.client.get("/api/v1/openapi.json")).status_code == 429
        assert (await first.client.get("/ready")).status_code == 200  # health checks are never limited
        neighbour = httpx.ASGITransport(app=first.app, client=("203.0.113.8", 50000))
        async with httpx.AsyncClient(transport=neighbour, base_url="http://testserver") as other:
            assert (await other.get("/api/v1/openapi.json")).status_code == 200


async def _chunks(total_bytes: int) -> AsyncIterator[bytes]:
    for _ in range(total_bytes // 65536):
        yield b"x" * 65536


@pytest.mark.parametrize("declared", [True, False])
async def test_a_body_over_the_limit_is_413_counted_on_the_bytes(backends: dict[str, Any], declared: bool) -> None:
    async with running_api(api_settings(backends, max_request_body_bytes=100_000)) as api:
        if declared:
            response = await api.client.post(
                "/api/v1/users", content=b"x" * 200_000, headers={"content-type": "application/json"}
            )
        else:  # chunked, no Content-Length: the limit is counted as the bytes arrive
            response = await api.client.post(
                "/api/v1/users", content=_chunks(400_000), headers={"content-type": "application/json"}
            )
            assert "content-length" not in response.request.headers
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "request_too_large"
        ok = await api.client.post("/api/v1/users", json={"email": "fits@example.com", "password": PASSWORD})
        assert ok.status_code in (201, 409)


ERRORS_AND_STATUSES: list[tuple[SpaceComputerError, int, dict[str, str]]] = [
    (AuthenticationError("no", reason="expired"), 401, {"www-authenticate": 'Bearer error="invalid_token"'}),
    (PermissionDeniedError("no"), 403, {}),
    (NotFoundError("no"), 404, {}),
    (ConflictError("no"), 409, {}),
    (VideoTooLargeError("no"), 413, {}),
    (UnsupportedVideoError("no"), 415, {}),
    (InvalidVideoError("no"), 422, {}),
    (NoAthleteDetectedError("no"), 422, {}),
    (RateLimitedError("no", details={"retry_after_s": 7}), 429, {"retry-after": "7"}),
    (UpstreamUnavailableError("no"), 503, {"retry-after": "5"}),
]


async def test_each_error_class_has_its_status_in_one_place(backends: dict[str, Any]) -> None:
    async with running_api(api_settings(backends)) as api:
        errors = {type(error).__name__: error for error, _, _ in ERRORS_AND_STATUSES}

        async def fail(name: str) -> None:
            raise errors[name]

        api.app.add_api_route("/api/v1/fail/{name}", fail, methods=["GET"])
        for error, status, headers in ERRORS_AND_STATUSES:
            response = await api.client.get(f"/api/v1/fail/{type(error).__name__}")
            assert response.status_code == status, type(error).__name__
            assert response.json()["error"]["code"] == error.code
            assert headers.items() <= dict(response.headers).items()

        async def fail_inside() -> None:
            raise OutputError("cannot write /srv/private/run.json")

        api.app.add_api_route("/api/v1/fail-inside", fail_inside, methods=["GET"])
        hidden = await api.client.get("/api/v1/fail-inside")
        assert hidden.status_code == 500
        assert "/srv/private" not in hidden.text
