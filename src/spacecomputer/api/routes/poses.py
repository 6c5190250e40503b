"""``/poses/sessions``: the pose lab over HTTP — a session on an analysis's frame; manipulate, optimise, simulate.

A session is opened on a frame of one of my succeeded analyses (:class:`~spacecomputer.biomech.solver.PoseSession`:
the subject's skeleton fitted to the frame, its joint limits and the run's ground reaction) and kept in the
platform cache (:mod:`spacecomputer.api._poses_store`), so that any API instance can continue it; each request
rebuilds the pose lab from the run files and the stored poses (:mod:`spacecomputer.api._poses`). Every route needs
``analysis.request``; another user's session or analysis is a 404, like one that does not exist.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated

import numpy as np
from fastapi import APIRouter, Depends, Query, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from spacecomputer.api._deps import API_PREFIX, CurrentUser, PlatformDep, SessionDep, require_permission
from spacecomputer.api._errors import BODY, error_responses
from spacecomputer.api._platform import Platform
from spacecomputer.api._platform_metrics import PlatformMetrics, PlatformMetricsDep
from spacecomputer.api._poses import FrameModel, PoseLab, pose_lab
from spacecomputer.api._poses_ops import history_of, manipulate, optimise, saved_poses, session_view, simulate
from spacecomputer.api._poses_public import (
    ManipulationPublic,
    PoseComparisonPublic,
    PoseSessionPublic,
    SavedPosePublic,
    SavedPoses,
)
from spacecomputer.api._poses_schemas import (
    MAX_LABEL_LENGTH,
    ManipulationRequest,
    OptimiseRequest,
    PoseSessionCreate,
    SavePoseRequest,
    SimulateRequest,
)
from spacecomputer.api._poses_solve_public import PostureSimulationPublic, SolvePublic
from spacecomputer.api._poses_store import PoseSessionStore, StoredSession
from spacecomputer.api._runs import RunFiles, owned_analysis
from spacecomputer.errors import ConflictError

__all__ = ["router"]

router = APIRouter(
    prefix=f"{API_PREFIX}/poses/sessions",
    tags=["poses"],
    dependencies=[Depends(require_permission("analysis.request"))],
    # Every route reads a session or an analysis of the caller's (404), waits for the session's lock or needs a
    # succeeded analysis (409), and fits the analysis's frame (422 for one without a pose).
    responses=error_responses(401, 403, 404, 409, 422),
)
_Label = Annotated[str, Query(min_length=1, max_length=MAX_LABEL_LENGTH, description="A saved pose's label.")]


@dataclass
class _Poses:
    """What a pose route works with: the caller's sessions, the app's pose lab, and the way to the run files."""

    user_id: uuid.UUID
    store: PoseSessionStore
    lab: PoseLab
    platform: Platform
    metrics: PlatformMetrics
    database: AsyncSession

    async def frame_model(self, analysis_id: uuid.UUID, frame: int) -> FrameModel:
        """Return the skeleton fitted to ``frame`` of my analysis (404: not mine or gone; 409: not succeeded)."""
        analysis = await owned_analysis(self.database, self.user_id, analysis_id)
        run = RunFiles.of(self.platform, self.metrics, analysis)
        await self.database.rollback()  # release the connection while the run files are read and fitted
        return await self.lab.frame_model(run, analysis_id, frame)

    @asynccontextmanager
    async def session(self, session_id: uuid.UUID) -> AsyncIterator[tuple[StoredSession, FrameModel]]:
        """Hold the session's lock, yield it with its frame model, then store it again (its changes, a new lifetime)."""
        async with self.store.locked(session_id):
            stored = await self.store.get(session_id)
            model = await self.frame_model(stored.analysis_id, stored.frame)
            yield stored, model
            await self.store.put(stored)


async def _poses(
    user: CurrentUser,
    database: SessionDep,
    platform: PlatformDep,
    metrics: PlatformMetricsDep,
    lab: Annotated[PoseLab, Depends(pose_lab)],
) -> _Poses:
    return _Poses(user.id, PoseSessionStore(platform.cache, user.id), lab, platform, metrics, database)


PosesDep = Annotated[_Poses, Depends(_poses)]


@router.post("", status_code=status.HTTP_201_CREATED, responses=error_responses(*BODY))
async def create_session(body: PoseSessionCreate, response: Response, poses: PosesDep) -> PoseSessionPublic:
    """Open a pose session on a frame of one of my succeeded analyses: its pose, statics and limits.

    404 for an analysis that is not mine, 409 for one that has not succeeded, 422 for a frame out of range (the
    valid range is named) or without a pose (the frames with one are listed).
    """
    model = await poses.frame_model(body.analysis_id, body.frame)
    stored = StoredSession(
        id=uuid.uuid4(),
        owner_id=poses.user_id,
        analysis_id=body.analysis_id,
        frame=body.frame,
        history=[model.fitted_q.tolist()],
    )
    await poses.store.put(stored)
    response.headers["Location"] = f"{router.prefix}/{stored.id}"
    return await asyncio.to_thread(session_view, model, stored)


@router.get("/{session_id}")
async def read_session(session_id: uuid.UUID, poses: PosesDep) -> PoseSessionPublic:
    """Return the session's current pose: angles, joint centres, balance, moments, ground reaction, limits."""
    async with poses.session(session_id) as (stored, model):
        return await asyncio.to_thread(session_view, model, stored)


@router.post("/{session_id}/manipulate", responses=error_responses(*BODY))
async def manipulate_pose(session_id: uuid.UUID, body: ManipulationRequest, poses: PosesDep) -> ManipulationPublic:
    """Set an angle or drag a joint centre: limits enforced, bone lengths kept; what followed for balance and loads.

    422 for an unknown name (the valid ones are listed) or a target that is not finite numbers.
    """
    async with poses.session(session_id) as (stored, model):
        result = await asyncio.to_thread(manipulate, model, stored, body)
        stored.push(result.q)
        return ManipulationPublic.of(result, history_of(stored))


@router.post("/{session_id}/undo")
async def undo(session_id: uuid.UUID, poses: PosesDep) -> PoseSessionPublic:
    """Go back to the pose before the last change; 409 when there is none."""
    async with poses.session(session_id) as (stored, model):
        stored.undo()
        return await asyncio.to_thread(session_view, model, stored)


@router.post("/{session_id}/redo")
async def redo(session_id: uuid.UUID, poses: PosesDep) -> PoseSessionPublic:
    """Re-apply the last undone change; 409 when there is none (a new change clears them)."""
    async with poses.session(session_id) as (stored, model):
        stored.redo()
        return await asyncio.to_thread(session_view, model, stored)


@router.post("/{session_id}/saved", status_code=status.HTTP_201_CREATED, responses=error_responses(*BODY))
async def save_pose(session_id: uuid.UUID, body: SavePoseRequest, poses: PosesDep) -> SavedPosePublic:
    """Keep the current pose under a label (replacing one saved under the same label)."""
    async with poses.session(session_id) as (stored, model):
        stored.save(body.label)
        saved = await asyncio.to_thread(saved_poses, model, stored)
        return next(pose for pose in saved if pose.label == body.label)


@router.get("/{session_id}/saved")
async def list_saved(session_id: uuid.UUID, poses: PosesDep) -> SavedPoses:
    """List the saved poses (first saved first) with their angles, joint centres and balance."""
    async with poses.session(session_id) as (stored, model):
        return SavedPoses(items=await asyncio.to_thread(saved_poses, model, stored))


@router.get("/{session_id}/compare")
async def compare_saved(session_id: uuid.UUID, a: _Label, b: _Label, poses: PosesDep) -> PoseComparisonPublic:
    """Compare two saved poses, ``b`` relative to ``a``: angles, moments, balance, COM shift (404 names the saved)."""
    async with poses.session(session_id) as (stored, model):
        saved = {a: stored.saved_q(a), b: stored.saved_q(b)}

        def compare() -> PoseComparisonPublic:
            return PoseComparisonPublic.of(model.session(stored.origin, stored.current, saved).compare(a, b))

        return await asyncio.to_thread(compare)


@router.post("/{session_id}/optimise", responses=error_responses(*BODY))
async def optimise_pose(session_id: uuid.UUID, body: OptimiseRequest, poses: PosesDep) -> SolvePublic:
    """Find the pose (or the phase from the session's frame) that best meets an objective under the constraints.

    The result names the active constraints, or the violated ones when they cannot all be met (``infeasible``;
    nothing is relaxed), and an independent recomputation. ``apply`` makes a feasible optimum the current pose
    (409 if the session changed meanwhile). Bounded: a phase of at most the solver's frames, an iteration cap and a
    time limit (422 past it); 503 when the lab is busy.
    """
    async with poses.session(session_id) as (stored, model):
        start = stored.current
    result = await poses.lab.bounded(lambda: optimise(model, stored, start, body), what="optimisation")
    applied = body.apply and not result.infeasible
    if applied:
        async with poses.session(session_id) as (latest, _):
            if not np.array_equal(latest.current, start):
                raise ConflictError(
                    "the session's pose changed while it was being optimised: the result was not applied",
                    details={"id": str(session_id)},
                )
            latest.push(result.q)
    return SolvePublic.of(result, applied=applied)


@router.post("/{session_id}/simulate", responses=error_responses(*BODY))
async def simulate_pose(session_id: uuid.UUID, body: SimulateRequest, poses: PosesDep) -> PostureSimulationPublic:
    """Simulate the current pose from rest (MuJoCo): does it hold, and if not where and how fast does it fall."""
    async with poses.session(session_id) as (stored, model):
        start = stored.current
    result = await poses.lab.bounded(lambda: simulate(model, start, body), what="simulation")
    return PostureSimulationPublic.of(result)


@router.delete("/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_session(session_id: uuid.UUID, poses: PosesDep) -> None:
    """End the session (404 if there is none of mine)."""
    async with poses.store.locked(session_id):
        await poses.store.get(session_id)
        await poses.store.delete(session_id)
