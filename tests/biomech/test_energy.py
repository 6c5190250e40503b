from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.typing import NDArray

from spacecomputer.biomech import BodyModel, segment_com, segment_inertia, whole_body_com
from spacecomputer.biomech._energy import joint_work, mechanical_energy
from spacecomputer.biomech._kinetics import JointKinetics, estimate_ground_reaction, inverse_dynamics
from spacecomputer.errors import InvalidInputError

from .physics_motions import (
    UP,
    G,
    contacts_of,
    projectile,
    sequence_of,
    spinning,
    standing_pose,
    still,
    swinging_arm,
)

MODEL = BodyModel.from_anthropometry(mass_kg=70.0, height_m=1.75, sex="female")
ARM = ("left_upper_arm", "left_forearm", "left_hand")
SEGMENTS_KG = sum(MODEL.segment_masses_kg.values())
"""69.993 kg: de Leva's female mass fractions add up to 99.99 % (rounding in his table)."""


def _power(values: list[float] | NDArray[np.float64]) -> dict[str, JointKinetics]:
    power = np.asarray(values, dtype=np.float64)
    n = power.size
    return {"left_knee": JointKinetics("left_knee", np.zeros((n, 3)), np.zeros((n, 3)), np.zeros(n), power, "demo")}


# --- mechanical energy -------------------------------------------------------------------------------------------


def test_free_fall_conserves_translational_plus_potential_energy() -> None:
    fps, n = 100.0, 50
    seq = sequence_of(projectile(n, fps, vertical_m_s=3.0, forward_m_s=2.0), fps)
    energy = mechanical_energy(seq, MODEL, up=UP, ground_level_m=0.0)
    np.testing.assert_array_equal(energy.rotational_j, 0.0)
    # Central differences are exact on the parabola (the two end frames are one-sided, so left out).
    interior = slice(1, -1)
    t = seq.timestamps_s
    speed_sq = 2.0**2 + (3.0 - G * t) ** 2
    np.testing.assert_allclose(energy.translational_j[interior], (0.5 * SEGMENTS_KG * speed_sq)[interior], rtol=1e-9)
    height = whole_body_com(seq, MODEL)[:, 2]
    np.testing.assert_allclose(energy.potential_j, SEGMENTS_KG * G * height, rtol=1e-12)
    total = energy.total_j[interior]
    np.testing.assert_allclose(total, total[0], rtol=1e-9)
    assert np.ptp(energy.potential_j) > 100.0  # energy really moved between the two forms


def test_still_body_has_only_potential_energy_above_its_lowest_foot_point() -> None:
    seq = still(standing_pose() + np.array([0.0, 0.0, 0.4]), 5)  # standing on a 40 cm box
    energy = mechanical_energy(seq, MODEL, up=UP)
    com_height = whole_body_com(seq, MODEL)[0, 2] - 0.4
    np.testing.assert_allclose(energy.potential_j, SEGMENTS_KG * G * com_height, rtol=1e-12)
    np.testing.assert_allclose(energy.translational_j, 0.0, atol=1e-20)  # timestamps' rounding only
    np.testing.assert_allclose(energy.rotational_j, 0.0, atol=1e-20)
    np.testing.assert_allclose(sum(energy.per_segment.values()), energy.total_j, rtol=1e-12)

    on_the_floor = mechanical_energy(seq, MODEL, up=UP, ground_level_m=0.0)
    np.testing.assert_allclose(on_the_floor.potential_j - energy.potential_j, SEGMENTS_KG * G * 0.4, rtol=1e-12)
    ground = np.array([0.0, 0.0, np.nan, 0.0, 0.0])
    gappy = mechanical_energy(seq, MODEL, up=UP, ground_level_m=ground)
    assert np.flatnonzero(np.isnan(gappy.total_j)).tolist() == [2]


def test_pure_rotation_gives_half_i_omega_squared() -> None:
    fps, n, omega = 200.0, 30, 2.0
    axis = np.array([0.03, -0.02, 0.0])
    seq = sequence_of(spinning(standing_pose(), n, fps, omega_rad_s=omega, axis_point_m=axis), fps)
    energy = mechanical_energy(seq, MODEL, up=UP, ground_level_m=0.0)
    # Upright: every segment's long axis is vertical except the flat feet, whose vertical is their sagittal axis.
    inertia, coms = segment_inertia(seq, MODEL), segment_com(seq, MODEL)
    about_vertical = sum(
        part.sagittal_kg_m2 if name.endswith("foot") else part.longitudinal_kg_m2 for name, part in inertia.items()
    )
    off_axis = sum(part.mass_kg * np.sum((coms[name][0, :2] - axis[:2]) ** 2) for name, part in inertia.items())
    # Central differences on a circle: speeds read sin(ω h)/(ω h) of the truth, energies (ω h)²/3 ≈ 3e-5 low.
    np.testing.assert_allclose(energy.rotational_j, 0.5 * about_vertical * omega**2, rtol=1e-4)
    np.testing.assert_allclose(energy.translational_j, 0.5 * off_axis * omega**2, rtol=1e-4)
    np.testing.assert_allclose(energy.potential_j, energy.potential_j[0], rtol=1e-12)


def test_swinging_arm_kinetic_energy_is_half_i_pivot_theta_dot_squared() -> None:
    fps, n, amplitude, omega = 500.0, 300, 0.5, 2 * np.pi * 1.2
    seq = sequence_of(swinging_arm(lambda t: amplitude * np.sin(omega * t), n, fps), fps)
    energy = mechanical_energy(seq, MODEL, up=UP)
    inertia, coms = segment_inertia(seq, MODEL), segment_com(seq, MODEL)
    shoulder = seq.joint("left_shoulder")[0]
    pivot = sum(inertia[s].transverse_kg_m2 + inertia[s].mass_kg * np.sum((coms[s][0] - shoulder) ** 2) for s in ARM)
    theta_dot = amplitude * omega * np.cos(omega * seq.timestamps_s)
    kinetic = energy.translational_j + energy.rotational_j
    interior = slice(1, -1)
    expected = 0.5 * pivot * theta_dot**2
    np.testing.assert_allclose(kinetic[interior], expected[interior], atol=1e-4 * expected.max())


def test_net_shoulder_work_equals_the_arms_energy_change() -> None:
    """Work–energy theorem: with the shoulder still, only the shoulder moment does work on the arm."""
    fps, n = 500.0, 400
    seq = sequence_of(swinging_arm(lambda t: 0.2 + 0.7 * np.sin(2 * np.pi * t) * t, n, fps), fps)
    contacts = contacts_of(np.ones((n, 2), dtype=bool), fps=fps)
    kinetics = inverse_dynamics(seq, MODEL, estimate_ground_reaction(seq, MODEL, contacts, up=UP), up=UP)
    energy = mechanical_energy(seq, MODEL, up=UP)
    arm_energy = sum(energy.per_segment[s] for s in ARM)
    first, last = 2, n - 3  # leave out the end frames' one-sided derivatives
    shoulder = kinetics["left_shoulder"]
    power = np.full(n, np.nan)
    power[first : last + 1] = shoulder.power_w[first : last + 1]
    positive, negative = joint_work(_power(power), seq.timestamps_s)["left_knee"]
    assert positive.value is not None
    assert negative.value is not None
    assert positive.value > 0.5
    assert negative.value < -0.5
    swing = float(np.ptp(arm_energy))
    assert positive.value + negative.value == pytest.approx(arm_energy[last] - arm_energy[first], abs=1e-3 * swing)


def test_ground_level_of_the_wrong_shape_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="ground_level_m"):
        mechanical_energy(still(standing_pose(), 5), MODEL, up=UP, ground_level_m=np.zeros(4))
    with pytest.raises(InvalidInputError, match="unit"):
        mechanical_energy(still(standing_pose(), 5), MODEL, up=(0.0, 0.0, 0.5))


# --- joint work --------------------------------------------------------------------------------------------------


def test_work_of_a_sine_power_is_plus_and_minus_a_over_pi() -> None:
    t = np.linspace(0.0, 2.0, 801)  # one period of 2 s
    positive, negative = joint_work(_power(30.0 * np.sin(np.pi * t)), t)["left_knee"]
    assert positive.name == "left_knee_positive_work_j"
    assert positive.unit == "J"
    # ∫ over the positive half of 30 sin(π t) = 60/π; the interpolant's error is O(h²) ≈ 1e-5 relative.
    assert positive.value == pytest.approx(60.0 / np.pi, rel=1e-4)
    assert negative.value == pytest.approx(-60.0 / np.pi, rel=1e-4)


def test_work_skips_intervals_that_touch_a_gap() -> None:
    positive, negative = joint_work(_power([10.0, 10.0, np.nan, 10.0, 10.0]), [0.0, 1.0, 2.0, 3.0, 4.0])["left_knee"]
    assert positive.value == pytest.approx(20.0)
    assert negative.value == 0.0


def test_work_without_two_known_consecutive_powers_is_unavailable() -> None:
    positive, negative = joint_work(_power([1.0, np.nan, 1.0]), [0.0, 0.1, 0.2])["left_knee"]
    assert not positive.available
    assert not negative.available
    assert positive.reason is not None
    assert positive.value is None
    with pytest.raises(InvalidInputError, match="timestamps_s"):
        joint_work(_power([1.0, 2.0, 3.0]), [0.0, 0.1, 0.1])
    with pytest.raises(InvalidInputError, match="must match"):
        joint_work(_power([1.0, 2.0, 3.0]), [0.0, 0.1])


@settings(max_examples=60, deadline=None)
@given(
    power=arrays(
        np.float64,
        st.integers(2, 30),
        elements=st.one_of(st.floats(-1e3, 1e3), st.just(np.nan)),
    ),
    dt=st.floats(0.001, 0.1),
)
def test_positive_and_negative_work_split_the_trapezoid_integral(power: NDArray[np.float64], dt: float) -> None:
    t = np.arange(power.size) * dt
    positive, negative = joint_work(_power(power), t)["left_knee"]
    pairs = [(power[i], power[i + 1]) for i in range(power.size - 1) if np.isfinite(power[i] + power[i + 1])]
    if not pairs:
        assert not positive.available
        return
    assert positive.value is not None
    assert negative.value is not None
    assert positive.value >= 0.0
    assert negative.value <= 0.0
    trapezoid = sum(0.5 * (a + b) * dt for a, b in pairs)
    assert positive.value + negative.value == pytest.approx(
        trapezoid, abs=1e-9 * (1.0 + sum(abs(a) + abs(b) for a, b in pairs) * dt)
    )
