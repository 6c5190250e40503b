"""A :class:`~spacecomputer.storage.Cache` on Redis (``redis.asyncio``), shared by every API instance.

All keys live under one ``prefix`` (the namespace), so the cache can share a Redis database with other users:
``delete_prefix`` walks only that namespace with ``SCAN`` (never ``KEYS``, never ``FLUSHDB``) and removes what it
finds with ``UNLINK``. Counters are ``INCRBY`` plus ``PEXPIRE … NX`` in one ``MULTI`` transaction (Redis ≥ 7.0).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import redis.asyncio as redis
from redis.exceptions import RedisError, ResponseError

from spacecomputer.errors import InvalidInputError, UpstreamUnavailableError
from spacecomputer.storage._cache import check_amount, check_cache_key, check_ttl, encode, not_a_counter

__all__ = ["RedisCache"]

_GLOB_SPECIAL = re.compile(r"([\\*?\[\]])")


def _milliseconds(ttl_s: float) -> int:
    return max(1, math.ceil(ttl_s * 1000.0))


class RedisCache:
    """A cache in Redis under the key namespace ``prefix``.

    Parameters
    ----------
    url
        ``redis://[:password@]host:port/db`` (or ``rediss://`` for TLS).
    prefix
        Namespace of every key this cache writes (e.g. ``"spacecomputer:"``); must be non-empty.
    connect_timeout_s, socket_timeout_s
        How long to wait for a connection and for an answer, seconds: short, so a dead Redis fails fast.
    scan_count
        Keys asked for per ``SCAN`` step of :meth:`delete_prefix`.

    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "spacecomputer:",
        connect_timeout_s: float = 2.0,
        socket_timeout_s: float = 2.0,
        scan_count: int = 500,
    ) -> None:
        check_cache_key(prefix, what="prefix")
        try:
            self._client: redis.Redis = redis.Redis.from_url(
                url,
                decode_responses=True,
                socket_connect_timeout=connect_timeout_s,
                socket_timeout=socket_timeout_s,
                health_check_interval=30,
            )
        except ValueError as error:
            raise InvalidInputError(f"invalid Redis URL: {error}") from None
        self._prefix = prefix
        self._scan_count = scan_count

    @property
    def prefix(self) -> str:
        """The namespace of this cache's keys."""
        return self._prefix

    def _unavailable(self, error: RedisError) -> UpstreamUnavailableError:
        return UpstreamUnavailableError(
            f"Redis is unavailable ({type(error).__name__}: {error})", details={"prefix": self._prefix}
        )

    async def get(self, key: str) -> Any:
        """Return the value at ``key`` or ``None``."""
        try:
            text = await self._client.get(self._prefix + check_cache_key(key))
        except RedisError as error:
            raise self._unavailable(error) from error
        return None if text is None else json.loads(text)

    async def set(self, key: str, value: Any, *, ttl_s: float | None = None) -> None:
        """Store ``value`` at ``key``."""
        text = encode(check_cache_key(key), value)
        ttl_s = check_ttl(ttl_s)
        try:
            await self._client.set(self._prefix + key, text, px=None if ttl_s is None else _milliseconds(ttl_s))
        except RedisError as error:
            raise self._unavailable(error) from error

    async def delete(self, key: str) -> bool:
        """Delete ``key``; return whether it was there."""
        try:
            return bool(await self._client.unlink(self._prefix + check_cache_key(key)))
        except RedisError as error:
            raise self._unavailable(error) from error

    async def delete_prefix(self, prefix: str) -> int:
        """Delete the keys of this namespace that start with ``prefix``; return how many."""
        check_cache_key(prefix, what="prefix", allow_empty=True)
        pattern = _GLOB_SPECIAL.sub(r"\\\1", self._prefix + prefix) + "*"
        deleted = 0
        try:
            batch: list[str] = []
            async for name in self._client.scan_iter(match=pattern, count=self._scan_count):
                batch.append(name)
                if len(batch) >= self._scan_count:
                    deleted += int(await self._client.unlink(*batch))
                    batch = []
            if batch:
                deleted += int(await self._client.unlink(*batch))
        except RedisError as error:
            raise self._unavailable(error) from error
        return deleted

    async def incr(self, key: str, amount: int = 1, *, ttl_s: float | None = None) -> int:
        """Add ``amount`` to the counter at ``key`` and return it."""
        name = self._prefix + check_cache_key(key)
        check_amount(amount)
        ttl_s = check_ttl(ttl_s)
        try:
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.incrby(name, amount)
                if ttl_s is not None:
                    pipe.pexpire(name, _milliseconds(ttl_s), nx=True)
                results = await pipe.execute()
        except ResponseError as error:
            if "not an integer" in str(error):
                raise not_a_counter(key) from None
            raise self._unavailable(error) from error
        except RedisError as error:
            raise self._unavailable(error) from error
        return int(results[0])

    async def ping(self) -> None:
        """Send ``PING``."""
        try:
            await self._client.ping()
        except RedisError as error:
            raise self._unavailable(error) from error

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()
