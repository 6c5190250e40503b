"""File and document formats of :class:`~spacecomputer.domain.PoseSequence`.

- Elite reference JSON (``data/README.md``): normalised image coordinates, one pose per frame.
- JSON document (``to_json``): the sequence's arrays as nested lists, ``null`` for missing values.
- Parquet (``to_parquet``): long format, one row per (frame, joint); the sequence's metadata travels in the
  Arrow schema metadata under ``b"spacecomputer"``.
- CSV (``to_csv``): wide format, one row per frame, unit in every column name.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from numpy.typing import NDArray

from spacecomputer.domain._frames import CoordinateFrame
from spacecomputer.domain._pose_sequence import PoseSequence
from spacecomputer.domain._skeleton import BLAZEPOSE_33, Skeleton
from spacecomputer.errors import InvalidPoseDataError

__all__ = [
    "read_elite_json",
    "read_json",
    "read_parquet",
    "write_csv",
    "write_elite_json",
    "write_json",
    "write_parquet",
]

JSON_SCHEMA = "spacecomputer.pose_sequence/1"
_PARQUET_KEY = b"spacecomputer"


def _skeleton_named(name: str) -> Skeleton:
    if name != BLAZEPOSE_33.name:
        raise InvalidPoseDataError(f"unknown skeleton {name!r}; expected {BLAZEPOSE_33.name!r}")
    return BLAZEPOSE_33


def read_elite_json(source: Path | str | Mapping[str, Any]) -> PoseSequence:
    """Read one clip of the elite library: normalised x, y, BlazePose z, visibility; ``[]`` = nobody."""
    if isinstance(source, Mapping):
        document, origin = source, "<document>"
    else:
        path = Path(source)
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidPoseDataError(f"cannot read elite pose file {path}: {exc}") from exc
        origin = path.name
    try:
        info = document["video_info"]
        entries = document["pose_data"]
        n, n_joints = len(entries), BLAZEPOSE_33.n_joints
        positions = np.full((n, n_joints, 3), np.nan)
        confidence = np.zeros((n, n_joints))
        timestamps = np.empty(n)
        indices = np.empty(n, dtype=np.int64)
        for i, entry in enumerate(entries):
            timestamps[i] = float(entry["timestamp"])
            indices[i] = int(entry["frame"]) - 1
            poses = entry["poses"]
            if not poses:
                continue
            landmarks = poses[0]["landmarks"]
            if len(landmarks) != n_joints:
                raise InvalidPoseDataError(
                    f"{origin}: frame {entry['frame']} has {len(landmarks)} landmarks; expected {n_joints}"
                )
            positions[i] = [(lm["x"], lm["y"], lm["z"]) for lm in landmarks]
            confidence[i] = [lm["visibility"] for lm in landmarks]
        image_size = (int(info["width"]), int(info["height"]))
        fps = float(info["fps"])
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidPoseDataError(f"{origin} is not in the elite pose format: {exc!r}") from exc
    return PoseSequence(
        positions=positions,
        confidence=np.clip(confidence, 0.0, 1.0),
        timestamps_s=timestamps,
        fps=fps,
        frame=CoordinateFrame.NORMALIZED,
        frame_indices=indices,
        image_size_px=image_size,
        metadata={
            "source": "elite_json",
            "filename": info.get("filename"),
            "total_frames": info.get("total_frames"),
        },
    )


def write_elite_json(sequence: PoseSequence) -> dict[str, Any]:
    """Write the elite format; pose ``confidence`` is the mean landmark visibility, as in the library."""
    if sequence.frame is not CoordinateFrame.NORMALIZED or sequence.image_size_px is None:
        raise InvalidPoseDataError(
            f"the elite format holds normalised image coordinates; this sequence is {sequence.frame.value}"
        )
    width, height = sequence.image_size_px
    present = sequence.detected
    pose_data = []
    for i in range(sequence.n_frames):
        poses: list[dict[str, Any]] = []
        if present[i]:
            landmarks = [
                {"x": float(x), "y": float(y), "z": float(z), "visibility": float(v)}
                for (x, y, z), v in zip(sequence.positions[i], sequence.confidence[i], strict=True)
            ]
            poses.append({"landmarks": landmarks, "confidence": float(np.mean(sequence.confidence[i]))})
        pose_data.append(
            {
                "frame": int(sequence.frame_indices[i]) + 1,
                "timestamp": float(sequence.timestamps_s[i]),
                "poses": poses,
            }
        )
    valid = int(present.sum())
    return {
        "video_info": {
            "filename": sequence.metadata.get("filename"),
            "width": width,
            "height": height,
            "fps": int(sequence.fps) if float(sequence.fps).is_integer() else sequence.fps,
            "total_frames": sequence.metadata.get("total_frames", sequence.n_frames),
        },
        "pose_data": pose_data,
        "summary": {
            "valid_poses": valid,
            "total_frames": sequence.n_frames,
            "pose_detection_rate": valid / sequence.n_frames if sequence.n_frames else 0.0,
        },
    }


def _nan_to_none(values: NDArray[np.float64]) -> Any:
    cells = values.round(9).astype(object)
    cells[np.isnan(values)] = None
    return cells.tolist()


def write_json(sequence: PoseSequence) -> dict[str, Any]:
    """Return the sequence as a JSON-serialisable document (see the module docstring)."""
    return {
        "schema": JSON_SCHEMA,
        "skeleton": sequence.skeleton.name,
        "joint_names": list(sequence.skeleton.joint_names),
        "frame": sequence.frame.value,
        "units": sequence.units,
        "fps": sequence.fps,
        "image_size_px": list(sequence.image_size_px) if sequence.image_size_px else None,
        "timestamps_s": sequence.timestamps_s.tolist(),
        "frame_indices": sequence.frame_indices.tolist(),
        "positions": _nan_to_none(sequence.positions),
        "confidence": sequence.confidence.round(6).tolist(),
        "flags": sequence.flags.tolist(),
        "metadata": dict(sequence.metadata),
    }


def read_json(document: Mapping[str, Any]) -> PoseSequence:
    """Read a document written by :func:`write_json`."""
    if document.get("schema") != JSON_SCHEMA:
        raise InvalidPoseDataError(f"not a pose sequence document: schema {document.get('schema')!r}")
    try:
        size = document["image_size_px"]
        return PoseSequence(
            positions=np.array(document["positions"], dtype=np.float64).reshape(-1, len(document["joint_names"]), 3),
            confidence=np.array(document["confidence"], dtype=np.float64).reshape(-1, len(document["joint_names"])),
            timestamps_s=np.array(document["timestamps_s"], dtype=np.float64),
            fps=float(document["fps"]),
            frame=CoordinateFrame(document["frame"]),
            skeleton=_skeleton_named(document["skeleton"]),
            frame_indices=np.array(document["frame_indices"], dtype=np.int64),
            image_size_px=(int(size[0]), int(size[1])) if size else None,
            flags=np.array(document["flags"], dtype=np.uint8).reshape(-1, len(document["joint_names"])),
            metadata=document.get("metadata", {}),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidPoseDataError(f"malformed pose sequence document: {exc!r}") from exc


def write_parquet(sequence: PoseSequence, path: Path) -> None:
    """Write one row per (frame, joint): frame_index, timestamp_s, joint, x, y, z, confidence, flags."""
    n, j = sequence.n_frames, sequence.n_joints
    table = pa.table(
        {
            "frame_index": np.repeat(sequence.frame_indices, j),
            "timestamp_s": np.repeat(sequence.timestamps_s, j),
            "joint": pa.DictionaryArray.from_arrays(
                np.tile(np.arange(j, dtype=np.int32), n), list(sequence.skeleton.joint_names)
            ),
            "x": sequence.positions[:, :, 0].ravel(),
            "y": sequence.positions[:, :, 1].ravel(),
            "z": sequence.positions[:, :, 2].ravel(),
            "confidence": sequence.confidence.ravel(),
            "flags": sequence.flags.ravel(),
        }
    )
    header = {
        "schema": JSON_SCHEMA,
        "skeleton": sequence.skeleton.name,
        "frame": sequence.frame.value,
        "units": sequence.units,
        "fps": sequence.fps,
        "image_size_px": list(sequence.image_size_px) if sequence.image_size_px else None,
        "metadata": dict(sequence.metadata),
    }
    table = table.replace_schema_metadata({_PARQUET_KEY: json.dumps(header).encode()})
    pq.write_table(table, path, compression="zstd")


def read_parquet(path: Path) -> PoseSequence:
    """Read a file written by :func:`write_parquet`."""
    try:
        table = pq.read_table(path)
        header = json.loads((table.schema.metadata or {})[_PARQUET_KEY])
    except (OSError, KeyError, ValueError, pa.ArrowException) as exc:
        raise InvalidPoseDataError(f"{path} is not a Space Computer pose Parquet file: {exc}") from exc
    skeleton = _skeleton_named(header["skeleton"])
    j = skeleton.n_joints
    if table.num_rows % j:
        raise InvalidPoseDataError(f"{path}: {table.num_rows} rows is not a whole number of {j}-joint frames")
    n = table.num_rows // j

    def column(name: str) -> NDArray[Any]:
        return np.asarray(table.column(name).to_numpy())

    positions = np.stack([column(axis).reshape(n, j) for axis in "xyz"], axis=2)
    size = header["image_size_px"]
    return PoseSequence(
        positions=positions,
        confidence=column("confidence").reshape(n, j),
        timestamps_s=column("timestamp_s").reshape(n, j)[:, 0],
        fps=float(header["fps"]),
        frame=CoordinateFrame(header["frame"]),
        skeleton=skeleton,
        frame_indices=column("frame_index").reshape(n, j)[:, 0],
        image_size_px=(int(size[0]), int(size[1])) if size else None,
        flags=column("flags").reshape(n, j),
        metadata=header["metadata"],
    )


def write_csv(sequence: PoseSequence, path: Path) -> None:
    """Write one row per frame; columns ``<joint>_<axis>_<unit>`` and ``<joint>_confidence``."""
    unit = sequence.units
    header = ["frame_index", "timestamp_s"]
    for name in sequence.skeleton.joint_names:
        header += [f"{name}_x_{unit}", f"{name}_y_{unit}", f"{name}_z_{unit}", f"{name}_confidence"]
    body = np.concatenate([sequence.positions, sequence.confidence[:, :, None]], axis=2).reshape(sequence.n_frames, -1)
    rows = np.column_stack([sequence.frame_indices, sequence.timestamps_s, body])
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(",".join(header) + "\n")
        for row in rows:
            cells = [str(int(row[0])), f"{row[1]:.6f}"] + ["" if np.isnan(v) else f"{v:.6f}" for v in row[2:]]
            handle.write(",".join(cells) + "\n")
