"""Rate limits per user, API key and client IP by plan tier, on the ``limits`` library; counters in memory or Redis.

Tiers
-----
A tier maps to a ``limits`` rate string; :data:`DEFAULT_PLAN_LIMITS` (our own numbers) gives ``anonymous``
(requests without credentials, counted per IP) 30 a minute, ``free`` 60, ``pro`` 600 and ``enterprise`` 6000. A
tier may hold several limits — ``"60/minute;1000/day"`` — and a request must fit all of them.

Counting
--------
The default strategy is ``limits``' *moving window*: at most N hits in any period of the limit's length, exact,
with no burst of 2N across a fixed window's boundary; ``"fixed-window"`` and ``"sliding-window-counter"`` are
cheaper alternatives. Counters live in the process (``storage_url=None``) or in Redis (``redis://…``), where every
API instance shares them. In-process counters use ``limits``' synchronous memory storage, called straight from the
event loop (a few dictionary and list operations): its asyncio twin hands every expiry sweep to a thread, a hop
that costs more than the count itself on every request.

Keys: :func:`rate_limit_key` counts an API-key caller per key, a token caller per user, and anyone else per
client IP (an IPv6 client per /64 network, since one host usually holds a whole /64 — our own choice).

Degradation: when Redis fails (down, timeout), the limiter counts in the process instead for
``retry_primary_after_s`` seconds, then tries Redis again, and marks those results ``degraded``. Limits still hold
per instance (a client may get up to N × instances), and no request fails because the counter store did.

Answers: :class:`RateLimitResult` carries what the ``X-RateLimit-Limit`` / ``-Remaining`` / ``-Reset`` (Unix
time, seconds) and ``Retry-After`` (seconds) headers need (:meth:`RateLimitResult.headers`), and
:meth:`RateLimitResult.raise_if_refused` raises the :class:`~spacecomputer.errors.RateLimitedError` (429).
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Literal

import redis.asyncio
from limits import RateLimitItem, parse_many, strategies
from limits.aio import strategies as aio_strategies
from limits.aio.storage import RedisStorage
from limits.errors import StorageError
from limits.storage import MemoryStorage

from spacecomputer.api.security._rbac import Principal
from spacecomputer.errors import InvalidInputError, RateLimitedError, UpstreamUnavailableError

__all__ = ["DEFAULT_PLAN_LIMITS", "RateLimitResult", "RateLimiter", "rate_limit_key"]

DEFAULT_PLAN_LIMITS: Mapping[str, str] = MappingProxyType(
    {"anonymous": "30/minute", "free": "60/minute", "pro": "600/minute", "enterprise": "6000/minute"}
)
"""Tier → ``limits`` rate string (our own defaults; configurable)."""
Strategy = Literal["moving-window", "fixed-window", "sliding-window-counter"]
_STRATEGIES: Mapping[str, tuple[type[aio_strategies.RateLimiter], type[strategies.RateLimiter]]] = MappingProxyType(
    {
        "moving-window": (aio_strategies.MovingWindowRateLimiter, strategies.MovingWindowRateLimiter),
        "fixed-window": (aio_strategies.FixedWindowRateLimiter, strategies.FixedWindowRateLimiter),
        "sliding-window-counter": (
            aio_strategies.SlidingWindowCounterRateLimiter,
            strategies.SlidingWindowCounterRateLimiter,
        ),
    }
)
_MAX_KEY_LENGTH = 256
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RateLimitResult:
    """The answer to one request's hit.

    Attributes
    ----------
    allowed
        Whether the request may proceed.
    limit
        Requests allowed per window, of the limit reported (the one that refused, else the tightest).
    remaining
        Requests left in that window after this one (0 when refused).
    reset_at
        When that window frees a request again (UTC).
    retry_after_s
        Whole seconds to wait before retrying when refused (≥ 1), else 0.
    degraded
        Whether the count came from the in-process fallback because the shared store failed.

    """

    allowed: bool
    limit: int
    remaining: int
    reset_at: datetime
    retry_after_s: int
    degraded: bool = False

    def headers(self) -> dict[str, str]:
        """Return the ``X-RateLimit-*`` headers, and ``Retry-After`` when refused."""
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(math.ceil(self.reset_at.timestamp())),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after_s)
        return headers

    def raise_if_refused(self) -> None:
        """Raise :class:`~spacecomputer.errors.RateLimitedError` (429) with the numbers if the hit was refused."""
        if not self.allowed:
            raise RateLimitedError(
                f"rate limit of {self.limit} requests exceeded; retry in {self.retry_after_s} s",
                details={
                    "limit": self.limit,
                    "retry_after_s": self.retry_after_s,
                    "reset_at": self.reset_at.isoformat(),
                },
            )


def rate_limit_key(principal: Principal | None, client_ip: str) -> str:
    """Return the counter key of a request: ``api_key:<id>``, ``user:<id>`` or ``ip:<address or /64>``.

    A ``client_ip`` that is not an IP address (a test client's placeholder) is used as it is, truncated.

    Examples
    --------
    >>> rate_limit_key(None, "2001:db8::1")
    'ip:2001:db8::/64'

    """
    if principal is not None:
        if principal.via == "api_key":
            return f"api_key:{principal.api_key_id}"
        return f"user:{principal.user_id}"
    try:
        address = ipaddress.ip_address(client_ip.strip())
    except ValueError:
        return f"ip:{client_ip[:64]}"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return f"ip:{address.ipv4_mapped}"
        return f"ip:{ipaddress.IPv6Network((address, 64), strict=False)}"
    return f"ip:{address}"


def _parse_tiers(plan_limits: Mapping[str, str]) -> dict[str, list[RateLimitItem]]:
    if not plan_limits:
        raise InvalidInputError("plan_limits needs at least one tier", details={"expected": dict(DEFAULT_PLAN_LIMITS)})
    tiers = {}
    for tier, rate in plan_limits.items():
        try:
            tiers[tier] = parse_many(rate)
        except (ValueError, TypeError):
            raise InvalidInputError(
                f"rate limit of tier {tier!r} is {rate!r}; expected e.g. '60/minute' or '60/minute;1000/day'",
                details={"tier": tier, "rate": rate},
            ) from None
    return tiers


class RateLimiter:
    """Count requests per key against the limits of a plan tier (module docstring).

    Parameters
    ----------
    plan_limits
        Tier → rate string (``"60/minute"``, ``"60/minute;1000/day"``).
    storage_url
        ``None`` for in-process counters, or ``redis://[:password@]host:port/db`` (``rediss://`` for TLS).
    key_prefix
        Prefix of every Redis key (one per deployment or test run).
    strategy
        ``"moving-window"`` (default), ``"fixed-window"`` or ``"sliding-window-counter"``.
    timeout_s
        Connect and command timeout for Redis, seconds.
    retry_primary_after_s
        After a Redis failure, how long to count in the process before trying Redis again, seconds.

    """

    def __init__(
        self,
        *,
        plan_limits: Mapping[str, str] = DEFAULT_PLAN_LIMITS,
        storage_url: str | None = None,
        key_prefix: str = "spacecomputer-ratelimit",
        strategy: Strategy = "moving-window",
        timeout_s: float = 0.5,
        retry_primary_after_s: float = 5.0,
    ) -> None:
        if strategy not in _STRATEGIES:
            raise InvalidInputError(f"unknown strategy {strategy!r}; expected one of {', '.join(_STRATEGIES)}")
        if not (timeout_s > 0 and retry_primary_after_s >= 0):
            raise InvalidInputError("timeout_s must be > 0 and retry_primary_after_s ≥ 0 seconds")
        self._tiers = _parse_tiers(plan_limits)
        self._pool: redis.asyncio.ConnectionPool | None = None
        shared_strategy, local_strategy = _STRATEGIES[strategy]
        self._shared: aio_strategies.RateLimiter | None = None
        if storage_url is not None and storage_url.startswith(("redis://", "rediss://")):
            self._pool = redis.asyncio.ConnectionPool.from_url(
                storage_url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s
            )
            options: dict[str, Any] = {"connection_pool": self._pool}
            storage = RedisStorage(
                f"async+{storage_url}", implementation="redispy", key_prefix=key_prefix, wrap_exceptions=True, **options
            )
            self._shared = shared_strategy(storage)
        elif storage_url is not None:
            raise InvalidInputError(
                f"storage_url must be None or a redis:// or rediss:// URL; got {storage_url.split(':', 1)[0]!r}:…"
            )
        # The counters of this process: the only ones without Redis, the fallback with it.
        self._local = local_strategy(MemoryStorage())
        self._retry_primary_after_s = retry_primary_after_s
        self._primary_down_until = -math.inf

    @property
    def tiers(self) -> tuple[str, ...]:
        """The configured tier names."""
        return tuple(self._tiers)

    def _items(self, tier: str) -> list[RateLimitItem]:
        try:
            return self._tiers[tier]
        except KeyError:
            raise InvalidInputError(
                f"unknown plan tier {tier!r}; expected one of {', '.join(self._tiers)}",
                details={"tier": tier, "expected": list(self._tiers)},
            ) from None

    async def hit(self, key: str, tier: str, *, cost: int = 1) -> RateLimitResult:
        """Count ``cost`` requests for ``key`` under ``tier``'s limits and say whether they may proceed."""
        items = self._items(tier)
        if not isinstance(key, str) or not 0 < len(key) <= _MAX_KEY_LENGTH:
            raise InvalidInputError(f"rate-limit key must be a string of 1–{_MAX_KEY_LENGTH} characters")
        if isinstance(cost, bool) or not isinstance(cost, int) or cost < 1:
            raise InvalidInputError(f"cost must be a positive integer; got {cost!r}")
        if self._shared is not None and time.monotonic() >= self._primary_down_until:
            try:
                return await _hit_shared(self._shared, items, key, cost)
            except StorageError as error:
                _log.warning(
                    "rate-limit store failed (%s); counting in this process for %.0f s",
                    error.storage_error,
                    self._retry_primary_after_s,
                )
                self._primary_down_until = time.monotonic() + self._retry_primary_after_s
        return _hit_local(self._local, items, key, cost, degraded=self._shared is not None)

    async def reset(self, key: str, tier: str) -> None:
        """Forget the counts of ``key`` under ``tier`` (an administrator lifting a block)."""
        for item in self._items(tier):
            self._local.clear(item, key)
            if self._shared is None:
                continue
            try:
                await self._shared.clear(item, key)
            except StorageError as error:
                raise UpstreamUnavailableError(
                    f"the rate-limit store did not answer: {error.storage_error}", details={"store": "redis"}
                ) from None

    async def aclose(self) -> None:
        """Release the Redis connections (at shutdown)."""
        if self._pool is not None:
            await self._pool.aclose()


_Report = tuple[bool, int, int, float]  # allowed, limit, remaining, reset time (Unix seconds) of one limit


async def _hit_shared(
    strategy: aio_strategies.RateLimiter, items: list[RateLimitItem], key: str, cost: int
) -> RateLimitResult:
    """Hit every limit in turn on the shared store (stopping at the first that refuses); report the binding one."""
    reports: list[_Report] = []
    for item in items:
        allowed = await strategy.hit(item, key, cost=cost)
        stats = await strategy.get_window_stats(item, key)
        reports.append((allowed, item.amount, max(0, stats.remaining), stats.reset_time))
        if not allowed:
            break
    return _binding(reports, degraded=False)


def _hit_local(
    strategy: strategies.RateLimiter, items: list[RateLimitItem], key: str, cost: int, *, degraded: bool
) -> RateLimitResult:
    """Hit every limit in turn on this process's counters (as :func:`_hit_shared`)."""
    reports: list[_Report] = []
    for item in items:
        allowed = strategy.hit(item, key, cost=cost)
        stats = strategy.get_window_stats(item, key)
        reports.append((allowed, item.amount, max(0, stats.remaining), stats.reset_time))
        if not allowed:
            break
    return _binding(reports, degraded=degraded)


def _binding(reports: list[_Report], *, degraded: bool) -> RateLimitResult:
    """Return the result of the limit that binds: a refusing one, else the one with the fewest requests left."""
    allowed, limit, remaining, reset_time = min(reports, key=lambda report: (report[0], report[2], -report[3]))
    now = time.time()
    return RateLimitResult(
        allowed=allowed,
        limit=limit,
        remaining=0 if not allowed else remaining,
        reset_at=datetime.fromtimestamp(max(reset_time, now), UTC),
        retry_after_s=0 if allowed else max(1, math.ceil(reset_time - now)),
        degraded=degraded,
    )
