from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.typing import NDArray

from spacecomputer.domain._runs import contiguous_runs
from spacecomputer.errors import InvalidInputError, InvalidPoseDataError
from spacecomputer.vision._gaps import LongGap, fill_gaps

FPS = 30.0


def _runs(flags: list[bool]) -> list[tuple[int, int]]:
    """Reference run finder, written independently of the one under test."""
    runs: list[tuple[int, int]] = []
    for index, flag in enumerate(flags):
        if flag and (not runs or runs[-1][1] != index):
            runs.append((index, index + 1))
        elif flag:
            runs[-1] = (runs[-1][0], index + 1)
    return runs


def _trajectory(n_frames: int, n_joints: int = 1) -> NDArray[np.float64]:
    """Smooth, non-linear, distinct per joint and coordinate."""
    t = np.arange(n_frames)[:, None, None] / FPS
    phase = np.arange(n_joints)[None, :, None] + np.arange(3)[None, None, :] * 0.7
    return np.sin(2.0 * np.pi * 0.8 * t + phase) + 0.1 * t


# --- contiguous_runs -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ([], []),
        ([False, False], []),
        ([True], [(0, 1)]),
        ([True, True, True], [(0, 3)]),
        ([False, True, True, False, True], [(1, 3), (4, 5)]),
        ([True, False, False, True], [(0, 1), (3, 4)]),
    ],
)
def test_contiguous_runs_examples(flags: list[bool], expected: list[tuple[int, int]]) -> None:
    assert contiguous_runs(np.array(flags, dtype=bool)) == expected


@given(arrays(np.bool_, st.integers(0, 60)))
def test_contiguous_runs_matches_reference(mask: NDArray[np.bool_]) -> None:
    runs = contiguous_runs(mask)
    assert runs == _runs(mask.tolist())
    assert all(isinstance(value, int) for run in runs for value in run)


@pytest.mark.parametrize("mask", [np.array([1, 0, 1]), np.array([0.0, np.nan]), np.zeros((2, 2), dtype=bool)])
def test_contiguous_runs_rejects_non_bool_or_not_1d(mask: NDArray[np.generic]) -> None:
    with pytest.raises(InvalidInputError, match="1-D bool array"):
        contiguous_runs(mask)  # type: ignore[arg-type]


# --- fill_gaps: the brief's cases ----------------------------------------------------------------------


def test_three_frame_gap_filled_and_ten_frame_gap_reported() -> None:
    positions = _trajectory(60, n_joints=2)
    positions[10:13, 0] = np.nan
    positions[30:40, 1] = np.nan
    timestamps_s = np.arange(60) / FPS

    result = fill_gaps(positions, timestamps_s, max_gap_s=0.2)

    assert result.filled[10:13, 0].all()
    assert result.filled.sum() == 3
    assert np.isfinite(result.positions[10:13, 0]).all()
    assert np.isnan(result.positions[30:40, 1]).all()
    assert result.long_gaps == (LongGap(joint_index=1, first_frame=30, last_frame=39),)


def test_gap_on_linear_ramp_is_filled_exactly_linear() -> None:
    timestamps_s = np.cumsum(np.r_[0.0, np.full(9, 1 / FPS), 0.05, np.full(9, 1 / FPS)])
    velocity = np.array([1.5, -0.25, 3.0])
    positions = (2.0 + timestamps_s[:, None] * velocity)[:, None, :]
    truth = positions.copy()
    positions[8:12] = np.nan

    result = fill_gaps(positions, timestamps_s, max_gap_s=0.2)

    assert result.filled[8:12, 0].all()
    np.testing.assert_allclose(result.positions, truth, rtol=0, atol=1e-12)


@pytest.mark.parametrize(("n_missing", "is_filled"), [(1, True), (6, True), (7, False)])
def test_gap_of_exactly_max_gap_is_filled(n_missing: int, is_filled: bool) -> None:
    positions = _trajectory(30)
    positions[5 : 5 + n_missing] = np.nan

    result = fill_gaps(positions, np.arange(30) / FPS, max_gap_s=0.2)  # 0.2 s = 6 frames at 30 fps

    assert result.filled[5 : 5 + n_missing, 0].all() == is_filled
    assert (len(result.long_gaps) == 0) == is_filled


def test_duration_uses_real_timestamps() -> None:
    timestamps_s = np.arange(20) / FPS
    timestamps_s[10:] += 0.5  # the camera skipped half a second between frames 9 and 10
    positions = _trajectory(20)
    positions[9] = np.nan  # one frame missing, but the joint went unseen for 0.53 s

    result = fill_gaps(positions, timestamps_s, max_gap_s=0.2)

    assert not result.filled.any()
    assert result.long_gaps == (LongGap(0, 9, 9),)


def test_leading_and_trailing_gaps_are_never_filled_nor_reported() -> None:
    positions = _trajectory(20)
    positions[:2] = np.nan
    positions[-3:] = np.nan

    result = fill_gaps(positions, np.arange(20) / FPS, max_gap_s=10.0)

    assert not result.filled.any()
    assert result.long_gaps == ()
    assert np.isnan(result.positions[:2]).all()
    assert np.isnan(result.positions[-3:]).all()


def test_one_nan_coordinate_makes_the_whole_joint_missing() -> None:
    positions = _trajectory(40)
    positions[10, 0, 1] = np.nan  # short gap: x and z are re-interpolated, not kept
    positions[20:35, 0, 2] = np.nan  # long gap: x and y are blanked too
    raw_x = positions[10, 0, 0]

    result = fill_gaps(positions, np.arange(40) / FPS, max_gap_s=0.2)

    assert result.filled[10, 0]
    assert np.isfinite(result.positions[10, 0]).all()
    assert result.positions[10, 0, 0] != raw_x
    assert np.isnan(result.positions[20:35, 0]).all()
    assert result.long_gaps == (LongGap(0, 20, 34),)


def test_input_is_not_modified() -> None:
    positions = _trajectory(20)
    positions[5:7] = np.nan
    positions[3, 0, 2] = np.nan
    before = positions.copy()

    result = fill_gaps(positions, np.arange(20) / FPS, max_gap_s=0.2)

    np.testing.assert_array_equal(positions, before)
    assert not np.shares_memory(result.positions, positions)


@pytest.mark.parametrize("n_frames", [0, 1, 2, 3])
def test_very_short_and_all_nan_inputs_fill_nothing(n_frames: int) -> None:
    positions = np.full((n_frames, 4, 3), np.nan)

    result = fill_gaps(positions, np.arange(n_frames) / FPS, max_gap_s=1.0)

    assert result.positions.shape == (n_frames, 4, 3)
    assert np.isnan(result.positions).all()
    assert not result.filled.any()
    assert result.long_gaps == ()


def test_fills_between_just_two_valid_samples_linearly() -> None:
    positions = np.full((3, 1, 3), np.nan)
    positions[0, 0] = [0.0, 1.0, 2.0]
    positions[2, 0] = [2.0, 1.0, -2.0]

    result = fill_gaps(positions, np.array([0.0, 0.01, 0.04]), max_gap_s=0.2)

    np.testing.assert_allclose(result.positions[1, 0], [0.5, 1.0, 1.0], atol=1e-12)


@pytest.mark.parametrize(
    ("positions", "timestamps_s", "max_gap_s", "error", "message"),
    [
        (np.zeros((5, 3)), np.arange(5.0), 0.2, InvalidPoseDataError, r"shape \(frames, joints, 3\)"),
        (np.zeros((5, 2, 2)), np.arange(5.0), 0.2, InvalidPoseDataError, r"got \(5, 2, 2\)"),
        (np.full((2, 1, 3), np.inf), np.arange(2.0), 0.2, InvalidPoseDataError, "infinite"),
        (np.zeros((5, 1, 3)), np.arange(4.0), 0.2, InvalidPoseDataError, r"shape \(5,\)"),
        (np.zeros((3, 1, 3)), np.array([0.0, 1.0, 1.0]), 0.2, InvalidPoseDataError, "strictly increasing"),
        (np.zeros((2, 1, 3)), np.array([0.0, np.nan]), 0.2, InvalidPoseDataError, "finite"),
        (np.zeros((2, 1, 3)), np.arange(2.0), -0.1, InvalidInputError, "max_gap_s"),
        (np.zeros((2, 1, 3)), np.arange(2.0), float("nan"), InvalidInputError, "max_gap_s"),
    ],
)
def test_rejects_bad_input(
    positions: NDArray[np.float64],
    timestamps_s: NDArray[np.float64],
    max_gap_s: float,
    error: type[Exception],
    message: str,
) -> None:
    with pytest.raises(error, match=message):
        fill_gaps(positions, timestamps_s, max_gap_s=max_gap_s)


# --- fill_gaps: properties on arbitrary arrays ---------------------------------------------------------


@st.composite
def _pose_arrays(draw: st.DrawFn) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
    """(T, J, 3) positions with missing joints (one to three NaN coordinates each), times and a max gap."""
    n_frames = draw(st.integers(0, 30))
    n_joints = draw(st.integers(0, 3))
    positions = draw(arrays(np.float64, (n_frames, n_joints, 3), elements=st.floats(-1e6, 1e6)))
    joint_missing = draw(arrays(np.bool_, (n_frames, n_joints)))
    coordinate_nan = draw(arrays(np.bool_, (n_frames, n_joints, 3)))
    coordinate_nan[..., 0] |= ~coordinate_nan.any(axis=2)
    positions[joint_missing[..., None] & coordinate_nan] = np.nan
    steps_s = draw(arrays(np.float64, (n_frames,), elements=st.floats(0.005, 0.2)))
    timestamps_s = draw(st.floats(-10.0, 1e3)) + np.cumsum(steps_s)
    max_gap_s = draw(st.floats(0.0, 0.6))
    return positions, timestamps_s, max_gap_s


@settings(max_examples=200)
@given(_pose_arrays())
def test_fill_gaps_properties(case: tuple[NDArray[np.float64], NDArray[np.float64], float]) -> None:
    positions, timestamps_s, max_gap_s = case
    before = positions.copy()
    n_frames, n_joints = positions.shape[:2]

    result = fill_gaps(positions, timestamps_s, max_gap_s=max_gap_s)

    np.testing.assert_array_equal(positions, before)
    assert result.positions.shape == positions.shape
    assert result.filled.shape == (n_frames, n_joints)
    missing: NDArray[np.bool_] = np.logical_or.reduce(np.isnan(positions), axis=2)
    np.testing.assert_array_equal(result.positions[~missing], positions[~missing])
    assert not result.filled[~missing].any()
    assert np.isfinite(result.positions[result.filled]).all()
    assert np.isnan(result.positions[missing & ~result.filled]).all()

    frame_interval_s = float(np.median(np.diff(timestamps_s))) if n_frames >= 2 else 0.0
    expected_long: list[LongGap] = []
    for joint in range(n_joints):
        for start, stop in _runs(missing[:, joint].tolist()):
            interior = start > 0 and stop < n_frames
            duration_s = timestamps_s[stop] - timestamps_s[start - 1] - frame_interval_s if interior else 0.0
            short = interior and duration_s <= max_gap_s + 1e-9
            assert result.filled[start:stop, joint].all() == short
            if interior and not short:
                expected_long.append(LongGap(joint, start, stop - 1))
            if short:
                bounds = positions[[start - 1, stop], joint, :]
                low, high = bounds.min(axis=0), bounds.max(axis=0)
                slack = 1e-9 * (1.0 + np.abs(bounds).max(axis=0))
                gap = result.positions[start:stop, joint, :]
                assert ((gap >= low - slack) & (gap <= high + slack)).all()
    assert list(result.long_gaps) == expected_long


@given(_pose_arrays(), st.floats(-1e6, 1e6))
def test_constant_joint_is_filled_with_the_constant(
    case: tuple[NDArray[np.float64], NDArray[np.float64], float], value: float
) -> None:
    positions, timestamps_s, max_gap_s = case
    constant = np.where(np.isnan(positions), np.nan, value)

    result = fill_gaps(constant, timestamps_s, max_gap_s=max_gap_s)

    np.testing.assert_allclose(result.positions[result.filled], value, rtol=1e-12, atol=1e-9)
