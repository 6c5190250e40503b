"""The pose lab's optimiser: known optima, balance, unchanged optima, infeasibility, validity, phases, bad input.

The athlete is an exact upright skeleton of round segment lengths (every coordinate zero, feet flat on z = 0), so
that optima can be derived by hand.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.typing import NDArray

from spacecomputer.biomech import BodyModel, joint_angles, whole_body_com
from spacecomputer.biomech.solver import DOF_NAMES, JOINT_NAMES, PoseSession, SkeletonModel
from spacecomputer.biomech.solver._objectives import STRENGTH_N_M_PER_KG
from spacecomputer.biomech.solver._optimise import BiomechanicalSolver
from spacecomputer.biomech.solver._optimise_eval import FEASIBILITY_TOLERANCE_M, smoothness
from spacecomputer.biomech.solver._optimise_problem import (
    KeepFootOnGround,
    KeepPointAt,
    OptimisationProblem,
    Phase,
)
from spacecomputer.biomech.solver._optimise_result import SolveResult
from spacecomputer.errors import InvalidInputError

G = 9.80665
UP = np.array([0.0, 0.0, 1.0])
SIDED = {"thigh": 0.43, "shank": 0.43, "upper_arm": 0.28, "forearm": 0.25, "hand": 0.08, "foot": 0.2}
SIDED |= {"ankle_along_foot": 0.05, "ankle_above_sole": 0.08}
FEET = (KeepFootOnGround("left"), KeepFootOnGround("right"))
ARM_JOINTS = ("left_shoulder", "left_elbow", "left_wrist")
DOF = {name: i for i, name in enumerate(DOF_NAMES)}


@pytest.fixture(scope="module")
def session() -> PoseSession:
    dimensions = {f"{side}_{k}": v for side in ("left", "right") for k, v in SIDED.items()}
    dimensions |= {"hip_width": 0.2, "shoulder_width": 0.36, "trunk": 0.5, "ear_height": 0.19, "ear_width": 0.16}
    dimensions |= {"nose_anterior": 0.1, "nose_superior": 0.17, "nose_right": 0.0}
    q = np.zeros(len(DOF_NAMES))
    q[DOF["pelvis_ty"]] = 0.43 + 0.43 + 0.08
    body = BodyModel.from_anthropometry(mass_kg=70.0, height_m=1.75, sex=None)
    return PoseSession(SkeletonModel(dimensions, up=UP), q, body=body, ground_level_m=0.0)


@pytest.fixture(scope="module")
def solver(session: PoseSession) -> BiomechanicalSolver:
    return BiomechanicalSolver(session)


def pose(session: PoseSession, **degrees: float) -> NDArray[np.float64]:
    q = session.q
    for name, value in degrees.items():
        q[DOF[name]] = math.radians(value)
    return q


def all_but(*free: str) -> tuple[str, ...]:
    return tuple(n for n in DOF_NAMES if n not in free)


@pytest.fixture(scope="module")
def squat(session: PoseSession) -> NDArray[np.float64]:
    result = session.manipulate("mid_hip", session.pose["mid_hip"] - 0.3 * UP)
    assert result.reached
    session.undo()
    return result.q


def feet_points(session: PoseSession, q: NDArray[np.float64]) -> NDArray[np.float64]:
    points = session.model.points(q)
    return points[[JOINT_NAMES.index(f"{s}_{p}") for s in ("left", "right") for p in ("heel", "foot_index")]]


def test_a_hanging_arm_is_the_minimum_torque_posture(session: PoseSession, solver: BiomechanicalSolver) -> None:
    """Arm joints only, shoulder and elbow flexion free: every moment is g × a horizontal lever of a segment COM.

    The levers all vanish, and so does Σ (M/S)², exactly when the upper arm and the forearm with the hand hang
    vertically: shoulder flexion 0 and elbow flexion 0 (its lower limit). From 60° and 40° the solver gets there.
    """
    free = ("left_shoulder_flexion", "left_elbow_flexion")
    problem = OptimisationProblem("joint_stress", preserve=all_but(*free), joints=ARM_JOINTS)
    result = solver.solve(problem, q=pose(session, left_shoulder_flexion=60.0, left_elbow_flexion=40.0))
    assert result.success, result.message
    assert result.objective_before > 0.01
    assert result.objective_after < 1e-9
    assert np.degrees(result.q[[DOF[n] for n in free]]) == pytest.approx([0.0, 0.0], abs=0.05)
    assert result.free_dofs == free


def test_with_the_elbow_held_at_90_degrees_the_optimum_is_the_analytic_one(
    session: PoseSession, solver: BiomechanicalSolver
) -> None:
    """A planar two-link arm, elbow preserved at φ = 90°, shoulder flexion θ free (arm joints counted).

    Horizontal levers: upper arm ``l_u sin θ``, forearm and hand along ``sin(θ + φ) = cos θ``. With segment masses
    m, COM fractions c and lengths l (de Leva, the skeleton's):
    ``M_s = P sin θ + B cos θ``, ``M_e = B cos θ``, ``M_w = W cos θ``, where ``P = g (m_u c_u + m_f + m_h) l_u``,
    ``B = g (m_f c_f l_f + m_h (l_f + c_h l_h))``, ``W = g m_h c_h l_h``. So ``Σ (M/S)² = vᵀ A v`` with
    ``v = (sin θ, cos θ)`` and ``A = [[P²/S_s², PB/S_s²], [PB/S_s², B²/S_s² + B²/S_e² + W²/S_w²]]``: the minimum
    is A's smallest eigenvalue, at θ along its eigenvector: θ or θ + 180°, the one downhill from the start, 30°
    (within the shoulder's limits, the nearer).
    """
    body = session.body
    segment = {s.name: s for s in body.segments}
    m_u, m_f, m_h = (segment[f"left_{k}"].mass_fraction * body.mass_kg for k in ("upper_arm", "forearm", "hand"))
    c_u, c_f, c_h = (segment[f"left_{k}"].com_fraction for k in ("upper_arm", "forearm", "hand"))
    l_u, l_f, l_h = SIDED["upper_arm"], SIDED["forearm"], SIDED["hand"]
    p, b, w = G * (m_u * c_u + m_f + m_h) * l_u, G * (m_f * c_f * l_f + m_h * (l_f + c_h * l_h)), G * m_h * c_h * l_h
    s_s, s_e, s_w = (STRENGTH_N_M_PER_KG[k] * body.mass_kg for k in ("shoulder", "elbow", "wrist"))
    a = np.array([[p * p / s_s**2, p * b / s_s**2], [p * b / s_s**2, b * b / s_s**2 + b * b / s_e**2 + w * w / s_w**2]])
    values, vectors = np.linalg.eigh(a)
    direction = math.degrees(math.atan2(vectors[0, 0], vectors[1, 0]))
    candidates = [t for t in (direction - 360.0, direction - 180.0, direction, direction + 180.0) if -60 <= t <= 180]
    theta = min(candidates, key=lambda t: abs(t - 30.0))
    problem = OptimisationProblem("joint_stress", preserve=all_but("left_shoulder_flexion"), joints=ARM_JOINTS)
    result = solver.solve(problem, q=pose(session, left_shoulder_flexion=30.0, left_elbow_flexion=90.0))
    assert result.success, result.message
    assert math.degrees(result.q[DOF["left_shoulder_flexion"]]) == pytest.approx(theta, abs=0.01)
    assert result.objective_after == pytest.approx(values[0], rel=1e-6)
    assert result.q[DOF["left_elbow_flexion"]] == pytest.approx(math.pi / 2, abs=1e-12)


def test_a_static_squat_keeps_the_com_over_the_feet(
    session: PoseSession, solver: BiomechanicalSolver, squat: NDArray[np.float64]
) -> None:
    """Knees and ankles held in a deep squat: the knee moments shrink as the COM moves forward towards the knees,
    which are ahead of the toes; the balance constraint (2 cm inside the base of support) stops it."""
    held = ("left_knee", "right_knee", "left_ankle", "right_ankle")
    knees = ("left_knee", "right_knee")
    balanced = solver.solve(
        OptimisationProblem("joint_stress", preserve=held, keep=FEET, joints=knees, balance_margin_m=0.02), q=squat
    )
    free = solver.solve(
        OptimisationProblem("joint_stress", preserve=held, keep=FEET, joints=knees, balance_required=False), q=squat
    )
    assert balanced.success, balanced.message
    assert balanced.frames[0].balance_before.margin_m > 0.05
    # on the balance boundary, which asks for the feasibility tolerance on top of the margin (a pose accepted
    # within that tolerance still keeps the margin)
    assert balanced.frames[0].balance.margin_m == pytest.approx(0.02 + FEASIBILITY_TOLERANCE_M, abs=1e-5)
    assert any(a.kind == "inequality" and a.name.startswith("balance") for a in balanced.active)
    assert free.frames[0].balance.margin_m < 0.0  # without it the COM leaves the feet
    assert free.objective_after < balanced.objective_after < 0.6 * balanced.objective_before
    assert feet_points(session, balanced.q) == pytest.approx(feet_points(session, squat), abs=1e-4)


def test_an_already_optimal_pose_is_returned_unchanged(session: PoseSession, solver: BiomechanicalSolver) -> None:
    problem = OptimisationProblem("joint_stress", preserve=all_but("left_shoulder_flexion", "left_elbow_flexion"))
    hanging = solver.solve(problem, q=session.q)
    assert np.array_equal(hanging.q, session.q)
    assert "already optimal" in hanging.message
    problem = OptimisationProblem("joint_stress", preserve=all_but("left_shoulder_flexion"), joints=ARM_JOINTS)
    first = solver.solve(problem, q=pose(session, left_shoulder_flexion=30.0, left_elbow_flexion=90.0))
    again = solver.solve(problem, q=first.q)
    assert first.improvement > 0.001
    assert np.array_equal(again.q, first.q)
    assert again.objective_after == again.objective_before == pytest.approx(first.objective_after, rel=1e-12)


def test_a_search_cut_short_before_it_finds_a_better_pose_says_so(
    session: PoseSession, squat: NDArray[np.float64]
) -> None:
    """One SLSQP iteration, then one in a trust box: both steps leave the planted feet's constraints, so no pose that
    meets them and pushes off better has been found. The start comes back unchanged, and the message says why
    instead of calling the start optimal."""
    solver = BiomechanicalSolver(session, max_iterations=1)
    result = solver.solve(OptimisationProblem("power_output", keep=FEET), q=squat)
    assert np.array_equal(result.q, squat)
    assert not result.success
    assert result.message.startswith("no feasible pose found improves the objective: the starting pose is returned")
    assert "Iteration limit reached" in result.message
    assert "optimal" not in result.message


def test_the_deepest_squat_stops_on_the_knee_limits(
    session: PoseSession, solver: BiomechanicalSolver, squat: NDArray[np.float64]
) -> None:
    result = solver.solve(OptimisationProblem("power_output", keep=FEET), q=squat)
    assert result.success, result.message
    assert result.objective_after > result.objective_before + 0.1  # metres more push-off
    limits = {a.name for a in result.active if a.kind == "joint limit"}
    assert {"left_knee_flexion", "right_knee_flexion"} <= limits
    assert np.degrees(result.q[[DOF["left_knee_flexion"], DOF["right_knee_flexion"]]]) == pytest.approx(155.0)
    assert result.frames[0].balance.inside


@pytest.mark.parametrize("objective", ["joint_stress", "power_output"])
def test_feet_on_the_ground_stay_on_it_when_not_held(
    solver: BiomechanicalSolver, squat: NDArray[np.float64], objective: str
) -> None:
    """No foot held, balance not required: lifted off the ground, the body would bear no ground reaction and its
    legs no load, a meaningless optimum the statics cannot tell from a real one. A foot that bears weight at the
    start stays on the ground (within the contact height)."""
    result = solver.solve(OptimisationProblem(objective, balance_required=False), q=squat)
    assert result.improvement > 0.0
    assert result.frames[0].balance.feet_in_contact == ("left", "right")
    assert not result.violated


def test_contradictory_constraints_are_reported_infeasible_not_relaxed(
    session: PoseSession, solver: BiomechanicalSolver
) -> None:
    problem = OptimisationProblem("energy_efficiency", keep=FEET, balance_margin_m=0.5)
    result = solver.solve(problem, q=session.q)
    assert result.infeasible
    assert not result.success
    assert result.message.startswith("infeasible")
    assert any(v.name.startswith("balance") and v.amount > 0.3 for v in result.violated)
    assert result.frames[0].balance.margin_m < 0.5


def test_an_unreachable_hand_is_brought_as_near_as_the_feet_allow(
    session: PoseSession, solver: BiomechanicalSolver
) -> None:
    problem = OptimisationProblem("joint_stress", keep=(*FEET, KeepPointAt("left_hand", height_m=3.0)))
    result = solver.solve(problem, q=pose(session, left_shoulder_flexion=60.0))
    assert result.infeasible
    assert not result.success
    assert result.message.startswith("infeasible: no pose meets keep left_hand at 3.000 m above the ground")
    assert [v.name for v in result.violated] == ["keep left_hand at 3.000 m above the ground"]
    assert feet_points(session, result.q) == pytest.approx(feet_points(session, session.q), abs=1e-4)
    assert result.frames[0].balance.inside
    assert result.pose["left_hand"][2] > 2.0  # the arm overhead; no higher on flat feet
    assert math.degrees(result.q[DOF["left_shoulder_flexion"]]) > 150.0
    assert result.violated[0].amount == pytest.approx(3.0 - result.pose["left_hand"][2], abs=1e-9)


def test_bones_limits_and_the_independent_recomputation_hold(
    session: PoseSession, solver: BiomechanicalSolver, squat: NDArray[np.float64]
) -> None:
    problem = OptimisationProblem("energy_efficiency", keep=FEET, max_change_deg=10.0, max_shift_m=0.05)
    result = solver.solve(problem, q=squat)
    assert result.success, result.message
    q, model = result.q, session.model
    points = model.joint_centres(q)
    for (a, b), length in model.bone_lengths_m().items():
        assert float(np.linalg.norm(points[a] - points[b])) == pytest.approx(length, abs=1e-9)
    lower, upper = model.bounds()
    assert np.all((q >= lower) & (q <= upper))
    assert np.abs(np.degrees(q - squat)[6:]).max() <= 10.0 + 1e-9
    assert np.abs(q - squat)[:3].max() <= 0.05 + 1e-12
    assert any(a.kind == "max change" for a in result.active)
    assert result.validity.passed
    assert result.validity.angle_error_deg < 0.5
    assert result.validity.com_error_m < 1e-3
    still = model.to_sequence(np.repeat(q[None], 3, axis=0))
    assert whole_body_com(still, session.body)[1] == pytest.approx(result.frames[0].balance.com_m, abs=1e-9)
    knee = joint_angles(still, up=UP)["left_knee_flexion"].values_deg[1]
    assert knee == pytest.approx(math.degrees(q[DOF["left_knee_flexion"]]), abs=1e-6)
    changes = {c.name: c for c in result.frames[0].angle_changes}
    assert changes["left_knee_flexion"].after_deg == pytest.approx(knee, abs=1e-6)


def test_a_short_phase_becomes_smoother(session: PoseSession, solver: BiomechanicalSolver) -> None:
    rng = np.random.default_rng(0)
    arms = ("left_shoulder_flexion", "right_shoulder_flexion", "left_elbow_flexion", "right_elbow_flexion")
    frames = np.repeat(pose(session, left_elbow_flexion=30.0, right_elbow_flexion=30.0)[None], 5, axis=0)
    frames[:, [DOF[n] for n in arms]] += rng.normal(0.0, 0.15, (5, len(arms)))
    phase = Phase(frames, fps=30.0, smoothness_weight=10.0)
    result: SolveResult = solver.solve(OptimisationProblem("joint_stress", preserve=all_but(*arms), phase=phase))
    assert result.q.shape == frames.shape
    assert len(result.frames) == 5
    assert result.smoothness_after < 0.2 * result.smoothness_before
    assert result.objective_after < result.objective_before
    assert result.validity.passed
    assert any("quasi-static" in w for w in result.warnings)


@settings(max_examples=50, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(3, 8), st.integers(1, 4)), elements=st.floats(-3.0, 3.0)))
def test_the_smoothness_gradient_is_exact_and_lines_are_smooth(q: NDArray[np.float64]) -> None:
    value, gradient = smoothness(q)
    step = 1e-6
    for index in np.ndindex(q.shape):
        moved = q.copy()
        moved[index] += step
        assert (smoothness(moved)[0] - value) / step == pytest.approx(gradient[index], abs=1e-4)
    line = np.linspace(0.0, 1.0, q.shape[0])[:, None] * q[-1] + q[0]
    assert smoothness(line)[0] == pytest.approx(0.0, abs=1e-20)
    assert value >= 0.0


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: OptimisationProblem("comfort"), "valid objectives: joint_stress, power_output"),
        (lambda: OptimisationProblem("joint_stress", preserve=("left_toe",)), "valid names: the joints left_hip"),
        (lambda: KeepPointAt("left_finger", height_m=1.0), "valid points: nose"),
        (lambda: KeepPointAt("left_hand"), "exactly one"),
        (lambda: KeepPointAt("left_hand", height_m=float("nan")), "finite"),
        (lambda: KeepPointAt("left_hand", position_m=(0.0, float("nan"), 1.0)), "finite"),
        (lambda: KeepFootOnGround("middle"), "'left' or 'right'"),  # type: ignore[arg-type]
        (lambda: OptimisationProblem("joint_stress", balance_margin_m=float("nan")), "finite"),
        (lambda: OptimisationProblem("joint_stress", max_change_deg=0.0), "positive"),
        (lambda: Phase(np.full((4, len(DOF_NAMES)), np.nan), fps=30.0), "finite"),
        (lambda: Phase(np.zeros((20, len(DOF_NAMES))), fps=30.0), "3 ≤ F ≤ 15"),
    ],
)
def test_bad_problems_are_refused_with_what_is_valid(make: object, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        make()  # type: ignore[operator]


def test_bad_starts_and_solvers_are_refused(session: PoseSession, solver: BiomechanicalSolver) -> None:
    problem = OptimisationProblem("joint_stress", keep=FEET)
    with pytest.raises(InvalidInputError, match="finite"):
        solver.solve(problem, q=np.full(len(DOF_NAMES), np.nan))
    with pytest.raises(InvalidInputError, match="outside the joint limits"):
        solver.solve(problem, q=pose(session, left_knee_flexion=-20.0))
    lifted = session.q
    lifted[DOF["pelvis_ty"]] += 0.3
    with pytest.raises(InvalidInputError, match="left foot is not on the ground"):
        solver.solve(problem, q=lifted)
    with pytest.raises(InvalidInputError, match="joints: left_ankle"):
        solver.solve(OptimisationProblem("joint_stress", joints=("left_toe",)), q=session.q)
    with pytest.raises(InvalidInputError, match="QuasiStatics"):
        BiomechanicalSolver(session.model)
