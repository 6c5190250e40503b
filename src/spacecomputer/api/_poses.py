"""The pose lab behind ``/poses/sessions``: fitted frames, sessions resumed from the cache, bounded solver work.

- :class:`FrameModel`: the skeleton fitted to one frame of a run, with its body model, ground level and the run's
  ground reaction for that frame; built from the run files (copied from the blob store to a scratch folder) by
  :meth:`PoseLab.frame_model` and kept in process, :data:`MODEL_CACHE_SIZE` of them, least recently used first out
  (a run never changes once stored, so nothing goes stale; another instance builds its own).
- :meth:`FrameModel.session` rebuilds a :class:`~spacecomputer.biomech.solver.PoseSession` from a stored session:
  the frame's own pose as its origin (the anchor of drags and the pose whose ground reaction is the run's), the
  current pose, and the saved poses a comparison needs.
- :meth:`PoseLab.bounded`: optimisations and simulations run in worker threads, at most :data:`SOLVER_SLOTS` at once
  per process (a request waits :data:`SLOT_WAIT_S` for one, then gets 503), and answer within
  :data:`SOLVE_TIME_LIMIT_S` or 422. A thread cannot be stopped, so the work itself is bounded too: by the
  solver's iteration caps (:data:`POSE_MAX_ITERATIONS`, :data:`PHASE_MAX_ITERATIONS`), the phase length and the
  simulated time; a late thread keeps its slot until it ends, so late work never piles up.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
from fastapi import Request
from numpy.typing import NDArray

from spacecomputer.api._runs import RunFiles
from spacecomputer.biomech import BodyModel
from spacecomputer.biomech.solver import (
    CORE_LANDMARKS,
    DOF_NAMES,
    MAX_PHASE_FRAMES,
    FrameGroundReaction,
    PoseSession,
    SkeletonModel,
)
from spacecomputer.domain import BLAZEPOSE_33, PoseSequence
from spacecomputer.errors import InsufficientDataError, InvalidInputError, NotFoundError, UpstreamUnavailableError

__all__ = [
    "MODEL_CACHE_SIZE",
    "PHASE_MAX_ITERATIONS",
    "POSE_MAX_ITERATIONS",
    "SLOT_WAIT_S",
    "SOLVER_SLOTS",
    "SOLVE_TIME_LIMIT_S",
    "FrameModel",
    "PoseLab",
    "pose_lab",
]

MODEL_CACHE_SIZE = 32
"""Fitted frames kept per process (our own; each is a skeleton and a few frames of landmarks)."""
SOLVER_SLOTS = 2
"""Optimisations and simulations running at once per API process (our own: the machines have 2 cores)."""
SLOT_WAIT_S = 10.0
"""How long a request waits for a solver slot before answering 503, s (our own)."""
SOLVE_TIME_LIMIT_S = 30.0
"""Longest an optimisation or simulation may take before the request is answered 422, s (our own)."""
POSE_MAX_ITERATIONS = 100
"""SLSQP iterations of a single-pose optimisation (the solver's default)."""
PHASE_MAX_ITERATIONS = 25
"""SLSQP iterations of a phase optimisation (our own cap: 5 frames take a few seconds on one core)."""
_CORE = [BLAZEPOSE_33.index(name) for name in CORE_LANDMARKS]
_RUN_FILES = ("analysis.json", "poses.parquet")
_T = TypeVar("_T")


def _has_pose(landmarks: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Return, per frame of (T, 33, 3) landmarks, whether every landmark the skeleton fit needs is there."""
    return np.asarray(np.isfinite(landmarks[:, _CORE]).all(axis=(1, 2)), dtype=np.bool_)


def _frame_ranges(has_pose: NDArray[np.bool_]) -> list[list[int]]:
    """Return the runs of ``True`` as ``[first, last]`` pairs (inclusive)."""
    edges = np.diff(np.concatenate(([0], has_pose.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    return [[int(a), int(b)] for a, b in zip(starts, ends, strict=True)]


def _describe(ranges: list[list[int]]) -> str:
    return ", ".join(f"{a}" if a == b else f"{a}–{b}" for a, b in ranges) or "none"


@dataclass(frozen=True, eq=False)
class FrameModel:
    """The subject's skeleton fitted to one frame of a run (module docstring).

    Attributes
    ----------
    model, body
        The skeleton (the subject's segment lengths) and the de Leva body model.
    ground_level_m
        Ground height along ``up`` at the frame, m.
    run_ground_reaction
        The run's ground reaction estimate for the frame (``None``: the run has none; the static one is used).
    fitted_q
        (D,) the fitted pose, m and rad: a new session's first pose.
    fit_residual_rms_m
        RMS distance of the fitted skeleton's points from the frame's landmarks, m.
    fps
        The run's frame rate.
    phase_landmarks
        (F, 33, 3) landmarks of the frame and the ones after it, m (at most ``MAX_PHASE_FRAMES``).

    """

    model: SkeletonModel
    body: BodyModel
    ground_level_m: float
    run_ground_reaction: FrameGroundReaction | None
    fitted_q: NDArray[np.float64]
    fit_residual_rms_m: float | None
    fps: float
    phase_landmarks: NDArray[np.float64]

    def session(
        self,
        origin: NDArray[np.float64],
        current: NDArray[np.float64] | None = None,
        saved: Mapping[str, NDArray[np.float64]] | None = None,
    ) -> PoseSession:
        """Return a pose session whose frame pose is ``origin``, at ``current`` (default: the origin) with ``saved``."""
        session = PoseSession(
            self.model,
            origin,
            body=self.body,
            ground_level_m=self.ground_level_m,
            run_ground_reaction=self.run_ground_reaction,
        )
        session.resume(origin if current is None else current, saved or {})
        return session

    def phase(self, frame: int, frames: int) -> NDArray[np.float64]:
        """Fit the skeleton to ``frames`` frames from ``frame`` on; (F, D) coordinates.

        Raises
        ------
        InvalidInputError
            The run ends before the phase does, or a frame of the phase has no complete pose.

        """
        available = self.phase_landmarks.shape[0]
        if frames > available:
            raise InvalidInputError(
                f"a phase of {frames} frames from frame {frame} runs past the run's last frame "
                f"({frame + available - 1}): at most {available} frames from here",
                details={"frames": frames, "available": available},
            )
        landmarks = self.phase_landmarks[:frames]
        incomplete = [frame + i for i, ok in enumerate(_has_pose(landmarks)) if not ok]
        if incomplete:
            raise InvalidInputError(
                f"frames {incomplete} of the phase have no complete pose to start from",
                details={"frames_without_pose": incomplete},
            )
        return self.model.fit_frames(landmarks, consecutive=True).q

    def at_limit(self, q: NDArray[np.float64], *, tolerance_deg: float = 0.01) -> list[str]:
        """Return the coordinates of ``q`` within ``tolerance_deg`` of a bound of their range (never a free one)."""
        lower, upper = self.model.bounds()
        tolerance = np.radians(tolerance_deg)
        near = (np.abs(q - lower) <= tolerance) | (np.abs(upper - q) <= tolerance)
        return [name for name, hit in zip(DOF_NAMES, near, strict=True) if hit]


def _read_frame_model(folder: Path, frame: int) -> FrameModel:
    """Fit the skeleton to ``frame`` of the run copied to ``folder`` (:meth:`PoseSession.from_run`)."""
    sequence = PoseSequence.from_parquet(folder / "poses.parquet")
    try:
        template = PoseSession.from_run(folder, frame)
    except InsufficientDataError as error:
        if "missing" not in error.details:
            raise
        ranges = _frame_ranges(_has_pose(sequence.positions))
        raise InsufficientDataError(
            f"{error.message}; frames with a pose: {_describe(ranges)}",
            details={**error.details, "frames_with_pose": ranges},
        ) from None
    grf = template.ground_reaction
    fit = template.fit
    return FrameModel(
        model=template.model,
        body=template.body,
        ground_level_m=template.statics.ground_level_m,
        run_ground_reaction=grf if grf.source == "run" else None,
        fitted_q=template.q,
        fit_residual_rms_m=None if fit is None else fit.residual_rms_m,
        fps=float(sequence.fps),
        phase_landmarks=sequence.positions[frame : frame + MAX_PHASE_FRAMES].copy(),
    )


class PoseLab:
    """The pose lab of one API process: fitted frames in memory and the solver slots (module docstring).

    Parameters
    ----------
    slots
        Optimisations and simulations at once.
    slot_wait_s
        How long :meth:`bounded` waits for a slot, s.
    time_limit_s
        How long :meth:`bounded` waits for the work, s.
    cache_size
        Fitted frames kept.

    """

    def __init__(
        self,
        *,
        slots: int = SOLVER_SLOTS,
        slot_wait_s: float = SLOT_WAIT_S,
        time_limit_s: float = SOLVE_TIME_LIMIT_S,
        cache_size: int = MODEL_CACHE_SIZE,
    ) -> None:
        self._models: OrderedDict[tuple[uuid.UUID, int], FrameModel] = OrderedDict()
        self._cache_size = cache_size
        self._slots = asyncio.Semaphore(slots)
        self.slots, self.slot_wait_s, self.time_limit_s = slots, slot_wait_s, time_limit_s

    async def frame_model(self, run: RunFiles, analysis_id: uuid.UUID, frame: int) -> FrameModel:
        """Return the skeleton fitted to ``frame`` of the analysis whose run files are ``run``.

        Raises
        ------
        InvalidInputError
            ``frame`` is not a row of the run (the message gives the valid range).
        InsufficientDataError
            The frame has no pose (the message lists the frames that have one), or the run has no biomechanics.

        """
        key = (analysis_id, frame)
        cached = self._models.get(key)
        if cached is not None:
            self._models.move_to_end(key)
            return cached
        with tempfile.TemporaryDirectory(prefix="spacecomputer-poses-") as scratch:
            folder = Path(scratch)
            await run.copy_to(folder, _RUN_FILES)
            with contextlib.suppress(NotFoundError):  # without it, sessions report the static ground reaction
                await run.copy_to(folder, ("metrics.csv",))
            built = await asyncio.to_thread(_read_frame_model, folder, frame)
        self._models[key] = built
        while len(self._models) > self._cache_size:
            self._models.popitem(last=False)
        return built

    async def bounded(self, work: Callable[[], _T], *, what: str) -> _T:
        """Run ``work`` in a worker thread once a slot is free; its result within ``time_limit_s``.

        Raises
        ------
        UpstreamUnavailableError
            No slot freed within ``slot_wait_s`` (503, retry later).
        InvalidInputError
            ``work`` ran past ``time_limit_s`` (it finishes in the background, holding its slot).

        """
        try:
            await asyncio.wait_for(self._slots.acquire(), timeout=self.slot_wait_s)
        except TimeoutError:
            raise UpstreamUnavailableError(
                f"the pose lab is busy with other work; retry the {what} in a few seconds",
                details={"slots": self.slots, "waited_s": self.slot_wait_s},
            ) from None
        task = asyncio.ensure_future(asyncio.to_thread(work))
        task.add_done_callback(lambda _: self._slots.release())
        try:
            return await asyncio.wait_for(asyncio.shield(task), timeout=self.time_limit_s)
        except TimeoutError:
            raise InvalidInputError(
                f"the {what} did not finish within {self.time_limit_s:g} s: ask for less (fewer phase frames, more "
                "joints preserved, a shorter simulation)",
                details={"time_limit_s": self.time_limit_s},
            ) from None


async def pose_lab(request: Request) -> PoseLab:
    """Return the app's pose lab (made on first use)."""
    lab: PoseLab | None = getattr(request.app.state, "pose_lab", None)
    if lab is None:
        lab = PoseLab()
        request.app.state.pose_lab = lab
    return lab
