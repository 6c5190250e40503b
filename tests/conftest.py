"""Shared test fixtures: paths to the bundled data, small good and hostile videos (see ``tests/videos.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from spacecomputer.errors import UnsupportedVideoError
from tests.videos import HOSTILE_BUILDERS, HostileVideo, write_clip

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
SAMPLE_VIDEO = DATA / "videos" / "sports2d-demo.mp4"
SAMPLE_CALIBRATION = DATA / "videos" / "sports2d-demo.calib.toml"
ATHLETE_FILES = sorted(p for p in (DATA / "athletes").glob("*.json") if p.name != "manifest.json")


@pytest.fixture(scope="session")
def sample_video() -> Path:
    return SAMPLE_VIDEO


@pytest.fixture(scope="session")
def sample_calibration() -> Path:
    return SAMPLE_CALIBRATION


@pytest.fixture(params=[*sorted(HOSTILE_BUILDERS), "url"])
def hostile_video(request: pytest.FixtureRequest, tmp_path: Path) -> HostileVideo:
    """Build one hostile input in ``tmp_path`` (one test per case)."""
    name: str = request.param
    if name == "url":
        return HostileVideo(name, "https://example.com/clip.mp4", UnsupportedVideoError)
    file_name, build, error = HOSTILE_BUILDERS[name]
    path = tmp_path / file_name
    build(path)
    return HostileVideo(name, str(path), error)


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    """A default test clip: H.264 in MP4, 32x16 px, 12 frames at 30 fps."""
    return write_clip(tmp_path / "clip.mp4")


@pytest.fixture(scope="session")
def short_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run directory written by the real pipeline on frames 45–84 of the sample video (athlete in view)."""
    from spacecomputer.pipeline import AnalyzeOptions, analyze_video
    from tests.videos import sample_frames, write_rgb_frames

    root = tmp_path_factory.mktemp("short_run")
    clip = write_rgb_frames(root / "short.mp4", sample_frames(85)[45:])
    analyze_video(clip, AnalyzeOptions(height_m=1.65, overlay=False), out_dir=root / "run")
    return root / "run"
