"""``/users``: register, the caller's account, interface preferences, and deleting the account with all its data."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, status

from spacecomputer.api._accounts import create_user, delete_account
from spacecomputer.api._deps import API_PREFIX, CurrentUser, PlatformDep, SessionDep, SignedInUser
from spacecomputer.api._errors import BODY, error_responses
from spacecomputer.api._schemas import Preferences, UserCreate, UserPublic
from spacecomputer.errors import InvalidInputError

__all__ = ["MAX_PREFERENCES_BYTES", "merge_patch", "router"]

MAX_PREFERENCES_BYTES = 16 * 1024
"""Largest preferences object stored, bytes of compact JSON (our own limit: settings, not data)."""

_PREFERENCES_EXAMPLE: dict[str, Any] = {
    "units": {"summary": "units and overlay", "value": {"units": "metric", "overlay": {"skeleton": True}}}
}

router = APIRouter(prefix=f"{API_PREFIX}/users", tags=["users"])


@router.post("", status_code=status.HTTP_201_CREATED, responses=error_responses(*BODY, 409))
async def register(body: UserCreate, platform: PlatformDep, session: SessionDep) -> UserPublic:
    """Create an account (role ``user``, plan ``free``); 409 if the e-mail is taken, 422 for a weak password."""
    user = await create_user(platform, session, email=body.email, password=body.password)
    return UserPublic.of(user)


@router.get("/me", responses=error_responses(401))
async def read_me(user: CurrentUser) -> UserPublic:
    """Return the caller's account."""
    return UserPublic.of(user)


@router.get("/me/preferences", responses=error_responses(401))
async def read_preferences(user: CurrentUser) -> Preferences:
    """Return the caller's interface preferences (a JSON object; ``{}`` until set)."""
    return dict(user.preferences)


def merge_patch(target: Any, patch: Any) -> Any:
    """Return ``target`` with the JSON merge patch ``patch`` applied (RFC 7396): ``null`` removes a member.

    Examples
    --------
    >>> merge_patch({"units": "metric", "theme": {"mode": "dark", "accent": "blue"}}, {"theme": {"accent": None}})
    {'units': 'metric', 'theme': {'mode': 'dark'}}

    """
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = merge_patch(merged.get(name), value)
    return merged


@router.patch("/me/preferences", responses=error_responses(*BODY, 401))
async def update_preferences(
    patch: Annotated[Preferences, Body(openapi_examples=_PREFERENCES_EXAMPLE)], user: CurrentUser, session: SessionDep
) -> Preferences:
    """Merge ``patch`` into the caller's preferences (RFC 7396: ``null`` removes a member); return the result."""
    merged = merge_patch(dict(user.preferences), patch)
    text = json.dumps(merged, separators=(",", ":"), ensure_ascii=False)
    if "\x00" in text:  # PostgreSQL's JSON cannot hold U+0000; refused on every back end alike
        raise InvalidInputError("preferences may not contain the NUL character (U+0000)", details={})
    size_bytes = len(text.encode("utf-8"))
    if size_bytes > MAX_PREFERENCES_BYTES:
        raise InvalidInputError(
            f"preferences would take {size_bytes} bytes; at most {MAX_PREFERENCES_BYTES} are kept",
            details={"size_bytes": size_bytes, "max_bytes": MAX_PREFERENCES_BYTES},
        )
    user.preferences = merged
    await session.commit()
    return dict(user.preferences)


@router.delete("/me", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(401, 403))
async def delete_me(user: SignedInUser, platform: PlatformDep, session: SessionDep) -> None:
    """Delete the caller's account and every byte of its data: rows, stored files, cached entries.

    Needs a signed-in session (bearer token): an API key cannot delete its owner.
    """
    user_id = user.id
    await session.close()  # hold no transaction of this request's while the rows go
    await delete_account(platform, user_id)
