"""Per-sequence caching: one computation per sequence, shared results that no caller can change."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

from spacecomputer.biomech._body_model import (
    BodyModel,
    head_segment_length_m,
    segment_com,
    segment_endpoints,
    segment_lengths_m,
    whole_body_com,
)
from spacecomputer.biomech._events import detect_foot_contacts
from spacecomputer.biomech._kinematics import joint_angles, segment_angles
from spacecomputer.biomech._memo import per_sequence
from spacecomputer.biomech._segment_motion import segment_axes, segment_motion
from spacecomputer.domain import PoseSequence

from .gait_motions import UP, gait

MODEL = BodyModel.from_anthropometry(mass_kg=70.0, height_m=1.75, sex=None)


def _walk(seed: int = 0) -> PoseSequence:
    walk, _ = gait(fps=60.0, duration_s=1.0)
    noise = np.random.default_rng(seed).normal(0.0, 0.004, walk.positions.shape)
    return walk.replace(positions=walk.positions + noise)


def test_a_result_is_computed_once_per_sequence_and_argument() -> None:
    calls: list[int] = []

    @per_sequence
    def frames_times(sequence: PoseSequence, factor: int) -> int:
        calls.append(factor)
        return sequence.n_frames * factor

    walk, other = _walk(), _walk()
    assert frames_times(walk, 2) == frames_times(walk, 2) == 2 * walk.n_frames
    assert frames_times(walk, 3) == 3 * walk.n_frames
    assert frames_times(other, 2) == 2 * other.n_frames  # an equal but distinct sequence is its own entry
    assert calls == [2, 3, 2]


def test_the_cache_lets_go_of_a_sequence_and_its_results() -> None:
    walk = _walk()
    com = whole_body_com(walk, MODEL)
    for stage in (segment_motion(walk, MODEL), joint_angles(walk, up=UP), segment_angles(walk, up=UP)):
        assert stage
    assert detect_foot_contacts(walk, up=UP).known.any()
    sequence_gone, com_gone = weakref.ref(walk), weakref.ref(com)
    del walk, com
    gc.collect()
    assert sequence_gone() is None  # no cached result holds on to its own sequence
    assert com_gone() is None


def test_shared_stages_reuse_one_computation() -> None:
    walk = _walk()
    assert whole_body_com(walk, MODEL) is whole_body_com(walk, MODEL)
    assert segment_motion(walk, MODEL) is segment_motion(walk, MODEL)
    assert segment_endpoints(walk, MODEL.segments[0])[0] is segment_endpoints(walk, MODEL.segments[0])[0]
    angles = joint_angles(walk, up=UP)
    assert angles["left_knee_flexion"] is joint_angles(walk, up=UP)["left_knee_flexion"]
    assert detect_foot_contacts(walk, up=UP) is detect_foot_contacts(walk, up=UP)
    # Different tuning or up is another computation, with its own result.
    assert detect_foot_contacts(walk, up=UP, height_threshold_m=0.01) is not detect_foot_contacts(walk, up=UP)
    tilted = joint_angles(walk, up=np.array([0.0, 0.6, 0.8]))["trunk_flexion"].values_deg
    assert not np.allclose(tilted, angles["trunk_flexion"].values_deg, equal_nan=True)


def test_shared_arrays_are_read_only() -> None:
    walk = _walk()
    motion = segment_motion(walk, MODEL)["left_shank"]
    contacts = detect_foot_contacts(walk, up=UP)
    arrays = [
        whole_body_com(walk, MODEL),
        segment_com(walk, MODEL)["trunk"],
        *segment_endpoints(walk, MODEL.segment("head")),
        segment_axes(walk, MODEL)["left_foot"],
        motion.axes,
        motion.com_velocity_m_s,
        motion.angular_velocity_rad_s,
        motion.angular_momentum_rate_n_m,
        motion.rotational_energy_j,
        joint_angles(walk, up=UP)["right_hip_flexion"].values_deg,
        segment_angles(walk, up=UP)["trunk"].values_deg,
        contacts.in_contact,
        contacts.known,
        contacts.ground_level_m,
    ]
    for array in arrays:
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 0.0


def test_a_returned_dict_is_the_callers_own() -> None:
    walk = _walk()
    coms, lengths, angles = segment_com(walk, MODEL), segment_lengths_m(walk, MODEL), joint_angles(walk, up=UP)
    coms.clear()
    lengths["trunk"] = -1.0
    del angles["left_knee_flexion"]
    assert "trunk" in segment_com(walk, MODEL)
    assert segment_lengths_m(walk, MODEL)["trunk"] > 0
    assert "left_knee_flexion" in joint_angles(walk, up=UP)


def test_cached_results_equal_a_fresh_computation_on_a_copy() -> None:
    walk = _walk()
    first = (whole_body_com(walk, MODEL), head_segment_length_m(walk), segment_motion(walk, MODEL))
    copy = walk.replace(positions=walk.positions.copy())
    np.testing.assert_array_equal(first[0], whole_body_com(copy, MODEL))
    assert first[1] == head_segment_length_m(copy)
    np.testing.assert_array_equal(
        first[2]["right_forearm"].angular_velocity_rad_s,
        segment_motion(copy, MODEL)["right_forearm"].angular_velocity_rad_s,
    )


def test_spin_terms_computed_for_all_segments_match_the_inertia_tensor() -> None:
    walk = _walk(seed=1)
    for name, motion in segment_motion(walk, MODEL).items():
        inertia = motion.inertia_kg_m2  # R diag(I) Rᵀ by matrix products: another route to the same numbers
        omega, alpha = motion.angular_velocity_rad_s, motion.angular_acceleration_rad_s2
        spin = np.einsum("tij,tj->ti", inertia, omega)
        rate = np.einsum("tij,tj->ti", inertia, alpha) + np.cross(omega, spin)
        energy = 0.5 * np.einsum("ti,ti->t", omega, spin)
        scale = np.nanmax(np.abs(rate))
        np.testing.assert_allclose(motion.angular_momentum_rate_n_m, rate, rtol=0, atol=1e-12 * scale, err_msg=name)
        np.testing.assert_allclose(motion.rotational_energy_j, energy, rtol=1e-12, atol=1e-15, err_msg=name)
