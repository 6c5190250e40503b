from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest

from spacecomputer.api.security import (
    AuthenticationError,
    TotpReplayStore,
    new_totp_enrolment,
    totp_provisioning_uri,
    verify_totp,
)
from spacecomputer.errors import InvalidInputError

# 2030-01-01T00:00:10Z lies 10 s into its 30-s step.
NOW = datetime(2030, 1, 1, 0, 0, 10, tzinfo=UTC)
STEP = int(NOW.timestamp()) // 30


class MemoryCounters:
    """Test double of the ``TotpReplayStore`` protocol (the API passes its Cache): counters with lifetimes."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.ttls: dict[str, float | None] = {}

    async def incr(self, key: str, amount: int = 1, *, ttl_s: float | None = None) -> int:
        self.counts[key] = self.counts.get(key, 0) + amount
        self.ttls.setdefault(key, ttl_s)
        return self.counts[key]


@pytest.fixture
def secret() -> str:
    return new_totp_enrolment(account_name="alice@example.com").secret


def code_at(secret: str, moment: datetime) -> str:
    return pyotp.TOTP(secret).at(moment)


def verify(secret: str, code: str, store: TotpReplayStore, *, user: str = "alice", now: datetime = NOW) -> int:
    return asyncio.run(verify_totp(secret, code, store=store, replay_key=user, now=now))


def reason_of(secret: str, code: str, store: TotpReplayStore, **kwargs: object) -> str:
    with pytest.raises(AuthenticationError) as caught:
        verify(secret, code, store, **kwargs)  # type: ignore[arg-type]
    return caught.value.reason


def test_enrolment_gives_a_160_bit_secret_and_a_readable_uri() -> None:
    enrolment = new_totp_enrolment(account_name="alice@example.com", issuer="Space Computer")
    assert re.fullmatch(r"[A-Z2-7]{32}", enrolment.secret)
    uri = urlparse(enrolment.provisioning_uri)
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    assert parse_qs(uri.query)["secret"] == [enrolment.secret]
    assert parse_qs(uri.query)["issuer"] == ["Space Computer"]
    parsed = pyotp.parse_uri(enrolment.provisioning_uri)
    assert isinstance(parsed, pyotp.TOTP)
    assert parsed.secret == enrolment.secret
    assert parsed.name == "alice@example.com"
    assert enrolment.secret not in repr(enrolment)
    assert new_totp_enrolment(account_name="a").secret != enrolment.secret


def test_current_and_adjacent_steps_are_accepted_and_no_further(secret: str) -> None:
    store = MemoryCounters()
    assert verify(secret, code_at(secret, NOW), store) == STEP
    assert verify(secret, code_at(secret, NOW - timedelta(seconds=30)), store) == STEP - 1
    assert verify(secret, code_at(secret, NOW + timedelta(seconds=30)), store) == STEP + 1
    for offset_s in (-60, 60, 3600):
        assert reason_of(secret, code_at(secret, NOW + timedelta(seconds=offset_s)), store) == "totp_invalid"


def test_a_used_code_cannot_be_replayed_within_its_window(secret: str) -> None:
    store = MemoryCounters()
    code = code_at(secret, NOW)
    assert verify(secret, code, store) == STEP
    assert reason_of(secret, code, store) == "totp_replayed"
    # 25 s later the same code is still inside the ±1 window — and still refused.
    assert reason_of(secret, code, store, now=NOW + timedelta(seconds=25)) == "totp_replayed"
    # The code is accepted until step STEP + 1 ends, 50 s after NOW; the spent mark lasts one step (30 s) longer.
    assert store.ttls[f"totp:alice:{STEP}"] == pytest.approx(80.0)
    # Another account with the same code is a different key.
    assert verify(secret, code, store, user="bob") == STEP


def test_code_formatting(secret: str) -> None:
    store = MemoryCounters()
    code = code_at(secret, NOW)
    assert verify(secret, f" {code[:3]} {code[3:]} ", store) == STEP
    fullwidth = code.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    for typed in ("", code[:5], code + "0", "abcdef", fullwidth, "1e5000"):
        assert reason_of(secret, typed, store, user="carol") == "totp_invalid"


def test_bad_secret_and_window_are_configuration_errors() -> None:
    with pytest.raises(InvalidInputError, match="base32"):
        verify("not base32!", "123456", MemoryCounters())
    with pytest.raises(InvalidInputError, match="base32"):
        verify("JBSWY3DP", "123456", MemoryCounters())
    with pytest.raises(InvalidInputError, match="window_steps"):
        asyncio.run(verify_totp("A" * 32, "123456", store=MemoryCounters(), replay_key="x", window_steps=-1))
    with pytest.raises(InvalidInputError):
        totp_provisioning_uri("A" * 32, account_name="")
