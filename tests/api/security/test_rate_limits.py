"""Rate limits in process and on a real Redis.

Redis: ``SPACECOMPUTER_TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/15``); when it does not answer, its cases
fail if ``CI`` is set and are skipped otherwise. Each test uses its own key prefix and deletes only those keys.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import redis

from spacecomputer.api.security import (
    DEFAULT_PLAN_LIMITS,
    Principal,
    RateLimiter,
    RateLimitResult,
    rate_limit_key,
)
from spacecomputer.errors import InvalidInputError, RateLimitedError

REDIS_URL = os.environ.get("SPACECOMPUTER_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
PLANS = {"tiny": "3/minute", "burst": "2/second;3/minute", "free": "60/minute"}


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1.0)
    try:
        client.ping()
    except redis.RedisError as error:
        client.close()
        message = f"Redis at {REDIS_URL} is unreachable: {error}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    prefix = f"sc-test-ratelimit-{secrets.token_hex(6)}"
    try:
        yield prefix
    finally:
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)
        client.close()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def hits(limiter: RateLimiter, key: str, tier: str, count: int) -> list[RateLimitResult]:
    return [await limiter.hit(key, tier) for _ in range(count)]


def check_three_per_minute(results: list[RateLimitResult], started_s: float) -> None:
    """Four hits on "3/minute": three allowed (2, 1, 0 left), the fourth refused with a Retry-After ≤ 60 s."""
    assert [result.allowed for result in results] == [True, True, True, False]
    assert [result.remaining for result in results] == [2, 1, 0, 0]
    assert {result.limit for result in results} == {3}
    refused = results[-1]
    assert 58 <= refused.retry_after_s <= 60
    assert started_s + 58 <= refused.reset_at.timestamp() <= time.time() + 60
    assert refused.headers() == {
        "X-RateLimit-Limit": "3", "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": str(int(refused.reset_at.timestamp() + 0.999999)),
        "Retry-After": str(refused.retry_after_s),
    }  # fmt: skip
    assert "Retry-After" not in results[0].headers()
    assert results[0].retry_after_s == 0
    results[0].raise_if_refused()
    with pytest.raises(RateLimitedError) as caught:
        refused.raise_if_refused()
    assert caught.value.details["retry_after_s"] == refused.retry_after_s
    assert caught.value.details["limit"] == 3


def test_memory_limits_give_the_429_numbers() -> None:
    async def scenario() -> None:
        limiter = RateLimiter(plan_limits=PLANS)
        started_s = time.time()
        check_three_per_minute(await hits(limiter, "user:a", "tiny", 4), started_s)
        assert (await limiter.hit("user:b", "tiny")).remaining == 2
        await limiter.reset("user:a", "tiny")
        assert (await limiter.hit("user:a", "tiny")).allowed
        assert not (await limiter.hit("user:a", "tiny")).degraded

    asyncio.run(scenario())


def test_a_request_must_fit_every_limit_of_its_tier() -> None:
    async def scenario() -> None:
        limiter = RateLimiter(plan_limits=PLANS)
        first, second, third = await hits(limiter, "ip:1.2.3.4", "burst", 3)
        assert (first.allowed, first.limit, first.remaining) == (True, 2, 1)
        assert (second.allowed, second.limit, second.remaining) == (True, 2, 0)
        assert (third.allowed, third.limit, third.retry_after_s) == (False, 2, 1)
        await asyncio.sleep(1.05)
        fourth, fifth = await hits(limiter, "ip:1.2.3.4", "burst", 2)
        assert (fourth.allowed, fourth.limit, fourth.remaining) == (True, 3, 0)
        assert (fifth.allowed, fifth.limit) == (False, 3)
        assert 57 <= fifth.retry_after_s <= 60

    asyncio.run(scenario())


def test_fixed_window_resets_at_the_window_end() -> None:
    async def scenario() -> None:
        limiter = RateLimiter(plan_limits={"t": "2/hour"}, strategy="fixed-window")
        started_s = time.time()
        results = await hits(limiter, "k", "t", 3)
        assert [(r.allowed, r.remaining) for r in results] == [(True, 1), (True, 0), (False, 0)]
        assert started_s + 3599 <= results[-1].reset_at.timestamp() <= time.time() + 3600
        assert 3598 <= results[-1].retry_after_s <= 3600

    asyncio.run(scenario())


def test_redis_limits_give_the_429_numbers_and_are_shared(redis_prefix: str) -> None:
    async def scenario() -> None:
        first = RateLimiter(plan_limits=PLANS, storage_url=REDIS_URL, key_prefix=redis_prefix)
        second = RateLimiter(plan_limits=PLANS, storage_url=REDIS_URL, key_prefix=redis_prefix)
        try:
            started_s = time.time()
            results = await hits(first, "user:a", "tiny", 2) + await hits(second, "user:a", "tiny", 2)
            check_three_per_minute(results, started_s)
            assert not any(result.degraded for result in results)
            assert (await first.hit("user:b", "tiny")).remaining == 2
        finally:
            await first.aclose()
            await second.aclose()

    asyncio.run(scenario())
    client = redis.Redis.from_url(REDIS_URL)
    try:
        assert any(True for _ in client.scan_iter(match=f"{redis_prefix}*"))
    finally:
        client.close()


def test_redis_down_falls_back_to_counting_in_process(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        limiter = RateLimiter(plan_limits=PLANS, storage_url=f"redis://127.0.0.1:{closed_port()}/0", timeout_s=0.2)
        try:
            started_s = time.time()
            results = await hits(limiter, "user:a", "tiny", 4)
            assert all(result.degraded for result in results)
            check_three_per_minute(results, started_s)
        finally:
            await limiter.aclose()

    with caplog.at_level(logging.WARNING, logger="spacecomputer.api.security._rate_limits"):
        asyncio.run(scenario())
    assert len([r for r in caplog.records if "counting in this process" in r.getMessage()]) == 1


@pytest.mark.parametrize(
    ("settings", "match"),
    [
        ({"plan_limits": {}}, "at least one tier"),
        ({"plan_limits": {"free": "sixty a minute"}}, "tier 'free'"),
        ({"storage_url": "memcached://127.0.0.1:11211"}, "redis://"),
        ({"strategy": "leaky-bucket"}, "unknown strategy"),
        ({"timeout_s": 0.0}, "timeout_s"),
    ],
)
def test_configuration_is_validated(settings: dict[str, object], match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        RateLimiter(**settings)  # type: ignore[arg-type]


def test_hits_are_validated() -> None:
    async def scenario() -> None:
        limiter = RateLimiter()
        assert limiter.tiers == tuple(DEFAULT_PLAN_LIMITS) == ("anonymous", "free", "pro", "enterprise")
        with pytest.raises(InvalidInputError, match="unknown plan tier 'gold'"):
            await limiter.hit("k", "gold")
        for key in ("", "k" * 257):
            with pytest.raises(InvalidInputError, match="key"):
                await limiter.hit(key, "free")
        with pytest.raises(InvalidInputError, match="cost"):
            await limiter.hit("k", "free", cost=0)
        assert (await limiter.hit("k", "pro", cost=10)).remaining == 590

    asyncio.run(scenario())


def test_rate_limit_keys() -> None:
    user, key_id = uuid.uuid4(), uuid.uuid4()
    token = Principal(user_id=user, role="user", scopes=frozenset(), via="token")
    api_key = Principal(user_id=user, role="user", scopes=frozenset(), via="api_key", api_key_id=key_id)
    assert rate_limit_key(token, "1.2.3.4") == f"user:{user}"
    assert rate_limit_key(api_key, "1.2.3.4") == f"api_key:{key_id}"
    assert rate_limit_key(None, "203.0.113.7") == "ip:203.0.113.7"
    assert (
        rate_limit_key(None, "2001:db8:1:2:aaaa::1")
        == rate_limit_key(None, "2001:db8:1:2::ffff")
        == ("ip:2001:db8:1:2::/64")
    )
    assert rate_limit_key(None, "::ffff:203.0.113.7") == "ip:203.0.113.7"
    assert rate_limit_key(None, "testclient") == "ip:testclient"


def test_result_headers_round_up_the_reset_time() -> None:
    result = RateLimitResult(
        allowed=True, limit=60, remaining=59, reset_at=datetime.fromtimestamp(1_900_000_000.2, UTC), retry_after_s=0
    )
    assert result.headers() == {
        "X-RateLimit-Limit": "60",
        "X-RateLimit-Remaining": "59",
        "X-RateLimit-Reset": "1900000001",
    }
