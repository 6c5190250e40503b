from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy.spatial import ConvexHull
from scipy.spatial.transform import Rotation

from spacecomputer.biomech import BodyModel, FootContacts
from spacecomputer.biomech._events import _events
from spacecomputer.biomech._movement_metrics import STANDARD_GRAVITY_M_S2
from spacecomputer.biomech._stability import _Hull, horizontal_axes, stability, stability_metrics
from spacecomputer.domain import BLAZEPOSE_33, CoordinateFrame, PoseSequence
from spacecomputer.errors import InvalidInputError
from tests.biomech.scene import LEFT_SIDE_POINTS, pose_from_left_side

# Scene: x forward, y to the athlete's left, z up; metres. Left and right sides mirror each other in y, so the
# whole-body COM lies at y = 0 exactly, whatever the segment parameters.
UP = np.array([0.0, 0.0, 1.0])
MODEL = BodyModel.from_anthropometry(mass_kg=70.0, height_m=1.75, sex=None)
BOTH, LEFT_ONLY, NONE = (True, True), (True, False), (False, False)


def pose(*, heel_x: float = -0.05, toe_x: float = 0.15) -> NDArray[np.float64]:
    heel, toe = LEFT_SIDE_POINTS["heel"], LEFT_SIDE_POINTS["foot_index"]
    return pose_from_left_side({**LEFT_SIDE_POINTS, "heel": (heel_x, *heel[1:]), "foot_index": (toe_x, *toe[1:])})


def sequence(positions: NDArray[np.float64], fps: float = 50.0) -> PoseSequence:
    n = positions.shape[0]
    return PoseSequence(
        positions=positions, confidence=np.ones((n, 33)), timestamps_s=np.arange(n) / fps, fps=fps,
        frame=CoordinateFrame.WORLD,
    )  # fmt: skip


def contacts(states: list[tuple[bool, bool]], fps: float = 50.0) -> FootContacts:
    in_contact = np.array(states, dtype=bool)
    known = np.ones_like(in_contact)
    t = np.arange(len(states)) / fps
    return FootContacts(in_contact, known, np.zeros(len(states)), t, _events(in_contact, known, t), None)


def long_feet(n: int) -> NDArray[np.float64]:
    """Feet from x = −0.25 to +0.25 at y = ±0.10: two feet span a 0.5 × 0.2 m rectangle around the COM."""
    return np.repeat(pose(heel_x=-0.25, toe_x=0.25)[None], n, axis=0)


def rectangle_signed_distance(x: float, y: float, half_x: float = 0.25, half_y: float = 0.10) -> float:
    if abs(x) <= half_x and abs(y) <= half_y:
        return min(half_x - abs(x), half_y - abs(y))
    return -float(np.hypot(max(abs(x) - half_x, 0.0), max(abs(y) - half_y, 0.0)))


# --- base of support and COM distance -----------------------------------------------------------------------


def test_static_stance_com_lies_a_known_distance_inside_the_two_feet() -> None:
    series = stability(sequence(long_feet(5)), MODEL, contacts([BOTH] * 5), up=UP)
    assert series.com_m[:, 1] == pytest.approx(0.0, abs=1e-12)  # symmetric scene
    assert abs(series.com_m[0, 0]) < 0.15  # so the lateral edges at ±0.10 are the nearest
    assert series.com_to_bos_m == pytest.approx(np.full(5, 0.10), abs=1e-9)
    assert series.margin_of_stability_m == pytest.approx(np.full(5, 0.10), abs=1e-9)  # standing still: XCoM = COM
    polygon = series.base_of_support[2]
    assert polygon is not None
    assert sorted(map(tuple, np.round(polygon, 9))) == [(-0.25, -0.1), (-0.25, 0.1), (0.25, -0.1), (0.25, 0.1)]
    x, y = polygon[:, 0], polygon[:, 1]
    assert 0.5 * np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y) == pytest.approx(0.5 * 0.2)  # CCW, 0.1 m²


def test_one_foot_gives_a_segment_and_the_com_lies_outside_it() -> None:
    series = stability(sequence(long_feet(3)), MODEL, contacts([LEFT_ONLY] * 3), up=UP)
    assert series.com_to_bos_m == pytest.approx(np.full(3, -0.10), abs=1e-9)  # heel, ankle, toe on y = +0.10
    polygon = series.base_of_support[0]
    assert polygon is not None
    assert sorted(map(tuple, np.round(polygon, 9))) == [(-0.25, 0.1), (0.25, 0.1)]


def test_no_foot_in_contact_gives_nan_and_no_polygon() -> None:
    series = stability(sequence(long_feet(3)), MODEL, contacts([BOTH, NONE, BOTH]), up=UP)
    assert np.isnan(series.com_to_bos_m[1])
    assert np.isnan(series.margin_of_stability_m[1])
    assert series.base_of_support[1] is None
    assert np.isfinite(series.com_to_bos_m[[0, 2]]).all()


def test_missing_landmark_makes_the_com_distance_nan_but_keeps_the_polygon() -> None:
    positions = long_feet(3)
    positions[1, BLAZEPOSE_33.index("left_wrist")] = np.nan
    series = stability(sequence(positions), MODEL, contacts([BOTH] * 3), up=UP)
    assert np.isnan(series.com_to_bos_m[1])
    assert series.base_of_support[1] is not None


def test_camera_frame_with_y_down_gives_the_same_distances() -> None:
    to_camera = Rotation.from_rotvec([np.pi / 2, 0.0, 0.0])  # z-up world → y-down camera: up becomes (0, −1, 0)
    up_camera = to_camera.apply(UP)
    assert up_camera == pytest.approx([0.0, -1.0, 0.0])
    assert horizontal_axes(up_camera) == pytest.approx(np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]))
    positions = long_feet(4)
    camera = to_camera.apply(positions.reshape(-1, 3)).reshape(positions.shape) + np.array([0.3, 1.2, 4.0])
    states = [BOTH, BOTH, LEFT_ONLY, LEFT_ONLY]
    world = stability(sequence(positions), MODEL, contacts(states), up=UP)
    rotated = stability(sequence(camera), MODEL, contacts(states), up=up_camera)
    assert rotated.com_to_bos_m == pytest.approx(world.com_to_bos_m, abs=1e-9)


# --- extrapolated COM ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("velocity_m_s", [(0.6, 0.2, 0.3), (2.0, 0.0, -0.5)])
def test_xcom_moves_the_com_by_its_horizontal_velocity_over_omega0(velocity_m_s: tuple[float, float, float]) -> None:
    fps, n = 50.0, 6
    t = np.arange(n) / fps
    shift = np.outer(t, velocity_m_s)
    series = stability(
        sequence(long_feet(n) + shift[:, None, :], fps), MODEL, contacts([BOTH] * n, fps), up=UP, leg_length_m=0.9
    )
    # ω0 = sqrt(9.80665 / 0.9) = 3.300951 rad/s; v / ω0 = 0.181766 m for 0.6 m/s, 0.605886 m for 2 m/s,
    # 0.060589 m for 0.2 m/s.
    assert series.omega0_rad_s == pytest.approx(3.300951, abs=1e-6)
    expected_shift = {0.6: 0.181766, 2.0: 0.605886}[velocity_m_s[0]], {0.2: 0.060589, 0.0: 0.0}[velocity_m_s[1]]
    assert series.xcom_m[:, :2] - series.com_m[:, :2] == pytest.approx(np.tile(expected_shift, (n, 1)), abs=1e-6)
    assert series.xcom_m[:, 2] == pytest.approx(series.com_m[:, 2])  # the vertical velocity is not used
    for row in range(n):
        relative = series.xcom_m[row] - shift[row]  # in the frame of the (moving) feet
        assert series.margin_of_stability_m[row] == pytest.approx(
            rectangle_signed_distance(relative[0], relative[1]), abs=1e-9
        )
    if velocity_m_s[0] == 2.0:
        assert (series.margin_of_stability_m < 0).all()  # XCoM ahead of the toes
        assert (series.com_to_bos_m > 0).all()


def test_leg_length_from_the_landmarks() -> None:
    series = stability(sequence(np.repeat(pose()[None], 3, axis=0)), MODEL, contacts([BOTH] * 3), up=UP)
    # hip→knee = knee→ankle = sqrt(0.02² + 0.43²) = 0.430465; ankle→heel = sqrt(0.05² + 0.09²) = 0.102956.
    assert series.leg_length_m == pytest.approx(0.963886, abs=1e-6)
    assert series.omega0_rad_s == pytest.approx(np.sqrt(STANDARD_GRAVITY_M_S2 / 0.963886), rel=1e-6)
    assert "hip→knee" in series.note


# --- summary metrics ---------------------------------------------------------------------------------------------


def test_stability_metrics_of_a_known_stance() -> None:
    states = [BOTH, BOTH, LEFT_ONLY, LEFT_ONLY, NONE]
    series = stability(sequence(long_feet(5)), MODEL, contacts(states), up=UP)
    metrics = {m.name: m for m in stability_metrics(series, contacts(states))}
    assert metrics["margin_of_stability_min_m"].value == pytest.approx(-0.10, abs=1e-9)
    assert metrics["margin_of_stability_min_time_s"].value == pytest.approx(2 / 50.0)
    assert metrics["margin_of_stability_mean_m"].value == pytest.approx(0.0, abs=1e-9)
    assert metrics["com_over_base_of_support_percent"].value == pytest.approx(50.0)


def test_stability_metrics_without_stance_are_unavailable_with_a_reason() -> None:
    states = [NONE] * 4
    series = stability(sequence(long_feet(4)), MODEL, contacts(states), up=UP)
    assert np.isnan(series.margin_of_stability_m).all()
    for metric in stability_metrics(series, contacts(states)):
        assert not metric.available
        assert metric.value is None
        assert metric.reason is not None
        assert "stance" in metric.reason


# --- the hull against scipy --------------------------------------------------------------------------------------


def _reference_signed_distance(points: NDArray[np.float64], query: NDArray[np.float64]) -> float:
    hull = ConvexHull(points)
    inside = -np.max(hull.equations[:, :2] @ query + hull.equations[:, 2])
    if inside >= 0:
        return float(inside)
    distances = []
    for i, j in hull.simplices:
        a, d = points[i], points[j] - points[i]
        along = np.clip(np.dot(query - a, d) / np.dot(d, d), 0.0, 1.0)
        distances.append(np.linalg.norm(query - a - along * d))
    return -float(min(distances))


def test_hull_distances_and_vertices_match_scipy_on_random_point_sets() -> None:
    rng = np.random.default_rng(7)
    n_frames, n_points = 300, 6
    points = rng.uniform(-0.3, 0.3, size=(n_frames, n_points, 2))
    valid = rng.random((n_frames, n_points)) < 0.8
    valid[:, :3] = True  # at least three points, in general position with probability one
    query = rng.uniform(-0.5, 0.5, size=(n_frames, 2))
    hull = _Hull.of(points, valid)
    distance = hull.signed_distance_m(query)
    polygons = hull.polygons()
    for t in range(n_frames):
        seen = points[t, valid[t]]
        assert distance[t] == pytest.approx(_reference_signed_distance(seen, query[t]), abs=1e-12)
        reference = ConvexHull(seen)
        polygon = polygons[t]
        assert polygon is not None
        assert sorted(map(tuple, polygon)) == sorted(map(tuple, seen[reference.vertices]))
        x, y = polygon[:, 0], polygon[:, 1]
        assert 0.5 * np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y) == pytest.approx(reference.volume)


def test_hull_of_one_or_two_points() -> None:
    points = np.array([[[0.0, 0.0], [0.3, 0.4], [9.0, 9.0]], [[0.1, 0.2], [5.0, 5.0], [7.0, 7.0]]])
    valid = np.array([[True, True, False], [True, False, False]])
    hull = _Hull.of(points, valid)
    distance = hull.signed_distance_m(np.array([[0.4, -0.3], [0.1, 0.2]]))
    assert distance == pytest.approx([-0.5, 0.0])  # perpendicular to the segment; on the point itself
    polygons = hull.polygons()
    assert polygons[0] is not None
    assert polygons[0].tolist() == [[0.0, 0.0], [0.3, 0.4]]
    assert polygons[1] is not None
    assert polygons[1].tolist() == [[0.1, 0.2]]


# --- bad input ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [{"leg_length_m": 0.0}, {"leg_length_m": float("nan")}, {"gravity_m_s2": -9.8}, {"up": (0.0, 0.0, 2.0)}],
)
def test_bad_parameters_are_refused(kwargs: dict[str, object]) -> None:
    arguments: dict[str, object] = {"up": UP, **kwargs}
    with pytest.raises(InvalidInputError):
        stability(sequence(long_feet(3)), MODEL, contacts([BOTH] * 3), **arguments)  # type: ignore[arg-type]


def test_contacts_of_another_sequence_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="3 frames"):
        stability(sequence(long_feet(3)), MODEL, contacts([BOTH] * 4), up=UP)
