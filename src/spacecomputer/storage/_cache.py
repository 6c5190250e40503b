"""Caching: the :class:`Cache` protocol and :class:`MemoryCache`, the in-process default.

:class:`~spacecomputer.storage.RedisCache` is the shared implementation (several API instances see one cache and
one set of rate-limit counters). Both keep values as JSON text, so what comes back is a fresh copy with JSON's
types (a tuple returns as a list) whichever back end is configured.

- ``get`` returns ``None`` on a miss; so ``None`` itself cannot be stored (``set`` refuses it).
- ``ttl_s`` is a lifetime in seconds (``None``: until evicted or deleted).
- ``incr`` counts atomically (rate limits): the key starts at 0; ``ttl_s`` is applied only when the key has no
  lifetime yet (a fixed window starts with its first hit and is not extended by later ones).
- ``delete_prefix("")`` empties the whole cache namespace (a Redis cache's own ``prefix``, nothing else).
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from typing import Any, Protocol, runtime_checkable

from spacecomputer.errors import InvalidInputError

__all__ = ["MAX_CACHE_KEY_LENGTH", "Cache", "MemoryCache"]

MAX_CACHE_KEY_LENGTH = 1024
"""Longest cache key, characters (our own limit)."""


def check_cache_key(key: str, *, what: str = "key", allow_empty: bool = False) -> str:
    """Return ``key`` if it is a usable cache key (or prefix), else raise :class:`InvalidInputError`."""
    if not isinstance(key, str) or len(key) > MAX_CACHE_KEY_LENGTH or (not key and not allow_empty):
        shown = key[:80] if isinstance(key, str) else type(key).__name__
        raise InvalidInputError(
            f"invalid cache {what}: expected a string of 1–{MAX_CACHE_KEY_LENGTH} characters; got {shown!r}",
            details={what: shown},
        )
    return key


def check_ttl(ttl_s: float | None) -> float | None:
    """Return ``ttl_s`` if it is ``None`` or a positive number of seconds, else raise."""
    if ttl_s is not None and (isinstance(ttl_s, bool) or not isinstance(ttl_s, int | float) or not ttl_s > 0):
        raise InvalidInputError(f"ttl_s must be a positive number of seconds or None; got {ttl_s!r}")
    return ttl_s


def check_amount(amount: int) -> int:
    """Return ``amount`` if it is an integer (not a bool), else raise."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise InvalidInputError(f"incr amount must be an integer; got {amount!r}")
    return amount


def encode(key: str, value: Any) -> str:
    """Serialise ``value`` for storage; ``None`` and what JSON cannot hold (NaN, sets, objects) are refused."""
    if value is None:
        raise InvalidInputError(f"cannot cache None at {key!r}: get() returns None for a miss", details={"key": key})
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise InvalidInputError(
            f"cannot cache {type(value).__name__} at {key!r}: {error}", details={"key": key}
        ) from None


def not_a_counter(key: str) -> InvalidInputError:
    """Return the error for ``incr`` on a key that holds something other than an integer."""
    return InvalidInputError(f"cache key {key!r} holds a value that is not an integer", details={"key": key})


@runtime_checkable
class Cache(Protocol):
    """A key → JSON value cache with lifetimes and counters (module docstring for the rules).

    Every method raises :class:`~spacecomputer.errors.UpstreamUnavailableError` when the back end cannot be
    reached, so callers can fall back to computing the value.
    """

    async def get(self, key: str) -> Any:
        """Return the value stored at ``key``, or ``None`` if there is none (or it expired)."""
        ...

    async def set(self, key: str, value: Any, *, ttl_s: float | None = None) -> None:
        """Store JSON-serialisable ``value`` (not ``None``) at ``key`` for ``ttl_s`` seconds (``None``: no limit)."""
        ...

    async def delete(self, key: str) -> bool:
        """Delete ``key``; return whether it was there."""
        ...

    async def delete_prefix(self, prefix: str) -> int:
        """Delete every key starting with ``prefix`` (``""``: all of this cache's keys); return how many."""
        ...

    async def incr(self, key: str, amount: int = 1, *, ttl_s: float | None = None) -> int:
        """Add ``amount`` to the integer at ``key`` (0 if absent) and return the new value; see module docstring."""
        ...

    async def ping(self) -> None:
        """Return quietly if the cache answers, else raise ``UpstreamUnavailableError``."""
        ...

    async def aclose(self) -> None:
        """Release connections (at shutdown)."""
        ...


class MemoryCache:
    """An in-process cache: least-recently-used eviction beyond ``max_entries``, lazy expiry.

    Parameters
    ----------
    max_entries
        Most keys kept; storing one more evicts the least recently read or written.

    Meant for one event loop (the API process): its methods never await, so each runs whole.

    """

    def __init__(self, *, max_entries: int = 10_000) -> None:
        if isinstance(max_entries, bool) or not isinstance(max_entries, int) or max_entries < 1:
            raise InvalidInputError(f"max_entries must be a positive integer; got {max_entries!r}")
        self._max_entries = max_entries
        self._entries: OrderedDict[str, tuple[str, float | None]] = OrderedDict()

    def __len__(self) -> int:
        """Return the number of keys held (expired ones not yet dropped included)."""
        return len(self._entries)

    def _live(self, key: str) -> tuple[str, float | None] | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[1] is not None and entry[1] <= time.monotonic():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry

    def _store(self, key: str, text: str, expires_at: float | None) -> None:
        self._entries[key] = (text, expires_at)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    async def get(self, key: str) -> Any:
        """Return the value at ``key`` or ``None``."""
        entry = self._live(check_cache_key(key))
        return None if entry is None else json.loads(entry[0])

    async def set(self, key: str, value: Any, *, ttl_s: float | None = None) -> None:
        """Store ``value`` at ``key``."""
        text = encode(check_cache_key(key), value)
        ttl_s = check_ttl(ttl_s)
        self._store(key, text, None if ttl_s is None else time.monotonic() + ttl_s)

    async def delete(self, key: str) -> bool:
        """Delete ``key``; return whether it was there."""
        live = self._live(check_cache_key(key)) is not None
        self._entries.pop(key, None)
        return live

    async def delete_prefix(self, prefix: str) -> int:
        """Delete the keys starting with ``prefix``; return how many."""
        check_cache_key(prefix, what="prefix", allow_empty=True)
        doomed = [key for key in self._entries if key.startswith(prefix)]
        now = time.monotonic()
        live = sum(1 for key in doomed if (expiry := self._entries[key][1]) is None or expiry > now)
        for key in doomed:
            del self._entries[key]
        return live

    async def incr(self, key: str, amount: int = 1, *, ttl_s: float | None = None) -> int:
        """Add ``amount`` to the counter at ``key`` and return it."""
        check_cache_key(key)
        check_amount(amount)
        ttl_s = check_ttl(ttl_s)
        entry = self._live(key)
        current, expires_at = (0, None) if entry is None else (json.loads(entry[0]), entry[1])
        if isinstance(current, bool) or not isinstance(current, int):
            raise not_a_counter(key)
        if expires_at is None and ttl_s is not None:
            expires_at = time.monotonic() + ttl_s
        self._store(key, str(current + amount), expires_at)
        return int(current + amount)

    async def ping(self) -> None:
        """Return at once: the cache is this process."""

    async def aclose(self) -> None:
        """Drop every entry."""
        self._entries.clear()
