"""The loop-free derivatives, rolling percentile and unwrapping against per-run reference computations."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from spacecomputer.biomech._differences import first_derivative, run_ends, second_derivative
from spacecomputer.biomech._events import _percentile_of_sorted, _rolling_low_percentile
from spacecomputer.biomech._kinematics import _unwrapped_deg
from spacecomputer.biomech._segment_motion import _angular_rates


def _runs(present: NDArray[np.bool_]) -> list[tuple[int, int]]:
    runs, start = [], None
    for i, seen in enumerate([*present.tolist(), False]):
        if seen and start is None:
            start = i
        elif not seen and start is not None:
            runs.append((start, i))
            start = None
    return runs


def _present(values: NDArray[np.float64]) -> NDArray[np.bool_]:
    return np.array([bool(np.isfinite(row).all()) for row in values], dtype=bool)


def _gradient_per_run(values: NDArray[np.float64], t: NDArray[np.float64]) -> NDArray[np.float64]:
    """numpy.gradient on each NaN-free run (what the derivatives did before they lost their loop)."""
    out = np.full(values.shape, np.nan)
    for start, stop in _runs(_present(values)):
        if stop - start >= 2:
            out[start:stop] = np.gradient(values[start:stop], t[start:stop], axis=0, edge_order=1)
    return out


def _three_point_per_run(values: NDArray[np.float64], t: NDArray[np.float64]) -> NDArray[np.float64]:
    out = np.full(values.shape, np.nan)
    for start, stop in _runs(_present(values)):
        for i in range(start + 1, stop - 1):
            before, after = t[i] - t[i - 1], t[i + 1] - t[i]
            out[i] = 2.0 * (before * values[i + 1] - (before + after) * values[i] + after * values[i - 1])
            out[i] /= before * after * (before + after)
        if stop - start >= 3:
            out[start], out[stop - 1] = out[start + 1], out[stop - 2]
    return out


@st.composite
def _signals(draw: st.DrawFn) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    n = draw(st.integers(0, 25))
    shape = draw(st.sampled_from([(n,), (n, 3), (n, 2, 3)]))
    values = draw(arrays(np.float64, shape, elements=st.floats(-1e3, 1e3)))
    gaps = draw(arrays(np.bool_, n))
    values[gaps] = np.nan
    if values.ndim > 1 and n and draw(st.booleans()):  # a sample with only one missing component
        values.reshape(n, -1)[draw(st.integers(0, n - 1)), 0] = np.nan
    kind = draw(st.sampled_from(["uniform", "varying", "mixed"]))
    steps = draw(arrays(np.float64, n, elements=st.floats(1e-3, 1.0)))
    if kind == "uniform":
        steps[:] = 0.25
    elif kind == "mixed":  # equal steps in the first half only: some runs are uniform, some are not
        steps[: n // 2] = 0.5
    return values, np.cumsum(steps)


@settings(max_examples=300)
@given(signal=_signals())
def test_first_derivative_is_numpy_gradient_on_each_run(
    signal: tuple[NDArray[np.float64], NDArray[np.float64]],
) -> None:
    values, t = signal
    np.testing.assert_array_equal(first_derivative(values, t), _gradient_per_run(values, t))


@settings(max_examples=300)
@given(signal=_signals())
def test_second_derivative_is_the_three_point_formula_on_each_run(
    signal: tuple[NDArray[np.float64], NDArray[np.float64]],
) -> None:
    values, t = signal
    np.testing.assert_allclose(second_derivative(values, t), _three_point_per_run(values, t), rtol=1e-12, atol=0)


def test_a_mask_per_column_differentiates_each_signal_on_its_own_runs() -> None:
    rng = np.random.default_rng(3)
    t = np.cumsum(rng.uniform(0.01, 0.05, 40))
    values = rng.normal(size=(40, 4, 3))
    values[5:7, 0] = np.nan
    values[[0, 20], 2] = np.nan
    values[:, 3] = np.nan
    present = np.isfinite(values).all(axis=2)[:, :, None]
    first, second = first_derivative(values, t, present), second_derivative(values, t, present)
    for column in range(4):
        np.testing.assert_array_equal(first[:, column], _gradient_per_run(values[:, column], t))
        np.testing.assert_allclose(second[:, column], _three_point_per_run(values[:, column], t), rtol=1e-12)


def test_run_ends_of_runs_long_enough() -> None:
    present = np.array([True, False, True, True, False, True, True, True, True])
    first, last = run_ends(present, min_length=2)
    assert first.nonzero()[0].tolist() == [2, 5]
    assert last.nonzero()[0].tolist() == [3, 8]
    first, last = run_ends(present, min_length=3)
    assert first.nonzero()[0].tolist() == [5]
    assert last.nonzero()[0].tolist() == [8]


@settings(max_examples=150)
@given(
    values=arrays(np.float64, st.integers(0, 80), elements=st.one_of(st.floats(-5, 5), st.just(np.nan))),
    half_width=st.integers(0, 12),
    percentile=st.sampled_from([0.0, 5.0, 37.5, 50.0, 100.0]),
)
def test_rolling_percentile_is_numpy_percentile_of_each_window(
    values: NDArray[np.float64], half_width: int, percentile: float
) -> None:
    expected = np.full(values.shape, np.nan)
    for start, stop in _runs(np.isfinite(values)):
        for i in range(start, stop):
            window = values[max(start, i - half_width) : min(stop, i + half_width + 1)]
            expected[i] = np.percentile(window, percentile)
    got = _rolling_low_percentile(values, half_width=half_width, percentile=percentile)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("percentile", [0.0, 1.0, 5.0, 33.3, 50.0, 99.0, 100.0])
def test_percentile_of_sorted_rows_follows_numpy(percentile: float) -> None:
    rng = np.random.default_rng(11)
    for length in (1, 2, 7, 61):
        rows = np.sort(rng.normal(size=(20, length)), axis=1)
        got = _percentile_of_sorted(rows, np.full(20, length), percentile)
        np.testing.assert_array_equal(got, np.percentile(rows, percentile, axis=1))


def test_unwrapping_keeps_each_run_apart_and_matches_numpy() -> None:
    angle = np.array([170.0, 179.0, -178.0, -170.0, np.nan, 175.0, -175.0, np.nan, 10.0, 20.0])
    expected = angle.copy()
    for start, stop in _runs(np.isfinite(angle)):
        expected[start:stop] = np.unwrap(angle[start:stop], period=360.0)
    got = _unwrapped_deg(angle)
    np.testing.assert_array_equal(got, expected)
    assert got[3] == -170.0 + 360.0
    assert got[6] == -175.0 + 360.0
    assert got[8] == 10.0


@given(angle=arrays(np.float64, st.integers(0, 60), elements=st.one_of(st.floats(-180, 180), st.just(np.nan))))
def test_unwrapping_is_numpy_unwrap_on_each_run(angle: NDArray[np.float64]) -> None:
    expected = angle.copy()
    for start, stop in _runs(np.isfinite(angle)):
        expected[start:stop] = np.unwrap(angle[start:stop], period=360.0)
    np.testing.assert_array_equal(_unwrapped_deg(angle), expected)


def _spin_reference(
    rotation: NDArray[np.float64], t: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """ω, α of one (T, 3, 3) frame sequence: differentiate the entries, then ½ Σₖ eₖ × ėₖ (and ëₖ)."""
    flat = rotation.reshape(len(t), 9)
    rate, second = _gradient_per_run(flat, t).reshape(-1, 3, 3), _three_point_per_run(flat, t).reshape(-1, 3, 3)
    omega = 0.5 * sum(np.cross(rotation[:, :, k], rate[:, :, k]) for k in range(3))
    alpha = 0.5 * sum(np.cross(rotation[:, :, k], second[:, :, k]) for k in range(3))
    for start, stop in _runs(np.isfinite(alpha).all(axis=1)):
        if stop - start >= 3:
            alpha[start], alpha[stop - 1] = alpha[start + 1], alpha[stop - 2]
    return np.asarray(omega), np.asarray(alpha)


def test_angular_rates_expanded_match_differentiating_the_frames() -> None:
    rng = np.random.default_rng(5)
    t = np.cumsum(rng.uniform(0.01, 0.03, 60))
    frames = []
    for _ in range(3):
        rotvec = np.cumsum(rng.normal(0.0, 0.05, size=(60, 3)), axis=0)
        frames.append(Rotation.from_rotvec(rotvec).as_matrix())
    frames[1][[10, 11, 30, 32]] = np.nan  # gaps: runs of 10, 18, 1 and 27 frames
    frames[2][:] = np.nan
    omega, alpha = _angular_rates(np.stack(frames).transpose(2, 3, 0, 1), t)
    for segment, rotation in enumerate(frames):
        expected_omega, expected_alpha = _spin_reference(rotation, t)
        np.testing.assert_allclose(omega[:, segment].T, expected_omega, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(alpha[:, segment].T, expected_alpha, rtol=1e-9, atol=1e-7)
    assert np.isnan(omega[:, 1, 31]).all()
    assert np.isfinite(omega[:, 1, 33]).all()
