"""The `spacecomputer analyze` command, run in-process on real (small) videos."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from spacecomputer.cli import app
from spacecomputer.config import get_settings
from tests.videos import HostileVideo, sample_frames, write_rgb_frames

runner = CliRunner()


@pytest.fixture(scope="module")
def short_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Frames 45–84 of the sample video (the athlete in view throughout)."""
    return write_rgb_frames(tmp_path_factory.mktemp("clips") / "short.mp4", sample_frames(85)[45:])


def _analyze(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["analyze", *args])
    return result.exit_code, result.stdout, result.stderr


def test_analyze_writes_a_run_and_prints_the_summary(short_clip: Path, tmp_path: Path) -> None:
    code, _, stderr = _analyze(
        str(short_clip), "--out", str(tmp_path / "run"), "--height", "1.65", "--mass", "60", "--sex", "Female"
    )
    assert code == 0, stderr
    assert "detection rate" in stderr
    assert "Biomechanics" in stderr
    assert "estimated from video" in stderr
    section = json.loads((tmp_path / "run" / "analysis.json").read_text())["biomechanics"]
    assert (section["body_model"]["sex"], section["body_model"]["mass_kg"]) == ("female", 60.0)
    assert {p.name for p in (tmp_path / "run").iterdir()} == {
        "analysis.json",
        "kinematics.mot",
        "markers.trc",
        "metrics.csv",
        "overlay.mp4",
        "poses.parquet",
        "poses_image.parquet",
        "quality.json",
        "report.html",
    }


def test_json_output_and_unicode_paths_with_spaces(short_clip: Path, tmp_path: Path) -> None:
    folder = tmp_path / "my vidéo ü"
    folder.mkdir()
    clip = shutil.copy(short_clip, folder / "clip ö.mp4")
    code, stdout, stderr = _analyze(str(clip), "--out", str(folder / "run é"), "--json", "--no-overlay")
    assert code == 0, stderr
    document = json.loads(stdout)
    assert document["video"]["filename"] == "clip ö.mp4"
    assert document["pose"]["detection_rate"] >= 0.9
    assert (folder / "run é" / "analysis.json").exists()


def test_every_hostile_input_fails_cleanly(hostile_video: HostileVideo, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, stdout, stderr = _analyze(str(hostile_video.path), "--out", str(out), "--json")
    assert code == 2
    assert json.loads(stdout)["error"]["code"] == hostile_video.error.code
    assert len(stderr.strip().splitlines()) == 1
    assert hostile_video.error.code in stderr
    assert not out.exists()
    assert not any(p.name.startswith(".out") for p in tmp_path.iterdir())


def test_nobody_in_view_names_the_frames_checked(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    background = rng.integers(60, 200, size=(240, 320, 3), dtype=np.uint8)
    clip = write_rgb_frames(tmp_path / "empty scene.mp4", [background] * 24)
    code, stdout, _ = _analyze(str(clip), "--out", str(tmp_path / "run"), "--json")
    assert code == 2
    error = json.loads(stdout)["error"]
    assert error["code"] == "no_athlete_detected"
    assert "24 frames" in error["message"]
    assert not (tmp_path / "run").exists()


def test_partly_visible_athlete_is_a_warning(tmp_path: Path) -> None:
    frames = sample_frames(75)[45:]
    blank = np.full_like(frames[0], 128)
    clip = write_rgb_frames(tmp_path / "partial.mp4", frames + [blank] * 30)
    code, stdout, stderr = _analyze(str(clip), "--out", str(tmp_path / "run"), "--json", "--no-overlay")
    assert code == 0, stderr
    document = json.loads(stdout)
    assert 0.4 <= document["pose"]["detection_rate"] <= 0.6
    assert any("athlete visible in only" in w for w in document["warnings"])


@pytest.mark.parametrize(
    ("extra", "code_name", "fragment"),
    [
        (["--height", "165"], "invalid_input", "did you mean 1.65"),
        (["--mass", "-3"], "invalid_input", "kilograms"),
        (["--cutoff", "fast"], "invalid_input", "--cutoff"),
        (["--sex", "other"], "invalid_input", "sex must be one of"),
    ],
)
def test_wrong_units_are_refused_before_any_work(
    short_clip: Path, tmp_path: Path, extra: list[str], code_name: str, fragment: str
) -> None:
    code, stdout, _ = _analyze(str(short_clip), "--out", str(tmp_path / "run"), "--json", *extra)
    assert code == 2
    error = json.loads(stdout)["error"]
    assert (error["code"], fragment in error["message"]) == (code_name, True)
    assert not (tmp_path / "run").exists()


def test_unwritable_or_occupied_output_is_refused(short_clip: Path, tmp_path: Path) -> None:
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    code, stdout, _ = _analyze(str(short_clip), "--out", str(a_file / "run"), "--json")
    assert code == 2
    assert json.loads(stdout)["error"]["code"] == "output_error"
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "keep.txt").write_text("mine")
    code, stdout, _ = _analyze(str(short_clip), "--out", str(occupied), "--json")
    assert json.loads(stdout)["error"]["code"] == "output_error"
    assert [p.name for p in occupied.iterdir()] == ["keep.txt"]


def test_strict_refuses_a_video_below_the_quality_threshold(
    short_clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPACECOMPUTER_MIN_QUALITY_SCORE", "0.95")
    get_settings.cache_clear()
    try:
        args = [str(short_clip), "--sport", "sprint", "--json", "--no-overlay"]
        code, stdout, _ = _analyze(*args, "--out", str(tmp_path / "strict"), "--strict")
        assert code == 2
        error = json.loads(stdout)["error"]
        assert error["code"] == "quality_rejected"
        assert "frame rate" in error["message"] or "fps" in error["message"]
        assert not (tmp_path / "strict").exists()
        code, stdout, _ = _analyze(*args, "--out", str(tmp_path / "lenient"))
        assert code == 0
        assert json.loads(stdout)["quality"]["passed"] is False
    finally:
        get_settings.cache_clear()
