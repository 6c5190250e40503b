"""The real app, on two back-end sets, driven through httpx's ASGI transport with its lifespan run.

``embedded``: SQLite file, local blob folder, in-process cache and rate limits (no settings).
``infrastructure``: PostgreSQL (a schema of its own for the session), the SeaweedFS S3 server and Redis, reached
with the helpers of ``tests/storage/conftest.py``.

Every test gets a fresh app (its own rate-limit counters and Redis key prefix); the database lives for the
session, so tests use e-mail addresses of their own and compare counts before and after.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import sqlalchemy as sa
from fastapi import FastAPI

from spacecomputer.api import create_app
from spacecomputer.api._platform import Platform
from spacecomputer.config import Settings
from spacecomputer.storage import User
from tests.storage.conftest import S3Server, fresh_backend, redis_url, s3_server

__all__ = ["redis_url", "s3_server"]  # the storage tests' session fixtures, used here through `backends`

JWT_SECRET = secrets.token_urlsafe(48)
PASSWORD = "Correct horse 9 battery"
TEST_PLAN_LIMITS = {"anonymous": "1000/minute", "free": "1000/minute", "tiny": "3/minute"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session", params=["embedded", "infrastructure"])
def backends(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Settings naming one back-end set (module docstring)."""
    folder = tmp_path_factory.mktemp(f"api-{request.param}")
    if request.param == "embedded":
        yield {"library_dir": folder}
        return
    s3: S3Server = request.getfixturevalue("s3_server")
    redis_server: str = request.getfixturevalue("redis_url")
    with fresh_backend("postgresql", folder) as backend:
        url = sa.make_url(backend.url).update_query_dict({"options": backend.connect_args["options"]})
        yield {
            "library_dir": folder,
            "database_url": url.render_as_string(hide_password=False),
            "redis_url": redis_server,
            "blob_backend": "s3",
            "s3_bucket": s3.bucket,
            "s3_endpoint_url": s3.endpoint_url,
            "s3_access_key_id": s3.access_key_id,
            "s3_secret_access_key": s3.secret_access_key,
        }


def api_settings(backends: dict[str, Any], **overrides: Any) -> Settings:
    """Test settings on ``backends``: a real secret, cheap hashing, generous limits but a ``tiny`` tier."""
    values: dict[str, Any] = {
        "environment": "test",
        "jwt_secret": JWT_SECRET,
        "password_hash_time_cost": 1,
        "password_hash_memory_kib": 1024,
        "plan_limits": TEST_PLAN_LIMITS,
        "redis_prefix": f"api-test-{secrets.token_hex(6)}:",
        # Only the tests of jobs start a runner (they say so); the others need no worker polling the database.
        "run_jobs_in_api": False,
    }
    return Settings(**(values | backends | overrides))


@dataclass
class Api:
    """A running app and a client for it, with helpers for the usual set-up steps."""

    app: FastAPI
    client: httpx.AsyncClient

    @property
    def platform(self) -> Platform:
        platform: Platform = self.app.state.platform
        return platform

    async def register(self, email: str | None = None, password: str = PASSWORD) -> dict[str, Any]:
        email = email or f"user-{uuid.uuid4().hex[:12]}@example.com"
        response = await self.client.post("/api/v1/users", json={"email": email, "password": password})
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def login(self, email: str, password: str = PASSWORD, **form: str) -> dict[str, Any]:
        response = await self.client.post("/api/v1/users/login", data={"username": email, "password": password, **form})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def set_account(self, email: str, **values: Any) -> None:
        """Change an account's columns directly (role, plan): what an operator would do in the database."""
        async with self.platform.database.session() as session, session.begin():
            await session.execute(sa.update(User).where(User.email == email).values(**values))

    async def new_user(self, **account: Any) -> Account:
        """Register, optionally set columns (``role="admin"``), log in; return the account and its tokens."""
        public = await self.register()
        if account:
            await self.set_account(public["email"], **account)
        tokens = await self.login(public["email"])
        return Account(id=uuid.UUID(public["id"]), email=public["email"], tokens=tokens)


@dataclass
class Account:
    id: uuid.UUID
    email: str
    tokens: dict[str, Any]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens['access_token']}"}


def _forget_redis_keys(settings: Settings) -> None:
    if settings.redis_url is None:
        return
    client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=2)
    try:
        names = list(client.scan_iter(match=f"{settings.redis_prefix}*", count=500))
        if names:
            client.unlink(*names)
    except redis.exceptions.ConnectionError:
        pass  # the test pointed Redis at a closed port: nothing was written
    finally:
        client.close()


@asynccontextmanager
async def running_api(settings: Settings, *, client_ip: str = "127.0.0.1") -> AsyncIterator[Api]:
    """Build the app for ``settings``, run its lifespan, yield it with a client; remove its Redis keys after."""
    app = create_app(settings)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, client=(client_ip, 50000))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                yield Api(app=app, client=client)
    finally:
        _forget_redis_keys(settings)


@pytest.fixture
async def api(backends: dict[str, Any]) -> AsyncIterator[Api]:
    """The app with the test settings on each back-end set."""
    async with running_api(api_settings(backends)) as running:
        yield running


@pytest.fixture
def blobs_dir(backends: dict[str, Any]) -> Path:
    return Path(backends["library_dir"]) / "blobs"
