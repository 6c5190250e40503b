"""Who is calling: the bearer access token or the ``X-API-Key`` header of a request, verified once per request.

:func:`authenticate` is called by the rate-limit middleware (to count the request against its caller's plan) and by
the ``CurrentPrincipal`` dependency (to let the route through); the outcome — a :class:`Caller`, ``None`` for an
anonymous request, or the :class:`~spacecomputer.errors.AuthenticationError` — is kept in the ASGI scope, so the
token or key is verified only once.

The role and plan come from the account, not from the token: a demoted administrator loses ``admin.manage`` at once,
whatever the token says, and a deleted or disabled account's tokens stop working. What a request needs of the
account (role, plan, disabled) is cached for :data:`ACCOUNT_CACHE_TTL_S` under the user's cache prefix; the cache
being down only means asking the database.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import MutableMapping
from dataclasses import asdict, dataclass
from typing import Any

from starlette.datastructures import Headers

from spacecomputer.api._platform import Platform, user_cache_prefix
from spacecomputer.api._stores import DatabaseApiKeyStore
from spacecomputer.api.security import Principal, principal_for_api_key, verify_api_key
from spacecomputer.errors import AuthenticationError, UpstreamUnavailableError
from spacecomputer.storage import User

__all__ = [
    "ACCOUNT_CACHE_TTL_S",
    "CALLER_KEY",
    "AccountFacts",
    "Caller",
    "account_facts",
    "authenticate",
    "forget_account_facts",
]

ACCOUNT_CACHE_TTL_S = 30.0
"""How long a request may rely on cached role, plan and disabled flag, seconds (our own choice)."""
CALLER_KEY = "spacecomputer.caller"
"""Key of the authentication outcome in the ASGI scope."""
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AccountFacts:
    """What authenticating a request needs to know about the account."""

    role: str
    plan: str
    disabled: bool


@dataclass(frozen=True)
class Caller:
    """An authenticated caller: the principal routes check, and the plan tier its requests count against."""

    principal: Principal
    plan: str


def _facts_key(user_id: uuid.UUID) -> str:
    return f"{user_cache_prefix(user_id)}account"


async def account_facts(platform: Platform, user_id: uuid.UUID) -> AccountFacts | None:
    """Return the role, plan and disabled flag of ``user_id`` (cached), or ``None`` if there is no such account."""
    key = _facts_key(user_id)
    try:
        cached = await platform.cache.get(key)
    except UpstreamUnavailableError:
        cached = None
    if isinstance(cached, dict):
        try:
            return AccountFacts(**cached)
        except TypeError:  # written by another version of the platform: read the account again
            pass
    async with platform.database.session() as session:
        user = await session.get(User, user_id)
    if user is None:
        return None
    facts = AccountFacts(role=user.role, plan=user.plan, disabled=user.disabled)
    try:
        await platform.cache.set(key, asdict(facts), ttl_s=ACCOUNT_CACHE_TTL_S)
    except UpstreamUnavailableError:
        _log.debug("cache unavailable: account facts of %s not cached", user_id)
    return facts


async def forget_account_facts(platform: Platform, user_id: uuid.UUID) -> None:
    """Drop the cached facts of ``user_id`` (after its role, plan or disabled flag changed); best effort."""
    try:
        await platform.cache.delete(_facts_key(user_id))
    except UpstreamUnavailableError:
        _log.warning("cache unavailable: account facts of %s stay cached up to %.0f s", user_id, ACCOUNT_CACHE_TTL_S)


async def _usable_account(platform: Platform, user_id: uuid.UUID) -> AccountFacts:
    facts = await account_facts(platform, user_id)
    if facts is None:
        raise AuthenticationError("the account of this credential no longer exists", reason="unknown_user")
    if facts.disabled:
        raise AuthenticationError("this account is disabled", reason="account_disabled")
    return facts


async def _authenticate(platform: Platform, headers: Headers) -> Caller | None:
    authorization, api_key = headers.get("authorization"), headers.get("x-api-key")
    if authorization is not None and api_key is not None:
        raise AuthenticationError(
            "send one credential: a bearer token or an X-API-Key header, not both", reason="ambiguous_credentials"
        )
    if api_key is not None:
        record = await verify_api_key(DatabaseApiKeyStore(platform.database), api_key.strip())
        facts = await _usable_account(platform, record.user_id)
        return Caller(principal=principal_for_api_key(record, owner_role=facts.role), plan=facts.plan)
    if authorization is not None:
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError(
                "expected the header 'Authorization: Bearer <access token>'", reason="unsupported_scheme"
            )
        claims = platform.tokens.decode_access(token.strip())
        facts = await _usable_account(platform, claims.user_id)
        principal = Principal(user_id=claims.user_id, role=facts.role, scopes=claims.scopes, via="token")
        return Caller(principal=principal, plan=facts.plan)
    return None


async def authenticate(platform: Platform, scope: MutableMapping[str, Any]) -> Caller | None:
    """Return the request's caller, ``None`` when it sent no credential, or raise why its credential is refused.

    Raises
    ------
    AuthenticationError
        A malformed, expired, revoked or unknown token or key, both kinds at once, or a deleted or disabled account.
    UpstreamUnavailableError
        The database did not answer (the credential could not be checked).

    """
    outcome = scope.get(CALLER_KEY)
    if isinstance(outcome, AuthenticationError):
        raise outcome
    if outcome is not None or CALLER_KEY in scope:
        return outcome if isinstance(outcome, Caller) else None
    try:
        caller = await _authenticate(platform, Headers(scope=scope))
    except AuthenticationError as error:
        scope[CALLER_KEY] = error
        raise
    scope[CALLER_KEY] = caller
    return caller
