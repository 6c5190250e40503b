"""Accounts through the real app: register, me, preferences, deleting an account with every byte of its data."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from spacecomputer.api._platform import user_blob_prefix, user_cache_prefix
from spacecomputer.storage import ApiKey, Job, RefreshToken, User, Video
from tests.api.conftest import PASSWORD, Api

pytestmark = pytest.mark.anyio


async def test_register_answers_the_public_view_only(api: Api) -> None:
    response = await api.client.post("/api/v1/users", json={"email": "  Mixed.Case@Example.COM ", "password": PASSWORD})
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "email", "role", "plan", "totp_enabled", "created_at"}
    assert (body["email"], body["role"], body["plan"], body["totp_enabled"]) == (
        "mixed.case@example.com",
        "user",
        "free",
        False,
    )
    async with api.platform.database.session() as session:
        user = await session.get(User, uuid.UUID(body["id"]))
    assert user is not None
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


async def test_an_email_registers_once_whatever_its_case(api: Api) -> None:
    first = await api.register()
    response = await api.client.post(
        "/api/v1/users", json={"email": first["email"].upper(), "password": "Another pass 77"}
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


async def test_a_weak_password_is_refused_with_every_reason(api: Api) -> None:
    response = await api.client.post("/api/v1/users", json={"email": "weak@example.com", "password": "aaaa"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert set(error["details"]["reasons"]) >= {"too_short", "one_character_class", "too_few_distinct_characters"}


@pytest.mark.parametrize("email", ["", "no-at-sign", "two@@example.com", "spaces in@example.com", "a@nodot"])
async def test_a_malformed_email_is_refused(api: Api, email: str) -> None:
    response = await api.client.post("/api/v1/users", json={"email": email, "password": PASSWORD})
    assert response.status_code == 422
    assert response.json()["error"]["details"]["errors"][0]["loc"] == ["body", "email"]


@pytest.mark.parametrize(
    "extra", [{"role": "admin"}, {"plan": "enterprise"}, {"id": str(uuid.uuid4())}, {"owner_id": str(uuid.uuid4())}]
)
async def test_extra_fields_are_refused_not_ignored(api: Api, extra: dict[str, str]) -> None:
    email = f"escalate-{uuid.uuid4().hex[:8]}@example.com"
    response = await api.client.post("/api/v1/users", json={"email": email, "password": PASSWORD, **extra})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["details"]["errors"][0]["type"] == "extra_forbidden"
    assert PASSWORD not in response.text  # the rejected input is never echoed
    async with api.platform.database.session() as session:
        assert await session.scalar(sa.select(User).where(User.email == email)) is None


async def test_me_needs_a_credential_and_answers_the_account(api: Api) -> None:
    account = await api.new_user()
    assert (await api.client.get("/api/v1/users/me")).status_code == 401
    response = await api.client.get("/api/v1/users/me", headers=account.headers)
    assert response.status_code == 200
    assert response.json()["id"] == str(account.id)


async def test_preferences_merge_as_rfc7396_and_stay_small(api: Api) -> None:
    account = await api.new_user()
    url = "/api/v1/users/me/preferences"
    assert (await api.client.get(url, headers=account.headers)).json() == {}
    first = await api.client.patch(
        url, json={"units": "metric", "overlay": {"skeleton": True, "com": True}}, headers=account.headers
    )
    assert first.json() == {"units": "metric", "overlay": {"skeleton": True, "com": True}}
    second = await api.client.patch(url, json={"overlay": {"com": None}, "units": None}, headers=account.headers)
    assert second.json() == {"overlay": {"skeleton": True}}
    assert (await api.client.get(url, headers=account.headers)).json() == {"overlay": {"skeleton": True}}
    too_big = await api.client.patch(url, json={"notes": "x" * 20_000}, headers=account.headers)
    assert too_big.status_code == 422
    assert too_big.json()["error"]["details"]["max_bytes"] == 16 * 1024
    not_an_object = await api.client.patch(url, json=["a", "list"], headers=account.headers)
    assert not_an_object.status_code == 422


async def test_deleting_an_account_removes_its_rows_blobs_and_cache_entries(api: Api) -> None:
    account, bystander = await api.new_user(), await api.new_user()
    platform = api.platform
    key = await api.client.post(
        "/api/v1/users/me/api-keys", json={"name": "ci", "scopes": ["video.upload"]}, headers=account.headers
    )
    assert key.status_code == 201
    async with platform.database.session() as session, session.begin():
        session.add(
            Video(
                owner_id=account.id,
                filename="a.mp4",
                storage_key=f"{user_blob_prefix(account.id)}videos/v1",
                total_size_bytes=3,
                chunk_size_bytes=3,
            )
        )
        session.add(Job(kind="analysis", owner_id=account.id))
    for name in ("videos/v1/original", "videos/v1.parts/00000000", "runs/r1/analysis.json"):
        await platform.blobs.put_bytes(f"{user_blob_prefix(account.id)}{name}", b"data")
    await platform.blobs.put_bytes(f"{user_blob_prefix(bystander.id)}videos/v2/original", b"theirs")
    await platform.cache.set(f"{user_cache_prefix(account.id)}metrics:1", {"cached": True})
    platform.documents.put(f"{user_cache_prefix(account.id)}analysis:1:results", "{}")
    platform.documents.put(f"{user_cache_prefix(bystander.id)}analysis:2:results", "{}")
    await api.client.get("/api/v1/users/me", headers=account.headers)  # caches the account's facts too

    response = await api.client.delete("/api/v1/users/me", headers=account.headers)

    assert response.status_code == 204
    async with platform.database.session() as session:
        for table, column in (
            (User, User.id),
            (RefreshToken, RefreshToken.user_id),
            (ApiKey, ApiKey.user_id),
            (Video, Video.owner_id),
            (Job, Job.owner_id),
        ):
            count = await session.scalar(sa.select(sa.func.count()).select_from(table).where(column == account.id))
            assert count == 0, table.__tablename__
    assert await platform.blobs.delete_prefix(user_blob_prefix(account.id)) == 0
    assert await platform.blobs.read_bytes(f"{user_blob_prefix(bystander.id)}videos/v2/original") == b"theirs"
    assert await platform.cache.get(f"{user_cache_prefix(account.id)}metrics:1") is None
    assert platform.documents.get(f"{user_cache_prefix(account.id)}analysis:1:results") is None
    assert platform.documents.get(f"{user_cache_prefix(bystander.id)}analysis:2:results") == "{}"
    after = await api.client.get("/api/v1/users/me", headers=account.headers)
    assert after.status_code == 401
    assert after.json()["error"]["details"]["reason"] == "unknown_user"
    refresh = await api.client.post("/api/v1/users/refresh", json={"refresh_token": account.tokens["refresh_token"]})
    assert refresh.status_code == 401
    assert (await api.client.get("/api/v1/users/me", headers=bystander.headers)).status_code == 200


async def test_an_api_key_cannot_delete_its_owner(api: Api) -> None:
    account = await api.new_user()
    created = await api.client.post(
        "/api/v1/users/me/api-keys", json={"name": "ci", "scopes": ["video.upload"]}, headers=account.headers
    )
    response = await api.client.delete("/api/v1/users/me", headers={"X-API-Key": created.json()["key"]})
    assert response.status_code == 403
    assert (await api.client.get("/api/v1/users/me", headers=account.headers)).status_code == 200
