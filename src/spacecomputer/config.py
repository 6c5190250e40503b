"""One settings object for the whole system, read from ``SPACECOMPUTER_*`` environment variables.

Example: ``SPACECOMPUTER_MAX_DURATION_S=120 spacecomputer analyze clip.mp4`` lowers the duration cap.

The platform (``spacecomputer serve``) reads its back ends from the same object: everything defaults to the
embedded set-up (SQLite file, local blob folder, in-process cache and rate limits, jobs on a local process pool
inside the API), and real infrastructure is a matter of settings (``SPACECOMPUTER_DATABASE_URL``,
``SPACECOMPUTER_REDIS_URL``, ``SPACECOMPUTER_BLOB_BACKEND=s3``, ``SPACECOMPUTER_EXECUTOR=ray`` …). Outside
``environment="development"`` the default JWT secret is refused at start-up. The brain uses a commercial LLM only
when ``SPACECOMPUTER_LLM_PROVIDER`` names one (with its model, key or base URL, checked here).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from spacecomputer.errors import InvalidInputError

__all__ = ["Settings", "VideoLimits", "get_settings"]


def _development_secret() -> SecretStr:
    from spacecomputer.api.security import DEVELOPMENT_SECRET  # imported late: the CLI need not load the API

    return SecretStr(DEVELOPMENT_SECRET)


def _default_plan_limits() -> dict[str, str]:
    from spacecomputer.api.security import DEFAULT_PLAN_LIMITS

    return dict(DEFAULT_PLAN_LIMITS)


class VideoLimits(BaseSettings):
    """Caps checked on a video's header before a single frame is decoded."""

    model_config = SettingsConfigDict(env_prefix="SPACECOMPUTER_", extra="ignore", frozen=True)

    max_file_size_bytes: int = Field(default=4 * 1024**3, gt=0, description="Largest accepted file, bytes.")
    max_pixels_per_frame: int = Field(
        default=4096 * 2304, gt=0, description="Largest width × height (4K UHD fits), pixels."
    )
    max_duration_s: float = Field(default=3600.0, gt=0, description="Longest accepted video, seconds.")
    max_fps: float = Field(default=1000.0, gt=0, description="Highest accepted frame rate, frames per second.")
    max_frame_count: int = Field(default=1_000_000, gt=0, description="Most frames accepted.")


class Settings(BaseSettings):
    """Process-wide configuration, validated at start-up (secrets never appear in its error messages)."""

    model_config = SettingsConfigDict(
        env_prefix="SPACECOMPUTER_", extra="ignore", frozen=True, hide_input_in_errors=True
    )

    environment: Literal["development", "test", "production"] = "development"
    runs_dir: Path = Field(default=Path("runs"), description="Where `analyze` writes runs by default.")
    limits: VideoLimits = Field(default_factory=VideoLimits)
    min_quality_score: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description="Below this overall quality score the CLI warns (refuses with --strict).",
    )
    max_gap_s: float = Field(
        default=0.2, ge=0.0, description="Longest run of missing frames filled by interpolation, seconds."
    )
    filter_cutoff_hz: float = Field(
        default=6.0, gt=0.0, description="Default Butterworth low-pass cut-off for landmark trajectories, Hz."
    )
    workers: int = Field(default=0, ge=0, description="Processes for chunked pose estimation; 0 = one per core.")
    reference_library_dir: Path | None = Field(
        default=None,
        description="The bundled elite library (manifest.json and clips); None = data/athletes of this checkout.",
    )
    library_dir: Path = Field(
        default=Path("library"),
        description="Where `athletes add` puts the user's own reference clips (library_dir/athletes).",
    )
    database_url: str | None = Field(
        default=None,
        description=(
            "SQLAlchemy URL of the relational store; None = a SQLite file in library_dir "
            "(platform.db for the platform, spacecomputer.db for the technique graph)."
        ),
    )
    jwt_secret: SecretStr = Field(
        default_factory=_development_secret,
        description="HMAC secret (or RS256 PEM private key) signing access tokens; the default is development-only.",
    )
    jwt_algorithm: Literal["HS256", "HS384", "HS512", "RS256"] = Field(
        default="HS256", description="The one accepted access-token signing algorithm."
    )
    jwt_issuer: str = Field(default="spacecomputer", min_length=1, description="``iss`` of every access token.")
    jwt_audience: str = Field(default="spacecomputer-api", min_length=1, description="``aud`` of every access token.")
    access_token_ttl_s: float = Field(default=900.0, ge=1.0, description="Access-token lifetime, seconds.")
    refresh_token_ttl_s: float = Field(
        default=30 * 86400.0, ge=1.0, description="Refresh-token lifetime, seconds (renewed by each rotation)."
    )
    password_hash_time_cost: int = Field(default=3, ge=1, description="Argon2id passes over memory.")
    password_hash_memory_kib: int = Field(default=65536, ge=32, description="Argon2id memory per hash, KiB.")
    redis_url: str | None = Field(
        default=None,
        description="redis://… for the shared cache and rate-limit counters; None = in-process (one instance).",
    )
    redis_prefix: str = Field(
        default="spacecomputer:", min_length=1, description="Namespace of every key the platform writes to Redis."
    )
    blob_backend: Literal["local", "s3"] = Field(
        default="local", description="Where videos and outputs live: a local folder or an S3-compatible store."
    )
    blobs_dir: Path | None = Field(
        default=None, description="Folder of the local blob store; None = library_dir/blobs."
    )
    s3_bucket: str | None = Field(default=None, description="Bucket of the S3 blob store (required for s3).")
    s3_endpoint_url: str | None = Field(
        default=None, description="S3-compatible endpoint (http://127.0.0.1:8333); None = AWS S3."
    )
    s3_region: str | None = Field(default=None, description="S3 region; None = us-east-1.")
    s3_access_key_id: str | None = Field(default=None, description="S3 access key; None = boto3's usual sources.")
    s3_secret_access_key: SecretStr | None = Field(default=None, description="S3 secret key.")
    plan_limits: dict[str, str] = Field(
        default_factory=_default_plan_limits,
        description=(
            "Plan tier → rate limit ('60/minute' or '60/minute;1000/day'); must name 'anonymous' (callers without "
            "credentials, per IP) and 'free' (users whose plan has no tier of its own)."
        ),
    )
    login_rate_limit: str = Field(
        default="10/minute", description="Login attempts allowed per account (guessing passwords or TOTP codes)."
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description="Origins (scheme://host[:port]) allowed to call the API from a browser; empty = same-origin only.",
    )
    max_upload_bytes: int = Field(
        default=4 * 1024**3, gt=0, description="Largest video upload, bytes, enforced while the bytes stream in."
    )
    max_request_body_bytes: int = Field(
        default=1024 * 1024,
        gt=0,
        description="Largest request body of an ordinary (JSON or form) route, bytes; upload routes set their own.",
    )
    public_base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="The URL clients reach the platform at (links in responses; https turns on HSTS).",
    )
    otlp_endpoint: str | None = Field(
        default=None,
        description=(
            "OTLP/HTTP collector the API sends its traces to (http://collector:4318: spans go to "
            "<endpoint>/v1/traces); None = no tracing at all."
        ),
    )
    migrate_on_start: bool = Field(
        default=True, description="Upgrade the platform's database to the newest schema when the API starts."
    )
    executor: Literal["local", "ray"] = Field(
        default="local", description="Where jobs run: a process pool on this machine, or a Ray cluster."
    )
    ray_address: str | None = Field(
        default=None,
        description=(
            "Ray cluster to join ('auto', 'host:6379' or 'ray://host:10001'); None = start a local Ray with "
            "job_workers CPUs."
        ),
    )
    job_workers: int = Field(
        default=1, ge=1, description="Jobs run at once by this API's runner (the local pool's processes)."
    )
    job_chunk_workers: int = Field(
        default=1,
        ge=1,
        description="Parallel chunks one analysis job's pose estimation is cut into, on the job's executor (1: none).",
    )
    job_min_chunk_s: float = Field(
        default=10.0, ge=2.0, description="Shortest stretch of video worth a chunk of its own, seconds."
    )
    job_max_attempts: int = Field(
        default=3, ge=1, description="Runs a job may have (the first included) before a retryable failure is final."
    )
    job_heartbeat_s: float = Field(
        default=5.0, gt=0.0, description="Seconds between two heartbeats of a running job (and stale-job checks)."
    )
    job_stale_after_s: float = Field(
        default=30.0,
        gt=0.0,
        description="A running job without a heartbeat for this long is run again, seconds (≥ 2 heartbeats).",
    )
    job_poll_s: float = Field(default=0.5, gt=0.0, description="Seconds between two looks of the runner at the queue.")
    job_stop_grace_s: float = Field(
        default=5.0,
        ge=0.0,
        description="At shutdown, how long running jobs may finish before they go back to the queue, seconds.",
    )
    run_jobs_in_api: bool = Field(
        default=True,
        description="Run queued jobs in the API process (its runner and executor); False when workers run apart.",
    )
    llm_provider: Literal["none", "anthropic", "openai", "openai_compatible"] = Field(
        default="none",
        description=(
            "The commercial LLM the brain may use for complex explanations; 'openai_compatible' is any server "
            "speaking OpenAI's chat completions by base URL (Ollama, vLLM, llama.cpp); 'none' = local answers only."
        ),
    )
    llm_model: str | None = Field(
        default=None, min_length=1, description="The provider's model id (required unless llm_provider is 'none')."
    )
    llm_api_key: SecretStr | None = Field(
        default=None, description="API key of the LLM provider (required for 'anthropic' and 'openai')."
    )
    llm_base_url: str | None = Field(
        default=None,
        description=(
            "Root URL of the LLM API (required for 'openai_compatible', e.g. http://127.0.0.1:11434/v1 for Ollama); "
            "None = the provider's own endpoint."
        ),
    )
    llm_timeout_s: float = Field(default=20.0, gt=0.0, description="Longest wait for one LLM request, seconds.")
    llm_max_attempts: int = Field(
        default=3, ge=1, description="LLM requests per question (the first included) on rate limits, 5xx, timeouts."
    )
    llm_max_retry_wait_s: float = Field(
        default=10.0, ge=0.0, description="Longest pause between two LLM attempts (caps Retry-After), seconds."
    )
    llm_deadline_s: float = Field(
        default=60.0, gt=0.0, description="Longest time one LLM completion may take, all attempts and pauses, seconds."
    )
    llm_price_input_usd_per_mtok: float | None = Field(
        default=None, ge=0.0, description="Price of a million input tokens, USD; None = cost not recorded."
    )
    llm_price_output_usd_per_mtok: float | None = Field(
        default=None, ge=0.0, description="Price of a million output tokens, USD; None = cost not recorded."
    )

    @field_validator("cors_origins")
    @classmethod
    def _check_origins(cls, origins: list[str]) -> list[str]:
        for origin in origins:
            if origin == "*" or not origin.startswith(("http://", "https://")) or origin.endswith("/"):
                raise ValueError(
                    f"cors_origins must list exact origins such as 'https://app.example.com' (no '*', no path); "
                    f"got {origin!r}"
                )
        return origins

    @field_validator("otlp_endpoint")
    @classmethod
    def _check_otlp_endpoint(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(("http://", "https://")):
            raise ValueError(f"otlp_endpoint must start with http:// or https://; got {url!r}")
        return url.rstrip("/") if url is not None else None

    @field_validator("public_base_url")
    @classmethod
    def _check_base_url(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"public_base_url must start with http:// or https://; got {url!r}")
        return url.rstrip("/")

    @field_validator("llm_base_url")
    @classmethod
    def _check_llm_base_url(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(("http://", "https://")):
            raise ValueError(f"llm_base_url must start with http:// or https://; got {url!r}")
        return url.rstrip("/") if url is not None else None

    @model_validator(mode="after")
    def _check_llm(self) -> Self:
        if (self.llm_price_input_usd_per_mtok is None) != (self.llm_price_output_usd_per_mtok is None):
            raise ValueError(
                "llm_price_input_usd_per_mtok and llm_price_output_usd_per_mtok go together: set both or neither"
            )
        if self.llm_provider == "none":
            return self
        needed: dict[str, object] = {"llm_model": self.llm_model}
        if self.llm_provider == "openai_compatible":
            needed["llm_base_url"] = self.llm_base_url
        else:
            needed["llm_api_key"] = self.llm_api_key
        missing = [name for name, value in needed.items() if value is None]
        if missing:
            variables = ", ".join(f"SPACECOMPUTER_{name.upper()}" for name in missing)
            raise ValueError(f"llm_provider {self.llm_provider!r} needs {' and '.join(missing)} ({variables})")
        return self

    @model_validator(mode="after")
    def _check_platform(self) -> Self:
        from spacecomputer.api.security import check_secret

        try:
            check_secret(self.jwt_secret.get_secret_value(), self.environment, algorithm=self.jwt_algorithm)
        except InvalidInputError as error:  # pydantic reports ValueErrors as validation errors
            raise ValueError(error.message) from None
        missing = sorted({"anonymous", "free"} - set(self.plan_limits))
        if missing:
            raise ValueError(f"plan_limits must name the tiers {missing}; got {sorted(self.plan_limits)}")
        if self.blob_backend == "s3" and not self.s3_bucket:
            raise ValueError("blob_backend 's3' needs s3_bucket (SPACECOMPUTER_S3_BUCKET)")
        if self.job_stale_after_s < 2 * self.job_heartbeat_s:
            raise ValueError(
                f"job_stale_after_s ({self.job_stale_after_s:g}) must be at least twice job_heartbeat_s "
                f"({self.job_heartbeat_s:g}): a live job would be taken for dead"
            )
        return self

    def platform_database_url(self) -> str:
        """Return the platform's database URL: ``database_url``, or the SQLite file ``library_dir/platform.db``."""
        if self.database_url is not None:
            return self.database_url
        return f"sqlite:///{(self.library_dir / 'platform.db').expanduser().resolve()}"

    def platform_blobs_dir(self) -> Path:
        """Return the local blob store's folder: ``blobs_dir``, or ``library_dir/blobs``."""
        return self.blobs_dir if self.blobs_dir is not None else self.library_dir / "blobs"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the settings of this process (read once from the environment)."""
    return Settings()
