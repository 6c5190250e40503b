from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from spacecomputer.biomech import (
    BodyModel,
    FootContacts,
    estimate_ground_reaction,
    inverse_dynamics,
    whole_body_com,
)
from spacecomputer.biomech.solver import JOINT_NAMES, PoseSession, QuasiStatics, SkeletonModel
from spacecomputer.domain import BLAZEPOSE_33
from spacecomputer.errors import InvalidInputError
from tests.biomech.scene import UP, standing_pose
from tests.biomech.solver.poses import MASS_KG

G = 9.80665


def statics(model: SkeletonModel, body: BodyModel, ground_m: float = 0.0) -> QuasiStatics:
    return QuasiStatics(model, body, ground_level_m=ground_m)


def squat(session: PoseSession, depth_m: float) -> NDArray[np.float64]:
    """Coordinates of a squat: the mid-hip dragged straight down, both feet held on the ground."""
    result = session.manipulate("mid_hip", session.pose["mid_hip"] - depth_m * UP)
    assert result.reached
    assert not result.warnings
    q = result.q
    session.undo()
    return q


def leaning(lean_deg: float) -> NDArray[np.float64]:
    """The standing pose turned forward about the line through the ankles, the feet left flat on the ground."""
    pose = standing_pose()
    rows = [i for i, n in enumerate(BLAZEPOSE_33.joint_names) if not n.endswith(("heel", "foot_index", "ankle"))]
    pivot = pose[BLAZEPOSE_33.index("left_ankle")] * [1.0, 0.0, 1.0]
    pose[rows] = pivot + Rotation.from_rotvec([0.0, np.radians(lean_deg), 0.0]).apply(pose[rows] - pivot)
    return pose


@pytest.mark.parametrize("depth_m", [0.0, 0.2])
def test_com_ground_reaction_and_moments_are_the_engines_with_zero_accelerations(
    model: SkeletonModel, body: BodyModel, session: PoseSession, depth_m: float
) -> None:
    q = squat(session, depth_m) if depth_m else session.q
    still = model.to_sequence(np.repeat(q[None], 5, axis=0))
    both = np.ones((5, 2), dtype=bool)
    contacts = FootContacts(both, both, np.zeros(5), still.timestamps_s, (), None)
    grf = estimate_ground_reaction(still, body, contacts, up=UP)
    kinetics = inverse_dynamics(still, body, grf, up=UP)
    mine = statics(model, body).analyse_q(q)
    assert mine.in_contact.all()
    assert mine.com_m[0] == pytest.approx(whole_body_com(still, body)[2], abs=1e-12)
    assert mine.ground_reaction_n[0] == pytest.approx(grf.per_foot_n[2], abs=1e-9)
    assert mine.centre_of_pressure_m[0] == pytest.approx(grf.centre_of_pressure_m[2], abs=1e-12)
    for joint, k in kinetics.items():
        assert mine.flexion_moment_n_m[joint][0] == pytest.approx(k.flexion_moment_n_m[2], abs=1e-9), joint
        assert mine.moment_n_m_per_kg[joint][0] == pytest.approx(k.flexion_moment_n_m[2] / MASS_KG, abs=1e-9)


def test_a_static_squat_keeps_the_com_over_the_feet(
    model: SkeletonModel, body: BodyModel, session: PoseSession
) -> None:
    result = statics(model, body).analyse_q(squat(session, 0.25))
    assert result.balanced[0]
    assert result.com_to_bos_m[0] > 0.02
    assert result.ground_reaction_n[0].sum(axis=0) == pytest.approx(body.mass_kg * G * UP)


def test_leaning_far_forward_puts_the_com_outside_with_a_negative_margin(model: SkeletonModel, body: BodyModel) -> None:
    upright, far = (model.fit(leaning(angle)) for angle in (2.0, 25.0))
    analysis = statics(model, body).analyse_q(np.stack([upright.q, far.q]))
    assert analysis.in_contact.all()
    assert analysis.balanced.tolist() == [True, False]
    assert analysis.com_to_bos_m[1] < -0.2  # the COM is some 0.4 m ahead of the toes
    polygon = analysis.base_of_support[1]
    assert polygon is not None
    assert polygon.shape == (4, 2)


def test_the_knee_takes_more_load_as_the_squat_deepens(
    model: SkeletonModel, body: BodyModel, session: PoseSession
) -> None:
    depths = [0.0, 0.1, 0.2, 0.3]
    analysis = statics(model, body).analyse_q(np.stack([squat(session, d) if d else session.q for d in depths]))
    for side in ("left", "right"):
        knee = analysis.flexion_moment_n_m[f"{side}_knee"]
        assert np.all(np.diff(knee) > 5.0), knee  # extensor moment (Winter's sign), N·m
        assert knee[-1] > 40.0


def test_one_foot_carries_the_weight_and_the_com_reads_outside_its_line(
    model: SkeletonModel, body: BodyModel, session: PoseSession
) -> None:
    lifted = session.manipulate("left_ankle", session.pose["left_ankle"] + [0.1, 0.0, 0.15])
    analysis = statics(model, body).analyse_q(lifted.q)
    assert analysis.in_contact[0].tolist() == [False, True]
    assert analysis.ground_reaction_n[0, 0] == pytest.approx(np.zeros(3))
    assert analysis.ground_reaction_n[0, 1] == pytest.approx(body.mass_kg * G * UP)
    assert analysis.com_to_bos_m[0] <= 0.0
    assert not analysis.balanced[0]
    assert np.isnan(analysis.centre_of_pressure_m[0, 0]).all()
    assert analysis.foot_clearance_m[0, 0] > 0.06


def test_no_foot_on_the_ground_gives_no_support(model: SkeletonModel, body: BodyModel, session: PoseSession) -> None:
    analysis = statics(model, body, ground_m=-0.5).analyse_q(session.q)
    assert not analysis.in_contact.any()
    assert np.isnan(analysis.com_to_bos_m[0])
    assert not analysis.balanced[0]
    assert analysis.ground_reaction_n[0] == pytest.approx(np.zeros((2, 3)))
    assert analysis.base_of_support[0] is None
    # Legs hang from the hip: only their own weight, a flexor (negative) moment at most.
    assert abs(analysis.flexion_moment_n_m["left_knee"][0]) < 1.0


def test_the_lever_rule_loads_the_foot_nearer_the_com(
    model: SkeletonModel, body: BodyModel, session: PoseSession
) -> None:
    shifted = session.manipulate("mid_hip", session.pose["mid_hip"] + [0.0, 0.05, 0.0])  # +y: the athlete's left
    analysis = statics(model, body).analyse_q(shifted.q)
    left, right = analysis.ground_reaction_n[0] @ UP
    assert left > right > 0.0
    assert left + right == pytest.approx(body.mass_kg * G)


def test_a_batch_is_analysed_as_its_poses_one_by_one(
    model: SkeletonModel, body: BodyModel, session: PoseSession
) -> None:
    q = np.stack([session.q, squat(session, 0.15), squat(session, 0.3)])
    quasi = statics(model, body)
    batch = quasi.analyse_q(q)
    for i in range(3):
        one = quasi.analyse_q(q[i])
        assert one.com_m[0] == pytest.approx(batch.com_m[i])
        for joint, value in one.flexion_moment_n_m.items():
            assert value[0] == pytest.approx(batch.flexion_moment_n_m[joint][i])


def test_points_of_the_wrong_shape_are_refused(model: SkeletonModel, body: BodyModel) -> None:
    quasi = statics(model, body)
    with pytest.raises(InvalidInputError, match="points must"):
        quasi.analyse(np.zeros((len(JOINT_NAMES) - 1, 3)))
    with pytest.raises(InvalidInputError, match="points must"):
        quasi.analyse(np.full((len(JOINT_NAMES), 3), np.nan))
    with pytest.raises(InvalidInputError, match="ground_level_m"):
        QuasiStatics(model, body, ground_level_m=float("nan"))
