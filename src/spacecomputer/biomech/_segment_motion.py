"""Rigid-segment motion from landmarks: orientation frames, COM motion, angular velocity and acceleration.

Every segment of the de Leva model (:mod:`spacecomputer.biomech._body_model`) gets, frame by frame, an
orthonormal right-handed frame whose columns are its three principal axes, in the order of de Leva's radii
of gyration: *anteroposterior* (``a``, "sagittal"), *mediolateral* (``m``, "transverse", pointing to the
athlete's right on both sides) and *longitudinal* (``l``).

Segment axes (our own landmark approximations)
----------------------------------------------
=======================  ==========================  ===================================================
segment                  longitudinal ``l``          mediolateral ``m`` (made perpendicular to ``l``)
=======================  ==========================  ===================================================
head                     vertex → mid-shoulders      left ear → right ear
trunk                    mid-shoulders → mid-hips    (left → right shoulder) + (left → right hip)
thigh, shank             hip → knee, knee → ankle    left → right hip (the pelvis's left-right line)
upper arm, forearm       shoulder → elbow → wrist    left → right shoulder (the thorax's left-right line)
hand                     wrist → mid(index, pinky)   left → right shoulder
foot                     heel → foot index           ``l × a``, with ``a`` = heel → ankle made ⟂ ``l``
=======================  ==========================  ===================================================

and ``a = m × l`` (the foot: ``a`` as above, pointing from the sole to the instep). Why: two points fix
a segment's long axis but not its spin about it. BlazePose's wrist/hand and knee/ankle points cannot
observe that spin (see the unavailable axial rotations of :mod:`spacecomputer.biomech._kinematics`), so
a limb's mediolateral axis borrows the pelvis's or the thorax's left-right line: a limb spins with the
body it hangs from. The foot is the exception, as heel, ankle and toe span a plane. The choice only
matters through (i) the spin rate ``ω · l``, (ii) the split between the sagittal and transverse
moments, whose radii of gyration differ by less than 10 % for every segment but the hand (de Leva's Table 4), and
(iii) the axis onto which flexion moments are projected. A frame is NaN where its mediolateral
reference comes within :data:`~spacecomputer.biomech._angles.CONDITIONING_LIMIT_DEG` of the long axis
(an arm raised sideways to the shoulder line, a thigh along the hip line), as the joint angles are.

Angular velocity and acceleration come from the rotation matrix ``R(t)`` (columns ``a, m, l``):
``Ṙ Rᵀ = [ω]×`` and, since ``R̈ Rᵀ = [α]× + [ω]×²`` with a symmetric second term, ``[α]×`` is the
skew-symmetric part of ``R̈ Rᵀ``; both are computed as ``½ Σₖ eₖ × ėₖ`` (resp. ``ëₖ``) over the columns.
``Ṙ`` and ``R̈`` are the central differences of
:func:`~spacecomputer.biomech._kinematics.linear_velocity_m_s` and
:func:`~spacecomputer.biomech._kinematics.linear_acceleration_m_s2` applied to the matrix entries
(within NaN-free runs), so angular and linear accelerations carry the same ``O(h²)`` error; as for linear
accelerations, the two end frames of a run take their neighbour's α. Units are SI (rad/s, rad/s²), in the
sequence's own frame.

The sums are evaluated expanded: each difference formula is a weighted sum of neighbouring frames, and
``eₖ(t) × eₖ(t) = 0``, so with ``X(t) = Σₖ eₖ(t) × eₖ(t+1)`` and the steps ``h₋``, ``h₊`` around frame ``t``,
``ω = ½ (c X(t) − a X(t−1))`` (``a``, ``c``: the outer weights of the non-uniform central difference, which are
``∓1/2h`` for equal steps), ``ω = ½ X / h`` at a run's ends, and ``α = (h₋ X(t) − h₊ X(t−1)) / (h₋ h₊ (h₋ + h₊))``.
The same numbers as differentiating the nine entries of ``R`` and crossing, to rounding, at a third of the cost.
All fourteen segments are computed together, each on its own NaN-free runs, once per sequence and model
(:mod:`spacecomputer.biomech._memo`), so inverse dynamics and the energies share the result.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from spacecomputer.biomech._angles import CONDITIONING_LIMIT_DEG
from spacecomputer.biomech._body_model import BodyModel, segment_com, segment_endpoints, segment_inertia
from spacecomputer.biomech._differences import first_derivative, run_ends, second_derivative
from spacecomputer.biomech._memo import frozen_mapping, per_sequence, readonly
from spacecomputer.domain import PoseSequence

__all__ = ["SegmentMotion", "cross", "segment_axes", "segment_motion"]

_MIN_SIN = float(np.sin(np.radians(CONDITIONING_LIMIT_DEG)))
_TINY_M = 1e-12
"""Shorter vectors (coincident landmarks) have no direction."""


@dataclass(frozen=True, eq=False)
class SegmentMotion:
    """Mass, inertia and motion of one rigid segment, in the sequence's frame (NaN where unknown).

    Attributes
    ----------
    name
        Segment name (``"left_shank"``).
    mass_kg
        Segment mass, kg.
    principal_inertia_kg_m2
        (3,) moments of inertia about the COM along the columns of :attr:`axes`, kg·m².
    axes
        (T, 3, 3) rotation matrices ``R``; columns = anteroposterior, mediolateral (to the right), longitudinal.
    com_m, com_velocity_m_s, com_acceleration_m_s2
        (T, 3) segment centre of mass and its central-difference derivatives.
    angular_velocity_rad_s, angular_acceleration_rad_s2
        (T, 3) ω and α of the segment frame.

    """

    name: str
    mass_kg: float
    principal_inertia_kg_m2: NDArray[np.float64]
    axes: NDArray[np.float64]
    com_m: NDArray[np.float64]
    com_velocity_m_s: NDArray[np.float64]
    com_acceleration_m_s2: NDArray[np.float64]
    angular_velocity_rad_s: NDArray[np.float64]
    angular_acceleration_rad_s2: NDArray[np.float64]

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, np.ndarray):
                value.setflags(write=False)

    @property
    def inertia_kg_m2(self) -> NDArray[np.float64]:
        """(T, 3, 3) inertia tensor about the COM in the sequence's frame, ``R diag(I) Rᵀ``, kg·m²."""
        return np.asarray((self.axes * self.principal_inertia_kg_m2) @ self.axes.transpose(0, 2, 1), dtype=np.float64)

    def inertia_times(self, vector: NDArray[np.float64]) -> NDArray[np.float64]:
        """Return ``I v`` for (T, 3) vectors ``v`` (``R (diag(I) (Rᵀ v))``, without forming the tensor)."""
        along_axes = np.einsum("tij,ti->tj", self.axes, vector) * self.principal_inertia_kg_m2
        return np.asarray(np.einsum("tij,tj->ti", self.axes, along_axes), dtype=np.float64)

    @cached_property
    def angular_momentum_rate_n_m(self) -> NDArray[np.float64]:
        """(T, 3) rate of change of the angular momentum about the COM, ``I α + ω × (I ω)``, N·m (read-only)."""
        omega = self.angular_velocity_rad_s
        return readonly(self.inertia_times(self.angular_acceleration_rad_s2) + cross(omega, self.inertia_times(omega)))

    @cached_property
    def rotational_energy_j(self) -> NDArray[np.float64]:
        """(T,) rotational kinetic energy ``½ ωᵀ I ω``, J (read-only)."""
        along_axes = np.einsum("tij,ti->tj", self.axes, self.angular_velocity_rad_s)
        return readonly(np.asarray(0.5 * ((along_axes * along_axes) @ self.principal_inertia_kg_m2), dtype=np.float64))


def cross(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return the row-wise cross product of (T, 3) arrays (``numpy.cross`` is several times slower on rows)."""
    out = np.empty(np.broadcast_shapes(a.shape, b.shape))
    out[:, 0] = a[:, 1] * b[:, 2] - a[:, 2] * b[:, 1]
    out[:, 1] = a[:, 2] * b[:, 0] - a[:, 0] * b[:, 2]
    out[:, 2] = a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]
    return out


def _landmark(sequence: PoseSequence, name: str) -> NDArray[np.float64]:
    return np.asarray(sequence.joint(name), dtype=np.float64)


def _reference(sequence: PoseSequence, segment: str) -> NDArray[np.float64]:
    """Return the line that fixes the segment's spin (module table): left → right, or heel → ankle for a foot."""

    def line(part: str) -> NDArray[np.float64]:
        return _landmark(sequence, f"right_{part}") - _landmark(sequence, f"left_{part}")

    if segment.endswith("foot"):
        side = segment.removesuffix("_foot")
        return _landmark(sequence, f"{side}_ankle") - _landmark(sequence, f"{side}_heel")
    if segment == "head":
        return line("ear")
    if segment == "trunk":
        return line("shoulder") + line("hip")
    if segment.endswith(("thigh", "shank")):
        return line("hip")
    return line("shoulder")


# Component-major helpers: vectors are (3, S, T) arrays, so that every operation runs on contiguous planes.


def _components(vectors: list[NDArray[np.float64]]) -> NDArray[np.float64]:
    """S arrays (T, 3) → one contiguous (3, S, T)."""
    out = np.empty((3, len(vectors), vectors[0].shape[0]))
    for s, vector in enumerate(vectors):
        out[:, s] = vector.T
    return out


def _norm(v: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(np.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]), dtype=np.float64)


def _unit(v: NDArray[np.float64]) -> NDArray[np.float64]:
    length = _norm(v)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = v / length
    out[:, ~(length > _TINY_M)] = np.nan
    return np.asarray(out, dtype=np.float64)


def _perpendicular_unit(v: NDArray[np.float64], axis: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return the unit part of ``v`` perpendicular to the unit ``axis``; NaN within the conditioning limit."""
    perpendicular = v - (v[0] * axis[0] + v[1] * axis[1] + v[2] * axis[2]) * axis
    length = _norm(perpendicular)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = perpendicular / length
    out[:, ~((length > _TINY_M) & (length >= _MIN_SIN * _norm(v)))] = np.nan
    return np.asarray(out, dtype=np.float64)


def _cross(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    out = np.empty(np.broadcast_shapes(a.shape, b.shape))
    out[0] = a[1] * b[2] - a[2] * b[1]
    out[1] = a[2] * b[0] - a[0] * b[2]
    out[2] = a[0] * b[1] - a[1] * b[0]
    return out


@dataclass(frozen=True, eq=False)
class _Frames:
    """The principal axes of every segment (read-only)."""

    columns: NDArray[np.float64]  # (3, 3, S, T): component i of axis k (a, m, l) of segment s at frame t
    per_segment: Mapping[str, NDArray[np.float64]]  # name -> (T, 3, 3) rotation matrices, views of ``columns``


@per_sequence
def _segment_frames(sequence: PoseSequence, model: BodyModel) -> _Frames:
    """Build the axes of the module table for all segments at once (each as the per-segment rule says)."""
    ends = [segment_endpoints(sequence, segment) for segment in model.segments]
    longitudinal = _unit(_components([distal - proximal for proximal, distal in ends]))
    reference = _perpendicular_unit(_components([_reference(sequence, s.name) for s in model.segments]), longitudinal)
    turned = _cross(reference, longitudinal)
    # Limbs: m = the reference made ⟂ l, a = m × l. Feet: a = heel → ankle made ⟂ l, m = l × a = −(a × l).
    foot = np.array([s.name.endswith("foot") for s in model.segments])[:, None]
    columns = np.empty((3, 3, *longitudinal.shape[1:]))
    columns[:, 0] = np.where(foot, reference, turned)
    columns[:, 1] = np.where(foot, -turned, reference)
    columns[:, 2] = longitudinal
    readonly(columns)
    return _Frames(
        columns, frozen_mapping({s.name: columns[:, :, i].transpose(2, 0, 1) for i, s in enumerate(model.segments)})
    )


def segment_axes(sequence: PoseSequence, model: BodyModel) -> dict[str, NDArray[np.float64]]:
    """Return each segment's (T, 3, 3) principal axes (columns ``a, m, l``; module table), NaN where ill-defined.

    The arrays are read-only (computed once per sequence and model, and shared).

    Raises
    ------
    InvalidPoseDataError
        The sequence is not metric or lacks a BlazePose landmark a segment needs.

    """
    return dict(_segment_frames(sequence, model).per_segment)


def _angular_rates(e: NDArray[np.float64], t: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return ω and α, (3, S, T), of the frames ``e`` (:attr:`_Frames.columns`; module docstring)."""
    n_segments, n = e.shape[2:]
    seen = np.isfinite(e).all(axis=(0, 1))  # (S, T)
    if not seen.all():
        e = np.where(seen, e, np.nan)
    omega, alpha = np.full((3, n_segments, n), np.nan), np.full((3, n_segments, n), np.nan)
    if n >= 2:
        dt = np.diff(t)
        turn = np.zeros((3, n_segments, n - 1))  # X(t) = Σₖ eₖ(t) × eₖ(t + 1)
        for k in range(3):
            now, later = e[:, k, :, :-1], e[:, k, :, 1:]
            for i, (j, m) in enumerate(((1, 2), (2, 0), (0, 1))):
                turn[i] += now[j] * later[m] - now[m] * later[j]
        if n > 2:  # every sample with both neighbours seen; NaN (a missing frame's X) elsewhere
            before, after = dt[:-1], dt[1:]
            a, c = -after / (before * (before + after)), before / (after * (before + after))
            omega[:, :, 1:-1] = 0.5 * (c * turn[:, :, 1:] - a * turn[:, :, :-1])
            alpha[:, :, 1:-1] = (before * turn[:, :, 1:] - after * turn[:, :, :-1]) / (
                before * after * (before + after)
            )
        first, last = run_ends(np.asarray(seen.T, dtype=np.bool_), min_length=2)  # one-sided differences
        frame, segment = np.nonzero(first)
        omega[:, segment, frame] = 0.5 * turn[:, segment, frame] / dt[frame]
        frame, segment = np.nonzero(last)
        omega[:, segment, frame] = 0.5 * turn[:, segment, frame - 1] / dt[frame - 1]
        first, last = run_ends(np.asarray(seen.T, dtype=np.bool_), min_length=3)  # α at a run's ends: the neighbour's
        frame, segment = np.nonzero(first)
        alpha[:, segment, frame] = alpha[:, segment, frame + 1]
        frame, segment = np.nonzero(last)
        alpha[:, segment, frame] = alpha[:, segment, frame - 1]
    return omega, alpha


@per_sequence
def segment_motion(sequence: PoseSequence, model: BodyModel) -> Mapping[str, SegmentMotion]:
    """Return the mass, inertia tensor and motion of every segment, keyed by segment name.

    The result is computed once per sequence and model (a sequence and a model never change), so that
    inverse dynamics and the energy of the same sequence share one computation; the mapping and its arrays
    are read-only.

    Parameters
    ----------
    sequence
        Metric pose sequence (``hip_centred``, ``camera`` or ``world``) on the BlazePose skeleton.
    model
        Body segment model (masses and radii of gyration).

    Returns
    -------
    Mapping of str to SegmentMotion
        Arrays (T, …) in the sequence's frame, SI units; NaN where a landmark is missing, a frame is
        ill-conditioned, or a derivative's NaN-free run is too short (fewer than 2 frames for velocities,
        3 for accelerations).

    Raises
    ------
    InvalidPoseDataError
        The sequence is not metric or lacks a BlazePose landmark.

    """
    t = sequence.timestamps_s
    names = [s.name for s in model.segments]
    coms = segment_com(sequence, model)
    inertias = segment_inertia(sequence, model)
    frames = _segment_frames(sequence, model)
    # The COMs time-innermost, (S, 3, T), seen by the derivatives as (T, S, 3): each segment is differentiated
    # on its own NaN-free runs, all in one call, with the per-frame weights running along contiguous memory.
    com = np.ascontiguousarray(np.stack([coms[name] for name in names]).transpose(0, 2, 1))
    com_seen = np.asarray(np.isfinite(com).all(axis=1).T, dtype=np.bool_)
    com_t = np.moveaxis(com, 2, 0)
    velocity, acceleration = first_derivative(com_t, t, com_seen), second_derivative(com_t, t, com_seen)
    omega, alpha = _angular_rates(frames.columns, t)
    principal = np.array(
        [[i.sagittal_kg_m2, i.transverse_kg_m2, i.longitudinal_kg_m2] for i in (inertias[name] for name in names)]
    )
    rate, energy = _spin_terms(frames.columns, principal, omega, alpha)
    omega, alpha, rate = (np.ascontiguousarray(v.transpose(1, 2, 0)) for v in (omega, alpha, rate))  # (S, T, 3)
    out = {}
    for index, name in enumerate(names):
        out[name] = SegmentMotion(
            name=name,
            mass_kg=inertias[name].mass_kg,
            principal_inertia_kg_m2=principal[index],
            axes=frames.per_segment[name],
            com_m=coms[name],
            com_velocity_m_s=np.ascontiguousarray(velocity[:, index]),
            com_acceleration_m_s2=np.ascontiguousarray(acceleration[:, index]),
            angular_velocity_rad_s=omega[index],
            angular_acceleration_rad_s2=alpha[index],
        )
        # The cached properties, computed above for all segments at once (cached_property keeps its value in
        # the instance's __dict__, which a frozen dataclass leaves writable).
        vars(out[name]).update(
            angular_momentum_rate_n_m=readonly(rate[index]), rotational_energy_j=readonly(energy[index])
        )
    return frozen_mapping(out)


def _spin_terms(
    e: NDArray[np.float64], principal: NDArray[np.float64], omega: NDArray[np.float64], alpha: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``I α + ω × (I ω)`` (3, S, T) and ``½ ωᵀ I ω`` (S, T) of every segment, ``I = R diag(principal) Rᵀ``.

    ``e`` is :attr:`_Frames.columns`, ``principal`` (S, 3), ``omega`` and ``alpha`` (3, S, T): what
    :attr:`SegmentMotion.angular_momentum_rate_n_m` and :attr:`SegmentMotion.rotational_energy_j` compute for
    one segment, written out over contiguous (S, T) planes.
    """
    moments = principal.T[:, :, None]  # (3, S, 1)

    def along_axes(v: NDArray[np.float64]) -> list[NDArray[np.float64]]:  # Rᵀ v
        return [e[0, k] * v[0] + e[1, k] * v[1] + e[2, k] * v[2] for k in range(3)]

    def inertia_times(along: list[NDArray[np.float64]]) -> NDArray[np.float64]:  # R diag(I) (Rᵀ v)
        scaled = [along[k] * moments[k] for k in range(3)]
        out = np.empty((3, *scaled[0].shape))
        for i in range(3):
            out[i] = e[i, 0] * scaled[0] + e[i, 1] * scaled[1] + e[i, 2] * scaled[2]
        return out

    spin = along_axes(omega)
    rate = inertia_times(along_axes(alpha)) + _cross(omega, inertia_times(spin))
    energy = 0.5 * (spin[0] * spin[0] * moments[0] + spin[1] * spin[1] * moments[1] + spin[2] * spin[2] * moments[2])
    return rate, energy
