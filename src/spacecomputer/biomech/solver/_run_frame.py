"""What a pose session takes from a run directory: the metric poses, up, the body model and the frame's GRF."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from spacecomputer.biomech._body_model import BodyModel
from spacecomputer.biomech.solver._results import FrameGroundReaction
from spacecomputer.domain import PoseSequence
from spacecomputer.errors import InsufficientDataError, NotFoundError

__all__ = ["GRF_COLUMNS", "RunFrame", "read_run_frame"]

GRF_COLUMNS = ("grf_vertical_n", "grf_horizontal_n", "grf_left_vertical_n", "grf_right_vertical_n")
"""The ``metrics.csv`` columns a session reads for its frame's ground reaction."""


@dataclass(frozen=True, eq=False)
class RunFrame:
    """A run's metric pose sequence, up direction and body model, and one frame's ground reaction (if any)."""

    sequence: PoseSequence
    up: NDArray[np.float64]
    body: BodyModel
    ground_reaction: FrameGroundReaction | None


def _number(text: str | None) -> float:
    try:
        return float(text) if text not in (None, "") else math.nan
    except ValueError:
        return math.nan


def _ground_reaction(path: Path, frame: int) -> FrameGroundReaction | None:
    """Read the frame's row of ``metrics.csv`` (column ``row``), or ``None`` without the file, row or any GRF value."""
    if not path.is_file():
        return None
    with path.open(newline="", encoding="utf-8") as handle:
        for record in csv.DictReader(handle):
            if _number(record.get("row")) == frame:
                vertical, horizontal, left, right = (_number(record.get(column)) for column in GRF_COLUMNS)
                if not any(math.isfinite(v) for v in (vertical, horizontal, left, right)):
                    return None
                return FrameGroundReaction(
                    vertical_n=vertical,
                    horizontal_n=horizontal,
                    left_vertical_n=left,
                    right_vertical_n=right,
                    source="run",
                    note=(
                        f"the run's {path.name}, row {frame}: estimated from video (body mass times the COM's "
                        "acceleration minus gravity, shared between the feet), not measured"
                    ),
                )
    return None


def read_run_frame(
    run_dir: Path | str, *, frame: int, mass_kg: float | None = None, height_m: float | None = None
) -> RunFrame:
    """Read a run directory for a pose session on row ``frame`` of its ``poses.parquet``.

    The body model takes ``mass_kg`` and ``height_m`` when given, else the run's when the run was given them
    (its ``body_model.mass_source`` / ``height_source``), else the defaults; its sex is the run's.

    Raises
    ------
    NotFoundError
        The directory, its ``analysis.json`` or its pose file is missing.
    InsufficientDataError
        The run has no biomechanics section (nothing says which way is up).
    InvalidInputError
        Invalid mass or height.

    """
    # Imported here: spacecomputer.athletes imports spacecomputer.biomech, which may export this package.
    from spacecomputer.athletes import load_run_analysis

    run = Path(run_dir)
    analysis = load_run_analysis(run)
    biomechanics = analysis.biomechanics
    if biomechanics is None:
        raise InsufficientDataError(
            f"run {run.name!r} has no biomechanics section (see its warnings): it does not say which way is up",
            details={"run": str(run), "warnings": analysis.warnings},
        )
    poses = run / analysis.files.poses
    if not poses.is_file():
        raise NotFoundError(f"run {run.name!r} lacks its pose file {poses.name}", details={"path": str(poses)})
    given = biomechanics.body_model
    body = BodyModel.from_anthropometry(
        mass_kg=mass_kg if mass_kg is not None else (given.mass_kg if given.mass_source == "given" else None),
        height_m=height_m if height_m is not None else (given.height_m if given.height_source == "given" else None),
        sex=given.sex,
    )
    metrics = run / analysis.files.metrics if analysis.files.metrics else None
    grf = _ground_reaction(metrics, frame) if metrics is not None and isinstance(frame, int) else None
    return RunFrame(
        sequence=PoseSequence.from_parquet(poses),
        up=np.asarray(biomechanics.up, dtype=np.float64),
        body=body,
        ground_reaction=grf,
    )
