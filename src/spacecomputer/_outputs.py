"""The biomechanics files of a run directory: metrics.csv, markers.trc, kinematics.mot and report.html."""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from spacecomputer.biomech import BiomechanicsResult
from spacecomputer.biomech._opensim_io import write_mot, write_trc
from spacecomputer.domain import PoseSequence
from spacecomputer.domain._analysis import Analysis
from spacecomputer.errors import InvalidInputError, NotFoundError, OutputError
from spacecomputer.report import write_report

__all__ = ["read_metrics_csv", "write_biomechanics_outputs", "write_metrics_csv"]

_INTEGER_COLUMNS = frozenset({"row", "video_frame"})
_NUMBER = re.compile(r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|nan)", re.IGNORECASE)


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


def read_metrics_csv(path: Path) -> dict[str, NDArray[np.float64]]:
    """Read a ``metrics.csv`` written by :func:`write_metrics_csv`: column name → (T,) float array.

    Empty cells are NaN, as the writer wrote every non-finite value (NaN and ±inf alike); every other cell
    is read back as the number written, so ``write_metrics_csv`` then ``read_metrics_csv`` returns the
    values rounded to 6 significant digits, and integers (``row``, ``video_frame``) exactly. The columns are
    in the file's order; a file without columns (an empty header line) gives an empty dictionary.

    Raises
    ------
    NotFoundError
        The file does not exist.
    InvalidInputError
        It cannot be read as UTF-8 text, has no header line, repeats or leaves empty a column name, has a row
        with another number of cells than the header, or a cell that is not a decimal number.

    """
    if not path.is_file():
        raise NotFoundError(f"{path} does not exist: there is no metrics.csv to read", details={"path": str(path)})
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise InvalidInputError(f"cannot read {path} as CSV text: {error}", details={"path": str(path)}) from error
    if not rows:
        raise InvalidInputError(f"{path} is empty: a metrics.csv starts with a header line of column names")
    names, body = rows[0], rows[1:]
    repeated = sorted({name for name in names if names.count(name) > 1 or not name})
    if repeated:
        raise InvalidInputError(
            f"{path}: column names must be unique and not empty; got {repeated} more than once or empty",
            details={"path": str(path), "names": repeated},
        )
    values = np.full((len(body), len(names)), np.nan)
    for number, row in enumerate(body, start=2):
        if len(row) != len(names):
            raise InvalidInputError(
                f"{path}, line {number}: {len(row)} cells where the header has {len(names)} columns",
                details={"path": str(path), "line": number},
            )
        for column, cell in enumerate(row):
            if cell and not _NUMBER.fullmatch(cell):
                raise InvalidInputError(
                    f"{path}, line {number}, column {names[column]!r}: {cell[:40]!r} is not a number",
                    details={"path": str(path), "line": number, "column": names[column]},
                )
            if cell:
                values[number - 2, column] = float(cell)
    return {name: values[:, k].copy() for k, name in enumerate(names)}
