from __future__ import annotations

import uuid

import pytest

from spacecomputer.api.security import (
    PERMISSIONS,
    ROLES,
    Principal,
    check_api_key_scopes,
    owned_or_not_found,
    require,
    role_permissions,
)
from spacecomputer.errors import InvalidInputError, NotFoundError, PermissionDeniedError

ALICE, BOB = uuid.uuid4(), uuid.uuid4()

# The documented matrix, written out here rather than read from the module: role → permission → allowed.
MATRIX = {
    "user": {"video.upload": True, "analysis.request": True, "ai.query": True, "community.share": True,
             "admin.manage": False},
    "coach": {"video.upload": True, "analysis.request": True, "ai.query": True, "community.share": True,
              "admin.manage": False},
    "admin": {"video.upload": True, "analysis.request": True, "ai.query": True, "community.share": True,
              "admin.manage": True},
}  # fmt: skip


def login(role: str, user: uuid.UUID = ALICE) -> Principal:
    """The principal of a token issued at login: the role's permissions as scopes."""
    return Principal(user_id=user, role=role, scopes=role_permissions(role), via="token")


def test_permission_names_are_the_seeds() -> None:
    assert set(PERMISSIONS) == {"video.upload", "analysis.request", "ai.query", "community.share", "admin.manage"}
    assert set(ROLES) == set(MATRIX)


@pytest.mark.parametrize(("role", "permission", "allowed"), [(r, p, a) for r in MATRIX for p, a in MATRIX[r].items()])
def test_role_permission_matrix(role: str, permission: str, allowed: bool) -> None:
    principal = login(role)
    assert principal.can(permission) is allowed
    if allowed:
        require(principal, permission)
    else:
        with pytest.raises(PermissionDeniedError) as caught:
            require(principal, permission)
        assert caught.value.details == {"permission": permission, "role": role, "via": "token"}


def test_scopes_narrow_a_role_but_never_widen_it() -> None:
    narrow = Principal(user_id=ALICE, role="admin", scopes=frozenset({"ai.query"}), via="token")
    assert narrow.permissions == {"ai.query"}
    with pytest.raises(PermissionDeniedError):
        require(narrow, "admin.manage")
    forged_scope = Principal(user_id=ALICE, role="user", scopes=frozenset(PERMISSIONS), via="token")
    with pytest.raises(PermissionDeniedError):
        require(forged_scope, "admin.manage")


def test_api_key_of_a_demoted_owner_loses_what_the_owner_lost() -> None:
    key = Principal(user_id=ALICE, role="user", scopes=frozenset({"admin.manage", "ai.query"}), via="api_key",
                    api_key_id=uuid.uuid4())  # fmt: skip
    assert key.permissions == {"ai.query"}
    with pytest.raises(PermissionDeniedError, match="api key lacks"):
        require(key, "admin.manage")


def test_unknown_role_holds_nothing() -> None:
    ghost = Principal(user_id=ALICE, role="superuser", scopes=frozenset(PERMISSIONS), via="token")
    assert ghost.permissions == frozenset()


def test_misspelt_permission_is_a_programming_error() -> None:
    with pytest.raises(InvalidInputError, match="unknown permission"):
        require(login("admin"), "video.uplaod")


def test_principal_checks_its_credential_kind() -> None:
    with pytest.raises(InvalidInputError):
        Principal(user_id=ALICE, role="user", scopes=frozenset(), via="api_key")
    with pytest.raises(InvalidInputError):
        Principal(user_id=ALICE, role="user", scopes=frozenset(), via="token", api_key_id=uuid.uuid4())
    with pytest.raises(InvalidInputError):
        Principal(user_id=ALICE, role="user", scopes=frozenset(), via="cookie")  # type: ignore[arg-type]


def test_api_key_scopes_must_be_known_held_and_present() -> None:
    assert check_api_key_scopes(["ai.query", "video.upload", "ai.query"], role="user") == {"ai.query", "video.upload"}
    assert check_api_key_scopes(PERMISSIONS, role="admin") == set(PERMISSIONS)
    with pytest.raises(PermissionDeniedError) as denied:
        check_api_key_scopes(["ai.query", "admin.manage"], role="coach")
    assert denied.value.details["not_held"] == ["admin.manage"]
    with pytest.raises(InvalidInputError) as unknown:
        check_api_key_scopes(["ai.query", "root"], role="admin")
    assert unknown.value.details["unknown"] == ["root"]
    with pytest.raises(InvalidInputError, match="at least one scope"):
        check_api_key_scopes([], role="admin")


def test_owner_sees_own_object() -> None:
    owned_or_not_found(ALICE, login("user", ALICE), resource="video", resource_id=1)


@pytest.mark.parametrize("role", ["user", "coach", "admin"])
def test_another_users_object_is_not_found_not_forbidden(role: str) -> None:
    with pytest.raises(NotFoundError) as caught:
        owned_or_not_found(BOB, login(role, ALICE), resource="analysis", resource_id="a1")
    assert not isinstance(caught.value, PermissionDeniedError)
    assert caught.value.message == "analysis a1 not found"
    with pytest.raises(NotFoundError) as missing:
        owned_or_not_found(None, login(role, ALICE), resource="analysis", resource_id="a1")
    assert missing.value.to_dict() == caught.value.to_dict()


def test_admin_sees_all_only_on_admin_routes() -> None:
    owned_or_not_found(BOB, login("admin", ALICE), admin_route=True)
    for principal in (
        login("user", ALICE),
        login("coach", ALICE),
        Principal(user_id=ALICE, role="admin", scopes=frozenset({"ai.query"}), via="api_key", api_key_id=uuid.uuid4()),
    ):
        with pytest.raises(NotFoundError):
            owned_or_not_found(BOB, principal, admin_route=True)
    with pytest.raises(NotFoundError):
        owned_or_not_found(None, login("admin", ALICE), admin_route=True)
