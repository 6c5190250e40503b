"""The bundled library: every manifest entry loads, its facts match its files, bad ids are explained."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from spacecomputer.athletes import (
    COMPARED_ANGLES,
    AthleteLibrary,
    Manifest,
    ManifestEntry,
    bundled_library_dir,
    describe_clip_file,
    estimated_camera_view,
    mirror_sequence,
    motion_from_sequence,
    scale_reference_clip,
)
from spacecomputer.domain import PoseSequence
from spacecomputer.errors import InsufficientDataError, InvalidInputError, InvalidPoseDataError, NotFoundError
from tests.athletes.clips import ATHLETES, reference_motion

LIBRARY = AthleteLibrary([ATHLETES])
ENTRIES = LIBRARY.entries()


def test_the_bundled_directory_is_the_checkouts_data() -> None:
    assert bundled_library_dir().resolve() == ATHLETES.resolve()


def test_the_manifest_lists_every_shipped_pose_file_once() -> None:
    assert sorted(entry.pose_file for entry in ENTRIES) == sorted(
        p.name for p in ATHLETES.glob("*.json") if p.name != "manifest.json"
    )
    assert len(ENTRIES) == 11


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.id)
def test_every_entry_loads_and_its_facts_are_those_of_its_file(entry: ManifestEntry) -> None:
    assert entry.facts == describe_clip_file(ATHLETES / entry.pose_file)
    sequence = LIBRARY.sequence(entry.id)
    assert sequence.n_frames == entry.facts.frames_listed
    assert int(sequence.detected.sum()) == entry.facts.frames_with_pose
    assert entry.height_m is None
    assert entry.mass_kg is None
    assert "height_m" in entry.unknown
    if entry.camera_view.startswith("not seen"):
        assert entry.camera_view == estimated_camera_view(sequence)
    for name in (entry.video, entry.video_h264):
        if name is not None:
            assert (ATHLETES / name).is_file()


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e.video_h264], ids=lambda e: e.id)
def test_browser_videos_are_h264_with_one_frame_per_pose_frame(entry: ManifestEntry) -> None:
    assert entry.video_h264 is not None
    with av.open(str(ATHLETES / entry.video_h264)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert sum(1 for _ in container.decode(stream)) == entry.facts.frames_listed


@pytest.mark.parametrize("clip_id", [e.id for e in ENTRIES if e.usable])
def test_every_usable_clip_becomes_a_motion_with_finite_uncertainties(clip_id: str) -> None:
    motion = LIBRARY.motion(clip_id, draws=4)
    assert motion.source == "reference"
    assert motion.movement == LIBRARY.get(clip_id).movement
    assert set(motion.angles_deg) <= set(COMPARED_ANGLES)
    assert len(motion.angles_deg) >= 10
    assert all(np.isfinite(sd) and sd > 0 for sd in motion.angle_sd_deg.values())
    assert any("reference stature" in note for note in motion.notes)


def test_unknown_id_lists_the_valid_ones() -> None:
    with pytest.raises(NotFoundError) as caught:
        LIBRARY.get("usain")
    assert "bolt-force-motion" in caught.value.message
    assert "struggle" in caught.value.message


def test_an_unusable_clip_is_refused_with_its_reason() -> None:
    with pytest.raises(InsufficientDataError, match="dance"):
        LIBRARY.motion("hezvo")
    assert "hezvo" not in LIBRARY.usable_ids()
    assert LIBRARY.motion("hezvo", allow_unusable=True, draws=3).n_frames == 74


def test_usable_ids_filter_by_movement() -> None:
    assert set(LIBRARY.usable_ids(movement="strike")) == {"boundary-nz", "chisora", "pound"}


def test_two_directories_with_the_same_id_are_refused(tmp_path: Path) -> None:
    Manifest(entries=[LIBRARY.get("lomu")]).write(tmp_path / "manifest.json")
    with pytest.raises(InvalidInputError, match="lomu"):
        AthleteLibrary([ATHLETES, tmp_path])


def test_a_corrupt_manifest_is_a_typed_error(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text('{"entries": [{"id": "x"}]}')
    with pytest.raises(InvalidInputError, match="not a valid library manifest"):
        AthleteLibrary([tmp_path])


def test_a_directory_without_manifest_contributes_nothing(tmp_path: Path) -> None:
    assert AthleteLibrary([tmp_path]).ids() == []


def test_scaling_keeps_angles_and_refuses_metric_input() -> None:
    clip = PoseSequence.from_elite_json(ATHLETES / "koroibete.json")
    scaled = scale_reference_clip(clip)
    # The body's ankle–knee–hip–shoulder chain measures 0.818 × 1.70 m after scaling.
    assert 0.5 < scaled.metres_per_pixel * 300 < 2.0
    with pytest.raises(InvalidPoseDataError):
        scale_reference_clip(scaled.smoothed)


def test_mirroring_twice_restores_the_pose_and_exchanges_sides_once() -> None:
    motion = reference_motion("bolt-force-motion")
    pose = motion.pose
    twice = mirror_sequence(mirror_sequence(pose, up=motion.up), up=motion.up)
    np.testing.assert_allclose(twice.positions, pose.positions, atol=1e-12)
    mirrored = motion.mirrored()
    np.testing.assert_allclose(
        mirrored.angles_deg["left_knee_flexion"], motion.angles_deg["right_knee_flexion"], atol=1e-9
    )
    assert mirrored.angle_sd_deg["left_knee_flexion"] == motion.angle_sd_deg["right_knee_flexion"]
    assert [e.foot for e in mirrored.events] == ["right" if e.foot == "left" else "left" for e in motion.events]


def test_a_motion_needs_enough_frames() -> None:
    motion = reference_motion("koroibete")
    with pytest.raises(InsufficientDataError, match="at least"):
        motion_from_sequence(motion.pose[:3], up=motion.up, name="short", source="reference")
