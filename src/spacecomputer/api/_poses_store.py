"""Pose sessions kept in the platform cache, so that they outlive a request and are shared by every API instance.

A session is a small JSON document under its owner's cache prefix (``user:<id>:pose_session:<session>``): the
analysis and frame it was opened on, the history of poses (coordinates ``q``, the frame's own pose first) with the
undo/redo cursor, and the saved poses. It lives :data:`SESSION_TTL_S` after its last use (every use stores it again)
and goes with its owner's account. The pose lab itself is rebuilt from the run files and these coordinates on each
request (:mod:`spacecomputer.api._poses`).

Concurrent requests on one session are serialised by a lock in the same cache (:meth:`PoseSessionStore.locked`):
an atomic counter that its holder deletes, with a lifetime in case the holder dies; a request that cannot take it
within :data:`LOCK_WAIT_S` is answered 409.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from spacecomputer.api._platform import user_cache_prefix
from spacecomputer.errors import ConflictError, InvalidInputError, NotFoundError
from spacecomputer.storage import Cache

__all__ = [
    "LOCK_TTL_S",
    "LOCK_WAIT_S",
    "MAX_HISTORY",
    "MAX_SAVED",
    "SESSION_TTL_S",
    "PoseSessionStore",
    "StoredSession",
]

SESSION_TTL_S = 3600.0
"""A session is forgotten this long after its last use, s (our own choice)."""
MAX_HISTORY = 100
"""Most poses a session's history keeps; beyond it the oldest step after the frame's own pose is dropped (our own)."""
MAX_SAVED = 20
"""Most saved poses per session (our own)."""
LOCK_TTL_S = 120.0
"""Lifetime of a session's lock, s: longer than the slowest request on a session (an optimisation's time limit)."""
LOCK_WAIT_S = 3.0
"""How long a request waits for a session another request holds before answering 409, s (our own)."""
_LOCK_POLL_S = 0.02
_FORMAT = 1


def _coordinates(values: Any) -> list[float]:
    return [float(v) for v in values]


@dataclass(eq=False)
class StoredSession:
    """A pose session as stored (module docstring); coordinates in ``DOF_NAMES`` order, m and rad.

    Attributes
    ----------
    id, owner_id, analysis_id, frame
        The session, its owner, and the analysis row and frame it was opened on.
    history
        Poses, the frame's own (the fitted skeleton) first; at most :data:`MAX_HISTORY`.
    cursor
        Index of the current pose in ``history``.
    saved
        Label → saved pose, in the order first saved.

    """

    id: uuid.UUID
    owner_id: uuid.UUID
    analysis_id: uuid.UUID
    frame: int
    history: list[list[float]]
    cursor: int = 0
    saved: dict[str, list[float]] = field(default_factory=dict)

    @property
    def origin(self) -> NDArray[np.float64]:
        """The frame's own pose, (D,)."""
        return np.array(self.history[0], dtype=np.float64)

    @property
    def current(self) -> NDArray[np.float64]:
        """The current pose, (D,)."""
        return np.array(self.history[self.cursor], dtype=np.float64)

    @property
    def can_undo(self) -> bool:
        """Whether there is a step to undo."""
        return self.cursor > 0

    @property
    def can_redo(self) -> bool:
        """Whether there is an undone step to redo."""
        return self.cursor < len(self.history) - 1

    def push(self, q: NDArray[np.float64]) -> None:
        """Make ``q`` the current pose: later (undone) steps are dropped, then the oldest beyond the cap."""
        del self.history[self.cursor + 1 :]
        self.history.append(_coordinates(q))
        self.cursor += 1
        if len(self.history) > MAX_HISTORY:
            del self.history[1]
            self.cursor -= 1

    def undo(self) -> None:
        """Step back; 409 when there is nothing to undo."""
        if not self.can_undo:
            raise ConflictError("nothing to undo: this is the frame's own pose", details={"cursor": self.cursor})
        self.cursor -= 1

    def redo(self) -> None:
        """Step forward again; 409 when there is nothing to redo (a new manipulation clears what was undone)."""
        if not self.can_redo:
            raise ConflictError("nothing to redo", details={"cursor": self.cursor, "steps": len(self.history)})
        self.cursor += 1

    def save(self, label: str) -> None:
        """Keep the current pose under ``label``; 422 beyond :data:`MAX_SAVED` labels."""
        if label not in self.saved and len(self.saved) >= MAX_SAVED:
            raise InvalidInputError(
                f"a session keeps at most {MAX_SAVED} saved poses: save under an existing label to replace one",
                details={"limit": MAX_SAVED, "saved": list(self.saved)},
            )
        self.saved[label] = list(self.history[self.cursor])

    def saved_q(self, label: str) -> NDArray[np.float64]:
        """Return a saved pose, (D,); 404 naming the saved labels when there is none under ``label``."""
        if label not in self.saved:
            raise NotFoundError(
                f"no pose saved as {label!r}; saved: {list(self.saved)}",
                details={"label": label, "saved": list(self.saved)},
            )
        return np.array(self.saved[label], dtype=np.float64)

    def to_json(self) -> dict[str, Any]:
        """Return the document stored in the cache."""
        return {
            "format": _FORMAT,
            "id": str(self.id),
            "owner_id": str(self.owner_id),
            "analysis_id": str(self.analysis_id),
            "frame": self.frame,
            "history": self.history,
            "cursor": self.cursor,
            "saved": self.saved,
        }

    @classmethod
    def from_json(cls, document: Any) -> StoredSession | None:
        """Read a stored document; ``None`` for one of another format (treated as expired)."""
        if not isinstance(document, dict) or document.get("format") != _FORMAT:
            return None
        history = [_coordinates(q) for q in document["history"]]
        return cls(
            id=uuid.UUID(document["id"]),
            owner_id=uuid.UUID(document["owner_id"]),
            analysis_id=uuid.UUID(document["analysis_id"]),
            frame=int(document["frame"]),
            history=history,
            cursor=min(max(int(document["cursor"]), 0), len(history) - 1),
            saved={str(label): _coordinates(q) for label, q in document["saved"].items()},
        )


class PoseSessionStore:
    """The pose sessions of one user in the cache (module docstring)."""

    def __init__(self, cache: Cache, owner_id: uuid.UUID) -> None:
        self._cache = cache
        self.owner_id = owner_id

    def key(self, session_id: uuid.UUID) -> str:
        """Return the cache key of session ``session_id``."""
        return f"{user_cache_prefix(self.owner_id)}pose_session:{session_id}"

    async def get(self, session_id: uuid.UUID) -> StoredSession:
        """Return the session; 404 if there is none of this user's (expired, deleted, or another user's)."""
        stored = StoredSession.from_json(await self._cache.get(self.key(session_id)))
        if stored is None or stored.owner_id != self.owner_id:
            raise NotFoundError(
                f"pose session {session_id} not found (sessions end {SESSION_TTL_S / 3600:g} h after their last use)",
                details={"resource": "pose_session", "id": str(session_id)},
            )
        return stored

    async def put(self, stored: StoredSession) -> None:
        """Store ``stored`` for another :data:`SESSION_TTL_S`."""
        await self._cache.set(self.key(stored.id), stored.to_json(), ttl_s=SESSION_TTL_S)

    async def delete(self, session_id: uuid.UUID) -> bool:
        """Forget the session; return whether it was there."""
        return await self._cache.delete(self.key(session_id))

    @asynccontextmanager
    async def locked(self, session_id: uuid.UUID) -> AsyncIterator[None]:
        """Hold the session's lock for the block; 409 when another request keeps it past :data:`LOCK_WAIT_S`."""
        lock = f"{self.key(session_id)}:lock"
        deadline = time.monotonic() + LOCK_WAIT_S
        while await self._cache.incr(lock, ttl_s=LOCK_TTL_S) != 1:
            if time.monotonic() >= deadline:
                raise ConflictError(
                    "another request is working on this pose session; retry when it has finished",
                    details={"id": str(session_id), "reason": "busy"},
                )
            await asyncio.sleep(_LOCK_POLL_S)
        try:
            yield
        finally:
            await self._cache.delete(lock)
