"""The platform service: the REST API, its security building blocks and its wiring to storage and jobs.

``create_app(settings)`` returns the FastAPI app (``spacecomputer serve`` runs it with uvicorn). It is imported on
first use, so that ``spacecomputer.config`` and the security building blocks load without FastAPI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from spacecomputer.api._app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from spacecomputer.api._app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
