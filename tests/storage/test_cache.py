"""The Cache contract on the in-process cache and on the Redis server (a key prefix of this run's own)."""

from __future__ import annotations

import asyncio
import math
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import redis

from spacecomputer.errors import InvalidInputError, UpstreamUnavailableError
from spacecomputer.storage import Cache, MemoryCache, RedisCache

RUN_PREFIX = f"spacecomputer-test:{secrets.token_hex(6)}:"


@pytest.fixture(params=["memory", "redis"])
def make_cache(request: pytest.FixtureRequest) -> Callable[[], Cache]:
    """A factory: a Redis client belongs to the event loop it was made in, and each test runs its own loop."""
    if request.param == "memory":
        return MemoryCache
    url: str = request.getfixturevalue("redis_url")
    prefix = f"{RUN_PREFIX}{secrets.token_hex(4)}:"
    return lambda: RedisCache(url, prefix=prefix)


def run(make_cache: Callable[[], Cache], body: Callable[[Cache], Awaitable[Any]]) -> Any:
    """Run ``body`` with a fresh cache, then empty this cache's namespace (and only it) and close it."""

    async def main() -> Any:
        cache = make_cache()
        try:
            return await body(cache)
        finally:
            await cache.delete_prefix("")
            await cache.aclose()

    return asyncio.run(main())


def test_both_caches_satisfy_the_protocol(make_cache: Callable[[], Cache]) -> None:
    async def body(cache: Cache) -> bool:
        return isinstance(cache, Cache)

    assert run(make_cache, body)


VALUES = [{"metrics": {"knee_deg": [12.5, 30.0]}, "ok": True}, [1, "two", None, 3.5], "text ✓", 0, -7, 2.25, False]


def test_json_values_round_trip_and_a_miss_is_none(make_cache: Callable[[], Cache]) -> None:
    async def body(cache: Cache) -> tuple[list[Any], Any, Any]:
        for index, value in enumerate(VALUES):
            await cache.set(f"v{index}", value)
        await cache.set("tuple", (1, 2))
        return [await cache.get(f"v{i}") for i in range(len(VALUES))], await cache.get("tuple"), await cache.get("nope")

    values, as_list, miss = run(make_cache, body)
    assert values == VALUES
    assert as_list == [1, 2]
    assert miss is None


def test_values_are_copies(make_cache: Callable[[], Cache]) -> None:
    async def body(cache: Cache) -> Any:
        value = {"a": [1]}
        await cache.set("k", value)
        value["a"].append(2)
        got = await cache.get("k")
        got["a"].append(3)
        return await cache.get("k")

    assert run(make_cache, body) == {"a": [1]}


@pytest.mark.parametrize("value", [None, {1, 2}, object(), math.nan, {"x": math.inf}, b"bytes"])
def test_values_json_cannot_hold_are_refused(make_cache: Callable[[], Cache], value: Any) -> None:
    async def body(cache: Cache) -> Any:
        with pytest.raises(InvalidInputError, match="cannot cache"):
            await cache.set("k", value)
        return await cache.get("k")

    assert run(make_cache, body) is None


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda c: c.set("k", 1, ttl_s=0), "ttl_s"),
        (lambda c: c.set("k", 1, ttl_s=-1.0), "ttl_s"),
        (lambda c: c.set("k", 1, ttl_s=True), "ttl_s"),
        (lambda c: c.get(""), "cache key"),
        (lambda c: c.get("k" * 1025), "cache key"),
        (lambda c: c.incr("k", 1.5), "integer"),
        (lambda c: c.incr("k", True), "integer"),
    ],
)
def test_bad_arguments_are_refused(make_cache: Callable[[], Cache], call: Callable[[Cache], Any], match: str) -> None:
    async def body(cache: Cache) -> None:
        with pytest.raises(InvalidInputError, match=match):
            await call(cache)

    run(make_cache, body)


def test_values_expire_after_their_ttl(make_cache: Callable[[], Cache]) -> None:
    async def body(cache: Cache) -> tuple[Any, Any, Any]:
        await cache.set("short", "s", ttl_s=0.15)
        await cache.set("forever", "f")
        present = await cache.get("short")
        await asyncio.sleep(0.3)
        return present, await cache.get("short"), await cache.get("forever")

    assert run(make_cache, body) == ("s", None, "f")


def test_delete_says_whether_the_key_was_there(make_cache: Callable[[], Cache]) -> None:
    async def body(cache: Cache) -> tuple[bool, bool, Any]:
        await cache.set("k", 1)
        return await cache.delete("k"), await cache.delete("k"), await cache.get("k")

    assert run(make_cache, body) == (True, False, None)


def test_delete_prefix_removes_exactly_the_matching_keys(make_cache: Callable[[], Cache]) -> None:
    keys = ["analysis:1:metrics", "analysis:1:events", "analysis:10:metrics", "analysis:2:metrics", "a*[x]?:1", "az:1"]

    async def body(cache: Cache) -> tuple[int, int, int, dict[str, Any]]:
        for key in keys:
            await cache.set(key, key)
        first = await cache.delete_prefix("analysis:1:")
        glob = await cache.delete_prefix("a*[x]?:")  # glob characters are matched literally
        none = await cache.delete_prefix("nothing:")
        return first, glob, none, {key: await cache.get(key) for key in keys}

    first, glob, none, left = run(make_cache, body)
    assert (first, glob, none) == (2, 1, 0)
    assert {key for key, value in left.items() if value is not None} == {
        "analysis:10:metrics",
        "analysis:2:metrics",
        "az:1",
    }


def test_counters(make_cache: Callable[[], Cache]) -> None:
    async def body(cache: Cache) -> tuple[list[int], Any]:
        counts = [
            await cache.incr("hits"),
            await cache.incr("hits"),
            await cache.incr("hits", 5),
            await cache.incr("hits", -2),
        ]
        await cache.set("preset", 40)
        counts.append(await cache.incr("preset", 2))
        return counts, await cache.get("hits")

    assert run(make_cache, body) == ([1, 2, 7, 5, 42], 5)


def test_a_counter_window_starts_with_its_first_hit_and_is_not_extended(make_cache: Callable[[], Cache]) -> None:
    async def body(cache: Cache) -> tuple[int, int, Any, int]:
        first = await cache.incr("window", ttl_s=0.3)
        await asyncio.sleep(0.2)
        second = await cache.incr("window", ttl_s=0.3)  # must not push the expiry to 0.5 s
        await asyncio.sleep(0.2)
        expired = await cache.get("window")
        return first, second, expired, await cache.incr("window", ttl_s=0.3)

    assert run(make_cache, body) == (1, 2, None, 1)


@pytest.mark.parametrize("value", ["text", 1.5, True, {"n": 1}])
def test_incr_of_something_else_than_an_integer_is_refused(make_cache: Callable[[], Cache], value: Any) -> None:
    async def body(cache: Cache) -> Any:
        await cache.set("k", value)
        with pytest.raises(InvalidInputError, match="not an integer"):
            await cache.incr("k")
        return await cache.get("k")

    assert run(make_cache, body) == value


def test_ping(make_cache: Callable[[], Cache]) -> None:
    run(make_cache, lambda cache: cache.ping())


def test_memory_cache_evicts_the_least_recently_used() -> None:
    async def main() -> tuple[list[Any], int]:
        cache = MemoryCache(max_entries=3)
        for key in "abc":
            await cache.set(key, key)
        await cache.get("a")  # b is now the least recently used
        await cache.set("d", "d")
        return [await cache.get(key) for key in "abcd"], len(cache)

    assert asyncio.run(main()) == (["a", None, "c", "d"], 3)


@pytest.mark.parametrize("max_entries", [0, -1, True, 2.0])
def test_memory_cache_needs_a_positive_size(max_entries: Any) -> None:
    with pytest.raises(InvalidInputError, match="max_entries"):
        MemoryCache(max_entries=max_entries)


def test_redis_cache_touches_nothing_outside_its_prefix(redis_url: str) -> None:
    outsider = f"{RUN_PREFIX}outsider"
    client = redis.Redis.from_url(redis_url)
    client.set(outsider, "keep me")
    try:

        async def body(cache: Cache) -> None:
            await cache.set("mine", 1)
            assert await cache.delete_prefix("") == 1

        run(lambda: RedisCache(redis_url, prefix=f"{RUN_PREFIX}inner:"), body)
        assert client.get(outsider) == b"keep me"
    finally:
        client.delete(outsider)
        client.close()


def test_redis_cache_needs_a_prefix_and_a_valid_url() -> None:
    with pytest.raises(InvalidInputError, match="prefix"):
        RedisCache("redis://127.0.0.1:6379/0", prefix="")
    with pytest.raises(InvalidInputError, match="Redis URL"):
        RedisCache("http://127.0.0.1:6379", prefix="p:")


def test_an_unreachable_redis_is_an_upstream_error() -> None:
    async def main() -> None:
        cache = RedisCache("redis://127.0.0.1:1/0", prefix="p:", connect_timeout_s=0.5)
        try:
            for call in (cache.ping(), cache.get("k"), cache.set("k", 1), cache.incr("k"), cache.delete_prefix("")):
                with pytest.raises(UpstreamUnavailableError, match="Redis is unavailable"):
                    await call
        finally:
            await cache.aclose()

    asyncio.run(main())
