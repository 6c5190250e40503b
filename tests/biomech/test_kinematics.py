from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from spacecomputer.biomech import _kinematics
from spacecomputer.biomech._angles import JOINT_ANGLE_DEFINITIONS, SEGMENT_ANGLE_DEFINITIONS
from spacecomputer.biomech._kinematics import (
    KinematicSeries,
    angular_acceleration_deg_s2,
    angular_velocity_deg_s,
    joint_angles,
    joint_centre_kinematics,
    linear_acceleration_m_s2,
    linear_velocity_m_s,
    range_of_motion,
    segment_angles,
)
from spacecomputer.domain import BLAZEPOSE_33, CoordinateFrame, PoseSequence
from spacecomputer.errors import InsufficientDataError, InvalidInputError, InvalidPoseDataError

# The synthetic scene: x forward, y up, z to the athlete's right (a right-handed frame), metres.
UP = np.array([0.0, 1.0, 0.0])
X, Y, Z = np.eye(3)
_LEFT_SIDE = {  # the athlete's left (negative z); the right side is its mirror image
    "eye_inner": (0.09, 1.66, -0.02),
    "eye": (0.09, 1.66, -0.035),
    "eye_outer": (0.085, 1.66, -0.05),
    "ear": (0.0, 1.64, -0.08),
    "mouth": (0.09, 1.58, -0.025),
    "shoulder": (0.0, 1.45, -0.18),
    "elbow": (0.0, 1.17, -0.18),
    "wrist": (0.0, 0.92, -0.18),
    "pinky": (-0.01, 0.84, -0.19),
    "index": (0.02, 0.84, -0.17),
    "thumb": (0.03, 0.87, -0.16),
    "hip": (0.0, 0.95, -0.10),
    "knee": (0.0, 0.52, -0.10),
    "ankle": (0.0, 0.09, -0.10),
    "heel": (-0.05, 0.02, -0.10),
    "foot_index": (0.15, 0.02, -0.10),
}
LIMB = {  # what moves with each joint
    "hip": ("knee", "ankle", "heel", "foot_index"),
    "knee": ("ankle", "heel", "foot_index"),
    "ankle": ("heel", "foot_index"),
    "shoulder": ("elbow", "wrist", "pinky", "index", "thumb"),
    "elbow": ("wrist", "pinky", "index", "thumb"),
}
UPPER_BODY = [n for n in BLAZEPOSE_33.joint_names if not any(p in n for p in ("hip", "knee", "ankle", "heel", "foot"))]


def _name(side: str, part: str) -> str:
    return f"mouth_{side}" if part == "mouth" else f"{side}_{part}"


def standing() -> NDArray[np.float64]:
    pose = np.empty((33, 3))
    pose[BLAZEPOSE_33.index("nose")] = (0.1, 1.62, 0.0)
    for part, (x, y, z) in _LEFT_SIDE.items():
        pose[BLAZEPOSE_33.index(_name("left", part))] = (x, y, z)
        pose[BLAZEPOSE_33.index(_name("right", part))] = (x, y, -z)
    return pose


def rotate(
    pose: NDArray[np.float64], names: list[str] | tuple[str, ...], pivot: NDArray[np.float64], rotvec_deg: NDArray
) -> NDArray[np.float64]:
    """Rotate some landmarks about a pivot point (right-hand rule about ``rotvec_deg``'s direction)."""
    out = pose.copy()
    index = [BLAZEPOSE_33.index(n) for n in names]
    out[index] = pivot + Rotation.from_rotvec(np.radians(rotvec_deg)).apply(pose[index] - pivot)
    return out


def bend(pose: NDArray[np.float64], side: str, joint: str, rotvec_deg: NDArray) -> NDArray[np.float64]:
    pivot = pose[BLAZEPOSE_33.index(f"{side}_{joint}")]
    return rotate(pose, [f"{side}_{n}" for n in LIMB[joint]], pivot, rotvec_deg)


def mid_hip(pose: NDArray[np.float64]) -> NDArray[np.float64]:
    return 0.5 * (pose[BLAZEPOSE_33.index("left_hip")] + pose[BLAZEPOSE_33.index("right_hip")])


def sequence(*poses: NDArray[np.float64], frame: CoordinateFrame = CoordinateFrame.WORLD) -> PoseSequence:
    n = len(poses)
    return PoseSequence(
        positions=np.stack(poses), confidence=np.ones((n, 33)), timestamps_s=np.arange(n) / 30.0, fps=30.0, frame=frame
    )


def angles(*poses: NDArray[np.float64], up: NDArray[np.float64] = UP) -> dict[str, NDArray[np.float64]]:
    seq = sequence(*poses)
    both = {**joint_angles(seq, up=up), **segment_angles(seq, up=up)}
    return {name: s.values_deg for name, s in both.items()}


def active(seed: int) -> NDArray[np.float64]:
    """An asymmetric, far-from-singular posture with 3 cm of random landmark noise."""
    pose = bend(standing(), "left", "hip", 25.0 * Z)
    pose = bend(bend(pose, "right", "hip", -10.0 * Z + 8.0 * X), "left", "knee", -40.0 * Z)
    pose = bend(bend(pose, "left", "shoulder", 40.0 * Z + 15.0 * X), "right", "elbow", 50.0 * Z)
    pose = rotate(pose, UPPER_BODY, mid_hip(pose), -12.0 * Z + 5.0 * X)
    return pose + np.random.default_rng(seed).normal(scale=0.03, size=pose.shape)


# --- known angles ------------------------------------------------------------------------------------------------


def test_standing_neutral_pose_reads_zero_and_upright_segments() -> None:
    a = angles(standing())
    for name in ("hip_flexion", "hip_adduction", "knee_flexion", "ankle_dorsiflexion", "elbow_flexion"):
        for side in ("left", "right"):
            assert a[f"{side}_{name}"][0] == pytest.approx(0.0, abs=1e-9), f"{side}_{name}"
    for side in ("left", "right"):
        assert a[f"{side}_shoulder_flexion"][0] == pytest.approx(0.0, abs=1e-9)
        assert a[f"{side}_shoulder_abduction"][0] == pytest.approx(0.0, abs=1e-9)
        for segment, expected in (("thigh", -90), ("shank", -90), ("foot", 0), ("upper_arm", -90), ("forearm", -90)):
            assert a[f"{side}_{segment}"][0] == pytest.approx(expected, abs=1e-9)
    for name in ("trunk_flexion", "trunk_lateral_lean", "pelvis_obliquity"):
        assert a[name][0] == pytest.approx(0.0, abs=1e-9)
    assert a["trunk"][0] == pytest.approx(90.0)


@pytest.mark.parametrize("knee_deg", [10.0, 35.0, 60.0, 85.0, 130.0])
def test_knee_bent_by_a_known_angle_reads_that_angle(knee_deg: float) -> None:
    a = angles(bend(standing(), "left", "knee", -knee_deg * Z))
    assert a["left_knee_flexion"][0] == pytest.approx(knee_deg, abs=0.5)
    # One frame gives the principal value; -220° and 140° are the same direction.
    assert (a["left_shank"][0] - (-90.0 - knee_deg) + 180.0) % 360.0 - 180.0 == pytest.approx(0.0, abs=0.5)
    assert a["left_hip_flexion"][0] == pytest.approx(0.0, abs=1e-9)
    assert a["right_knee_flexion"][0] == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("knee_deg", [0.0, 90.0])
def test_hip_flexed_90_reads_90(knee_deg: float) -> None:
    pose = bend(bend(standing(), "right", "knee", -knee_deg * Z), "right", "hip", 90.0 * Z)
    a = angles(pose)
    assert a["right_hip_flexion"][0] == pytest.approx(90.0, abs=0.5)
    assert a["right_hip_adduction"][0] == pytest.approx(0.0, abs=0.5)
    assert a["right_knee_flexion"][0] == pytest.approx(knee_deg, abs=0.5)
    assert a["right_thigh"][0] == pytest.approx(0.0, abs=0.5)


LEAN = 20.0
KNOWN: list[tuple[str, Callable[[NDArray[np.float64]], NDArray[np.float64]], dict[str, float]]] = [
    ("dorsiflexed ankle", lambda p: bend(p, "left", "ankle", 15.0 * Z), {"left_ankle_dorsiflexion": 15.0}),
    ("plantar-flexed ankle", lambda p: bend(p, "left", "ankle", -30.0 * Z), {"left_ankle_dorsiflexion": -30.0}),
    (
        "bent elbow",
        lambda p: bend(p, "right", "elbow", 70.0 * Z),
        {"right_elbow_flexion": 70.0, "right_forearm": -20.0},
    ),
    (
        "arm raised forward",
        lambda p: bend(p, "left", "shoulder", 90.0 * Z),
        {"left_shoulder_flexion": 90.0, "left_shoulder_abduction": 0.0, "left_shoulder_elevation": 90.0},
    ),
    (
        "arm overhead",
        lambda p: bend(p, "left", "shoulder", 175.0 * Z),
        {"left_shoulder_flexion": 175.0, "left_upper_arm": 85.0},
    ),
    ("arm behind", lambda p: bend(p, "left", "shoulder", -40.0 * Z), {"left_shoulder_flexion": -40.0}),
    (
        "arm abducted",
        lambda p: bend(p, "right", "shoulder", -45.0 * X),
        {"right_shoulder_abduction": 45.0, "right_shoulder_flexion": 0.0, "right_shoulder_elevation": 45.0},
    ),
    ("leg abducted", lambda p: bend(p, "left", "hip", 20.0 * X), {"left_hip_adduction": -20.0}),
    ("leg adducted", lambda p: bend(p, "right", "hip", 10.0 * X), {"right_hip_adduction": 10.0}),
    (
        "trunk leaning forward",
        lambda p: rotate(p, UPPER_BODY, mid_hip(p), -LEAN * Z),
        {"trunk_flexion": LEAN, "trunk": 90.0 - LEAN, "left_hip_flexion": LEAN, "trunk_lateral_lean": 0.0},
    ),
    (
        "trunk leaning right",
        lambda p: rotate(p, UPPER_BODY, mid_hip(p), LEAN * X),
        {"trunk_lateral_lean": LEAN, "trunk_flexion": 0.0},
    ),
    (
        "right hip higher",
        lambda p: rotate(p, ["left_hip", "right_hip"], mid_hip(p), -10.0 * X),
        {"pelvis_obliquity": 10.0},
    ),
]


@pytest.mark.parametrize(("label", "build", "expected"), KNOWN, ids=[k[0] for k in KNOWN])
def test_known_postures_give_their_angles(
    label: str, build: Callable[[NDArray[np.float64]], NDArray[np.float64]], expected: dict[str, float]
) -> None:
    a = angles(build(standing()))
    for name, value in expected.items():
        assert a[name][0] == pytest.approx(value, abs=0.5), name


def test_arm_straight_out_to_the_side_has_no_flexion_but_has_abduction_and_elevation() -> None:
    a = angles(bend(standing(), "left", "shoulder", 90.0 * X))
    assert np.isnan(a["left_shoulder_flexion"][0])
    assert a["left_shoulder_abduction"][0] == pytest.approx(90.0)
    assert a["left_shoulder_elevation"][0] == pytest.approx(90.0)
    assert np.isnan(a["left_upper_arm"][0])


def test_unobservable_degrees_of_freedom_are_unavailable_with_a_reason() -> None:
    series = joint_angles(sequence(standing()), up=UP)
    unavailable = {name for name, s in series.items() if not s.available}
    assert unavailable == {
        "pelvis_tilt",
        *(
            f"{side}_{dof}"
            for side in ("left", "right")
            for dof in ("hip_internal_rotation", "shoulder_internal_rotation", "forearm_pronation")
        ),
    }
    for name in unavailable:
        assert series[name].reason is not None
        assert "not observable" in series[name].reason
        assert np.isnan(series[name].values_deg).all()
        with pytest.raises(InsufficientDataError, match="not observable"):
            range_of_motion(series[name])


def test_every_angle_is_in_the_module_table() -> None:
    table = _kinematics.__doc__
    assert table is not None
    for definition in (*JOINT_ANGLE_DEFINITIONS, *SEGMENT_ANGLE_DEFINITIONS):
        generic = definition.name.replace("left_", "{side}_").replace("right_", "{side}_")
        assert f"``{generic}``" in table, definition.name


def test_a_somersault_is_unwrapped_in_time() -> None:
    poses = [rotate(standing(), BLAZEPOSE_33.joint_names, mid_hip(standing()), -deg * Z) for deg in range(0, 400, 20)]
    a = angles(*poses)
    np.testing.assert_allclose(a["trunk_flexion"], np.arange(0, 400, 20), atol=1e-9)
    np.testing.assert_allclose(a["trunk"], 90.0 - np.arange(0, 400, 20), atol=1e-9)
    np.testing.assert_allclose(a["left_knee_flexion"], 0.0, atol=1e-9)


# --- invariance, mirroring, missing landmarks --------------------------------------------------------------------

quaternions = st.tuples(*[st.floats(-1.0, 1.0)] * 4).filter(lambda q: float(np.linalg.norm(q)) > 0.1)
translations = st.tuples(*[st.floats(-100.0, 100.0)] * 3)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), quaternion=quaternions, translation=translations)
def test_rotating_and_translating_the_scene_changes_no_angle(seed: int, quaternion: tuple, translation: tuple) -> None:
    poses = [active(seed), active(seed + 1), standing()]
    rotation = Rotation.from_quat(quaternion)
    moved = [rotation.apply(p) + np.asarray(translation) for p in poses]
    before, after = angles(*poses), angles(*moved, up=rotation.apply(UP))
    assert np.isfinite(before["left_hip_flexion"]).all()
    for name, values in before.items():
        np.testing.assert_allclose(after[name], values, atol=1e-6, err_msg=name)


def _mirrored_name(name: str) -> str:
    if name.startswith("left_"):
        return "right_" + name.removeprefix("left_")
    if name.startswith("right_"):
        return "left_" + name.removeprefix("right_")
    return name


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_mirroring_the_scene_swaps_left_and_right(seed: int) -> None:
    poses = [active(seed), active(seed + 7)]
    mirrored = [(p * np.array([1.0, 1.0, -1.0]))[list(BLAZEPOSE_33.mirror_permutation)] for p in poses]
    before, after = angles(*poses), angles(*mirrored)
    for name, values in before.items():
        sign = -1.0 if name in ("trunk_lateral_lean", "pelvis_obliquity") else 1.0
        np.testing.assert_allclose(after[_mirrored_name(name)], sign * values, atol=1e-9, err_msg=name)


@settings(max_examples=40, deadline=None)
@given(missing=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 32)), max_size=6))
def test_missing_landmarks_blank_only_the_angles_that_need_them(missing: list[tuple[int, int]]) -> None:
    positions = np.stack([active(1), active(2), active(3), active(4)])
    for frame, joint in missing:
        positions[frame, joint] = np.nan
    seq = sequence(*positions)
    absent = np.isnan(positions).any(axis=2)
    for series in (*joint_angles(seq, up=UP).values(), *segment_angles(seq, up=UP).values()):
        if not series.available:
            continue
        needs = absent[:, [BLAZEPOSE_33.index(n) for n in series.landmarks]].any(axis=1)
        np.testing.assert_array_equal(np.isnan(series.values_deg), needs, err_msg=series.name)


def test_a_y_down_camera_frame_with_its_up_vector_gives_the_same_angles() -> None:
    # OpenCV camera: x right, y down, z forward; the athlete faces the camera's -x, their left side towards it.
    to_camera = np.array([[-1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, 1.0]])  # a rotation (det +1)
    poses = [active(5), active(6)]
    camera = [p @ to_camera.T + np.array([0.0, 1.0, 4.0]) for p in poses]
    before, after = angles(*poses), angles(*camera, up=np.array([0.0, -1.0, 0.0]))
    for name, values in before.items():
        np.testing.assert_allclose(after[name], values, atol=1e-9, err_msg=name)


# --- input checks --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("up", [[0.0, 9.81, 0.0], [0.0, 1.0], [np.nan, 1.0, 0.0], [[0.0, 1.0, 0.0]]])
def test_up_must_be_a_unit_3_vector(up: list) -> None:
    with pytest.raises(InvalidInputError, match="up must be"):
        joint_angles(sequence(standing()), up=np.asarray(up))


def test_a_pixel_sequence_is_refused() -> None:
    with pytest.raises(InvalidPoseDataError, match="metric"):
        segment_angles(sequence(standing(), frame=CoordinateFrame.IMAGE), up=UP)


def test_an_empty_sequence_gives_empty_series() -> None:
    empty = PoseSequence(
        positions=np.empty((0, 33, 3)),
        confidence=np.empty((0, 33)),
        timestamps_s=np.empty(0),
        fps=30.0,
        frame=CoordinateFrame.WORLD,
    )
    assert all(s.values_deg.shape == (0,) for s in joint_angles(empty, up=UP).values())


def test_series_must_state_a_reason_exactly_when_unavailable() -> None:
    with pytest.raises(InvalidInputError, match="reason"):
        KinematicSeries("x", np.zeros(2), "c", ("left_knee",), available=False)
    with pytest.raises(InvalidInputError, match="only NaN"):
        KinematicSeries("x", np.zeros(2), "c", ("left_knee",), available=False, reason="r")


# --- derivatives and range of motion -------------------------------------------------------------------------------


def _series(values: NDArray[np.float64]) -> KinematicSeries:
    return KinematicSeries("demo", values, "demo", ("left_knee",))


@pytest.mark.parametrize("t", [np.arange(8) / 30.0, np.cumsum([0.0, 0.03, 0.05, 0.01, 0.04, 0.033, 0.02, 0.06])])
def test_velocity_of_a_ramp_is_constant_and_acceleration_of_a_parabola_too(t: NDArray[np.float64]) -> None:
    np.testing.assert_allclose(angular_velocity_deg_s(_series(5.0 + 120.0 * t), t), 120.0)
    np.testing.assert_allclose(angular_acceleration_deg_s2(_series(3.0 * t**2 - t), t), 6.0, rtol=1e-9)
    fall = np.stack([2.0 * t, 10.0 - 0.5 * 9.81 * t**2, np.zeros_like(t)], axis=1)
    np.testing.assert_allclose(linear_velocity_m_s(fall, t)[:, 0], 2.0)
    np.testing.assert_allclose(linear_acceleration_m_s2(fall, t), np.tile([0.0, -9.81, 0.0], (t.size, 1)), atol=1e-9)


def test_no_derivative_crosses_a_gap() -> None:
    t = np.arange(9) * 0.1
    values = np.array([0.0, 1.0, 2.0, np.nan, 50.0, np.nan, 10.0, 7.0, 4.0])
    np.testing.assert_allclose(
        angular_velocity_deg_s(_series(values), t), [10, 10, 10, np.nan, np.nan, np.nan, -30, -30, -30]
    )
    np.testing.assert_allclose(angular_acceleration_deg_s2(_series(values), t), [0, 0, 0, *[np.nan] * 3, 0, 0, 0])


def _run_lengths(present: NDArray[np.bool_]) -> NDArray[np.int64]:
    lengths = np.zeros(present.size, dtype=np.int64)
    start = 0
    for i in range(1, present.size + 1):
        if i == present.size or present[i] != present[start]:
            lengths[start:i] = (i - start) if present[start] else 0
            start = i
    return lengths


@given(
    values=arrays(np.float64, st.integers(0, 30), elements=st.one_of(st.floats(-1e3, 1e3), st.just(np.nan))),
    data=st.data(),
)
def test_derivatives_are_nan_exactly_where_a_run_is_too_short(values: NDArray[np.float64], data: st.DataObject) -> None:
    steps = data.draw(arrays(np.float64, values.size, elements=st.floats(1e-3, 1.0)))
    t = np.cumsum(steps)
    runs = _run_lengths(np.isfinite(values))
    np.testing.assert_array_equal(np.isnan(angular_velocity_deg_s(_series(values), t)), runs < 2)
    np.testing.assert_array_equal(np.isnan(angular_acceleration_deg_s2(_series(values), t)), runs < 3)


@pytest.mark.parametrize("t", [np.arange(3.0), np.array([0.0, 0.2, 0.1, 0.3]), np.array([0.0, np.nan, 0.2, 0.3])])
def test_timestamps_must_match_and_increase(t: NDArray[np.float64]) -> None:
    with pytest.raises(InvalidInputError, match="timestamps_s"):
        angular_velocity_deg_s(_series(np.zeros(4)), t)


def test_joint_centres_of_a_body_in_free_flight_accelerate_at_g() -> None:
    t = np.arange(10) / 30.0
    poses = [standing() + np.array([1.5 * ti, 3.0 * ti - 0.5 * 9.81 * ti**2, 0.0]) for ti in t]
    centres = joint_centre_kinematics(sequence(*poses))
    assert set(centres) >= {"mid_hip", "left_knee", "right_wrist"}
    np.testing.assert_allclose(centres["mid_hip"].acceleration_m_s2, np.tile([0.0, -9.81, 0.0], (10, 1)), atol=1e-9)
    np.testing.assert_allclose(centres["left_ankle"].velocity_m_s[0], [1.5, 3.0, 0.0], atol=0.2)
    assert centres["left_ankle"].speed_m_s.shape == (10,)
    with pytest.raises(InvalidPoseDataError, match="unknown"):
        joint_centre_kinematics(sequence(*poses), joints=["left_tail"])


@given(values=arrays(np.float64, st.integers(1, 30), elements=st.one_of(st.floats(-720, 720), st.just(np.nan))))
def test_range_of_motion_ignores_nan(values: NDArray[np.float64]) -> None:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        with pytest.raises(InsufficientDataError, match="no frame"):
            range_of_motion(_series(values))
        return
    rom = range_of_motion(_series(values))
    assert (rom.min_deg, rom.max_deg) == (finite.min(), finite.max())
    assert rom.range_deg == pytest.approx(finite.max() - finite.min())


# --- the real sample ----------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_knee_and_hip_ranges_on_the_sample_video_are_physiological() -> None:
    from spacecomputer.pipeline import AnalyzeOptions, analyze_video
    from tests.conftest import SAMPLE_CALIBRATION, SAMPLE_VIDEO

    options = AnalyzeOptions(height_m=1.65, calibration_path=SAMPLE_CALIBRATION, overlay=False)
    metric = analyze_video(SAMPLE_VIDEO, options).metric
    series = joint_angles(metric, up=np.array([0.0, 0.0, 1.0]))  # the Pose2Sim calibration's world is z-up
    for name in ("left_knee_flexion", "right_knee_flexion", "left_hip_flexion", "right_hip_flexion"):
        rom = range_of_motion(series[name])
        print(f"{name}: {rom.min_deg:.1f} to {rom.max_deg:.1f} deg (range {rom.range_deg:.1f})")
        assert np.isfinite(series[name].values_deg).mean() > 0.8
    # Our sanity bounds, not normative ranges: knees between straight and fully bent, bent by well over 60°
    # (jumping jacks, a tucked flip, a landing); hips, ignoring the 2% most extreme frames (the tracking start
    # and the end of the flip, where the pipeline flags swapped and interpolated landmarks), neither
    # hyperextended past 45° nor flexed past 170°.
    for side in ("left", "right"):
        knee = range_of_motion(series[f"{side}_knee_flexion"])
        assert 0.0 <= knee.min_deg < 20.0
        assert 60.0 < knee.max_deg < 170.0
        low, high = np.nanpercentile(series[f"{side}_hip_flexion"].values_deg, [2, 98])
        assert -45.0 < low < 20.0
        assert 60.0 < high < 170.0
