"""Put back the pose estimator's left/right swaps, offline, over a whole sequence.

:func:`correct_left_right_swaps` finds the frames where BlazePose exchanged the left and right legs,
arms or whole body (side views, overlapping limbs) and exchanges them back; :class:`SwapCorrection`
says where, with a :class:`SwapState` for each frame.

Torso length: mid-hip to mid-shoulder distance, the same whichever side is labelled left.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
from numpy.typing import NDArray

from spacecomputer.domain._pose_sequence import PoseFlag, PoseSequence
from spacecomputer.domain._skeleton import Skeleton
from spacecomputer.errors import InvalidPoseDataError

__all__ = ["SwapCorrection", "SwapState", "correct_left_right_swaps"]


class SwapState(IntEnum):
    """Which left/right exchange was put back in a frame."""

    NONE = 0
    LEGS = 1
    """Hips, knees, ankles, heels and feet."""
    ARMS = 2
    """Shoulders, elbows, wrists and hands."""
    WHOLE_BODY = 3
    """Every left/right pair, face included (also chosen when legs and arms are exchanged together)."""


_GROUP_JOINTS = {
    SwapState.LEGS: ("hip", "knee", "ankle", "heel", "foot_index"),
    SwapState.ARMS: ("shoulder", "elbow", "wrist", "pinky", "index", "thumb"),
}


@dataclass(frozen=True, eq=False)
class SwapCorrection:
    """Sequences with the estimator's left/right swaps put back, and where that was done.

    Parameters
    ----------
    image, world
        The inputs with left and right exchanged (positions, confidence and flags) in the corrected
        frames and ``PoseFlag.SWAP_CORRECTED`` set on the exchanged joints; the inputs themselves when
        nothing was corrected.
    states
        (T,) :class:`SwapState` of each frame.

    """

    image: PoseSequence
    world: PoseSequence
    states: NDArray[np.int8]

    @property
    def n_corrected_frames(self) -> int:
        """Number of frames where something was exchanged."""
        return int(np.count_nonzero(self.states))

    def frames(self, state: SwapState) -> NDArray[np.int64]:
        """Source frame indices (``image.frame_indices``) of the frames corrected with ``state``."""
        return np.asarray(self.image.frame_indices[self.states == state])

    def report(self) -> dict[str, list[int]]:
        """``{"legs": [source frame index, …], "arms": […], "whole_body": […]}``, JSON-ready."""
        return {s.name.lower(): self.frames(s).tolist() for s in SwapState if s is not SwapState.NONE}


def correct_left_right_swaps(
    image: PoseSequence,
    world: PoseSequence,
    *,
    switch_cost_torso: float = 2.0,
    swapped_frame_cost_torso: float = 0.05,
    max_jump_torso: float = 1.5,
    max_gap_frames: int = 5,
) -> SwapCorrection:
    """Put back the frames where the estimator exchanged left and right legs, arms or whole body.

    Rule (our own definition): each frame takes one :class:`SwapState`. Going from state ``p`` in one
    frame to state ``q`` in the next costs the summed displacement of the left/right-paired landmarks,
    each read through its frame's state: image x, y in image torso lengths, plus world depth z in world
    torso lengths (depth tells the near limb from the far one where they overlap in the image). A change
    of state costs ``switch_cost_torso`` more and each frame in a swapped state
    ``swapped_frame_cost_torso`` more, so the labels stay as estimated unless exchanging them clearly
    lowers the displacement: legs that really cross move continuously and are left alone. A Viterbi
    pass finds the cheapest states. Only pairs present on both sides in both frames count. Frames
    without both hips and shoulders are left as they are, and the chain is cut (each side chosen on its
    own) after more than ``max_gap_frames`` missing frames or where the mid-hip moves more than
    ``max_jump_torso`` torso lengths (another person).

    On the sample video, tracked by :class:`~spacecomputer.vision._tracking.AthleteTracker`, 11 of
    198 frames are corrected: the whole body on 4 frames of jumping jacks facing the camera and an arm
    and a leg swap either side of them (all six checked by eye), then 2 of the first, poor detections
    and 3 frames of a backflip upside down in the sun's glare.
    The result is the same for switch costs from 0.5 to 2; 2 keeps a margin on synthetic walks with
    3 px and 1 cm of noise, where 0.5 already invents swaps.

    Parameters
    ----------
    image
        Image-plane landmarks (``image`` or ``normalized`` frame), NaN where missing.
    world
        The same frames' metric landmarks (``hip_centred``), or all NaN when there are none.
    switch_cost_torso
        Cost of a change of state between compared frames, torso lengths.
    swapped_frame_cost_torso
        Cost of each frame in a swapped state, torso lengths.
    max_jump_torso
        Mid-hip motion between compared frames above which the chain is cut, torso lengths.
    max_gap_frames
        Most missing frames between two frames that are still compared.

    Returns
    -------
    SwapCorrection
        Corrected sequences and the per-frame states.

    """
    _check_pair(image, world)
    perms = _state_permutations(image.skeleton)
    states = np.zeros(image.n_frames, dtype=np.int8)
    torso_px = _torso_length(image.positions[:, :, :2], image.skeleton)
    frames = np.flatnonzero(np.isfinite(torso_px) & (torso_px > 0))
    a, b = frames[:-1], frames[1:]
    scale = (torso_px[a] + torso_px[b]) / 2.0
    costs = _displacement_costs(image.positions[:, :, :2], a, b, perms) / scale[:, None, None]
    torso_m = _torso_length(world.positions, world.skeleton)
    scale_m = (torso_m[a] + torso_m[b]) / 2.0
    has_world = np.isfinite(scale_m) & (scale_m > 0)
    depth = _displacement_costs(world.positions[:, :, 2:], a[has_world], b[has_world], perms)
    costs[has_world] += depth / scale_m[has_world, None, None]
    hips = [image.skeleton.index("left_hip"), image.skeleton.index("right_hip")]
    mid_hip = image.positions[:, hips, :2].mean(axis=1)
    linked = (b - a - 1 <= max_gap_frames) & (np.linalg.norm(mid_hip[b] - mid_hip[a], axis=1) <= max_jump_torso * scale)
    starts = np.concatenate([[0], np.flatnonzero(~linked) + 1, [frames.size]])
    for lo, hi in itertools.pairwise(starts):
        if hi > lo:
            states[frames[lo:hi]] = _viterbi(
                costs[lo : hi - 1], switch_cost=switch_cost_torso, swapped_frame_cost=swapped_frame_cost_torso
            )
    if not states.any():
        return SwapCorrection(image=image, world=world, states=states)
    return SwapCorrection(image=_apply(image, states, perms), world=_apply(world, states, perms), states=states)


def _check_pair(image: PoseSequence, world: PoseSequence) -> None:
    if image.frame.is_metric or not world.frame.is_metric:
        raise InvalidPoseDataError(
            f"expected image (px or ratio) and metric world landmarks; got {image.frame.value} and {world.frame.value}",
            details={"image_frame": image.frame.value, "world_frame": world.frame.value},
        )
    if image.skeleton != world.skeleton or not np.array_equal(image.frame_indices, world.frame_indices):
        raise InvalidPoseDataError(
            f"image and world sequences must share skeleton and frames; got {image.n_frames} frames of "
            f"{image.skeleton.name} and {world.n_frames} of {world.skeleton.name}",
            details={"image_frames": image.n_frames, "world_frames": world.n_frames},
        )


def _state_permutations(skeleton: Skeleton) -> NDArray[np.intp]:
    """(4, J): the joint each joint is read from in each :class:`SwapState` (rows in enum order)."""
    perms = np.tile(np.arange(skeleton.n_joints), (len(SwapState), 1))
    try:
        for state, names in _GROUP_JOINTS.items():
            for name in names:
                left, right = skeleton.index(f"left_{name}"), skeleton.index(f"right_{name}")
                perms[state, left], perms[state, right] = right, left
    except KeyError as error:
        raise InvalidPoseDataError(
            f"swap correction needs the BlazePose limb joints; skeleton {skeleton.name} lacks one: {error}",
            details={"skeleton": skeleton.name},
        ) from None
    perms[SwapState.WHOLE_BODY] = skeleton.mirror_permutation
    return perms


def _torso_length(positions: NDArray[np.float64], skeleton: Skeleton) -> NDArray[np.float64]:
    """(T,) distance from mid-hip to mid-shoulder, NaN where one of the four is missing."""
    hips = [skeleton.index("left_hip"), skeleton.index("right_hip")]
    shoulders = [skeleton.index("left_shoulder"), skeleton.index("right_shoulder")]
    torso = positions[:, shoulders].mean(axis=1) - positions[:, hips].mean(axis=1)
    return np.asarray(np.linalg.norm(torso, axis=1))


def _displacement_costs(
    positions: NDArray[np.float64], a: NDArray[np.intp], b: NDArray[np.intp], perms: NDArray[np.intp]
) -> NDArray[np.float64]:
    """(n, S, S) summed paired-landmark displacement from frame ``a`` in state p to frame ``b`` in state q.

    A joint counts only where it and its partner are present in both frames, so every state sums the
    same landmarks.
    """
    before, after = positions[a][:, perms], positions[b][:, perms]  # (n, S, J, D)
    distance = np.linalg.norm(after[:, None] - before[:, :, None], axis=-1)  # (n, p, q, J)
    present = np.asarray(~np.isnan(positions).any(axis=2))
    mirror = perms[SwapState.WHOLE_BODY]
    usable = present[a] & present[a][:, mirror] & present[b] & present[b][:, mirror]
    usable &= mirror != np.arange(positions.shape[1])
    return np.asarray(np.where(usable[:, None, None, :], distance, 0.0).sum(axis=-1))


def _viterbi(transition: NDArray[np.float64], *, switch_cost: float, swapped_frame_cost: float) -> NDArray[np.int8]:
    """Cheapest states of ``len(transition) + 1`` frames; ties go to the lower state (``NONE`` first)."""
    frame_cost = np.full(len(SwapState), swapped_frame_cost)
    frame_cost[SwapState.NONE] = 0.0
    switch = switch_cost * (1.0 - np.eye(len(SwapState)))
    total = frame_cost.copy()
    back = np.zeros((len(transition), len(SwapState)), dtype=np.intp)
    for i, step in enumerate(transition):
        candidates = total[:, None] + step + switch  # (previous state, state)
        back[i] = candidates.argmin(axis=0)
        total = candidates.min(axis=0) + frame_cost
    path = np.empty(len(transition) + 1, dtype=np.int8)
    path[-1] = total.argmin()
    for i in range(len(transition) - 1, -1, -1):
        path[i] = back[i, path[i + 1]]
    return path


def _apply(seq: PoseSequence, states: NDArray[np.int8], perms: NDArray[np.intp]) -> PoseSequence:
    rows, columns = np.arange(seq.n_frames)[:, None], perms[states]
    exchanged = columns != np.arange(seq.n_joints)
    return seq.replace(
        positions=seq.positions[rows, columns],
        confidence=seq.confidence[rows, columns],
        flags=seq.flags[rows, columns] | np.where(exchanged, np.uint8(PoseFlag.SWAP_CORRECTED), np.uint8(0)),
        metadata={**seq.metadata, "swap_corrected_frames": int(np.count_nonzero(states))},
    )
