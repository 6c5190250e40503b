"""A pose session: one frame's pose on the subject's skeleton, manipulated under its limits, with undo and compare.

A session holds the skeleton, the body model, the ground level and a history of poses. Every manipulation (see
:mod:`spacecomputer.biomech.solver._manipulate`) adds a pose and reports the quasi-static consequences
(:mod:`spacecomputer.biomech.solver._statics`): static balance, ground reaction and how each joint's moment moved.
The ground level is the engine's (:func:`~spacecomputer.biomech.detect_foot_contacts`) at the frame when the
sequence allows it, else the lower foot point of the frame's pose (taken to stand on the ground).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spacecomputer.biomech._body_model import BodyModel
from spacecomputer.biomech._events import FEET, detect_foot_contacts
from spacecomputer.biomech._movement_metrics import STANDARD_GRAVITY_M_S2
from spacecomputer.biomech.solver._dofs import DOF_INDEX, DOF_NAMES, JOINT_INDEX, JOINT_NAMES
from spacecomputer.biomech.solver._fit import CORE_LANDMARKS, SkeletonFit
from spacecomputer.biomech.solver._limits import JointLimit, joint_limits
from spacecomputer.biomech.solver._manipulate import (
    DRAGGABLE_JOINTS,
    SETTABLE_ANGLES,
    derived_angles_deg,
    drag_joint,
    set_angle,
)
from spacecomputer.biomech.solver._results import (
    Balance,
    FrameGroundReaction,
    ManipulationResult,
    PoseComparison,
)
from spacecomputer.biomech.solver._run_frame import read_run_frame
from spacecomputer.biomech.solver._session_report import (
    State,
    angle_changes,
    balance_of,
    ground_warnings,
    moment_changes,
    point_target,
    scalar_target,
)
from spacecomputer.biomech.solver._skeleton import SkeletonModel
from spacecomputer.biomech.solver._statics import CONTACT_HEIGHT_M, QuasiStatics, StaticAnalysis
from spacecomputer.domain import BLAZEPOSE_33, PoseSequence
from spacecomputer.errors import InsufficientDataError, InvalidInputError

__all__ = ["PoseSession"]

_READ_ONLY = {f"{side}_shoulder_elevation": "shoulder flexion and abduction" for side in FEET}
_OWN_ANGLES = tuple(n for n in DOF_NAMES[6:])


class PoseSession:
    """One pose on the subject's skeleton, to manipulate under physical constraints (module docstring).

    Parameters
    ----------
    model
        The subject's skeleton.
    q
        (D,) coordinates of the starting pose, m and rad (``DOF_NAMES`` order), within the joint limits.
    body
        De Leva body model; ``BodyModel.from_anthropometry`` defaults (recorded there) when omitted.
    ground_level_m
        Ground height along ``up``, m; the lower foot point of the starting pose when omitted.
    run_ground_reaction
        The frame's ground reaction from a run, reported while the pose is unchanged.
    gravity_m_s2, contact_height_m
        Gravity, m/s², and the contact height of :class:`~spacecomputer.biomech.solver.QuasiStatics`, m.
    fit
        The fit that produced ``q``, when it came from landmarks.

    Raises
    ------
    InvalidInputError
        ``q`` of the wrong shape, not finite, or outside the joint limits.

    """

    def __init__(
        self,
        model: SkeletonModel,
        q: ArrayLike,
        *,
        body: BodyModel | None = None,
        ground_level_m: float | None = None,
        run_ground_reaction: FrameGroundReaction | None = None,
        gravity_m_s2: float = STANDARD_GRAVITY_M_S2,
        contact_height_m: float = CONTACT_HEIGHT_M,
        fit: SkeletonFit | None = None,
    ) -> None:
        start = model.coordinates(q)
        if start.shape[0] != 1 or np.asarray(q).ndim != 1:
            raise InvalidInputError(f"q must be one pose of shape ({len(DOF_NAMES)},)")
        lower, upper = model.bounds()
        outside = [n for n, v, lo, hi in zip(DOF_NAMES, start[0], lower, upper, strict=True) if not lo <= v <= hi]
        if outside:
            raise InvalidInputError(
                f"the starting pose is outside the joint limits of {outside}", details={"outside": outside}
            )
        self.model = model
        self.body = body if body is not None else BodyModel.from_anthropometry(mass_kg=None, height_m=None, sex=None)
        points = model.points(start[0])
        if ground_level_m is None:
            feet = [JOINT_INDEX[f"{f}_{p}"] for f in FEET for p in ("heel", "foot_index")]
            ground_level_m = float((points[feet] @ model.up).min())
        self.statics = QuasiStatics(
            model,
            self.body,
            ground_level_m=ground_level_m,
            gravity_m_s2=gravity_m_s2,
            contact_height_m=contact_height_m,
        )
        self.fit = fit
        self._run_grf = run_ground_reaction
        self._origin = self._state(start[0].copy())
        self._history = [self._origin]
        self._index = 0
        self._saved: dict[str, State] = {}

    # -- construction from data ------------------------------------------------------------------------------------

    @classmethod
    def from_sequence(
        cls,
        sequence: PoseSequence,
        frame: int,
        *,
        up: ArrayLike,
        body: BodyModel | None = None,
        run_ground_reaction: FrameGroundReaction | None = None,
    ) -> PoseSession:
        """Fit the subject's skeleton (dimensions over the whole sequence) to row ``frame`` and open a session.

        ``body`` and ``run_ground_reaction`` are passed on to the constructor.

        Raises
        ------
        InvalidInputError
            ``frame`` is not a row of the sequence (the message gives the valid range).
        InsufficientDataError
            The frame has no pose (a landmark of ``CORE_LANDMARKS`` missing), or a dimension is never seen.
        InvalidPoseDataError
            The sequence is not metric or not on BlazePose.

        """
        n = sequence.n_frames
        if isinstance(frame, bool) or not isinstance(frame, int | np.integer) or not 0 <= frame < n:
            raise InvalidInputError(
                f"frame must be a row of the pose sequence, an integer from 0 to {n - 1}; got {frame!r}",
                details={"frame": repr(frame), "valid_range": [0, n - 1]},
            )
        landmarks = sequence.positions[int(frame)]
        missing = [name for name in CORE_LANDMARKS if not np.isfinite(landmarks[BLAZEPOSE_33.index(name)]).all()]
        if missing:
            what = (
                "no pose" if len(missing) == len(CORE_LANDMARKS) else f"no complete pose (missing {', '.join(missing)})"
            )
            raise InsufficientDataError(f"frame {frame} has {what}", details={"frame": int(frame), "missing": missing})
        model = SkeletonModel.from_sequence(sequence, up=up)
        fitted = model.fit(landmarks)
        ground = math.nan
        if n >= 3:
            contacts = detect_foot_contacts(sequence, up=model.up)
            ground = float(contacts.ground_level_m[int(frame)])
        return cls(
            model,
            fitted.q,
            body=body,
            ground_level_m=ground if math.isfinite(ground) else None,
            run_ground_reaction=run_ground_reaction,
            fit=fitted,
        )

    @classmethod
    def from_run(
        cls, run_dir: Path | str, frame: int, *, mass_kg: float | None = None, height_m: float | None = None
    ) -> PoseSession:
        """Open a session on row ``frame`` of a run's ``poses.parquet`` (see :func:`read_run_frame`).

        Mass and height default to the run's when it was given them, else to the body model's defaults.

        Raises
        ------
        NotFoundError
            The run, its ``analysis.json`` or its pose file is missing.
        InsufficientDataError
            The run has no biomechanics (no up direction), or the frame has no pose.
        InvalidInputError
            ``frame`` out of range (the message gives the valid range), or invalid mass or height.

        """
        run = read_run_frame(run_dir, mass_kg=mass_kg, height_m=height_m, frame=frame)
        return cls.from_sequence(run.sequence, frame, up=run.up, body=run.body, run_ground_reaction=run.ground_reaction)

    # -- the current pose -------------------------------------------------------------------------------------------

    def _state(self, q: NDArray[np.float64]) -> State:
        points = self.model.points(q)
        statics = self.statics.analyse(points)
        angles = {n: float(np.degrees(q[DOF_INDEX[n]])) for n in _OWN_ANGLES}
        angles |= {n: float(v[0]) for n, v in derived_angles_deg(self.model, q[None], points_m=points[None]).items()}
        return State(q, points, statics, angles)

    @property
    def _current(self) -> State:
        return self._history[self._index]

    @property
    def q(self) -> NDArray[np.float64]:
        """(D,) coordinates of the current pose, m and rad (a copy)."""
        return self._current.q.copy()

    @property
    def pose(self) -> dict[str, NDArray[np.float64]]:
        """Joint centre name → (3,) position of the current pose, m."""
        return {name: self._current.points[i].copy() for i, name in enumerate(JOINT_NAMES)}

    @property
    def angles(self) -> dict[str, float]:
        """The engine's joint angles of the current pose and our own coordinates, degrees (NaN where undefined)."""
        return dict(self._current.angles)

    @property
    def limits(self) -> dict[str, JointLimit]:
        """Range of motion of every coordinate (degrees; metres for the pelvis position)."""
        return joint_limits()

    @property
    def analysis(self) -> StaticAnalysis:
        """The quasi-static analysis of the current pose (batch of one)."""
        return self._current.statics

    @property
    def balance(self) -> Balance:
        """Static balance of the current pose."""
        return balance_of(self._current.statics)

    @property
    def moments(self) -> dict[str, float]:
        """Quasi-static flexion moment of every joint of the current pose, N·m (signs: ``MOMENT_MEANINGS``)."""
        return {joint: float(v[0]) for joint, v in self._current.statics.flexion_moment_n_m.items()}

    @property
    def ground_reaction(self) -> FrameGroundReaction:
        """The pose's ground reaction: the run's while the pose is the frame's own, else the static estimate."""
        if self._run_grf is not None and np.array_equal(self._current.q, self._origin.q):
            return self._run_grf
        grf = self._current.statics.ground_reaction_n[0]
        up = self.model.up
        total = grf.sum(axis=0)
        horizontal = total - (total @ up) * up
        return FrameGroundReaction(
            vertical_n=float(total @ up),
            horizontal_n=float(np.linalg.norm(horizontal)),
            left_vertical_n=float(grf[0] @ up),
            right_vertical_n=float(grf[1] @ up),
            source="static",
            note="static estimate: body weight straight up, shared between the feet in contact by the lever rule",
        )

    # -- manipulation -----------------------------------------------------------------------------------------------

    def manipulate(self, joint_or_angle: str, target: float | ArrayLike) -> ManipulationResult:
        """Set an angle (degrees) or drag a joint centre to a (3,) position (m); the result says what followed.

        Raises
        ------
        InvalidInputError
            An unknown name (the message lists the valid ones), a read-only angle, a NaN or infinite target, or a
            target of the wrong shape (a number for an angle, a 3-vector for a joint).

        """
        started = time.perf_counter()
        before = self._current
        in_contact = (bool(before.statics.in_contact[0, 0]), bool(before.statics.in_contact[0, 1]))
        if joint_or_angle in SETTABLE_ANGLES:
            value = scalar_target(joint_or_angle, target)
            outcome = set_angle(self.model, before.q, joint_or_angle, value, in_contact=in_contact)
            kind: Literal["angle", "joint"] = "angle"
        elif joint_or_angle in DRAGGABLE_JOINTS:
            point = point_target(joint_or_angle, target)
            outcome = drag_joint(
                self.model, before.q, joint_or_angle, point, anchor_q=self._origin.q, in_contact=in_contact
            )
            kind = "joint"
        elif joint_or_angle in _READ_ONLY:
            raise InvalidInputError(
                f"{joint_or_angle} is derived from the {_READ_ONLY[joint_or_angle]}: set those instead",
                details={"name": joint_or_angle},
            )
        else:
            raise InvalidInputError(
                f"unknown joint or angle {joint_or_angle!r}; angles: {', '.join(SETTABLE_ANGLES)}; joints: "
                f"{', '.join(DRAGGABLE_JOINTS)}",
                details={"name": joint_or_angle, "angles": list(SETTABLE_ANGLES), "joints": list(DRAGGABLE_JOINTS)},
            )
        after = self._state(outcome.q)
        del self._history[self._index + 1 :]
        self._history.append(after)
        self._index += 1
        warnings = [*outcome.warnings, *ground_warnings(after.statics)]
        return ManipulationResult(
            target=joint_or_angle,
            kind=kind,
            q=after.q.copy(),
            pose=self.pose,
            violations=outcome.violations,
            reached=outcome.reached,
            miss_distance_m=outcome.miss_distance_m,
            angle_shortfall_deg=outcome.angle_shortfall_deg,
            balance=balance_of(after.statics),
            angle_changes=angle_changes(before, after),
            moment_changes=moment_changes(before, after, self.body.mass_kg),
            warnings=tuple(warnings),
            elapsed_ms=1000.0 * (time.perf_counter() - started),
        )

    # -- history ----------------------------------------------------------------------------------------------------

    @property
    def can_undo(self) -> bool:
        """Whether there is a manipulation to undo."""
        return self._index > 0

    @property
    def can_redo(self) -> bool:
        """Whether there is an undone manipulation to redo."""
        return self._index < len(self._history) - 1

    def undo(self) -> bool:
        """Go back to the pose before the last manipulation; False (and nothing changes) when there is none."""
        if not self.can_undo:
            return False
        self._index -= 1
        return True

    def redo(self) -> bool:
        """Re-apply the last undone manipulation; False when there is none (a new manipulation clears them)."""
        if not self.can_redo:
            return False
        self._index += 1
        return True

    def save(self, label: str) -> None:
        """Keep the current pose under ``label`` (replacing a pose saved under the same label)."""
        if not isinstance(label, str) or not label.strip():
            raise InvalidInputError(f"a saved pose needs a non-empty text label; got {label!r}")
        self._saved[label] = self._current

    def resume(self, current: NDArray[np.float64], saved: Mapping[str, NDArray[np.float64]]) -> None:
        """Continue a stored session: ``current`` becomes the pose after the origin, ``saved`` the saved poses.

        Drags keep anchoring on the frame's own pose, as in one long-lived session (the API stores sessions
        between requests and rebuilds them with this).
        """
        if not np.array_equal(current, self._history[0].q):
            self._history = [self._history[0], self._state(current)]
            self._index = 1
        for label, q in saved.items():
            self._saved[label] = self._state(q)

    def saved(self) -> tuple[str, ...]:
        """Labels of the saved poses, in the order they were first saved."""
        return tuple(self._saved)

    def saved_q(self, label: str) -> NDArray[np.float64]:
        """(D,) coordinates of a saved pose."""
        return self._saved_state(label).q.copy()

    def _saved_state(self, label: str) -> State:
        if label not in self._saved:
            raise InvalidInputError(
                f"no pose saved as {label!r}; saved: {list(self._saved)}",
                details={"label": label, "saved": list(self._saved)},
            )
        return self._saved[label]

    def compare(self, label_a: str, label_b: str) -> PoseComparison:
        """Compare two saved poses, ``b`` relative to ``a``: angles, moments, balance, COM shift."""
        a, b = self._saved_state(label_a), self._saved_state(label_b)
        return PoseComparison(
            label_a=label_a,
            label_b=label_b,
            angle_changes=angle_changes(a, b),
            moment_changes=moment_changes(a, b, self.body.mass_kg),
            balance_a=balance_of(a.statics),
            balance_b=balance_of(b.statics),
            com_shift_m=b.statics.com_m[0] - a.statics.com_m[0],
        )
