"""`spacecomputer athletes add`: a real video through the real pipeline into a user library, or nothing at all."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from spacecomputer.athletes import AthleteLibrary, Manifest, add_reference_clip, bundled_library_dir, clip_id_from_name
from spacecomputer.cli import app
from spacecomputer.config import get_settings
from spacecomputer.errors import InvalidInputError, NoAthleteDetectedError
from spacecomputer.pipeline import AnalyzeOptions
from tests.videos import sample_frames, write_rgb_frames

pytestmark = pytest.mark.slow
runner = CliRunner()


@pytest.fixture(scope="module")
def short_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Frames 45–84 of the sample video (the athlete in view throughout)."""
    return write_rgb_frames(tmp_path_factory.mktemp("clips") / "short.mp4", sample_frames(85)[45:])


@pytest.fixture
def library_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("SPACECOMPUTER_LIBRARY_DIR", str(tmp_path / "lib"))
    get_settings.cache_clear()
    yield tmp_path / "lib" / "athletes"
    get_settings.cache_clear()


def test_cli_add_puts_the_clip_in_the_library(short_clip: Path, library_env: Path) -> None:
    result = runner.invoke(
        app,
        [
            "athletes",
            "add",
            str(short_clip),
            "--name",
            "Demo jumping jacks",
            "--sport",
            "fitness",
            "--movement",
            "jump",
        ],
    )
    assert result.exit_code == 0, result.stderr
    assert "added demo-jumping-jacks" in result.stderr
    assert sorted(p.name for p in library_env.iterdir()) == [
        "demo-jumping-jacks.json",
        "demo-jumping-jacks_h264.mp4",
        "manifest.json",
    ]
    library = AthleteLibrary.default()
    entry = library.get("demo-jumping-jacks")
    assert (entry.sport, entry.movement, entry.athlete) == ("fitness", "jump", None)
    assert entry.facts.frames_listed == 40
    assert entry.facts.frames_with_pose >= 38
    assert "athlete" in entry.unknown
    assert entry.camera_view.startswith("not seen; estimated from the pose")
    # Stored like the bundled clips: normalised image coordinates, inside the frame.
    clip = library.sequence("demo-jumping-jacks")
    seen = clip.positions[clip.detected][..., :2]
    assert np.nanmin(seen) > -0.1
    assert np.nanmax(seen) < 1.1
    motion = library.motion("demo-jumping-jacks", draws=3)
    assert motion.movement == "jump"
    listed = runner.invoke(app, ["athletes", "list", "--json"])
    assert "demo-jumping-jacks" in [item["id"] for item in json.loads(listed.stdout)]
    again = runner.invoke(
        app, ["athletes", "add", str(short_clip), "--name", "Demo jumping jacks", "--sport", "x", "--movement", "jump"]
    )
    assert again.exit_code == 2
    assert "already has a clip 'demo-jumping-jacks'" in again.stderr


def test_a_video_without_anyone_leaves_nothing_behind(tmp_path: Path) -> None:
    empty = write_rgb_frames(tmp_path / "empty.mp4", [np.full((240, 320, 3), 90, np.uint8)] * 20)
    library_dir = tmp_path / "lib"
    with pytest.raises(NoAthleteDetectedError):
        add_reference_clip(
            empty, name="nobody", sport="none", movement="sprint", library_dir=library_dir, options=AnalyzeOptions()
        )
    assert list(library_dir.iterdir()) == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"movement": "dance"}, "valid: sprint, jump"),
        ({"name": "   "}, "--name must not be blank"),
        ({"name": "—"}, "cannot make a clip id"),
        ({"sport": " "}, "--sport must not be blank"),
        ({"clip_id": "lomu"}, "already has a clip 'lomu'"),
        ({"clip_id": "Bad Id!"}, "valid library"),
    ],
)
def test_bad_requests_are_refused_before_any_work(tmp_path: Path, changes: dict[str, str], message: str) -> None:
    arguments = {"name": "clip", "sport": "athletics", "movement": "sprint", **changes}
    with pytest.raises(InvalidInputError, match=message):
        add_reference_clip(tmp_path / "missing.mp4", library_dir=tmp_path / "lib", **arguments)  # type: ignore[arg-type]
    assert not (tmp_path / "lib" / "manifest.json").exists()


def test_clip_ids_from_names() -> None:
    assert clip_id_from_name("Usain Bolt — 100 m") == "usain-bolt-100-m"
    assert Manifest.read(bundled_library_dir() / "manifest.json").entries[0].id == "beijing"
