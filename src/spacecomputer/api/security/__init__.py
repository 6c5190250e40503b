"""Security building blocks of the API: tokens, passwords, roles, API keys, two-factor codes, rate limits.

Each piece is pure logic over small persistence protocols (:class:`RefreshTokenStore`, :class:`ApiKeyStore`,
:class:`TotpReplayStore`), which the API wires to the database and the cache::

    AuthenticationError (401)   a missing, malformed, expired or revoked credential
    PermissionDeniedError (403) an authenticated caller without the permission (spacecomputer.errors)
    NotFoundError (404)         another user's object, as if it did not exist (spacecomputer.errors)
    RateLimitedError (429)      RateLimitResult.raise_if_refused (spacecomputer.errors)
"""

from spacecomputer.api.security._api_keys import (
    API_KEY_MARKER,
    ApiKeyRecord,
    ApiKeyStore,
    GeneratedApiKey,
    generate_api_key,
    hash_api_key,
    parse_api_key,
    principal_for_api_key,
    verify_api_key,
)
from spacecomputer.api.security._errors import AuthenticationError
from spacecomputer.api.security._passwords import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    PasswordCheck,
    PasswordHasher,
    check_password_policy,
    hash_password,
    password_policy_problems,
    verify_password,
)
from spacecomputer.api.security._rate_limits import (
    DEFAULT_PLAN_LIMITS,
    RateLimiter,
    RateLimitResult,
    rate_limit_key,
)
from spacecomputer.api.security._rbac import (
    PERMISSIONS,
    ROLE_PERMISSIONS,
    ROLES,
    Principal,
    check_api_key_scopes,
    owned_or_not_found,
    require,
    role_permissions,
)
from spacecomputer.api.security._refresh import (
    IssuedRefreshToken,
    RefreshTokenRecord,
    RefreshTokenStore,
    hash_refresh_token,
    revoke_refresh_family,
    rotate_refresh_token,
)
from spacecomputer.api.security._tokens import (
    DEVELOPMENT_SECRET,
    SUPPORTED_ALGORITHMS,
    AccessClaims,
    TokenService,
    check_secret,
)
from spacecomputer.api.security._totp import (
    TotpEnrolment,
    TotpReplayStore,
    new_totp_enrolment,
    totp_provisioning_uri,
    verify_totp,
)

__all__ = [
    "API_KEY_MARKER",
    "DEFAULT_PLAN_LIMITS",
    "DEVELOPMENT_SECRET",
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "PERMISSIONS",
    "ROLES",
    "ROLE_PERMISSIONS",
    "SUPPORTED_ALGORITHMS",
    "AccessClaims",
    "ApiKeyRecord",
    "ApiKeyStore",
    "AuthenticationError",
    "GeneratedApiKey",
    "IssuedRefreshToken",
    "PasswordCheck",
    "PasswordHasher",
    "Principal",
    "RateLimitResult",
    "RateLimiter",
    "RefreshTokenRecord",
    "RefreshTokenStore",
    "TokenService",
    "TotpEnrolment",
    "TotpReplayStore",
    "check_api_key_scopes",
    "check_password_policy",
    "check_secret",
    "generate_api_key",
    "hash_api_key",
    "hash_password",
    "hash_refresh_token",
    "new_totp_enrolment",
    "owned_or_not_found",
    "parse_api_key",
    "password_policy_problems",
    "principal_for_api_key",
    "rate_limit_key",
    "require",
    "revoke_refresh_family",
    "role_permissions",
    "rotate_refresh_token",
    "totp_provisioning_uri",
    "verify_api_key",
    "verify_password",
    "verify_totp",
]
