"""Typed dependencies of the routes: ``Annotated`` aliases a route names as a parameter type.

Every dependency is ``async def``, even one that only reads an attribute: FastAPI runs a plain ``def`` dependency
in its thread pool, and a hop to a thread and back costs more than the whole of a cached read.

::

    async def my_route(session: SessionDep, user: CurrentUser) -> ...
    async def upload(principal: Annotated[Principal, Depends(require_permission("video.upload"))]) -> ...

===================  ==========================================================================================
alias                what the route receives
===================  ==========================================================================================
``PlatformDep``      the :class:`~spacecomputer.api._platform.Platform` of the running app
``SettingsDep``      its :class:`~spacecomputer.config.Settings`
``SessionDep``       an ``AsyncSession`` for this request (nothing committed unless the route commits)
``BlobsDep``         the :class:`~spacecomputer.storage.BlobStore`
``CacheDep``         the :class:`~spacecomputer.storage.Cache`
``CurrentPrincipal`` the authenticated :class:`~spacecomputer.api.security.Principal` (401 without a credential)
``CurrentUser``      the caller's :class:`~spacecomputer.storage.User` row, loaded in ``SessionDep``
``SignedInUser``     the same, but only for a bearer token (a password login): an API key gets 403
``AdminUser``        the caller's row if it holds ``admin.manage`` (403 otherwise)
===================  ==========================================================================================
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from spacecomputer.api._auth import authenticate
from spacecomputer.api._platform import Platform
from spacecomputer.api.security import PERMISSIONS, Principal, require
from spacecomputer.config import Settings
from spacecomputer.errors import AuthenticationError, InvalidInputError, PermissionDeniedError
from spacecomputer.storage import BlobStore, Cache, User

__all__ = [
    "API_PREFIX",
    "MAX_PAGE_OFFSET",
    "AdminUser",
    "BlobsDep",
    "CacheDep",
    "CurrentPrincipal",
    "CurrentUser",
    "PlatformDep",
    "SessionDep",
    "SettingsDep",
    "SignedInUser",
    "require_permission",
]

API_PREFIX = "/api/v1"
"""Path prefix of every REST route (health, readiness and metrics live at the root)."""
MAX_PAGE_OFFSET = 2**31 - 1
"""Largest ``offset`` of a list route (our own bound: past any real list; above 2**63 the databases' OFFSET fails)."""

# Declared for the OpenAPI document (the "Authorize" button of /docs); the checking is ``authenticate``'s.
_bearer_scheme = OAuth2PasswordBearer(tokenUrl=f"{API_PREFIX}/users/login", auto_error=False)
_api_key_scheme = APIKeyHeader(name="X-API-Key", auto_error=False)


async def get_platform(request: Request) -> Platform:
    """Return the platform the app's lifespan opened."""
    platform: Platform = request.app.state.platform
    return platform


PlatformDep = Annotated[Platform, Depends(get_platform)]


async def get_settings_of_app(platform: PlatformDep) -> Settings:
    """Return the settings the platform was built from."""
    return platform.settings


async def get_session(platform: PlatformDep) -> AsyncIterator[AsyncSession]:
    """Yield a database session for this request; uncommitted work is rolled back at the end."""
    async with platform.database.session() as session:
        yield session


async def get_blobs(platform: PlatformDep) -> BlobStore:
    """Return the blob store."""
    return platform.blobs


async def get_cache(platform: PlatformDep) -> Cache:
    """Return the cache."""
    return platform.cache


SettingsDep = Annotated[Settings, Depends(get_settings_of_app)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
BlobsDep = Annotated[BlobStore, Depends(get_blobs)]
CacheDep = Annotated[Cache, Depends(get_cache)]


async def current_principal(
    request: Request,
    platform: PlatformDep,
    _bearer: Annotated[str | None, Depends(_bearer_scheme)],
    _api_key: Annotated[str | None, Depends(_api_key_scheme)],
) -> Principal:
    """Return the authenticated caller, or raise 401 (no credential, or a refused one)."""
    caller = await authenticate(platform, request.scope)
    if caller is None:
        raise AuthenticationError(
            "this needs a bearer access token (Authorization header) or an API key (X-API-Key header)",
            reason="missing_credentials",
        )
    return caller.principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


async def current_user(principal: CurrentPrincipal, session: SessionDep) -> User:
    """Return the caller's account row (401 if it vanished or was disabled since the credential was checked)."""
    user = await session.get(User, principal.user_id)
    if user is None or user.disabled:
        raise AuthenticationError("the account of this credential no longer exists", reason="unknown_user")
    return user


CurrentUser = Annotated[User, Depends(current_user)]


async def signed_in_user(principal: CurrentPrincipal, user: CurrentUser) -> User:
    """Return the caller's row if it authenticated with a bearer token (credentials are managed only that way)."""
    if principal.via != "token":
        raise PermissionDeniedError(
            "managing credentials and the account needs a signed-in session (bearer token), not an API key",
            details={"via": principal.via},
        )
    return user


SignedInUser = Annotated[User, Depends(signed_in_user)]


def require_permission(permission: str) -> Callable[[Principal], Awaitable[Principal]]:
    """Return a dependency that yields the caller if it holds ``permission`` (403 otherwise, 401 if anonymous).

    Raises
    ------
    InvalidInputError
        ``permission`` is not one of the known permissions (a misspelt name fails when the route is declared).

    """
    if permission not in PERMISSIONS:
        raise InvalidInputError(
            f"unknown permission {permission!r}; expected one of {', '.join(PERMISSIONS)}",
            details={"permission": permission, "expected": list(PERMISSIONS)},
        )

    async def permitted_principal(principal: CurrentPrincipal) -> Principal:
        require(principal, permission)
        return principal

    permitted_principal.__name__ = f"require_{permission.replace('.', '_')}"
    return permitted_principal


async def admin_user(
    _admin: Annotated[Principal, Depends(require_permission("admin.manage"))], user: CurrentUser
) -> User:
    """Return the caller's row if it holds ``admin.manage``."""
    return user


AdminUser = Annotated[User, Depends(admin_user)]
