"""The optimiser's objectives on the standing athlete: definitions, units, known values, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from spacecomputer.biomech import JOINTS, RISK_THRESHOLDS
from spacecomputer.biomech._risk import knee_frontal_plane_projection_angle_deg
from spacecomputer.biomech.solver import PoseSession
from spacecomputer.biomech.solver._objectives import (
    OBJECTIVES,
    STRENGTH_N_M_PER_KG,
    ObjectiveContext,
    cost_of_transport,
    energy_efficiency,
    injury_risk,
    joint_stress,
    objective_named,
    positive_work_j,
    power_output,
)
from spacecomputer.errors import InvalidInputError
from tests.biomech.scene import UP
from tests.biomech.solver.poses import MASS_KG

G = 9.80665


def squat(session: PoseSession, depth_m: float) -> NDArray[np.float64]:
    """The mid-hip dragged straight down by ``depth_m``, both feet held (the session is left unchanged)."""
    result = session.manipulate("mid_hip", session.pose["mid_hip"] - depth_m * UP)
    assert result.reached
    session.undo()
    return result.q


def test_the_strength_table_ranks_the_joints_as_documented() -> None:
    ranked = sorted(STRENGTH_N_M_PER_KG, key=lambda joint: -STRENGTH_N_M_PER_KG[joint])
    assert ranked == ["hip", "knee", "ankle", "shoulder", "elbow", "wrist"]
    assert set(OBJECTIVES) == {"joint_stress", "power_output", "energy_efficiency", "injury_risk"}
    assert [o.sense for o in OBJECTIVES.values()] == ["minimise", "maximise", "minimise", "minimise"]


def test_joint_stress_and_static_cost_are_sums_over_the_quasi_static_moments(session: PoseSession) -> None:
    poses = np.stack([session.q, squat(session, 0.2)])
    moments = session.statics.analyse_q(poses).flexion_moment_n_m
    strength = {j: STRENGTH_N_M_PER_KG[j.split("_", 1)[1]] * MASS_KG for j in JOINTS}
    expected = np.sum([(moments[j] / strength[j]) ** 2 for j in JOINTS], axis=0)
    assert joint_stress(session.statics, poses) == pytest.approx(expected, rel=1e-12)
    assert energy_efficiency(session.statics, poses) == pytest.approx(sum(moments[j] ** 2 for j in JOINTS), rel=1e-12)
    knees = ("left_knee", "right_knee")
    only_knees = sum((moments[j] / (5.0 * MASS_KG)) ** 2 for j in knees)
    assert joint_stress(session.statics, poses, joints=knees, strength_n_m_per_kg={"knee": 5.0}) == pytest.approx(
        only_knees, rel=1e-12
    )
    assert expected[1] > 10 * expected[0]  # squatting loads the knees


def test_the_push_off_range_grows_with_squat_depth_and_needs_a_foot_down(session: PoseSession) -> None:
    model = session.model
    deep = squat(session, 0.25)
    airborne = session.q
    airborne[1] += 0.5  # pelvis_ty: the athlete lifted half a metre
    points = model.joint_centres(deep)
    legs = sum(
        model.dimensions_m[f"{s}_thigh"] + model.dimensions_m[f"{s}_shank"]
        - float(np.linalg.norm(points[f"{s}_ankle"] - points[f"{s}_hip"]))
        for s in ("left", "right")
    )  # fmt: skip
    standing, squatting, flying = power_output(session.statics, np.stack([session.q, deep, airborne]))
    assert squatting == pytest.approx(legs, abs=1e-12)
    assert squatting > standing + 0.2
    assert flying == 0.0


def test_rising_from_a_squat_does_the_work_of_lifting_the_centre_of_mass(session: PoseSession) -> None:
    """Quasi-statically, with the feet still, the joints' work equals the rise in potential energy (virtual work)."""
    frames = np.stack([squat(session, depth) for depth in np.linspace(0.3, 0.01, 12)])
    com = session.statics.analyse_q(frames).com_m
    lift_j = MASS_KG * G * float((com[-1] - com[0]) @ UP)
    work = positive_work_j(session.statics, frames, fps=30.0)
    assert lift_j > 100.0
    assert work == pytest.approx(lift_j, rel=0.02)
    path_m = float(np.linalg.norm(np.diff(com, axis=0), axis=1).sum())
    transport = cost_of_transport(session.statics, frames, fps=30.0)
    assert transport == pytest.approx(work / (MASS_KG * G * path_m), rel=0.01)
    assert positive_work_j(session.statics, frames[::-1], fps=30.0) < 0.01 * work  # squatting down absorbs


def test_injury_risk_is_zero_below_yellow_and_one_per_red_threshold(session: PoseSession) -> None:
    lean = RISK_THRESHOLDS["trunk_lateral_lean_peak"]
    assert injury_risk(session.statics, session.q) == pytest.approx([0.0])
    q_red = session.manipulate("trunk_lateral_lean", lean.red).q
    q_mid = session.manipulate("trunk_lateral_lean", 0.5 * (lean.yellow + lean.red)).q
    assert injury_risk(session.statics, np.stack([q_red, q_mid])) == pytest.approx([1.0, 0.25], abs=1e-6)


def test_knee_valgus_is_penalised_from_the_engines_fppa(session: PoseSession) -> None:
    session.manipulate("left_knee_flexion", 70.0)
    q = session.manipulate("left_hip_internal_rotation", 35.0).q
    fppa = knee_frontal_plane_projection_angle_deg(session.model.to_sequence(q), up=UP)["left"][0]
    spec = RISK_THRESHOLDS["knee_frontal_plane_projection_angle"]
    assert fppa > spec.yellow
    penalty = ((fppa - spec.yellow) / (spec.red - spec.yellow)) ** 2
    assert injury_risk(session.statics, q) == pytest.approx([penalty], rel=1e-9)


@pytest.mark.parametrize(
    ("call", "listed"),
    [
        (lambda s: objective_named("comfort"), "joint_stress, power_output, energy_efficiency, injury_risk"),
        (lambda s: joint_stress(s.statics, s.q, joints=("left_toe",)), "left_ankle, left_knee"),
        (lambda s: joint_stress(s.statics, s.q, strength_n_m_per_kg={"neck": 1.0}), "hip, knee, ankle"),
        (lambda s: joint_stress(s.statics, s.q, strength_n_m_per_kg={"knee": float("nan")}), "finite positive"),
        (lambda s: ObjectiveContext.of(s.statics, fps=0.0), "fps"),
        (lambda s: positive_work_j(s.statics, s.q[None], fps=30.0), "F ≥ 2"),
        (lambda s: injury_risk(s.statics, np.full(s.q.shape, np.nan)), "finite"),
    ],
)
def test_bad_input_is_refused_with_what_is_valid(session: PoseSession, call: object, listed: str) -> None:
    with pytest.raises(InvalidInputError, match=listed):
        call(session)  # type: ignore[operator]
