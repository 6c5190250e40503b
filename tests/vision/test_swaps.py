from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.typing import NDArray

from spacecomputer.domain._frames import CoordinateFrame
from spacecomputer.domain._pose_sequence import PoseFlag, PoseSequence
from spacecomputer.domain._skeleton import BLAZEPOSE_33
from spacecomputer.errors import InvalidPoseDataError
from spacecomputer.vision._swaps import SwapState, correct_left_right_swaps
from tests.vision._sample_tracking import FPS, TrackedVideo, track_sample_video

SK = BLAZEPOSE_33
LEGS = [
    SK.index(f"{side}_{name}") for side in ("left", "right") for name in ("hip", "knee", "ankle", "heel", "foot_index")
]
ARMS = [
    SK.index(f"{side}_{name}")
    for side in ("left", "right")
    for name in ("shoulder", "elbow", "wrist", "pinky", "index", "thumb")
]
PAIRED = sorted({j for pair in SK.left_right_pairs for j in pair})


# --- left/right swap correction on synthetic walking ----------------------------------------------


def _walk(
    n_frames: int = 60, *, period_frames: float = 30.0, phase: float = 0.0, depth: bool = True, seed: int = 0
) -> tuple[PoseSequence, PoseSequence]:
    """A side view of a person walking right at 1.2 m/s: legs and arms swing and cross in the image.

    World: hip-centred metres, the left side 0.09 m (hips) to 0.18 m (shoulders) further from the camera
    (``depth=False`` puts every landmark at z = 0, leaving only the image to tell the legs apart). Image:
    300 px per metre. Small seeded noise; the far (left) side is less visible.
    """
    phi = 2.0 * np.pi * np.arange(n_frames) / period_frames + phase
    world = np.zeros((n_frames, SK.n_joints, 3))

    def put(name: str, xyz: NDArray[np.float64]) -> None:
        world[:, SK.index(name)] = xyz

    def column(x: object, y: object, z: float) -> NDArray[np.float64]:
        return np.stack(np.broadcast_arrays(np.asarray(x, float), np.asarray(y, float), np.full(n_frames, z)), 1)

    bob = 0.02 * np.cos(2.0 * phi)
    for side, sign in (("left", 1.0), ("right", -1.0)):
        swing = np.sin(phi) * sign
        knee_flex = 0.15 + 0.35 * (1.0 + np.cos(phi + (0.0 if sign > 0 else np.pi))) / 2.0
        hip = column(0.0, bob, 0.09 * sign)
        knee = hip + 0.44 * column(np.sin(0.45 * swing), np.cos(0.45 * swing), 0.0)
        ankle = knee + 0.42 * column(np.sin(0.45 * swing - knee_flex), np.cos(0.45 * swing - knee_flex), 0.0)
        shoulder = column(0.03, bob - 0.5, 0.18 * sign)
        elbow = shoulder + 0.30 * column(np.sin(-0.35 * swing), np.cos(-0.35 * swing), 0.0)
        wrist = elbow + 0.26 * column(np.sin(-0.35 * swing + 0.25), np.cos(-0.35 * swing + 0.25), 0.0)
        hand = {"pinky": (0.02, 0.08, 0.01), "index": (0.04, 0.08, 0.0), "thumb": (0.04, 0.04, -0.02)}
        limbs = {
            "hip": hip,
            "knee": knee,
            "ankle": ankle,
            "shoulder": shoulder,
            "elbow": elbow,
            "wrist": wrist,
        }
        limbs |= {"heel": ankle + column(-0.06, 0.04, 0.0), "foot_index": ankle + column(0.16, 0.06, 0.0)}
        limbs |= {name: wrist + column(*offset) for name, offset in hand.items()}
        for name, xyz in limbs.items():
            put(f"{side}_{name}", xyz)
        for name, offset in (("eye_inner", (0.11, -0.70, 0.015)), ("eye", (0.10, -0.70, 0.035)),
                             ("eye_outer", (0.09, -0.70, 0.05)), ("ear", (0.0, -0.68, 0.08))):  # fmt: skip
            put(f"{side}_{name}", column(offset[0], bob + offset[1], offset[2] * sign))
        put(f"mouth_{side}", column(0.10, bob - 0.63, 0.025 * sign))
    put("nose", column(0.12, bob - 0.68, 0.0))
    if not depth:
        world[:, :, 2] = 0.0
    rng = np.random.default_rng(seed)
    world += rng.normal(scale=0.0015, size=world.shape)
    image = 300.0 * world
    image[:, :, 0] += 150.0 + 12.0 * np.arange(n_frames)[:, None]
    image[:, :, 1] += 600.0
    image[:, :, :2] += rng.normal(scale=0.5, size=image[:, :, :2].shape)
    confidence = np.where(np.isin(np.arange(SK.n_joints), [j for j, _ in SK.left_right_pairs]), 0.6, 0.95)
    common = {
        "confidence": np.tile(confidence, (n_frames, 1)),
        "timestamps_s": np.arange(n_frames) / FPS,
        "fps": FPS,
    }
    return (
        PoseSequence(positions=image, frame=CoordinateFrame.IMAGE, **common),  # type: ignore[arg-type]
        PoseSequence(positions=world, frame=CoordinateFrame.HIP_CENTRED, **common),  # type: ignore[arg-type]
    )


def _exchange(seq: PoseSequence, frames: range | list[int], joints: list[int]) -> PoseSequence:
    """What the estimator does: left and right exchanged for ``joints`` (both sides listed) on ``frames``."""
    perm = np.arange(SK.n_joints)
    mirror = np.asarray(SK.mirror_permutation)
    perm[joints] = mirror[joints]
    positions, confidence = seq.positions.copy(), seq.confidence.copy()
    rows = np.asarray(list(frames), dtype=np.intp)
    positions[rows] = seq.positions[rows][:, perm]
    confidence[rows] = seq.confidence[rows][:, perm]
    return seq.replace(positions=positions, confidence=confidence)


def _expected_flags(n_frames: int, swaps: Sequence[tuple[range | list[int], list[int]]]) -> NDArray[np.uint8]:
    flags = np.zeros((n_frames, SK.n_joints), dtype=np.uint8)
    for frames, joints in swaps:
        flags[np.ix_(list(frames), joints)] = PoseFlag.SWAP_CORRECTED
    return flags


def test_restores_swapped_legs_and_arms_exactly() -> None:
    image, world = _walk()
    swaps = [(range(10, 15), LEGS), (range(30, 32), ARMS)]
    bad_image, bad_world = image, world
    for frames, joints in swaps:
        bad_image, bad_world = _exchange(bad_image, frames, joints), _exchange(bad_world, frames, joints)

    result = correct_left_right_swaps(bad_image, bad_world)

    np.testing.assert_array_equal(result.image.positions, image.positions)
    np.testing.assert_array_equal(result.world.positions, world.positions)
    np.testing.assert_array_equal(result.image.confidence, image.confidence)
    np.testing.assert_array_equal(result.image.flags, _expected_flags(60, swaps))
    np.testing.assert_array_equal(result.world.flags, _expected_flags(60, swaps))
    assert result.report() == {"legs": list(range(10, 15)), "arms": [30, 31], "whole_body": []}
    assert result.n_corrected_frames == 7
    assert result.image.metadata["swap_corrected_frames"] == 7


def test_restores_a_whole_body_swap() -> None:
    image, world = _walk(phase=1.0)
    bad_image, bad_world = _exchange(image, range(40, 43), PAIRED), _exchange(world, range(40, 43), PAIRED)
    result = correct_left_right_swaps(bad_image, bad_world)
    np.testing.assert_array_equal(result.image.positions, image.positions)
    assert result.frames(SwapState.WHOLE_BODY).tolist() == [40, 41, 42]
    np.testing.assert_array_equal(result.image.flags, _expected_flags(60, [(range(40, 43), PAIRED)]))


@pytest.mark.parametrize("depth", [True, False])
@pytest.mark.parametrize("phase", [0.0, 0.8, 2.0])
def test_walking_legs_that_really_cross_are_left_alone(depth: bool, phase: float) -> None:
    # In this side view the feet pass each other every half stride (x of left and right ankle cross).
    image, world = _walk(90, phase=phase, depth=depth, seed=3)
    ankles_dx = image.joint("left_ankle")[:, 0] - image.joint("right_ankle")[:, 0]
    assert np.count_nonzero(np.diff(np.sign(ankles_dx))) >= 4
    result = correct_left_right_swaps(image, world)
    assert result.n_corrected_frames == 0
    assert result.image is image
    assert result.world is world


def test_world_without_landmarks_still_corrects_from_the_image() -> None:
    image, world = _walk()
    world = world.replace(positions=np.full_like(world.positions, np.nan), confidence=np.zeros_like(world.confidence))
    result = correct_left_right_swaps(_exchange(image, range(20, 24), LEGS), world)
    assert result.frames(SwapState.LEGS).tolist() == [20, 21, 22, 23]
    np.testing.assert_array_equal(result.image.positions, image.positions)


def test_missing_frames_inside_a_swap_stay_missing_and_unflagged() -> None:
    image, world = _walk()
    gone = image.positions.copy()
    gone[[12, 13]] = np.nan
    bad_image = _exchange(image.replace(positions=gone), range(10, 16), LEGS)
    bad_world = _exchange(world, range(10, 16), LEGS)
    result = correct_left_right_swaps(bad_image, bad_world)
    assert result.frames(SwapState.LEGS).tolist() == [10, 11, 14, 15]
    assert np.isnan(result.image.positions[[12, 13]]).all()
    np.testing.assert_array_equal(result.image.positions[14:16], image.positions[14:16])


def test_another_person_after_a_jump_is_not_compared() -> None:
    # The second half is someone else, far away, with left and right the other way round throughout:
    # nothing links the halves, so each keeps its labels.
    image, world = _walk()
    positions = image.positions.copy()
    positions[30:, :, 0] += 1500.0
    mirrored = _exchange(image.replace(positions=positions), range(30, 60), PAIRED)
    result = correct_left_right_swaps(mirrored, _exchange(world, range(30, 60), PAIRED))
    assert result.n_corrected_frames == 0


def test_sequence_frame_indices_are_reported() -> None:
    image, world = _walk(20)
    image, world = (
        image.replace(frame_indices=np.arange(100, 120)),
        world.replace(frame_indices=np.arange(100, 120)),
    )
    result = correct_left_right_swaps(_exchange(image, [5, 6], ARMS), _exchange(world, [5, 6], ARMS))
    assert result.report()["arms"] == [105, 106]


@pytest.mark.parametrize("case", ["frames", "image_metric", "world_pixels"])
def test_rejects_mismatched_sequences(case: str) -> None:
    image, world = _walk(10)
    if case == "frames":
        world = world[:9]
    elif case == "image_metric":
        image = world
    else:
        world = image
    with pytest.raises(InvalidPoseDataError, match="image"):
        correct_left_right_swaps(image, world)


@settings(max_examples=40, deadline=None)
@given(
    group=st.sampled_from([SwapState.LEGS, SwapState.ARMS, SwapState.WHOLE_BODY]),
    start=st.integers(0, 55),
    length=st.integers(1, 5),
    phase=st.floats(0.0, 2.0 * np.pi),
    period_frames=st.floats(24.0, 40.0),
)
def test_any_short_swap_is_put_back(
    group: SwapState, start: int, length: int, phase: float, period_frames: float
) -> None:
    image, world = _walk(phase=phase, period_frames=period_frames)
    joints = {SwapState.LEGS: LEGS, SwapState.ARMS: ARMS, SwapState.WHOLE_BODY: PAIRED}[group]
    frames = range(start, min(start + length, 60))
    result = correct_left_right_swaps(_exchange(image, frames, joints), _exchange(world, frames, joints))
    assert result.frames(group).tolist() == list(frames)
    assert result.n_corrected_frames == len(frames)
    np.testing.assert_array_equal(result.image.positions, image.positions)
    np.testing.assert_array_equal(result.world.positions, world.positions)


_positions = arrays(
    np.float64,
    st.tuples(st.integers(1, 8), st.just(SK.n_joints), st.just(3)),
    elements=st.one_of(st.floats(-1e3, 1e3), st.just(np.nan)),
)


@settings(max_examples=60, deadline=None)
@given(image_px=_positions, data=st.data())
def test_output_is_always_a_per_frame_relabelling_of_the_input(
    image_px: NDArray[np.float64], data: st.DataObject
) -> None:
    n_frames = image_px.shape[0]
    world_m = data.draw(arrays(np.float64, image_px.shape, elements=st.one_of(st.floats(-2, 2), st.just(np.nan))))
    common = {
        "confidence": np.full((n_frames, SK.n_joints), 0.5),
        "timestamps_s": np.arange(n_frames) / FPS,
        "fps": FPS,
    }
    image = PoseSequence(positions=image_px, frame=CoordinateFrame.IMAGE, **common)  # type: ignore[arg-type]
    world = PoseSequence(positions=world_m, frame=CoordinateFrame.HIP_CENTRED, **common)  # type: ignore[arg-type]

    result = correct_left_right_swaps(image, world)

    groups = {SwapState.NONE: [], SwapState.LEGS: LEGS, SwapState.ARMS: ARMS, SwapState.WHOLE_BODY: PAIRED}
    for t, state in enumerate(result.states):
        joints = groups[SwapState(state)]
        expected = _exchange(image[t : t + 1], [0], joints) if joints else image[t : t + 1]
        np.testing.assert_array_equal(result.image.positions[t], expected.positions[0])
        flagged = np.flatnonzero(result.image.flags[t] & PoseFlag.SWAP_CORRECTED)
        assert flagged.tolist() == sorted(joints)


# --- on the sample video, tracked by AthleteTracker ------------------------------------------------


@pytest.fixture(scope="module")
def tracked_sample_video() -> TrackedVideo:
    return track_sample_video()


@pytest.mark.slow
def test_real_video_swaps_are_few_and_reported(tracked_sample_video: TrackedVideo) -> None:
    # Checked by eye: facing the camera in jumping jacks, BlazePose mirrors the arms on frame 67, the
    # whole body on 68-71 and still the legs on 72.
    image, world = tracked_sample_video.image, tracked_sample_video.world
    result = correct_left_right_swaps(image, world)
    detected = int(image.detected.sum())
    assert 0 < result.n_corrected_frames <= 0.1 * detected
    assert {68, 69, 70, 71} <= set(result.frames(SwapState.WHOLE_BODY).tolist())
    assert 67 in result.frames(SwapState.ARMS)
    assert 72 in result.frames(SwapState.LEGS)
    assert sum(len(frames) for frames in result.report().values()) == result.n_corrected_frames
    flagged_frames = (result.image.flags & PoseFlag.SWAP_CORRECTED).any(axis=1)
    np.testing.assert_array_equal(flagged_frames, result.states != SwapState.NONE)
