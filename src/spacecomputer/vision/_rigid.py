"""Rigid segments: give every bone of the hip-centred 3D pose one length for the whole clip.

BlazePose's world landmarks are estimated frame by frame, so a thigh measured on them varies by about
10 % (coefficient of variation) over a clip even where the athlete is plainly visible, while a real thigh
does not change length. Motion-capture pipelines solve this with a body model of fixed segment lengths
(inverse kinematics); we do the same in its simplest form:

1. **Lengths.** Each bone's length is the median of its per-frame length over frames where both of its
   landmarks are observed (not interpolated) with confidence ≥ ``min_confidence``. Left and right
   bones of a pair get the mean of their two medians: our own assumption of bilateral symmetry, which
   halves the noise of the estimate.
2. **Projection.** In every frame the landmarks are moved as little as possible to satisfy all bone
   lengths at once by iterated distance-constraint projection (Gauss–Seidel, as in position-based
   dynamics): each bone's error is shared between its two ends in proportion to their *uncertainty*
   (1 − confidence, floored), so a confident landmark moves less than an occluded one.

Only body bones take part (shoulders down, hands and feet included); the face is left as observed. The
trunk's shoulder–hip quadrilateral keeps fixed sides but may shear, so the trunk can still bend and twist.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from spacecomputer.domain import PoseFlag, PoseSequence
from spacecomputer.errors import InsufficientDataError

__all__ = ["RigidFit", "bone_length_cv", "enforce_segment_lengths"]

FIRST_BODY_JOINT = 11
"""BlazePose indices from 11 (shoulders) on are body landmarks; 0–10 are the face."""

_UNCERTAINTY_FLOOR = 0.05


@dataclass(frozen=True, eq=False)
class RigidFit:
    """The constrained sequence and what the constraint did.

    Attributes
    ----------
    sequence
        Same frame and units as the input, every body bone at its fixed length.
    lengths
        Bone (joint index pair) → fixed length, in the sequence's unit.
    displacement
        (T,) root-mean-square landmark displacement applied per frame, sequence unit (NaN: no pose).
    cv_before, cv_after
        Median over body bones of the coefficient of variation of their length, before and after.

    """

    sequence: PoseSequence
    lengths: dict[tuple[int, int], float]
    displacement: NDArray[np.float64]
    cv_before: float
    cv_after: float


def body_bones(sequence: PoseSequence) -> list[tuple[int, int]]:
    """Bones of the sequence's skeleton whose two joints are both body landmarks."""
    return [(a, b) for a, b in sequence.skeleton.bones if a >= FIRST_BODY_JOINT and b >= FIRST_BODY_JOINT]


def _lengths(positions: NDArray[np.float64], bones: list[tuple[int, int]]) -> NDArray[np.float64]:
    return np.stack([np.linalg.norm(positions[:, a] - positions[:, b], axis=1) for a, b in bones], axis=1)


def bone_length_cv(sequence: PoseSequence, bones: list[tuple[int, int]] | None = None) -> float:
    """Median over bones of std/mean of each bone's length across frames where it is present."""
    chosen = bones if bones is not None else body_bones(sequence)
    lengths = _lengths(np.asarray(sequence.positions), chosen)
    cvs = [
        float(np.std(col[np.isfinite(col)]) / np.mean(col[np.isfinite(col)]))
        for col in lengths.T
        if np.isfinite(col).sum() >= 2
    ]
    return float(np.median(cvs)) if cvs else float("nan")


def _mirrored(medians: dict[tuple[int, int], float], bone: tuple[int, int], mirror: tuple[int, ...]) -> float:
    """Return the median of the bone's left/right partner (itself for a bone that maps onto itself)."""
    a, b = mirror[bone[0]], mirror[bone[1]]
    return medians.get((a, b), medians.get((b, a), medians[bone]))


def enforce_segment_lengths(sequence: PoseSequence, *, min_confidence: float = 0.5, iterations: int = 30) -> RigidFit:
    """Give each body bone its clip-wide length (see the module docstring).

    Raises
    ------
    InvalidPoseDataError
        The sequence is not metric and 3D (its frame must be hip_centred, camera or world).
    InsufficientDataError
        A bone is never observed confidently, so its length cannot be estimated.

    """
    sequence.require_metric("segment lengths")
    bones = body_bones(sequence)
    positions = np.array(sequence.positions)
    confident = (sequence.confidence >= min_confidence) & ((sequence.flags & PoseFlag.INTERPOLATED) == 0)
    raw = _lengths(positions, bones)
    medians: dict[tuple[int, int], float] = {}
    for k, (a, b) in enumerate(bones):
        usable = raw[:, k][confident[:, a] & confident[:, b] & np.isfinite(raw[:, k])]
        if usable.size == 0:
            name = f"{sequence.skeleton.joint_names[a]}–{sequence.skeleton.joint_names[b]}"
            raise InsufficientDataError(
                f"bone {name} is never seen with confidence ≥ {min_confidence}; its length is unknown"
            )
        medians[(a, b)] = float(np.median(usable))
    mirror = sequence.skeleton.mirror_permutation
    lengths = {bone: 0.5 * (medians[bone] + _mirrored(medians, bone, mirror)) for bone in bones}
    uncertainty = np.maximum(1.0 - np.array(sequence.confidence), _UNCERTAINTY_FLOOR)
    target = np.array([lengths[bone] for bone in bones])
    index_a = np.array([a for a, _ in bones])
    index_b = np.array([b for _, b in bones])
    fitted = positions.copy()
    for _ in range(iterations):
        for k in range(len(bones)):
            a, b = index_a[k], index_b[k]
            delta = fitted[:, b] - fitted[:, a]
            current = np.linalg.norm(delta, axis=1)
            ok = np.isfinite(current) & (current > 0)
            wa, wb = uncertainty[ok, a], uncertainty[ok, b]
            error = (current[ok] - target[k]) / current[ok]
            step = delta[ok] * error[:, None]
            fitted[ok, a] += step * (wa / (wa + wb))[:, None]
            fitted[ok, b] -= step * (wb / (wa + wb))[:, None]
    moved_sq = np.linalg.norm(fitted - positions, axis=2) ** 2
    counts = np.isfinite(moved_sq).sum(axis=1)
    sums = np.where(np.isfinite(moved_sq), moved_sq, 0.0).sum(axis=1)
    displacement = np.full(sequence.n_frames, np.nan)
    np.sqrt(sums / np.maximum(counts, 1), out=displacement, where=counts > 0)
    constrained = sequence.replace(positions=fitted)
    return RigidFit(
        sequence=constrained,
        lengths=lengths,
        displacement=displacement,
        cv_before=bone_length_cv(sequence, bones),
        cv_after=bone_length_cv(constrained, bones),
    )
