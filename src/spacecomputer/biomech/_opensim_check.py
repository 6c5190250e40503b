"""Cross-check with OpenSim: scale Pose2Sim's model to our markers, run its inverse kinematics and dynamics.

:func:`run_opensim` writes the sequence as a marker file (:func:`~spacecomputer.biomech._opensim_io.write_trc`), then

1. *Scaling*: Pose2Sim's generic model is scaled to the markers with OpenSim's ScaleTool, as Pose2Sim itself does it
   (details in :mod:`~spacecomputer.biomech._opensim_check_scaling`).
2. *Inverse kinematics*: OpenSim's InverseKinematicsTool with Pose2Sim's ``IK_Setup_Pose2Sim_Blazepose.xml`` (its
   marker weights and its weak ``L5_S1_Flex_Ext`` → 0 coordinate task), over the frames of the marker file. The pelvis
   starts at the first frame's position and heading (the solver is local, so a body facing away from +X could
   otherwise settle in a mirrored posture). Rotational coordinates come back in degrees.
3. *Inverse dynamics* (when ``grf`` is given): OpenSim's InverseDynamicsTool on the IK coordinates, with the
   estimated ground reaction force of each foot applied to ``calcn_l`` / ``calcn_r`` at its centre of pressure
   (:func:`~spacecomputer.biomech._opensim_io.write_external_loads_xml`), over the longest run of consecutive frames
   where the force is known. Its coordinate low-pass filter is off by default (``id_lowpass_hz=None``: the
   coordinates as IK gave them); ``benchmarks/opensim_agreement.py`` sets it to the pipeline's own cut-off, because
   IK solved frame by frame adds changes of its own to markers the pipeline had already low-passed (its docstring
   gives the case). With it on, the tool resamples the coordinates on its own uniform grid and the results are
   interpolated back onto the frames. OpenSim fits splines to the coordinates and differentiates them; we take
   central differences of landmark positions.

OpenSim conventions (Pose2Sim's model, derived from Rajagopal et al. 2016, *Full-body musculoskeletal model for
muscle-driven simulation of human gait*, IEEE Trans Biomed Eng 63(10):2068–2079): ``hip_flexion_*`` positive =
flexion, ``knee_angle_*`` positive = flexion (0 to 155°, clamped: no hyperextension), ``ankle_angle_*`` positive =
dorsiflexion. A generalized force ``*_moment`` is positive in the direction of its coordinate, so a positive
``knee_angle_r_moment`` is a flexor moment, the opposite of our extensor-positive ``flexion_moment_n_m``.

``opensim`` is imported inside the functions, so the package works without it (it is a dev dependency).
"""

from __future__ import annotations

import dataclasses
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spacecomputer.biomech._opensim_check_scaling import _find, _items, _scale, _set, pose2sim_setup_dir
from spacecomputer.biomech._opensim_io import (
    OPENSIM_MARKERS,
    GroundReactionLike,
    opensim_rotation,
    write_external_loads_xml,
    write_grf_mot,
    write_trc,
)
from spacecomputer.domain import PoseSequence
from spacecomputer.domain._runs import contiguous_runs
from spacecomputer.errors import InsufficientDataError, InvalidInputError

__all__ = ["OpenSimResult", "pose2sim_setup_dir", "run_opensim"]

_TOOL_NAME = "opensim_check"
_MATCH_S = 1e-6
"""Times read back from OpenSim's files match ours to the 1e-8 s we write them with; this is a safe margin."""


@dataclasses.dataclass(frozen=True, eq=False)
class OpenSimResult:
    """What OpenSim found for one sequence. Times are seconds of the sequence's own clock.

    Attributes
    ----------
    ik_rows
        (N,) row of the sequence of each IK sample.
    ik_timestamps_s
        (N,) time of each IK sample, s.
    ik_deg
        Rotational coordinate of the model → (N,) degrees (``hip_flexion_r``, ``knee_angle_l``, ...).
    pelvis_translation_m
        (N, 3) ``pelvis_tx``, ``pelvis_ty``, ``pelvis_tz``, m, in OpenSim's ground (``rotation @`` our frame).
    marker_rms_error_m, marker_max_error_m
        (N,) RMS and largest distance between our markers and the model's after IK, m.
    model_markers_m
        OpenSim marker name → (N, 3) position of the model's marker after IK, m, in OpenSim's ground: the pose the
        model actually took, to which our own angle definitions can be applied.
    ik_frames_per_s
        IK throughput: samples solved per second of wall time.
    scale_factors
        Body → uniform scale factor applied to the generic model.
    rotation
        (3, 3) rotation from the sequence's frame into OpenSim's ground (:func:`opensim_rotation`).
    id_rows, id_timestamps_s
        (M,) sequence rows and times of the inverse dynamics samples; empty without ``grf``.
    id_generalized_forces
        OpenSim ID column → (M,) values: ``*_moment`` in N·m (positive along the coordinate), ``*_force`` in N.
    id_lowpass_hz
        The coordinate low-pass cut-off given to the InverseDynamicsTool, or ``None`` (off).
    work_dir
        Folder holding every file written and read (markers, models, setups, results, ``opensim.log``).

    """

    ik_rows: NDArray[np.int64]
    ik_timestamps_s: NDArray[np.float64]
    ik_deg: dict[str, NDArray[np.float64]]
    pelvis_translation_m: NDArray[np.float64]
    marker_rms_error_m: NDArray[np.float64]
    marker_max_error_m: NDArray[np.float64]
    model_markers_m: dict[str, NDArray[np.float64]]
    ik_frames_per_s: float
    scale_factors: dict[str, float]
    rotation: NDArray[np.float64]
    work_dir: Path
    id_rows: NDArray[np.int64] = dataclasses.field(default_factory=lambda: np.empty(0, dtype=np.int64))
    id_timestamps_s: NDArray[np.float64] = dataclasses.field(default_factory=lambda: np.empty(0))
    id_generalized_forces: dict[str, NDArray[np.float64]] = dataclasses.field(default_factory=dict)
    id_lowpass_hz: float | None = None


def run_opensim(
    sequence: PoseSequence,
    *,
    up: ArrayLike,
    mass_kg: float,
    height_m: float,
    work_dir: Path | str,
    grf: GroundReactionLike | None = None,
    id_lowpass_hz: float | None = None,
) -> OpenSimResult:
    """Scale Pose2Sim's model to the sequence, run OpenSim IK and, with ``grf``, inverse dynamics.

    Parameters
    ----------
    sequence
        Metric BlazePose sequence, metres.
    up
        Unit 3-vector pointing up in the sequence's frame.
    mass_kg
        Body mass given to the scaled model, kg.
    height_m
        Stature, m (recorded in the scale setup; OpenSim does not scale by it).
    work_dir
        Folder for every file (created if needed).
    grf
        Ground reaction estimate (per foot, in the sequence's frame) for inverse dynamics; ``None`` skips it.
    id_lowpass_hz
        Low-pass cut-off of the InverseDynamicsTool on the IK coordinates, Hz; ``None`` = off (see module docstring).

    Raises
    ------
    ImportError
        If ``opensim`` or ``pose2sim`` is not installed.
    InvalidPoseDataError
        If the sequence is not metric or lacks a BlazePose landmark.
    InvalidInputError
        If ``up``, ``mass_kg``, ``height_m`` or ``id_lowpass_hz`` is not valid.
    InsufficientDataError
        If a body's scale cannot be measured (a marker pair never seen), or OpenSim's IK or ID fails.

    """
    osim = _import_opensim()
    for name, value in (("mass_kg", mass_kg), ("height_m", height_m)):
        if not (np.isfinite(value) and value > 0):
            raise InvalidInputError(f"{name} must be positive and finite; got {value!r}", details={name: value})
    if id_lowpass_hz is not None and not (np.isfinite(id_lowpass_hz) and id_lowpass_hz > 0):
        raise InvalidInputError(f"id_lowpass_hz must be positive or None; got {id_lowpass_hz!r}")
    folder = Path(work_dir).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    rotation = opensim_rotation(up)
    markers_path = folder / "markers.trc"
    write_trc(sequence, markers_path, up=up)

    sink = str(folder / "opensim.log")
    level = osim.Logger.getLevelString()
    osim.Logger.removeFileSink()
    osim.Logger.addFileSink(sink)
    osim.Logger.setLevelString("Error")
    try:
        model_path, factors = _scale(osim, sequence, rotation, folder, mass_kg=mass_kg, height_m=height_m)
        ik = _inverse_kinematics(osim, sequence, model_path, markers_path, folder)
        result = OpenSimResult(**ik, scale_factors=factors, rotation=rotation, work_dir=folder)
        if grf is None:
            return result
        return _inverse_dynamics(osim, sequence, result, grf, model_path, up=up, lowpass_hz=id_lowpass_hz)
    finally:
        osim.Logger.removeFileSink()
        osim.Logger.setLevelString(level)


# --- steps ------------------------------------------------------------------------------------------------------


def _import_opensim() -> Any:
    try:
        import opensim
    except ImportError as exc:
        raise ImportError("the OpenSim cross-check needs the opensim package (pip install opensim==4.6)") from exc
    return opensim


def _inverse_kinematics(
    osim: Any, sequence: PoseSequence, model_path: Path, markers_path: Path, folder: Path
) -> dict[str, Any]:
    markers = osim.TimeSeriesTableVec3(str(markers_path))
    times = np.asarray(markers.getIndependentColumn(), dtype=np.float64)
    root = ET.parse(pose2sim_setup_dir() / "IK_Setup_Pose2Sim_Blazepose.xml").getroot()
    tool = _find(root, "InverseKinematicsTool")
    tool.set("name", _TOOL_NAME)
    motion_path = folder / "ik.mot"
    _set(tool, "results_directory", str(folder))
    _set(tool, "model_file", str(model_path))
    _set(tool, "marker_file", str(markers_path))
    _set(tool, "output_motion_file", str(motion_path))
    _set(tool, "time_range", f"{float(times[0])!r} {float(times[-1])!r}")
    _set(tool, "report_errors", "true")
    _set(tool, "report_marker_locations", "true")
    setup_path = folder / "ik_setup.xml"
    ET.ElementTree(root).write(setup_path, encoding="utf-8", xml_declaration=True)
    started = time.perf_counter()
    try:
        osim.InverseKinematicsTool(str(setup_path)).run()
    except RuntimeError as exc:
        raise InsufficientDataError(f"OpenSim's inverse kinematics failed: {exc}") from exc
    elapsed_s = time.perf_counter() - started

    model = osim.Model(str(model_path))
    rotational = {c.getName() for c in _items(model.getCoordinateSet()) if c.getMotionType() == 1}
    table = osim.TimeSeriesTable(str(motion_path))
    ik_times, columns = _columns(table)
    _, errors = _columns(osim.TimeSeriesTable(str(folder / f"{_TOOL_NAME}_ik_marker_errors.sto")))
    _, locations = _columns(osim.TimeSeriesTable(str(folder / f"{_TOOL_NAME}_ik_model_marker_locations.sto")))
    model_markers = {m: np.column_stack([locations[f"{m}_t{a}"] for a in "xyz"]) for m, _ in OPENSIM_MARKERS}
    return {
        "ik_rows": _rows(sequence, ik_times),
        "ik_timestamps_s": ik_times,
        "ik_deg": {name: values for name, values in columns.items() if name in rotational},
        "pelvis_translation_m": np.column_stack([columns[f"pelvis_t{a}"] for a in "xyz"]),
        "marker_rms_error_m": errors["marker_error_RMS"],
        "marker_max_error_m": errors["marker_error_max"],
        "model_markers_m": model_markers,
        "ik_frames_per_s": ik_times.size / elapsed_s,
    }


def _inverse_dynamics(
    osim: Any,
    sequence: PoseSequence,
    result: OpenSimResult,
    grf: GroundReactionLike,
    model_path: Path,
    *,
    up: ArrayLike,
    lowpass_hz: float | None,
) -> OpenSimResult:
    folder = result.work_dir
    known = np.zeros(sequence.n_frames, dtype=bool)
    known[result.ik_rows] = True
    known &= np.asarray(grf.known, dtype=bool) & np.isfinite(np.asarray(grf.per_foot_n)).all(axis=(1, 2))
    runs = [(start, stop) for start, stop in contiguous_runs(known) if stop - start >= 2]
    if not runs:
        raise InsufficientDataError("no two consecutive frames have both an IK solution and a known ground force")
    start, stop = max(runs, key=lambda run: run[1] - run[0])
    grf_path, loads_path = folder / "grf.mot", folder / "external_loads.xml"
    write_grf_mot(grf, sequence.timestamps_s, grf_path, up=up)
    write_external_loads_xml(loads_path, grf_mot_path=grf_path)
    tool = osim.InverseDynamicsTool()
    tool.setName(_TOOL_NAME)
    tool.setModelFileName(str(model_path))
    tool.setCoordinatesFileName(str(folder / "ik.mot"))
    tool.setExternalLoadsFileName(str(loads_path))
    tool.setStartTime(float(sequence.timestamps_s[start]))
    tool.setEndTime(float(sequence.timestamps_s[stop - 1]))
    tool.setLowpassCutoffFrequency(-1.0 if lowpass_hz is None else float(lowpass_hz))
    tool.setResultsDir(str(folder))
    tool.setOutputGenForceFileName("id.sto")
    try:
        ok = tool.run()
    except RuntimeError as exc:
        raise InsufficientDataError(f"OpenSim's inverse dynamics failed: {exc}") from exc
    if not ok:
        raise InsufficientDataError(f"OpenSim's inverse dynamics failed; see {folder / 'opensim.log'}")
    times, columns = _columns(osim.TimeSeriesTable(str(folder / "id.sto")))
    if lowpass_hz is None:
        rows = _rows(sequence, times)
    else:
        # With its low-pass on, the tool resamples the coordinates on its own uniform grid (step: the smallest
        # frame interval, start padded), whose times are not the frames': interpolate back onto the frames.
        stamps = sequence.timestamps_s[start:stop]
        inside = (stamps >= times[0] - _MATCH_S) & (stamps <= times[-1] + _MATCH_S)
        rows = np.arange(start, stop)[inside]
        columns = {name: np.interp(sequence.timestamps_s[rows], times, values) for name, values in columns.items()}
        times = sequence.timestamps_s[rows]
    return dataclasses.replace(
        result,
        id_rows=np.asarray(rows, dtype=np.int64),
        id_timestamps_s=times,
        id_generalized_forces=columns,
        id_lowpass_hz=lowpass_hz,
    )


# --- helpers ----------------------------------------------------------------------------------------------------


def _columns(table: Any) -> tuple[NDArray[np.float64], dict[str, NDArray[np.float64]]]:
    times = np.asarray(table.getIndependentColumn(), dtype=np.float64)
    matrix = np.asarray(table.getMatrix().to_numpy(), dtype=np.float64).reshape(times.size, -1)
    return times, {str(label): matrix[:, i].copy() for i, label in enumerate(table.getColumnLabels())}


def _rows(sequence: PoseSequence, times_s: NDArray[np.float64]) -> NDArray[np.int64]:
    """Row of the sequence at each time read back from an OpenSim file."""
    stamps = sequence.timestamps_s
    rows = np.minimum(np.searchsorted(stamps, times_s - _MATCH_S), stamps.size - 1)
    if (np.abs(stamps[rows] - times_s) > _MATCH_S).any():
        raise InsufficientDataError("OpenSim returned samples at times that are not frames of the sequence")
    return np.asarray(rows, dtype=np.int64)
