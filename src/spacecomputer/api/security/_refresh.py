"""Refresh tokens: opaque random strings, stored only as hashes, rotated on every use with reuse detection.

A refresh token is ``secrets.token_urlsafe(32)``: 256 random bits, no structure, no claims. The server keeps only
its SHA-256 (hex): a value with that much entropy cannot be guessed from its hash, so a slow password hash would
buy nothing, and a leaked table yields no usable token.

Families and rotation
---------------------
A login starts a *family*. Each refresh presents the family's newest token and receives its successor; the
presented one is marked replaced (and revoked) in the same step. A token presented *again* after it was replaced
has been copied — the legitimate client and someone else hold the same token, and one of them has already used
it — so the whole family is revoked and both must log in again. This is the refresh-token rotation described
in RFC 9700 (OAuth 2.0 Security Best Current Practice). The outcomes of :func:`rotate_refresh_token`:

- unknown token → 401 (``reason="refresh_unknown"``);
- replaced (reuse) or revoked (after logout or an earlier reuse) → the family is revoked, then 401
  (``refresh_reused`` / ``refresh_revoked``);
- expired → 401 (``refresh_expired``);
- otherwise the successor is added, the presented token is marked replaced, and the successor is returned.

Two requests racing with the same token: :meth:`RefreshTokenStore.replace` is a compare-and-set, so exactly one
wins; the loser is treated as reuse (the family is revoked, the winner's successor with it).

Persistence is the :class:`RefreshTokenStore` protocol; the API wires it to the ``refresh_tokens`` table.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from spacecomputer.api.security._errors import AuthenticationError
from spacecomputer.errors import InvalidInputError

__all__ = [
    "MAX_REFRESH_TOKEN_LENGTH",
    "IssuedRefreshToken",
    "RefreshTokenRecord",
    "RefreshTokenStore",
    "as_utc",
    "hash_refresh_token",
    "issue_refresh_token",
    "revoke_refresh_family",
    "rotate_refresh_token",
]

MAX_REFRESH_TOKEN_LENGTH = 256
"""Longest presented refresh token looked up, characters (ours are 43)."""


@dataclass(frozen=True)
class RefreshTokenRecord:
    """One stored refresh token: what the ``refresh_tokens`` table holds (never the token itself).

    Attributes
    ----------
    token_id
        The token's id (its ``jti``); ``replaced_by`` of its predecessor points here.
    user_id, family_id
        Whose token it is and which login it belongs to.
    token_hash
        SHA-256 of the token, hex (:func:`hash_refresh_token`).
    expires_at
        When it stops being accepted (UTC).
    revoked_at
        When it was revoked or replaced (UTC), else ``None``.
    replaced_by
        The successor's ``token_id`` once rotated, else ``None``.

    """

    token_id: uuid.UUID
    user_id: uuid.UUID
    family_id: uuid.UUID
    token_hash: str = field(repr=False)
    expires_at: datetime
    revoked_at: datetime | None = None
    replaced_by: uuid.UUID | None = None


class RefreshTokenStore(Protocol):
    """Where refresh-token records live (the API's database adapter; an in-memory one in tests)."""

    async def find(self, token_hash: str) -> RefreshTokenRecord | None:
        """Return the record whose ``token_hash`` this is, or ``None``."""
        ...

    async def add(self, record: RefreshTokenRecord) -> None:
        """Store a new record (its ``token_hash`` is unique)."""
        ...

    async def replace(self, token_id: uuid.UUID, *, successor_id: uuid.UUID, at: datetime) -> bool:
        """Mark ``token_id`` replaced by ``successor_id`` and revoked at ``at``, atomically.

        Only if it is neither revoked nor replaced yet (``UPDATE … WHERE revoked_at IS NULL``); return whether
        this call changed it.
        """
        ...

    async def revoke_family(self, family_id: uuid.UUID, *, at: datetime) -> int:
        """Set ``revoked_at = at`` on every token of ``family_id`` not revoked yet; return how many."""
        ...


@dataclass(frozen=True)
class IssuedRefreshToken:
    """A freshly issued refresh token: the plaintext for the client once, the rest for the store.

    Attributes
    ----------
    token
        The opaque token to hand to the client (never stored).
    token_hash
        SHA-256 of ``token``, hex: the stored form.
    jti
        The token's id (``RefreshTokenRecord.token_id``).
    expires_at
        End of its life (UTC).
    user_id, family_id
        Whose token it is and which login it belongs to.

    """

    token: str = field(repr=False)
    token_hash: str = field(repr=False)
    jti: uuid.UUID
    expires_at: datetime
    user_id: uuid.UUID
    family_id: uuid.UUID

    def record(self) -> RefreshTokenRecord:
        """Return the record to add to a :class:`RefreshTokenStore`."""
        return RefreshTokenRecord(
            token_id=self.jti,
            user_id=self.user_id,
            family_id=self.family_id,
            token_hash=self.token_hash,
            expires_at=self.expires_at,
        )


def hash_refresh_token(token: str) -> str:
    """Return the stored form of a refresh token: SHA-256 of its UTF-8 bytes, 64 hex digits."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def as_utc(now: datetime | None) -> datetime:
    """Return ``now`` (which must be timezone-aware) in UTC, or the current UTC time when ``None``."""
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None or now.utcoffset() is None:
        raise InvalidInputError(f"now must be a timezone-aware datetime; got naive {now.isoformat()}")
    return now.astimezone(UTC)


def issue_refresh_token(
    user_id: uuid.UUID, family_id: uuid.UUID, *, ttl_s: float, now: datetime | None = None
) -> IssuedRefreshToken:
    """Return a new refresh token for ``user_id`` in ``family_id``, valid ``ttl_s`` seconds from ``now``."""
    token = secrets.token_urlsafe(32)
    return IssuedRefreshToken(
        token=token,
        token_hash=hash_refresh_token(token),
        jti=uuid.uuid4(),
        expires_at=as_utc(now) + timedelta(seconds=ttl_s),
        user_id=user_id,
        family_id=family_id,
    )


async def _find(store: RefreshTokenStore, presented_token: str) -> RefreshTokenRecord | None:
    if not isinstance(presented_token, str) or not 0 < len(presented_token) <= MAX_REFRESH_TOKEN_LENGTH:
        return None
    return await store.find(hash_refresh_token(presented_token))


async def rotate_refresh_token(
    store: RefreshTokenStore, presented_token: str, *, ttl_s: float, now: datetime | None = None
) -> IssuedRefreshToken:
    """Exchange ``presented_token`` for its successor in the same family, detecting reuse (module docstring).

    Returns
    -------
    IssuedRefreshToken
        The successor (already added to ``store``); its ``user_id`` is whom to issue an access token for.

    Raises
    ------
    AuthenticationError
        Unknown, reused, revoked or expired token; reuse and revocation revoke the whole family first.

    """
    moment = as_utc(now)
    record = await _find(store, presented_token)
    if record is None:
        raise AuthenticationError("the refresh token is not recognised; log in again", reason="refresh_unknown")
    if record.replaced_by is not None or record.revoked_at is not None:
        await store.revoke_family(record.family_id, at=moment)
        if record.replaced_by is not None:
            raise AuthenticationError(
                "the refresh token was already used; this login is revoked, log in again", reason="refresh_reused"
            )
        raise AuthenticationError("the refresh token was revoked; log in again", reason="refresh_revoked")
    if as_utc(record.expires_at) <= moment:
        raise AuthenticationError("the refresh token has expired; log in again", reason="refresh_expired")
    successor = issue_refresh_token(record.user_id, record.family_id, ttl_s=ttl_s, now=moment)
    await store.add(successor.record())
    if not await store.replace(record.token_id, successor_id=successor.jti, at=moment):
        await store.revoke_family(record.family_id, at=moment)
        raise AuthenticationError(
            "the refresh token was used twice at once; this login is revoked, log in again", reason="refresh_reused"
        )
    return successor


async def revoke_refresh_family(store: RefreshTokenStore, presented_token: str, *, now: datetime | None = None) -> int:
    """Log out: revoke the family of ``presented_token``; return how many tokens that revoked (0 if unknown)."""
    record = await _find(store, presented_token)
    if record is None:
        return 0
    return await store.revoke_family(record.family_id, at=as_utc(now))
