"""Keep the pose estimator on one athlete (online), and put back its left/right swaps (offline).

:class:`AthleteTracker` refuses a detection whose landmark box is discontinuous with the track (an
*identity jump*: the estimator moved to another person) and looks for the athlete in a crop around the
predicted box instead. :func:`correct_left_right_swaps` finds, over a whole sequence, the frames where
BlazePose exchanged the left and right legs, arms or whole body (side views, overlapping limbs).

Body size: the longer side of the landmark box (:meth:`PoseFrame.bbox_px`), pixels (the height of an
upright athlete, the length of a crawling one). Torso length: mid-hip to mid-shoulder distance, the same
whichever side is labelled left.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from enum import IntEnum, StrEnum

import numpy as np
from numpy.typing import NDArray

from spacecomputer.domain._pose_frame import PoseFrame
from spacecomputer.domain._pose_sequence import PoseFlag, PoseSequence
from spacecomputer.domain._skeleton import Skeleton
from spacecomputer.errors import InvalidInputError, InvalidPoseDataError
from spacecomputer.vision._pose import PoseEstimator

__all__ = [
    "AthleteTracker",
    "SwapCorrection",
    "SwapState",
    "TrackStatus",
    "TrackedPose",
    "correct_left_right_swaps",
]


class TrackStatus(StrEnum):
    """What the tracker did with one frame."""

    TRACKED = "tracked"
    """The full-frame estimator's pose continues the track (or starts one, see ``new_track``)."""
    REACQUIRED = "reacquired"
    """The full-frame pose was another person; the athlete was found again in a crop."""
    LOST = "lost"
    """No accepted pose for ``max_missed_frames`` frames: the track ends; the next detection starts one."""
    IDENTITY_JUMP_REJECTED = "identity_jump_rejected"
    """The full-frame pose was another person and the crop did not find the athlete."""
    NOT_DETECTED = "not_detected"
    """The estimator found nobody."""


@dataclass(frozen=True, eq=False)
class TrackedPose:
    """The tracker's answer for one frame.

    Parameters
    ----------
    pose
        The athlete's pose in full-image pixels, or ``None`` when no pose was accepted.
    status
        Why ``pose`` is what it is.
    track_id
        0 for the first track, then 1, 2, … (each start after a loss); ``None`` while there is no track.
        On a ``LOST`` frame: the track that just ended.
    new_track
        Whether this frame started a track (the pipeline reports starts after the first).

    """

    pose: PoseFrame | None
    status: TrackStatus
    track_id: int | None
    new_track: bool = False


@dataclass
class _Track:
    track_id: int
    box_px: NDArray[np.float64]  # (x0, y0, x1, y1) of the last accepted pose
    velocity_px_per_frame: NDArray[np.float64]  # smoothed box-centre motion, pixels per frame
    missed_frames: int = 0  # frames since the last accepted pose

    @property
    def size_px(self) -> float:
        return _body_size_px(self.box_px)

    def predicted_box_px(self) -> NDArray[np.float64]:
        shift = self.velocity_px_per_frame * (self.missed_frames + 1)
        return np.asarray(self.box_px + np.concatenate([shift, shift]))


def _body_size_px(box_px: NDArray[np.float64]) -> float:
    return float(max(box_px[2] - box_px[0], box_px[3] - box_px[1], 1.0))


def _centre_px(box_px: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray((box_px[:2] + box_px[2:]) / 2.0)


class AthleteTracker:
    """Follow one athlete through a video, refusing the estimator's jumps to other people.

    Rule, ``k`` frames after the last accepted pose (``k = 1`` on the next frame): a pose continues the
    track when its box centre lies within ``max_jump_fraction + gate_growth_per_frame * (k - 1)`` body
    sizes of the predicted centre (last centre + velocity × k) and its body size is within
    ``size_ratio_band`` of the last accepted one. Otherwise the tracking estimator is reset and the
    crop estimator looks in the predicted box, enlarged by ``crop_margin_fraction`` body sizes on each
    side and clamped to the image; a pose found there that passes the same test is ``REACQUIRED``.
    After ``max_missed_frames`` frames without an accepted pose the track is ``LOST``, and the next
    detection anywhere starts a new one (``new_track``, the next ``track_id``).

    Measured on the sample video (1768×994 px, 30 fps, BlazePose tracking frame to frame): one frame
    on, the prediction misses by a median 0.016, a 99th percentile 0.26 and at most 0.45 body sizes
    (the take-off of a backflip); ``k`` frames on, the 99th percentile grows by about 0.055 body sizes a
    frame. Consecutive body sizes differ by a factor 0.77–1.89, and by 0.45 between a stretched and a
    tucked pose in the air. The estimator's jumps to a second person landed 1.6–3.1 body sizes from
    the prediction, with no box overlap. Hence the defaults 0.5, 0.1 a frame and (0.4, 2.5). With them
    the tracker keeps the athlete through the whole sample video in one track: raw BlazePose moves to
    a woman walking by as he back-flips off a box; 14 of her poses are rejected and 7 of his re-acquired.

    Parameters
    ----------
    tracking_estimator
        Runs on every full frame in tracking mode.
    crop_estimator
        Runs in static-image mode on the re-acquisition crops.
    max_jump_fraction
        Largest distance from the predicted box centre one frame on, body sizes.
    gate_growth_per_frame
        Distance added for each further frame without an accepted pose, body sizes per frame.
    size_ratio_band
        (lowest, highest) accepted ratio of the new body size to the last accepted one.
    crop_margin_fraction
        Margin on each side of the predicted box for re-acquisition, body sizes.
    max_missed_frames
        Frames without an accepted pose after which the track is ``LOST`` (15 = 0.5 s at 30 fps).
    velocity_smoothing
        Weight in (0, 1] of the newest centre motion in the exponentially smoothed velocity. The raw
        last motion (1.0) extrapolates box jitter (99th percentile miss 10 frames on: 1.95 body sizes on
        the sample video, against 0.74 for 0.3); no velocity at all could not follow a sprinter.
    min_visibility
        Landmarks less visible than this are left out of the box.

    """

    def __init__(
        self,
        tracking_estimator: PoseEstimator,
        crop_estimator: PoseEstimator,
        *,
        max_jump_fraction: float = 0.5,
        gate_growth_per_frame: float = 0.1,
        size_ratio_band: tuple[float, float] = (0.4, 2.5),
        crop_margin_fraction: float = 0.5,
        max_missed_frames: int = 15,
        velocity_smoothing: float = 0.3,
        min_visibility: float = 0.3,
    ) -> None:
        low, high = size_ratio_band
        if not (0.0 < low <= 1.0 <= high):
            raise InvalidInputError(
                f"size_ratio_band must satisfy 0 < low <= 1 <= high; got {size_ratio_band}"
            )
        if not (0.0 < velocity_smoothing <= 1.0):
            raise InvalidInputError(f"velocity_smoothing must lie in (0, 1]; got {velocity_smoothing}")
        limits = {
            "max_missed_frames": max_missed_frames,
            "max_jump_fraction": max_jump_fraction,
            "gate_growth_per_frame": gate_growth_per_frame,
            "crop_margin_fraction": crop_margin_fraction,
        }
        if (
            max_missed_frames < 1
            or max_jump_fraction <= 0
            or min(gate_growth_per_frame, crop_margin_fraction) < 0
        ):
            raise InvalidInputError(
                "expected max_missed_frames >= 1, max_jump_fraction > 0, gate_growth_per_frame >= 0 and "
                f"crop_margin_fraction >= 0; got {limits}",
                details=limits,
            )
        self._tracking = tracking_estimator
        self._crop = crop_estimator
        self._max_jump = max_jump_fraction
        self._gate_growth = gate_growth_per_frame
        self._size_band = (low, high)
        self._margin = crop_margin_fraction
        self._max_missed = max_missed_frames
        self._alpha = velocity_smoothing
        self._min_visibility = min_visibility
        self._track: _Track | None = None
        self._tracks_started = 0

    @property
    def tracks_started(self) -> int:
        """Number of tracks started since construction or :meth:`reset`."""
        return self._tracks_started

    def reset(self) -> None:
        """Forget the track and reset both estimators (call between videos)."""
        self._track = None
        self._tracks_started = 0
        self._tracking.reset()
        self._crop.reset()

    def update(self, image_rgb: NDArray[np.uint8]) -> TrackedPose:
        """Estimate the athlete's pose in the next frame, an (H, W, 3) ``uint8`` RGB image."""
        if image_rgb.ndim != 3 or image_rgb.shape[2] != 3 or image_rgb.dtype != np.uint8:
            raise InvalidInputError(
                f"update expects an (H, W, 3) uint8 RGB image; got {image_rgb.shape} {image_rgb.dtype}",
                details={"shape": list(image_rgb.shape), "dtype": str(image_rgb.dtype)},
            )
        candidate = self._tracking.estimate(image_rgb)
        track = self._track
        if track is None:
            if candidate is None:
                return TrackedPose(pose=None, status=TrackStatus.NOT_DETECTED, track_id=None)
            track = self._start_track(candidate)
            return TrackedPose(
                pose=candidate, status=TrackStatus.TRACKED, track_id=track.track_id, new_track=True
            )
        if candidate is not None and self._is_continuous(candidate, track):
            self._accept(candidate, track)
            return TrackedPose(pose=candidate, status=TrackStatus.TRACKED, track_id=track.track_id)
        status = TrackStatus.NOT_DETECTED
        if candidate is not None:
            # The estimator follows someone else: make it detect afresh next frame; look for the athlete.
            self._tracking.reset()
            found = self._reacquire(image_rgb, track)
            if found is not None:
                self._accept(found, track)
                return TrackedPose(pose=found, status=TrackStatus.REACQUIRED, track_id=track.track_id)
            status = TrackStatus.IDENTITY_JUMP_REJECTED
        track.missed_frames += 1
        if track.missed_frames >= self._max_missed:
            self._track = None
            status = TrackStatus.LOST
        return TrackedPose(pose=None, status=status, track_id=track.track_id)

    def _start_track(self, pose: PoseFrame) -> _Track:
        box = np.asarray(pose.bbox_px(min_visibility=self._min_visibility), dtype=np.float64)
        self._track = _Track(track_id=self._tracks_started, box_px=box, velocity_px_per_frame=np.zeros(2))
        self._tracks_started += 1
        return self._track

    def _is_continuous(self, pose: PoseFrame, track: _Track) -> bool:
        box = np.asarray(pose.bbox_px(min_visibility=self._min_visibility), dtype=np.float64)
        elapsed = track.missed_frames + 1
        allowed_px = (self._max_jump + self._gate_growth * (elapsed - 1)) * track.size_px
        jump_px = float(np.linalg.norm(_centre_px(box) - _centre_px(track.predicted_box_px())))
        ratio = _body_size_px(box) / track.size_px
        return jump_px <= allowed_px and self._size_band[0] <= ratio <= self._size_band[1]

    def _accept(self, pose: PoseFrame, track: _Track) -> None:
        box = np.asarray(pose.bbox_px(min_visibility=self._min_visibility), dtype=np.float64)
        motion = (_centre_px(box) - _centre_px(track.box_px)) / (track.missed_frames + 1)
        track.velocity_px_per_frame = (1.0 - self._alpha) * track.velocity_px_per_frame + self._alpha * motion
        track.box_px = box
        track.missed_frames = 0

    def _reacquire(self, image_rgb: NDArray[np.uint8], track: _Track) -> PoseFrame | None:
        height, width = image_rgb.shape[:2]
        margin = self._margin * track.size_px
        bx0, by0, bx1, by1 = track.predicted_box_px()
        x0, y0 = max(0, math.floor(bx0 - margin)), max(0, math.floor(by0 - margin))
        x1, y1 = min(width, math.ceil(bx1 + margin)), min(height, math.ceil(by1 + margin))
        if x1 - x0 < 2 or y1 - y0 < 2:  # the prediction has left the image
            return None
        found = self._crop.estimate(np.ascontiguousarray(image_rgb[y0:y1, x0:x1]))
        if found is None:
            return None
        mapped = found.mapped_from_crop(offset_x_px=float(x0), offset_y_px=float(y0))
        return mapped if self._is_continuous(mapped, track) else None


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

    On the sample video, tracked by :class:`AthleteTracker`, 11 of 198 frames are corrected: the whole
    body on 4 frames of jumping jacks facing the camera and an arm and a leg swap either side of them
    (all six checked by eye), then 2 of the first, poor detections and 3 frames of a backflip upside
    down in the sun's glare.
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
    linked = (b - a - 1 <= max_gap_frames) & (
        np.linalg.norm(mid_hip[b] - mid_hip[a], axis=1) <= max_jump_torso * scale
    )
    starts = np.concatenate([[0], np.flatnonzero(~linked) + 1, [frames.size]])
    for lo, hi in itertools.pairwise(starts):
        if hi > lo:
            states[frames[lo:hi]] = _viterbi(
                costs[lo : hi - 1], switch_cost=switch_cost_torso, swapped_frame_cost=swapped_frame_cost_torso
            )
    if not states.any():
        return SwapCorrection(image=image, world=world, states=states)
    return SwapCorrection(
        image=_apply(image, states, perms), world=_apply(world, states, perms), states=states
    )


def _check_pair(image: PoseSequence, world: PoseSequence) -> None:
    if image.frame.is_metric or not world.frame.is_metric:
        raise InvalidPoseDataError(
            f"expected image (px or ratio) and metric world landmarks; got {image.frame.value} and "
            f"{world.frame.value}",
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


def _viterbi(
    transition: NDArray[np.float64], *, switch_cost: float, swapped_frame_cost: float
) -> NDArray[np.int8]:
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
