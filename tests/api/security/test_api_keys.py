from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import re
import uuid
from datetime import UTC, datetime

import pytest

from spacecomputer.api.security import (
    ApiKeyRecord,
    ApiKeyStore,
    AuthenticationError,
    GeneratedApiKey,
    check_api_key_scopes,
    generate_api_key,
    parse_api_key,
    principal_for_api_key,
    require,
    verify_api_key,
)
from spacecomputer.errors import PermissionDeniedError

OWNER = uuid.uuid4()


class MemoryApiKeyStore:
    """Test double of the ``ApiKeyStore`` persistence protocol (the API's is the ``api_keys`` table)."""

    def __init__(self) -> None:
        self.by_prefix: dict[str, ApiKeyRecord] = {}

    async def find_by_prefix(self, prefix: str) -> ApiKeyRecord | None:
        return self.by_prefix.get(prefix)

    def create(self, scopes: list[str], *, role: str = "user") -> tuple[GeneratedApiKey, ApiKeyRecord]:
        key = generate_api_key()
        record = ApiKeyRecord(
            key_id=uuid.uuid4(), user_id=OWNER, prefix=key.prefix, key_hash=key.key_hash,
            scopes=check_api_key_scopes(scopes, role=role),
        )  # fmt: skip
        self.by_prefix[key.prefix] = record
        return key, record


def reason_of(store: ApiKeyStore, presented: str) -> str:
    with pytest.raises(AuthenticationError) as caught:
        asyncio.run(verify_api_key(store, presented))
    return caught.value.reason


def test_generated_keys_have_the_documented_form() -> None:
    keys = [generate_api_key() for _ in range(200)]
    assert len({key.plaintext for key in keys}) == len({key.prefix for key in keys}) == 200
    for key in keys:
        match = re.fullmatch(r"sc_([0-9a-f]{12})_([A-Za-z0-9_-]{43})", key.plaintext)
        assert match is not None
        assert match[1] == key.prefix == parse_api_key(key.plaintext)
        assert key.key_hash == hashlib.sha256(key.plaintext.encode()).hexdigest()
        assert key.plaintext not in repr(key)
        assert match[2] not in repr(key)


def test_round_trip_returns_the_record_and_a_scoped_principal() -> None:
    store = MemoryApiKeyStore()
    key, record = store.create(["ai.query", "video.upload"])
    store.create(["ai.query"])
    assert asyncio.run(verify_api_key(store, key.plaintext)) == record
    principal = principal_for_api_key(record, owner_role="user")
    assert (principal.user_id, principal.via, principal.api_key_id) == (OWNER, "api_key", record.key_id)
    require(principal, "video.upload")
    with pytest.raises(PermissionDeniedError):
        require(principal, "analysis.request")


def test_tampered_keys_are_refused() -> None:
    store = MemoryApiKeyStore()
    key, _ = store.create(["ai.query"])
    other, _ = store.create(["ai.query"])
    last = key.plaintext[-1]
    flipped = key.plaintext[:-1] + ("A" if last != "A" else "B")
    assert reason_of(store, flipped) == "api_key_invalid"
    secret = key.plaintext[len("sc_") + 12 + 1 :]
    assert reason_of(store, f"sc_{other.prefix}_{secret}") == "api_key_invalid"
    assert reason_of(store, f"sc_{'0' * 12}_{secret}") == "api_key_invalid"


@pytest.mark.parametrize(
    "presented",
    ["", "sc_", "sk_0123456789ab_" + "a" * 43, "sc_0123456789AB_" + "a" * 43, "sc_0123456789ab_" + "a" * 42,
     "sc_0123456789ab_" + "a" * 44, "sc_0123456789ab_" + "a" * 42 + "=", " sc_0123456789ab_" + "a" * 43],
)  # fmt: skip
def test_malformed_keys_are_refused_before_any_lookup(presented: str) -> None:
    class NoLookups:
        async def find_by_prefix(self, prefix: str) -> ApiKeyRecord | None:
            raise AssertionError(f"looked up {prefix!r}")

    assert reason_of(NoLookups(), presented) == "api_key_malformed"


def test_revoked_key_is_refused() -> None:
    store = MemoryApiKeyStore()
    key, record = store.create(["ai.query"])
    store.by_prefix[key.prefix] = dataclasses.replace(record, revoked_at=datetime.now(UTC))
    assert reason_of(store, key.plaintext) == "api_key_revoked"
