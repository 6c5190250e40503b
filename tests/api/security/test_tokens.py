from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from spacecomputer.api.security import (
    DEVELOPMENT_SECRET,
    AuthenticationError,
    Principal,
    TokenService,
    check_secret,
)
from spacecomputer.errors import InvalidInputError

SECRET = secrets.token_urlsafe(48)
ISSUER, AUDIENCE = "https://auth.spacecomputer.test", "spacecomputer-api"
USER = uuid.UUID("12345678-1234-5678-1234-567812345678")


@pytest.fixture(scope="module")
def service() -> TokenService:
    return TokenService(SECRET, issuer=ISSUER, audience=AUDIENCE, environment="test")


@pytest.fixture(scope="module")
def rsa_pem() -> tuple[str, bytes]:
    """An RSA-2048 private key (PEM text) and its public key (PEM bytes)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict[str, Any], claims: dict[str, Any], hmac_key: bytes | None, digest: str = "sha256") -> str:
    """Build a JWS by hand, as an attacker would: any header, any claims, HMAC with any key (or no signature)."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    if hmac_key is None:
        return signing_input + "."
    signature = hmac.new(hmac_key, signing_input.encode(), getattr(hashlib, digest)).digest()
    return f"{signing_input}.{_b64(signature)}"


def valid_claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": ISSUER, "aud": AUDIENCE, "sub": str(USER), "iat": now, "nbf": now, "exp": now + 600,
        "jti": uuid.uuid4().hex, "typ": "access", "role": "admin", "scope": "admin.manage video.upload",
    }  # fmt: skip
    claims.update(changes)
    return {key: value for key, value in claims.items() if value is not None}


def reason_of(service: TokenService, token: str) -> str:
    with pytest.raises(AuthenticationError) as caught:
        service.decode_access(token)
    assert caught.value.code == "authentication_failed"
    return caught.value.reason


def test_round_trip_gives_back_what_was_issued(service: TokenService) -> None:
    token = service.issue_access(USER, "coach", ["ai.query", "video.upload", "ai.query"])
    claims = service.decode_access(token)
    assert (claims.user_id, claims.role, claims.scopes) == (USER, "coach", frozenset({"ai.query", "video.upload"}))
    assert (claims.expires_at - claims.issued_at) == timedelta(seconds=900)
    assert abs(claims.issued_at.timestamp() - time.time()) < 5
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "at+jwt"}
    principal = Principal.from_access_claims(claims)
    assert (principal.user_id, principal.via, principal.api_key_id) == (USER, "token", None)


def test_the_service_signs_tokens_the_forger_accepts_when_honest(service: TokenService) -> None:
    # The hand-built forgeries below are refused for what they change, not for how they are built.
    token = forge({"alg": "HS256", "typ": "at+jwt"}, valid_claims(), SECRET.encode())
    assert service.decode_access(token).role == "admin"


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_unsigned_alg_none_token_is_refused(service: TokenService, alg: str) -> None:
    token = forge({"alg": alg, "typ": "at+jwt"}, valid_claims(), None)
    assert reason_of(service, token) == "algorithm_not_allowed"


def test_pyjwt_none_token_is_refused(service: TokenService) -> None:
    token = jwt.encode(valid_claims(), None, algorithm="none", headers={"typ": "at+jwt"})  # type: ignore[arg-type]
    assert reason_of(service, token) == "algorithm_not_allowed"


def test_hmac_signed_with_the_rsa_public_key_is_refused(rsa_pem: tuple[str, bytes]) -> None:
    private, public = rsa_pem
    service = TokenService(private, issuer=ISSUER, audience=AUDIENCE, algorithm="RS256", environment="test")
    assert service.decode_access(service.issue_access(USER, "user", ["ai.query"])).role == "user"
    forged = forge({"alg": "HS256", "typ": "at+jwt"}, valid_claims(), public)
    assert reason_of(service, forged) == "algorithm_not_allowed"
    # The forgery is the real thing: it verifies as HS256 for anyone treating the public key as an HMAC secret.
    signing_input, _, signature = forged.rpartition(".")
    expected = hmac.new(public, signing_input.encode(), hashlib.sha256).digest()
    assert _b64(expected) == signature


def test_rs256_token_on_an_hmac_service_is_refused(service: TokenService, rsa_pem: tuple[str, bytes]) -> None:
    private, _ = rsa_pem
    token = jwt.encode(valid_claims(), private, algorithm="RS256", headers={"typ": "at+jwt"})
    assert reason_of(service, token) == "algorithm_not_allowed"


def test_only_the_configured_hmac_algorithm_is_accepted(service: TokenService) -> None:
    token = forge({"alg": "HS512", "typ": "at+jwt"}, valid_claims(), SECRET.encode(), digest="sha512")
    assert reason_of(service, token) == "algorithm_not_allowed"


def test_wrong_key_and_tampered_claims_fail_the_signature(service: TokenService) -> None:
    other = forge({"alg": "HS256", "typ": "at+jwt"}, valid_claims(), secrets.token_bytes(32))
    assert reason_of(service, other) == "bad_signature"
    header, payload, signature = service.issue_access(USER, "user", ["ai.query"]).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    escalated = _b64(json.dumps({**claims, "role": "admin", "scope": "admin.manage"}).encode())
    assert reason_of(service, f"{header}.{escalated}.{signature}") == "bad_signature"


def test_expired_token_is_refused_and_leeway_is_only_seconds(service: TokenService) -> None:
    now = datetime.now(UTC)
    assert reason_of(service, service.issue_access(USER, "user", [], now=now - timedelta(seconds=920))) == "expired"
    within_leeway = service.issue_access(USER, "user", [], now=now - timedelta(seconds=902))
    assert service.decode_access(within_leeway).user_id == USER


def test_token_from_the_future_is_refused(service: TokenService) -> None:
    future = service.issue_access(USER, "user", [], now=datetime.now(UTC) + timedelta(seconds=60))
    assert reason_of(service, future) == "not_yet_valid"


def test_wrong_audience_is_refused(service: TokenService) -> None:
    other = TokenService(SECRET, issuer=ISSUER, audience="spacecomputer-admin", environment="test")
    assert reason_of(other, service.issue_access(USER, "user", [])) == "wrong_audience"
    listed = forge({"alg": "HS256", "typ": "at+jwt"}, valid_claims(aud=[AUDIENCE, "x"]), SECRET.encode())
    assert reason_of(service, listed) == "wrong_audience"


@pytest.mark.parametrize("issuer", [ISSUER + ".evil", ISSUER[:-1], "https://auth", ""])
def test_wrong_issuer_is_refused(service: TokenService, issuer: str) -> None:
    token = forge({"alg": "HS256", "typ": "at+jwt"}, valid_claims(iss=issuer), SECRET.encode())
    assert reason_of(service, token) == "wrong_issuer"


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf", "aud", "iss", "sub", "jti", "typ"])
def test_every_claim_is_required(service: TokenService, claim: str) -> None:
    token = forge({"alg": "HS256", "typ": "at+jwt"}, valid_claims(**{claim: None}), SECRET.encode())
    assert reason_of(service, token) == "missing_claim"


def test_refresh_token_used_as_access_token_is_refused(service: TokenService) -> None:
    opaque = service.issue_refresh(USER, uuid.uuid4()).token
    assert reason_of(service, opaque) == "malformed"
    refresh_typed = forge({"alg": "HS256", "typ": "at+jwt"}, valid_claims(typ="refresh"), SECRET.encode())
    assert reason_of(service, refresh_typed) == "wrong_type"
    plain_jwt = forge({"alg": "HS256", "typ": "JWT"}, valid_claims(), SECRET.encode())
    assert reason_of(service, plain_jwt) == "wrong_type"


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "x" * 9000, "eyJhbGciOiJIUzI1NiJ9..."])
def test_malformed_tokens_are_refused(service: TokenService, token: str) -> None:
    assert reason_of(service, token) == "malformed"


def test_subject_must_be_a_user_id(service: TokenService) -> None:
    token = forge({"alg": "HS256", "typ": "at+jwt"}, valid_claims(sub="admin"), SECRET.encode())
    assert reason_of(service, token) == "malformed"


def test_issue_access_refuses_bad_scopes_and_naive_times(service: TokenService) -> None:
    with pytest.raises(InvalidInputError):
        service.issue_access(USER, "user", ["ai.query video.upload"])
    with pytest.raises(InvalidInputError):
        service.issue_access(USER, "", [])
    with pytest.raises(InvalidInputError, match="timezone-aware"):
        service.issue_access(USER, "user", [], now=datetime(2025, 1, 1))


@pytest.mark.parametrize(("algorithm", "size"), [("HS256", 31), ("HS384", 47), ("HS512", 63)])
@pytest.mark.parametrize("environment", ["development", "test", "production"])
def test_short_hmac_secrets_are_refused_everywhere(algorithm: str, size: int, environment: str) -> None:
    with pytest.raises(InvalidInputError, match="RFC 7518") as caught:
        check_secret("k" * size, environment, algorithm=algorithm)
    assert caught.value.details["min_size_bytes"] == size + 1
    assert check_secret("k" * (size + 1), environment, algorithm=algorithm) == "k" * (size + 1)


def test_development_secret_only_in_development() -> None:
    assert check_secret(DEVELOPMENT_SECRET, "development") == DEVELOPMENT_SECRET
    for environment in ("test", "production", "staging"):
        with pytest.raises(InvalidInputError, match="outside development"):
            check_secret(DEVELOPMENT_SECRET, environment)
    with pytest.raises(InvalidInputError, match="outside development"):
        TokenService(DEVELOPMENT_SECRET, issuer=ISSUER, audience=AUDIENCE)
    assert TokenService(DEVELOPMENT_SECRET, issuer=ISSUER, audience=AUDIENCE, environment="development")


def test_unsupported_algorithms_and_bad_rsa_keys_are_refused() -> None:
    for algorithm in ("none", "HS1", "ES256", "rs256"):
        with pytest.raises(InvalidInputError, match="unsupported JWT algorithm"):
            check_secret(SECRET, "test", algorithm=algorithm)
    with pytest.raises(InvalidInputError, match="could not be read"):
        check_secret(SECRET, "test", algorithm="RS256")
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(InvalidInputError, match="2048 bits"):
        check_secret(small.decode(), "test", algorithm="RS256")


@pytest.mark.parametrize(
    "changes",
    [{"issuer": ""}, {"audience": ""}, {"access_ttl_s": 0.0}, {"refresh_ttl_s": float("inf")}, {"leeway_s": -1.0}],
)
def test_service_settings_are_validated(changes: dict[str, Any]) -> None:
    settings: dict[str, Any] = {"issuer": ISSUER, "audience": AUDIENCE, "environment": "test", **changes}
    with pytest.raises(InvalidInputError):
        TokenService(SECRET, **settings)


def test_repr_does_not_show_the_secret(service: TokenService) -> None:
    assert SECRET not in repr(service)
    assert "HS256" in repr(service)


def test_an_accepted_token_is_remembered_until_it_expires_and_then_refused() -> None:
    service = TokenService(SECRET, issuer=ISSUER, audience=AUDIENCE, environment="test", leeway_s=0.0)
    # Issued 899 s before now with a 900 s life: it expires within the next second.
    token = service.issue_access(USER, "user", ["ai.query"], now=datetime.now(UTC) - timedelta(seconds=899))
    first = service.decode_access(token)
    assert service.decode_access(token) is first  # remembered, not decoded again
    time.sleep(max(0.0, first.expires_at.timestamp() - time.time()) + 0.05)
    with pytest.raises(AuthenticationError) as caught:
        service.decode_access(token)
    assert caught.value.reason == "expired"


def test_a_refused_token_is_refused_every_time(service: TokenService) -> None:
    header, payload, _ = service.issue_access(USER, "user", []).split(".")
    forged = f"{header}.{payload}.{_b64(b'not the signature')}"
    assert [reason_of(service, forged) for _ in range(2)] == ["bad_signature", "bad_signature"]
