"""API keys through the real app: shown once, scoped within the role, private to their owner, revocable."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from spacecomputer.storage import ApiKey
from tests.api.conftest import Api

pytestmark = pytest.mark.anyio

KEYS = "/api/v1/users/me/api-keys"


async def test_a_key_is_shown_once_stored_hashed_and_authenticates(api: Api) -> None:
    account = await api.new_user()
    created = await api.client.post(KEYS, json={"name": "ci", "scopes": ["video.upload"]}, headers=account.headers)
    assert created.status_code == 201
    body = created.json()
    assert body["key"].startswith(f"sc_{body['prefix']}_")
    assert body["scopes"] == ["video.upload"]
    listed = await api.client.get(KEYS, headers=account.headers)
    assert [key["id"] for key in listed.json()] == [body["id"]]
    assert "key" not in listed.json()[0]
    assert body["key"] not in listed.text
    async with api.platform.database.session() as session:
        row = await session.scalar(sa.select(ApiKey).where(ApiKey.id == uuid.UUID(body["id"])))
    assert row is not None
    assert body["key"] not in (row.key_hash, row.prefix)

    me = await api.client.get("/api/v1/users/me", headers={"X-API-Key": body["key"]})
    assert me.status_code == 200
    assert me.json()["id"] == str(account.id)


async def test_scopes_must_be_known_and_within_the_role(api: Api) -> None:
    account = await api.new_user()
    unknown = await api.client.post(KEYS, json={"name": "x", "scopes": ["video.delete"]}, headers=account.headers)
    assert unknown.status_code == 422
    beyond = await api.client.post(KEYS, json={"name": "x", "scopes": ["admin.manage"]}, headers=account.headers)
    assert beyond.status_code == 403
    empty = await api.client.post(KEYS, json={"name": "x", "scopes": []}, headers=account.headers)
    assert empty.status_code == 422
    extra = await api.client.post(
        KEYS, json={"name": "x", "scopes": ["ai.query"], "user_id": str(uuid.uuid4())}, headers=account.headers
    )
    assert extra.status_code == 422


async def test_another_users_key_is_404_to_read_and_to_revoke(api: Api) -> None:
    owner, intruder = await api.new_user(), await api.new_user()
    created = await api.client.post(KEYS, json={"name": "mine", "scopes": ["ai.query"]}, headers=owner.headers)
    key_id = created.json()["id"]
    for method in ("GET", "DELETE"):
        response = await api.client.request(method, f"{KEYS}/{key_id}", headers=intruder.headers)
        assert response.status_code == 404, method
        assert response.json()["error"]["code"] == "not_found"
    missing = await api.client.get(f"{KEYS}/{uuid.uuid4()}", headers=intruder.headers)
    assert missing.status_code == 404
    assert (await api.client.get(KEYS, headers=intruder.headers)).json() == []
    assert (await api.client.get(f"{KEYS}/{key_id}", headers=owner.headers)).json()["revoked_at"] is None


async def test_a_revoked_key_is_refused_from_the_next_request(api: Api) -> None:
    account = await api.new_user()
    created = (await api.client.post(KEYS, json={"name": "ci", "scopes": ["ai.query"]}, headers=account.headers)).json()
    assert (await api.client.get("/api/v1/users/me", headers={"X-API-Key": created["key"]})).status_code == 200
    revoked = await api.client.delete(f"{KEYS}/{created['id']}", headers=account.headers)
    assert revoked.status_code == 204
    refused = await api.client.get("/api/v1/users/me", headers={"X-API-Key": created["key"]})
    assert refused.status_code == 401
    assert refused.json()["error"]["details"]["reason"] == "api_key_revoked"
    listed = (await api.client.get(KEYS, headers=account.headers)).json()
    assert listed[0]["revoked_at"] is not None


async def test_keys_cannot_manage_keys_and_credentials_do_not_mix(api: Api) -> None:
    account = await api.new_user()
    key = (await api.client.post(KEYS, json={"name": "ci", "scopes": ["ai.query"]}, headers=account.headers)).json()
    by_key = await api.client.post(
        KEYS, json={"name": "more", "scopes": ["ai.query"]}, headers={"X-API-Key": key["key"]}
    )
    assert by_key.status_code == 403
    both = await api.client.get("/api/v1/users/me", headers={**account.headers, "X-API-Key": key["key"]})
    assert both.status_code == 401
    assert both.json()["error"]["details"]["reason"] == "ambiguous_credentials"
    tampered = key["key"][:-1] + ("A" if key["key"][-1] != "A" else "B")
    assert (await api.client.get("/api/v1/users/me", headers={"X-API-Key": tampered})).status_code == 401


async def test_a_key_carries_only_its_scopes(api: Api) -> None:
    admin = await api.new_user(role="admin")
    narrow = await api.client.post(KEYS, json={"name": "read", "scopes": ["ai.query"]}, headers=admin.headers)
    wide = await api.client.post(KEYS, json={"name": "ops", "scopes": ["admin.manage"]}, headers=admin.headers)
    assert (narrow.status_code, wide.status_code) == (201, 201)
    stats = "/api/v1/admin/stats"
    assert (await api.client.get(stats, headers={"X-API-Key": narrow.json()["key"]})).status_code == 403
    assert (await api.client.get(stats, headers={"X-API-Key": wide.json()["key"]})).status_code == 200
