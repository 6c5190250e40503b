"""The platform's relational tables: SQLAlchemy 2 ORM, one schema on SQLite and PostgreSQL.

Every row a user owns hangs off ``users`` through a foreign key with ``ON DELETE CASCADE``, so deleting the
user (``DELETE FROM users`` or ``session.delete(user)``) deletes all of it in the database itself::

    users ─┬─< refresh_tokens (family_id groups one login's rotations; replaced_by → refresh_tokens)
           ├─< api_keys
           ├─< videos ─< analyses (video_id SET NULL: results outlive their source video)
           ├─< analyses ─< conversations ─< messages
           ├─< conversations
           ├─< jobs (owner_id NULL for system jobs) ─< analyses.job_id (SET NULL)
           └─< error_events (user_id NULL when no user was signed in)

Conventions
-----------
- Ids are UUID 4 (``Uuid``: native on PostgreSQL, 32 hex characters on SQLite), generated in Python.
- Times are timezone-aware UTC :class:`~datetime.datetime` (:class:`UTCDateTime`): a naive datetime is refused,
  SQLite stores UTC without an offset, PostgreSQL a ``timestamptz``; reads always come back aware, in UTC.
- JSON columns are ``JSON`` (``JSONB`` on PostgreSQL); top-level changes of a dict or list value are tracked
  (``MutableDict``/``MutableList``), nested ones are not: assign a new value to change a nested field.
- Status columns are :class:`enum.StrEnum` stored as short strings with a CHECK constraint (no native enum
  type, so adding a state is an ordinary migration on both back ends).
- Role and plan are free strings (``"user"``/``"admin"``, ``"free"``/``"pro"``/``"enterprise"`` by default):
  the API owns their vocabularies and the permissions behind them.
- Table names never start with ``kg_``: those belong to the technique graph
  (:meth:`spacecomputer.athletes.TechniqueGraph.create_schema`), which may share the database.
- Secrets (password hash, TOTP secret, token and key hashes) are left out of ``repr``.
"""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.mutable import MutableDict, MutableList
from sqlalchemy.orm import DeclarativeBase, Mapped, MappedAsDataclass, mapped_column

__all__ = [
    "Analysis",
    "AnalysisStatus",
    "ApiKey",
    "Base",
    "Conversation",
    "ErrorEvent",
    "Job",
    "JobStatus",
    "Message",
    "MessageRole",
    "RefreshToken",
    "UTCDateTime",
    "User",
    "Video",
    "VideoStatus",
    "utc_now",
]

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Constraint names (the technique graph's convention), so migrations can name what they alter."""

KEY_LENGTH = 512
"""Longest blob key or prefix stored in a row, characters."""
HASH_LENGTH = 128
"""Longest stored hash (hex or encoded), characters."""


def utc_now() -> datetime:
    """Return the current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every back end; naive datetimes are refused on write."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        """Check awareness and convert to UTC (without offset on SQLite, which has no time-zone type)."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} refused: pass a timezone-aware (UTC) datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        """Return the stored time as an aware UTC datetime."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _json() -> sa.types.TypeEngine[Any]:
    """Return a portable JSON column type (``JSONB`` on PostgreSQL)."""
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


# One type instance per kind of value: ``as_mutable`` tracks every column of the instance it is given.
JSON_DICT = MutableDict.as_mutable(_json())
JSON_LIST = MutableList.as_mutable(_json())


class VideoStatus(enum.StrEnum):
    """Where an uploaded video is: chunks still arriving, stored and checked, or given up."""

    UPLOADING = "uploading"
    READY = "ready"
    FAILED = "failed"


class JobStatus(enum.StrEnum):
    """Life cycle of a durable job (also used for analyses): queued → running → one of three ends."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


AnalysisStatus = JobStatus
"""An analysis goes through the same states as the job that computes it."""


class MessageRole(enum.StrEnum):
    """Who wrote a conversation message."""

    USER = "user"
    ASSISTANT = "assistant"


def _status(enum_class: type[enum.StrEnum], name: str) -> sa.Enum:
    return sa.Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


def _user_fk() -> sa.ForeignKey:
    """Return a reference to the owning user: the row goes when the user goes."""
    return sa.ForeignKey("users.id", ondelete="CASCADE")


class Base(MappedAsDataclass, DeclarativeBase, kw_only=True, eq=False):
    """Declarative base of the platform's tables; ``Base.metadata`` is what the migrations build."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class User(Base, kw_only=True):
    """An account: credentials, role, plan tier, optional TOTP secret and UI preferences."""

    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default_factory=uuid.uuid4)
    email: Mapped[str] = mapped_column(sa.String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255), repr=False)
    role: Mapped[str] = mapped_column(sa.String(32), default="user")
    plan: Mapped[str] = mapped_column(sa.String(32), default="free")
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64), default=None, repr=False)
    preferences: Mapped[dict[str, Any]] = mapped_column(JSON_DICT, default_factory=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default_factory=utc_now)
    disabled: Mapped[bool] = mapped_column(default=False)


class RefreshToken(Base, kw_only=True):
    """One refresh token (only its hash); rotation links it to its successor within one login's family."""

    __tablename__ = "refresh_tokens"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default_factory=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(_user_fk(), index=True)
    family_id: Mapped[uuid.UUID] = mapped_column(index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(HASH_LENGTH), unique=True, repr=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default_factory=utc_now)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    replaced_by: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("refresh_tokens.id", ondelete="SET NULL"), default=None
    )


class ApiKey(Base, kw_only=True):
    """An integrator's API key: a public prefix to find it, the hash of the secret, scopes, revocation."""

    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default_factory=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(_user_fk(), index=True)
    prefix: Mapped[str] = mapped_column(sa.String(32), unique=True)
    key_hash: Mapped[str] = mapped_column(sa.String(HASH_LENGTH), repr=False)
    name: Mapped[str] = mapped_column(sa.String(100), default="")
    scopes: Mapped[list[str]] = mapped_column(JSON_LIST, default_factory=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default_factory=utc_now)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class Video(Base, kw_only=True):
    """An uploaded video: resumable-upload state, then the stored blob's size, digest and probe.

    ``filename`` is what the client called the file, for display only; the blob lives at the server-generated
    ``storage_key``. During upload, ``upload_offset_bytes`` is how much has arrived, in whole chunks of
    ``chunk_size_bytes`` (the last one may be shorter) towards the declared ``total_size_bytes``; ``size_bytes``
    and ``sha256`` are those of the stored blob once it is ``ready``.
    """

    __tablename__ = "videos"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default_factory=uuid.uuid4)
    owner_id: Mapped[uuid.UUID] = mapped_column(_user_fk(), index=True)
    filename: Mapped[str] = mapped_column(sa.String(255))
    storage_key: Mapped[str] = mapped_column(sa.String(KEY_LENGTH), unique=True)
    total_size_bytes: Mapped[int] = mapped_column(sa.BigInteger)
    chunk_size_bytes: Mapped[int] = mapped_column(sa.BigInteger)
    upload_offset_bytes: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    status: Mapped[VideoStatus] = mapped_column(_status(VideoStatus, "video_status"), default=VideoStatus.UPLOADING)
    size_bytes: Mapped[int | None] = mapped_column(sa.BigInteger, default=None)
    sha256: Mapped[str | None] = mapped_column(sa.String(64), default=None)
    probe: Mapped[dict[str, Any] | None] = mapped_column(JSON_DICT, default=None)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON_DICT, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default_factory=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default_factory=utc_now, onupdate=utc_now)


class Job(Base, kw_only=True):
    """A durable unit of work: claimed by a worker, kept alive by heartbeats, retried up to ``max_attempts``."""

    __tablename__ = "jobs"
    __table_args__ = (
        sa.CheckConstraint("progress >= 0 AND progress <= 1", name="progress_fraction"),
        sa.CheckConstraint("attempts >= 0 AND max_attempts >= 1", name="attempts_count"),
        sa.Index("ix_jobs_status_created_at", "status", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default_factory=uuid.uuid4)
    kind: Mapped[str] = mapped_column(sa.String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON_DICT, default_factory=dict)
    status: Mapped[JobStatus] = mapped_column(_status(JobStatus, "job_status"), default=JobStatus.QUEUED)
    owner_id: Mapped[uuid.UUID | None] = mapped_column(_user_fk(), index=True, default=None)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=3)
    progress: Mapped[float] = mapped_column(default=0.0)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None, index=True)
    worker_id: Mapped[str | None] = mapped_column(sa.String(128), default=None)
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON_DICT, default=None)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON_DICT, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default_factory=utc_now)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class Analysis(Base, kw_only=True):
    """One analysis of a video: options, state and progress, where its run's blobs are, a result summary."""

    __tablename__ = "analyses"
    __table_args__ = (sa.CheckConstraint("progress >= 0 AND progress <= 1", name="progress_fraction"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default_factory=uuid.uuid4)
    owner_id: Mapped[uuid.UUID] = mapped_column(_user_fk(), index=True)
    video_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("videos.id", ondelete="SET NULL"), index=True, default=None
    )
    job_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("jobs.id", ondelete="SET NULL"), default=None)
    options: Mapped[dict[str, Any]] = mapped_column(JSON_DICT, default_factory=dict)
    status: Mapped[JobStatus] = mapped_column(_status(JobStatus, "analysis_status"), default=JobStatus.QUEUED)
    progress: Mapped[float] = mapped_column(default=0.0)
    run_key: Mapped[str | None] = mapped_column(sa.String(KEY_LENGTH), default=None)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON_DICT, default=None)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON_DICT, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default_factory=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default_factory=utc_now, onupdate=utc_now)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class Conversation(Base, kw_only=True):
    """A question-and-answer thread about one analysis (the AI routes)."""

    __tablename__ = "conversations"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default_factory=uuid.uuid4)
    owner_id: Mapped[uuid.UUID] = mapped_column(_user_fk(), index=True)
    analysis_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("analyses.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default_factory=utc_now)


class Message(Base, kw_only=True):
    """One message of a conversation; an assistant's answer lists what it cites."""

    __tablename__ = "messages"
    __table_args__ = (sa.Index("ix_messages_conversation_id_created_at", "conversation_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default_factory=uuid.uuid4)
    conversation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("conversations.id", ondelete="CASCADE"))
    role: Mapped[MessageRole] = mapped_column(_status(MessageRole, "message_role"))
    content: Mapped[str] = mapped_column(sa.Text)
    citations: Mapped[list[Any]] = mapped_column(JSON_LIST, default_factory=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default_factory=utc_now)


class ErrorEvent(Base, kw_only=True):
    """A server-side error worth an administrator's look (the admin "recent errors" view)."""

    __tablename__ = "error_events"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default_factory=uuid.uuid4)
    code: Mapped[str] = mapped_column(sa.String(64))
    message: Mapped[str] = mapped_column(sa.Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON_DICT, default_factory=dict)
    user_id: Mapped[uuid.UUID | None] = mapped_column(_user_fk(), index=True, default=None)
    request_id: Mapped[str | None] = mapped_column(sa.String(64), default=None)
    method: Mapped[str | None] = mapped_column(sa.String(16), default=None)
    path: Mapped[str | None] = mapped_column(sa.String(2048), default=None)
    status_code: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default_factory=utc_now, index=True)
