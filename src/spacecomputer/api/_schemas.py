"""Request and response bodies of the account, credential, admin and health routes.

Inputs (``…Create``, ``…Update``, forms, requests) derive from :class:`InputModel`, which forbids fields it does
not declare: a client sending ``role``, ``owner_id`` or ``id`` gets 422, never a silently ignored (or, worse,
honoured) field. Outputs (``…Public``) list exactly what a client may see: no hash, secret or internal flag.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator

from spacecomputer.api.security import MAX_PASSWORD_LENGTH
from spacecomputer.storage import ApiKey, ErrorEvent, Job, User

__all__ = [
    "ApiKeyCreate",
    "ApiKeyCreated",
    "ApiKeyPublic",
    "CountsByStatus",
    "DependencyStatus",
    "ErrorEventPublic",
    "HealthPublic",
    "InputModel",
    "JobPage",
    "JobPublic",
    "LoginForm",
    "Preferences",
    "ReadinessPublic",
    "RefreshRequest",
    "TokenPair",
    "TotpCode",
    "TotpEnrolmentPublic",
    "UsageStats",
    "UserCreate",
    "UserPublic",
    "normalise_email",
]

MAX_EMAIL_LENGTH = 320
"""Longest e-mail address accepted, characters (RFC 3696 errata: 64 + 1 + 255)."""
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+")
# Bounds the argon2 work a request can ask for before the policy check rejects the password.
_PASSWORD_INPUT_CHARS = 4 * MAX_PASSWORD_LENGTH


def normalise_email(email: str) -> str:
    """Return ``email`` trimmed and lower-cased if it looks like an address (our own check), else raise ValueError.

    Our own rule: one ``@``, a local part of 1–64 characters, a domain with at least one dot, no spaces, at most
    320 characters. Deliverability is not checked.
    """
    address = email.strip().lower()
    if len(address) > MAX_EMAIL_LENGTH or not _EMAIL.fullmatch(address):
        raise ValueError("expected an e-mail address such as name@example.com")
    return address


class InputModel(BaseModel):
    """Base of every request body: undeclared fields and text holding a NUL character are refused (422).

    PostgreSQL text cannot hold U+0000 (the driver raises, which was a 500 on ``/users/login``), and no field of ours
    has a use for it.
    """

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("text must not contain the NUL character (U+0000)")
        return value


class UserCreate(InputModel):
    """Registration: an e-mail address and a password meeting the policy (role and plan are the server's)."""

    email: Annotated[str, Field(max_length=MAX_EMAIL_LENGTH, examples=["athlete@example.com"])]
    password: Annotated[str, Field(min_length=1, max_length=_PASSWORD_INPUT_CHARS)]

    @field_validator("email")
    @classmethod
    def _normalise_email(cls, email: str) -> str:
        return normalise_email(email)


class UserPublic(BaseModel):
    """An account as its owner (or an administrator) sees it."""

    id: uuid.UUID
    email: str
    role: str
    plan: str
    totp_enabled: bool
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserPublic:
        """Return the public view of ``user``."""
        return cls(
            id=user.id,
            email=user.email,
            role=user.role,
            plan=user.plan,
            totp_enabled=user.totp_secret is not None,
            created_at=user.created_at,
        )


class LoginForm(InputModel):
    """The OAuth 2.0 password grant (RFC 6749 §4.3), form-encoded, plus a TOTP code for two-factor accounts."""

    grant_type: Annotated[Literal["password"] | None, Field(description="'password' when sent.")] = None
    username: Annotated[str, Field(max_length=MAX_EMAIL_LENGTH, description="The account's e-mail address.")]
    password: Annotated[str, Field(max_length=_PASSWORD_INPUT_CHARS)]
    scope: Annotated[str, Field(max_length=512, description="Ignored: tokens carry the role's permissions.")] = ""
    client_id: Annotated[str | None, Field(max_length=256)] = None
    client_secret: Annotated[str | None, Field(max_length=256)] = None
    totp_code: Annotated[
        str | None, Field(max_length=16, description="The current one-time code, for accounts with two-factor on.")
    ] = None


class TokenPair(BaseModel):
    """A login's tokens (RFC 6749 §5.1): a short-lived bearer access token and a rotating refresh token."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Access-token lifetime, seconds.")
    refresh_token: str
    refresh_expires_in: int = Field(description="Refresh-token lifetime, seconds.")


class RefreshRequest(InputModel):
    """A refresh token to rotate (``/refresh``) or whose login to end (``/logout``)."""

    refresh_token: Annotated[str, Field(min_length=1, max_length=256)]


class TotpEnrolmentPublic(BaseModel):
    """A pending TOTP secret: show ``provisioning_uri`` as a QR code, then confirm with a first code."""

    secret: str
    provisioning_uri: str
    expires_in: int = Field(description="Seconds left to confirm before the pending secret is dropped.")


class TotpCode(InputModel):
    """A one-time code from the authenticator app."""

    code: Annotated[str, Field(min_length=6, max_length=16, examples=["123456"])]


class ApiKeyCreate(InputModel):
    """A new API key: a label and the permissions it carries (within the owner's role)."""

    name: Annotated[str, Field(min_length=1, max_length=100)]
    scopes: Annotated[list[str], Field(min_length=1, max_length=16, examples=[["video.upload", "analysis.request"]])]


class ApiKeyPublic(BaseModel):
    """An API key as listed: never the key itself, only its public prefix."""

    id: uuid.UUID
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def of(cls, key: ApiKey) -> ApiKeyPublic:
        """Return the public view of ``key``."""
        return cls(
            id=key.id,
            name=key.name,
            prefix=key.prefix,
            scopes=sorted(key.scopes),
            created_at=key.created_at,
            revoked_at=key.revoked_at,
            last_used_at=key.last_used_at,
        )


class ApiKeyCreated(ApiKeyPublic):
    """A key just created: ``key`` is shown this once and cannot be recovered."""

    key: str


Preferences = dict[str, JsonValue]
"""A user's interface preferences: any JSON object (size-limited by the route)."""


class CountsByStatus(BaseModel):
    """How many rows, in total and per status (or role, or plan)."""

    total: int
    by_status: dict[str, int]


class UsageStats(BaseModel):
    """The platform's usage at a glance (admin)."""

    users: CountsByStatus = Field(description="Users, by role in by_status.")
    users_by_plan: dict[str, int]
    videos: CountsByStatus
    video_bytes: int = Field(description="Bytes of stored videos.")
    analyses: CountsByStatus
    jobs: CountsByStatus


class JobPublic(BaseModel):
    """A job as the admin queue view shows it (the payload and result stay internal)."""

    id: uuid.UUID
    kind: str
    status: str
    owner_id: uuid.UUID | None
    attempts: int
    max_attempts: int
    progress: float
    worker_id: str | None
    cancel_requested: bool
    error: dict[str, Any] | None
    heartbeat_at: datetime | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, job: Job) -> JobPublic:
        """Return the admin view of ``job``."""
        return cls(
            id=job.id,
            kind=job.kind,
            status=str(job.status),
            owner_id=job.owner_id,
            attempts=job.attempts,
            max_attempts=job.max_attempts,
            progress=job.progress,
            worker_id=job.worker_id,
            cancel_requested=job.cancel_requested,
            error=dict(job.error) if job.error is not None else None,
            heartbeat_at=job.heartbeat_at,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
        )


class JobPage(BaseModel):
    """One page of the job queue, newest first."""

    items: list[JobPublic]
    total: int
    limit: int
    offset: int


class ErrorEventPublic(BaseModel):
    """A recorded server error (admin)."""

    id: uuid.UUID
    code: str
    message: str
    details: dict[str, Any]
    user_id: uuid.UUID | None
    request_id: str | None
    method: str | None
    path: str | None
    status_code: int | None
    created_at: datetime

    @classmethod
    def of(cls, event: ErrorEvent) -> ErrorEventPublic:
        """Return the admin view of ``event``."""
        return cls(
            id=event.id,
            code=event.code,
            message=event.message,
            details=dict(event.details),
            user_id=event.user_id,
            request_id=event.request_id,
            method=event.method,
            path=event.path,
            status_code=event.status_code,
            created_at=event.created_at,
        )


class HealthPublic(BaseModel):
    """The process is alive."""

    status: Literal["ok"] = "ok"
    version: str


class DependencyStatus(BaseModel):
    """One dependency's answer to ``/ready``."""

    status: Literal["ok", "degraded", "down"]
    required: bool
    latency_ms: float
    error: str | None = None


class ReadinessPublic(BaseModel):
    """Whether the API can serve: ``down`` if a required dependency is, ``degraded`` if an optional one is."""

    status: Literal["ok", "degraded", "down"]
    checks: dict[str, DependencyStatus]
