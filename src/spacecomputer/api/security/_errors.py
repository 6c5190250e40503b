"""Re-export of :class:`spacecomputer.errors.AuthenticationError` (401) for the security modules."""

from __future__ import annotations

from spacecomputer.errors import AuthenticationError

__all__ = ["AuthenticationError"]
