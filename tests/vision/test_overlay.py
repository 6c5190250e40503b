from __future__ import annotations

import struct
from pathlib import Path

import av
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.typing import NDArray

from spacecomputer.domain._skeleton import BLAZEPOSE_33, Skeleton
from spacecomputer.errors import InvalidInputError, InvalidPoseDataError, OutputError
from spacecomputer.vision._overlay import OverlayWriter, draw_pose

GREY = 128
RED, YELLOW, GREEN, CYAN = (255, 0, 0), (255, 255, 0), (0, 255, 0), (0, 255, 255)
# Three joints that share no bone: nose, left wrist, right ankle.
NOSE, LEFT_WRIST, RIGHT_ANKLE = (BLAZEPOSE_33.index(name) for name in ("nose", "left_wrist", "right_ankle"))
VFR_TIMESTAMPS_S = [0.0, 0.033, 0.05, 0.1, 0.3, 0.31, 0.5, 0.51, 0.9, 1.25]


def _grey(height_px: int, width_px: int) -> NDArray[np.uint8]:
    return np.full((height_px, width_px, 3), GREY, dtype=np.uint8)


def _three_joints(points: dict[int, tuple[float, float]]) -> NDArray[np.float64]:
    landmarks = np.full((33, 3), np.nan)
    for joint, (x, y) in points.items():
        landmarks[joint] = (x, y, 0.0)
    return landmarks


def _decode(path: Path) -> tuple[av.video.stream.VideoStream, list[tuple[float, NDArray[np.uint8]]]]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = [
            (float(frame.time), np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8))
            for frame in container.decode(stream)
        ]
        return stream, frames


def _top_level_boxes(path: Path) -> list[str]:
    data, offset, boxes = path.read_bytes(), 0, []
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        boxes.append(kind.decode())
        offset += size
    return boxes


def _near(actual: NDArray[np.uint8], expected: tuple[int, int, int], tolerance: int = 40) -> bool:
    return bool(np.all(np.abs(actual.astype(int) - np.array(expected)) <= tolerance))


def test_vfr_clip_round_trips_as_browser_ready_h264(tmp_path: Path) -> None:
    path = tmp_path / "overlay.mp4"
    joints = {NOSE: (200.0, 300.0), LEFT_WRIST: (640.0, 360.0), RIGHT_ANKLE: (1000.0, 500.0)}
    confidence = np.full(33, np.nan)
    confidence[[NOSE, LEFT_WRIST, RIGHT_ANKLE]] = (0.9, 0.6, 0.2)
    with OverlayWriter(path, width_px=1280, height_px=720, fps=30.0) as writer:
        for index, timestamp_s in enumerate(VFR_TIMESTAMPS_S):
            writer.write(
                _grey(720, 1280),
                timestamp_s=timestamp_s,
                frame_index=index,
                landmarks_px=_three_joints(joints),
                confidence=confidence,
            )
    stream, frames = _decode(path)
    assert stream.codec_context.name == "h264"
    assert stream.codec_context.pix_fmt == "yuv420p"
    assert (stream.width, stream.height) == (1280, 720)
    assert len(frames) == len(VFR_TIMESTAMPS_S)
    tick_s = 1 / 90000
    assert stream.time_base is not None
    assert float(stream.time_base) <= tick_s
    for (decoded_s, _), expected_s in zip(frames, VFR_TIMESTAMPS_S, strict=True):
        assert decoded_s == pytest.approx(expected_s, abs=tick_s)
    boxes = _top_level_boxes(path)
    assert boxes.index("moov") < boxes.index("mdat")  # +faststart
    image = frames[3][1]
    for (x, y), colour in zip(joints.values(), (GREEN, YELLOW, RED), strict=True):
        assert _near(image[int(y), int(x)], colour), (x, y, image[int(y), int(x)])
    assert _near(image[600, 100], (GREY, GREY, GREY), tolerance=6)
    assert image[3, 3].max() < 40  # the stamp's black box
    assert image[10:40, 5:200].max() > 200  # white text inside it


def test_odd_size_is_padded_and_large_frames_downscaled(tmp_path: Path) -> None:
    path = tmp_path / "small.mp4"
    joints = {NOSE: (300.0, 200.0)}
    confidence = np.full(33, 0.95)
    with OverlayWriter(path, width_px=601, height_px=401, fps=25.0, max_width_px=301) as writer:
        assert writer.output_size_px == (302, 202)
        for index in range(3):
            writer.write(
                _grey(401, 601),
                timestamp_s=index / 25,
                frame_index=index,
                landmarks_px=_three_joints(joints),
                confidence=confidence,
            )
    stream, frames = _decode(path)
    assert (stream.width, stream.height) == (302, 202)
    assert len(frames) == 3
    image = frames[0][1]
    assert _near(image[100, 150], GREEN)  # (300, 200) scaled by 301 / 601
    assert _near(image[201, 200], (GREY, GREY, GREY), tolerance=6)  # the padded row copies the edge


def test_frames_without_pose_are_written(tmp_path: Path) -> None:
    path = tmp_path / "empty.mp4"
    with OverlayWriter(path, width_px=64, height_px=48, fps=30.0) as writer:
        writer.write(_grey(48, 64), timestamp_s=0.0, frame_index=0)
        writer.write(_grey(48, 64), timestamp_s=1 / 30, frame_index=1, landmarks_px=None, confidence=None)
    _, frames = _decode(path)
    assert len(frames) == 2
    assert _near(frames[1][1][40, 60], (GREY, GREY, GREY), tolerance=6)


def test_writer_rejects_bad_input_and_use_after_close(tmp_path: Path) -> None:
    writer = OverlayWriter(tmp_path / "bad.mp4", width_px=64, height_px=48, fps=30.0)
    writer.write(_grey(48, 64), timestamp_s=0.5, frame_index=0)
    with pytest.raises(InvalidInputError, match="timestamp_s"):
        writer.write(_grey(48, 64), timestamp_s=0.5, frame_index=1)
    with pytest.raises(InvalidInputError, match="timestamp_s"):
        writer.write(_grey(48, 64), timestamp_s=float("nan"), frame_index=1)
    with pytest.raises(InvalidInputError, match="shape"):
        writer.write(_grey(48, 65), timestamp_s=1.0, frame_index=1)
    with pytest.raises(InvalidPoseDataError, match="landmarks_px"):
        writer.write(_grey(48, 64), timestamp_s=1.0, frame_index=1, landmarks_px=np.zeros((17, 2)))
    writer.close()
    writer.close()
    with pytest.raises(OutputError, match="closed"):
        writer.write(_grey(48, 64), timestamp_s=2.0, frame_index=2)
    _, frames = _decode(tmp_path / "bad.mp4")
    assert [time_s for time_s, _ in frames] == [0.5]


def test_writer_reports_unwritable_path_and_bad_settings(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="cannot create"):
        OverlayWriter(tmp_path / "missing" / "out.mp4", width_px=64, height_px=48, fps=30.0)
    for bad in ({"fps": 0.0}, {"width_px": 0}, {"max_width_px": 1}, {"crf": 60}):
        with pytest.raises(InvalidInputError):
            OverlayWriter(tmp_path / "x.mp4", **({"width_px": 64, "height_px": 48, "fps": 30.0} | bad))


@pytest.mark.parametrize(
    ("confidence", "colour"),
    [(0.0, RED), (0.49, RED), (0.5, YELLOW), (0.79, YELLOW), (0.8, GREEN), (1.0, GREEN), (np.nan, CYAN)],
)
def test_joint_colour_follows_the_confidence_ramp(confidence: float, colour: tuple[int, int, int]) -> None:
    drawn = draw_pose(_grey(90, 120), _three_joints({NOSE: (60.0, 45.0)}), np.full(33, confidence))
    assert tuple(drawn[45, 60]) == colour


def test_draw_pose_draws_bones_between_valid_joints_only() -> None:
    shoulder, elbow, wrist = (BLAZEPOSE_33.index(n) for n in ("left_shoulder", "left_elbow", "left_wrist"))
    image = _grey(200, 300)
    landmarks = _three_joints({shoulder: (50.0, 100.0), elbow: (150.0, 100.0)})
    landmarks[wrist] = (250.0, np.nan, 0.0)
    drawn = draw_pose(image, landmarks, None)
    assert _near(drawn[100, 100], CYAN)  # the anti-aliased shoulder-elbow bone, confidence unknown
    assert np.array_equal(drawn[:, 200:], image[:, 200:])  # no elbow-wrist bone, no wrist
    assert np.all(image == GREY)  # the input is not modified
    confidence = np.full(33, 0.9)
    confidence[elbow] = 0.3
    assert _near(draw_pose(image, landmarks, confidence)[100, 100], RED)  # the less confident end's colour


def test_line_thickness_scales_with_the_image() -> None:
    left, right = BLAZEPOSE_33.index("left_hip"), BLAZEPOSE_33.index("right_hip")

    def bone_width_px(size_px: int) -> int:
        points = _three_joints({left: (0.1 * size_px, size_px / 2), right: (0.9 * size_px, size_px / 2)})
        drawn = draw_pose(_grey(size_px, size_px), points, np.ones(33))
        return int(np.count_nonzero(drawn[:, size_px // 2, 0] != GREY))

    assert bone_width_px(1440) > bone_width_px(720) > bone_width_px(200)


def test_draw_pose_validates_shapes() -> None:
    with pytest.raises(InvalidPoseDataError, match="confidence"):
        draw_pose(_grey(10, 10), np.zeros((33, 2)), np.ones(32))
    with pytest.raises(InvalidPoseDataError, match="landmarks_px"):
        draw_pose(_grey(10, 10), np.zeros((33, 4)), None)
    with pytest.raises(InvalidInputError, match="image_rgb"):
        draw_pose(np.zeros((10, 10), np.uint8), np.zeros((33, 2)), None)
    two_joints = Skeleton(name="pair", joint_names=("a", "b"), bones=((0, 1),))
    assert draw_pose(_grey(10, 10), np.array([[1.0, 1.0], [8.0, 8.0]]), None, skeleton=two_joints).shape == (
        10,
        10,
        3,
    )


@settings(max_examples=50, deadline=None)
@given(
    landmarks=hnp.arrays(
        np.float64,
        (33, 2),
        elements=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.floats(-100.0, 200.0)),
    ),
    confidence=hnp.arrays(np.float64, (33,), elements=st.one_of(st.just(np.nan), st.floats(0.0, 1.0))),
)
def test_draw_pose_survives_any_landmarks(landmarks: NDArray[np.float64], confidence: NDArray[np.float64]) -> None:
    image = _grey(64, 96)
    drawn = draw_pose(image, landmarks, confidence)
    assert drawn.shape == image.shape
    assert drawn.dtype == np.uint8
    assert np.all(image == GREY)
    if not np.any(np.all(np.isfinite(landmarks), axis=1)):
        assert np.array_equal(drawn, image)
