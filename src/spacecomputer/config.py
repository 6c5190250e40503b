"""One settings object for the whole system, read from ``SPACECOMPUTER_*`` environment variables.

Example: ``SPACECOMPUTER_MAX_DURATION_S=120 spacecomputer analyze clip.mp4`` lowers the duration cap.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "VideoLimits", "get_settings"]


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
    """Process-wide configuration, validated at start-up."""

    model_config = SettingsConfigDict(env_prefix="SPACECOMPUTER_", extra="ignore", frozen=True)

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
        description="SQLAlchemy URL of the relational store; None = a SQLite file in library_dir.",
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the settings of this process (read once from the environment)."""
    return Settings()
