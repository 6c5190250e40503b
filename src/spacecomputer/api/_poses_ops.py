"""What each pose-lab route computes, as plain functions of a :class:`FrameModel` and a stored session.

They are CPU work (milliseconds for a view or a manipulation, up to the time limit for an optimisation), so the
routes run them in worker threads. None of them writes the store: the routes do, under the session's lock.
"""

from __future__ import annotations

from functools import cache
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from spacecomputer.api._poses import PHASE_MAX_ITERATIONS, POSE_MAX_ITERATIONS, FrameModel
from spacecomputer.api._poses_public import (
    BalancePublic,
    GroundReactionPublic,
    HistoryPublic,
    JointRange,
    LimitsSummary,
    PoseSessionPublic,
    SavedPosePublic,
    finite,
    positions,
)
from spacecomputer.api._poses_schemas import ManipulationRequest, OptimiseRequest, SimulateRequest
from spacecomputer.api._poses_store import SESSION_TTL_S, StoredSession
from spacecomputer.biomech.solver import (
    DRAGGABLE_JOINTS,
    SETTABLE_ANGLES,
    BiomechanicalSolver,
    KeepFootOnGround,
    KeepPointAt,
    ManipulationResult,
    OptimisationProblem,
    Phase,
    PostureResult,
    QuasiStatics,
    SolveResult,
    build_humanoid,
    hold_posture,
    joint_limits,
    limits_source,
)
from spacecomputer.errors import InvalidInputError

__all__ = ["history_of", "manipulate", "optimise", "saved_poses", "session_view", "simulate"]

_FEET: tuple[Literal["left", "right"], ...] = ("left", "right")


def history_of(stored: StoredSession) -> HistoryPublic:
    """Return where ``stored`` stands in its history."""
    return HistoryPublic(
        steps=len(stored.history), cursor=stored.cursor, can_undo=stored.can_undo, can_redo=stored.can_redo
    )


@cache
def _ranges() -> dict[str, JointRange]:
    return {
        name: JointRange(lower=finite(limit.lower), upper=finite(limit.upper), source=limit.source)
        for name, limit in joint_limits().items()
    }


def session_view(model: FrameModel, stored: StoredSession) -> PoseSessionPublic:
    """Return the session's current pose with its statics, limits and history."""
    session = model.session(stored.origin, stored.current)
    return PoseSessionPublic(
        id=stored.id,
        analysis_id=stored.analysis_id,
        frame=stored.frame,
        angles_deg={name: finite(value) for name, value in session.angles.items()},
        joint_centres_m=positions(session.pose),
        balance=BalancePublic.of(session.balance),
        moments_n_m={joint: finite(value) for joint, value in session.moments.items()},
        ground_reaction=GroundReactionPublic.of(session.ground_reaction),
        limits=LimitsSummary(source=limits_source(), ranges=_ranges(), at_limit=model.at_limit(session.q)),
        body_mass_kg=model.body.mass_kg,
        fit_residual_rms_m=model.fit_residual_rms_m,
        history=history_of(stored),
        saved=list(stored.saved),
        expires_in_s=int(SESSION_TTL_S),
    )


def saved_poses(model: FrameModel, stored: StoredSession) -> list[SavedPosePublic]:
    """Return every saved pose with its angles, joint centres and balance."""
    out = []
    for label in stored.saved:
        session = model.session(stored.origin, stored.saved_q(label))
        out.append(
            SavedPosePublic(
                label=label,
                angles_deg={name: finite(value) for name, value in session.angles.items()},
                joint_centres_m=positions(session.pose),
                balance=BalancePublic.of(session.balance),
            )
        )
    return out


def _checked(request: ManipulationRequest) -> tuple[str, float | list[float]]:
    """Return the one manipulation of ``request``, its name checked against the kind asked for (valid names listed)."""
    if request.set:
        name, degrees = next(iter(request.set.items()))
        if name not in SETTABLE_ANGLES:
            hint = " (a joint centre: drag it instead)" if name in DRAGGABLE_JOINTS else ""
            raise InvalidInputError(
                f"unknown angle {name!r} to set{hint}; settable angles: {', '.join(SETTABLE_ANGLES)}",
                details={"name": name, "valid": list(SETTABLE_ANGLES)},
            )
        return name, degrees
    name, position = next(iter((request.drag or {}).items()))
    if name not in DRAGGABLE_JOINTS:
        hint = " (an angle: set it instead)" if name in SETTABLE_ANGLES else ""
        raise InvalidInputError(
            f"unknown joint {name!r} to drag{hint}; draggable joints: {', '.join(DRAGGABLE_JOINTS)}",
            details={"name": name, "valid": list(DRAGGABLE_JOINTS)},
        )
    return name, position


def manipulate(model: FrameModel, stored: StoredSession, request: ManipulationRequest) -> ManipulationResult:
    """Apply the manipulation to the current pose (the caller pushes ``result.q`` onto the history)."""
    name, target = _checked(request)
    return model.session(stored.origin, stored.current).manipulate(name, target)


def _keep(
    request: OptimiseRequest, statics: QuasiStatics, starts: NDArray[np.float64]
) -> tuple[KeepFootOnGround | KeepPointAt, ...]:
    """Return the task constraints: the feet asked for (default: those on the ground at the start) and the points."""
    if request.keep_feet is None:
        touching = np.asarray(statics.analyse_q(starts).in_contact.any(axis=0), dtype=np.bool_)
        sides = tuple(side for side, down in zip(_FEET, touching, strict=True) if down)
    else:
        sides = tuple(request.keep_feet)
    points = tuple(
        KeepPointAt(
            point.name,
            height_m=point.height_m,
            position_m=None
            if point.position_m is None
            else (point.position_m[0], point.position_m[1], point.position_m[2]),
        )
        for point in request.keep_points
    )
    return (*(KeepFootOnGround(side) for side in sides), *points)


def optimise(
    model: FrameModel, stored: StoredSession, start: NDArray[np.float64], request: OptimiseRequest
) -> SolveResult:
    """Optimise the pose ``start`` (the current one) or the phase from the session's frame (``request.phase``)."""
    session = model.session(stored.origin, start)
    phase = None
    if request.phase is not None:
        trajectory = model.phase(stored.frame, request.phase.frames)
        phase = Phase(trajectory, fps=model.fps, smoothness_weight=request.phase.smoothness_weight)
    problem = OptimisationProblem(
        request.objective,
        preserve=tuple(request.preserve),
        keep=_keep(request, session.statics, phase.q if phase is not None else start[None]),
        balance_required=request.balance_required,
        balance_margin_m=request.balance_margin_m,
        max_change_deg=request.max_change_deg,
        max_shift_m=request.max_shift_m,
        phase=phase,
    )
    iterations = POSE_MAX_ITERATIONS if phase is None else PHASE_MAX_ITERATIONS
    return BiomechanicalSolver(session, max_iterations=iterations).solve(problem)


def simulate(model: FrameModel, start: NDArray[np.float64], request: SimulateRequest) -> PostureResult:
    """Simulate ``start`` from rest on the subject's humanoid."""
    humanoid = build_humanoid(model.model, model.body, ground_level_m=model.ground_level_m)
    return hold_posture(start, humanoid=humanoid, duration_s=request.duration_s, controller=request.controller)
