from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from spacecomputer.biomech import BodyModel, whole_body_com
from spacecomputer.biomech.solver import DOF_NAMES, PoseSession, QuasiStatics, SkeletonModel
from spacecomputer.biomech.solver._dofs import DOF_INDEX, JOINT_INDEX
from spacecomputer.biomech.solver._mujoco_mjcf import FRICTION_COEFFICIENT, HINGE_DOFS
from spacecomputer.biomech.solver._mujoco_model import HumanoidModel, build_humanoid
from spacecomputer.biomech.solver._simulate import HOLD_COM_DROP_M, hold_posture
from spacecomputer.biomech.solver._simulate_motion import ground_reaction_of_motion
from spacecomputer.errors import InsufficientDataError, InvalidInputError
from tests.biomech.scene import UP
from tests.biomech.solver.test_statics import leaning

G = 9.80665
FEET = {"left_foot", "right_foot"}


@pytest.fixture(scope="module")
def humanoid(model: SkeletonModel, body: BodyModel) -> HumanoidModel:
    return build_humanoid(model, body, ground_level_m=0.0)


def random_poses(model: SkeletonModel, n: int, seed: int) -> NDArray[np.float64]:
    """Poses drawn uniformly within the joint limits; the root within 1 m, its rotation vector within 2 rad a side."""
    lower, upper = model.bounds()
    rng = np.random.default_rng(seed)
    q = rng.uniform(
        np.where(np.isfinite(lower), lower, -1.0), np.where(np.isfinite(upper), upper, 1.0), (n, len(lower))
    )
    q[:, 3:6] *= 2.0  # rotation vectors up to 2 rad
    return q


@pytest.mark.parametrize(
    ("up", "neck_neutral_rad", "ground_m"),
    [((0.0, 0.0, 1.0), (0.0, 0.0, 0.0), 0.0), ((0.0, -1.0, 0.0), (0.3, -0.1, 0.2), 0.4)],
)
def test_set_pose_puts_every_joint_centre_where_the_skeleton_does(
    model: SkeletonModel,
    body: BodyModel,
    up: tuple[float, float, float],
    neck_neutral_rad: tuple[float, float, float],
    ground_m: float,
) -> None:
    skeleton = SkeletonModel(model.dimensions_m, up=np.array(up), neck_neutral_rad=neck_neutral_rad)
    humanoid = build_humanoid(skeleton, body, ground_level_m=ground_m)
    data = humanoid.new_data()
    for q in random_poses(skeleton, 6, seed=4):
        humanoid.set_pose(data, q)
        assert np.abs(humanoid.points(data) - skeleton.points(q)).max() < 1e-9  # the brief asks for 1 mm
        assert skeleton.points(humanoid.q_of(humanoid.qpos(q))) == pytest.approx(skeleton.points(q), abs=1e-12)
    assert humanoid.model.opt.gravity == pytest.approx(-G * np.array(up))


def test_hinges_carry_our_names_limits_and_friction(humanoid: HumanoidModel, model: SkeletonModel) -> None:
    lower, upper = model.bounds()
    mj = humanoid.model
    for name in HINGE_DOFS:
        joint = mj.joint(name)
        assert joint.range == pytest.approx([lower[DOF_INDEX[name]], upper[DOF_INDEX[name]]]), name
        assert mj.jnt_limited[joint.id]
    assert mj.nu == len(HINGE_DOFS) == len(DOF_NAMES) - 6
    assert {humanoid.geom_segment[g] for g in humanoid.foot_geoms} == FEET
    assert all(mj.geom_friction[g, 0] == FRICTION_COEFFICIENT for g in humanoid.geom_segment)


def test_total_mass_and_com_equal_the_de_leva_models(
    humanoid: HumanoidModel, model: SkeletonModel, body: BodyModel, session: PoseSession
) -> None:
    assert humanoid.total_mass_kg == pytest.approx(body.mass_kg, abs=1e-6)
    data = humanoid.new_data()
    poses = np.vstack([session.q[None], random_poses(model, 4, seed=9)])
    engine = whole_body_com(model.to_sequence(poses), body)
    for q, expected in zip(poses, engine, strict=True):
        humanoid.set_pose(data, q)
        assert humanoid.com_m(data) == pytest.approx(expected, abs=1e-6)


def test_a_balanced_standing_pose_holds_for_a_second_with_the_pd_controller(session: PoseSession) -> None:
    assert session.balance.inside
    result = hold_posture(session, duration_s=1.0, controller="pd")
    assert result.held
    assert result.first_touch is None
    assert result.fall_direction is None
    assert result.com_drop_m < 0.005
    assert result.summary.startswith("holds for 1.00 s")
    assert result.peak_com_speed_m_s < 0.1
    assert result.times_s[-1] == pytest.approx(1.0)
    assert result.final_q[DOF_INDEX["left_knee_flexion"]] == pytest.approx(
        session.q[DOF_INDEX["left_knee_flexion"]], abs=np.radians(2.0)
    )


@pytest.mark.parametrize(("lean_deg", "direction"), [(25.0, "forward"), (-20.0, "backward")])
def test_a_pose_leaning_far_out_falls_that_way(
    humanoid: HumanoidModel, model: SkeletonModel, body: BodyModel, lean_deg: float, direction: str
) -> None:
    q = model.fit(leaning(lean_deg)).q
    assert QuasiStatics(model, body, ground_level_m=0.0).analyse_q(q).com_to_bos_m[0] < -0.1  # COM well outside
    result = hold_posture(q, humanoid=humanoid, duration_s=2.0)
    assert not result.held
    assert result.fall_direction == direction
    assert np.sign(result.forward_m) == np.sign(lean_deg)
    assert abs(result.forward_m) > 0.1
    assert abs(result.rightward_m) < 0.01  # a symmetric pose falls straight
    touch = result.first_touch
    assert touch is not None
    assert touch.segment in set(humanoid.geom_segment.values()) - FEET
    assert 0.0 < touch.time_s < 2.0
    assert touch.com_speed_m_s > 1.0
    assert result.summary.startswith(f"does not hold: falls {direction}, the {touch.segment.replace('_', ' ')} touches")
    assert result.peak_com_speed_m_s >= touch.com_speed_m_s


def test_standing_without_a_controller_collapses(session: PoseSession) -> None:
    result = hold_posture(session, duration_s=1.0, controller="passive")
    assert not result.held
    assert result.com_drop_m > HOLD_COM_DROP_M
    assert result.saturated == ()


def bounce(
    model: SkeletonModel, q0: NDArray[np.float64], *, fps: float, hz: float, periods: int
) -> NDArray[np.float64]:
    """A vertical bounce on flat, planted feet: ankle dorsiflexion a(t), hip flexion r·a, knee flexion (1 + r)·a.

    ``a(t) = 30° (1 − cos 2π f t) / 2`` and ``r`` = shank / thigh (the hip stays near the ankle's vertical); the
    pelvis keeps its orientation, so the feet keep theirs, and the root is moved to keep the ankles in place.
    """
    t = np.arange(round(periods * fps / hz) + 1) / fps
    a = np.radians(30.0) * (1.0 - np.cos(2.0 * np.pi * hz * t)) / 2.0
    ratio = model.dimensions_m["left_shank"] / model.dimensions_m["left_thigh"]
    q = np.repeat(q0[None], t.size, axis=0)
    for side in ("left", "right"):
        q[:, DOF_INDEX[f"{side}_hip_flexion"]] += ratio * a
        q[:, DOF_INDEX[f"{side}_knee_flexion"]] += (1.0 + ratio) * a
        q[:, DOF_INDEX[f"{side}_ankle_dorsiflexion"]] += a
    ankles = model.points(q)[:, [JOINT_INDEX["left_ankle"], JOINT_INDEX["right_ankle"]]].mean(axis=1)
    q[:, 0:3] -= (ankles - ankles[0]) @ model.reference_axes
    return q


def test_ground_reaction_of_a_bounce_agrees_with_the_engines_estimate(
    humanoid: HumanoidModel, model: SkeletonModel, body: BodyModel, session: PoseSession
) -> None:
    q = bounce(model, session.q, fps=60.0, hz=1.5, periods=2)
    heels = model.points(q)[:, JOINT_INDEX["left_heel"]]
    assert np.abs(heels - heels[0]).max() < 1e-9  # the feet stay planted
    result = ground_reaction_of_motion(humanoid, q, fps=60.0)
    weight = body.mass_kg * G
    assert result.weight_n == pytest.approx(weight)
    assert result.compared.all()
    assert result.pulling_frames == 0
    # Our tolerances: 1 % of body weight on the means, the peaks and the RMS difference.
    assert result.mean_vertical_n == pytest.approx(weight, rel=0.01)
    assert result.engine_mean_vertical_n == pytest.approx(weight, rel=0.01)
    assert result.peak_vertical_n > 1.5 * weight  # a real bounce
    assert result.peak_vertical_n == pytest.approx(result.engine_peak_vertical_n, abs=0.01 * weight)
    assert result.rms_difference_n < 0.01 * weight
    assert result.correlation > 0.999
    assert result.horizontal_n.shape == result.vertical_n.shape == (q.shape[0],)


def test_a_still_pose_needs_exactly_its_weight(humanoid: HumanoidModel, session: PoseSession) -> None:
    result = ground_reaction_of_motion(humanoid, np.repeat(session.q[None], 5, axis=0), fps=30.0)
    assert result.force_n == pytest.approx(np.tile(result.weight_n * UP, (5, 1)), abs=1e-6)
    assert np.isnan(result.correlation)  # both constant


@pytest.mark.parametrize(
    "bad",
    [
        lambda q: np.where(np.arange(q.size) == 7, np.nan, q),
        lambda q: q[:-1],
        lambda q: np.append(q, 0.0),
    ],
    ids=["nan", "short", "long"],
)
def test_bad_coordinates_are_typed_errors(humanoid: HumanoidModel, session: PoseSession, bad: object) -> None:
    q = bad(session.q.copy())  # type: ignore[operator]
    with pytest.raises(InvalidInputError):
        hold_posture(q, humanoid=humanoid)
    with pytest.raises(InvalidInputError):
        humanoid.qpos(q)
    with pytest.raises(InvalidInputError):
        ground_reaction_of_motion(humanoid, np.repeat(np.asarray(q)[None], 5, axis=0), fps=30.0)


def test_bad_settings_are_typed_errors(
    humanoid: HumanoidModel, model: SkeletonModel, body: BodyModel, session: PoseSession
) -> None:
    still = np.repeat(session.q[None], 5, axis=0)
    with pytest.raises(InvalidInputError, match="controller"):
        hold_posture(session, controller="ragdoll")  # type: ignore[arg-type]
    for duration in (0.0, -1.0, 60.0, float("nan")):
        with pytest.raises(InvalidInputError, match="duration_s"):
            hold_posture(session, duration_s=duration)
    with pytest.raises(InvalidInputError, match="humanoid"):
        hold_posture(session.q)
    with pytest.raises(InvalidInputError, match="one pose"):
        hold_posture(still, humanoid=humanoid)
    for fps in (0.0, -30.0, float("nan")):
        with pytest.raises(InvalidInputError, match="fps"):
            ground_reaction_of_motion(humanoid, still, fps=fps)
    with pytest.raises(InvalidInputError, match="shape"):
        ground_reaction_of_motion(humanoid, session.q, fps=30.0)
    with pytest.raises(InsufficientDataError):
        ground_reaction_of_motion(humanoid, still[:2], fps=30.0)
    with pytest.raises(InvalidInputError, match="ground_level_m"):
        build_humanoid(model, body, ground_level_m=float("nan"))
