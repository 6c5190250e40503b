"""Signed access tokens (JWT): issuing, strict decoding, and the checks on the signing secret.

Access tokens
-------------
An access token is a JWS-signed JWT (RFC 7519) with the header ``{"alg": <configured>, "typ": "at+jwt"}`` (the
media type RFC 9068 §2.1 gives JWT access tokens) and the claims ``iss``, ``aud``, ``sub`` (the user's UUID),
``iat``, ``nbf``, ``exp``, ``jti``, ``typ = "access"``, ``role`` and ``scope`` (space-separated permission names,
as the ``scope`` claim of RFC 8693 §4.2). They live ``access_ttl_s`` seconds (15 minutes by default) and are not
stored: a short life is what bounds a stolen one.

Decoding accepts exactly the one configured algorithm. A token whose header names another — ``none``, an HMAC
algorithm on an RS256 service (the public key used as an HMAC secret: "algorithm confusion"), RS256 on an HMAC
service, or even HS512 on an HS256 service — is refused before any signature is computed. Every time claim is
required and checked (``exp`` in the past, ``nbf`` or ``iat`` in the future, with ``leeway_s`` of clock skew),
``aud`` and ``iss`` must equal the configured strings exactly, and both the header ``typ`` and the ``typ`` claim
must say "access", so no other token signed with the same key (a future e-mail or reset token) passes for one.
Every refusal is an :class:`AuthenticationError` (HTTP 401) with a ``reason``.

A :class:`TokenService` remembers the claims of the last :data:`VERIFIED_TOKENS_KEPT` tokens it accepted and
accepts the very same token again without decoding it until its ``exp`` (plus the leeway): the same bytes verify
the same way under the same key, and only the time claims change with time. Refusals are never remembered. (A
client sends its token with every request; decoding it is most of the cost of a cached read.)

Secrets
-------
HMAC secrets must be at least as long as the hash output — 32 bytes for HS256, 48 for HS384, 64 for HS512
(RFC 7518 §3.2) — in every environment. RS256 takes a PEM private key of at least 2048 bits (RFC 7518 §3.3).
:data:`DEVELOPMENT_SECRET`, the default a laptop runs with, is refused outside ``environment="development"``.
"""

from __future__ import annotations

import math
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from spacecomputer.api.security._errors import AuthenticationError
from spacecomputer.api.security._refresh import (
    IssuedRefreshToken,
    RefreshTokenStore,
    as_utc,
    issue_refresh_token,
    rotate_refresh_token,
)
from spacecomputer.errors import InvalidInputError

__all__ = [
    "DEVELOPMENT_SECRET",
    "MAX_TOKEN_LENGTH",
    "SUPPORTED_ALGORITHMS",
    "VERIFIED_TOKENS_KEPT",
    "AccessClaims",
    "TokenService",
    "check_secret",
]

DEVELOPMENT_SECRET = "spacecomputer-development-secret-not-for-deployment"
"""The JWT secret a development set-up may use; refused in any other environment."""
MAX_TOKEN_LENGTH = 8192
VERIFIED_TOKENS_KEPT = 4096
"""Accepted access tokens a :class:`TokenService` remembers, least recently used first out (our own bound)."""
"""Longest access token decoded, characters (our own bound; ours are a few hundred)."""
_HMAC_MIN_KEY_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}
_RSA_MIN_KEY_BITS = 2048
SUPPORTED_ALGORITHMS = (*_HMAC_MIN_KEY_BYTES, "RS256")
"""Signing algorithms a :class:`TokenService` can be configured with (one at a time)."""
_HEADER_TYP = "at+jwt"
_ACCESS = "access"
_REQUIRED_CLAIMS = ["iss", "aud", "sub", "iat", "nbf", "exp", "jti", "typ"]


def check_secret(secret: str, environment: str, *, algorithm: str = "HS256") -> str:
    """Return ``secret`` if it may sign tokens with ``algorithm`` in ``environment``, else raise.

    Parameters
    ----------
    secret
        The HMAC secret (HS256/384/512) or a PEM-encoded RSA private key (RS256).
    environment
        ``"development"``, ``"test"`` or ``"production"``; only development accepts :data:`DEVELOPMENT_SECRET`.
    algorithm
        One of :data:`SUPPORTED_ALGORITHMS`.

    Raises
    ------
    InvalidInputError
        Unsupported algorithm, an HMAC secret shorter than the hash output, an unreadable or short RSA key,
        or the development secret outside development.

    Examples
    --------
    >>> check_secret("x" * 32, "production") == "x" * 32
    True
    >>> check_secret(DEVELOPMENT_SECRET, "production")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    spacecomputer.errors.InvalidInputError: the development JWT secret is refused outside development ...

    """
    if algorithm not in SUPPORTED_ALGORITHMS:
        raise InvalidInputError(
            f"unsupported JWT algorithm {algorithm!r}; expected one of {', '.join(SUPPORTED_ALGORITHMS)}",
            details={"algorithm": algorithm, "expected": list(SUPPORTED_ALGORITHMS)},
        )
    if algorithm in _HMAC_MIN_KEY_BYTES:
        size_bytes, needed_bytes = len(secret.encode("utf-8")), _HMAC_MIN_KEY_BYTES[algorithm]
        if size_bytes < needed_bytes:
            raise InvalidInputError(
                f"the JWT secret is {size_bytes} bytes; {algorithm} needs at least {needed_bytes} (RFC 7518 §3.2): "
                "generate one with `python -c 'import secrets; print(secrets.token_urlsafe(64))'`",
                details={"size_bytes": size_bytes, "min_size_bytes": needed_bytes, "algorithm": algorithm},
            )
    else:
        _rsa_private_key(secret)
    if secret == DEVELOPMENT_SECRET and environment != "development":
        raise InvalidInputError(
            f"the development JWT secret is refused outside development (environment {environment!r}); "
            "set SPACECOMPUTER_JWT_SECRET",
            details={"environment": environment},
        )
    return secret


def _rsa_private_key(pem: str) -> RSAPrivateKey:
    try:
        key = load_pem_private_key(pem.encode("utf-8"), password=None)
    except (ValueError, TypeError):
        raise InvalidInputError("RS256 needs an unencrypted PEM RSA private key; it could not be read") from None
    if not isinstance(key, RSAPrivateKey) or key.key_size < _RSA_MIN_KEY_BITS:
        size = key.key_size if isinstance(key, RSAPrivateKey) else None
        raise InvalidInputError(
            f"RS256 needs an RSA private key of at least {_RSA_MIN_KEY_BITS} bits (RFC 7518 §3.3); "
            f"got {type(key).__name__} of {size} bits",
            details={"key_type": type(key).__name__, "key_size_bits": size},
        )
    return key


@dataclass(frozen=True)
class AccessClaims:
    """What a verified access token says.

    Attributes
    ----------
    user_id
        The user the token was issued to (``sub``).
    role
        The user's role when the token was issued.
    scopes
        The permissions the token carries (``scope``); the role still bounds them (see ``rbac``).
    token_id
        The token's ``jti``, for logs and a deny-list should one be needed.
    issued_at, expires_at
        ``iat`` and ``exp`` as UTC datetimes (whole seconds).

    """

    user_id: uuid.UUID
    role: str
    scopes: frozenset[str]
    token_id: str
    issued_at: datetime
    expires_at: datetime


class TokenService:
    """Issue and verify access tokens; issue and rotate refresh tokens (module docstring for the rules).

    Parameters
    ----------
    secret
        HMAC secret or, for RS256, a PEM RSA private key (see :func:`check_secret`).
    issuer, audience
        The ``iss`` and ``aud`` written into and demanded from every access token.
    access_ttl_s
        Access-token lifetime, seconds (default 15 minutes).
    refresh_ttl_s
        Refresh-token lifetime, seconds (default 30 days); each rotation starts a new one.
    algorithm
        The one accepted signing algorithm, from :data:`SUPPORTED_ALGORITHMS`.
    environment
        Where the service runs; :data:`DEVELOPMENT_SECRET` is refused unless it is ``"development"``.
    leeway_s
        Clock skew tolerated on ``exp``, ``nbf`` and ``iat``, seconds (our own default: 5).

    """

    def __init__(
        self,
        secret: str,
        *,
        issuer: str,
        audience: str,
        access_ttl_s: float = 900.0,
        refresh_ttl_s: float = 30 * 86400.0,
        algorithm: str = "HS256",
        environment: str = "production",
        leeway_s: float = 5.0,
    ) -> None:
        check_secret(secret, environment, algorithm=algorithm)
        for name, text in (("issuer", issuer), ("audience", audience)):
            if not isinstance(text, str) or not text:
                raise InvalidInputError(f"{name} must be a non-empty string; got {text!r}", details={name: text})
        for name, value in (("access_ttl_s", access_ttl_s), ("refresh_ttl_s", refresh_ttl_s)):
            if not (math.isfinite(value) and value >= 1.0):
                raise InvalidInputError(f"{name} must be at least 1 second; got {value!r}", details={name: value})
        if not (math.isfinite(leeway_s) and leeway_s >= 0.0):
            raise InvalidInputError(f"leeway_s must be ≥ 0 seconds; got {leeway_s!r}", details={"leeway_s": leeway_s})
        self.issuer, self.audience, self.algorithm = issuer, audience, algorithm
        self.access_ttl_s, self.refresh_ttl_s, self.leeway_s = access_ttl_s, refresh_ttl_s, leeway_s
        self._signing_key: str | RSAPrivateKey
        self._verifying_key: str | RSAPublicKey
        if algorithm == "RS256":
            self._signing_key = _rsa_private_key(secret)
            self._verifying_key = self._signing_key.public_key()
        else:
            self._signing_key = self._verifying_key = secret
        self._verified: OrderedDict[str, tuple[float, AccessClaims]] = OrderedDict()  # token → (exp, claims)

    def __repr__(self) -> str:
        return f"TokenService(issuer={self.issuer!r}, audience={self.audience!r}, algorithm={self.algorithm!r})"

    def issue_access(self, user_id: uuid.UUID, role: str, scopes: Iterable[str], *, now: datetime | None = None) -> str:
        """Return a signed access token for ``user_id`` with ``role`` and ``scopes``.

        ``now`` (an aware datetime) is the issue time; the default is the current time.
        """
        scope_list = sorted(set(scopes))
        for scope in scope_list:
            if not scope or any(character.isspace() for character in scope):
                raise InvalidInputError(f"invalid scope {scope!r}: expected a name without spaces")
        if not role or any(character.isspace() for character in role):
            raise InvalidInputError(f"invalid role {role!r}: expected a name without spaces")
        issued = int(as_utc(now).timestamp())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": str(user_id),
            "iat": issued,
            "nbf": issued,
            "exp": issued + math.ceil(self.access_ttl_s),
            "jti": uuid.uuid4().hex,
            "typ": _ACCESS,
            "role": role,
            "scope": " ".join(scope_list),
        }
        return jwt.encode(claims, self._signing_key, algorithm=self.algorithm, headers={"typ": _HEADER_TYP})

    def decode_access(self, token: str) -> AccessClaims:
        """Verify ``token`` and return its claims, or raise :class:`AuthenticationError` saying why.

        A token accepted before is accepted again without decoding while unexpired (module docstring).
        """
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
            raise AuthenticationError("the access token is missing or malformed", reason="malformed")
        remembered = self._verified.get(token)
        if remembered is not None:
            expires_at_s, claims = remembered
            if time.time() < expires_at_s + self.leeway_s:  # PyJWT's test: expired once exp <= now - leeway
                self._verified.move_to_end(token)
                return claims
            del self._verified[token]
        claims = self._verify(token)
        self._verified[token] = (claims.expires_at.timestamp(), claims)
        if len(self._verified) > VERIFIED_TOKENS_KEPT:
            self._verified.popitem(last=False)
        return claims

    def _verify(self, token: str) -> AccessClaims:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise AuthenticationError("the access token is malformed", reason="malformed") from None
        if header.get("alg") != self.algorithm:
            raise AuthenticationError(
                f"access tokens signed with {header.get('alg')!r} are not accepted", reason="algorithm_not_allowed"
            )
        if header.get("typ") != _HEADER_TYP:
            raise AuthenticationError("the token is not an access token", reason="wrong_type")
        try:
            payload = jwt.decode(
                token,
                self._verifying_key,
                algorithms=[self.algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway_s,
                options={"require": _REQUIRED_CLAIMS, "strict_aud": True},
            )
        except jwt.PyJWTError as error:
            raise _refusal(error) from None
        return _claims(payload)

    def issue_refresh(
        self, user_id: uuid.UUID, family_id: uuid.UUID, *, now: datetime | None = None
    ) -> IssuedRefreshToken:
        """Return a new opaque refresh token for ``user_id`` in ``family_id`` (not yet stored: the caller adds it)."""
        return issue_refresh_token(user_id, family_id, ttl_s=self.refresh_ttl_s, now=now)

    async def start_refresh_family(
        self, store: RefreshTokenStore, user_id: uuid.UUID, *, now: datetime | None = None
    ) -> IssuedRefreshToken:
        """Start a new family (one login) for ``user_id``: issue its first refresh token and add it to ``store``."""
        issued = self.issue_refresh(user_id, uuid.uuid4(), now=now)
        await store.add(issued.record())
        return issued

    async def rotate(
        self, store: RefreshTokenStore, presented_token: str, *, now: datetime | None = None
    ) -> IssuedRefreshToken:
        """Exchange ``presented_token`` for its successor, added to ``store`` (see :func:`rotate_refresh_token`)."""
        return await rotate_refresh_token(store, presented_token, ttl_s=self.refresh_ttl_s, now=now)


_REFUSALS: tuple[tuple[type[jwt.PyJWTError], str, str], ...] = (
    (jwt.ExpiredSignatureError, "expired", "the access token has expired"),
    (jwt.ImmatureSignatureError, "not_yet_valid", "the access token is not valid yet"),
    (jwt.InvalidAudienceError, "wrong_audience", "the access token is for another audience"),
    (jwt.InvalidIssuerError, "wrong_issuer", "the access token comes from another issuer"),
    (jwt.MissingRequiredClaimError, "missing_claim", "the access token lacks a required claim"),
    (jwt.InvalidSignatureError, "bad_signature", "the access token's signature does not verify"),
    (jwt.InvalidAlgorithmError, "algorithm_not_allowed", "the access token's algorithm is not accepted"),
)


def _refusal(error: jwt.PyJWTError) -> AuthenticationError:
    for kind, reason, message in _REFUSALS:
        if isinstance(error, kind):
            return AuthenticationError(message, reason=reason)
    return AuthenticationError("the access token is malformed", reason="malformed")


def _claims(payload: dict[str, Any]) -> AccessClaims:
    if payload.get("typ") != _ACCESS:
        raise AuthenticationError("the token is not an access token", reason="wrong_type")
    role, scope = payload.get("role"), payload.get("scope")
    try:
        user_id = uuid.UUID(payload["sub"])
    except (TypeError, ValueError, AttributeError):
        raise AuthenticationError("the access token's subject is not a user id", reason="malformed") from None
    if not isinstance(role, str) or not isinstance(scope, str):
        raise AuthenticationError("the access token lacks its role or scope", reason="missing_claim")
    return AccessClaims(
        user_id=user_id,
        role=role,
        scopes=frozenset(scope.split()),
        token_id=str(payload["jti"]),
        issued_at=datetime.fromtimestamp(int(payload["iat"]), UTC),
        expires_at=datetime.fromtimestamp(int(payload["exp"]), UTC),
    )
