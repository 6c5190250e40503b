"""Shared test fixtures: paths to the bundled data."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
SAMPLE_VIDEO = DATA / "videos" / "sports2d-demo.mp4"
SAMPLE_CALIBRATION = DATA / "videos" / "sports2d-demo.calib.toml"
ATHLETE_FILES = sorted((DATA / "athletes").glob("*.json"))


@pytest.fixture(scope="session")
def sample_video() -> Path:
    return SAMPLE_VIDEO


@pytest.fixture(scope="session")
def sample_calibration() -> Path:
    return SAMPLE_CALIBRATION
