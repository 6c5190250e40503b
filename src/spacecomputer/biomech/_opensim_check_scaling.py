"""Scaling step of the OpenSim cross-check: Pose2Sim's model scaled to our markers, and its setup helpers.

*Scaling* (step 1 of :func:`~spacecomputer.biomech._opensim_check.run_opensim`): ``Model_Pose2Sim_simple.osim`` of
Pose2Sim 0.10 with the markers of ``Markers_BlazePose.xml`` is scaled by OpenSim's ScaleTool, driven by Pose2Sim's
``Scaling_Setup_Pose2Sim_Blazepose.xml`` adapted as Pose2Sim's own ``kinematics.perform_scaling`` does it: each
measurement's marker pairs give a factor (distance in our data over distance on the unscaled model), applied to the
measurement's bodies on X, Y and Z as a manual scale, left and right pooled; the total mass is ``mass_kg``
(``preserve_mass_distribution``). We take each pair's median distance over the frames (Pose2Sim takes a trimmed mean
after dropping crouched frames; the median is our choice). The scaled model's pelvis then starts at the first frame's
position and heading (the IK solver is local, so a body facing away from +X could otherwise settle in a mirrored
posture).

Also here: :func:`pose2sim_setup_dir` and the small helpers that read OpenSim component sets and edit Pose2Sim's
XML setup files, shared with the inverse kinematics step. ``opensim`` is passed in by the caller, never imported here.
"""

from __future__ import annotations

import importlib.resources
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from spacecomputer.biomech._opensim_io import OPENSIM_MARKERS
from spacecomputer.domain import PoseSequence
from spacecomputer.errors import InsufficientDataError, InvalidInputError

__all__ = ["pose2sim_setup_dir"]


def pose2sim_setup_dir() -> Path:
    """Return Pose2Sim's ``OpenSim_Setup`` folder (model, marker set, setups), found without importing Pose2Sim's code.

    Raises
    ------
    ImportError
        If the ``pose2sim`` package is not installed.

    """
    return Path(str(importlib.resources.files("Pose2Sim") / "OpenSim_Setup"))


# --- scaling ------------------------------------------------------------------------------------------------------


def _marker_points(sequence: PoseSequence, rotation: NDArray[np.float64]) -> dict[str, NDArray[np.float64]]:
    return {marker: sequence.joint(landmark) @ rotation.T for marker, landmark in OPENSIM_MARKERS}


def _scale(
    osim: Any, sequence: PoseSequence, rotation: NDArray[np.float64], folder: Path, *, mass_kg: float, height_m: float
) -> tuple[Path, dict[str, float]]:
    setup = pose2sim_setup_dir()
    generic = osim.Model(str(setup / "Model_Pose2Sim_simple.osim"))
    generic.set_MarkerSet(osim.MarkerSet(str(setup / "Markers_BlazePose.xml")))
    state = generic.initSystem()
    model_markers = generic.getMarkerSet()
    at_rest = {m.getName(): m.getLocationInGround(state).to_numpy() for m in _items(model_markers)}
    bodies = {b.getName() for b in _items(generic.getBodySet())}
    generic_path = folder / "model_generic.osim"
    generic.printToXML(str(generic_path))

    points = _marker_points(sequence, rotation)
    root = ET.parse(setup / "Scaling_Setup_Pose2Sim_Blazepose.xml").getroot()
    factors: dict[str, float] = {}
    for measurement in root.iter("Measurement"):
        ratios = []
        for pair in measurement.iter("MarkerPair"):
            a, b = (pair.findtext("markers") or "").split()
            distance = np.linalg.norm(points[a] - points[b], axis=1)
            if not np.isfinite(distance).any():
                raise InsufficientDataError(f"cannot scale the model: markers {a} and {b} are never both seen")
            ratios.append(float(np.nanmedian(distance)) / float(np.linalg.norm(at_rest[a] - at_rest[b])))
        for body_scale in measurement.iter("BodyScale"):
            if body_scale.get("name") in bodies:
                factors[str(body_scale.get("name"))] = float(np.mean(ratios))

    tool = _find(root, "ScaleTool")
    _set(tool, "mass", f"{mass_kg}")
    _set(tool, "height", f"{1000.0 * height_m}")
    _set(tool, "GenericModelMaker/model_file", str(generic_path))
    _set(tool, "GenericModelMaker/marker_set_file", "Unassigned")
    _set(tool, "ModelScaler/scaling_order", "manualScale")
    for measurement in tool.iter("Measurement"):
        _set(measurement, "apply", "false")
    scale_set = _find(tool, "ModelScaler/ScaleSet/objects")
    for old in list(scale_set):
        scale_set.remove(old)
    for body, factor in factors.items():
        scale = ET.SubElement(scale_set, "Scale")
        ET.SubElement(scale, "scales").text = f"{factor} {factor} {factor}"
        ET.SubElement(scale, "segment").text = body
        ET.SubElement(scale, "apply").text = "true"
    scaled_path = folder / "model_scaled.osim"
    _set(tool, "ModelScaler/marker_file", "Unassigned")
    _set(tool, "ModelScaler/output_model_file", str(scaled_path))
    _set(tool, "MarkerPlacer/apply", "false")
    _set(tool, "MarkerPlacer/marker_file", "Unassigned")
    _set(tool, "MarkerPlacer/output_model_file", "Unassigned")
    setup_path = folder / "scale_setup.xml"
    ET.ElementTree(root).write(setup_path, encoding="utf-8", xml_declaration=True)
    scaled_path.unlink(missing_ok=True)
    osim.ScaleTool(str(setup_path)).run()  # returns False even on success in OpenSim 4.6: check the file instead
    if not scaled_path.exists():
        raise InsufficientDataError(f"OpenSim's ScaleTool failed; see {folder / 'opensim.log'}")
    _start_at_first_frame(osim, scaled_path, points)
    return scaled_path, factors


def _start_at_first_frame(osim: Any, model_path: Path, points: dict[str, NDArray[np.float64]]) -> None:
    """Set the pelvis's default heading and position to those of the first frame that shows both hips and shoulders."""
    left, right = points["LHip"], points["RHip"]
    seen = np.isfinite(left).all(axis=1) & np.isfinite(right).all(axis=1)
    seen &= np.isfinite(points["LShoulder"]).all(axis=1) & np.isfinite(points["RShoulder"]).all(axis=1)
    if not seen.any():
        return
    k = int(np.argmax(seen))
    right_line = (right[k] - left[k]) + (points["RShoulder"][k] - points["LShoulder"][k])
    # The model's right is +Z; a turn by theta about Y sends it to (sin theta, 0, cos theta).
    heading_rad = float(np.arctan2(right_line[0], right_line[2]))
    model = osim.Model(str(model_path))
    model.initSystem()
    markers = model.getMarkerSet()
    hips_in_pelvis = 0.5 * (
        markers.get("LHip").get_location().to_numpy() + markers.get("RHip").get_location().to_numpy()
    )
    turn = np.array(
        [
            [np.cos(heading_rad), 0.0, np.sin(heading_rad)],
            [0.0, 1.0, 0.0],
            [-np.sin(heading_rad), 0.0, np.cos(heading_rad)],
        ]
    )
    origin = 0.5 * (left[k] + right[k]) - turn @ hips_in_pelvis
    coordinates = model.getCoordinateSet()
    coordinates.get("pelvis_rotation").setDefaultValue(heading_rad)
    for axis, value in zip(("pelvis_tx", "pelvis_ty", "pelvis_tz"), origin, strict=True):
        coordinates.get(axis).setDefaultValue(float(value))
    model.printToXML(str(model_path))


# --- helpers ------------------------------------------------------------------------------------------------------


def _items(component_set: Any) -> list[Any]:
    return [component_set.get(i) for i in range(component_set.getSize())]


def _find(element: ET.Element, path: str) -> ET.Element:
    node = element.find(path)
    if node is None:
        raise InvalidInputError(f"Pose2Sim's setup file has no <{path}>: is pose2sim==0.10.49 installed?")
    return node


def _set(element: ET.Element, path: str, text: str) -> None:
    node = element.find(path)
    if node is None:
        node = ET.SubElement(element, path)
    node.text = text
