"""What the account routes do, apart from HTTP: create, sign in, issue tokens, set a password, delete everything.

Password hashing (argon2id, tens of milliseconds and 64 MiB by default) runs in a worker thread so the event loop
keeps serving other requests meanwhile.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from spacecomputer.api._auth import forget_account_facts
from spacecomputer.api._platform import LOGIN_TIER, Platform, user_blob_prefix, user_cache_prefix
from spacecomputer.api._schemas import TokenPair
from spacecomputer.api._stores import DatabaseRefreshTokenStore
from spacecomputer.api.security import check_password_policy, role_permissions, verify_totp
from spacecomputer.errors import AuthenticationError, ConflictError, UpstreamUnavailableError
from spacecomputer.storage import User

__all__ = [
    "AccountDeletion",
    "create_user",
    "delete_account",
    "issue_tokens",
    "set_password",
    "sign_in",
    "totp_replay_key",
]

_log = logging.getLogger(__name__)


def totp_replay_key(user_id: uuid.UUID) -> str:
    """Return the name under which the spent TOTP codes of ``user_id`` are counted (``totp:<id>:<step>`` keys)."""
    return str(user_id)


async def _hash(platform: Platform, password: str) -> str:
    return await asyncio.to_thread(platform.passwords.hash, password)


async def create_user(
    platform: Platform, session: AsyncSession, *, email: str, password: str, role: str = "user"
) -> User:
    """Add an account for ``email`` (already normalised) with a policy-checked ``password``; commit it.

    Raises
    ------
    InvalidInputError
        The password breaks the policy (``details["reasons"]`` lists every rule).
    ConflictError
        An account with this e-mail exists.

    """
    check_password_policy(password, email=email)
    if await session.scalar(sa.select(User.id).where(User.email == email)) is not None:
        raise ConflictError("an account with this e-mail address exists", details={"field": "email"})
    user = User(email=email, password_hash=await _hash(platform, password), role=role)
    session.add(user)
    try:
        await session.commit()
    except sa.exc.IntegrityError:  # registered concurrently, between the check and the insert
        await session.rollback()
        raise ConflictError("an account with this e-mail address exists", details={"field": "email"}) from None
    return user


async def set_password(platform: Platform, session: AsyncSession, user: User, password: str) -> None:
    """Replace ``user``'s password with a policy-checked one and commit."""
    check_password_policy(password, email=user.email)
    user.password_hash = await _hash(platform, password)
    await session.commit()


async def sign_in(
    platform: Platform, session: AsyncSession, *, email: str, password: str, totp_code: str | None
) -> User:
    """Return the account ``email`` if ``password`` (and, when two-factor is on, ``totp_code``) are right.

    Attempts are counted per account first (``settings.login_rate_limit``), so neither passwords nor one-time codes
    can be guessed quickly. An unknown e-mail costs the same hashing time as a wrong password and gets the same
    answer. A stored hash made with other parameters than the current ones is replaced.

    Raises
    ------
    RateLimitedError
        Too many attempts for this account (429).
    AuthenticationError
        Wrong e-mail or password (``invalid_credentials``), disabled account, missing (``totp_required``), wrong or
        replayed one-time code.

    """
    account_key = "login:" + hashlib.sha256(email.encode("utf-8")).hexdigest()[:32]
    (await platform.login_limiter.hit(account_key, LOGIN_TIER)).raise_if_refused()
    user = await session.scalar(sa.select(User).where(User.email == email))
    check = await asyncio.to_thread(platform.passwords.verify, password, user.password_hash if user else None)
    if user is None or not check.ok:
        raise AuthenticationError("the e-mail address or the password is wrong", reason="invalid_credentials")
    if user.disabled:
        raise AuthenticationError("this account is disabled", reason="account_disabled")
    if user.totp_secret is not None:
        if not totp_code:
            raise AuthenticationError(
                "this account has two-factor authentication on: send the current one-time code as totp_code",
                reason="totp_required",
            )
        await verify_totp(user.totp_secret, totp_code, store=platform.cache, replay_key=totp_replay_key(user.id))
    if check.new_hash is not None:
        user.password_hash = check.new_hash
        await session.commit()
    return user


async def issue_tokens(platform: Platform, user: User) -> TokenPair:
    """Start a new login (refresh-token family) for ``user``; return its access and refresh tokens."""
    refresh = await platform.tokens.start_refresh_family(DatabaseRefreshTokenStore(platform.database), user.id)
    return token_pair(platform, user, refresh_token=refresh.token)


def token_pair(platform: Platform, user: User, *, refresh_token: str) -> TokenPair:
    """Return an access token for ``user`` (its role's permissions as scopes) beside ``refresh_token``."""
    access = platform.tokens.issue_access(user.id, user.role, role_permissions(user.role))
    return TokenPair(
        access_token=access,
        expires_in=round(platform.tokens.access_ttl_s),
        refresh_token=refresh_token,
        refresh_expires_in=round(platform.tokens.refresh_ttl_s),
    )


@dataclass(frozen=True)
class AccountDeletion:
    """What deleting an account removed: its blobs and cache entries (its rows go by the database's cascades)."""

    blobs_deleted: int
    cache_entries_deleted: int


async def delete_account(platform: Platform, user_id: uuid.UUID) -> AccountDeletion:
    """Delete the account ``user_id`` and every byte of its data: blobs, rows (cascade), cache entries.

    Blobs go first, so a blob store that fails leaves the account in place to try again (503) rather than blobs
    nobody owns; they are swept once more after the rows are gone, in case an upload landed in between. Cache
    entries are best effort: they expire on their own.

    Raises
    ------
    UpstreamUnavailableError
        The blob store or the database did not answer; nothing that remains has lost its owner.

    """
    prefix = user_blob_prefix(user_id)
    blobs_deleted = await platform.blobs.delete_prefix(prefix)
    async with platform.database.session() as session, session.begin():
        await session.execute(sa.delete(User).where(User.id == user_id))
    try:
        blobs_deleted += await platform.blobs.delete_prefix(prefix)
    except UpstreamUnavailableError:
        _log.error("blobs under %s may remain after deleting account %s", prefix, user_id)
    platform.documents.drop_prefix(user_cache_prefix(user_id))
    cache_entries_deleted = 0
    for cache_prefix in (user_cache_prefix(user_id), f"totp:{totp_replay_key(user_id)}:"):
        try:
            cache_entries_deleted += await platform.cache.delete_prefix(cache_prefix)
        except UpstreamUnavailableError:
            _log.warning("cache entries under %s remain until they expire", cache_prefix)
    await forget_account_facts(platform, user_id)
    return AccountDeletion(blobs_deleted=blobs_deleted, cache_entries_deleted=cache_entries_deleted)
