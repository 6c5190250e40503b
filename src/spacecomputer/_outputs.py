"""The biomechanics files of a run directory: metrics.csv, markers.trc, kinematics.mot and report.html."""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from spacecomputer.biomech import BiomechanicsResult
from spacecomputer.biomech._opensim_io import write_mot, write_trc
from spacecomputer.domain import PoseSequence
from spacecomputer.domain._analysis import Analysis
from spacecomputer.errors import OutputError
from spacecomputer.report import write_report

__all__ = ["write_biomechanics_outputs", "write_metrics_csv"]

_INTEGER_COLUMNS = frozenset({"row", "video_frame"})


def write_biomechanics_outputs(
    directory: Path, analysis: Analysis, biomechanics: BiomechanicsResult | None, metric: PoseSequence
) -> None:
    """Write the files the analysis document names in ``analysis.files`` (all but the pose files and overlay)."""
    series: Mapping[str, NDArray[np.float64]] = {}
    if biomechanics is not None:
        series = biomechanics.series
        write_metrics_csv(directory / "metrics.csv", series)
        write_trc(metric, directory / "markers.trc", up=biomechanics.section.up)
        write_mot(biomechanics.baseline.joint_angles, metric.timestamps_s, directory / "kinematics.mot")
    write_report(directory / "report.html", analysis, series)


def write_metrics_csv(path: Path, series: Mapping[str, NDArray[np.float64]]) -> None:
    """Write the per-frame series as CSV: one header row of column names (units in them), empty cells for NaN.

    Values are written with 6 significant digits; ``row`` and ``video_frame`` as integers.

    Raises
    ------
    OutputError
        The columns differ in length, or the file cannot be written.

    """
    lengths = {name: len(values) for name, values in series.items()}
    if len(set(lengths.values())) > 1:
        raise OutputError(f"metrics.csv columns differ in length: {lengths}")
    names = list(series)
    n_rows = next(iter(lengths.values()), 0)
    try:
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(names)
            columns = [_formatted(name, np.asarray(series[name], dtype=np.float64)) for name in names]
            writer.writerows(zip(*columns, strict=True) if columns else [[] for _ in range(n_rows)])
    except OSError as error:
        raise OutputError(f"cannot write {path}: {error.strerror}", details={"path": str(path)}) from error


def _formatted(name: str, values: NDArray[np.float64]) -> list[str]:
    finite = np.isfinite(values)
    if name in _INTEGER_COLUMNS:
        return [str(int(v)) if ok else "" for v, ok in zip(values, finite, strict=True)]
    return [f"{v:.6g}" if ok else "" for v, ok in zip(values, finite, strict=True)]
