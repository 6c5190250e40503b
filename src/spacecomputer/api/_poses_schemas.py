"""Request bodies of the pose-lab routes (``/poses/sessions``).

Every number a client sends must be a JSON number that is finite: NaN, ``Infinity``, a string such as ``"60"`` or a
boolean is a 422 (``strict`` fields with ``allow_inf_nan=False``; Python's JSON parser would otherwise let ``NaN``
through, and pydantic's lax mode would read ``"60"`` as 60). Names (angles, joints, coordinates) are checked by the
pose lab itself, whose messages list the valid ones. The answers are in :mod:`spacecomputer.api._poses_public`.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from spacecomputer.api._schemas import InputModel
from spacecomputer.biomech.solver import MAX_PHASE_FRAMES, MIN_PHASE_FRAMES, OBJECTIVES

__all__ = [
    "MAX_LABEL_LENGTH",
    "MAX_SIMULATION_S",
    "FiniteNumber",
    "KeepPointRequest",
    "ManipulationRequest",
    "OptimiseRequest",
    "PhaseRequest",
    "PoseSessionCreate",
    "Position",
    "SavePoseRequest",
    "SimulateRequest",
]

MAX_LABEL_LENGTH = 64
"""Longest label of a saved pose, characters (our own limit)."""
MAX_SIMULATION_S = 3.0
"""Longest posture simulation a request may ask for, s (our own bound on a request's work)."""
_NAME_LENGTH = 64

FiniteNumber = Annotated[float, Field(strict=True, allow_inf_nan=False)]
"""A finite JSON number (an integer is accepted; NaN, infinities, strings and booleans are not)."""
Position = Annotated[list[FiniteNumber], Field(min_length=3, max_length=3, description="x, y, z in metres.")]
"""A 3D position in the run's pose frame, m."""
Name = Annotated[str, StringConstraints(min_length=1, max_length=_NAME_LENGTH)]


class PoseSessionCreate(InputModel):
    """Open a pose session on one frame of one of my succeeded analyses."""

    analysis_id: uuid.UUID
    frame: Annotated[
        int, Field(strict=True, ge=0, description="Row of the analysis's poses.parquet (0-based).", examples=[20])
    ]


class ManipulationRequest(InputModel):
    """One manipulation: set one angle (degrees) or drag one joint centre to a position (metres).

    Exactly one entry in total: ``{"set": {"left_knee_flexion": 60}}`` or ``{"drag": {"left_wrist": [x, y, z]}}``.
    """

    set: Annotated[
        dict[Name, FiniteNumber] | None,
        Field(description="Angle name → target, degrees.", examples=[{"left_knee_flexion": 60}]),
    ] = None
    drag: Annotated[
        dict[Name, Position] | None,
        Field(description="Joint centre name → target position, m (the run's pose frame).", examples=[None]),
    ] = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ManipulationRequest:
        entries = len(self.set or {}) + len(self.drag or {})
        if entries != 1:
            raise ValueError(
                'give exactly one manipulation: {"set": {angle: degrees}} or {"drag": {joint: [x, y, z]}}; '
                f"got {entries}"
            )
        return self


class SavePoseRequest(InputModel):
    """Keep the current pose under a label (replacing a pose saved under the same label)."""

    label: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_LABEL_LENGTH)]


class KeepPointRequest(InputModel):
    """Keep a skeleton point at a height above the ground or at a position (give exactly one)."""

    name: Annotated[Name, Field(examples=["left_hand"])]
    height_m: Annotated[FiniteNumber | None, Field(description="Height above the ground, m.")] = None
    position_m: Annotated[Position | None, Field(description="Position in the run's pose frame, m.")] = None


class PhaseRequest(InputModel):
    """Optimise the run's trajectory from the session's frame on instead of the session's pose."""

    frames: Annotated[
        int,
        Field(
            strict=True,
            ge=MIN_PHASE_FRAMES,
            le=MAX_PHASE_FRAMES,
            description=f"Frames of the phase, the session's frame first ({MIN_PHASE_FRAMES}–{MAX_PHASE_FRAMES}).",
        ),
    ]
    smoothness_weight: Annotated[
        FiniteNumber, Field(ge=0, description="Weight of the smoothness term Σ‖q_{t+1} − 2q_t + q_{t−1}‖².")
    ] = 1.0


class OptimiseRequest(InputModel):
    """What to optimise and under which constraints (the pose lab's ``OptimisationProblem``)."""

    objective: Annotated[
        str, Field(max_length=_NAME_LENGTH, description=f"One of {', '.join(OBJECTIVES)}.", examples=["joint_stress"])
    ]
    preserve: Annotated[
        tuple[Name, ...],
        Field(max_length=64, description="Joints or coordinates to keep as they are.", examples=[["left_ankle"]]),
    ] = ()
    keep_feet: Annotated[
        list[Literal["left", "right"]] | None,
        Field(max_length=2, description="Feet to keep planted; default: the feet on the ground; [] for none."),
    ] = None
    keep_points: Annotated[tuple[KeepPointRequest, ...], Field(max_length=8)] = ()
    balance_required: Annotated[bool, Field(strict=True)] = True
    balance_margin_m: Annotated[
        FiniteNumber, Field(description="Required COM distance inside the base of support, m.")
    ] = 0.0
    max_change_deg: Annotated[FiniteNumber | None, Field(gt=0, description="Largest change of any angle, °.")] = None
    max_shift_m: Annotated[FiniteNumber | None, Field(gt=0, description="Largest pelvis shift per axis, m.")] = None
    phase: PhaseRequest | None = None
    apply: Annotated[
        bool,
        Field(strict=True, description="Make the optimal pose the session's current pose (undoable); single pose."),
    ] = False

    @field_validator("keep_feet")
    @classmethod
    def _distinct_feet(cls, feet: list[Literal["left", "right"]] | None) -> list[Literal["left", "right"]] | None:
        if feet is not None and len(set(feet)) != len(feet):
            raise ValueError("name each foot once")
        return feet

    @model_validator(mode="after")
    def _applicable(self) -> OptimiseRequest:
        if self.apply and self.phase is not None:
            raise ValueError("a phase's result cannot be applied to the session's single pose: drop apply or phase")
        return self


class SimulateRequest(InputModel):
    """Simulate the current pose from rest with the subject's MuJoCo humanoid."""

    duration_s: Annotated[FiniteNumber, Field(gt=0, le=MAX_SIMULATION_S, description="Simulated time, s.")] = 1.0
    controller: Annotated[
        Literal["pd", "passive"],
        Field(description="'pd': every joint holds its angle within its strength; 'passive': no joint torque."),
    ] = "pd"
