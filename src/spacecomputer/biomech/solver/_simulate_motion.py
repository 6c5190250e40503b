"""The ground reaction force a motion implies, from the subject's MuJoCo humanoid, against the engine's estimate.

:func:`ground_reaction_of_motion` drives the humanoid (:mod:`spacecomputer.biomech.solver._mujoco_model`)
kinematically through a motion: each frame's ``qpos`` from the coordinates, ``qvel`` and ``qacc`` by finite
differences (the engine's schemes: central first differences, three-point second differences, the two end
frames taking their neighbour's acceleration), then ``mj_inverse`` with every constraint off (contacts, joint
limits, the girdle's equality). The free root's translational generalised force is then the whole external
force the motion needs, ``Σ mᵢ (aᵢ − g)`` over the bodies — which only the ground can supply. It is computed
on the multibody model in joint coordinates, independently of the engine's ``F = m (a_COM − g)`` on the
whole-body COM of the landmarks (:func:`~spacecomputer.biomech.estimate_ground_reaction` on
:meth:`~spacecomputer.biomech.solver.SkeletonModel.to_sequence`, with the engine's foot contacts); the two must
agree wherever the engine has a value, and :class:`MotionGroundReaction` says by how much.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import mujoco  # type: ignore[import-untyped]
import numpy as np
from numpy.typing import ArrayLike, NDArray

from spacecomputer.biomech._events import detect_foot_contacts
from spacecomputer.biomech._ground_reaction import estimate_ground_reaction
from spacecomputer.biomech.solver._dofs import DOF_NAMES
from spacecomputer.biomech.solver._mujoco_model import ROOT_QPOS, HumanoidModel
from spacecomputer.errors import InsufficientDataError, InvalidInputError

__all__ = ["MotionGroundReaction", "ground_reaction_of_motion"]

_CONSTANT_N = 1e-6
"""A force whose standard deviation is below this, N, is constant (no correlation is defined)."""


@dataclass(frozen=True, eq=False)
class MotionGroundReaction:
    """Ground reaction a motion implies (MuJoCo inverse dynamics) and the engine's estimate of it.

    Attributes
    ----------
    times_s
        (T,) s.
    force_n
        (T, 3) total force the ground must exert on the body, N, in the pose frame: the free root's generalised
        force from ``mj_inverse`` with every constraint off (``Σ mᵢ (aᵢ − g)`` over the bodies). Nothing is
        clipped: a negative vertical part (see ``pulling_frames``) or a horizontal part beyond friction is what
        the motion would need, where the engine's estimate clips it (``estimate_ground_reaction``).
    vertical_n, horizontal_n
        (T,) its component along ``up`` and the magnitude of its horizontal part, N.
    engine_force_n, engine_vertical_n
        (T, 3) and (T,) the engine's estimate (``estimate_ground_reaction`` on ``skeleton.to_sequence``, foot
        contacts by ``detect_foot_contacts``), N; NaN where it has none.
    compared
        (T,) frames where both are known.
    rms_difference_n
        Root mean square of the vertical difference over ``compared``, N.
    correlation
        Pearson correlation of the two vertical forces over ``compared`` (NaN if either is constant).
    mean_vertical_n, engine_mean_vertical_n, peak_vertical_n, engine_peak_vertical_n
        Mean and largest vertical force of each over ``compared``, N.
    weight_n
        Body weight, N.
    pulling_frames
        Frames whose vertical force is negative: the ground would have to pull (a motion not possible on the
        ground without flight).

    """

    times_s: NDArray[np.float64]
    force_n: NDArray[np.float64]
    vertical_n: NDArray[np.float64]
    horizontal_n: NDArray[np.float64]
    engine_force_n: NDArray[np.float64]
    engine_vertical_n: NDArray[np.float64]
    compared: NDArray[np.bool_]
    rms_difference_n: float
    correlation: float
    mean_vertical_n: float
    engine_mean_vertical_n: float
    peak_vertical_n: float
    engine_peak_vertical_n: float
    weight_n: float
    pulling_frames: int


def _finite_differences(
    humanoid: HumanoidModel, qpos: NDArray[np.float64], dt: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(T, nv) qvel and qacc of a qpos trajectory: the engine's central and three-point differences.

    Velocities between frames come from ``mj_differentiatePos`` (the free joint's rotation on the quaternion
    group); a frame's velocity is the mean of its two neighbours' (one-sided at the ends), its acceleration their
    difference over ``dt``, the two end frames taking their neighbour's (as ``second_derivative`` does).
    """
    model, n = humanoid.model, qpos.shape[0]
    half = np.empty((n - 1, model.nv))
    for k in range(n - 1):
        mujoco.mj_differentiatePos(model, half[k], dt, qpos[k], qpos[k + 1])
    qvel = np.empty((n, model.nv))
    qvel[1:-1] = 0.5 * (half[:-1] + half[1:])
    qvel[0], qvel[-1] = half[0], half[-1]
    qacc = np.empty((n, model.nv))
    qacc[1:-1] = (half[1:] - half[:-1]) / dt
    qacc[0], qacc[-1] = qacc[1], qacc[-2]
    return qvel, qacc


def ground_reaction_of_motion(humanoid: HumanoidModel, q_traj: ArrayLike, *, fps: float) -> MotionGroundReaction:
    """Drive the humanoid through a motion and return the ground reaction it implies, with the engine's estimate.

    Each frame's qpos, qvel and qacc are set from the trajectory (finite differences) and ``mj_inverse`` run with
    the contacts, limits and equality constraints off: the free root's generalised force is then the whole
    external force the motion needs, which only the ground can supply. The engine's estimate is computed on the
    same motion (:class:`MotionGroundReaction`).

    Parameters
    ----------
    humanoid
        The subject's humanoid.
    q_traj
        (T, D) coordinates, one row per frame, ``DOF_NAMES`` order, m and rad; T ≥ 3.
    fps
        Frame rate, Hz.

    Raises
    ------
    InvalidInputError
        ``q_traj`` not (T, D) or not finite, or ``fps`` not a positive number.
    InsufficientDataError
        Fewer than three frames.

    """
    if not (isinstance(fps, int | float) and np.isfinite(fps) and fps > 0):
        raise InvalidInputError(f"fps must be a positive frame rate, Hz; got {fps!r}")
    array = np.asarray(q_traj, dtype=np.float64)
    if array.ndim != 2:
        raise InvalidInputError(f"q_traj must have shape (T, {len(DOF_NAMES)}); got {array.shape}")
    q = humanoid.skeleton.coordinates(array)
    if q.shape[0] < 3:
        raise InsufficientDataError(f"a motion needs at least 3 frames for accelerations; got {q.shape[0]}")
    dt = 1.0 / float(fps)
    qpos = humanoid.qpos(q)
    qvel, qacc = _finite_differences(humanoid, qpos, dt)
    model = copy.copy(humanoid.model)
    model.opt.disableflags |= mujoco.mjtDisableBit.mjDSBL_CONSTRAINT
    data = mujoco.MjData(model)
    force = np.empty((q.shape[0], 3))
    for k in range(q.shape[0]):
        data.qpos[:], data.qvel[:], data.qacc[:] = qpos[k], qvel[k], qacc[k]
        mujoco.mj_inverse(model, data)
        force[k] = data.qfrc_inverse[ROOT_QPOS.start : ROOT_QPOS.start + 3]  # the free joint's translational dofs
    return _compare(humanoid, q, float(fps), force)


def _compare(
    humanoid: HumanoidModel, q: NDArray[np.float64], fps: float, force: NDArray[np.float64]
) -> MotionGroundReaction:
    up = humanoid.skeleton.up
    sequence = humanoid.skeleton.to_sequence(q, fps=fps)
    contacts = detect_foot_contacts(sequence, up=up)
    engine = estimate_ground_reaction(sequence, humanoid.body, contacts, up=up).total_n
    vertical, engine_vertical = force @ up, engine @ up
    horizontal = force - np.outer(vertical, up)
    compared = np.asarray(np.isfinite(engine_vertical), dtype=np.bool_)
    a, b = vertical[compared], engine_vertical[compared]
    nan = float("nan")
    correlation = nan
    if a.size > 1 and min(np.std(a), np.std(b)) > _CONSTANT_N:
        correlation = float(np.corrcoef(a, b)[0, 1])
    return MotionGroundReaction(
        times_s=np.arange(q.shape[0]) / fps,
        force_n=force,
        vertical_n=vertical,
        horizontal_n=np.linalg.norm(horizontal, axis=1),
        engine_force_n=engine,
        engine_vertical_n=engine_vertical,
        compared=compared,
        rms_difference_n=float(np.sqrt(np.mean((a - b) ** 2))) if a.size else nan,
        correlation=correlation,
        mean_vertical_n=float(a.mean()) if a.size else nan,
        engine_mean_vertical_n=float(b.mean()) if b.size else nan,
        peak_vertical_n=float(a.max()) if a.size else nan,
        engine_peak_vertical_n=float(b.max()) if b.size else nan,
        weight_n=humanoid.body.mass_kg * float(np.linalg.norm(humanoid.model.opt.gravity)),
        pulling_frames=int(np.sum(vertical < 0.0)),
    )
