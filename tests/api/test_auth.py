"""Login, refresh-token rotation and reuse, logout, bad access tokens, two-factor login, per-account login limits."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
import pytest

from spacecomputer.api.security import TokenService
from tests.api.conftest import JWT_SECRET, PASSWORD, Api, api_settings, running_api

pytestmark = pytest.mark.anyio


async def test_login_answers_an_oauth2_token_pair(api: Api) -> None:
    email = (await api.register())["email"]
    response = await api.client.post(
        "/api/v1/users/login", data={"grant_type": "password", "username": email.upper(), "password": PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 900
    assert body["refresh_expires_in"] == 30 * 86400
    assert response.headers["cache-control"] == "no-store"  # RFC 6749 §5.1
    me = await api.client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["email"] == email


@pytest.mark.parametrize("who", ["wrong password", "unknown e-mail"])
async def test_a_failed_login_is_401_and_does_not_say_which_part_was_wrong(api: Api, who: str) -> None:
    email = (await api.register())["email"]
    form = (
        {"username": email, "password": "Wrong horse 1"}
        if who == "wrong password"
        else {
            "username": "nobody@example.com",
            "password": PASSWORD,
        }
    )
    response = await api.client.post("/api/v1/users/login", data=form)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    error = response.json()["error"]
    assert error["message"] == "the e-mail address or the password is wrong"
    assert error["details"] == {"reason": "invalid_credentials"}


async def test_the_login_form_refuses_undeclared_fields(api: Api) -> None:
    email = (await api.register())["email"]
    response = await api.client.post(
        "/api/v1/users/login", data={"username": email, "password": PASSWORD, "role": "admin"}
    )
    assert response.status_code == 422


@pytest.mark.parametrize("field", ["username", "password"])
async def test_a_nul_character_in_the_login_form_is_422_not_a_server_error(api: Api, field: str) -> None:
    # PostgreSQL text cannot hold U+0000: found by the schema fuzzer as a 500 on the infrastructure back-end.
    email = (await api.register())["email"]
    form = {"username": email, "password": PASSWORD}
    form[field] = form[field] + "\x00"
    response = await api.client.post("/api/v1/users/login", data=form)
    assert response.status_code == 422
    assert "NUL" in response.text


async def test_refresh_rotates_and_a_reused_token_revokes_the_whole_login(api: Api) -> None:
    account = await api.new_user()
    first = account.tokens["refresh_token"]
    rotated = await api.client.post("/api/v1/users/refresh", json={"refresh_token": first})
    assert rotated.status_code == 200
    second = rotated.json()["refresh_token"]
    assert second != first
    assert (
        await api.client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {rotated.json()['access_token']}"})
    ).status_code == 200

    reused = await api.client.post("/api/v1/users/refresh", json={"refresh_token": first})
    assert reused.status_code == 401
    assert reused.json()["error"]["details"]["reason"] == "refresh_reused"
    after = await api.client.post("/api/v1/users/refresh", json={"refresh_token": second})
    assert after.status_code == 401
    assert after.json()["error"]["details"]["reason"] == "refresh_revoked"


async def test_logout_revokes_the_login_and_leaves_others(api: Api) -> None:
    account = await api.new_user()
    other_login = await api.login(account.email)
    response = await api.client.post("/api/v1/users/logout", json={"refresh_token": account.tokens["refresh_token"]})
    assert response.status_code == 204
    refused = await api.client.post("/api/v1/users/refresh", json={"refresh_token": account.tokens["refresh_token"]})
    assert refused.status_code == 401
    kept = await api.client.post("/api/v1/users/refresh", json={"refresh_token": other_login["refresh_token"]})
    assert kept.status_code == 200
    unknown = await api.client.post("/api/v1/users/logout", json={"refresh_token": "never-issued"})
    assert unknown.status_code == 204


def _unsigned_token(claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'at+jwt'})}.{part(claims)}."


@pytest.mark.parametrize(
    ("authorization", "reason"),
    [
        ("Bearer not-a-jwt", "malformed"),
        ("Basic dXNlcjpwYXNz", "unsupported_scheme"),
        ("Bearer ", "unsupported_scheme"),
        ("alg-none", "algorithm_not_allowed"),
        ("expired", "expired"),
    ],
)
async def test_bad_access_tokens_are_401_with_a_reason(api: Api, authorization: str, reason: str) -> None:
    account = await api.new_user()
    if authorization == "alg-none":
        now = int(time.time())
        claims = {
            "iss": "spacecomputer",
            "aud": "spacecomputer-api",
            "sub": str(account.id),
            "iat": now,
            "nbf": now,
            "exp": now + 600,
            "jti": "x",
            "typ": "access",
            "role": "admin",
            "scope": "admin.manage",
        }
        authorization = f"Bearer {_unsigned_token(claims)}"
    elif authorization == "expired":
        old = TokenService(JWT_SECRET, issuer="spacecomputer", audience="spacecomputer-api", environment="test")
        token = old.issue_access(account.id, "user", ["video.upload"], now=datetime.now(UTC) - timedelta(hours=1))
        authorization = f"Bearer {token}"
    response = await api.client.get("/api/v1/users/me", headers={"Authorization": authorization})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert response.json()["error"]["details"]["reason"] == reason


def _fresh_code(totp: pyotp.TOTP, spent_steps: set[int]) -> str:
    """Return a code of a step the server accepts now (current ±1) and that was not spent yet; mark it spent."""
    current = int(time.time() // 30)
    step = next(step for step in (current, current + 1, current - 1) if step not in spent_steps)
    spent_steps.add(step)
    return totp.at(step * 30)


async def test_two_factor_enrolment_login_replay_and_disabling(api: Api) -> None:
    account = await api.new_user()
    enrol = await api.client.post("/api/v1/users/me/totp", headers=account.headers)
    assert enrol.status_code == 201
    totp, spent = pyotp.TOTP(enrol.json()["secret"]), set[int]()
    assert enrol.json()["provisioning_uri"].startswith("otpauth://totp/")
    accepted_now = {totp.at(time.time() + offset) for offset in (-30, 0, 30)}
    wrong_code = next(code for code in ("000000", "111111", "222222", "333333") if code not in accepted_now)
    url = "/api/v1/users/me/totp/confirm"
    wrong = await api.client.post(url, json={"code": wrong_code}, headers=account.headers)
    assert wrong.status_code == 422
    confirmed = await api.client.post(url, json={"code": _fresh_code(totp, spent)}, headers=account.headers)
    assert confirmed.status_code == 200
    assert confirmed.json()["totp_enabled"] is True
    again = await api.client.post("/api/v1/users/me/totp", headers=account.headers)
    assert again.status_code == 409

    without = await api.client.post("/api/v1/users/login", data={"username": account.email, "password": PASSWORD})
    assert without.status_code == 401
    assert without.json()["error"]["details"]["reason"] == "totp_required"
    code = _fresh_code(totp, spent)
    tokens = await api.login(account.email, totp_code=code)
    replayed = await api.client.post(
        "/api/v1/users/login", data={"username": account.email, "password": PASSWORD, "totp_code": code}
    )
    assert replayed.status_code == 401
    assert replayed.json()["error"]["details"]["reason"] == "totp_replayed"

    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    disable_url = "/api/v1/users/me/totp/disable"
    disabled = await api.client.post(disable_url, json={"code": _fresh_code(totp, spent)}, headers=headers)
    assert disabled.status_code == 204
    assert (await api.login(account.email))["token_type"] == "bearer"


async def test_login_attempts_are_limited_per_account(backends: dict[str, Any]) -> None:
    async with running_api(api_settings(backends, login_rate_limit="3/minute")) as api:
        target, other = (await api.register())["email"], (await api.register())["email"]
        for _ in range(3):
            response = await api.client.post(
                "/api/v1/users/login", data={"username": target, "password": "Guess 1234!"}
            )
            assert response.status_code == 401
        blocked = await api.client.post("/api/v1/users/login", data={"username": target, "password": PASSWORD})
        assert blocked.status_code == 429
        assert int(blocked.headers["retry-after"]) >= 1
        assert blocked.json()["error"]["code"] == "rate_limited"
        assert (await api.login(other))["token_type"] == "bearer"
