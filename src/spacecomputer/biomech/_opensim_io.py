"""Write our pose, angles and ground reaction forces in OpenSim's file formats (pure Python, no ``opensim``).

Files
-----
- :func:`write_trc`: landmark trajectories as an OpenSim marker file (``.trc``, tab separated, ``Units m``), the
  25 markers of Pose2Sim's ``Markers_BlazePose.xml`` (:data:`OPENSIM_MARKERS`: OpenSim name → BlazePose landmark),
  so that Pose2Sim's model, scaling and IK setups read it unchanged.
- :func:`write_mot`: our joint angles as a Storage ``.mot`` file (``inDegrees=yes``), one column per angle key.
- :func:`write_grf_mot` and :func:`write_external_loads_xml`: our estimated ground reaction force per foot as an
  external-loads ``.mot`` and the ``ExternalLoads`` XML that applies it to ``calcn_l`` / ``calcn_r``, force and point
  expressed in ground, for OpenSim's InverseDynamicsTool.

Frame: OpenSim's ground is Y-up (X forward, Z to the right in its models). :func:`opensim_rotation` returns the proper
rotation ``R`` (det +1, so left stays left) with ``R @ up = (0, 1, 0)``: the smallest rotation doing so, about the axis
``up × Y``; for ``up = (0, -1, 0)`` (a level OpenCV camera frame) a half turn about X. Points are written as
``R @ p``; forces use the same ``R``. The heading about Y is whatever the sequence had: OpenSim's pelvis has a free
rotation about Y, so IK does not need the athlete to face +X.

Missing values, as measured with OpenSim 4.6 (``tests/biomech/test_opensim_io.py``)
----------------------------------------------------------------------------------
- TRC: a missing marker is written as three empty fields, which OpenSim's TRC reader turns into NaN (a marker is
  read only when all three components are present). Every data row ends with a tab: the reader drops one trailing empty
  token, and a row ending in empty fields would otherwise be one column short. A frame where no marker is seen is
  omitted (``Frame#`` counts the rows written; ``Time`` keeps the sequence's timestamps): OpenSim's IK stops with
  "AssemblySolver::track() attempt failed" on such a frame, while one with a few markers is solved.
- ``.mot``: NaN is written as ``NaN``. ``opensim.TimeSeriesTable`` (the STO/MOT file adapter) reads it back as NaN;
  the legacy ``opensim.Storage`` class does not: it stops at the first row holding ``NaN`` (keeping that row with 0 in
  its place), so files meant for a tool that reads a Storage (IK's ``coordinate_file``, ID's ``coordinates_file``,
  external loads) must hold no NaN. :func:`write_grf_mot` therefore writes only the frames whose forces are known.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spacecomputer.biomech._events import FEET, up_unit_vector
from spacecomputer.domain import PoseSequence
from spacecomputer.errors import InsufficientDataError, InvalidInputError, InvalidPoseDataError

if TYPE_CHECKING:
    from spacecomputer.biomech._kinematics import KinematicSeries

__all__ = [
    "GRF_BODIES",
    "OPENSIM_MARKERS",
    "GroundReactionLike",
    "grf_column_prefix",
    "opensim_rotation",
    "write_external_loads_xml",
    "write_grf_mot",
    "write_mot",
    "write_trc",
]

OPENSIM_MARKERS: tuple[tuple[str, str], ...] = (
    ("Nose", "nose"),
    ("LEye", "left_eye"),
    ("REye", "right_eye"),
    ("LShoulder", "left_shoulder"),
    ("RShoulder", "right_shoulder"),
    ("LElbow", "left_elbow"),
    ("RElbow", "right_elbow"),
    ("LWrist", "left_wrist"),
    ("RWrist", "right_wrist"),
    ("LHip", "left_hip"),
    ("RHip", "right_hip"),
    ("LKnee", "left_knee"),
    ("RKnee", "right_knee"),
    ("LAnkle", "left_ankle"),
    ("RAnkle", "right_ankle"),
    ("LBigToe", "left_foot_index"),
    ("LHeel", "left_heel"),
    ("RBigToe", "right_foot_index"),
    ("RHeel", "right_heel"),
    ("RThumb", "right_thumb"),
    ("RPinky", "right_pinky"),
    ("RIndex", "right_index"),
    ("LThumb", "left_thumb"),
    ("LPinky", "left_pinky"),
    ("LIndex", "left_index"),
)
"""(OpenSim marker, BlazePose landmark) in the order of Pose2Sim 0.10's ``OpenSim_Setup/Markers_BlazePose.xml``;
``BigToe`` is BlazePose's ``foot_index``. The eye markers are the eye centres (not ``eye_inner``/``eye_outer``)."""

GRF_BODIES: Mapping[str, str] = {"left": "calcn_l", "right": "calcn_r"}
"""Body of Pose2Sim's (Rajagopal-derived) model that carries each foot's ground reaction force."""


class GroundReactionLike(Protocol):
    """What :func:`write_grf_mot` reads of a ground reaction estimate (``_kinetics.GroundReactionEstimate``)."""

    @property
    def per_foot_n(self) -> NDArray[np.float64]:
        """(T, 2, 3) force on each foot (``FEET`` order), N, in the sequence's frame; NaN where unknown."""
        ...

    @property
    def centre_of_pressure_m(self) -> NDArray[np.float64]:
        """(T, 2, 3) point of application per foot, m; NaN when the foot is off the ground."""
        ...

    @property
    def known(self) -> NDArray[np.bool_]:
        """(T,) whether the force could be estimated in that frame."""
        ...


_Y_UP = np.array([0.0, 1.0, 0.0])
_ANTIPARALLEL = 1e-9
_TIME_FORMAT = "%.8f"
_VALUE_FORMAT = "%.6f"
"""Micrometres, micro-degrees and micronewtons: well below the precision of anything we write (our own choice)."""


def opensim_rotation(up: ArrayLike) -> NDArray[np.float64]:
    """Return the proper rotation (3, 3) from our frame into OpenSim's Y-up ground: ``R @ up == (0, 1, 0)``.

    The smallest such rotation (about ``up × Y``, Rodrigues' formula); a half turn about X when ``up = -Y``.

    Raises
    ------
    InvalidInputError
        If ``up`` is not a finite unit 3-vector.

    Examples
    --------
    >>> opensim_rotation([0.0, 0.0, 1.0]) @ np.array([0.0, 0.0, 1.0])
    array([0., 1., 0.])
    >>> np.diag(opensim_rotation([0.0, -1.0, 0.0]))
    array([ 1., -1., -1.])

    """
    u = up_unit_vector(up)
    cosine = float(u @ _Y_UP)
    if cosine < -1.0 + _ANTIPARALLEL:
        return np.diag([1.0, -1.0, -1.0])
    v = np.cross(u, _Y_UP)
    skew = np.array([[0.0, -v[2], v[1]], [v[2], 0.0, -v[0]], [-v[1], v[0], 0.0]])
    return np.asarray(np.eye(3) + skew + skew @ skew / (1.0 + cosine), dtype=np.float64)


def write_trc(sequence: PoseSequence, path: Path | str, *, up: ArrayLike) -> None:
    """Write a metric sequence as an OpenSim marker file with the markers of :data:`OPENSIM_MARKERS`.

    Parameters
    ----------
    sequence
        Metric BlazePose sequence (frame ``hip_centred``, ``camera`` or ``world``), metres.
    path
        Output ``.trc`` file.
    up
        Unit 3-vector pointing up in the sequence's frame; positions are written as ``opensim_rotation(up) @ p``.

    Raises
    ------
    InvalidPoseDataError
        If the sequence is not metric, lacks a needed landmark or no frame shows any marker.
    InvalidInputError
        If ``up`` is not a finite unit 3-vector.

    """
    rotation = opensim_rotation(up)
    _check_metric(sequence)
    missing = [name for _, name in OPENSIM_MARKERS if name not in sequence.skeleton.joint_names]
    if missing:
        raise InvalidPoseDataError(
            f"write_trc needs the BlazePose landmarks {missing}; the sequence's skeleton lacks them",
            details={"missing": missing},
        )
    index = [sequence.skeleton.index(name) for _, name in OPENSIM_MARKERS]
    points = np.asarray(sequence.positions[:, index, :] @ rotation.T, dtype=np.float64)
    shown = np.any(np.all(np.isfinite(points), axis=2), axis=1)
    if not shown.any():
        raise InvalidPoseDataError("no frame shows any of the markers: nothing to write")
    rows = np.flatnonzero(shown)
    n_frames, n_markers = rows.size, len(OPENSIM_MARKERS)
    cells = _format(points[rows].reshape(n_frames, 3 * n_markers))
    rate = f"{sequence.fps:.6g}"
    header = [
        f"PathFileType\t4\t(X/Y/Z)\t{Path(path).name}",
        "DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate\tOrigDataStartFrame\tOrigNumFrames",
        f"{rate}\t{rate}\t{n_frames}\t{n_markers}\tm\t{rate}\t1\t{n_frames}",
        "Frame#\tTime\t" + "".join(f"{marker}\t\t\t" for marker, _ in OPENSIM_MARKERS),
        "\t\t" + "".join(f"X{i}\tY{i}\tZ{i}\t" for i in range(1, n_markers + 1)),
        "",
    ]
    times = np.char.mod(_TIME_FORMAT, sequence.timestamps_s[rows])
    lines = [f"{k + 1}\t{times[k]}\t" + "".join(f"{c}\t" for c in cells[k]) for k in range(n_frames)]
    Path(path).write_text("\n".join(header + lines) + "\n", encoding="ascii")


def write_mot(angles: Mapping[str, KinematicSeries], timestamps_s: ArrayLike, path: Path | str) -> None:
    """Write joint angles as an OpenSim Storage ``.mot`` file in degrees, one column per key of ``angles``.

    The header is ``name``, ``version=1``, ``nRows``, ``nColumns`` (time included), ``inDegrees=yes``, ``endheader``;
    the columns are ``time`` then the keys of ``angles`` in their order (our names, e.g. ``left_knee_flexion``, with our
    conventions: see :mod:`spacecomputer.biomech._kinematics`). NaN (unknown, or an unavailable angle) is written as
    ``NaN``: see the module docstring for which OpenSim readers accept it.

    Raises
    ------
    InvalidInputError
        If ``angles`` is empty, a key holds a tab or whitespace, a series' length differs from ``timestamps_s``, or
        the timestamps are not finite and strictly increasing.

    """
    if not angles:
        raise InvalidInputError("write_mot needs at least one angle")
    times = _timestamps(timestamps_s)
    for key, series in angles.items():
        if not key or any(ch.isspace() for ch in key):
            raise InvalidInputError(f"a .mot column name may not be empty or hold whitespace; got {key!r}")
        if series.values_deg.shape != times.shape:
            raise InvalidInputError(
                f"angle {key!r} has {series.values_deg.shape[0]} samples; expected {times.shape[0]} (one per timestamp)"
            )
    values = np.column_stack([series.values_deg for series in angles.values()])
    _write_storage(Path(path), ["time", *angles], times, values, in_degrees=True)


def grf_column_prefix(foot: str) -> str:
    """Return the column prefix of a foot in :func:`write_grf_mot`'s file: ``l_ground_`` or ``r_ground_``."""
    return f"{foot[0]}_ground_"


def write_grf_mot(grf: GroundReactionLike, timestamps_s: ArrayLike, path: Path | str, *, up: ArrayLike) -> int:
    """Write each foot's ground reaction force as an OpenSim external-loads ``.mot`` file, in OpenSim's ground.

    Columns per foot (prefix :func:`grf_column_prefix`, ``l_`` then ``r_``): ``ground_force_v{x,y,z}`` (N),
    ``ground_force_p{x,y,z}`` (point of application: the centre of pressure, m) and ``ground_torque_{x,y,z}``
    (free moment, written as 0 N·m: we do not estimate it). Vectors are rotated by ``opensim_rotation(up)``.

    Only the frames where ``grf.known`` is true and both feet's forces are finite are written (OpenSim's Storage reader
    cannot read NaN); between two written rows OpenSim interpolates, so run inverse dynamics only over a range of
    consecutive known frames. A foot off the ground has zero force; its point (which then has no effect) is held at
    its last centre of pressure (or its next one before the first contact, or 0) so the file has no NaN and the point
    does not jump across the foot between contacts.

    Parameters
    ----------
    grf
        Estimate of :func:`spacecomputer.biomech._kinetics.estimate_ground_reaction`, feet in the order of ``FEET``.
    timestamps_s
        (T,) time of each frame of ``grf``, s, strictly increasing.
    path
        Output ``.mot`` file.
    up
        The up unit vector of the frame ``grf`` is expressed in.

    Returns
    -------
    int
        The number of rows written.

    Raises
    ------
    InvalidInputError
        If shapes disagree, the timestamps are not strictly increasing, or ``up`` is not a unit 3-vector.
    InsufficientDataError
        If no frame has a known force.

    """
    rotation = opensim_rotation(up)
    times = _timestamps(timestamps_s)
    force = np.asarray(grf.per_foot_n, dtype=np.float64)
    point = np.asarray(grf.centre_of_pressure_m, dtype=np.float64)
    n = times.shape[0]
    if force.shape != (n, len(FEET), 3) or point.shape != force.shape:
        raise InvalidInputError(
            f"grf arrays must be ({n}, {len(FEET)}, 3) to match timestamps_s; got forces {force.shape}, "
            f"points {point.shape}"
        )
    rows = np.asarray(grf.known, dtype=bool) & np.isfinite(force).all(axis=(1, 2))
    if not rows.any():
        raise InsufficientDataError("no frame has a known ground reaction force to write")
    loaded = np.isfinite(point).all(axis=2) & (np.linalg.norm(np.nan_to_num(force), axis=2) > 0.0)
    columns: list[str] = ["time"]
    blocks: list[NDArray[np.float64]] = []
    for k, foot in enumerate(FEET):
        prefix = grf_column_prefix(foot)
        columns += [f"{prefix}force_v{a}" for a in "xyz"]
        columns += [f"{prefix}force_p{a}" for a in "xyz"]
        columns += [f"{prefix}torque_{a}" for a in "xyz"]
        held = _hold_last(np.where(loaded[:, k, None], point[:, k], np.nan))
        blocks += [force[:, k] @ rotation.T, held @ rotation.T, np.zeros((n, 3))]
    _write_storage(Path(path), columns, times[rows], np.hstack(blocks)[rows], in_degrees=True)
    return int(rows.sum())


def write_external_loads_xml(path: Path | str, *, grf_mot_path: Path | str) -> None:
    """Write the OpenSim ``ExternalLoads`` XML applying :func:`write_grf_mot`'s forces to the feet.

    One ``ExternalForce`` per foot (``left``, ``right``) on the body of :data:`GRF_BODIES`, force and point expressed
    in ``ground``, reading the ``l_ground_force_v``/``p`` and ``l_ground_torque_`` (and ``r_``) columns of
    ``grf_mot_path`` (written as given: relative paths are resolved by OpenSim from the XML's folder).
    """
    forces = "".join(
        f"""
			<ExternalForce name="{foot}">
				<applied_to_body>{GRF_BODIES[foot]}</applied_to_body>
				<force_expressed_in_body>ground</force_expressed_in_body>
				<point_expressed_in_body>ground</point_expressed_in_body>
				<force_identifier>{grf_column_prefix(foot)}force_v</force_identifier>
				<point_identifier>{grf_column_prefix(foot)}force_p</point_identifier>
				<torque_identifier>{grf_column_prefix(foot)}torque_</torque_identifier>
			</ExternalForce>"""
        for foot in FEET
    )
    document = f"""<?xml version="1.0" encoding="UTF-8" ?>
<OpenSimDocument Version="40000">
	<ExternalLoads name="externalloads">
		<objects>{forces}
		</objects>
		<groups />
		<datafile>{grf_mot_path}</datafile>
	</ExternalLoads>
</OpenSimDocument>
"""
    Path(path).write_text(document, encoding="utf-8")


# --- helpers ----------------------------------------------------------------------------------------------------


def _check_metric(sequence: PoseSequence) -> None:
    sequence.require_metric("OpenSim files")
    if sequence.n_frames == 0:
        raise InvalidPoseDataError("the sequence has no frame to write")


def _timestamps(timestamps_s: ArrayLike) -> NDArray[np.float64]:
    times = np.asarray(timestamps_s, dtype=np.float64)
    if times.ndim != 1 or times.size == 0 or not np.isfinite(times).all() or (np.diff(times) <= 0).any():
        raise InvalidInputError(
            "timestamps_s must be a non-empty 1-D array of finite, strictly increasing seconds; "
            f"got shape {times.shape}"
        )
    return times


def _format(values: NDArray[np.float64]) -> NDArray[np.str_]:
    """Format to text; NaN becomes an empty field (the TRC convention)."""
    text = np.char.mod(_VALUE_FORMAT, values)
    text[np.isnan(values)] = ""
    return np.asarray(text)


def _hold_last(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """Fill NaN rows of (T, 3) with the last finite row, then the next one, then 0 (vectorised)."""
    valid = np.isfinite(values).all(axis=1)
    if not valid.any():
        return np.zeros_like(values)
    rows = np.arange(values.shape[0])
    last = np.maximum.accumulate(np.where(valid, rows, -1))
    first = int(np.argmax(valid))
    return np.asarray(values[np.where(last >= 0, last, first)], dtype=np.float64)


def _write_storage(
    path: Path, columns: Sequence[str], times: NDArray[np.float64], values: NDArray[np.float64], *, in_degrees: bool
) -> None:
    n_rows = times.shape[0]
    header = [
        path.stem,
        "version=1",
        f"nRows={n_rows}",
        f"nColumns={len(columns)}",
        f"inDegrees={'yes' if in_degrees else 'no'}",
        "endheader",
        "\t".join(columns),
    ]
    text = np.char.mod(_VALUE_FORMAT, values)
    text[np.isnan(values)] = "NaN"
    time_text = np.char.mod(_TIME_FORMAT, times)
    rows = [time_text[k] + "\t" + "\t".join(text[k]) for k in range(n_rows)]
    path.write_text("\n".join(header + rows) + "\n", encoding="ascii")
