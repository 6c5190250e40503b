"""``/users/me/api-keys``: API keys for integrators — created (the key shown once), listed, revoked.

Only a signed-in session manages keys (an API key cannot mint or revoke keys). Another user's key answers 404, the
same as a key that does not exist.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from fastapi import APIRouter, status

from spacecomputer.api._deps import API_PREFIX, SessionDep, SignedInUser
from spacecomputer.api._errors import BODY, error_responses
from spacecomputer.api._schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyPublic
from spacecomputer.api.security import check_api_key_scopes, generate_api_key
from spacecomputer.errors import ConflictError, NotFoundError
from spacecomputer.storage import ApiKey, User, utc_now

__all__ = ["MAX_ACTIVE_KEYS", "router"]

MAX_ACTIVE_KEYS = 20
"""Most unrevoked keys one account may hold (our own limit)."""

router = APIRouter(prefix=f"{API_PREFIX}/users/me/api-keys", tags=["api keys"], responses=error_responses(401, 403))


async def _owned_key(session: SessionDep, user: User, key_id: uuid.UUID) -> ApiKey:
    key = await session.get(ApiKey, key_id)
    if key is None or key.user_id != user.id:
        raise NotFoundError(f"API key {key_id} not found", details={"resource": "api_key", "id": str(key_id)})
    return key


@router.post("", status_code=status.HTTP_201_CREATED, responses=error_responses(*BODY, 409))
async def create_api_key(body: ApiKeyCreate, user: SignedInUser, session: SessionDep) -> ApiKeyCreated:
    """Create a key carrying ``scopes`` (within the caller's role: 403 otherwise); the key is in this answer only."""
    scopes = check_api_key_scopes(body.scopes, role=user.role)
    active = await session.scalar(
        sa.select(sa.func.count()).select_from(ApiKey).where(ApiKey.user_id == user.id, ApiKey.revoked_at.is_(None))
    )
    if (active or 0) >= MAX_ACTIVE_KEYS:
        raise ConflictError(
            f"an account may hold {MAX_ACTIVE_KEYS} active API keys; revoke one first",
            details={"max_active_keys": MAX_ACTIVE_KEYS},
        )
    generated = generate_api_key()
    key = ApiKey(
        user_id=user.id, prefix=generated.prefix, key_hash=generated.key_hash, name=body.name, scopes=sorted(scopes)
    )
    session.add(key)
    await session.commit()
    return ApiKeyCreated(**ApiKeyPublic.of(key).model_dump(), key=generated.plaintext)


@router.get("")
async def list_api_keys(user: SignedInUser, session: SessionDep) -> list[ApiKeyPublic]:
    """List the caller's keys, newest first (revoked ones included, marked)."""
    keys = await session.scalars(
        sa.select(ApiKey).where(ApiKey.user_id == user.id).order_by(ApiKey.created_at.desc(), ApiKey.id)
    )
    return [ApiKeyPublic.of(key) for key in keys]


@router.get("/{key_id}", responses=error_responses(404, 422))
async def read_api_key(key_id: uuid.UUID, user: SignedInUser, session: SessionDep) -> ApiKeyPublic:
    """Return one of the caller's keys (404 for anyone else's)."""
    return ApiKeyPublic.of(await _owned_key(session, user, key_id))


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(404, 422))
async def revoke_api_key(key_id: uuid.UUID, user: SignedInUser, session: SessionDep) -> None:
    """Revoke one of the caller's keys: it is refused from the next request on (404 for anyone else's)."""
    key = await _owned_key(session, user, key_id)
    if key.revoked_at is None:
        key.revoked_at = utc_now()
        await session.commit()
