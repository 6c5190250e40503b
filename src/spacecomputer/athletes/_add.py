"""Adding a reference clip to the library from a video: ``spacecomputer athletes add VIDEO --name … --sport …``.

The video goes through the same analysis pipeline as a user's (probe and caps, pose, tracking, swap
correction, gap filling); the library keeps what the bundled clips hold — normalised image landmarks before the
low-pass, in the elite JSON format — plus the pipeline's H.264 overlay as the clip's browser video, and a
manifest entry whose facts are measured from the written files. Nothing is half-written: the files are staged
and the manifest, written last, is what makes the clip part of the library.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from spacecomputer.domain import CoordinateFrame, PoseSequence
from spacecomputer.errors import InvalidInputError, OutputError
from spacecomputer.pipeline import AnalyzeOptions, ProgressCallback, analyze_video

from ._library import AthleteLibrary, bundled_library_dir, user_library_dir
from ._manifest import (
    MANIFEST_NAME,
    Manifest,
    ManifestEntry,
    describe_clip_file,
    estimated_camera_view,
    pose_discontinuities,
)

__all__ = ["MOVEMENTS", "add_reference_clip", "clip_id_from_name"]

MOVEMENTS = ("sprint", "jump", "landing", "strike", "throw", "grappling")
"""Movement families a library clip may belong to (those the engine detects, plus grappling)."""
_CLIP_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")


def clip_id_from_name(name: str) -> str:
    """Make a clip id from a name: lower case, runs of other characters turned into one hyphen.

    >>> clip_id_from_name("Usain Bolt — 100 m")
    'usain-bolt-100-m'

    """
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:64].strip("-")
    if not slug:
        raise InvalidInputError(f"cannot make a clip id from the name {name!r}; give --id", details={"name": name})
    return slug


def add_reference_clip(
    video: Path | str,
    *,
    name: str,
    sport: str,
    movement: str,
    technique: str | None = None,
    athlete: str | None = None,
    clip_id: str | None = None,
    camera_view: str | None = None,
    source: str = "added by the user",
    licence: str = "not stated",
    library_dir: Path | None = None,
    options: AnalyzeOptions | None = None,
    progress: ProgressCallback | None = None,
) -> ManifestEntry:
    """Analyse ``video`` and add it to the user's library; return the new manifest entry.

    Parameters
    ----------
    video
        The clip to add (any video the pipeline accepts).
    name
        What the clip shows, e.g. ``"Bolt 100 m final"``; also the default id (:func:`clip_id_from_name`).
    sport, movement, technique, athlete
        As in :class:`~spacecomputer.athletes.ManifestEntry`; ``movement`` is one of :data:`MOVEMENTS`.
    clip_id
        Id to use instead of the one made from ``name``.
    camera_view
        How the camera sees the athlete; ``None``: estimated from the pose and marked so.
    source, licence
        Where the clip comes from and under which terms.
    library_dir
        Directory of the user's library (default ``SPACECOMPUTER_LIBRARY_DIR/athletes``).
    options, progress
        Passed to :func:`spacecomputer.pipeline.analyze_video` (the overlay is always made).

    Raises
    ------
    InvalidInputError
        Unknown movement (the valid ones are listed), blank name or sport, an invalid id or one already used.
    InvalidVideoError, VideoTooLargeError, NoAthleteDetectedError, …
        From the pipeline, with nothing written to the library.

    """
    if movement not in MOVEMENTS:
        raise InvalidInputError(
            f"unknown movement {movement!r}; valid: {', '.join(MOVEMENTS)}",
            details={"movement": movement, "valid": list(MOVEMENTS)},
        )
    for field_name, value in (("name", name), ("sport", sport)):
        if not value.strip():
            raise InvalidInputError(f"--{field_name} must not be blank", details={field_name: value})
    chosen_id = clip_id if clip_id is not None else clip_id_from_name(name)
    if not _CLIP_ID.fullmatch(chosen_id):
        raise InvalidInputError(
            f"clip id {chosen_id!r} is not a valid library id: lower-case letters, digits and hyphens, at most 64",
            details={"id": chosen_id},
        )
    directory = library_dir if library_dir is not None else user_library_dir()
    library = AthleteLibrary(list(dict.fromkeys([bundled_library_dir().resolve(), directory.resolve()])))
    if chosen_id in library.ids():
        raise InvalidInputError(
            f"the library already has a clip {chosen_id!r}; choose another --id", details={"id": chosen_id}
        )
    manifest_path = directory / MANIFEST_NAME
    manifest = Manifest.read(manifest_path) if manifest_path.is_file() else Manifest(entries=[])
    directory.mkdir(parents=True, exist_ok=True)
    pose_name, video_name = f"{chosen_id}.json", f"{chosen_id}_h264.mp4"
    written: list[Path] = []
    staging = Path(tempfile.mkdtemp(dir=directory, prefix=".adding-"))
    try:
        result = analyze_video(
            video, replace(options or AnalyzeOptions(), overlay=True), out_dir=staging / "run", progress=progress
        )
        pose = _normalised(result.image_raw if result.image_raw is not None else result.image)
        (staging / pose_name).write_text(json.dumps(pose.to_elite_json()), encoding="utf-8")
        facts = describe_clip_file(staging / pose_name)
        entry = ManifestEntry(
            id=chosen_id,
            athlete=athlete,
            sport=sport.strip(),
            technique=(technique or movement).strip(),
            movement=movement,
            camera_view=camera_view or estimated_camera_view(pose),
            pose_file=pose_name,
            video=None,
            video_h264=video_name,
            facts=facts,
            source=source,
            licence=licence,
            verified=[],
            unknown=["height_m", "mass_kg", *([] if athlete else ["athlete"])],
            notes=_notes(name, Path(video).name, pose, facts.frames_with_pose, facts.frames_listed),
        )
        updated = manifest.with_entry(entry)
        moves = (
            (staging / pose_name, directory / pose_name),
            (staging / "run" / "overlay.mp4", directory / video_name),
        )
        for staged, final in moves:
            os.replace(staged, final)
            written.append(final)
        updated.write(manifest_path)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return entry


def _normalised(image: PoseSequence) -> PoseSequence:
    """Image pixels → the library's normalised coordinates (x / width, y / height, z / width)."""
    if image.image_size_px is None:
        raise OutputError("the pipeline's image pose lacks its image size; cannot store it in the library")
    width_px, height_px = image.image_size_px
    return image.replace(
        positions=image.positions / np.array([width_px, height_px, width_px], dtype=np.float64),
        frame=CoordinateFrame.NORMALIZED,
    )


def _notes(name: str, file_name: str, pose: PoseSequence, with_pose: int, listed: int) -> list[str]:
    notes = [f"{name!r}, added from {file_name}; pose tracked by the analysis pipeline before its low-pass"]
    if with_pose < listed:
        notes.append(f"a pose in {with_pose} of {listed} frames")
    jumps = pose_discontinuities(pose)
    if jumps:
        notes.append(
            f"{jumps} frame-to-frame jumps of the body's image size by more than 1.5× "
            "(camera cuts, zoom or the pose switching person likely)"
        )
    return notes
