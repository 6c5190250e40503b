"""Answers of the pose lab's optimiser and simulator routes (``/optimise``, ``/simulate``), as JSON.

The conventions are those of :mod:`spacecomputer.api._poses_public`: ``null`` where the pose lab leaves a value
undefined, positions in metres in the run's pose frame, angles in degrees.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from spacecomputer.api._poses_public import (
    AngleChangePublic,
    BalancePublic,
    MomentChangePublic,
    angle_changes_of,
    finite,
    moment_changes_of,
    positions,
    vector,
)
from spacecomputer.biomech.solver import ConstraintReport, FrameOutcome, PostureResult, SolveResult

__all__ = [
    "MAX_TRACK_SAMPLES",
    "ConstraintPublic",
    "FrameOutcomePublic",
    "GroundTouchPublic",
    "PostureSimulationPublic",
    "SolvePublic",
    "ValidityPublic",
]

MAX_TRACK_SAMPLES = 100
"""Most samples of a simulation's COM track in an answer (the run's steps are thinned evenly)."""


class ConstraintPublic(BaseModel):
    """A constraint active (no slack) or violated at the result; ``amount`` in ``unit``."""

    kind: Literal["joint limit", "max change", "equality", "inequality"]
    name: str
    frame: int
    amount: float | None
    unit: Literal["m", "deg"]

    @classmethod
    def of(cls, report: ConstraintReport) -> ConstraintPublic:
        """Return the JSON view of ``report``."""
        return cls(
            kind=report.kind, name=report.name, frame=report.frame, amount=finite(report.amount), unit=report.unit
        )


class ValidityPublic(BaseModel):
    """The result recomputed independently with the engine's own functions."""

    angle_error_deg: float | None
    com_error_m: float | None
    moment_error_n_m: float | None
    bone_error_m: float | None
    within_limits: bool
    not_recomputed: list[str]
    passed: bool


class FrameOutcomePublic(BaseModel):
    """One pose of the result, before and after."""

    joint_centres_m: dict[str, list[float | None]]
    balance_before: BalancePublic
    balance: BalancePublic
    angle_changes: list[AngleChangePublic]
    moment_changes: list[MomentChangePublic]

    @classmethod
    def of(cls, frame: FrameOutcome) -> FrameOutcomePublic:
        """Return the JSON view of ``frame``."""
        return cls(
            joint_centres_m=positions(frame.pose),
            balance_before=BalancePublic.of(frame.balance_before),
            balance=BalancePublic.of(frame.balance),
            angle_changes=angle_changes_of(frame.angle_changes),
            moment_changes=moment_changes_of(frame.moment_changes),
        )


class SolvePublic(BaseModel):
    """The optimiser's result: objective before and after, changes, constraints, and the validity check."""

    objective: str
    sense: Literal["minimise", "maximise"]
    unit: str
    objective_before: float | None
    objective_after: float | None
    improvement: float | None = Field(description="Positive = better, whichever the sense.")
    success: bool
    infeasible: bool
    message: str
    violated: list[ConstraintPublic]
    active: list[ConstraintPublic]
    free_dofs: list[str]
    frames: list[FrameOutcomePublic] = Field(description="One per pose: one for a single pose, F for a phase.")
    smoothness_before: float | None
    smoothness_after: float | None
    iterations: int
    evaluations: int
    elapsed_ms: float
    validity: ValidityPublic
    warnings: list[str]
    applied: bool = Field(description="The optimal pose became the session's current pose.")

    @classmethod
    def of(cls, result: SolveResult, *, applied: bool) -> SolvePublic:
        """Return the JSON view of ``result``."""
        check = result.validity
        return cls(
            objective=result.objective,
            sense=result.sense,
            unit=result.unit,
            objective_before=finite(result.objective_before),
            objective_after=finite(result.objective_after),
            improvement=finite(result.improvement),
            success=result.success,
            infeasible=result.infeasible,
            message=result.message,
            violated=[ConstraintPublic.of(c) for c in result.violated],
            active=[ConstraintPublic.of(c) for c in result.active],
            free_dofs=list(result.free_dofs),
            frames=[FrameOutcomePublic.of(f) for f in result.frames],
            smoothness_before=finite(result.smoothness_before),
            smoothness_after=finite(result.smoothness_after),
            iterations=result.iterations,
            evaluations=result.evaluations,
            elapsed_ms=result.elapsed_ms,
            validity=ValidityPublic(
                angle_error_deg=finite(check.angle_error_deg),
                com_error_m=finite(check.com_error_m),
                moment_error_n_m=finite(check.moment_error_n_m),
                bone_error_m=finite(check.bone_error_m),
                within_limits=check.within_limits,
                not_recomputed=list(check.not_recomputed),
                passed=check.passed,
            ),
            warnings=list(result.warnings),
            applied=applied,
        )


class GroundTouchPublic(BaseModel):
    """The first body part other than the feet to touch the ground."""

    segment: str
    time_s: float
    com_speed_m_s: float | None


class PostureSimulationPublic(BaseModel):
    """Whether the current pose holds when simulated from rest, and if not where and how fast it falls."""

    held: bool
    summary: str
    controller: str
    duration_s: float
    com_drop_m: float | None
    peak_com_speed_m_s: float | None
    first_touch: GroundTouchPublic | None
    fall_direction: str | None
    forward_m: float | None = Field(description="COM travel along the pelvis's starting forward axis, m.")
    rightward_m: float | None
    saturated: list[str] = Field(description="Coordinates whose PD torque reached the joint's strength.")
    com_track_times_s: list[float] = Field(description=f"At most {MAX_TRACK_SAMPLES} samples of the COM track.")
    com_track_m: list[list[float | None]]

    @classmethod
    def of(cls, result: PostureResult) -> PostureSimulationPublic:
        """Return the JSON view of ``result`` (its COM track thinned to :data:`MAX_TRACK_SAMPLES`)."""
        steps = len(result.times_s)
        rows = np.unique(np.linspace(0, steps - 1, min(steps, MAX_TRACK_SAMPLES)).round().astype(int))
        touch = result.first_touch
        return cls(
            held=result.held,
            summary=result.summary,
            controller=result.controller,
            duration_s=float(result.times_s[-1]),
            com_drop_m=finite(result.com_drop_m),
            peak_com_speed_m_s=finite(result.peak_com_speed_m_s),
            first_touch=None
            if touch is None
            else GroundTouchPublic(
                segment=touch.segment, time_s=touch.time_s, com_speed_m_s=finite(touch.com_speed_m_s)
            ),
            fall_direction=result.fall_direction,
            forward_m=finite(result.forward_m),
            rightward_m=finite(result.rightward_m),
            saturated=list(result.saturated),
            com_track_times_s=[float(t) for t in result.times_s[rows]],
            com_track_m=[vector(row) for row in result.com_m[rows]],
        )
