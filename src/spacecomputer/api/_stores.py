"""The security building blocks' persistence protocols, on the platform's database.

:class:`DatabaseRefreshTokenStore` is the ``refresh_tokens`` table behind
:class:`~spacecomputer.api.security.RefreshTokenStore`; :class:`DatabaseApiKeyStore` the ``api_keys`` table behind
:class:`~spacecomputer.api.security.ApiKeyStore`. Each call is one short transaction of its own, so the
compare-and-set of :meth:`DatabaseRefreshTokenStore.replace` (an ``UPDATE … WHERE revoked_at IS NULL``) is atomic
on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from spacecomputer.api.security import ApiKeyRecord, RefreshTokenRecord
from spacecomputer.storage import ApiKey, Database, RefreshToken

__all__ = ["DatabaseApiKeyStore", "DatabaseRefreshTokenStore"]


def _rowcount(result: Any) -> int:
    """Rows an ``UPDATE`` changed (``CursorResult.rowcount``, which the generic result type does not declare)."""
    return int(result.rowcount)


class DatabaseRefreshTokenStore:
    """Refresh-token records in the ``refresh_tokens`` table."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def find(self, token_hash: str) -> RefreshTokenRecord | None:
        """Return the record whose ``token_hash`` this is, or ``None``."""
        async with self._database.session() as session:
            row = await session.scalar(sa.select(RefreshToken).where(RefreshToken.token_hash == token_hash))
        if row is None:
            return None
        return RefreshTokenRecord(
            token_id=row.id,
            user_id=row.user_id,
            family_id=row.family_id,
            token_hash=row.token_hash,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
            replaced_by=row.replaced_by,
        )

    async def add(self, record: RefreshTokenRecord) -> None:
        """Insert ``record``."""
        async with self._database.session() as session, session.begin():
            session.add(
                RefreshToken(
                    id=record.token_id,
                    user_id=record.user_id,
                    family_id=record.family_id,
                    token_hash=record.token_hash,
                    expires_at=record.expires_at,
                    revoked_at=record.revoked_at,
                    replaced_by=record.replaced_by,
                )
            )

    async def replace(self, token_id: uuid.UUID, *, successor_id: uuid.UUID, at: datetime) -> bool:
        """Mark ``token_id`` replaced and revoked if it is neither yet; return whether this call did."""
        statement = (
            sa.update(RefreshToken)
            .where(RefreshToken.id == token_id, RefreshToken.revoked_at.is_(None), RefreshToken.replaced_by.is_(None))
            .values(revoked_at=at, replaced_by=successor_id)
        )
        async with self._database.session() as session, session.begin():
            return _rowcount(await session.execute(statement)) == 1

    async def revoke_family(self, family_id: uuid.UUID, *, at: datetime) -> int:
        """Revoke every token of ``family_id`` not revoked yet; return how many."""
        statement = (
            sa.update(RefreshToken)
            .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        async with self._database.session() as session, session.begin():
            return _rowcount(await session.execute(statement))


class DatabaseApiKeyStore:
    """API-key records in the ``api_keys`` table."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def find_by_prefix(self, prefix: str) -> ApiKeyRecord | None:
        """Return the key with this public prefix, or ``None``."""
        async with self._database.session() as session:
            row = await session.scalar(sa.select(ApiKey).where(ApiKey.prefix == prefix))
        if row is None:
            return None
        return ApiKeyRecord(
            key_id=row.id,
            user_id=row.user_id,
            prefix=row.prefix,
            key_hash=row.key_hash,
            scopes=frozenset(row.scopes),
            revoked_at=row.revoked_at,
        )
