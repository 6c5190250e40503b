import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from spacecomputer.domain import CoordinateFrame, PoseFlag, PoseFrame, PoseSequence
from spacecomputer.errors import InvalidPoseDataError


def make_sequence(n: int = 5, *, fps: float = 10.0) -> PoseSequence:
    rng = np.random.default_rng(0)
    positions = rng.normal(size=(n, 33, 3))
    return PoseSequence(
        positions=positions,
        confidence=np.full((n, 33), 0.9),
        timestamps_s=np.arange(n) / fps,
        fps=fps,
        frame=CoordinateFrame.CAMERA,
    )


def test_defaults_fill_indices_and_flags() -> None:
    seq = make_sequence()
    assert seq.frame_indices.tolist() == [0, 1, 2, 3, 4]
    assert seq.flags.shape == (5, 33)
    assert seq.units == "m"
    assert seq.duration_s == pytest.approx(0.4)


def test_arrays_are_read_only() -> None:
    seq = make_sequence()
    with pytest.raises(ValueError, match="read-only"):
        seq.positions[0, 0, 0] = 1.0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("positions", np.zeros((5, 32, 3)), "positions must have shape"),
        ("positions", np.full((5, 33, 3), np.inf), "infinite"),
        ("confidence", np.full((5, 33), 1.5), r"\[0, 1\]"),
        ("confidence", np.full((5, 33), np.nan), r"\[0, 1\]"),
        ("timestamps_s", np.array([0.0, 0.1, 0.1, 0.2, 0.3]), "strictly increasing"),
        ("timestamps_s", np.array([0.0, 0.1, np.nan, 0.2, 0.3]), "finite"),
        ("fps", 0.0, "fps must be positive"),
        ("frame_indices", np.array([0, 1, 1, 2, 3]), "strictly increasing"),
        ("image_size_px", (0, 10), "image_size_px"),
    ],
)
def test_invalid_fields_raise_typed_errors(field: str, value: object, message: str) -> None:
    with pytest.raises(InvalidPoseDataError, match=message):
        make_sequence().replace(**{field: value})


def test_joint_selection_and_slicing() -> None:
    seq = make_sequence()
    np.testing.assert_array_equal(seq.joint("left_knee"), seq.positions[:, 25])
    part = seq[1:3]
    assert part.n_frames == 2
    assert part.frame_indices.tolist() == [1, 2]
    masked = seq[np.array([True, False, True, False, True])]
    assert masked.frame_indices.tolist() == [0, 2, 4]
    assert seq.between(0.1, 0.3).frame_indices.tolist() == [1, 2]


def test_resample_linear_values_and_nan_propagation() -> None:
    seq = make_sequence(3, fps=10.0)
    positions = np.array(seq.positions)
    positions[:, 0, :] = np.array([[0.0, 0, 0], [1.0, 0, 0], [np.nan, np.nan, np.nan]])
    seq = seq.replace(positions=positions)
    out = seq.resample(fps_hz=20.0)
    assert out.n_frames == 5
    np.testing.assert_allclose(out.timestamps_s, [0.0, 0.05, 0.1, 0.15, 0.2])
    np.testing.assert_allclose(out.positions[:3, 0, 0], [0.0, 0.5, 1.0])
    assert np.isnan(out.positions[3, 0]).all()
    assert out.confidence[3, 0] == 0.0
    assert out.fps == 20.0


@given(st.integers(min_value=2, max_value=40), st.floats(min_value=1.0, max_value=240.0))
def test_resample_keeps_endpoints_and_spacing(n: int, fps: float) -> None:
    seq = make_sequence(n, fps=30.0)
    out = seq.resample(fps_hz=fps)
    assert out.timestamps_s[0] == seq.timestamps_s[0]
    assert out.timestamps_s[-1] <= seq.timestamps_s[-1] + 1e-9
    np.testing.assert_allclose(np.diff(out.timestamps_s), 1.0 / fps)
    np.testing.assert_allclose(out.positions[0], seq.positions[0])


def test_from_pose_frames_marks_missing_frames() -> None:
    pose = PoseFrame(image_px=np.ones((33, 3)), world_m=np.zeros((33, 3)), visibility=np.full(33, 0.8))
    seq = PoseSequence.from_pose_frames(
        [pose, None, pose],
        timestamps_s=[0.0, 0.1, 0.2],
        frame_indices=[3, 4, 5],
        fps=10.0,
        frame=CoordinateFrame.IMAGE,
        image_size_px=(64, 48),
    )
    assert seq.detected.tolist() == [True, False, True]
    assert seq.confidence[1].max() == 0.0
    assert seq.units == "px"
    world = PoseSequence.from_pose_frames(
        [pose], timestamps_s=[0.0], frame_indices=[0], fps=10.0, frame=CoordinateFrame.HIP_CENTRED
    )
    assert world.positions.max() == 0.0


def test_pose_frame_refuses_nan_and_maps_crops() -> None:
    with pytest.raises(InvalidPoseDataError, match="NaN"):
        PoseFrame(image_px=np.full((33, 3), np.nan), world_m=np.zeros((33, 3)), visibility=np.ones(33))
    pose = PoseFrame(image_px=np.full((33, 3), 10.0), world_m=np.zeros((33, 3)), visibility=np.ones(33))
    mapped = pose.mapped_from_crop(offset_x_px=100, offset_y_px=50, scale=2.0)
    np.testing.assert_allclose(mapped.image_px[0], [105.0, 55.0, 5.0])


def test_flags_are_bits() -> None:
    assert PoseFlag.INTERPOLATED | PoseFlag.LONG_GAP == 9


def test_require_metric_names_the_purpose_and_the_frame() -> None:
    n = 3
    metric = PoseSequence(
        positions=np.zeros((n, 33, 3)), confidence=np.ones((n, 33)), timestamps_s=np.arange(n) / 30.0, fps=30.0,
        frame=CoordinateFrame.WORLD,
    )  # fmt: skip
    metric.require_metric("kinematics")
    image = metric.replace(frame=CoordinateFrame.IMAGE, image_size_px=(640, 480))
    with pytest.raises(InvalidPoseDataError, match=r"kinematics need a metric pose sequence.*got frame image"):
        image.require_metric("kinematics")
