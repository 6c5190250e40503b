"""The platform's storage layer: relational store, blob stores and caches, each behind a small interface.

Which implementation runs is a matter of configuration (DESIGN.md, "Backends")::

    concern      protocol / handle       embedded default               at scale
    relational   Database (+ migrate)    SQLite file (aiosqlite)        PostgreSQL (psycopg 3)
    blobs        BlobStore               LocalBlobStore(folder)         S3BlobStore(bucket, endpoint_url=…)
    cache        Cache                   MemoryCache()                  RedisCache(url, prefix=…)

The tables are the ORM classes (:class:`User`, :class:`Video`, :class:`Analysis`, :class:`Job`, …); migrations are
Alembic revisions shipped in the package and applied by :func:`migrate` / :func:`migrate_sync`. The analysis core
never imports this package: the API, the job workers and the CLI do.
"""

from spacecomputer.storage._blobs import (
    MAX_KEY_LENGTH,
    MAX_PARTS,
    BlobInfo,
    BlobRange,
    BlobStore,
    check_key,
    check_prefix,
    parts_prefix,
)
from spacecomputer.storage._blobs_local import LocalBlobStore
from spacecomputer.storage._blobs_s3 import S3BlobStore
from spacecomputer.storage._cache import Cache, MemoryCache
from spacecomputer.storage._cache_redis import RedisCache
from spacecomputer.storage._db import Database, async_url, sqlite_url, sync_url
from spacecomputer.storage._migrate import (
    MIGRATIONS_DIR,
    alembic_config,
    autogenerate_revision,
    current_revision,
    head_revision,
    migrate,
    migrate_sync,
)
from spacecomputer.storage._models import (
    Analysis,
    AnalysisStatus,
    ApiKey,
    Base,
    Conversation,
    ErrorEvent,
    Job,
    JobStatus,
    Message,
    MessageRole,
    RefreshToken,
    User,
    UTCDateTime,
    Video,
    VideoStatus,
    utc_now,
)

__all__ = [
    "MAX_KEY_LENGTH",
    "MAX_PARTS",
    "MIGRATIONS_DIR",
    "Analysis",
    "AnalysisStatus",
    "ApiKey",
    "Base",
    "BlobInfo",
    "BlobRange",
    "BlobStore",
    "Cache",
    "Conversation",
    "Database",
    "ErrorEvent",
    "Job",
    "JobStatus",
    "LocalBlobStore",
    "MemoryCache",
    "Message",
    "MessageRole",
    "RedisCache",
    "RefreshToken",
    "S3BlobStore",
    "UTCDateTime",
    "User",
    "Video",
    "VideoStatus",
    "alembic_config",
    "async_url",
    "autogenerate_revision",
    "check_key",
    "check_prefix",
    "current_revision",
    "head_revision",
    "migrate",
    "migrate_sync",
    "parts_prefix",
    "sqlite_url",
    "sync_url",
    "utc_now",
]
