from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from spacecomputer.biomech._kinematics import KinematicSeries
from spacecomputer.biomech._opensim_io import (
    OPENSIM_MARKERS,
    opensim_rotation,
    write_external_loads_xml,
    write_grf_mot,
    write_mot,
    write_trc,
)
from spacecomputer.domain import BLAZEPOSE_33, CoordinateFrame
from spacecomputer.errors import InsufficientDataError, InvalidInputError, InvalidPoseDataError
from tests.biomech.test_kinematics import Z, bend, sequence, standing

osim: Any = pytest.importorskip("opensim", reason="opensim (a dev dependency) is needed to read the files back")
osim.Logger.removeFileSink()  # OpenSim logs to ./opensim.log by default: keep the working tree clean

WORLD_UP = np.array([0.0, 0.0, 1.0])
Y_UP_TO_Z_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
"""Turns the synthetic scene of test_kinematics (x forward, y up, z right) into a z-up world (x forward, y left)."""


def table_vec3(path: Path) -> tuple[NDArray[np.float64], list[str], NDArray[np.float64]]:
    table = osim.TimeSeriesTableVec3(str(path))
    times = np.array(table.getIndependentColumn())
    labels = list(table.getColumnLabels())
    values = np.array(
        [[_vec3(table.getRowAtIndex(r)[c]) for c in range(len(labels))] for r in range(table.getNumRows())]
    )
    return times, labels, values


def _vec3(v: Any) -> list[float]:
    return [v.get(i) for i in range(3)]


def table(path: Path) -> tuple[NDArray[np.float64], list[str], NDArray[np.float64]]:
    t = osim.TimeSeriesTable(str(path))
    times = np.array(t.getIndependentColumn())
    return times, list(t.getColumnLabels()), t.getMatrix().to_numpy().reshape(times.size, -1)


# --- rotation ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "up", [(0, 1, 0), (0, -1, 0), (0, 0, 1), (1, 0, 0), (0, 0, -1), (0.6, 0.0, 0.8), (0, -0.8, 0.6)]
)
def test_opensim_rotation_is_proper_and_sends_up_to_y(up: tuple[float, float, float]) -> None:
    r = opensim_rotation(up)
    np.testing.assert_allclose(r @ np.array(up, dtype=float), [0.0, 1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(r) == pytest.approx(1.0)


def test_opensim_rotation_of_the_world_and_camera_frames() -> None:
    # z-up world: a quarter turn about x (y goes to -z); camera (y down): a half turn about x.
    np.testing.assert_allclose(opensim_rotation(WORLD_UP), np.array([[1, 0, 0], [0, 0, 1], [0, -1, 0]]), atol=1e-12)
    np.testing.assert_allclose(opensim_rotation((0, -1, 0)), np.diag([1.0, -1.0, -1.0]))
    with pytest.raises(InvalidInputError):
        opensim_rotation((0, 0, 2))


# --- TRC --------------------------------------------------------------------------------------------------------


def test_marker_names_are_those_of_pose2sim_markerset() -> None:
    from spacecomputer.biomech._opensim_check import pose2sim_setup_dir

    try:
        setup = pose2sim_setup_dir()
    except ImportError:
        pytest.skip("pose2sim is not installed")
    names = [m.get("name") for m in ET.parse(setup / "Markers_BlazePose.xml").getroot().iter("Marker")]
    assert [m for m, _ in OPENSIM_MARKERS] == names
    for marker, landmark in OPENSIM_MARKERS:  # LBigToe ↔ left_foot_index: same side, and a landmark that exists
        assert landmark in BLAZEPOSE_33.joint_names
        assert landmark.startswith({"L": "left", "R": "right"}.get(marker[0], "nose"))


def test_trc_reads_back_in_opensim_with_names_times_and_rotated_values(tmp_path: Path) -> None:
    poses = [standing() @ Y_UP_TO_Z_UP.T + [0.1 * k, 2.0, 0.0] for k in range(4)]
    seq = sequence(*poses)
    write_trc(seq, tmp_path / "m.trc", up=WORLD_UP)
    times, labels, values = table_vec3(tmp_path / "m.trc")
    assert labels == [m for m, _ in OPENSIM_MARKERS]
    np.testing.assert_allclose(times, seq.timestamps_s, atol=1e-8)
    knee = labels.index("LKnee")
    # OpenSim frame: y up; the athlete's left knee (0, 0.52, -0.10) in the y-up scene, moved 0.1 m per frame forward
    # (x) and 2 m to the world's y, which is OpenSim's -z.
    expected = np.array([[0.1 * k, 0.52, -0.10 - 2.0] for k in range(4)])
    np.testing.assert_allclose(values[:, knee], expected, atol=1e-6)
    t = osim.TimeSeriesTableVec3(str(tmp_path / "m.trc"))
    assert t.getTableMetaDataString("Units") == "m"
    assert float(t.getTableMetaDataString("DataRate")) == pytest.approx(30.0)


def test_trc_missing_markers_read_as_nan_and_empty_frames_are_left_out(tmp_path: Path) -> None:
    poses = [standing() for _ in range(5)]
    poses[1][BLAZEPOSE_33.index("right_heel")] = np.nan
    poses[4][BLAZEPOSE_33.index("left_knee"), 2] = np.nan  # one missing component: the whole marker is missing
    poses[2][:] = np.nan
    seq = sequence(*poses)
    write_trc(seq, tmp_path / "m.trc", up=(0, 1, 0))
    times, labels, values = table_vec3(tmp_path / "m.trc")
    np.testing.assert_allclose(times, seq.timestamps_s[[0, 1, 3, 4]], atol=1e-8)
    missing = np.isnan(values).any(axis=2)
    assert missing.sum() == 2
    assert missing[1, labels.index("RHeel")]
    assert missing[3, labels.index("LKnee")]
    # the last marker of the file (LIndex) also reads back when the markers before it are missing
    np.testing.assert_allclose(values[1, -1], standing()[BLAZEPOSE_33.index("left_index")], atol=1e-6)


def test_trc_refuses_non_metric_and_empty_sequences(tmp_path: Path) -> None:
    with pytest.raises(InvalidPoseDataError, match="metric"):
        write_trc(sequence(standing(), frame=CoordinateFrame.NORMALIZED), tmp_path / "m.trc", up=(0, 1, 0))
    with pytest.raises(InvalidPoseDataError, match="no frame"):
        write_trc(sequence(np.full((33, 3), np.nan)), tmp_path / "m.trc", up=(0, 1, 0))
    with pytest.raises(InvalidInputError):
        write_trc(sequence(standing()), tmp_path / "m.trc", up=(0, 2, 0))


# --- .mot -------------------------------------------------------------------------------------------------------


def series(name: str, values: list[float]) -> KinematicSeries:
    return KinematicSeries(name, np.array(values), "test", ("left_knee",))


def test_mot_reads_back_with_columns_degrees_and_nan(tmp_path: Path) -> None:
    angles = {"left_knee_flexion": series("a", [10.0, 20.5, np.nan]), "trunk_flexion": series("b", [-1.0, 0.0, 1.0])}
    write_mot(angles, [0.0, 0.1, 0.2], tmp_path / "a.mot")
    times, labels, values = table(tmp_path / "a.mot")
    assert labels == ["left_knee_flexion", "trunk_flexion"]
    np.testing.assert_allclose(times, [0.0, 0.1, 0.2])
    np.testing.assert_allclose(values, [[10.0, -1.0], [20.5, 0.0], [np.nan, 1.0]])
    assert osim.TimeSeriesTable(str(tmp_path / "a.mot")).getTableMetaDataString("inDegrees") == "yes"


def test_mot_without_nan_reads_in_storage(tmp_path: Path) -> None:
    write_mot({"left_knee_flexion": series("a", [10.0, 20.0, 30.0])}, [0.0, 0.1, 0.2], tmp_path / "a.mot")
    storage = osim.Storage(str(tmp_path / "a.mot"))
    assert storage.getSize() == 3
    assert storage.isInDegrees()
    assert storage.getStateVector(2).getData().get(0) == pytest.approx(30.0)


def test_mot_rejects_mismatched_lengths_and_bad_names(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="samples"):
        write_mot({"a": series("a", [1.0, 2.0])}, [0.0, 0.1, 0.2], tmp_path / "a.mot")
    with pytest.raises(InvalidInputError, match="whitespace"):
        write_mot({"a b": series("a", [1.0])}, [0.0], tmp_path / "a.mot")
    with pytest.raises(InvalidInputError, match="increasing"):
        write_mot({"a": series("a", [1.0, 2.0])}, [0.1, 0.0], tmp_path / "a.mot")
    with pytest.raises(InvalidInputError):
        write_mot({}, [0.0], tmp_path / "a.mot")


# --- ground reaction --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class FakeGrf:
    per_foot_n: NDArray[np.float64]
    centre_of_pressure_m: NDArray[np.float64]
    known: NDArray[np.bool_]


def test_grf_mot_rotates_skips_unknown_rows_and_holds_the_point(tmp_path: Path) -> None:
    force = np.zeros((4, 2, 3))
    force[:, 0] = [10.0, 20.0, 300.0]  # left foot, z-up world: 300 N up
    force[1, 1] = [0.0, 0.0, 50.0]
    point = np.full((4, 2, 3), np.nan)
    point[:, 0] = [0.5, 0.2, 0.0]
    point[1, 1] = [0.4, -0.2, 0.0]
    known = np.array([True, True, False, True])
    force[2] = np.nan
    rows = write_grf_mot(FakeGrf(force, point, known), [0.0, 0.1, 0.2, 0.3], tmp_path / "g.mot", up=WORLD_UP)
    assert rows == 3
    times, labels, values = table(tmp_path / "g.mot")
    np.testing.assert_allclose(times, [0.0, 0.1, 0.3])
    col = {name: values[:, i] for i, name in enumerate(labels)}
    assert len(labels) == 18
    # world (x, y, z) -> OpenSim (x, z, -y)
    np.testing.assert_allclose([col["l_ground_force_vx"][0], col["l_ground_force_vy"][0]], [10.0, 300.0])
    np.testing.assert_allclose(col["l_ground_force_vz"][0], -20.0)
    np.testing.assert_allclose(col["l_ground_force_pz"], -0.2)
    np.testing.assert_allclose(col["r_ground_force_vy"], [0.0, 50.0, 0.0])
    # right foot off the ground before and after its contact: point held at its (only) centre of pressure
    np.testing.assert_allclose(col["r_ground_force_px"], 0.4)
    np.testing.assert_allclose(col["r_ground_force_pz"], 0.2)
    assert not np.isnan(values).any()
    np.testing.assert_allclose(values[:, [labels.index(f"{s}_ground_torque_{a}") for s in "lr" for a in "xyz"]], 0.0)


def test_grf_mot_needs_a_known_frame_and_matching_shapes(tmp_path: Path) -> None:
    grf = FakeGrf(np.full((2, 2, 3), np.nan), np.full((2, 2, 3), np.nan), np.zeros(2, dtype=bool))
    with pytest.raises(InsufficientDataError):
        write_grf_mot(grf, [0.0, 0.1], tmp_path / "g.mot", up=WORLD_UP)
    with pytest.raises(InvalidInputError, match="match timestamps"):
        write_grf_mot(grf, [0.0, 0.1, 0.2], tmp_path / "g.mot", up=WORLD_UP)


def test_external_loads_xml_loads_in_opensim(tmp_path: Path) -> None:
    force = np.zeros((3, 2, 3))
    force[:, :, 2] = 100.0
    point = np.zeros((3, 2, 3))
    write_grf_mot(FakeGrf(force, point, np.ones(3, dtype=bool)), [0.0, 0.1, 0.2], tmp_path / "g.mot", up=WORLD_UP)
    write_external_loads_xml(tmp_path / "loads.xml", grf_mot_path=tmp_path / "g.mot")
    loads = osim.ExternalLoads(str(tmp_path / "loads.xml"), True)
    assert loads.getSize() == 2
    bodies = {loads.get(i).getName(): loads.get(i).get_applied_to_body() for i in range(2)}
    assert bodies == {"left": "calcn_l", "right": "calcn_r"}
    assert loads.get(0).get_force_identifier() == "l_ground_force_v"


# --- OpenSim scaling, IK and ID ---------------------------------------------------------------------------------


def frames_of(pose: NDArray[np.float64], n: int = 10) -> list[NDArray[np.float64]]:
    return [pose @ Y_UP_TO_Z_UP.T + [1.0, -0.5, 0.0] for _ in range(n)]


@pytest.fixture(scope="module")
def standing_result(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from spacecomputer.biomech._opensim_check import run_opensim

    n = 10
    seq = sequence(*frames_of(standing(), n))
    mass_kg, g = 70.0, 9.80665
    force = np.zeros((n, 2, 3))
    force[:, :, 2] = mass_kg * g / 2.0
    # under each ankle, on the floor (the scene's y = 0, which is z = 0 in the z-up world)
    point = np.stack([seq.joint("left_ankle"), seq.joint("right_ankle")], axis=1)
    point[..., 2] = 0.0
    grf = FakeGrf(force, point, np.ones(n, dtype=bool))
    work = tmp_path_factory.mktemp("opensim")
    return run_opensim(seq, up=WORLD_UP, mass_kg=mass_kg, height_m=1.7, grf=grf, work_dir=work)


def test_ik_on_a_standing_pose_reads_straight_knees(standing_result: Any) -> None:
    ik = standing_result.ik_deg
    assert ik["knee_angle_l"].shape == (10,)
    # Pose2Sim's model places its knee and ankle markers a few mm off the hip-knee-ankle line and its heel and toe
    # markers differently from our synthetic foot, so a straight leg reads a few degrees.
    for side in "lr":
        assert np.abs(ik[f"knee_angle_{side}"]).max() < 6.0
        assert np.abs(ik[f"hip_flexion_{side}"]).max() < 10.0
    assert standing_result.marker_rms_error_m.max() < 0.03
    np.testing.assert_array_equal(standing_result.ik_rows, np.arange(10))


def test_id_of_a_static_pose_balances_body_weight(standing_result: Any) -> None:
    # Static pose, ground force = m g: the residual force on the pelvis is zero (it would be m g = 686 N without
    # the external loads), which checks the scaled mass, the rotation of the forces and the loads file.
    forces = standing_result.id_generalized_forces
    assert np.abs(forces["pelvis_ty_force"]).max() < 5.0
    assert np.abs(forces["pelvis_tx_force"]).max() < 5.0
    assert standing_result.id_timestamps_s.size == 10


def test_id_with_its_coordinate_low_pass_maps_back_to_the_frames(tmp_path: Path) -> None:
    # With the low-pass on, OpenSim resamples the coordinates on its own uniform grid (step: the smallest frame
    # interval), which is not the frames': the results come back on the frames, and a static pose still balances.
    from spacecomputer.biomech._opensim_check import run_opensim

    n = 90
    later = sequence(*frames_of(standing(), n))
    # 4 s into a clip whose presentation times are kept in milliseconds (a common container time base): not exactly
    # uniform, so the tool's grid falls up to 0.5 ms off the frames.
    seq = later.replace(timestamps_s=np.round(later.timestamps_s + 4.0, 3))
    force = np.zeros((n, 2, 3))
    force[:, :, 2] = 70.0 * 9.80665 / 2.0
    point = np.stack([seq.joint("left_ankle"), seq.joint("right_ankle")], axis=1)
    point[..., 2] = 0.0
    result = run_opensim(
        seq,
        up=WORLD_UP,
        mass_kg=70.0,
        height_m=1.7,
        grf=FakeGrf(force, point, np.ones(n, dtype=bool)),
        work_dir=tmp_path,
        id_lowpass_hz=6.0,
    )
    assert result.id_lowpass_hz == 6.0
    rows = result.id_rows
    np.testing.assert_array_equal(rows, np.arange(rows[0], rows[0] + rows.size))  # consecutive frames
    assert rows.size >= n - 2  # the tool's grid may stop short of the last frame
    np.testing.assert_array_equal(result.id_timestamps_s, seq.timestamps_s[rows])
    assert result.id_generalized_forces["pelvis_ty_force"].shape == (rows.size,)
    assert np.abs(result.id_generalized_forces["pelvis_ty_force"]).max() < 5.0


def test_ik_follows_a_bent_knee_facing_any_direction(tmp_path: Path) -> None:
    from spacecomputer.biomech._opensim_check import run_opensim

    turn = Rotation.from_euler("z", 160.0, degrees=True).as_matrix()  # facing backwards in the world
    poses = [bend(standing(), "left", "knee", -6.0 * k * Z) @ Y_UP_TO_Z_UP.T @ turn.T for k in range(8)]
    result = run_opensim(sequence(*poses), up=WORLD_UP, mass_kg=70.0, height_m=1.7, work_dir=tmp_path)
    knee = result.ik_deg["knee_angle_l"]
    # the model's knee angle grows about 7 % slower than the landmark angle (see docs/biomechanics.md, OpenSim)
    np.testing.assert_allclose(knee - knee[0], 6.0 * np.arange(8), rtol=0.12, atol=1.0)
    assert np.abs(result.ik_deg["knee_angle_r"] - result.ik_deg["knee_angle_r"][0]).max() < 1.0
    assert (result.ik_deg["pelvis_rotation"] + 360.0) % 360.0 == pytest.approx(160.0, abs=3.0)
