"""A user's run directory (the output of ``spacecomputer analyze``) read back as a comparable motion."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydantic import ValidationError

from spacecomputer.biomech import DEFAULT_DRAWS, LandmarkNoise
from spacecomputer.biomech._uncertainty import DEFAULT_LANDMARK_SIGMA_M, VISIBILITY_FLOOR
from spacecomputer.domain import PoseSequence
from spacecomputer.domain._analysis import Analysis
from spacecomputer.errors import InsufficientDataError, InvalidInputError, NotFoundError

from ._motion import Motion, motion_from_sequence

__all__ = ["load_run_analysis", "motion_from_run"]


def load_run_analysis(run_dir: Path | str) -> Analysis:
    """Read and validate ``analysis.json`` of a run directory.

    Raises
    ------
    NotFoundError
        The directory or its ``analysis.json`` does not exist.
    InvalidInputError
        The file is not a valid analysis document.

    """
    path = Path(run_dir) / "analysis.json"
    if not path.is_file():
        raise NotFoundError(
            f"{run_dir} is not a run directory: it has no analysis.json (run `spacecomputer analyze` first)",
            details={"run": str(run_dir)},
        )
    try:
        return Analysis.model_validate_json(path.read_bytes())
    except ValidationError as exc:
        raise InvalidInputError(
            f"{path} is not a valid analysis document: {exc.error_count()} problems, first: {exc.errors()[0]['msg']}",
            details={"path": str(path)},
        ) from exc


def motion_from_run(run_dir: Path | str, *, draws: int = DEFAULT_DRAWS, seed: int = 0) -> Motion:
    """Read a run directory as a :class:`~spacecomputer.athletes.Motion`.

    The pose is the run's metric ``poses.parquet``; "up", the movement and the sport come from its
    ``analysis.json``. The landmark noise for the angle uncertainties is the one the run measured (its median
    own jitter, scaled per frame by visibility as in the engine), since the raw landmarks are not kept.

    Raises
    ------
    NotFoundError
        The directory, its ``analysis.json`` or its ``poses.parquet`` is missing.
    InsufficientDataError
        The run has no biomechanics (nothing to say which way is up), or too few frames with a pose.

    """
    run = Path(run_dir)
    analysis = load_run_analysis(run)
    biomechanics = analysis.biomechanics
    if biomechanics is None:
        raise InsufficientDataError(
            f"run {run.name!r} has no biomechanics section (see its warnings), so it cannot be compared",
            details={"run": str(run), "warnings": analysis.warnings},
        )
    poses_path = run / analysis.files.poses
    if not poses_path.is_file():
        raise NotFoundError(
            f"run {run.name!r} lacks its pose file {poses_path.name}", details={"path": str(poses_path)}
        )
    pose = PoseSequence.from_parquet(poses_path)
    sigma_m = biomechanics.uncertainty.median_landmark_sigma_m or DEFAULT_LANDMARK_SIGMA_M
    visibility = np.where(np.isfinite(pose.confidence), pose.confidence, 0.0)
    sigma = sigma_m / np.maximum(visibility, VISIBILITY_FLOOR)
    sigma[~np.isfinite(pose.positions).all(axis=2)] = np.nan
    noise = LandmarkNoise(sigma_m=sigma, common_covariance_m2=np.zeros((3, 3)), measured=True)
    family = biomechanics.movement.family
    return motion_from_sequence(
        pose,
        up=biomechanics.up,
        name=run.name,
        source="run",
        movement=None if family in (None, "unknown", "general") else family,
        sport=analysis.subject.sport,
        noise=noise,
        cutoff_hz=analysis.processing.filter.cutoff_hz,
        draws=draws,
        seed=seed,
        notes=(f"metric 3D pose of the run ({biomechanics.coordinate_frame} frame); up from {biomechanics.up_source}",),
    )
