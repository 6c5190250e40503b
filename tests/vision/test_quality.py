from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.typing import NDArray

from spacecomputer.domain._pose_frame import PoseFrame
from spacecomputer.errors import InsufficientDataError, InvalidInputError
from spacecomputer.vision._pose import BlazePoseEstimator
from spacecomputer.vision._quality import (
    MIN_FPS_BY_SPORT,
    CameraMotion,
    QualityAccumulator,
    QualityReport,
)

WIDTH, HEIGHT = 480, 270


def _texture(seed: int = 0, shape: tuple[int, int] = (800, 1000)) -> NDArray[np.uint8]:
    """A blurred-noise RGB texture: plenty of trackable corners, mid-grey on average."""
    noise = np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)
    blurred = np.asarray(cv2.GaussianBlur(noise, (0, 0), 2.0), dtype=np.float64)
    grey = ((blurred - blurred.min()) * (255.0 / np.ptp(blurred))).astype(np.uint8)
    return np.ascontiguousarray(np.repeat(grey[:, :, None], 3, axis=2))


def _crops(offsets: Sequence[tuple[int, int]], texture: NDArray[np.uint8] | None = None) -> list[NDArray[np.uint8]]:
    """Frames of a camera looking at ``texture``, shifted by (dx, dy) px per frame (from a 100 px margin)."""
    source = _texture() if texture is None else texture
    return [
        np.ascontiguousarray(source[100 + dy : 100 + dy + HEIGHT, 100 + dx : 100 + dx + WIDTH]) for dx, dy in offsets
    ]


def _pose(box: tuple[float, float, float, float], *, visibility: float = 0.9) -> PoseFrame:
    """A 33-landmark pose spread over ``box`` = (x0, y0, x1, y1), px."""
    x0, y0, x1, y1 = box
    grid = np.linspace(0.0, 1.0, 33)
    image = np.column_stack([x0 + (x1 - x0) * grid, y0 + (y1 - y0) * grid[::-1], np.zeros(33)])
    return PoseFrame(image_px=image, world_m=np.zeros((33, 3)), visibility=np.full(33, visibility))


def _report(
    frames: Sequence[NDArray[np.uint8]],
    poses: Sequence[PoseFrame | None] | None = None,
    *,
    fps: float = 30.0,
    sport: str | None = None,
    min_score: float = 0.5,
) -> QualityReport:
    height, width = frames[0].shape[:2]
    accumulator = QualityAccumulator(width_px=width, height_px=height, fps=fps, sport=sport)
    for index, frame in enumerate(frames):
        accumulator.add(frame, None if poses is None else poses[index])
    return accumulator.report(min_score=min_score)


def _assert_json_clean(report: QualityReport) -> None:
    document = report.to_dict()
    assert json.loads(json.dumps(document, allow_nan=False)) == document
    assert 0.0 <= document["score"] <= 1.0
    assert all(0.0 <= value <= 1.0 for value in document["sub_scores"].values())


@pytest.fixture(scope="module")
def sample_report(sample_video: Path) -> QualityReport:
    with av.open(str(sample_video)) as container, BlazePoseEstimator() as estimator:
        stream = container.streams.video[0]
        accumulator = QualityAccumulator(
            width_px=stream.width, height_px=stream.height, fps=float(stream.average_rate or 0)
        )
        for frame in container.decode(stream):
            image = np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)
            accumulator.add(image, estimator.estimate(image))
    return accumulator.report(min_score=0.5)


@pytest.mark.slow
def test_sample_video_is_static_sharp_and_passes(sample_report: QualityReport) -> None:
    report = sample_report
    assert report.n_frames == 230
    assert report.n_sampled_frames == 46
    assert report.camera_motion is CameraMotion.STATIC
    assert report.camera_speed_px_per_s is not None
    assert report.camera_speed_px_per_s < 5.0
    assert report.detection_ratio > 0.9
    assert report.mean_landmark_visibility_ratio > 0.6
    assert 250.0 < report.median_body_height_px < 500.0
    assert np.isfinite(report.sharpness_laplacian_var)
    assert report.sharpness_laplacian_var > 100.0
    assert 0.2 < report.mean_luminance_ratio < 0.8
    assert report.passed
    assert 0.9 <= report.score <= 1.0
    assert report.reasons == ()
    assert report.warnings == ()
    _assert_json_clean(report)


@pytest.mark.parametrize("step", [(3, 0), (0, 2), (-2, 2)])
def test_panned_clip_is_panning(step: tuple[int, int]) -> None:
    offsets = [(200 + step[0] * i, 150 + step[1] * i) for i in range(60)]
    report = _report(_crops(offsets))
    expected_speed = np.hypot(*step) * 30.0
    assert report.camera_motion is CameraMotion.PANNING
    assert report.camera_drift_px_per_s == pytest.approx(expected_speed, rel=0.05)
    assert report.camera_motion_coherence is not None
    assert report.camera_motion_coherence > 0.9
    assert report.sub_scores["camera_motion"] < 1.0
    assert any(reason.startswith("camera panning") for reason in report.reasons)


def test_jittered_clip_is_shaking() -> None:
    rng = np.random.default_rng(1)
    offsets = [(200 + int(dx), 150 + int(dy)) for dx, dy in rng.integers(-8, 9, size=(60, 2))]
    report = _report(_crops(offsets))
    assert report.camera_motion is CameraMotion.SHAKING
    assert report.camera_motion_coherence is not None
    assert report.camera_motion_coherence < 0.0
    assert report.camera_speed_px_per_s is not None
    assert report.camera_drift_px_per_s is not None
    assert report.camera_drift_px_per_s < 0.5 * report.camera_speed_px_per_s
    assert any(reason.startswith("camera shaking") for reason in report.reasons)


def test_moving_athlete_on_a_still_background_reads_static() -> None:
    texture, athlete = _texture(seed=0), _texture(seed=7, shape=(120, 60))
    frames, poses = [], []
    for index in range(40):
        frame = _crops([(200, 150)], texture)[0].copy()
        x = 20 + 8 * index
        frame[100:220, x : x + 60] = athlete
        frames.append(frame)
        poses.append(_pose((x, 100, x + 60, 220)))
    report = _report(frames, poses)
    assert report.camera_motion is CameraMotion.STATIC
    assert report.detection_ratio == 1.0
    assert report.median_body_height_px == pytest.approx(120.0)
    assert report.athlete_sharpness_ratio is not None
    assert report.athlete_sharpness_ratio > 0.5
    assert any(reason.startswith("median_body_height_px = 120 is below 200") for reason in report.reasons)


def test_motion_blurred_athlete_lowers_the_athlete_sharpness_ratio() -> None:
    texture = _texture(seed=0)
    box = (150, 60, 270, 240)
    kernel = np.full((1, 31), 1.0 / 31)
    sharp = _crops([(200, 150)] * 10, texture)
    blurred = [frame.copy() for frame in sharp]
    for frame in blurred:
        frame[60:240, 150:270] = cv2.filter2D(frame, -1, kernel)[60:240, 150:270]
    poses = [_pose(box)] * 10
    sharp_report, blurred_report = _report(sharp, poses), _report(blurred, poses)
    assert sharp_report.athlete_sharpness_ratio == pytest.approx(1.0, abs=0.2)
    assert blurred_report.athlete_sharpness_ratio is not None
    assert blurred_report.athlete_sharpness_ratio < 0.1
    assert blurred_report.sub_scores["motion_blur"] == 0.0
    assert any(reason.startswith("athlete_sharpness_ratio") for reason in blurred_report.reasons)
    assert blurred_report.score < sharp_report.score


def test_black_clip_is_flagged_for_exposure_and_scores_low() -> None:
    report = _report([np.zeros((HEIGHT, WIDTH, 3), np.uint8)] * 12)
    assert report.mean_luminance_ratio == 0.0
    assert report.dark_clipped_ratio == 1.0
    assert report.sub_scores["exposure"] == 0.0
    assert report.sub_scores["sharpness"] == 0.0
    assert any("underexposed" in reason for reason in report.reasons)
    assert any(reason.startswith("dark_clipped_ratio = 1 is above 0.25") for reason in report.reasons)
    assert report.camera_motion is CameraMotion.UNKNOWN
    assert report.camera_speed_px_per_s is None
    assert report.score < 0.1
    assert not report.passed
    _assert_json_clean(report)


def test_white_clip_is_overexposed() -> None:
    report = _report([np.full((HEIGHT, WIDTH, 3), 255, np.uint8)] * 3)
    assert report.bright_clipped_ratio == 1.0
    assert any("overexposed" in reason for reason in report.reasons)
    assert any("highlights blown out" in reason for reason in report.reasons)


def test_no_detection_zeroes_visibility_and_says_why() -> None:
    report = _report(_crops([(200, 150)] * 8))
    assert (report.detection_ratio, report.mean_landmark_visibility_ratio, report.median_body_height_px) == (
        0,
        0,
        0,
    )
    assert report.reasons[0].startswith("no athlete detected in any of 8 frames")
    assert report.score == 0.0
    assert not report.passed
    assert report.athlete_sharpness_ratio is None
    _assert_json_clean(report)


@pytest.fixture(scope="module")
def sample_frame(sample_video: Path) -> NDArray[np.uint8]:
    with av.open(str(sample_video)) as container:
        frame = next(container.decode(video=0))
        return np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)


def test_blurred_frame_is_less_sharp_and_single_frame_is_reported(sample_frame: NDArray[np.uint8]) -> None:
    original = _report([sample_frame])
    slightly = _report([np.asarray(cv2.GaussianBlur(sample_frame, (0, 0), 2.0), dtype=np.uint8)])
    heavily = _report([np.asarray(cv2.GaussianBlur(sample_frame, (0, 0), 12.0), dtype=np.uint8)])
    assert original.sharpness_laplacian_var > slightly.sharpness_laplacian_var > heavily.sharpness_laplacian_var
    assert heavily.sub_scores["sharpness"] < 1.0
    assert original.sub_scores["sharpness"] == 1.0
    assert any(reason.startswith("sharpness_laplacian_var") for reason in heavily.reasons)
    assert original.n_frames == original.n_sampled_frames == 1
    assert original.camera_motion is CameraMotion.UNKNOWN
    assert any("only one frame was sampled" in warning for warning in original.warnings)
    _assert_json_clean(original)


@pytest.mark.parametrize(
    ("fps", "sport", "flagged", "rule_sport"),
    [
        (24.0, "sprint", True, "sprint"),
        (24.0, " Sprint ", True, "sprint"),
        (60.0, "sprint", False, "sprint"),
        (24.0, None, True, "general"),
        (25.0, None, False, "general"),
        (30.0, "rugby", False, "rugby"),
    ],
)
def test_frame_rate_rule_per_sport(fps: float, sport: str | None, flagged: bool, rule_sport: str) -> None:
    report = _report(_crops([(200, 150)] * 3), [_pose((100, 20, 200, 260))] * 3, fps=fps, sport=sport)
    assert report.sport == rule_sport
    assert report.min_fps_hz == MIN_FPS_BY_SPORT[rule_sport]
    fps_reasons = [reason for reason in report.reasons if reason.startswith("fps_hz")]
    assert bool(fps_reasons) is flagged
    assert (report.sub_scores["frame_rate"] < 1.0) is flagged
    if flagged:
        assert f"below {MIN_FPS_BY_SPORT[rule_sport]:.3g}" in fps_reasons[0]


def test_unknown_sport_falls_back_to_general_with_a_warning() -> None:
    report = _report(_crops([(200, 150)] * 2), fps=30.0, sport="curling")
    assert report.sport == "general"
    assert any("'curling' has no frame-rate rule" in warning for warning in report.warnings)


def test_report_is_repeatable_and_min_score_sets_passed() -> None:
    accumulator = QualityAccumulator(width_px=WIDTH, height_px=HEIGHT, fps=30.0)
    for frame in _crops([(200, 150)] * 6):
        accumulator.add(frame, _pose((100, 20, 300, 260)))
    loose, strict = accumulator.report(min_score=0.0), accumulator.report(min_score=1.0)
    assert loose.score == strict.score
    assert loose.passed
    assert strict.passed is (strict.score >= 1.0)


def test_invalid_inputs_raise_typed_errors() -> None:
    accumulator = QualityAccumulator(width_px=WIDTH, height_px=HEIGHT, fps=30.0)
    with pytest.raises(InsufficientDataError):
        accumulator.report(min_score=0.5)
    with pytest.raises(InvalidInputError, match="shape"):
        accumulator.add(np.zeros((HEIGHT, WIDTH + 1, 3), np.uint8), None)
    with pytest.raises(InvalidInputError, match="uint8"):
        accumulator.add(np.zeros((HEIGHT, WIDTH, 3), np.float32), None)
    accumulator.add(np.zeros((HEIGHT, WIDTH, 3), np.uint8), None)
    with pytest.raises(InvalidInputError, match="min_score"):
        accumulator.report(min_score=1.5)
    for bad in ({"fps": 0.0}, {"fps": float("nan")}, {"width_px": 0}, {"sample_every": 0}):
        with pytest.raises(InvalidInputError):
            QualityAccumulator(**({"width_px": WIDTH, "height_px": HEIGHT, "fps": 30.0} | bad))


@settings(max_examples=25, deadline=None)
@given(
    frames=st.lists(hnp.arrays(np.uint8, (24, 40, 3)), min_size=1, max_size=8),
    boxes=st.lists(
        st.one_of(st.none(), st.tuples(*[st.floats(-100.0, 200.0)] * 4)),
        min_size=8,
        max_size=8,
    ),
    visibility=st.floats(0.0, 1.0),
    fps=st.floats(1.0, 240.0),
    sample_every=st.integers(1, 3),
)
def test_any_input_gives_a_bounded_json_report(
    frames: list[NDArray[np.uint8]],
    boxes: list[tuple[float, float, float, float] | None],
    visibility: float,
    fps: float,
    sample_every: int,
) -> None:
    accumulator = QualityAccumulator(width_px=40, height_px=24, fps=fps, sample_every=sample_every)
    for frame, box in zip(frames, boxes, strict=False):
        accumulator.add(frame, None if box is None else _pose(box, visibility=visibility))
    report = accumulator.report(min_score=0.5)
    assert report.n_frames == len(frames)
    assert report.n_sampled_frames == -(-len(frames) // sample_every)
    assert 0.0 <= report.detection_ratio <= 1.0
    assert report.median_body_height_px >= 0.0
    _assert_json_clean(report)


def test_downscaled_frames_report_pixel_metrics_at_the_video_size() -> None:
    offsets = [(200 + 3 * i, 150) for i in range(40)]
    frames = _crops(offsets)
    poses = [_pose((100.0, 50.0, 180.0, 330.0)) for _ in frames]
    native = _report(frames, poses)
    half = QualityAccumulator(
        width_px=WIDTH // 2, height_px=HEIGHT // 2, fps=30.0, source_width_px=WIDTH, analysis_width_px=240
    )
    for frame, pose in zip(frames, poses, strict=True):
        small = cv2.resize(frame, (WIDTH // 2, HEIGHT // 2), interpolation=cv2.INTER_AREA)
        half.add(np.ascontiguousarray(small), pose.mapped_from_crop(offset_x_px=0, offset_y_px=0, scale=2.0))
    report = half.report(min_score=0.5)
    assert (report.width_px, report.height_px) == (native.width_px, native.height_px)
    assert report.median_body_height_px == pytest.approx(native.median_body_height_px)
    assert report.camera_drift_px_per_s == pytest.approx(native.camera_drift_px_per_s, rel=0.1)
    with pytest.raises(InvalidInputError, match="source_width_px"):
        QualityAccumulator(width_px=100, height_px=50, fps=30.0, source_width_px=50)
