"""Put a whole sequence on the subject's rigid skeleton: the pipeline's inverse kinematics step.

BlazePose's landmarks are not a rigid body even after the segment-length step (``vision/_rigid.py``): the pelvis
and shoulder girdle change shape, the knee bends sideways, the foot twists about its own length. Joint angles read
straight off such landmarks disagree with an inverse kinematics solution (OpenSim's, say) by up to 10° RMSE on the
sample clip, mostly from that misfit rather than from the angles' definitions (``docs/biomechanics.md``,
"Agreement with OpenSim"). So, like OpenSim's inverse kinematics, we fit a rigid skeleton — the pose lab's
:class:`~spacecomputer.biomech.solver._skeleton.SkeletonModel`, with the run's median segment dimensions and the
joint limits — to every frame (:func:`~spacecomputer.biomech.solver._fit.fit_landmark_frames`) and replace each
modelled landmark by its fitted point. The engine's angles on the result are exactly the skeleton's coordinates.

Landmarks the skeleton does not model move with the nearest modelled part: the eyes and mouth by the mean
displacement of the nose and ears, each hand's index, pinky and thumb by the displacement of its wrist: the skeleton's
hand continues the forearm (no wrist joint), so following the fitted knuckle point would freeze the wrist at 0° and
report zero wrist power and work; the hand keeps its observed orientation instead. A
landmark missing from the input stays missing (the skeleton would place it, but nothing saw it there). A frame the
fit cannot take (a core landmark missing) is left as it was.

The frames are fitted as consecutive frames (a frame that jumps from a neighbour's solution is solved again from
it, ``_fit_batch.py``). The pipeline fits the smoothed landmarks (``_cleaning.py``): fitted before the low-pass
and filtered after, the sample's knee angles disagreed with OpenSim's by 4.3–7.6° RMSE instead of 1.3–2.7°, the
filter undoing the fit's rigidity where neighbouring frames differ.

Each landmark is weighted by its visibility squared (floored at :data:`MIN_WEIGHT_VISIBILITY`): the uncertainty
model takes a landmark's noise as inversely proportional to its visibility, and a least-squares weight is an
inverse variance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spacecomputer.biomech.solver._dofs import JOINT_INDEX, LANDMARK_JOINTS, SIDES
from spacecomputer.biomech.solver._fit_batch import FrameFits
from spacecomputer.biomech.solver._skeleton import SkeletonModel
from spacecomputer.domain import BLAZEPOSE_33, PoseSequence

__all__ = ["MIN_WEIGHT_VISIBILITY", "SkeletonTrack", "fit_skeleton_to_sequence"]

MIN_WEIGHT_VISIBILITY = 0.25
"""Visibility floor of a landmark's weight (the uncertainty model's own floor, ``VISIBILITY_FLOOR``, our choice)."""
_HEAD_POINTS = tuple(BLAZEPOSE_33.index(name) for name in ("nose", "left_ear", "right_ear"))
_FACE = tuple(i for i in range(BLAZEPOSE_33.index("left_shoulder")) if i not in _HEAD_POINTS)
"""The face landmarks the skeleton does not model (BlazePose's face comes before the shoulders): eyes and mouth."""


@dataclass(frozen=True, eq=False)
class SkeletonTrack:
    """A sequence put on the subject's rigid skeleton, and how well it fitted.

    Attributes
    ----------
    sequence
        The input with every fitted frame's landmarks on the skeleton (same frame, units, flags and confidence).
    model
        The subject's skeleton (median segment dimensions of the input).
    fits
        The per-frame fits (coordinates, distances to the landmarks, limits, iterations).

    """

    sequence: PoseSequence
    model: SkeletonModel
    fits: FrameFits

    @property
    def fitted(self) -> NDArray[np.bool_]:
        """(T,) frames put on the skeleton."""
        return np.asarray(np.isfinite(self.fits.q).all(axis=1))

    def displacement_m(self) -> NDArray[np.float64]:
        """(T,) RMS distance between the fitted points and the landmarks of each fitted frame, m (NaN: not fitted)."""
        return np.where(self.fitted, self.fits.residual_rms_m, np.nan)


def fit_skeleton_to_sequence(sequence: PoseSequence, *, up: ArrayLike) -> SkeletonTrack:
    """Fit the subject's skeleton to every frame of a metric BlazePose sequence (method: module docstring).

    Parameters
    ----------
    sequence
        Metric (``camera`` or ``world``) BlazePose sequence, gaps filled and smoothed.
    up
        Unit vector pointing up in the sequence's frame.

    Raises
    ------
    InvalidPoseDataError
        The sequence is not metric or not on the BlazePose skeleton.
    InsufficientDataError
        A body dimension's landmarks are missing in every frame.

    """
    model = SkeletonModel.from_sequence(sequence, up=up)
    positions = np.asarray(sequence.positions, dtype=np.float64)
    visibility = np.nan_to_num(np.asarray(sequence.confidence, dtype=np.float64), nan=0.0)
    weights = np.maximum(visibility, MIN_WEIGHT_VISIBILITY) ** 2
    fits = model.fit_frames(positions, weights=weights, consecutive=True)
    fitted = np.isfinite(fits.q).all(axis=1)
    out = positions.copy()
    if fitted.any():
        points = model.points(fits.q[fitted])
        out[fitted] = _on_skeleton(positions[fitted], points)
    return SkeletonTrack(sequence=sequence.replace(positions=out), model=model, fits=fits)


def _on_skeleton(positions: NDArray[np.float64], points: NDArray[np.float64]) -> NDArray[np.float64]:
    """(N, 33, 3) landmarks with the modelled ones replaced by the (N, P, 3) fitted points, the others carried."""
    out = positions.copy()
    for name in LANDMARK_JOINTS:
        out[:, BLAZEPOSE_33.index(name)] = points[:, JOINT_INDEX[name]]
    moved = out[:, _HEAD_POINTS] - positions[:, _HEAD_POINTS]
    seen: NDArray[np.bool_] = np.asarray(np.isfinite(moved).all(axis=2))
    head_shift = np.where(seen[..., None], moved, 0.0).sum(axis=1) / np.maximum(seen.sum(axis=1), 1)[:, None]
    out[:, _FACE] += head_shift[:, None, :]
    for side in SIDES:
        # The skeleton has no wrist joint (the knuckle point continues the forearm): the hand keeps its observed
        # orientation and follows the fitted wrist, so the wrist's angle, power and work are still measured.
        fingers = [BLAZEPOSE_33.index(f"{side}_{finger}") for finger in ("index", "pinky", "thumb")]
        wrist = BLAZEPOSE_33.index(f"{side}_wrist")
        out[:, fingers] += (out[:, wrist] - positions[:, wrist])[:, None, :]
    return np.where(np.isfinite(positions), out, np.nan)
