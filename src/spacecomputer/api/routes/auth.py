"""``/users/login``, ``/users/refresh``, ``/users/logout`` and two-factor enrolment (``/users/me/totp``).

Login is the OAuth 2.0 password grant (form-encoded ``username`` and ``password``, so the "Authorize" button of
``/docs`` works), with ``totp_code`` for accounts that have two-factor on. Refresh tokens rotate on every use; a
reused one revokes its whole login (``spacecomputer.api.security``). Logout revokes the login of the refresh token
it is given; access tokens already issued run out within their short lifetime.

Two-factor enrolment is two steps: ``POST /users/me/totp`` draws a secret, kept pending in the cache for
:data:`TOTP_PENDING_TTL_S`; ``POST /users/me/totp/confirm`` with a first code from the app switches it on. A typo
during enrolment therefore cannot lock anyone out.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, status

from spacecomputer.api._accounts import issue_tokens, sign_in, token_pair, totp_replay_key
from spacecomputer.api._deps import API_PREFIX, PlatformDep, SessionDep, SignedInUser
from spacecomputer.api._errors import BODY, error_responses
from spacecomputer.api._platform import Platform, user_cache_prefix
from spacecomputer.api._schemas import (
    LoginForm,
    RefreshRequest,
    TokenPair,
    TotpCode,
    TotpEnrolmentPublic,
    UserPublic,
    normalise_email,
)
from spacecomputer.api._stores import DatabaseRefreshTokenStore
from spacecomputer.api.security import new_totp_enrolment, revoke_refresh_family, verify_totp
from spacecomputer.errors import AuthenticationError, ConflictError, InvalidInputError, NotFoundError
from spacecomputer.storage import User, utc_now

__all__ = ["TOTP_PENDING_TTL_S", "router"]

TOTP_PENDING_TTL_S = 600
"""How long a drawn TOTP secret waits for its confirming code, seconds (our own choice)."""

router = APIRouter(prefix=f"{API_PREFIX}/users", tags=["auth"])


@router.post("/login", responses=error_responses(*BODY, 401))
async def login(form: Annotated[LoginForm, Form()], platform: PlatformDep, session: SessionDep) -> TokenPair:
    """Exchange e-mail and password (and one-time code) for an access token and a refresh token."""
    try:
        email = normalise_email(form.username)
    except ValueError:
        email = form.username  # not an address: no account matches, and the answer is the usual 401
    user = await sign_in(platform, session, email=email, password=form.password, totp_code=form.totp_code)
    return await issue_tokens(platform, user)


@router.post("/refresh", responses=error_responses(*BODY, 401))
async def refresh(body: RefreshRequest, platform: PlatformDep, session: SessionDep) -> TokenPair:
    """Rotate a refresh token: the successor and a new access token (401 for an unknown, reused or revoked one)."""
    store = DatabaseRefreshTokenStore(platform.database)
    successor = await platform.tokens.rotate(store, body.refresh_token)
    user = await session.get(User, successor.user_id)
    if user is None or user.disabled:
        await store.revoke_family(successor.family_id, at=utc_now())
        raise AuthenticationError("the account of this refresh token is gone or disabled", reason="unknown_user")
    return token_pair(platform, user, refresh_token=successor.token)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(*BODY))
async def logout(body: RefreshRequest, platform: PlatformDep) -> None:
    """End the login of this refresh token (every token of its family); 204 whether or not it was known."""
    await revoke_refresh_family(DatabaseRefreshTokenStore(platform.database), body.refresh_token)


def _pending_key(user_id: uuid.UUID) -> str:
    return f"{user_cache_prefix(user_id)}totp_pending"


async def _check_code(platform: Platform, secret: str, code: str, user_id: uuid.UUID) -> None:
    """Verify ``code``; a wrong one is a 422 here (the caller *is* authenticated: 401 would mean a bad token)."""
    try:
        await verify_totp(secret, code, store=platform.cache, replay_key=totp_replay_key(user_id))
    except AuthenticationError as error:
        raise InvalidInputError(error.message, details={"field": "code", "reason": error.reason}) from None


@router.post("/me/totp", status_code=status.HTTP_201_CREATED, responses=error_responses(401, 403, 409))
async def enrol_totp(user: SignedInUser, platform: PlatformDep) -> TotpEnrolmentPublic:
    """Draw a TOTP secret for the caller (pending until confirmed); 409 if two-factor is already on."""
    if user.totp_secret is not None:
        raise ConflictError("two-factor authentication is already on; disable it first to enrol a new device")
    enrolment = new_totp_enrolment(account_name=user.email)
    await platform.cache.set(_pending_key(user.id), enrolment.secret, ttl_s=TOTP_PENDING_TTL_S)
    return TotpEnrolmentPublic(
        secret=enrolment.secret, provisioning_uri=enrolment.provisioning_uri, expires_in=TOTP_PENDING_TTL_S
    )


@router.post("/me/totp/confirm", responses=error_responses(*BODY, 401, 403, 404))
async def confirm_totp(body: TotpCode, user: SignedInUser, platform: PlatformDep, session: SessionDep) -> UserPublic:
    """Switch two-factor on with a first code from the app; 404 if no enrolment is pending."""
    secret = await platform.cache.get(_pending_key(user.id))
    if not isinstance(secret, str):
        raise NotFoundError("no two-factor enrolment is pending (or it expired): start one with POST /users/me/totp")
    await _check_code(platform, secret, body.code, user.id)
    user.totp_secret = secret
    await session.commit()
    await platform.cache.delete(_pending_key(user.id))
    return UserPublic.of(user)


@router.post(
    "/me/totp/disable", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(*BODY, 401, 403, 409)
)
async def disable_totp(body: TotpCode, user: SignedInUser, platform: PlatformDep, session: SessionDep) -> None:
    """Switch two-factor off, proven with a current code; 409 if it is off."""
    if user.totp_secret is None:
        raise ConflictError("two-factor authentication is not on")
    await _check_code(platform, user.totp_secret, body.code, user.id)
    user.totp_secret = None
    await session.commit()
