"""API keys for integrators: shown once, stored as a hash, found by a public prefix, scoped and revocable.

Format
------
``sc_<prefix>_<secret>``: ``prefix`` is 12 lowercase hex digits (48 random bits; public — listed beside the key's
name and used to find its row), ``secret`` is ``secrets.token_urlsafe(32)`` (256 random bits, 43 characters). The
``sc_`` marker makes a leaked key easy for secret scanners to recognise.

Storage
-------
The server keeps the prefix, the SHA-256 of the whole key (hex; prefix included, so a hash belongs to one row),
the scopes and the revocation time — never the key. A fast hash is right here: argon2 protects *low-entropy*
secrets such as passwords against guessing, but a 256-bit random secret cannot be guessed, so SHA-256 is as safe
and keeps every API request cheap. This is the usual practice for API keys, and the same argument as for refresh
tokens.

Verification
------------
:func:`verify_api_key` parses the key, looks its prefix up in an :class:`ApiKeyStore`, compares hashes with
:func:`hmac.compare_digest` (constant time) and refuses revoked keys. Every refusal — malformed, unknown prefix,
wrong secret, revoked — is an :class:`AuthenticationError` (401). An unknown prefix is still compared against a
dummy hash so that branch costs the same as a wrong secret. Scopes are validated at creation by
:func:`~spacecomputer.api.security.check_api_key_scopes` and bounded by the owner's role on every request
(:class:`~spacecomputer.api.security.Principal`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple, Protocol

from spacecomputer.api.security._errors import AuthenticationError
from spacecomputer.api.security._rbac import Principal

__all__ = [
    "API_KEY_MARKER",
    "ApiKeyRecord",
    "ApiKeyStore",
    "GeneratedApiKey",
    "generate_api_key",
    "hash_api_key",
    "parse_api_key",
    "principal_for_api_key",
    "verify_api_key",
]

API_KEY_MARKER = "sc"
"""First part of every API key."""
_PREFIX_BYTES = 6
_SECRET_BYTES = 32
_KEY_PATTERN = re.compile(r"sc_(?P<prefix>[0-9a-f]{12})_(?P<secret>[A-Za-z0-9_-]{43})")
_DUMMY_HASH = hashlib.sha256(b"no key has this prefix").hexdigest()


class GeneratedApiKey(NamedTuple):
    """A new API key: the plaintext to show the user once, and what to store."""

    plaintext: str
    """``sc_<prefix>_<secret>``: shown once, never stored."""
    prefix: str
    """The public prefix (12 hex digits) to store and look the key up by."""
    key_hash: str
    """SHA-256 of ``plaintext``, hex, to store."""

    def __repr__(self) -> str:
        return f"GeneratedApiKey(prefix={self.prefix!r})"


@dataclass(frozen=True)
class ApiKeyRecord:
    """A stored API key (a row of the ``api_keys`` table).

    Attributes
    ----------
    key_id
        The key's id.
    user_id
        Its owner.
    prefix
        The public prefix.
    key_hash
        SHA-256 of the whole key, hex.
    scopes
        The permissions it carries.
    revoked_at
        When it was revoked (UTC), else ``None``.

    """

    key_id: uuid.UUID
    user_id: uuid.UUID
    prefix: str
    key_hash: str = field(repr=False)
    scopes: frozenset[str]
    revoked_at: datetime | None = None


class ApiKeyStore(Protocol):
    """Where API-key records live (the API's database adapter; an in-memory one in tests)."""

    async def find_by_prefix(self, prefix: str) -> ApiKeyRecord | None:
        """Return the key with this prefix (prefixes are unique), or ``None``."""
        ...


def hash_api_key(plaintext: str) -> str:
    """Return the stored form of an API key: SHA-256 of its UTF-8 bytes, 64 hex digits."""
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def generate_api_key() -> GeneratedApiKey:
    """Return a new random API key with its prefix and hash.

    Examples
    --------
    >>> key = generate_api_key()
    >>> key.plaintext.startswith(f"sc_{key.prefix}_") and hash_api_key(key.plaintext) == key.key_hash
    True

    """
    prefix = secrets.token_hex(_PREFIX_BYTES)
    plaintext = f"{API_KEY_MARKER}_{prefix}_{secrets.token_urlsafe(_SECRET_BYTES)}"
    return GeneratedApiKey(plaintext=plaintext, prefix=prefix, key_hash=hash_api_key(plaintext))


def parse_api_key(presented: str) -> str:
    """Return the prefix of ``presented`` if it has the form of an API key, else raise ``AuthenticationError``."""
    match = _KEY_PATTERN.fullmatch(presented) if isinstance(presented, str) else None
    if match is None:
        raise AuthenticationError("the API key is malformed", reason="api_key_malformed")
    return match["prefix"]


async def verify_api_key(store: ApiKeyStore, presented: str) -> ApiKeyRecord:
    """Return the stored record of ``presented`` if it is a valid, unrevoked key, else raise (module docstring).

    Raises
    ------
    AuthenticationError
        Malformed, unknown, wrong secret (tampered) or revoked key (401).

    """
    record = await store.find_by_prefix(parse_api_key(presented))
    matches = hmac.compare_digest(record.key_hash if record else _DUMMY_HASH, hash_api_key(presented))
    if record is None or not matches:
        raise AuthenticationError("the API key is not valid", reason="api_key_invalid")
    if record.revoked_at is not None:
        raise AuthenticationError("the API key was revoked", reason="api_key_revoked")
    return record


def principal_for_api_key(record: ApiKeyRecord, *, owner_role: str) -> Principal:
    """Return the caller a verified key stands for: its owner, bounded by the key's scopes."""
    return Principal(
        user_id=record.user_id, role=owner_role, scopes=record.scopes, via="api_key", api_key_id=record.key_id
    )
