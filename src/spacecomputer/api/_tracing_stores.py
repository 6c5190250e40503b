"""The cache and the blob store with a client span around each call, when tracing is configured (``_tracing``).

Each wrapper implements the same protocol as the store it wraps and forwards every call: span names are
``cache <method>`` and ``blobs <method>`` (``spacecomputer.store`` says which back end); a call that raises marks
its span as failed. Keys are left out of the spans: they name users. A blob read's span ends when the call
returns, so :meth:`TracedBlobStore.open_range` covers opening the range, not streaming it.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry.trace import Span, SpanKind, Tracer

from spacecomputer.storage import BlobInfo, BlobRange, BlobStore, Cache

__all__ = ["TracedBlobStore", "TracedCache"]


@contextmanager
def _client_span(tracer: Tracer, name: str, store: str) -> Iterator[Span]:
    with tracer.start_as_current_span(name, kind=SpanKind.CLIENT, attributes={"spacecomputer.store": store}) as span:
        yield span


class TracedCache:
    """A :class:`~spacecomputer.storage.Cache` whose calls each get a span; reads say whether they hit.

    Parameters
    ----------
    inner
        The cache that answers.
    tracer
        Where the spans come from.

    """

    def __init__(self, inner: Cache, tracer: Tracer) -> None:
        self.inner = inner
        self._tracer = tracer
        self._store = type(inner).__name__

    async def get(self, key: str) -> Any:
        """Return the value at ``key``, or ``None``."""
        with _client_span(self._tracer, "cache get", self._store) as span:
            value = await self.inner.get(key)
            span.set_attribute("spacecomputer.cache.hit", value is not None)
            return value

    async def set(self, key: str, value: Any, *, ttl_s: float | None = None) -> None:
        """Store ``value`` at ``key`` for ``ttl_s`` seconds."""
        with _client_span(self._tracer, "cache set", self._store):
            await self.inner.set(key, value, ttl_s=ttl_s)

    async def delete(self, key: str) -> bool:
        """Delete ``key``; return whether it was there."""
        with _client_span(self._tracer, "cache delete", self._store):
            return await self.inner.delete(key)

    async def delete_prefix(self, prefix: str) -> int:
        """Delete every key starting with ``prefix``; return how many."""
        with _client_span(self._tracer, "cache delete_prefix", self._store):
            return await self.inner.delete_prefix(prefix)

    async def incr(self, key: str, amount: int = 1, *, ttl_s: float | None = None) -> int:
        """Add ``amount`` to the counter at ``key``; return the new value."""
        with _client_span(self._tracer, "cache incr", self._store):
            return await self.inner.incr(key, amount, ttl_s=ttl_s)

    async def ping(self) -> None:
        """Check that the cache answers."""
        await self.inner.ping()

    async def aclose(self) -> None:
        """Release the cache's connections."""
        await self.inner.aclose()


class TracedBlobStore:
    """A :class:`~spacecomputer.storage.BlobStore` whose calls each get a span.

    Parameters
    ----------
    inner
        The store that answers (code that needs to know which kind of store it is looks at ``inner``).
    tracer
        Where the spans come from.

    """

    def __init__(self, inner: BlobStore, tracer: Tracer) -> None:
        self.inner = inner
        self._tracer = tracer
        self._store = type(inner).__name__

    async def put_stream(self, key: str, chunks: AsyncIterable[bytes], *, max_bytes: int | None = None) -> BlobInfo:
        """Store the concatenated ``chunks`` at ``key``."""
        with _client_span(self._tracer, "blobs put_stream", self._store):
            return await self.inner.put_stream(key, chunks, max_bytes=max_bytes)

    async def put_bytes(self, key: str, data: bytes) -> BlobInfo:
        """Store ``data`` at ``key``."""
        with _client_span(self._tracer, "blobs put_bytes", self._store):
            return await self.inner.put_bytes(key, data)

    async def write_part(self, key: str, index: int, data: bytes) -> BlobInfo:
        """Store part ``index`` of an upload to ``key``."""
        with _client_span(self._tracer, "blobs write_part", self._store):
            return await self.inner.write_part(key, index, data)

    async def compose(self, key: str, *, part_count: int, max_bytes: int | None = None) -> BlobInfo:
        """Concatenate the parts of an upload into ``key``."""
        with _client_span(self._tracer, "blobs compose", self._store):
            return await self.inner.compose(key, part_count=part_count, max_bytes=max_bytes)

    async def discard_parts(self, key: str) -> int:
        """Delete the parts of an unfinished upload to ``key``."""
        with _client_span(self._tracer, "blobs discard_parts", self._store):
            return await self.inner.discard_parts(key)

    async def open_range(self, key: str, start: int = 0, end: int | None = None) -> BlobRange:
        """Return bytes ``[start, end)`` of the blob for streaming."""
        with _client_span(self._tracer, "blobs open_range", self._store):
            return await self.inner.open_range(key, start, end)

    async def read_bytes(self, key: str) -> bytes:
        """Return the whole blob."""
        with _client_span(self._tracer, "blobs read_bytes", self._store):
            return await self.inner.read_bytes(key)

    async def size(self, key: str) -> int:
        """Return the blob's size, bytes."""
        with _client_span(self._tracer, "blobs size", self._store):
            return await self.inner.size(key)

    async def exists(self, key: str) -> bool:
        """Return whether a blob is stored at ``key``."""
        with _client_span(self._tracer, "blobs exists", self._store):
            return await self.inner.exists(key)

    async def delete(self, key: str) -> None:
        """Delete the blob at ``key``."""
        with _client_span(self._tracer, "blobs delete", self._store):
            await self.inner.delete(key)

    async def delete_prefix(self, prefix: str) -> int:
        """Delete every blob under ``prefix``; return how many."""
        with _client_span(self._tracer, "blobs delete_prefix", self._store):
            return await self.inner.delete_prefix(prefix)

    async def ping(self) -> None:
        """Check that the store can be used."""
        await self.inner.ping()

    async def aclose(self) -> None:
        """Release the store's connections."""
        await self.inner.aclose()
