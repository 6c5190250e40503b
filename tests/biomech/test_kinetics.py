from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from spacecomputer.biomech import BodyModel, segment_com, segment_inertia, whole_body_com
from spacecomputer.biomech._events import detect_foot_contacts
from spacecomputer.biomech._kinematics import linear_acceleration_m_s2
from spacecomputer.biomech._kinetics import (
    COP_TILT_BAND_M,
    JOINTS,
    JointKinetics,
    estimate_ground_reaction,
    inverse_dynamics,
    leg_plane_axis,
    moment_per_kg,
)
from spacecomputer.biomech._segment_motion import segment_axes, segment_motion
from spacecomputer.domain import CoordinateFrame
from spacecomputer.errors import InvalidInputError, InvalidPoseDataError

from .physics_motions import ARM as ARM_POINTS
from .physics_motions import (
    CAMERA_FROM_WORLD,
    RIGHT,
    UP,
    G,
    contacts_of,
    index,
    leaning_pose,
    projectile,
    rotated,
    sequence_of,
    spinning,
    standing_pose,
    still,
    swinging_arm,
    transform_scene,
)

MODEL = BodyModel.from_anthropometry(mass_kg=70.0, height_m=1.75, sex="male")
WEIGHT_N = MODEL.mass_kg * G
LEG = ("foot", "shank", "thigh")
ARM = ("hand", "forearm", "upper_arm")


def _all_contact(n: int, fps: float) -> object:
    return contacts_of(np.ones((n, 2), dtype=bool), fps=fps)


# --- free flight -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("camera", [False, True])
def test_free_flight_has_no_ground_reaction_and_no_joint_load(camera: bool) -> None:
    fps, n = 100.0, 60
    positions, up = projectile(n, fps), UP
    if camera:
        positions, up = transform_scene(positions, CAMERA_FROM_WORLD), CAMERA_FROM_WORLD.apply(UP)
    seq = sequence_of(positions, fps, frame=CoordinateFrame.CAMERA if camera else CoordinateFrame.WORLD)
    # Central differences are exact on a parabola: the COM falls at exactly g.
    com_acceleration = linear_acceleration_m_s2(whole_body_com(seq, MODEL), seq.timestamps_s)
    np.testing.assert_allclose(com_acceleration, np.tile(-G * up, (n, 1)), atol=1e-9)

    airborne = contacts_of(np.zeros((n, 2), dtype=bool), fps=fps)
    grf = estimate_ground_reaction(seq, MODEL, airborne, up=up)
    assert grf.known.all()
    assert grf.unavailable_reason is None
    assert np.array_equal(grf.total_n, np.zeros((n, 3)))
    assert np.array_equal(grf.per_foot_n, np.zeros((n, 2, 3)))
    assert np.isnan(grf.centre_of_pressure_m).all()
    assert grf.clipped_frames == 0

    # Had a foot been (wrongly) declared in contact, Newton's law itself gives no force: m (a − g) = 0.
    wrong = estimate_ground_reaction(seq, MODEL, _all_contact(n, fps), up=up)
    np.testing.assert_allclose(wrong.total_n, 0.0, atol=1e-6 * WEIGHT_N)

    kinetics = inverse_dynamics(seq, MODEL, grf, up=up)
    for joint in JOINTS:
        np.testing.assert_allclose(kinetics[joint].force_n, 0.0, atol=1e-7, err_msg=joint)
        np.testing.assert_allclose(kinetics[joint].moment_n_m, 0.0, atol=1e-7, err_msg=joint)
        np.testing.assert_allclose(kinetics[joint].power_w, 0.0, atol=1e-9, err_msg=joint)


def test_a_fall_faster_than_gravity_in_contact_is_clipped_and_counted() -> None:
    fps, n = 100.0, 30
    seq = sequence_of(projectile(n, fps, g=1.5 * G), fps)
    grf = estimate_ground_reaction(seq, MODEL, _all_contact(n, fps), up=UP)
    assert grf.clipped_frames == n
    assert np.array_equal(grf.total_n, np.zeros((n, 3)))
    assert grf.known.all()


# --- quiet standing ----------------------------------------------------------------------------------------------


def _sagittal_static_moment(
    joint_x: float, cop_x: float, grf_z: float, masses_at_x: list[tuple[float, float]]
) -> float:
    """Internal moment on the distal part about the athlete's right axis, statics in the x-z plane, by hand.

    Moment of a vertical force F_z at x about the joint, along the right axis (−y): (x − x_j) F_z. The joint's
    moment cancels the ground reaction's and the segments' weights'.
    """
    external = (cop_x - joint_x) * grf_z - sum((x - joint_x) * m * G for m, x in masses_at_x)
    return -external


@pytest.mark.parametrize("lean_deg", [0.0, 4.0, -2.0])
def test_quiet_standing_carries_body_weight_and_hand_computed_moments(lean_deg: float) -> None:
    n = 12
    seq = still(leaning_pose(np.radians(lean_deg)), n)
    contacts = detect_foot_contacts(seq, up=UP)
    assert contacts.in_contact.all()
    assert contacts.known.all()
    grf = estimate_ground_reaction(seq, MODEL, contacts, up=UP)
    np.testing.assert_allclose(grf.total_n, np.tile([0.0, 0.0, WEIGHT_N], (n, 1)), rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(grf.per_foot_n[:, :, 2], WEIGHT_N / 2, rtol=1e-12)
    assert grf.clipped_frames == 0
    assert grf.known.all()
    assert "estimated from video" in grf.note

    # Flat feet: the centre of pressure lies under the whole-body COM (inside the foot for these leans).
    com_x = whole_body_com(seq, MODEL)[0, 0]
    assert -0.05 < com_x < 0.15
    np.testing.assert_allclose(grf.centre_of_pressure_m[0, :, 0], com_x, atol=1e-12)
    np.testing.assert_allclose(grf.centre_of_pressure_m[0, :, 2], 0.0, atol=1e-12)

    kinetics = inverse_dynamics(seq, MODEL, grf, up=UP)
    coms, masses = segment_com(seq, MODEL), MODEL.segment_masses_kg
    for side in ("left", "right"):
        below = []
        for joint, segment, sign in (("ankle", "foot", -1.0), ("knee", "shank", 1.0), ("hip", "thigh", -1.0)):
            below.append((masses[f"{side}_{segment}"], coms[f"{side}_{segment}"][0, 0]))
            joint_x = seq.joint(f"{side}_{joint}")[0, 0]
            expected = sign * _sagittal_static_moment(joint_x, com_x, WEIGHT_N / 2, below)
            result = kinetics[f"{side}_{joint}"]
            np.testing.assert_allclose(result.flexion_moment_n_m, expected, atol=1e-9, err_msg=f"{side}_{joint}")
            np.testing.assert_allclose(result.moment_n_m @ RIGHT, sign * expected, atol=1e-9)
            carried_weight_n = sum(m for m, _ in below) * G
            np.testing.assert_allclose(
                result.force_n, np.tile([0, 0, carried_weight_n - WEIGHT_N / 2], (n, 1)), atol=1e-9
            )
            np.testing.assert_allclose(result.power_w, 0.0, atol=1e-12)


def test_a_leg_turned_out_keeps_its_knee_and_ankle_moments_about_its_own_hinge() -> None:
    # Lean forward (the ground force ahead of the ankles), then turn the left leg 30° outwards about the vertical
    # through its hip: the feet stay flat, the knee straight. The knee and ankle hinge turns with the leg, so the
    # flexion moments are the leg's own statics along its foot line (d), not along the body's forward axis.
    turn_rad = np.radians(30.0)
    pose = leaning_pose(np.radians(4.0))
    leg = ("left_knee", "left_ankle", "left_heel", "left_foot_index")
    pose = rotated(pose, leg, pose[index("left_hip")], turn_rad * UP)
    seq = still(pose, 8)
    grf = estimate_ground_reaction(seq, MODEL, _all_contact(8, 100.0), up=UP)
    np.testing.assert_allclose(grf.total_n[:, :2], 0.0, atol=1e-9)  # quiet standing: vertical forces only
    kinetics = inverse_dynamics(seq, MODEL, grf, up=UP)
    d = np.array([np.cos(turn_rad), np.sin(turn_rad), 0.0])  # the left foot's heel → toe direction
    coms, masses = segment_com(seq, MODEL), MODEL.segment_masses_kg
    cop, force = grf.centre_of_pressure_m[0, 0] @ d, grf.per_foot_n[0, 0, 2]
    below: list[tuple[float, float]] = []
    for joint, segment, sign in (("ankle", "foot", -1.0), ("knee", "shank", 1.0)):
        below.append((masses[f"left_{segment}"], coms[f"left_{segment}"][0] @ d))
        expected = sign * _sagittal_static_moment(seq.joint(f"left_{joint}")[0] @ d, cop, force, below)
        result = kinetics[f"left_{joint}"]
        assert abs(expected) > 2.0
        np.testing.assert_allclose(result.flexion_moment_n_m, expected, atol=1e-9, err_msg=joint)
        # About the body's own right axis the moment would read differently (cos 30° plus a frontal part).
        assert abs(sign * result.moment_n_m[0] @ RIGHT - expected) > 0.05 * abs(expected), joint
        assert "leg plane" in result.convention


def test_the_leg_plane_axis_points_right_and_is_unknown_when_the_foot_lines_up_with_the_shank() -> None:
    knee, ankle = np.array([[0.0, 0.1, 0.5]] * 3), np.array([[0.0, 0.1, 0.1]] * 3)
    heel = np.array([[-0.05, 0.1, 0.0], [0.0, 0.1, 0.3], [np.nan, 0.1, 0.0]])
    toe = np.array([[0.15, 0.1, 0.0], [0.02, 0.1, 0.0], [0.15, 0.1, 0.0]])  # flat; along the shank (6°); missing
    axis = leg_plane_axis(knee, ankle, heel, toe)
    np.testing.assert_allclose(axis[0], RIGHT, atol=1e-12)
    assert np.isnan(axis[1:]).all()
    # The engine then stands the shank's mediolateral axis in (here the hip line made ⟂ the shank: RIGHT too).
    pose = standing_pose()  # the left foot's line along the shank's (a landmark error)
    pose[index("left_heel")] = pose[index("left_ankle")] + np.array([-0.05, 0.0, 0.0])
    pose[index("left_foot_index")] = pose[index("left_heel")] + np.array([0.01, 0.0, -0.2])
    seq = still(pose, 6)
    points = (seq.joint(f"left_{name}") for name in ("knee", "ankle", "heel", "foot_index"))
    assert np.isnan(leg_plane_axis(*points)).all()
    kinetics = inverse_dynamics(seq, MODEL, estimate_ground_reaction(seq, MODEL, _all_contact(6, 100.0), up=UP), up=UP)
    ankle_moment = kinetics["left_ankle"]
    assert np.isfinite(ankle_moment.flexion_moment_n_m).all()
    np.testing.assert_allclose(ankle_moment.flexion_moment_n_m, -(ankle_moment.moment_n_m @ RIGHT), atol=1e-9)


def test_leaning_forward_needs_plantarflexors_and_a_knee_flexor_moment() -> None:
    seq = still(leaning_pose(np.radians(4.0)), 8)
    grf = estimate_ground_reaction(seq, MODEL, detect_foot_contacts(seq, up=UP), up=UP)
    kinetics = inverse_dynamics(seq, MODEL, grf, up=UP)
    assert (kinetics["left_ankle"].flexion_moment_n_m > 10.0).all()  # COM ≈ 6.5 cm ahead: ≈ 343 N × 6.5 cm
    assert (kinetics["left_knee"].flexion_moment_n_m < 0.0).all()  # the ground reaction passes ahead of the knee


def test_feet_share_the_load_by_the_lever_rule_which_balances_moments() -> None:
    pose = standing_pose()
    for part in ("knee", "ankle", "heel", "foot_index"):
        pose[index(f"left_{part}"), 1] += 0.25  # a wide left stance: the COM is nearer the right foot
    n = 6
    seq = still(pose, n)
    grf = estimate_ground_reaction(seq, MODEL, _all_contact(n, 100.0), up=UP)
    com_y = whole_body_com(seq, MODEL)[0, 1]
    d_left, d_right = 0.35 - com_y, com_y + 0.10
    left_n, right_n = grf.per_foot_n[0, 0, 2], grf.per_foot_n[0, 1, 2]
    assert left_n == pytest.approx(WEIGHT_N * d_right / (d_left + d_right), rel=1e-12)
    assert left_n + right_n == pytest.approx(WEIGHT_N, rel=1e-12)
    assert left_n * d_left == pytest.approx(right_n * d_right, rel=1e-12)  # no net moment about the COM
    assert left_n < right_n


def test_one_foot_in_contact_takes_everything_and_an_unknown_foot_makes_the_share_unknown() -> None:
    n, fps = 6, 100.0
    seq = still(standing_pose(), n, fps)
    right_only = np.zeros((n, 2), dtype=bool)
    right_only[:, 1] = True
    known = np.ones((n, 2), dtype=bool)
    known[3, 0] = False
    grf = estimate_ground_reaction(seq, MODEL, contacts_of(right_only, fps=fps, known=known), up=UP)
    assert grf.known.all()  # a foot is known in contact in every frame
    np.testing.assert_allclose(grf.per_foot_n[[0, 1, 2, 4, 5], 1, 2], WEIGHT_N)
    np.testing.assert_array_equal(grf.per_foot_n[[0, 1, 2, 4, 5], 0], 0.0)
    assert np.isnan(grf.per_foot_n[3]).all()  # the left foot might carry part of it
    assert np.isnan(grf.centre_of_pressure_m[:, 0]).all()

    unknown = np.ones((n, 2), dtype=bool)
    unknown[2] = (False, True)
    airborne = estimate_ground_reaction(
        seq, MODEL, contacts_of(np.zeros((n, 2), dtype=bool), fps=fps, known=unknown), up=UP
    )
    assert airborne.known.tolist() == [True, True, False, True, True, True]
    assert np.isnan(airborne.total_n[2]).all()
    assert np.array_equal(airborne.per_foot_n[2, 1], np.zeros(3))


@pytest.mark.parametrize(("raise_m", "expected_x"), [(0.0, None), (0.05, 0.15), (-0.05, -0.05), (0.015, "half")])
def test_centre_of_pressure_moves_to_the_end_of_the_foot_that_stays_down(
    raise_m: float, expected_x: float | str | None
) -> None:
    pose = standing_pose()
    for side in ("left", "right"):
        pose[index(f"{side}_heel"), 2] += max(raise_m, 0.0)
        pose[index(f"{side}_foot_index"), 2] += max(-raise_m, 0.0)
    seq = still(pose, 5)
    grf = estimate_ground_reaction(seq, MODEL, _all_contact(5, 100.0), up=UP)
    com_x = whole_body_com(seq, MODEL)[0, 0]
    cop_x = grf.centre_of_pressure_m[0, :, 0]
    s_flat = (com_x + 0.05) / 0.20
    if expected_x is None:
        np.testing.assert_allclose(cop_x, com_x, atol=1e-12)
    elif expected_x == "half":  # half way from the flat-foot point to the toe
        s = s_flat + (raise_m / COP_TILT_BAND_M) * (1.0 - s_flat)
        np.testing.assert_allclose(cop_x, -0.05 + 0.20 * s, atol=1e-12)
    else:
        np.testing.assert_allclose(cop_x, expected_x, atol=1e-12)


# --- rigid pendulum ----------------------------------------------------------------------------------------------

_THETA0_RAD, _AMPLITUDE_RAD, _FREQUENCY_HZ = 0.3, 0.6, 1.5
_OMEGA = 2 * np.pi * _FREQUENCY_HZ


def _theta(t: NDArray[np.float64]) -> NDArray[np.float64]:
    return _THETA0_RAD + _AMPLITUDE_RAD * np.sin(_OMEGA * t)


@pytest.mark.parametrize(("side", "camera"), [("left", False), ("right", False), ("left", True)])
def test_swinging_straight_arm_matches_the_rigid_pendulum_equation(side: str, camera: bool) -> None:
    fps, n = 500.0, 400
    positions, up = swinging_arm(_theta, n, fps, side=side), UP
    if camera:
        positions, up = transform_scene(positions, CAMERA_FROM_WORLD), CAMERA_FROM_WORLD.apply(UP)
    seq = sequence_of(positions, fps, frame=CoordinateFrame.CAMERA if camera else CoordinateFrame.WORLD)
    grf = estimate_ground_reaction(seq, MODEL, _all_contact(n, fps), up=up)
    kinetics = inverse_dynamics(seq, MODEL, grf, up=up)

    # I about the shoulder by the parallel-axis theorem; the swing is about each arm segment's transverse axis.
    inertia, coms = segment_inertia(seq, MODEL), segment_com(seq, MODEL)
    shoulder = seq.joint(f"{side}_shoulder")[0]
    pivot_inertia = first_moment = 0.0
    for segment in ARM:
        part = inertia[f"{side}_{segment}"]
        distance = float(np.linalg.norm(coms[f"{side}_{segment}"][0] - shoulder))
        pivot_inertia += part.transverse_kg_m2 + part.mass_kg * distance**2
        first_moment += part.mass_kg * distance
    t = seq.timestamps_s
    theta, theta_dot = _theta(t), _AMPLITUDE_RAD * _OMEGA * np.cos(_OMEGA * t)
    alpha = -_AMPLITUDE_RAD * _OMEGA**2 * np.sin(_OMEGA * t)
    expected = pivot_inertia * alpha + first_moment * G * np.sin(theta)

    shoulder_kinetics = kinetics[f"{side}_shoulder"]
    # Central differences at h = 2 ms: relative error ≈ (Ω h)² / 12 ≈ 3e-5 on α and on the COM accelerations;
    # the two end frames use their neighbour's second difference (error ≈ h θ''' ≈ 2 % of α), so they are left out.
    interior = slice(2, -2)
    scale = float(np.abs(expected).max())
    np.testing.assert_allclose(shoulder_kinetics.flexion_moment_n_m[interior], expected[interior], atol=2e-4 * scale)
    np.testing.assert_allclose(
        shoulder_kinetics.power_w[interior], (expected * theta_dot)[interior], atol=2e-4 * scale * _OMEGA
    )
    # The arm does not bend: no power at the elbow or wrist; the other arm hangs still.
    for joint in ("elbow", "wrist"):
        np.testing.assert_allclose(kinetics[f"{side}_{joint}"].power_w, 0.0, atol=1e-9)
    other = "right" if side == "left" else "left"
    np.testing.assert_allclose(kinetics[f"{other}_shoulder"].flexion_moment_n_m, 0.0, atol=1e-9)

    # Shoulder force: the arm's weight plus m a of its COM (tangential and centripetal).
    arm_mass = sum(inertia[f"{side}_{segment}"].mass_kg for segment in ARM)
    tangent_dir = np.stack([np.cos(theta), np.zeros(n), np.sin(theta)], axis=1)  # d/dθ of (sin θ, 0, −cos θ)
    radial_dir = np.stack([np.sin(theta), np.zeros(n), -np.cos(theta)], axis=1)
    com_acceleration = first_moment * (alpha[:, None] * tangent_dir - (theta_dot**2)[:, None] * radial_dir)
    expected_force = com_acceleration + arm_mass * G * UP
    if camera:
        expected_force = CAMERA_FROM_WORLD.apply(expected_force)
    np.testing.assert_allclose(shoulder_kinetics.force_n[interior], expected_force[interior], atol=2e-4 * arm_mass * G)


def test_segment_frames_are_right_handed_and_turn_with_the_arm() -> None:
    seq = sequence_of(swinging_arm(_theta, 50, 200.0), 200.0)
    axes = segment_axes(seq, MODEL)
    for name, rotation in axes.items():
        np.testing.assert_allclose(np.linalg.det(rotation), 1.0, atol=1e-12, err_msg=name)
        np.testing.assert_allclose(rotation[:, :, 1], np.tile(RIGHT, (50, 1)), atol=1e-12, err_msg=name)
    motion = segment_motion(seq, MODEL)
    t = seq.timestamps_s[10:-10]
    theta_dot = _AMPLITUDE_RAD * _OMEGA * np.cos(_OMEGA * t)
    omega = motion["left_forearm"].angular_velocity_rad_s[10:-10]
    np.testing.assert_allclose(omega, theta_dot[:, None] * RIGHT, atol=2e-3 * _AMPLITUDE_RAD * _OMEGA)
    np.testing.assert_allclose(motion["right_forearm"].angular_velocity_rad_s, 0.0, atol=1e-12)


def test_a_spinning_body_gives_the_trunk_its_spin_about_the_long_axis() -> None:
    fps = 200.0
    positions = spinning(standing_pose(), 40, fps, omega_rad_s=1.5, axis_point_m=np.zeros(3))
    motion = segment_motion(sequence_of(positions, fps), MODEL)
    # sin(ω h) / h with ω h = 0.0075: a relative error of 1e-5.
    np.testing.assert_allclose(motion["trunk"].angular_velocity_rad_s, np.tile(1.5 * UP, (40, 1)), rtol=0, atol=2e-5)
    np.testing.assert_allclose(motion["left_thigh"].angular_acceleration_rad_s2, 0.0, atol=1e-6)


def test_an_arm_held_out_while_turning_needs_the_gyroscopic_moment() -> None:
    """A rigid arm at 45° of flexion spinning about the vertical through its shoulder: a conical motion.

    About the fixed shoulder O, M_O = dH_O/dt − Σ r × m g with dH_O/dt = ω × (I_O ω) at constant ω. With l the
    arm's long axis and a = right × l, ω = ω up has components ω sin φ along a and −ω cos φ along l, so the
    moment about the right axis is m g r sin φ − ω² sin φ cos φ (I_a,O − I_l): the spin flings the arm outwards.
    """
    fps, n, omega, phi = 400.0, 60, 3.0, np.radians(45.0)
    pose = standing_pose()
    shoulder = pose[index("left_shoulder")]
    pose = rotated(pose, tuple(f"left_{part}" for part in ARM_POINTS), shoulder, phi * RIGHT)
    seq = sequence_of(spinning(pose, n, fps, omega_rad_s=omega, axis_point_m=shoulder), fps)
    grf = estimate_ground_reaction(seq, MODEL, _all_contact(n, fps), up=UP)
    kinetics = inverse_dynamics(seq, MODEL, grf, up=UP)

    inertia, coms = segment_inertia(seq, MODEL), segment_com(seq, MODEL)
    about_a = about_l = first_moment = 0.0
    for segment in ARM:
        part = inertia[f"left_{segment}"]
        distance = float(np.linalg.norm(coms[f"left_{segment}"][0] - shoulder))
        about_a += part.sagittal_kg_m2 + part.mass_kg * distance**2
        about_l += part.longitudinal_kg_m2
        first_moment += part.mass_kg * distance
    gyroscopic = omega**2 * np.sin(phi) * np.cos(phi) * (about_a - about_l)
    expected = first_moment * G * np.sin(phi) - gyroscopic
    assert gyroscopic > 0.2 * expected  # the test means something only if the spin matters
    # Central differences on a uniform rotation: ω and the centripetal accelerations carry (ω h)² / 6 ≈ 9e-6.
    np.testing.assert_allclose(kinetics["left_shoulder"].flexion_moment_n_m[1:-1], expected, rtol=1e-4)


# --- bad input and gaps ------------------------------------------------------------------------------------------


def test_a_missing_wrist_makes_only_what_needs_it_unknown() -> None:
    fps, n, gap = 200.0, 40, 20
    positions = swinging_arm(_theta, n, fps)
    positions[gap, index("left_wrist")] = np.nan
    seq = sequence_of(positions, fps)
    grf = estimate_ground_reaction(seq, MODEL, _all_contact(n, fps), up=UP)
    # The whole-body COM needs every segment, so the force is unknown in the gap frame only.
    assert np.flatnonzero(~grf.known).tolist() == [gap]
    kinetics = inverse_dynamics(seq, MODEL, grf, up=UP)
    for joint in ("left_wrist", "left_elbow", "left_shoulder", "left_ankle", "left_knee", "left_hip"):
        missing = np.flatnonzero(np.isnan(kinetics[joint].flexion_moment_n_m))
        assert missing.tolist() == [gap], joint
    for joint in ("right_wrist", "right_elbow", "right_shoulder"):
        assert np.isfinite(kinetics[joint].flexion_moment_n_m).all(), joint


def test_fewer_than_three_frames_give_nothing_known_with_a_reason() -> None:
    seq = still(standing_pose(), 2)
    contacts = detect_foot_contacts(seq, up=UP)
    grf = estimate_ground_reaction(seq, MODEL, contacts, up=UP)
    assert not grf.known.any()
    assert grf.unavailable_reason is not None
    assert "3 frames" in grf.unavailable_reason
    kinetics = inverse_dynamics(seq, MODEL, grf, up=UP)
    assert all(np.isnan(k.flexion_moment_n_m).all() for k in kinetics.values())


def test_a_hip_centred_sequence_is_not_inertial_so_nothing_is_estimated() -> None:
    fps, n = 100.0, 10
    seq = sequence_of(projectile(n, fps), fps, frame=CoordinateFrame.HIP_CENTRED)
    grf = estimate_ground_reaction(seq, MODEL, _all_contact(n, fps), up=UP)
    assert not grf.known.any()
    assert grf.unavailable_reason is not None
    assert "hip-centred" in grf.unavailable_reason
    assert np.isnan(grf.per_foot_n).all()
    kinetics = inverse_dynamics(seq, MODEL, grf, up=UP)
    assert all(np.isnan(k.moment_n_m).all() and np.isnan(k.power_w).all() for k in kinetics.values())
    assert "hip-centred" in kinetics["left_elbow"].convention


def test_arguments_are_checked() -> None:
    seq = still(standing_pose(), 5)
    contacts = _all_contact(5, 100.0)
    with pytest.raises(InvalidInputError, match="unit"):
        estimate_ground_reaction(seq, MODEL, contacts, up=(0.0, 0.0, 2.0))
    with pytest.raises(InvalidInputError, match="same 4 frames"):
        estimate_ground_reaction(seq[:4], MODEL, contacts, up=UP)
    with pytest.raises(InvalidInputError, match="gravity"):
        estimate_ground_reaction(seq, MODEL, contacts, up=UP, gravity_m_s2=-9.8)
    grf = estimate_ground_reaction(seq, MODEL, contacts, up=UP)
    with pytest.raises(InvalidInputError, match="same 4 frames"):
        inverse_dynamics(seq[:4], MODEL, grf, up=UP)
    pixels = seq.replace(frame=CoordinateFrame.IMAGE)
    with pytest.raises(InvalidPoseDataError, match="metric"):
        inverse_dynamics(pixels, MODEL, grf, up=UP)
    with pytest.raises(InvalidInputError, match="mass_kg"):
        BodyModel.from_anthropometry(mass_kg=0.0, height_m=1.75, sex=None)


def test_joints_conventions_and_moment_per_kg() -> None:
    seq = still(standing_pose(), 5)
    kinetics = inverse_dynamics(seq, MODEL, estimate_ground_reaction(seq, MODEL, _all_contact(5, 100.0), up=UP), up=UP)
    assert list(kinetics) == list(JOINTS)
    assert len(JOINTS) == 12
    assert "plantarflexor" in kinetics["left_ankle"].convention
    assert "extensor" in kinetics["right_knee"].convention
    assert "extensor" in kinetics["left_hip"].convention
    assert "flexor" in kinetics["left_elbow"].convention
    per_kg = moment_per_kg(kinetics, MODEL.mass_kg)
    np.testing.assert_allclose(per_kg["left_ankle"], kinetics["left_ankle"].flexion_moment_n_m / 70.0)
    demo = JointKinetics("left_knee", np.zeros((1, 3)), np.zeros((1, 3)), np.array([35.0]), np.zeros(1), "demo")
    assert moment_per_kg({"left_knee": demo}, 70.0)["left_knee"].tolist() == [0.5]
    with pytest.raises(InvalidInputError, match="mass_kg"):
        moment_per_kg(kinetics, 0.0)
