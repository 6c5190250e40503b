from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import re
import secrets
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from spacecomputer.api.security import (
    AuthenticationError,
    RefreshTokenRecord,
    RefreshTokenStore,
    TokenService,
    hash_refresh_token,
    revoke_refresh_family,
)

USER = uuid.uuid4()
DAY_S = 86400.0


class MemoryRefreshStore:
    """Test double of the ``RefreshTokenStore`` persistence protocol (the API's is the database table).

    ``find`` reads, then yields to the event loop as a database round trip would, so two concurrent rotations
    can both read the token before either replaces it.
    """

    def __init__(self) -> None:
        self.records: dict[uuid.UUID, RefreshTokenRecord] = {}

    async def find(self, token_hash: str) -> RefreshTokenRecord | None:
        found = next((record for record in self.records.values() if record.token_hash == token_hash), None)
        await asyncio.sleep(0)
        return found

    async def add(self, record: RefreshTokenRecord) -> None:
        assert all(other.token_hash != record.token_hash for other in self.records.values())
        self.records[record.token_id] = record

    async def replace(self, token_id: uuid.UUID, *, successor_id: uuid.UUID, at: datetime) -> bool:
        record = self.records[token_id]
        if record.revoked_at is not None or record.replaced_by is not None:
            return False
        self.records[token_id] = dataclasses.replace(record, revoked_at=at, replaced_by=successor_id)
        return True

    async def revoke_family(self, family_id: uuid.UUID, *, at: datetime) -> int:
        doomed = [r for r in self.records.values() if r.family_id == family_id and r.revoked_at is None]
        for record in doomed:
            self.records[record.token_id] = dataclasses.replace(record, revoked_at=at)
        return len(doomed)

    def live(self, family_id: uuid.UUID) -> list[RefreshTokenRecord]:
        return [r for r in self.records.values() if r.family_id == family_id and r.revoked_at is None]


@pytest.fixture
def service() -> TokenService:
    return TokenService(secrets.token_urlsafe(32), issuer="i", audience="a", environment="test", refresh_ttl_s=DAY_S)


def reason(error: pytest.ExceptionInfo[AuthenticationError]) -> str:
    return error.value.reason


def test_tokens_are_opaque_random_and_stored_only_as_hashes(service: TokenService) -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    issued = [service.issue_refresh(USER, uuid.uuid4(), now=now) for _ in range(50)]
    assert len({item.token for item in issued}) == 50
    for item in issued:
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", item.token)
        assert item.token.count(".") == 0
        assert item.token_hash == hashlib.sha256(item.token.encode()).hexdigest() == hash_refresh_token(item.token)
        assert item.expires_at == now + timedelta(days=1)
        assert item.token not in repr(item)
        assert item.token not in repr(item.record())
        assert item.record().token_id == item.jti


def test_rotation_chains_within_the_family(service: TokenService) -> None:
    async def scenario() -> None:
        store = MemoryRefreshStore()
        first = await service.start_refresh_family(store, USER)
        second = await service.rotate(store, first.token)
        third = await service.rotate(store, second.token)
        assert (second.user_id, second.family_id) == (third.user_id, third.family_id) == (USER, first.family_id)
        assert len({first.token, second.token, third.token}) == 3
        assert store.records[first.jti].replaced_by == second.jti
        assert store.records[second.jti].replaced_by == third.jti
        assert [record.token_id for record in store.live(first.family_id)] == [third.jti]
        assert all(item.token not in str(store.records) for item in (first, second, third))

    asyncio.run(scenario())


def test_reuse_revokes_the_whole_family_but_not_other_logins(service: TokenService) -> None:
    async def scenario() -> None:
        store = MemoryRefreshStore()
        stolen = await service.start_refresh_family(store, USER)
        other_login = await service.start_refresh_family(store, USER)
        legit = await service.rotate(store, stolen.token)
        with pytest.raises(AuthenticationError) as caught:
            await service.rotate(store, stolen.token)
        assert reason(caught) == "refresh_reused"
        assert store.live(stolen.family_id) == []
        with pytest.raises(AuthenticationError) as caught:
            await service.rotate(store, legit.token)
        assert reason(caught) == "refresh_revoked"
        assert (await service.rotate(store, other_login.token)).family_id == other_login.family_id

    asyncio.run(scenario())


def test_two_rotations_racing_with_one_token_revoke_the_family(service: TokenService) -> None:
    async def scenario() -> None:
        store: RefreshTokenStore = MemoryRefreshStore()
        assert isinstance(store, MemoryRefreshStore)
        first = await service.start_refresh_family(store, USER)
        outcomes = await asyncio.gather(
            service.rotate(store, first.token), service.rotate(store, first.token), return_exceptions=True
        )
        errors = [outcome for outcome in outcomes if isinstance(outcome, AuthenticationError)]
        assert len(errors) == 1
        assert errors[0].reason == "refresh_reused"
        assert "used twice at once" in errors[0].message
        assert store.live(first.family_id) == []
        assert len([r for r in store.records.values() if r.family_id == first.family_id]) == 3

    asyncio.run(scenario())


def test_unknown_and_junk_tokens_are_refused(service: TokenService) -> None:
    async def scenario() -> None:
        store = MemoryRefreshStore()
        await service.start_refresh_family(store, USER)
        for junk in ("", "x" * 43, "y" * 5000, secrets.token_urlsafe(32)):
            with pytest.raises(AuthenticationError) as caught:
                await service.rotate(store, junk)
            assert reason(caught) == "refresh_unknown"

    asyncio.run(scenario())


def test_expired_token_is_refused_without_revoking(service: TokenService) -> None:
    async def scenario() -> None:
        store = MemoryRefreshStore()
        start = datetime.now(UTC)
        first = await service.start_refresh_family(store, USER, now=start)
        with pytest.raises(AuthenticationError) as caught:
            await service.rotate(store, first.token, now=start + timedelta(days=1))
        assert reason(caught) == "refresh_expired"
        just_before = await service.rotate(store, first.token, now=start + timedelta(days=1, seconds=-1))
        assert just_before.expires_at == start + timedelta(days=2, seconds=-1)

    asyncio.run(scenario())


def test_logout_revokes_the_family(service: TokenService) -> None:
    async def scenario() -> None:
        store = MemoryRefreshStore()
        first = await service.start_refresh_family(store, USER)
        second = await service.rotate(store, first.token)
        assert await revoke_refresh_family(store, second.token) == 1
        assert await revoke_refresh_family(store, second.token) == 0
        assert await revoke_refresh_family(store, "never issued") == 0
        with pytest.raises(AuthenticationError) as caught:
            await service.rotate(store, second.token)
        assert reason(caught) == "refresh_revoked"

    asyncio.run(scenario())
