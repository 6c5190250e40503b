"""Compare two motions over their phase alignment: joint differences with uncertainty, a score and findings.

``a`` is "you", ``b`` the reference. After :func:`~spacecomputer.athletes._align.align_motions`, every pair of
rows on the path gives one difference ``a − b`` per joint angle (degrees, wrapped into (−180°, 180°] so that an
angle that went once round in one motion's unwrapping does not count as 360°; pairs where either angle is unknown
are left out). Our own definitions:

- **Uncertainty of a difference**: ``σ = sqrt(sd_a² + sd_b²)``, the two motions' per-frame angle uncertainties
  (:mod:`spacecomputer.athletes._motion`) combined as independent errors. It is the uncertainty of a single
  frame's difference; we use it for the mean over the path as well, without dividing by the number of frames,
  because the noise of neighbouring frames is correlated (the poses are low-passed) and a steady bias (camera
  view, monocular depth) does not average out.
- **Significant**: ``|difference| > 2σ`` (about 95 % coverage if the noise were Gaussian), for the mean over the
  path of a joint and for the difference at a matched event.
- **At a matched event**: each motion's angle is the median over the event's frame and the two frames either
  side of it (on the aligned path), so that a single bad frame does not decide a finding.
- **Similarity score** (0–100): per joint angle, ``D_k`` = root mean square of its differences over the aligned
  samples and ``E_k = sqrt(max(0, D_k² − σ_k²))`` what is left beyond its measurement noise; ``score = 100 ·
  exp(−mean_k E_k / 20°)``. A motion compared with itself scores 100; one joint 15° off among eight otherwise
  equal ones (σ = 5°) scores about 92; every joint 20° beyond its noise scores 37. ``D`` (all angles together)
  is reported beside it.
- **Findings**: up to three significant differences, one per joint angle, the differences at matched events
  first (largest ``|difference| / σ`` first), then the means over the aligned motion.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from spacecomputer.biomech import format_measurement
from spacecomputer.errors import IncompatibleMotionError, InsufficientDataError, OutputError

from ._align import Alignment, align_motions
from ._motion import Motion, MotionEvent

__all__ = [
    "SCORE_SCALE_DEG",
    "AlignmentSummary",
    "Comparison",
    "ComparisonResult",
    "DifferenceLocation",
    "EventAngleDifference",
    "EventDifference",
    "Finding",
    "JointDifference",
    "MatchedEventInfo",
    "MotionIdentity",
    "SegmentSummary",
    "Similarity",
    "compare_motions",
    "compare_motions_detailed",
]

SCORE_SCALE_DEG = 20.0
"""RMS difference beyond the noise at which the similarity score falls to 100/e ≈ 37 (our own scale)."""
SIGNIFICANCE_FACTOR = 2.0
"""A difference is significant when larger than this many combined standard deviations (our own rule)."""
MAX_FINDINGS = 3
SCORE_DEFINITION = (
    "Our own definition: per joint angle k, D_k = RMS over the aligned samples of (you - reference), degrees, and "
    "E_k = sqrt(max(0, D_k^2 - sigma_k^2)) with sigma_k^2 = sd_you^2 + sd_reference^2; "
    f"score = 100 * exp(-mean_k(E_k) / {SCORE_SCALE_DEG:g} deg)."
)
EVENT_HALF_WINDOW_FRAMES = 2
"""Frames either side of a matched event over which each motion's angle is taken as a median (our own choice)."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MotionIdentity(_Model):
    """Which motion was compared."""

    name: str
    source: Literal["run", "reference"]
    movement: str | None
    sport: str | None
    frames: int
    fps: float
    notes: list[str]


class MatchedEventInfo(_Model):
    """A foot event found in both motions, where the alignment is pinned."""

    label: str = Field(description="e.g. 'left foot strike'.")
    a_row: int
    a_time_s: float
    b_row: int
    b_time_s: float


class SegmentSummary(_Model):
    """One part of the alignment; rows inclusive."""

    kind: Literal["lead_in", "phase", "tail", "whole_clip"]
    label: str
    a_rows: tuple[int, int]
    b_rows: tuple[int, int]


class AlignmentSummary(_Model):
    """How the two motions were put in correspondence (the full path: :class:`ComparisonResult`)."""

    method: Literal["phases", "whole_clip"]
    note: str | None
    angles: list[str] = Field(description="Joint angles compared (and warped on).")
    matched_events: list[MatchedEventInfo]
    segments: list[SegmentSummary]
    path_length: int = Field(description="Number of (row of a, row of b) pairs on the path.")
    time_step_s: float = Field(description="Common time step the motions were resampled to for the warping.")


class Similarity(_Model):
    """The similarity score and what it is made of (module docstring)."""

    score: float = Field(ge=0.0, le=100.0)
    rms_difference_deg: float = Field(description="D: RMS of all differences.")
    noise_rms_deg: float = Field(description="sqrt(mean sigma^2): the RMS difference noise alone would give.")
    excess_rms_deg: float = Field(description="mean over angles of E_k = sqrt(max(0, D_k^2 - sigma_k^2)).")
    definition: str


class DifferenceLocation(_Model):
    """A point of the aligned path."""

    a_row: int
    b_row: int
    a_time_s: float
    b_time_s: float
    nearest_event: str | None = Field(description="Label of the nearest matched event (in a's rows), if any.")
    from_event_s: float | None = Field(description="a's time minus that event's time in a, s.")


class JointDifference(_Model):
    """One joint angle's difference (a − b) over the aligned path, degrees."""

    angle: str
    samples: int = Field(description="Path pairs where the angle is known in both motions.")
    mean_difference_deg: float | None
    rms_difference_deg: float | None
    max_abs_difference_deg: float | None
    max_at: DifferenceLocation | None
    uncertainty_deg: float | None = Field(description="sigma = sqrt(sd_a^2 + sd_b^2); None if not measured.")
    significant: bool = Field(description="|mean difference| > 2 sigma (our own rule).")
    display: str


class EventAngleDifference(_Model):
    """One joint angle at a matched event, degrees."""

    angle: str
    a_deg: float | None
    b_deg: float | None
    difference_deg: float | None
    uncertainty_deg: float | None
    significant: bool = Field(description="|difference| > 2 sigma (our own rule).")


class EventDifference(_Model):
    """The joint angles of both motions at one matched event."""

    event: MatchedEventInfo
    angles: list[EventAngleDifference]


class Finding(_Model):
    """One significant difference in words."""

    text: str
    angle: str
    scope: Literal["event", "whole_motion"]
    event: str | None
    difference_deg: float
    uncertainty_deg: float


class Comparison(_Model):
    """The comparison of a motion ("you", ``a``) with a reference (``b``): the ``comparison.json`` document."""

    schema_version: Literal["1.0"] = "1.0"
    you: MotionIdentity
    reference: MotionIdentity
    alignment: AlignmentSummary
    similarity: Similarity
    joints: list[JointDifference]
    events: list[EventDifference]
    findings: list[Finding]
    warnings: list[str]

    def to_json_file(self, path: Path | str) -> Path:
        """Write the document as JSON atomically (a temporary file in the same directory, then a rename).

        Raises
        ------
        OutputError
            The file cannot be written.

        """
        target = Path(path)
        failure = f"cannot write the comparison to {target}"
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        except OSError as error:
            raise OutputError(f"{failure}: {error}", details={"path": str(target)}) from error
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(self.model_dump_json(indent=2) + "\n")
            os.chmod(temporary, 0o644)  # mkstemp makes it private; the document is a shareable output
            os.replace(temporary, target)
        except OSError as error:
            Path(temporary).unlink(missing_ok=True)
            raise OutputError(f"{failure}: {error}", details={"path": str(target)}) from error
        return target


@dataclass(frozen=True, eq=False)
class ComparisonResult:
    """The comparison document and the full alignment it rests on (for drawing both motions side by side)."""

    comparison: Comparison
    alignment: Alignment


def compare_motions(a: Motion, b: Motion, *, force: bool = False, angles: Sequence[str] | None = None) -> Comparison:
    """Compare motion ``a`` ("you") with ``b`` (the reference); :func:`compare_motions_detailed` without the path."""
    return compare_motions_detailed(a, b, force=force, angles=angles).comparison


def compare_motions_detailed(
    a: Motion, b: Motion, *, force: bool = False, angles: Sequence[str] | None = None
) -> ComparisonResult:
    """Compare motion ``a`` ("you") with ``b`` (the reference) over their phase alignment (module docstring).

    Parameters
    ----------
    a, b
        The motions; ``a − b`` is the sign of every difference.
    force
        Compare even when both movements are known and differ (a warning says so).
    angles
        Joint angles to compare; default: every angle both motions observe.

    Raises
    ------
    IncompatibleMotionError
        Both movements are known and differ and ``force`` is not set; or no joint angle is common.
    InsufficientDataError
        No aligned pair of frames has a common angle known in both motions.

    """
    warnings = _movement_warnings(a, b, force=force)
    alignment = align_motions(a, b, angles=angles)
    if alignment.note:
        warnings.append(alignment.note)
    names = alignment.angles
    rows_a, rows_b = alignment.path[:, 0], alignment.path[:, 1]
    differences = _wrapped(a.angle_matrix(names)[rows_a] - b.angle_matrix(names)[rows_b])
    sigma = [_sigma(a, b, name) for name in names]
    known = np.isfinite(differences)
    if not known.any():
        raise InsufficientDataError(
            f"no aligned frame of {a.name!r} and {b.name!r} has a joint angle known in both",
            details={"angles": list(names)},
        )
    for name, count in zip(names, known.sum(axis=0), strict=True):
        if count == 0:
            warnings.append(f"{name} is never known in both motions on the aligned path: it is left out")
    for motion, rows in ((a, rows_a), (b, rows_b)):
        share = (int(rows.max()) - int(rows.min()) + 1) / motion.n_frames
        if share < 0.5:
            warnings.append(f"the alignment covers only {share:.0%} of {motion.name!r}'s frames")

    joints = [_joint(name, differences[:, k], sigma[k], alignment, a, b) for k, name in enumerate(names)]
    events = [_event(pair, names, a, b, sigma, alignment) for pair in alignment.matched_events]
    comparison = Comparison(
        you=_identity(a),
        reference=_identity(b),
        alignment=_summary(alignment),
        similarity=_similarity(differences, sigma),
        joints=joints,
        events=events,
        findings=_findings(joints, events, reference=b.name, a=a, alignment=alignment),
        warnings=warnings,
    )
    return ComparisonResult(comparison=comparison, alignment=alignment)


def _movement_warnings(a: Motion, b: Motion, *, force: bool) -> list[str]:
    if a.movement is not None and b.movement is not None and a.movement != b.movement:
        if not force:
            raise IncompatibleMotionError(
                f"{a.name!r} is a {a.movement} and {b.name!r} a {b.movement}: different movements are not "
                "compared (use --force to compare anyway)",
                details={"a_movement": a.movement, "b_movement": b.movement},
            )
        return [
            f"different movements compared on request ({a.movement} vs {b.movement}): the differences mostly "
            "reflect the movements, not technique"
        ]
    unknown = dict.fromkeys(motion.name for motion in (a, b) if motion.movement is None)
    return [
        f"the movement of {name!r} is not known: compared without checking that both are the same movement"
        for name in unknown
    ]


def _sigma(a: Motion, b: Motion, name: str) -> float | None:
    sd_a, sd_b = a.angle_sd_deg.get(name), b.angle_sd_deg.get(name)
    return None if sd_a is None or sd_b is None else math.hypot(sd_a, sd_b)


def _significant(difference: float | None, sigma: float | None) -> bool:
    return difference is not None and sigma is not None and abs(difference) > SIGNIFICANCE_FACTOR * sigma


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _joint(
    name: str, diff: NDArray[np.float64], sigma: float | None, alignment: Alignment, a: Motion, b: Motion
) -> JointDifference:
    known = np.isfinite(diff)
    if not known.any():
        return JointDifference(
            angle=name, samples=0, mean_difference_deg=None, rms_difference_deg=None, max_abs_difference_deg=None,
            max_at=None, uncertainty_deg=sigma, significant=False,
            display="unavailable: never known in both motions on the aligned path",
        )  # fmt: skip
    mean = float(np.mean(diff[known]))
    worst = int(np.nanargmax(np.abs(diff)))
    return JointDifference(
        angle=name, samples=int(known.sum()), mean_difference_deg=mean,
        rms_difference_deg=float(np.sqrt(np.mean(np.square(diff[known])))),
        max_abs_difference_deg=float(abs(diff[worst])), max_at=_location(worst, alignment, a, b),
        uncertainty_deg=sigma, significant=_significant(mean, sigma),
        display=("+" if mean > 0 else "") + format_measurement(mean, sigma, "deg"),
    )  # fmt: skip


def _location(point: int, alignment: Alignment, a: Motion, b: Motion) -> DifferenceLocation:
    row_a, row_b = (int(row) for row in alignment.path[point])
    time_a = float(a.timestamps_s[row_a])
    label, offset = None, None
    if alignment.matched_events:
        nearest = min(alignment.matched_events, key=lambda pair: abs(pair[0].row - row_a))[0]
        label, offset = nearest.label, time_a - nearest.time_s
    return DifferenceLocation(
        a_row=row_a, b_row=row_b, a_time_s=time_a, b_time_s=float(b.timestamps_s[row_b]),
        nearest_event=label, from_event_s=offset,
    )  # fmt: skip


def _matched(event_a: MotionEvent, event_b: MotionEvent) -> MatchedEventInfo:
    return MatchedEventInfo(
        label=event_a.label, a_row=event_a.row, a_time_s=event_a.time_s, b_row=event_b.row, b_time_s=event_b.time_s
    )


def _event(
    pair: tuple[MotionEvent, MotionEvent],
    names: Sequence[str],
    a: Motion,
    b: Motion,
    sigma: Sequence[float | None],
    alignment: Alignment,
) -> EventDifference:
    near = np.abs(alignment.path[:, 0] - pair[0].row) <= EVENT_HALF_WINDOW_FRAMES
    rows_a, rows_b = np.unique(alignment.path[near, 0]), np.unique(alignment.path[near, 1])
    angles = []
    for name, sd in zip(names, sigma, strict=True):
        value_a, value_b = _median(a.angles_deg[name][rows_a]), _median(b.angles_deg[name][rows_b])
        difference = None if value_a is None or value_b is None else float(_wrapped(np.array(value_a - value_b)))
        significant = _significant(difference, sd)
        angles.append(
            EventAngleDifference(angle=name, a_deg=value_a, b_deg=value_b, difference_deg=difference,
                                 uncertainty_deg=sd, significant=significant)
        )  # fmt: skip
    return EventDifference(event=_matched(*pair), angles=angles)


def _wrapped(difference_deg: NDArray[np.float64]) -> NDArray[np.float64]:
    """Wrap angle differences into (−180°, 180°]; NaN stays NaN."""
    return np.asarray(180.0 - np.mod(180.0 - difference_deg, 360.0), dtype=np.float64)


def _median(values: NDArray[np.float64]) -> float | None:
    finite = values[np.isfinite(values)]
    return float(np.median(finite)) if finite.size else None


def _similarity(differences: NDArray[np.float64], sigma: Sequence[float | None]) -> Similarity:
    known = np.isfinite(differences)
    rms = float(np.sqrt(np.mean(np.square(differences[known]))))
    counts = known.sum(axis=0)
    noise_sq = float(sum(int(n) * (sd or 0.0) ** 2 for n, sd in zip(counts, sigma, strict=True)) / counts.sum())
    per_angle = [
        math.sqrt(max(0.0, float(np.mean(np.square(column[np.isfinite(column)]))) - (sd or 0.0) ** 2))
        for column, sd, count in zip(differences.T, sigma, counts, strict=True)
        if count > 0
    ]
    excess = float(np.mean(per_angle))
    return Similarity(
        score=100.0 * math.exp(-excess / SCORE_SCALE_DEG), rms_difference_deg=rms,
        noise_rms_deg=math.sqrt(noise_sq), excess_rms_deg=excess, definition=SCORE_DEFINITION,
    )  # fmt: skip


def _identity(motion: Motion) -> MotionIdentity:
    return MotionIdentity(
        name=motion.name, source=motion.source, movement=motion.movement, sport=motion.sport,
        frames=motion.n_frames, fps=motion.pose.fps, notes=list(motion.notes),
    )  # fmt: skip


def _summary(alignment: Alignment) -> AlignmentSummary:
    return AlignmentSummary(
        method=alignment.method, note=alignment.note, angles=list(alignment.angles),
        matched_events=[_matched(*pair) for pair in alignment.matched_events],
        segments=[
            SegmentSummary(kind=s.kind, label=s.label, a_rows=s.a_rows, b_rows=s.b_rows) for s in alignment.segments
        ],
        path_length=len(alignment.path), time_step_s=alignment.time_step_s,
    )  # fmt: skip


# --- findings in words ------------------------------------------------------------------------------------------

_DIRECTIONS = {
    "flexion": ("more flexed", "more extended"),
    "dorsiflexion": ("more dorsiflexed", "more plantarflexed"),
    "adduction": ("more adducted", "more abducted"),
    "abduction": ("more abducted", "more adducted"),
}


def _words(angle: str, difference: float, value_a: float | None) -> tuple[str, str]:
    """(part of the body, direction of ``a`` relative to ``b``) for a difference a − b of ``angle``."""
    if angle == "trunk_flexion":
        if difference > 0:
            return "trunk", "leaning further forward"
        return "trunk", "leaning further back" if value_a is not None and value_a < 0 else "more upright"
    if angle == "trunk_lateral_lean":  # positive = towards the athlete's right
        return "trunk", "leaning further to the right" if difference > 0 else "leaning further to the left"
    side, joint, motion = angle.split("_", 2)
    more, less = _DIRECTIONS[motion]
    return f"{side} {joint}", more if difference > 0 else less


def _finding(
    angle: str, difference: float, sigma: float, value_a: float | None, event: str | None, reference: str
) -> Finding:
    part, direction = _words(angle, difference, value_a)
    amount = format_measurement(abs(difference), sigma, "deg")
    if event is None:
        text = f"{part} on average {amount} {direction} than {reference} over the aligned motion"
    else:
        text = f"{part} {amount} {direction} at {event} than {reference}"
    return Finding(
        text=text, angle=angle, scope="whole_motion" if event is None else "event", event=event,
        difference_deg=difference, uncertainty_deg=sigma,
    )  # fmt: skip


def _findings(
    joints: Sequence[JointDifference], events: Sequence[EventDifference], *, reference: str, a: Motion,
    alignment: Alignment,
) -> list[Finding]:  # fmt: skip
    candidates = []
    labels = [event.event.label for event in events]
    for index, event in enumerate(events):
        label = event.event.label
        where = label if labels.count(label) == 1 else f"{label} #{labels[: index + 1].count(label)}"
        for angle in event.angles:
            if angle.significant and angle.difference_deg is not None and angle.uncertainty_deg:
                candidates.append(
                    _finding(angle.angle, angle.difference_deg, angle.uncertainty_deg, angle.a_deg, where, reference)
                )
    for joint in joints:
        if joint.significant and joint.mean_difference_deg is not None and joint.uncertainty_deg:
            mean_a = _finite(float(np.nanmean(a.angles_deg[joint.angle][alignment.path[:, 0]])))
            candidates.append(
                _finding(joint.angle, joint.mean_difference_deg, joint.uncertainty_deg, mean_a, None, reference)
            )
    candidates.sort(key=lambda f: (f.scope != "event", -abs(f.difference_deg) / f.uncertainty_deg))
    chosen: list[Finding] = []
    for finding in candidates:
        if len(chosen) < MAX_FINDINGS and all(finding.angle != other.angle for other in chosen):
            chosen.append(finding)
    return chosen
