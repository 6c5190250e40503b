"""Agreement of our sagittal joint angles and moments with OpenSim's (Pose2Sim's model, IK and ID).

For each clip: our hip flexion, knee flexion and ankle dorsiflexion (``biomech.joint_angles``) against OpenSim IK's
``hip_flexion_*``, ``knee_angle_*``, ``ankle_angle_*`` (same signs: flexion / dorsiflexion positive), and our sagittal
hip, knee and ankle moments (``JointKinetics.flexion_moment_n_m``, extensor / plantarflexor positive) against OpenSim
ID's ``*_moment`` with the sign flipped (OpenSim's is positive along the coordinate: flexor / dorsiflexor), both driven
by the same estimated ground reaction force. Targets: angles within 5° RMSE, moments within 10 % of OpenSim's peak
|moment| (RMSE over the frames both have, :data:`EDGE_FRAMES` left out at each end). Prints PASS/MISS per target and
always exits 0.

OpenSim's ID low-passes its IK coordinates at the pipeline's own cut-off (``filter_cutoff_hz``, 6 Hz), as OpenSim's
workflow does, so that both methods differentiate kinematics of the same bandwidth: our landmarks are low-passed
before our skeleton fit, while OpenSim's IK is solved frame by frame on them and adds its own frame-to-frame changes.
Unfiltered, those gave lomu's right knee a 2,271 N·m peak, which neither its largest right-foot force (936 N) nor its
4.1 kg shank and foot can produce; filtered, 340 N·m (ours 238 N·m).

Diagnostics printed with the figures: each angle difference split into *IK fit* (our definition on our landmarks vs
our definition on the model's markers after IK) and *definition* (our definition on the model's markers vs the model's
coordinate), our reading at the model's zero pose and the difference's standard deviation (the RMSE without its
constant part); our moments computed again on OpenSim's IK posture (same ground force: the kinematics' share of the
difference); our moment vectors taken onto OpenSim's coordinate axes, then also about its joint centres (the axes'
and centres' share); the moments again with each foot's force reduced to its vertical component; and, on the sample,
the left ankle moment recomputed by hand from the ground force on one frame.

Clips, compared over their longest run of upright frames (:data:`UPRIGHT_LIMIT_DEG`):

- the sample video (``--height 1.65`` with its calibration; the pipeline's metric sequence is cached in
  ``benchmarks/.cache/``), also over the whole clip;
- three elite clips of ``data/athletes/`` (:data:`ELITE_CLIPS`). They have no metric scale, and their raw landmarks are
  far from rigid (bone lengths vary by 21-25 %: camera zoom and BlazePose's relative depth). We take image coordinates
  (x, y in pixels; z = BlazePose's relative depth times the one of :data:`DEPTH_SCALES` that makes bone lengths most
  constant), take the camera's zoom out frame by frame (:func:`_body_units`), scale to an assumed stature of
  :data:`ELITE_STATURE_M`, then apply the pipeline's own gap filling, rigid-segment step, low-pass filter and
  skeleton fit (default settings). The camera is taken as still, level (up = −y) and orthographic, which a panning
  broadcast camera is not: their moments are only a comparison of two methods on the same input, not estimates of
  the athletes' moments.

Mass :data:`MASS_KG` everywhere (ours and OpenSim's scaled model). Run (about 40 s):
``.venv/bin/python benchmarks/opensim_agreement.py [--work-dir /tmp/opensim_work]``.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib
import os
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from spacecomputer.biomech import BodyModel, detect_foot_contacts, joint_angles
from spacecomputer.biomech._body_model import DEFAULT_MASS_KG
from spacecomputer.biomech._kinetics import (
    GroundReactionEstimate,
    JointKinetics,
    estimate_ground_reaction,
    inverse_dynamics,
)
from spacecomputer.biomech._movement_metrics import STANDARD_GRAVITY_M_S2
from spacecomputer.biomech._opensim_check import OpenSimResult, run_opensim
from spacecomputer.biomech._opensim_io import OPENSIM_MARKERS
from spacecomputer.biomech.solver import fit_skeleton_to_sequence
from spacecomputer.config import get_settings
from spacecomputer.domain import CoordinateFrame, PoseSequence
from spacecomputer.domain._analysis import ANALYSIS_SCHEMA_VERSION
from spacecomputer.domain._runs import contiguous_runs
from spacecomputer.vision._camera import load_calibration
from spacecomputer.vision._postprocess import fill_sequence_gaps, smooth_sequence
from spacecomputer.vision._rigid import bone_length_cv, enforce_segment_lengths
from spacecomputer.vision._trajectory import estimate_body_height_m

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "videos" / "sports2d-demo.mp4"
CALIBRATION = ROOT / "data" / "videos" / "sports2d-demo.calib.toml"
SAMPLE_HEIGHT_M = 1.65
CACHE = ROOT / "benchmarks" / ".cache"
ELITE_CLIPS = ("bolt-force-motion", "koroibete", "lomu")
"""The three clips of data/athletes with the most confident leg landmarks (mean visibility 0.82-0.96)."""
ELITE_STATURE_M = 1.80
"""Assumed stature of every elite athlete, m (our assumption: the clips carry no scale)."""
DEPTH_SCALES = (0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0)
"""Candidate scales of BlazePose's relative depth (× x's scale); the one giving the most constant bone lengths wins."""
SIZE_WINDOW_FRAMES = 15
"""Running-median window of the per-frame trunk length (about 0.5 s at 24-29 fps; our choice)."""
_TRUNK = ("left_hip", "right_hip", "left_shoulder", "right_shoulder")
UPRIGHT_LIMIT_DEG = 60.0
"""Frames compared: the longest run with the trunk within this of vertical (our choice). In a flip or a crawl the
pelvis of OpenSim's model nears the singularity of its tilt-list-rotation angles and IK's coordinates jump."""
EDGE_FRAMES = 3
"""Frames left out at each end of the inverse dynamics range (our choice): both methods differentiate twice, and
OpenSim's spline fit is least constrained at the ends (its first frame of the sample read 80 kN on the pelvis)."""
CAMERA_UP = (0.0, -1.0, 0.0)
OPENSIM_UP = np.array([0.0, 1.0, 0.0])
MASS_KG = DEFAULT_MASS_KG
ANGLE_TARGET_DEG = 5.0
MOMENT_TARGET_PERCENT = 10.0
ANGLES = (("hip_flexion", "hip_flexion"), ("knee_flexion", "knee_angle"), ("ankle_dorsiflexion", "ankle_angle"))
"""(our angle, OpenSim coordinate) per joint; same sign convention."""
MOMENTS = (("hip", "hip_flexion"), ("knee", "knee_angle"), ("ankle", "ankle_angle"))


def sample_sequence() -> tuple[PoseSequence, NDArray[np.float64]]:
    cached = CACHE / f"sports2d-demo.metric.{ANALYSIS_SCHEMA_VERSION}.parquet"
    if not cached.exists():
        from spacecomputer.pipeline import AnalyzeOptions, analyze_video

        options = AnalyzeOptions(height_m=SAMPLE_HEIGHT_M, calibration_path=CALIBRATION, overlay=False)
        CACHE.mkdir(parents=True, exist_ok=True)
        analyze_video(SAMPLE, options).metric.to_parquet(cached)
    sequence = PoseSequence.from_parquet(cached)
    if sequence.frame is CoordinateFrame.WORLD:
        return sequence, np.asarray(load_calibration(CALIBRATION).world_up, dtype=np.float64)
    return sequence, np.array(CAMERA_UP)


def elite_sequence(name: str) -> PoseSequence:
    """Return a stature-scaled, rigid and smoothed skeleton of an elite clip (see the module docstring)."""
    raw = PoseSequence.from_elite_json(ROOT / "data" / "athletes" / f"{name}.json")
    depth = min(DEPTH_SCALES, key=lambda k: bone_length_cv(_body_units(raw, k)))
    body = _body_units(raw, depth)
    # estimate_body_height_m measures lengths in the sequence's own scale; it only checks the frame's name.
    stature = estimate_body_height_m(body.replace(frame=CoordinateFrame.HIP_CENTRED))
    settings = get_settings()
    metric = body.replace(positions=body.positions * (ELITE_STATURE_M / stature))
    filled = fill_sequence_gaps(metric, max_gap_s=settings.max_gap_s).sequence
    rigid = enforce_segment_lengths(filled).sequence
    smooth = smooth_sequence(rigid, cutoff_hz=settings.filter_cutoff_hz).sequence
    track = fit_skeleton_to_sequence(smooth, up=CAMERA_UP)
    residual_mm = 1000 * np.nanmedian(track.displacement_m())
    print(
        f"  ({name}: depth scale {depth:g} of x, bone-length CV {bone_length_cv(filled):.3f} before the rigid step;"
        f" skeleton fit: median RMS residual {residual_mm:.0f} mm)"
    )
    return track.sequence


def _body_units(raw: PoseSequence, depth_scale: float) -> PoseSequence:
    """Image coordinates (depth = ``depth_scale`` × x's scale) in trunk lengths, with the camera's zoom taken out.

    Each frame's landmarks are scaled about its mid-hip by the inverse of a running median (over
    :data:`SIZE_WINDOW_FRAMES` frames) of its trunk length (mid-hip to mid-shoulder); the mid-hip's own path is divided
    by the clip's median trunk length, so a change of size does not become a translation.
    """
    width, height = raw.image_size_px or (1, 1)
    pixels = raw.positions * np.array([width, height, depth_scale * width])
    joint = {name: pixels[:, raw.skeleton.index(name)] for name in _TRUNK}
    mid_hip = 0.5 * (joint["left_hip"] + joint["right_hip"])
    trunk = np.linalg.norm(0.5 * (joint["left_shoulder"] + joint["right_shoulder"]) - mid_hip, axis=1)
    size = running_median(trunk, SIZE_WINDOW_FRAMES)
    body = mid_hip[:, None, :] / np.nanmedian(trunk) + (pixels - mid_hip[:, None, :]) / size[:, None, None]
    return raw.replace(positions=body, frame=CoordinateFrame.CAMERA)


def running_median(values: NDArray[np.float64], window: int) -> NDArray[np.float64]:
    """Centred running median ignoring NaN (NaN where the window holds none)."""
    half = window // 2
    padded = np.pad(values, half, mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, window)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.asarray(np.nanmedian(windows, axis=1), dtype=np.float64)


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Silence OpenSim's C++ prints to standard output (model summaries) while it runs."""
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 1)
        try:
            yield
        finally:
            os.dup2(saved, 1)
            os.close(saved)


def rmse(a: NDArray[np.float64], b: NDArray[np.float64]) -> tuple[float, float, int]:
    """RMSE, mean difference (a − b) and sample count over the samples where both are finite."""
    both = np.isfinite(a) & np.isfinite(b)
    if not both.any():
        return float("nan"), float("nan"), 0
    d = a[both] - b[both]
    return float(np.sqrt(np.mean(d**2))), float(np.mean(d)), int(both.sum())


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def model_pose(sequence: PoseSequence, result: OpenSimResult) -> PoseSequence:
    """Return the model's own markers after IK as a BlazePose sequence in OpenSim's ground (Y up)."""
    positions = np.full((result.ik_rows.size, sequence.n_joints, 3), np.nan)
    for marker, landmark in OPENSIM_MARKERS:
        positions[:, sequence.skeleton.index(landmark)] = result.model_markers_m[marker]
    return PoseSequence(
        positions=positions,
        confidence=np.isfinite(positions).all(axis=2).astype(float),
        timestamps_s=result.ik_timestamps_s,
        fps=sequence.fps,
        frame=CoordinateFrame.WORLD,
    )


def neutral_reading(sequence: PoseSequence, result: OpenSimResult) -> dict[str, float]:
    """Our angles on the scaled model's own markers with every coordinate at zero, degrees.

    This is where our definitions read when OpenSim's read 0 — a property of the two conventions and of the model's
    marker placement, not of the motion.
    """
    osim = importlib.import_module("opensim")
    osim.Logger.setLevelString("Error")
    model = osim.Model(str(result.work_dir / "model_scaled.osim"))
    state = model.initSystem()
    for coordinate in (model.getCoordinateSet().get(i) for i in range(model.getCoordinateSet().getSize())):
        coordinate.setLocked(state, False)
        coordinate.setValue(state, 0.0, False)
    model.realizePosition(state)
    markers = model.getMarkerSet()
    positions = np.full((1, sequence.n_joints, 3), np.nan)
    for marker, landmark in OPENSIM_MARKERS:
        positions[0, sequence.skeleton.index(landmark)] = markers.get(marker).getLocationInGround(state).to_numpy()
    neutral = PoseSequence(
        positions=positions,
        confidence=np.isfinite(positions).all(axis=2).astype(float),
        timestamps_s=np.zeros(1),
        fps=sequence.fps,
        frame=CoordinateFrame.WORLD,
    )
    return {name: float(angle.values_deg[0]) for name, angle in joint_angles(neutral, up=OPENSIM_UP).items()}


def compare_angles(sequence: PoseSequence, up: NDArray[np.float64], result: OpenSimResult) -> list[bool]:
    """Print our angle vs OpenSim's coordinate, that difference split in two, and the conventions' offset.

    Returns whether each comparison meets the target.

    IK fit: ours on our markers vs ours on the model's markers after IK. Definition: ours on the model's markers
    vs the model's coordinate. Neutral: our angle on the model's markers with every coordinate at zero
    (:func:`neutral_reading`). SD: the standard deviation of ours − OpenSim's, what is left of the RMSE once the
    constant offset (the bias) is taken out.
    """
    ours = joint_angles(sequence, up=up)
    on_model = joint_angles(model_pose(sequence, result), up=OPENSIM_UP)
    neutral = neutral_reading(sequence, result)
    error_mm = 1000 * np.median(result.marker_rms_error_m)
    rate = result.ik_frames_per_s
    print(f"  IK: {result.ik_timestamps_s.size} frames at {rate:.0f} frames/s; marker RMS {error_mm:.0f} mm (median)")
    print(
        f"  {'ours vs OpenSim':36s} {'RMSE°':>6s} {'bias°':>6s} {'r':>5s} {'n':>4s}"
        f" | {'fit RMSE°':>9s} | {'def. RMSE°':>10s} {'bias°':>6s} | {'neutral°':>8s} {'sd°':>5s}"
        f"   target {ANGLE_TARGET_DEG:g}°"
    )
    met = []
    for side in ("left", "right"):
        for our_name, coordinate in ANGLES:
            a = ours[f"{side}_{our_name}"].values_deg[result.ik_rows]
            m = on_model[f"{side}_{our_name}"].values_deg
            b = result.ik_deg[f"{coordinate}_{side[0]}"]
            error, bias, n = rmse(a, b)
            fit, _, _ = rmse(a, m)
            definition, definition_bias, _ = rmse(m, b)
            offset = neutral[f"{side}_{our_name}"]
            spread = float(np.sqrt(max(error**2 - bias**2, 0.0)))
            both = np.isfinite(a) & np.isfinite(b)
            r = float(np.corrcoef(a[both], b[both])[0, 1]) if n > 2 else float("nan")
            label = f"{side}_{our_name} vs {coordinate}_{side[0]}"
            print(
                f"  {label:36s} {error:6.1f} {bias:6.1f} {r:5.2f} {n:4d} | {fit:9.1f} | {definition:10.1f}"
                f" {definition_bias:6.1f} | {offset:8.1f} {spread:5.1f}"
                f"   {verdict(error <= ANGLE_TARGET_DEG)}"
            )
            met.append(error <= ANGLE_TARGET_DEG)
    return met


@dataclasses.dataclass(frozen=True)
class CoordinateAxes:
    """How one OpenSim coordinate moves its joint, per ID frame, in OpenSim's ground.

    ``angular`` (M, 3): the child's angular velocity relative to the parent per unit speed of the coordinate (its
    axis, rad/s per rad/s); ``linear`` (M, 3): the velocity of the child frame's origin per unit speed (the walker
    knee slides as it turns), m/s per rad/s; ``centre`` (M, 3): that origin, the joint centre, m.
    """

    angular: NDArray[np.float64]
    linear: NDArray[np.float64]
    centre: NDArray[np.float64]


def opensim_axes(result: OpenSimResult) -> dict[tuple[str, str], CoordinateAxes]:
    """Each (side, joint)'s coordinate axis on the model posed at every ID frame by IK (:class:`CoordinateAxes`)."""
    osim = importlib.import_module("opensim")
    osim.Logger.setLevelString("Error")
    model = osim.Model(str(result.work_dir / "model_scaled.osim"))
    state = model.initSystem()
    coordinates = model.getCoordinateSet()
    names = [coordinates.get(i).getName() for i in range(coordinates.getSize())]
    owner = {}
    for joint in (model.getJointSet().get(i) for i in range(model.getJointSet().getSize())):
        for q in range(joint.numCoordinates()):
            owner[joint.get_coordinates(q).getName()] = joint.getName()
    found: dict[tuple[str, str], list[tuple[NDArray[np.float64], ...]]] = {}
    for row in result.id_rows:
        ik = int(np.flatnonzero(result.ik_rows == row)[0])
        for name in names:
            coordinate = coordinates.get(name)
            coordinate.setLocked(state, False)
            coordinate.setSpeedValue(state, 0.0)
            if name in result.ik_deg:
                coordinate.setValue(state, np.radians(result.ik_deg[name][ik]), False)
            elif name.startswith("pelvis_t"):
                coordinate.setValue(state, float(result.pelvis_translation_m[ik]["xyz".index(name[-1])]), False)
        model.realizePosition(state)
        for side in ("left", "right"):
            for joint_name, coordinate_name in MOMENTS:
                name = f"{coordinate_name}_{side[0]}"
                joint = model.getJointSet().get(owner[name])
                coordinates.get(name).setSpeedValue(state, 1.0)
                model.realizeVelocity(state)
                child, parent = joint.getChildFrame(), joint.getParentFrame()
                angular = (
                    child.getAngularVelocityInGround(state).to_numpy()
                    - parent.getAngularVelocityInGround(state).to_numpy()
                )
                linear = child.getVelocityInGround(state).get(1).to_numpy()
                centre = child.getPositionInGround(state).to_numpy()
                found.setdefault((side, joint_name), []).append((angular, linear, centre))
                coordinates.get(name).setSpeedValue(state, 0.0)
    return {key: CoordinateAxes(*(np.array(part) for part in zip(*rows, strict=True))) for key, rows in found.items()}


def on_opensim_axes(
    sequence: PoseSequence, kinetics: JointKinetics, axes: CoordinateAxes, result: OpenSimResult, side: str
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Our joint's force and moment as OpenSim's coordinate force: on its axis, and on its axis about its centre.

    The coordinate's generalised force is ``M_O · ω_q + F · v_q`` for a moment ``M_O`` about the joint centre ``O``
    and the force ``F`` on the child (virtual power); ours is about our landmark ``P``: ``M_O = M_P + (P − O) × F``.
    Returned with OpenSim's sign (positive along the coordinate).
    """
    rows, rotation = result.id_rows, result.rotation
    moment, force = kinetics.moment_n_m[rows] @ rotation.T, kinetics.force_n[rows] @ rotation.T
    landmark = sequence.joint(f"{side}_{kinetics.joint.split('_', 1)[1]}")[rows] @ rotation.T
    on_axis = np.einsum("ti,ti->t", moment, axes.angular)
    about_centre = moment + np.cross(landmark - axes.centre, force)
    return on_axis, np.einsum("ti,ti->t", about_centre, axes.angular) + np.einsum("ti,ti->t", force, axes.linear)


def compare_moments(
    sequence: PoseSequence,
    kinetics: dict[str, JointKinetics],
    result: OpenSimResult,
    grf_note: str,
    on_posture: dict[str, JointKinetics] | None = None,
) -> list[bool]:
    """Print our moments vs OpenSim ID's; with ``on_posture``, also ours on OpenSim's IK posture and axes.

    Returns whether each comparison meets the target.

    ``on_posture`` (:func:`moments_on_ik_posture`) is indexed by IK row. If it agrees with ours but not with
    OpenSim, the kinematics are not what separates the two: the dynamic model is (joint centres, segment inertia,
    axes). The next two columns take our full moment vector onto OpenSim's coordinate axis (:func:`on_opensim_axes`),
    then also about OpenSim's joint centre: what is left is the segments' masses and inertia.
    """
    print(
        f"  ID: {result.id_timestamps_s.size} frames ({grf_note}), {EDGE_FRAMES} left out at each end, OpenSim's"
        f" coordinates low-passed at {result.id_lowpass_hz} Hz;"
        " moments: ours vs −OpenSim"
    )
    header = f"  {'moment':22s} {'RMSE N·m':>9s} {'peak N·m':>9s} {'% peak':>7s} {'n':>4s}"
    extra = (
        f" | {'ours on IK posture: % peak':>26s} {'vs ours %':>9s} | {'on its axis %':>13s} {'+ its centre %':>14s}"
        if on_posture is not None
        else ""
    )
    print(f"{header}{extra}  target {MOMENT_TARGET_PERCENT:g} %")
    inner = slice(EDGE_FRAMES, max(result.id_rows.size - EDGE_FRAMES, EDGE_FRAMES))
    ik_of_id = np.searchsorted(result.ik_rows, result.id_rows)
    axes = opensim_axes(result) if on_posture is not None else {}
    met = []
    for side in ("left", "right"):
        for joint, coordinate in MOMENTS:
            a = kinetics[f"{side}_{joint}"].flexion_moment_n_m[result.id_rows][inner]
            b = -result.id_generalized_forces[f"{coordinate}_{side[0]}_moment"][inner]
            error, _, n = rmse(a, b)
            peak = float(np.nanmax(np.abs(b))) if n else float("nan")
            percent = 100.0 * error / peak if n else float("nan")
            row = f"  {side + '_' + joint:22s} {error:9.1f} {peak:9.1f} {percent:7.1f} {n:4d}"
            if on_posture is not None:
                c = on_posture[f"{side}_{joint}"].flexion_moment_n_m[ik_of_id][inner]
                row += f" | {100.0 * rmse(c, b)[0] / peak:26.1f} {100.0 * rmse(a, c)[0] / peak:9.1f}"
                osim_b = result.id_generalized_forces[f"{coordinate}_{side[0]}_moment"][inner]
                axis, centre = (
                    v[inner]
                    for v in on_opensim_axes(sequence, kinetics[f"{side}_{joint}"], axes[(side, joint)], result, side)
                )
                row += f" | {100.0 * rmse(axis, osim_b)[0] / peak:13.1f} {100.0 * rmse(centre, osim_b)[0] / peak:14.1f}"
            print(f"{row}  {verdict(percent <= MOMENT_TARGET_PERCENT)}")
            met.append(percent <= MOMENT_TARGET_PERCENT)
    return met


def moments_on_ik_posture(
    sequence: PoseSequence, body: BodyModel, grf: GroundReactionEstimate, result: OpenSimResult
) -> dict[str, JointKinetics]:
    """Our inverse dynamics on the model's markers after IK (OpenSim's ground), with the same ground force."""
    rows, rotation = result.ik_rows, result.rotation
    rotated = {"per_foot_n", "centre_of_pressure_m", "total_n"}
    fields = {}
    for field in dataclasses.fields(grf):
        value = getattr(grf, field.name)
        if isinstance(value, np.ndarray) and value.shape[:1] == (sequence.n_frames,):
            fields[field.name] = value[rows] @ rotation.T if field.name in rotated else value[rows]
    return inverse_dynamics(model_pose(sequence, result), body, dataclasses.replace(grf, **fields), up=OPENSIM_UP)


def upright_run(sequence: PoseSequence, up: NDArray[np.float64]) -> tuple[int, int]:
    """Longest run of frames with our trunk within :data:`UPRIGHT_LIMIT_DEG` of vertical."""
    trunk = joint_angles(sequence, up=up)["trunk_flexion"].values_deg
    with np.errstate(invalid="ignore"):
        upright = np.abs(trunk) < UPRIGHT_LIMIT_DEG
    runs = contiguous_runs(upright)
    return max(runs, key=lambda run: run[1] - run[0]) if runs else (0, sequence.n_frames)


def vertical_only(grf: GroundReactionEstimate, up: NDArray[np.float64]) -> GroundReactionEstimate:
    """Return the estimate with each foot's force reduced to its vertical component (a diagnostic)."""
    vertical = (grf.per_foot_n @ up)[..., None] * up
    return dataclasses.replace(grf, per_foot_n=vertical, total_n=vertical.sum(axis=1))


def ankle_hand_check(
    sequence: PoseSequence, grf: GroundReactionEstimate, kinetics: dict[str, JointKinetics], result: OpenSimResult
) -> None:
    """On the frame of OpenSim's largest left ankle moment, recompute both from the ground force alone.

    Quasi-statically the ankle moment is the ground force's moment about the joint, ``(CoP − centre) × F``, projected
    on the joint's axis: ours takes the ankle landmark; OpenSim its model's ankle centre and its oblique ankle axis
    (``0.105 0.174 0.979`` in the tibia, from Pose2Sim's model file).
    """
    osim = importlib.import_module("opensim")
    osim.Logger.setLevelString("Error")
    inner = np.arange(EDGE_FRAMES, result.id_rows.size - EDGE_FRAMES)
    osim_moment = -result.id_generalized_forces["ankle_angle_l_moment"]
    k = int(inner[np.argmax(np.abs(osim_moment[inner]))])
    row = int(result.id_rows[k])
    model = osim.Model(str(result.work_dir / "model_scaled.osim"))
    state = model.initSystem()
    coordinates = model.getCoordinateSet()
    ik_row = int(np.flatnonzero(result.ik_rows == row)[0])
    for name, values in result.ik_deg.items():
        coordinates.get(name).setValue(state, np.radians(values[ik_row]), False)
    for axis, value in zip("xyz", result.pelvis_translation_m[ik_row], strict=True):
        coordinates.get(f"pelvis_t{axis}").setValue(state, float(value), False)
    model.realizePosition(state)
    joint = model.getJointSet().get("ankle_l")
    centre = joint.getChildFrame().getPositionInGround(state).to_numpy()
    tibia = joint.getParentFrame().getTransformInGround(state).R()
    tibia_rotation = np.array([[tibia.get(i, j) for j in range(3)] for i in range(3)])
    oblique = tibia_rotation @ np.array([0.10501355, 0.17402245, 0.97912632])
    mediolateral = tibia_rotation[:, 2]
    force = result.rotation @ grf.per_foot_n[row, 0]
    moment_arm = result.rotation @ grf.centre_of_pressure_m[row, 0]
    landmark = result.rotation @ sequence.joint("left_ankle")[row]
    about_landmark = np.cross(moment_arm - landmark, force)
    about_centre = np.cross(moment_arm - centre, force)
    ours = kinetics["left_ankle"].flexion_moment_n_m[row]
    ours_vector = result.rotation @ kinetics["left_ankle"].moment_n_m[row]
    when = f"t = {sequence.timestamps_s[row]:.2f} s"
    print(f"  ankle hand check, {when}, left foot force {np.round(force)} N (OpenSim axes):")
    print(f"    ours {ours:7.1f} N·m; GRF about the landmark, tibia's Z axis {about_landmark @ mediolateral:7.1f}")
    print(
        f"    GRF about OpenSim's ankle centre ({1000 * np.linalg.norm(centre - landmark):.0f} mm from the landmark): "
        f"tibia's Z axis {about_centre @ mediolateral:7.1f}, oblique ankle axis {about_centre @ oblique:7.1f}; "
        f"OpenSim ID {osim_moment[k]:7.1f} N·m"
    )
    print(
        f"    our full moment vector on the tibia's Z axis {-ours_vector @ mediolateral:7.1f}, on the oblique"
        f" ankle axis {-ours_vector @ oblique:7.1f} (plantarflexor positive)"
    )


def run_clip(
    name: str, clip: PoseSequence, up: NDArray[np.float64], height_m: float, work: Path, *, whole: bool = False
) -> tuple[list[bool], list[bool]]:
    """Compare one clip (its longest upright run, or the whole clip).

    Returns which angles and which moments (with the estimated ground force, not the vertical-only diagnostic) meet
    their target.
    """
    start, stop = (0, clip.n_frames) if whole else upright_run(clip, up)
    sequence = clip[start:stop]
    part = "whole clip" if whole else f"longest upright run, frames {start}-{stop - 1} of {clip.n_frames}"
    print(f"\n== {name}: {sequence.n_frames} frames ({part}) at {sequence.fps:g} fps, frame {sequence.frame.value}")
    model = BodyModel.from_anthropometry(mass_kg=MASS_KG, height_m=height_m, sex=None)
    lowpass_hz = get_settings().filter_cutoff_hz
    grf = estimate_ground_reaction(sequence, model, detect_foot_contacts(sequence, up=up), up=up)
    folder = work / (name + ("-whole" if whole else ""))
    started = time.perf_counter()
    with quiet_stdout():
        result = run_opensim(
            sequence, up=up, mass_kg=MASS_KG, height_m=height_m, grf=grf, work_dir=folder, id_lowpass_hz=lowpass_hz
        )
    print(f"  OpenSim scale + IK + ID: {time.perf_counter() - started:.1f} s; files in {folder}")
    angles_met = compare_angles(sequence, up, result)
    vertical = np.abs(grf.per_foot_n @ up)
    horizontal = np.linalg.norm(grf.per_foot_n - (grf.per_foot_n @ up)[..., None] * up, axis=2)
    loaded = vertical > 0.1 * MASS_KG * STANDARD_GRAVITY_M_S2
    ratio = float(np.median(horizontal[loaded] / vertical[loaded])) if loaded.any() else float("nan")
    known = int(np.asarray(grf.known).sum())
    note = (
        f"estimated ground force, known in {known}/{sequence.n_frames} frames, median |horizontal|/vertical {ratio:.2f}"
    )
    kinetics = inverse_dynamics(sequence, model, grf, up=up)
    moments_met = compare_moments(sequence, kinetics, result, note, moments_on_ik_posture(sequence, model, grf, result))
    if not whole and name == "sports2d-demo":
        ankle_hand_check(sequence, grf, kinetics, result)
    upright_grf = vertical_only(grf, up)
    with quiet_stdout():
        check = run_opensim(
            sequence,
            up=up,
            mass_kg=MASS_KG,
            height_m=height_m,
            grf=upright_grf,
            work_dir=folder / "vertical",
            id_lowpass_hz=lowpass_hz,
        )
    vertical_kinetics = inverse_dynamics(sequence, model, upright_grf, up=up)
    compare_moments(sequence, vertical_kinetics, check, "diagnostic: vertical force only")
    return angles_met, moments_met


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/opensim_work"))
    args = parser.parse_args()
    print(f"mass {MASS_KG:g} kg for every clip (ours and OpenSim's model); elite stature assumed {ELITE_STATURE_M} m")
    sequence, up = sample_sequence()
    run_clip("sports2d-demo", sequence, up, SAMPLE_HEIGHT_M, args.work_dir, whole=True)
    results = [run_clip("sports2d-demo", sequence, up, SAMPLE_HEIGHT_M, args.work_dir)]
    for name in ELITE_CLIPS:
        results.append(run_clip(name, elite_sequence(name), np.array(CAMERA_UP), ELITE_STATURE_M, args.work_dir))
    angles = [ok for met, _ in results for ok in met]
    moments = [ok for _, met in results for ok in met]
    print(
        f"\nupright runs of the sample and {len(ELITE_CLIPS)} elite clips: angles within {ANGLE_TARGET_DEG:g}° RMSE"
        f" {sum(angles)}/{len(angles)}; moments within {MOMENT_TARGET_PERCENT:g} % of the peak"
        f" {sum(moments)}/{len(moments)}"
    )


if __name__ == "__main__":
    main()
