"""Roles, permissions, the authenticated caller, and the checks a route makes.

Permissions are the seed's names: ``video.upload``, ``analysis.request``, ``ai.query``, ``community.share``,
``admin.manage``. Which role holds which is our own mapping:

=========  ============  ================  ========  ===============  ============
role       video.upload  analysis.request  ai.query  community.share  admin.manage
=========  ============  ================  ========  ===============  ============
user       ✓             ✓                 ✓         ✓
coach      ✓             ✓                 ✓         ✓
admin      ✓             ✓                 ✓         ✓                ✓
=========  ============  ================  ========  ===============  ============

A coach holds the same seed permissions as a user today; the role exists for the coach features (the athletes
one coaches) of later issues. Reading or deleting one's own objects needs no permission: ownership is the check.

A :class:`Principal` is the authenticated caller. What it may do is its role's permissions *intersected with*
its scopes: a token issued at login carries the role's permissions as scopes; an API key carries the scopes
chosen when it was created (:func:`check_api_key_scopes` keeps them within the owner's permissions), and
intersecting with the role again on every request means an owner who loses a permission loses it on every key.

Object-level access: :func:`owned_or_not_found` answers 404 for another user's object — never 403, which would
confirm that the object exists. Admins pass it only where a route says it is an admin route.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from spacecomputer.api.security._tokens import AccessClaims
from spacecomputer.errors import InvalidInputError, NotFoundError, PermissionDeniedError

__all__ = [
    "PERMISSIONS",
    "ROLES",
    "ROLE_PERMISSIONS",
    "Principal",
    "check_api_key_scopes",
    "owned_or_not_found",
    "require",
    "role_permissions",
]

PERMISSIONS = ("video.upload", "analysis.request", "ai.query", "community.share", "admin.manage")
"""Every permission, by the seed's names."""
_MEMBER = frozenset({"video.upload", "analysis.request", "ai.query", "community.share"})
ROLE_PERMISSIONS: Mapping[str, frozenset[str]] = MappingProxyType(
    {"user": _MEMBER, "coach": _MEMBER, "admin": frozenset(PERMISSIONS)}
)
"""Role → the permissions it holds (our own mapping; module docstring)."""
ROLES = tuple(ROLE_PERMISSIONS)
"""Every role."""


def role_permissions(role: str) -> frozenset[str]:
    """Return the permissions ``role`` holds; an unknown role holds none."""
    return ROLE_PERMISSIONS.get(role, frozenset())


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of a request.

    Attributes
    ----------
    user_id
        The user acting (for an API key, its owner).
    role
        The user's role.
    scopes
        The permissions the credential carries (token ``scope`` or API-key scopes).
    via
        How the caller authenticated: ``"token"`` (bearer access token) or ``"api_key"``.
    api_key_id
        The API key's id when ``via == "api_key"`` (rate limits count per key), else ``None``.

    """

    user_id: uuid.UUID
    role: str
    scopes: frozenset[str]
    via: Literal["token", "api_key"]
    api_key_id: uuid.UUID | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "scopes", frozenset(self.scopes))
        if self.via not in ("token", "api_key"):
            raise InvalidInputError(f"via must be 'token' or 'api_key'; got {self.via!r}")
        if (self.via == "api_key") != (self.api_key_id is not None):
            raise InvalidInputError("api_key_id is required for via='api_key' and only then")

    @classmethod
    def from_access_claims(cls, claims: AccessClaims) -> Principal:
        """Return the principal of a verified access token."""
        return cls(user_id=claims.user_id, role=claims.role, scopes=claims.scopes, via="token")

    @property
    def permissions(self) -> frozenset[str]:
        """What this caller may do: the role's permissions that its credential's scopes also grant."""
        return role_permissions(self.role) & self.scopes

    def can(self, permission: str) -> bool:
        """Return whether this caller holds ``permission``."""
        return permission in self.permissions


def _check_known(permissions: Iterable[str]) -> list[str]:
    names = list(permissions)
    unknown = sorted({name for name in names if name not in PERMISSIONS})
    if unknown:
        raise InvalidInputError(
            f"unknown permission(s) {', '.join(map(repr, unknown))}; expected some of {', '.join(PERMISSIONS)}",
            details={"unknown": unknown, "expected": list(PERMISSIONS)},
        )
    return names


def require(principal: Principal, permission: str) -> None:
    """Return quietly if ``principal`` holds ``permission``, else raise ``PermissionDeniedError`` (403).

    Raises
    ------
    InvalidInputError
        ``permission`` is not one of :data:`PERMISSIONS` (a route asking for a misspelt permission).
    PermissionDeniedError
        The caller is authenticated but lacks ``permission``.

    """
    _check_known([permission])
    if not principal.can(permission):
        raise PermissionDeniedError(
            f"this needs the {permission!r} permission, which your {principal.via.replace('_', ' ')} lacks",
            details={"permission": permission, "role": principal.role, "via": principal.via},
        )


def check_api_key_scopes(scopes: Iterable[str], *, role: str) -> frozenset[str]:
    """Return ``scopes`` for a new API key of a user with ``role`` if they are valid, else raise.

    Raises
    ------
    InvalidInputError
        No scope, or a name that is not a permission (422).
    PermissionDeniedError
        A scope the owner's role does not hold (403): a key never grants more than its owner has.

    """
    names = frozenset(_check_known(scopes))
    if not names:
        raise InvalidInputError(
            "an API key needs at least one scope", details={"field": "scopes", "expected": list(PERMISSIONS)}
        )
    not_held = sorted(names - role_permissions(role))
    if not_held:
        raise PermissionDeniedError(
            f"an API key cannot carry scopes your role {role!r} lacks: {', '.join(not_held)}",
            details={"not_held": not_held, "role": role},
        )
    return names


def owned_or_not_found(
    obj_owner_id: uuid.UUID | None,
    principal: Principal,
    *,
    resource: str = "resource",
    resource_id: object = None,
    admin_route: bool = False,
) -> None:
    """Return quietly if ``principal`` may see an object owned by ``obj_owner_id``, else raise ``NotFoundError``.

    Parameters
    ----------
    obj_owner_id
        The object's owner, or ``None`` when the object does not exist (same answer, same message).
    principal
        The caller.
    resource, resource_id
        What was asked for, for the message (``"video"``, its id).
    admin_route
        Whether the route is an admin route; only there does ``admin.manage`` open every user's objects.

    Raises
    ------
    NotFoundError
        Missing object, or another user's (404 either way: existence is not revealed).

    """
    if obj_owner_id is not None and (
        obj_owner_id == principal.user_id or (admin_route and principal.can("admin.manage"))
    ):
        return
    if resource_id is None:
        raise NotFoundError(f"{resource} not found", details={"resource": resource})
    raise NotFoundError(f"{resource} {resource_id} not found", details={"resource": resource, "id": str(resource_id)})
