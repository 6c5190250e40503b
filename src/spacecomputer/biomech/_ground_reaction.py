"""Ground reaction force estimated from video: the whole-body COM acceleration shared between the feet.

Everything is an *estimate from video*: no force is measured. Vectors are in the sequence's own frame with
gravity ``g = −gravity_m_s2 · up``; SI units throughout. Newton's laws need an inertial frame: a ``world`` or
a still ``camera`` frame; in a ``hip_centred`` frame every force is NaN, with the reason in
:attr:`GroundReactionEstimate.unavailable_reason`. The joint moments built on it are in
:mod:`spacecomputer.biomech._kinetics`.

of the de Leva whole-body COM (:func:`~spacecomputer.biomech._body_model.whole_body_com`,
:func:`~spacecomputer.biomech._kinematics.linear_acceleration_m_s2`). Per frame:

- at least one foot known in contact: ``F`` as above (NaN where the COM acceleration is unknown);
- both feet known airborne: exactly zero;
- otherwise (a foot's state unknown and no foot known in contact): NaN, ``known`` False.

A vertical component ``F · up < 0`` in contact is impossible (the ground cannot pull). Such a frame's force is
set to zero — the whole vector, since without a normal load there is no friction either — and counted in
``clipped_frames``. A horizontal component larger than ``friction_coefficient`` times the vertical one
(default :data:`MAX_FRICTION_COEFFICIENT` = 1.0) is outside the friction cone: the ground cannot push that hard
sideways. It is scaled down onto the cone (its direction kept) and the frame counted in
``friction_limited_frames``. On monocular video this mostly catches the depth jitter of the body's placement,
which the second derivative turns into horizontal accelerations of several g (on the sample clip, 10 BW
"braking" at take-off). Nothing else is clamped.

*Sharing between the feet* (our own rule): with both feet in contact, foot ``i`` carries the fraction
``d_j / (d_left + d_right)`` of ``F``, ``d`` being the horizontal distance from the COM's ground projection to
each foot's centre of pressure: the lever rule, which is the exact static split of the vertical load when the
COM projection lies on the segment joining the two centres of pressure, and an approximation otherwise. A foot
whose share cannot be decided (the other foot's state is unknown) gets NaN.

*Centre of pressure* (our own rule): a point on the heel → foot-index line, these landmarks taken as lying on
the sole. With a flat foot (heel and toe at the same height) it is the point of that line nearest to the
COM's ground projection, clamped between heel and toe — in quasi-static stance the centre of pressure follows
the COM, and in a stride it then travels from heel to toe as the body passes over the foot. As one end rises
above the other it moves linearly to the end that stays down, reaching it when the height difference is
:data:`COP_TILT_BAND_M` (heel higher: towards the toe; toe higher: towards the heel).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spacecomputer.biomech._body_model import BodyModel, whole_body_com
from spacecomputer.biomech._events import FEET, FootContacts, up_unit_vector
from spacecomputer.biomech._kinematics import linear_acceleration_m_s2
from spacecomputer.biomech._movement_metrics import STANDARD_GRAVITY_M_S2
from spacecomputer.domain import CoordinateFrame, PoseSequence
from spacecomputer.errors import InvalidInputError

__all__ = [
    "COP_TILT_BAND_M",
    "MAX_FRICTION_COEFFICIENT",
    "NOT_INERTIAL_REASON",
    "GroundReactionEstimate",
    "check_gravity",
    "estimate_ground_reaction",
    "horizontal_part",
]

MAX_FRICTION_COEFFICIENT = 1.0
"""Largest horizontal-to-vertical ground reaction ratio accepted (our own bound, chosen generously: shod feet on
dry ground and track spikes do not hold more; a ratio above it in a video estimate is tracking noise)."""
COP_TILT_BAND_M = 0.03
"""Heel-to-toe height difference, m, at which the centre of pressure reaches the end still down (our choice:
half the 6 cm contact height threshold of :func:`~spacecomputer.biomech._events.detect_foot_contacts`)."""

NOT_INERTIAL_REASON = (
    "not computed: the sequence is hip-centred, a frame whose origin moves with the pelvis, so its accelerations "
    "are not those Newton's laws need (use a world or still camera frame)"
)


@dataclass(frozen=True, eq=False)
class GroundReactionEstimate:
    """Ground reaction force estimated from the whole-body COM acceleration (method in the module docstring).

    Attributes
    ----------
    total_n
        (T, 3) N, in the sequence's frame; NaN where unknown.
    per_foot_n
        (T, 2, 3) N, per foot in :data:`~spacecomputer.biomech._events.FEET` order; zero for a foot known
        airborne, NaN where its share is unknown.
    centre_of_pressure_m
        (T, 2, 3) m, assumed point of application per foot; NaN when the foot is not in contact.
    in_contact
        (T, 2) bool, foot known to be in contact.
    known
        (T,) bool, the total force could be estimated.
    note
        The method in one sentence, starting "estimated from video".
    clipped_frames
        Frames in contact whose vertical component came out negative and was set to zero (with the rest of
        the force).
    friction_limited_frames
        Frames in contact whose horizontal component was scaled down onto the friction cone.
    unavailable_reason
        Why no frame is known; ``None`` when some are.

    """

    total_n: NDArray[np.float64]
    per_foot_n: NDArray[np.float64]
    centre_of_pressure_m: NDArray[np.float64]
    in_contact: NDArray[np.bool_]
    known: NDArray[np.bool_]
    note: str
    clipped_frames: int
    unavailable_reason: str | None = None
    friction_limited_frames: int = 0


def check_gravity(gravity_m_s2: float) -> float:
    if not (isinstance(gravity_m_s2, int | float) and np.isfinite(gravity_m_s2) and gravity_m_s2 >= 0):
        raise InvalidInputError(f"gravity_m_s2 must be a finite number ≥ 0 (m/s²); got {gravity_m_s2!r}")
    return float(gravity_m_s2)


def horizontal_part(v: NDArray[np.float64], up: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(v - (v @ up)[..., None] * up, dtype=np.float64)


def _centre_of_pressure(
    sequence: PoseSequence, com: NDArray[np.float64], up: NDArray[np.float64]
) -> NDArray[np.float64]:
    """(T, 2, 3) centre of pressure of each foot, by the module's rule, whether or not it is in contact."""
    cops = []
    for foot in FEET:
        heel, toe = sequence.joint(f"{foot}_heel"), sequence.joint(f"{foot}_foot_index")
        length = horizontal_part(toe - heel, up)
        length_sq = (length**2).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            along = np.einsum("ti,ti->t", horizontal_part(com - heel, up), length) / length_sq
        # A foot seen end-on from above (toe straight below the heel) has no "nearest point": take the middle.
        s_flat = np.where(length_sq > 1e-12, np.clip(along, 0.0, 1.0), 0.5)
        tilt = np.clip(((heel - toe) @ up) / COP_TILT_BAND_M, -1.0, 1.0)
        s = np.where(tilt > 0, s_flat + tilt * (1.0 - s_flat), s_flat * (1.0 + tilt))
        cops.append(heel + s[:, None] * (toe - heel))
    return np.stack(cops, axis=1)


def _check_contacts(contacts: FootContacts, n_frames: int) -> None:
    if contacts.in_contact.shape != (n_frames, 2) or contacts.known.shape != (n_frames, 2):
        raise InvalidInputError(
            f"contacts must describe the same {n_frames} frames as the sequence (in_contact and known of shape "
            f"({n_frames}, 2)); got {contacts.in_contact.shape}",
            details={"frames": n_frames, "shape": list(contacts.in_contact.shape)},
        )


def estimate_ground_reaction(
    sequence: PoseSequence,
    model: BodyModel,
    contacts: FootContacts,
    *,
    up: ArrayLike,
    gravity_m_s2: float = STANDARD_GRAVITY_M_S2,
    friction_coefficient: float = MAX_FRICTION_COEFFICIENT,
) -> GroundReactionEstimate:
    """Estimate the ground reaction force from the whole-body COM acceleration and the foot contacts.

    Parameters
    ----------
    sequence
        Metric pose sequence on the BlazePose skeleton.
    model
        Body model (mass and segments).
    contacts
        Foot contact states of the same frames (:func:`~spacecomputer.biomech._events.detect_foot_contacts`).
    up
        Unit 3-vector pointing up in the sequence's frame.
    gravity_m_s2
        Magnitude of gravity, m/s².
    friction_coefficient
        Largest accepted ratio of horizontal to vertical force (module docstring).

    Returns
    -------
    GroundReactionEstimate
        Forces in N in the sequence's frame (method in the module docstring).

    Raises
    ------
    InvalidInputError
        ``up`` not a unit vector, a negative gravity, or ``contacts`` for another number of frames.
    InvalidPoseDataError
        The sequence is not metric or lacks a landmark.

    """
    up_unit = up_unit_vector(up)
    gravity = check_gravity(gravity_m_s2)
    n = sequence.n_frames
    _check_contacts(contacts, n)
    com = whole_body_com(sequence, model)
    total = model.mass_kg * (linear_acceleration_m_s2(com, sequence.timestamps_s) + gravity * up_unit)
    in_contact = contacts.in_contact & contacts.known
    any_contact = in_contact.any(axis=1)
    airborne = contacts.known.all(axis=1) & ~any_contact
    total[~any_contact] = np.nan
    total[airborne] = 0.0
    with np.errstate(invalid="ignore"):
        pulling = any_contact & (total @ up_unit < 0.0)
    total[pulling] = 0.0
    if not (np.isfinite(friction_coefficient) and friction_coefficient >= 0.0):
        raise InvalidInputError(f"friction_coefficient must be zero or more; got {friction_coefficient!r}")
    vertical = total @ up_unit
    horizontal = total - np.outer(vertical, up_unit)
    horizontal_n = np.sqrt(np.einsum("ti,ti->t", horizontal, horizontal))
    limit_n = friction_coefficient * np.maximum(vertical, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        outside = any_contact & (horizontal_n > limit_n)
        scale = np.where(outside, limit_n / horizontal_n, 1.0)
    total = np.outer(vertical, up_unit) + horizontal * scale[:, None]

    cop = _centre_of_pressure(sequence, com, up_unit)
    distance = np.linalg.norm(horizontal_part(cop - com[:, None, :], up_unit), axis=2)
    both = np.asarray(in_contact.all(axis=1), dtype=np.bool_)
    with np.errstate(invalid="ignore", divide="ignore"):
        lever_share = distance[:, ::-1] / distance.sum(axis=1, keepdims=True)
    lever_share[~(distance.sum(axis=1) > 1e-9)] = 0.5  # both centres of pressure under the COM
    share = np.where(both[:, None], lever_share, in_contact.astype(np.float64))
    share[~contacts.known[:, ::-1] & in_contact] = np.nan
    share[~contacts.known] = np.nan
    per_foot = share[:, :, None] * total[:, None, :]
    per_foot[contacts.known & ~in_contact] = 0.0
    cop[~in_contact] = np.nan

    if sequence.frame is CoordinateFrame.HIP_CENTRED:
        total[:], per_foot[:], pulling[:] = np.nan, np.nan, False
    known = np.asarray(np.isfinite(total).all(axis=1), dtype=np.bool_)
    reason = NOT_INERTIAL_REASON if sequence.frame is CoordinateFrame.HIP_CENTRED else None
    if not known.any() and reason is None:
        reason = contacts.unavailable_reason or (
            "no frame has both a known contact state and, in contact, a known COM acceleration (every segment "
            "seen in a run of at least 3 frames)"
        )
    return GroundReactionEstimate(
        total_n=total,
        per_foot_n=per_foot,
        centre_of_pressure_m=cop,
        in_contact=in_contact,
        known=known,
        note=(
            "estimated from video: whole-body mass times the COM acceleration minus gravity while a foot is in "
            "contact (zero in flight), shared between two feet by the lever rule, applied at a centre of pressure "
            "placed on the heel-toe line; not a force-plate measurement"
        ),
        clipped_frames=int(pulling.sum()),
        unavailable_reason=reason,
        friction_limited_frames=int(outside.sum()),
    )
