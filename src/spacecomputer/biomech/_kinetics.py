"""Kinetics without force plates: ground reaction estimated from the COM, then Newton–Euler inverse dynamics.

Everything is an *estimate from video*: no force is measured. Vectors are in the sequence's own frame with
gravity ``g = −gravity_m_s2 · up``; SI units throughout. Newton's laws need an inertial frame: a ``world`` or
a still ``camera`` frame. A ``hip_centred`` frame moves with the pelvis, so there every force and moment is
NaN, with the reason in :attr:`GroundReactionEstimate.unavailable_reason` and each joint's convention.

Ground reaction force (:func:`estimate_ground_reaction`)
--------------------------------------------------------
Newton's second law for the whole body: ``F = M (a_COM − g)``, with ``a_COM`` the second central difference
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

Inverse dynamics (:func:`inverse_dynamics`)
-------------------------------------------
Newton–Euler per segment (segment motion from :mod:`spacecomputer.biomech._segment_motion`), distal to
proximal: legs bottom-up (foot, loaded by its ground reaction at its centre of pressure → shank → thigh), arms
top-down from the free end (hand, no external force → forearm → upper arm). For a segment of mass ``m``, COM
``c``, proximal joint ``P`` and distal joint ``D``::

    F_P = m (a_c − g) − F_ext + F_D
    M_P = I α + ω × (I ω) − (P − c) × F_P − (Q − c) × F_ext + (D − c) × F_D + M_D

(evaluated, equivalently, about the frame's origin), where ``F_D, M_D`` are the force and moment this segment
exerts on its distal neighbour (that neighbour's ``F_P, M_P``), and ``F_ext`` acts at ``Q`` (the foot's ground
reaction at its centre of pressure). Joint points are the BlazePose landmarks (ankle, knee, hip, wrist, elbow,
shoulder). ``force_n`` and ``moment_n_m`` are the force and net moment the proximal segment exerts on the
distal one at the joint.

================  =====================================  ======================================================
joint             flexion axis (unit, to the right)       positive ``flexion_moment_n_m`` (internal moment)
================  =====================================  ======================================================
hip               left → right hip line                   extensor (Winter)
knee              thigh's mediolateral axis               extensor (Winter)
ankle             shank's mediolateral axis               plantarflexor (Winter)
shoulder          left → right shoulder line              flexor (ours)
elbow             upper arm's mediolateral axis           flexor (ours)
wrist             forearm's mediolateral axis             hand forward/up (palmar flexion if the palm faces forward)
================  =====================================  ======================================================

A positive moment about the rightward axis turns a hanging limb forward and lifts a flat foot's toe, so the
hip and ankle values are ``−M · axis`` and the others ``+M · axis``. The leg signs follow Winter's support
moment (Winter D. A., 1980, *Overall principle of lower limb support during stance phase of gait*, J Biomech
13:923–927), which adds hip, knee and ankle moments with extensors (plantarflexors at the ankle) positive.
``power_w = M · (ω_distal − ω_proximal)``: positive = the net moment generates energy, negative = absorbs it;
the proximal segment of hip and shoulder is the trunk. :func:`moment_per_kg` divides by body mass (N·m/kg).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spacecomputer.biomech._body_model import BodyModel, whole_body_com
from spacecomputer.biomech._events import FEET, FootContacts, up_unit_vector
from spacecomputer.biomech._kinematics import linear_acceleration_m_s2
from spacecomputer.biomech._movement_metrics import STANDARD_GRAVITY_M_S2
from spacecomputer.biomech._segment_motion import SegmentMotion, cross, segment_motion
from spacecomputer.domain import CoordinateFrame, PoseSequence
from spacecomputer.errors import InvalidInputError

__all__ = [
    "COP_TILT_BAND_M",
    "JOINTS",
    "MAX_FRICTION_COEFFICIENT",
    "GroundReactionEstimate",
    "JointKinetics",
    "estimate_ground_reaction",
    "inverse_dynamics",
    "moment_per_kg",
]

MAX_FRICTION_COEFFICIENT = 1.0
"""Largest horizontal-to-vertical ground reaction ratio accepted (our own bound, chosen generously: shod feet on
dry ground and track spikes do not hold more; a ratio above it in a video estimate is tracking noise)."""
COP_TILT_BAND_M = 0.03
"""Heel-to-toe height difference, m, at which the centre of pressure reaches the end still down (our choice:
half the 6 cm contact height threshold of :func:`~spacecomputer.biomech._events.detect_foot_contacts`)."""

_NOT_INERTIAL = (
    "not computed: the sequence is hip-centred, a frame whose origin moves with the pelvis, so its accelerations "
    "are not those Newton's laws need (use a world or still camera frame)"
)

JOINTS = tuple(f"{side}_{joint}" for side in FEET for joint in ("ankle", "knee", "hip", "wrist", "elbow", "shoulder"))
"""Joints :func:`inverse_dynamics` reports, keyed ``{side}_{joint}``."""

# Distal to proximal: joint, distal and proximal segment, flexion axis, sign relative to M · axis, meaning.
_CHAIN = {
    "leg": (
        ("ankle", "foot", "shank", "shank", -1.0, "plantarflexor"),
        ("knee", "shank", "thigh", "thigh", 1.0, "extensor"),
        ("hip", "thigh", "trunk", "hip_line", -1.0, "extensor"),
    ),
    "arm": (
        ("wrist", "hand", "forearm", "forearm", 1.0, "forward/up turning (palmar flexion if the palm faces forward)"),
        ("elbow", "forearm", "upper_arm", "upper_arm", 1.0, "flexor"),
        ("shoulder", "upper_arm", "trunk", "shoulder_line", 1.0, "flexor"),
    ),
}


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


@dataclass(frozen=True, eq=False)
class JointKinetics:
    """Net force, moment and power at one joint (conventions in the module docstring).

    Attributes
    ----------
    joint
        ``{side}_{ankle|knee|hip|wrist|elbow|shoulder}``.
    force_n
        (T, 3) N, force of the proximal on the distal segment at the joint, in the sequence's frame.
    moment_n_m
        (T, 3) N·m, net moment of the proximal on the distal segment.
    flexion_moment_n_m
        (T,) N·m, the component about the joint's flexion axis, signed as :attr:`convention` says.
    power_w
        (T,) W, ``moment_n_m · (ω_distal − ω_proximal)``.
    convention
        Axis and signs in words.

    """

    joint: str
    force_n: NDArray[np.float64]
    moment_n_m: NDArray[np.float64]
    flexion_moment_n_m: NDArray[np.float64]
    power_w: NDArray[np.float64]
    convention: str


def _check_gravity(gravity_m_s2: float) -> float:
    if not (isinstance(gravity_m_s2, int | float) and np.isfinite(gravity_m_s2) and gravity_m_s2 >= 0):
        raise InvalidInputError(f"gravity_m_s2 must be a finite number ≥ 0 (m/s²); got {gravity_m_s2!r}")
    return float(gravity_m_s2)


def _horizontal(v: NDArray[np.float64], up: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(v - (v @ up)[..., None] * up, dtype=np.float64)


def _centre_of_pressure(
    sequence: PoseSequence, com: NDArray[np.float64], up: NDArray[np.float64]
) -> NDArray[np.float64]:
    """(T, 2, 3) centre of pressure of each foot, by the module's rule, whether or not it is in contact."""
    cops = []
    for foot in FEET:
        heel, toe = sequence.joint(f"{foot}_heel"), sequence.joint(f"{foot}_foot_index")
        length = _horizontal(toe - heel, up)
        length_sq = (length**2).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            along = np.einsum("ti,ti->t", _horizontal(com - heel, up), length) / length_sq
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
    gravity = _check_gravity(gravity_m_s2)
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
    distance = np.linalg.norm(_horizontal(cop - com[:, None, :], up_unit), axis=2)
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
    reason = _NOT_INERTIAL if sequence.frame is CoordinateFrame.HIP_CENTRED else None
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


def _dot(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(np.einsum("ti,ti->t", a, b), dtype=np.float64)


def _flexion_axis(
    sequence: PoseSequence, motions: Mapping[str, SegmentMotion], side: str, source: str
) -> NDArray[np.float64]:
    """(T, 3) unit flexion axis, to the athlete's right: a left → right landmark line or a segment's ``m`` axis."""
    if source.endswith("_line"):
        part = source.removesuffix("_line")
        line = sequence.joint(f"right_{part}") - sequence.joint(f"left_{part}")
        length = np.linalg.norm(line, axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(np.where(length > 1e-12, line / length, np.nan), dtype=np.float64)
    return np.asarray(motions[f"{side}_{source}"].axes[:, :, 1], dtype=np.float64)


def _convention(joint: str, distal: str, proximal: str, source: str, meaning: str) -> str:
    axis = f"left-right {source.replace('_', ' ')}" if source.endswith("_line") else f"{source} mediolateral axis"
    return (
        f"force and moment of the {proximal} on the {distal} at the {joint} landmark, in the sequence frame; "
        f"flexion moment about the {axis} (to the right), positive = internal {meaning} moment; "
        f"power = moment · (ω_{distal} − ω_{proximal}), positive = generation".replace("_", " ")
    )


def inverse_dynamics(
    sequence: PoseSequence,
    model: BodyModel,
    grf: GroundReactionEstimate,
    *,
    up: ArrayLike,
    gravity_m_s2: float = STANDARD_GRAVITY_M_S2,
) -> dict[str, JointKinetics]:
    """Net joint forces, moments and powers of the legs (bottom-up) and arms (top-down), keyed by joint.

    Parameters
    ----------
    sequence
        Metric pose sequence on the BlazePose skeleton.
    model
        Body model (segment masses and inertia).
    grf
        Ground reaction estimate of the same frames (:func:`estimate_ground_reaction`).
    up
        Unit 3-vector pointing up in the sequence's frame.
    gravity_m_s2
        Magnitude of gravity, m/s².

    Returns
    -------
    dict of str to JointKinetics
        One entry per name of :data:`JOINTS`; NaN where a landmark, a derivative, or (legs) the foot's ground
        reaction is unknown, and where a segment frame is ill-conditioned.

    Raises
    ------
    InvalidInputError
        ``up`` not a unit vector, a negative gravity, or ``grf`` for another number of frames.
    InvalidPoseDataError
        The sequence is not metric or lacks a landmark.

    """
    up_unit = up_unit_vector(up)
    g = -_check_gravity(gravity_m_s2) * up_unit
    n = sequence.n_frames
    if grf.per_foot_n.shape != (n, 2, 3) or grf.centre_of_pressure_m.shape != (n, 2, 3):
        raise InvalidInputError(
            f"grf must describe the same {n} frames as the sequence; got per_foot_n of shape {grf.per_foot_n.shape}",
            details={"frames": n, "shape": list(grf.per_foot_n.shape)},
        )
    motions = segment_motion(sequence, model)
    not_inertial = sequence.frame is CoordinateFrame.HIP_CENTRED
    out = {}
    for side_index, side in enumerate(FEET):
        for limb, chain in _CHAIN.items():
            if limb == "leg":
                ground_force = grf.per_foot_n[:, side_index]
                external_moment = cross(grf.centre_of_pressure_m[:, side_index], ground_force)
                # A foot known airborne carries exactly zero force at an undefined (NaN) point.
                external_moment[(ground_force == 0.0).all(axis=1)] = 0.0
            else:
                ground_force, external_moment = np.zeros((n, 3)), np.zeros((n, 3))
            # Balances are taken about the frame's origin O (equivalent to the COM form of the module docstring):
            # ``carried`` = F_D, the force on the distal neighbour, ``carried_moment`` = M_D + D × F_D.
            carried, carried_moment = np.zeros((n, 3)), np.zeros((n, 3))
            for joint, distal, proximal, source, sign, meaning in chain:
                motion = motions[f"{side}_{distal}"]
                joint_m = np.asarray(sequence.joint(f"{side}_{joint}"), dtype=np.float64)
                linear = motion.mass_kg * (motion.com_acceleration_m_s2 - g)
                force = linear - ground_force + carried
                # M_P + P × F_P, from d/dt H_O = dH_c/dt + c × m a_c = Σ (moments about O); gravity acts at c.
                about_origin = (
                    motion.angular_momentum_rate_n_m + cross(motion.com_m, linear) - external_moment + carried_moment
                )
                moment = about_origin - cross(joint_m, force)
                axis = _flexion_axis(sequence, motions, side, source)
                proximal_motion = motions[proximal if proximal == "trunk" else f"{side}_{proximal}"]
                relative = motion.angular_velocity_rad_s - proximal_motion.angular_velocity_rad_s
                name = f"{side}_{joint}"
                convention = _convention(joint, distal, proximal, source, meaning)
                if not_inertial:
                    force, moment = np.full((n, 3), np.nan), np.full((n, 3), np.nan)
                    convention = f"{convention}; {_NOT_INERTIAL}"
                out[name] = JointKinetics(
                    joint=name,
                    force_n=force,
                    moment_n_m=moment,
                    flexion_moment_n_m=sign * _dot(moment, axis),
                    power_w=_dot(moment, relative),
                    convention=convention,
                )
                ground_force, external_moment = np.zeros((n, 3)), np.zeros((n, 3))
                carried, carried_moment = force, about_origin
    return {name: out[name] for name in JOINTS}


def moment_per_kg(kinetics: dict[str, JointKinetics], mass_kg: float) -> dict[str, NDArray[np.float64]]:
    """Return each joint's (T,) flexion moment normalised by body mass, N·m/kg.

    Raises
    ------
    InvalidInputError
        If ``mass_kg`` is not a positive finite number.

    Examples
    --------
    >>> k = JointKinetics("left_knee", np.zeros((1, 3)), np.zeros((1, 3)), np.array([140.0]), np.zeros(1), "demo")
    >>> moment_per_kg({"left_knee": k}, 70.0)["left_knee"]
    array([2.])

    """
    if not (isinstance(mass_kg, int | float) and np.isfinite(mass_kg) and mass_kg > 0):
        raise InvalidInputError(f"mass_kg must be a positive finite number of kilograms; got {mass_kg!r}")
    return {name: k.flexion_moment_n_m / float(mass_kg) for name, k in kinetics.items()}
