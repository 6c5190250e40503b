"""The resources of one running API — database, blobs, cache, rate limits, tokens, jobs, elite library — from settings.

:func:`open_platform` opens them in the order they depend on each other and closes them in reverse; the app's
lifespan keeps the result in ``app.state.platform``, and routes reach it through the dependencies of ``_deps``::

    concern        embedded default (no settings)          at scale (settings only)
    database       SQLite library_dir/platform.db          SPACECOMPUTER_DATABASE_URL=postgresql://…
    blobs          LocalBlobStore(library_dir/blobs)       SPACECOMPUTER_BLOB_BACKEND=s3, SPACECOMPUTER_S3_*
    cache          MemoryCache()                           SPACECOMPUTER_REDIS_URL=redis://…
    rate limits    in-process counters                     the same Redis
    job queue      the jobs table of that database         the same table (runner and executor: ``_jobs``)

Ownership conventions every router follows, so that deleting an account finds everything: a user's blobs live
under :func:`user_blob_prefix` (``users/<id>/``) and a user's cache entries under :func:`user_cache_prefix`
(``user:<id>:``); an analysis's outputs under :func:`analysis_blob_prefix` (``users/<id>/analyses/<id>/``).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from opentelemetry.trace import Tracer

from spacecomputer.api._memo import DocumentMemo
from spacecomputer.api._tracing import trace_statements
from spacecomputer.api._tracing_stores import TracedBlobStore, TracedCache
from spacecomputer.api.security import PasswordHasher, RateLimiter, TokenService
from spacecomputer.config import Settings
from spacecomputer.errors import InvalidInputError, UpstreamUnavailableError
from spacecomputer.jobs import JobQueue
from spacecomputer.storage import (
    BlobStore,
    Cache,
    Database,
    LocalBlobStore,
    MemoryCache,
    RedisCache,
    S3BlobStore,
    migrate,
)

if TYPE_CHECKING:
    from spacecomputer.athletes import AthleteLibrary

__all__ = [
    "LOGIN_TIER",
    "Platform",
    "ReadinessCheck",
    "analysis_blob_prefix",
    "athlete_library",
    "open_platform",
    "user_blob_prefix",
    "user_cache_prefix",
]

LOGIN_TIER = "login"
"""The one tier of :attr:`Platform.login_limiter` (``settings.login_rate_limit`` per account)."""
_log = logging.getLogger(__name__)


def user_blob_prefix(user_id: uuid.UUID) -> str:
    """Return the blob-key prefix under which every blob of ``user_id`` lives (``users/<id>/``)."""
    return f"users/{user_id}/"


def user_cache_prefix(user_id: uuid.UUID) -> str:
    """Return the cache-key prefix of every cache entry about ``user_id`` (``user:<id>:``)."""
    return f"user:{user_id}:"


def analysis_blob_prefix(owner_id: uuid.UUID, analysis_id: uuid.UUID) -> str:
    """Return the blob prefix of one analysis's output files (``users/<owner>/analyses/<id>/``)."""
    return f"{user_blob_prefix(owner_id)}analyses/{analysis_id}/"


def athlete_library(settings: Settings) -> AthleteLibrary:
    """Open the elite library: the bundled clips (``reference_library_dir``) and the user's (``library_dir``)."""
    from spacecomputer.athletes import AthleteLibrary, bundled_library_dir  # the analysis core: only when opened

    bundled = settings.reference_library_dir if settings.reference_library_dir is not None else bundled_library_dir()
    return AthleteLibrary([bundled, settings.library_dir / "athletes"])


@dataclass(frozen=True)
class ReadinessCheck:
    """A dependency ``/ready`` pings.

    Attributes
    ----------
    ping
        Returns quietly when the dependency answers; raises (usually ``UpstreamUnavailableError``) otherwise.
    required
        Whether the API cannot serve without it (``/ready`` answers 503 when it is down) or merely runs
        degraded (it says ``"degraded"`` and answers 200).

    """

    ping: Callable[[], Awaitable[None]]
    required: bool


@dataclass(eq=False)
class Platform:
    """What a running API holds open (module docstring); built by :func:`open_platform`.

    Attributes
    ----------
    settings
        The settings it was built from.
    database, blobs, cache
        The relational store, the blob store and the cache.
    rate_limiter
        Request counters per user, API key or IP, by plan tier (``settings.plan_limits``).
    login_limiter
        Login attempts per account (tier :data:`LOGIN_TIER`).
    tokens
        Issues and verifies access tokens, issues and rotates refresh tokens.
    passwords
        Argon2id hashing with the configured cost.
    jobs
        The durable job queue (enqueue, cancel, inspect); the runner that executes jobs is the app's.
    athletes
        The elite library, read once at start (clips added later appear after a restart).
    documents
        This process's copy of the run documents read last (``_memo``), in front of ``cache``.
    tracer
        Where the spans of the platform's work come from when tracing is configured (``_tracing``), else ``None``.
    readiness
        Name → check, pinged by ``/ready``; other parts (the job executor) add theirs with
        :meth:`add_readiness_check`.

    """

    settings: Settings
    database: Database
    blobs: BlobStore
    cache: Cache
    rate_limiter: RateLimiter
    login_limiter: RateLimiter
    tokens: TokenService
    passwords: PasswordHasher
    jobs: JobQueue
    athletes: AthleteLibrary
    documents: DocumentMemo = field(default_factory=DocumentMemo)
    tracer: Tracer | None = None
    readiness: dict[str, ReadinessCheck] = field(default_factory=dict)

    def add_readiness_check(self, name: str, ping: Callable[[], Awaitable[None]], *, required: bool) -> None:
        """Have ``/ready`` ping ``ping`` under ``name``; ``required`` says whether its failure makes the API unready."""
        self.readiness[name] = ReadinessCheck(ping=ping, required=required)


def _blob_store(settings: Settings) -> BlobStore:
    if settings.blob_backend == "s3":
        if settings.s3_bucket is None:  # Settings refuses this; kept for settings built with model_construct
            raise InvalidInputError("blob_backend 's3' needs s3_bucket")
        secret = settings.s3_secret_access_key
        return S3BlobStore(
            settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url,
            region_name=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=secret.get_secret_value() if secret is not None else None,
        )
    return LocalBlobStore(settings.platform_blobs_dir())


async def _prepare_bucket(blobs: BlobStore) -> None:
    """Create a missing bucket outside production; an unreachable store is left for ``/ready`` to report."""
    if not isinstance(blobs, S3BlobStore):
        return
    try:
        await blobs.ensure_bucket()
    except UpstreamUnavailableError as error:
        _log.warning("the object store is not usable at start-up: %s", error.message)


@asynccontextmanager
async def open_platform(settings: Settings, *, tracer: Tracer | None = None) -> AsyncIterator[Platform]:
    """Open every back end ``settings`` names (migrating the database first), yield them, close them all.

    With ``tracer``, SQL statements, cache and blob-store calls get spans from it (``_tracing``).

    Raises
    ------
    UpstreamUnavailableError
        The database cannot be reached to migrate it (the other back ends may be down at start: ``/ready`` says so).
    InvalidInputError
        A setting the back ends refuse (a malformed rate limit, Redis URL or bucket name).

    """
    async with AsyncExitStack() as stack:
        database = Database.from_url(settings.platform_database_url())
        stack.push_async_callback(database.dispose)
        if settings.migrate_on_start:
            await migrate(database)
        blobs = _blob_store(settings)
        stack.push_async_callback(blobs.aclose)
        if settings.environment != "production":
            await _prepare_bucket(blobs)
        cache: Cache
        cache = (
            MemoryCache()
            if settings.redis_url is None
            else RedisCache(settings.redis_url, prefix=settings.redis_prefix)
        )
        stack.push_async_callback(cache.aclose)
        if tracer is not None:
            trace_statements(database, tracer)
            blobs, cache = TracedBlobStore(blobs, tracer), TracedCache(cache, tracer)
        rate_limiter = RateLimiter(
            plan_limits=settings.plan_limits,
            storage_url=settings.redis_url,
            key_prefix=f"{settings.redis_prefix}ratelimit",
        )
        stack.push_async_callback(rate_limiter.aclose)
        login_limiter = RateLimiter(
            plan_limits={LOGIN_TIER: settings.login_rate_limit},
            storage_url=settings.redis_url,
            key_prefix=f"{settings.redis_prefix}login",
        )
        stack.push_async_callback(login_limiter.aclose)
        tokens = TokenService(
            settings.jwt_secret.get_secret_value(),
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            access_ttl_s=settings.access_token_ttl_s,
            refresh_ttl_s=settings.refresh_token_ttl_s,
            algorithm=settings.jwt_algorithm,
            environment=settings.environment,
        )
        # Building the hasher computes one hash (its timing decoy): off the event loop.
        passwords = await asyncio.to_thread(
            PasswordHasher,
            time_cost=settings.password_hash_time_cost,
            memory_cost_kib=settings.password_hash_memory_kib,
        )
        platform = Platform(
            settings=settings,
            database=database,
            blobs=blobs,
            cache=cache,
            rate_limiter=rate_limiter,
            login_limiter=login_limiter,
            tokens=tokens,
            passwords=passwords,
            jobs=JobQueue(database),
            athletes=await asyncio.to_thread(athlete_library, settings),
            tracer=tracer,
        )
        platform.add_readiness_check("database", database.ping, required=True)
        platform.add_readiness_check("blobs", blobs.ping, required=True)
        platform.add_readiness_check("cache", cache.ping, required=settings.redis_url is None)
        yield platform
