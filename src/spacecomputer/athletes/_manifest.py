"""The elite library's manifest: one entry per reference clip, with what is known and what is not.

The manifest (``manifest.json`` next to the clips) is the library's database. Facts measured from the files
(fps, image size, frames, the frames with a pose) are recomputed by :func:`describe_clip_file` and a test
checks that the stored ones agree. Facts from the clip's source (athlete, sport) are recorded as the source
gives them, with ``verified`` saying what we checked ourselves. Anything not known is ``None`` and listed in
``unknown``: we do not invent heights, masses or results.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from spacecomputer.domain import PoseSequence
from spacecomputer.errors import InvalidInputError, NotFoundError, OutputError

__all__ = [
    "MANIFEST_NAME",
    "ClipFileFacts",
    "Manifest",
    "ManifestEntry",
    "describe_clip_file",
    "estimated_camera_view",
    "pose_discontinuities",
]

MANIFEST_NAME = "manifest.json"
MANIFEST_SCHEMA_VERSION = "1.0"


class ClipFileFacts(BaseModel):
    """What a clip's pose file says about itself (recomputed from the file, never typed in)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fps: float = Field(description="Frames per second of the source video.")
    width_px: int
    height_px: int
    frames_listed: int = Field(description="Frames in the pose file.")
    frames_with_pose: int
    first_frame_with_pose: int | None = Field(description="1-based video frame number; None without any pose.")
    last_frame_with_pose: int | None
    duration_s: float = Field(description="Time spanned by the frames in the pose file, s.")


class ManifestEntry(BaseModel):
    """One reference clip of the library."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$", description="Clip id: lower case, digits, hyphens.")
    athlete: str | None = Field(description="Athlete's name as the source gives it; None when not named.")
    sport: str
    technique: str = Field(description="What is performed (sprint, ball carry, punching, …).")
    movement: str | None = Field(
        description="Movement family the engine compares by (sprint, jump, strike, grappling); None if unusable."
    )
    camera_view: str = Field(description="How the camera sees the athlete, and how we know.")
    pose_file: str = Field(description="Pose file (the elite JSON format), relative to the manifest.")
    video: str | None = Field(default=None, description="Source video with the pose drawn, if any (as shipped).")
    video_h264: str | None = Field(default=None, description="The same video in H.264 for browsers, if any.")
    facts: ClipFileFacts
    height_m: float | None = Field(default=None, description="Athlete's stature, m; None: not known.")
    mass_kg: float | None = Field(default=None, description="Athlete's mass, kg; None: not known.")
    source: str
    licence: str
    usable: bool = Field(default=True, description="Whether comparisons and search use this clip.")
    unusable_reason: str | None = None
    verified: list[str] = Field(default_factory=list, description="What we checked ourselves, and how.")
    unknown: list[str] = Field(default_factory=list, description="What is not known about the clip.")
    notes: list[str] = Field(default_factory=list)


class Manifest(BaseModel):
    """The library's entries, in id order."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: str = MANIFEST_SCHEMA_VERSION
    entries: list[ManifestEntry]

    @classmethod
    def read(cls, path: Path | str) -> Manifest:
        """Read and validate a manifest file.

        Raises
        ------
        NotFoundError
            The file does not exist.
        InvalidInputError
            It is not a valid manifest, or two entries share an id.

        """
        file = Path(path)
        if not file.is_file():
            raise NotFoundError(f"no library manifest at {file}", details={"path": str(file)})
        try:
            manifest = cls.model_validate_json(file.read_bytes())
        except ValidationError as exc:
            raise InvalidInputError(
                f"{file} is not a valid library manifest: {exc.errors()[0]['msg']} at {exc.errors()[0]['loc']}",
                details={"path": str(file)},
            ) from exc
        ids = [entry.id for entry in manifest.entries]
        duplicates = sorted({clip_id for clip_id in ids if ids.count(clip_id) > 1})
        if duplicates:
            raise InvalidInputError(f"{file} lists clip ids more than once: {duplicates}", details={"ids": duplicates})
        return manifest

    def write(self, path: Path | str) -> None:
        """Write the manifest atomically (a temporary file in the same directory, then a rename)."""
        file = Path(path)
        text = json.dumps(self.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=file.parent, prefix=".manifest-", suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
            os.chmod(temporary, 0o644)  # mkstemp makes it private; the manifest is shared
            os.replace(temporary, file)
        except OSError as exc:
            raise OutputError(f"cannot write the library manifest {file}: {exc}", details={"path": str(file)}) from exc

    def with_entry(self, entry: ManifestEntry) -> Manifest:
        """Return a manifest with ``entry`` added (ids stay sorted).

        Raises
        ------
        InvalidInputError
            An entry with that id exists already.

        """
        if any(existing.id == entry.id for existing in self.entries):
            raise InvalidInputError(
                f"the library already has a clip {entry.id!r}; choose another --id", details={"id": entry.id}
            )
        return Manifest(entries=sorted([*self.entries, entry], key=lambda e: e.id))


def describe_clip_file(path: Path | str) -> ClipFileFacts:
    """Measure a pose file in the elite JSON format: fps, image size, frames and the frames with a pose.

    Raises
    ------
    InvalidPoseDataError
        The file is not a valid pose file (from :meth:`PoseSequence.from_elite_json`).

    """
    sequence = PoseSequence.from_elite_json(path)
    width_px, height_px = sequence.image_size_px or (0, 0)
    with_pose = np.flatnonzero(sequence.detected)
    frame_numbers = sequence.frame_indices + 1
    return ClipFileFacts(
        fps=float(sequence.fps),
        width_px=int(width_px),
        height_px=int(height_px),
        frames_listed=sequence.n_frames,
        frames_with_pose=int(with_pose.size),
        first_frame_with_pose=frame_numbers[int(with_pose[0])] if with_pose.size else None,
        last_frame_with_pose=frame_numbers[int(with_pose[-1])] if with_pose.size else None,
        duration_s=float(sequence.duration_s),
    )


def pose_discontinuities(sequence: PoseSequence, *, ratio: float = 1.5) -> int:
    """Count jumps of the body's image size between consecutive frames with a pose (our own check).

    The size is the image distance from the mid-ankles to the mid-shoulders; a change by more than ``ratio``
    from one pose frame to the next means a camera cut, a zoom or the pose moving to another person.
    """
    if sequence.image_size_px is None:
        return 0
    names = sequence.skeleton.joint_names
    scale = np.array([sequence.image_size_px[0], sequence.image_size_px[1]], dtype=np.float64)

    def mid(a: str, b: str) -> np.ndarray:
        return 0.5 * (sequence.positions[:, names.index(a), :2] + sequence.positions[:, names.index(b), :2]) * scale

    size = np.linalg.norm(mid("left_ankle", "right_ankle") - mid("left_shoulder", "right_shoulder"), axis=1)
    size = size[np.isfinite(size) & (size > 0)]
    return int(np.sum(np.abs(np.diff(np.log(size))) > np.log(ratio)))


def estimated_camera_view(sequence: PoseSequence) -> str:
    """Describe the camera's view of the athlete from the pose alone (our own rule; for clips nobody described).

    The median, over frames, of the image distance between the shoulders over the image trunk length: below
    0.35 the shoulders overlap (side-on), above 0.6 they are seen across (front or back), oblique between.
    """
    if sequence.image_size_px is None:
        return "unknown"
    names = sequence.skeleton.joint_names
    scale = np.array([sequence.image_size_px[0], sequence.image_size_px[1]], dtype=np.float64)

    def point(name: str) -> np.ndarray:
        return sequence.positions[:, names.index(name), :2] * scale

    shoulders = np.linalg.norm(point("left_shoulder") - point("right_shoulder"), axis=1)
    mid_shoulder = 0.5 * (point("left_shoulder") + point("right_shoulder"))
    trunk = np.linalg.norm(mid_shoulder - 0.5 * (point("left_hip") + point("right_hip")), axis=1)
    ratios = shoulders / np.where(trunk > 0, trunk, np.nan)
    ratios = ratios[np.isfinite(ratios)]
    if ratios.size == 0:
        return "unknown (shoulders and hips never seen together)"
    ratio = float(np.median(ratios))
    kind = "side-on" if ratio < 0.35 else ("front or back" if ratio > 0.6 else "oblique")
    return (
        f"not seen; estimated from the pose as {kind} (median image shoulder width / trunk length {ratio:.2f}; "
        "our own rule: < 0.35 side-on, > 0.6 front or back)"
    )
