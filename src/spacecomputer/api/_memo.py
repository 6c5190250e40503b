"""A process's own copy of the run documents it read last, in front of the platform cache.

The platform cache keeps values as JSON text (``storage/_cache.py``), so every read of a cached document decodes
it again: for the metrics of a typical run (about 190 kB of JSON, itself a JSON string in the cache) that decoding
alone costs more than the rest of the request. A run's documents never change once stored, and every read checks
first that the caller may read the analysis (``_runs.owned_run``); so :class:`DocumentMemo` keeps the decoded text
of the documents last read, up to a budget of characters, each for :data:`MEMO_TTL_S` at most.

It needs no invalidation for correctness (what it holds is immutable and only handed out after the ownership
check); deleting an analysis or an account still drops that prefix here (:meth:`DocumentMemo.drop_prefix`) so that
this process holds no copy of deleted data, and another process's copy ages out within :data:`MEMO_TTL_S`.
"""

from __future__ import annotations

import time
from collections import OrderedDict

from spacecomputer.errors import InvalidInputError

__all__ = ["MEMO_MAX_CHARS", "MEMO_TTL_S", "DocumentMemo"]

MEMO_MAX_CHARS = 64 * 1024 * 1024
"""Default budget of a memo, characters of text held (our own choice: tens of runs' documents)."""
MEMO_TTL_S = 60.0
"""Default time a document stays in the memo after it was read from the platform cache, seconds (our own choice)."""


class DocumentMemo:
    """Text by cache key, least recently used first out, each entry for a limited time (module docstring).

    Parameters
    ----------
    max_chars
        Most characters held in all; a text longer than this is not kept.
    ttl_s
        Lifetime of an entry from when it was put, seconds.

    """

    def __init__(self, *, max_chars: int = MEMO_MAX_CHARS, ttl_s: float = MEMO_TTL_S) -> None:
        if max_chars < 1 or not ttl_s > 0:
            raise InvalidInputError(f"a memo needs max_chars ≥ 1 and ttl_s > 0; got {max_chars!r} and {ttl_s!r}")
        self.max_chars = max_chars
        self.ttl_s = ttl_s
        self._entries: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._chars = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def chars(self) -> int:
        """Characters held now."""
        return self._chars

    def get(self, key: str) -> str | None:
        """Return the text kept at ``key``, or ``None`` (never put, evicted or expired)."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires_at, text = entry
        if time.monotonic() >= expires_at:
            self._remove(key)
            return None
        self._entries.move_to_end(key)
        return text

    def put(self, key: str, text: str) -> None:
        """Keep ``text`` at ``key`` for :attr:`ttl_s`, evicting the least recently used beyond the budget."""
        self._remove(key)
        if len(text) > self.max_chars:
            return
        self._entries[key] = (time.monotonic() + self.ttl_s, text)
        self._chars += len(text)
        while self._chars > self.max_chars:
            self._remove(next(iter(self._entries)))

    def drop_prefix(self, prefix: str) -> int:
        """Forget every entry whose key starts with ``prefix``; return how many there were."""
        keys = [key for key in self._entries if key.startswith(prefix)]
        for key in keys:
            self._remove(key)
        return len(keys)

    def _remove(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._chars -= len(entry[1])
