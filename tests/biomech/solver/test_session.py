from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spacecomputer.biomech import BodyModel, joint_angles
from spacecomputer.biomech.solver import (
    DERIVED_ANGLES,
    DOF_NAMES,
    JOINT_NAMES,
    PoseSession,
    SkeletonModel,
)
from spacecomputer.biomech.solver._results import moment_change
from spacecomputer.domain import BLAZEPOSE_33
from spacecomputer.errors import InsufficientDataError, InvalidInputError, NotFoundError
from tests.biomech.scene import UP
from tests.biomech.solver.poses import standing_sequence

ROOT = Path(__file__).resolve().parents[3]
LIMB_JOINTS = ("left_wrist", "right_hand", "left_elbow", "right_knee", "left_ankle", "right_foot_index", "left_heel")
ALL_JOINTS = (*LIMB_JOINTS, "nose", "mid_hip", "right_hip", "mid_shoulder", "left_shoulder")
ANGLES = ("left_knee_flexion", "right_hip_flexion", "left_shoulder_abduction", "neck_rotation", *DERIVED_ANGLES)
OFFSETS = st.tuples(*(st.floats(-0.5, 0.5) for _ in range(3)))


def assert_rigid(session: PoseSession) -> None:
    pose = session.pose
    for (a, b), length in session.model.bone_lengths_m().items():
        assert np.linalg.norm(pose[a] - pose[b]) == pytest.approx(length, abs=1e-9), (a, b)


def assert_within_limits(session: PoseSession) -> None:
    lower, upper = session.model.bounds()
    q = session.q
    outside = [n for n, v, lo, hi in zip(DOF_NAMES, q, lower, upper, strict=True) if not lo - 1e-12 <= v <= hi + 1e-12]
    assert not outside


@settings(max_examples=40, deadline=None)
@given(joint=st.sampled_from(ALL_JOINTS), offset=OFFSETS, angle=st.sampled_from(ANGLES), value=st.floats(-200, 200))
def test_bones_stay_rigid_and_limits_hold_whatever_is_asked(
    body: BodyModel, joint: str, offset: tuple[float, float, float], angle: str, value: float
) -> None:
    session = PoseSession.from_sequence(standing_sequence(), 2, up=UP, body=body)
    dragged = session.manipulate(joint, session.pose[joint] + np.array(offset))
    assert_rigid(session)
    assert_within_limits(session)
    assert dragged.miss_distance_m is not None
    assert dragged.reached == (dragged.miss_distance_m <= 1e-3)
    undefined = angle in DERIVED_ANGLES and not np.isfinite(session.angles[angle])
    if undefined:  # a derived angle undefined after an extreme drag is refused, not guessed
        with pytest.raises(InvalidInputError, match="undefined"):
            session.manipulate(angle, value)
    else:
        session.manipulate(angle, value)
    assert_rigid(session)
    assert_within_limits(session)


@pytest.mark.parametrize("joint", [*LIMB_JOINTS, "nose"])
def test_moving_a_joint_and_moving_it_back_restores_the_pose(session: PoseSession, joint: str) -> None:
    before = session.pose
    target = before[joint] + np.array([0.08, -0.05, 0.1])
    session.manipulate(joint, target)
    back = session.manipulate(joint, before[joint])
    assert back.reached
    for name in JOINT_NAMES:
        assert session.pose[name] == pytest.approx(before[name], abs=1e-9), name


@pytest.mark.parametrize(
    ("name", "value"),
    [("left_knee_flexion", 75.0), ("right_elbow_flexion", 120.0), ("left_shoulder_flexion", 150.0),
     ("right_hip_adduction", -20.0), ("neck_bending", 15.0), ("trunk_flexion", 45.0),
     ("trunk_lateral_lean", -12.0), ("pelvis_obliquity", 4.0)],
)  # fmt: skip
def test_an_angle_set_reads_back_from_the_session_and_the_engine(session: PoseSession, name: str, value: float) -> None:
    result = session.manipulate(name, value)
    assert result.reached
    assert result.kind == "angle"
    assert not result.violations
    assert session.angles[name] == pytest.approx(value, abs=1e-3)
    if not name.startswith("neck"):
        engine = joint_angles(session.model.to_sequence(session.q), up=UP)
        assert engine[name].values_deg[0] == pytest.approx(value, abs=1e-3)
    assert [c.name for c in result.angle_changes if c.name == name] == [name]


def test_setting_the_trunk_flexion_bends_at_the_hips_and_leaves_the_legs(session: PoseSession) -> None:
    before = session.pose
    session.manipulate("trunk_flexion", 50.0)
    for part in ("hip", "knee", "ankle", "heel", "foot_index"):
        for side in ("left", "right"):
            assert session.pose[f"{side}_{part}"] == pytest.approx(before[f"{side}_{part}"], abs=1e-9)
    assert session.angles["left_hip_flexion"] == pytest.approx(before_hip(session) + 50.0, abs=0.5)


def before_hip(session: PoseSession) -> float:
    session.undo()
    value = session.angles["left_hip_flexion"]
    session.redo()
    return value


def test_an_angle_beyond_its_limit_is_clamped_and_reported(session: PoseSession) -> None:
    result = session.manipulate("left_knee_flexion", 170.0)
    assert not result.reached
    assert result.angle_shortfall_deg == pytest.approx(15.0)
    (violation,) = result.violations
    assert (violation.name, violation.requested_deg, violation.applied_deg) == ("left_knee_flexion", 170.0, 155.0)
    assert session.angles["left_knee_flexion"] == pytest.approx(155.0)
    assert "asked 170.0°, set to 155.0°" in str(violation)


def test_a_target_out_of_reach_gives_the_nearest_pose_flagged(session: PoseSession) -> None:
    shoulder = session.pose["left_shoulder"]
    target = shoulder + np.array([1.5, 0.0, 0.0])  # straight ahead at shoulder height, 1.5 m away
    result = session.manipulate("left_wrist", target)
    arm = session.model.dimensions_m["left_upper_arm"] + session.model.dimensions_m["left_forearm"]
    assert not result.reached
    assert result.miss_distance_m == pytest.approx(1.5 - arm, abs=1e-6)
    assert session.angles["left_shoulder_flexion"] == pytest.approx(90.0, abs=1e-3)
    assert session.angles["left_elbow_flexion"] == pytest.approx(0.0, abs=1e-6)


def test_a_limit_that_stops_a_drag_is_reported_with_what_was_needed(session: PoseSession) -> None:
    hip = session.pose["left_hip"]
    result = session.manipulate("left_knee", hip + np.array([-0.4, 0.0, -0.1]))  # thigh far behind the trunk
    assert not result.reached
    assert result.miss_distance_m is not None
    assert result.miss_distance_m > 0.05
    stopped = {v.name: v for v in result.violations}
    assert "left_hip_flexion" in stopped
    assert stopped["left_hip_flexion"].applied_deg == pytest.approx(stopped["left_hip_flexion"].lower_deg)
    assert stopped["left_hip_flexion"].requested_deg < stopped["left_hip_flexion"].lower_deg - 10


def test_the_result_reports_balance_angles_and_moments(session: PoseSession) -> None:
    result = session.manipulate("mid_hip", session.pose["mid_hip"] - 0.2 * UP)
    assert result.kind == "joint"
    assert result.reached
    assert result.balance.inside
    assert result.balance.margin_m > 0
    assert result.balance.feet_in_contact == ("left", "right")
    assert {c.name for c in result.angle_changes} >= {"left_knee_flexion", "right_hip_flexion"}
    assert len(result.moment_changes) == 12
    knee = next(c for c in result.moment_changes if c.joint == "left_knee")
    assert knee.load == "takes more load"
    assert knee.direction == "extensor moment"
    assert knee.change_n_m > 20
    assert result.moment_changes[0].change_n_m == max(abs(c.change_n_m) for c in result.moment_changes)
    assert result.elapsed_ms > 0
    assert np.array_equal(result.q, session.q)
    assert session.ground_reaction.source == "static"


def test_moment_wording_follows_magnitude_and_sign() -> None:
    flipped = moment_change("left_knee", 5.0, -12.0, 70.0)
    assert (flipped.load, flipped.direction) == ("takes more load", "flexor moment (was extensor)")
    assert moment_change("left_ankle", 20.0, 10.0, 70.0).load == "takes less load"
    assert moment_change("left_elbow", 2.0, 2.0, 70.0).load == "unchanged"
    assert "flexor" in moment_change("left_elbow", 1.0, 3.0, 70.0).direction


def test_undo_redo_save_and_compare(session: PoseSession) -> None:
    start = session.q
    assert not session.undo()
    assert not session.redo()
    session.save("start")
    squat = session.manipulate("mid_hip", session.pose["mid_hip"] - 0.15 * UP)
    session.save("squat")
    session.manipulate("left_knee_flexion", 60.0)
    assert session.undo()
    assert session.undo()
    assert np.array_equal(session.q, start)
    assert session.redo()
    assert np.array_equal(session.q, squat.q)
    session.manipulate("right_elbow_flexion", 30.0)  # a new manipulation drops what could be redone
    assert not session.can_redo
    assert session.saved() == ("start", "squat")
    assert np.array_equal(session.saved_q("squat"), squat.q)
    comparison = session.compare("start", "squat")
    assert comparison.com_shift_m @ UP < -0.1
    assert comparison.balance_a.inside
    assert comparison.balance_b.inside
    assert {c.name for c in comparison.angle_changes} >= {"left_knee_flexion"}
    with pytest.raises(InvalidInputError, match="saved"):
        session.compare("start", "nope")
    with pytest.raises(InvalidInputError, match="label"):
        session.save("  ")


@pytest.mark.parametrize(
    ("name", "target", "message"),
    [
        ("left_kneee_flexion", 10.0, "left_knee_flexion"),  # the message lists the valid names
        ("left_knee_flexion", float("nan"), "finite"),
        ("left_knee_flexion", float("inf"), "finite"),
        ("left_knee_flexion", [1.0, 2.0], "one number"),
        ("left_knee_flexion", True, "one number"),
        ("left_knee_flexion", "60", "one number"),
        ("left_wrist", 0.3, r"\(3,\) position"),
        ("left_wrist", [0.0, 0.1], r"\(3,\) position"),
        ("left_wrist", [0.0, np.nan, 1.0], "finite"),
        ("left_shoulder_elevation", 30.0, "derived"),
        ("pelvis_tx", 0.1, "unknown"),
    ],
)
def test_bad_input_is_a_typed_error_and_changes_nothing(
    session: PoseSession, name: str, target: object, message: str
) -> None:
    before = session.q
    with pytest.raises(InvalidInputError, match=message):
        session.manipulate(name, target)  # type: ignore[arg-type]
    assert np.array_equal(session.q, before)
    assert not session.can_undo


def test_frames_out_of_range_or_without_a_pose_are_refused(body: BodyModel) -> None:
    sequence = standing_sequence()
    with pytest.raises(InvalidInputError, match="0 to 4") as error:
        PoseSession.from_sequence(sequence, 5, up=UP)
    assert error.value.details["valid_range"] == [0, 4]
    positions = sequence.positions.copy()
    positions[1] = np.nan
    positions[3, BLAZEPOSE_33.index("right_ankle")] = np.nan
    gappy = sequence.replace(positions=positions, confidence=np.where(np.isnan(positions).any(axis=2), 0.0, 1.0))
    with pytest.raises(InsufficientDataError, match="frame 1 has no pose"):
        PoseSession.from_sequence(gappy, 1, up=UP)
    with pytest.raises(InsufficientDataError, match="right_ankle"):
        PoseSession.from_sequence(gappy, 3, up=UP)
    assert PoseSession.from_sequence(gappy, 2, up=UP, body=body).fit is not None


def test_a_starting_pose_outside_the_limits_is_refused(model: SkeletonModel) -> None:
    q = np.zeros(len(DOF_NAMES))
    q[DOF_NAMES.index("left_knee_flexion")] = np.radians(-10.0)
    with pytest.raises(InvalidInputError, match="left_knee_flexion"):
        PoseSession(model, q)


def test_a_missing_run_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        PoseSession.from_run(tmp_path / "nowhere", 0)


@pytest.mark.slow
def test_a_session_on_a_real_run_reports_the_runs_ground_reaction_until_the_pose_changes(short_run: Path) -> None:
    run = short_run
    session = PoseSession.from_run(run, 20)
    assert session.ground_reaction.source == "run"
    assert np.isfinite(session.ground_reaction.vertical_n)
    assert session.fit is not None
    assert session.fit.residual_rms_m < 0.05
    session.manipulate("left_elbow_flexion", 90.0)
    assert session.ground_reaction.source == "static"
    session.undo()
    assert session.ground_reaction.source == "run"
    with pytest.raises(InvalidInputError, match="from 0 to"):
        PoseSession.from_run(run, 10_000)
