from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.typing import NDArray

from spacecomputer.errors import InvalidInputError
from spacecomputer.vision._depth import ACCEPTED_WEIGHT, smooth_depth

FPS = 30.0


def times(n: int) -> NDArray[np.float64]:
    return np.arange(n) / FPS


def test_a_collapsed_skeleton_does_not_move_a_still_athlete() -> None:
    # The flip of the Sports2D sample in miniature: a still athlete 11 m away, per-frame depth noise of
    # 0.25 m, and eight frames whose cue says 15-18 m (the 2D skeleton drawn half its size).
    n = 90
    depth = 11.0 + np.random.default_rng(3).normal(0.0, 0.25, n)
    depth[40:48] = np.linspace(15.0, 18.0, 8)

    track = smooth_depth(depth, np.full(n, 0.1), times(n))

    assert np.all(track.weight[40:48] == 0.0)
    assert np.max(np.abs(track.depth_m - 11.0)) < 0.3
    assert np.max(np.abs(track.rate_m_s)) < 1.5  # the per-frame cue implies 120 m/s
    assert track.n_outliers >= 8


def test_a_constant_speed_toward_the_camera_is_kept() -> None:
    # A sprinter running at 8 m/s straight at the camera costs the motion model nothing.
    n = 120
    truth = 40.0 - 8.0 * times(n)
    noisy = truth + np.random.default_rng(5).normal(0.0, 0.3, n)

    track = smooth_depth(noisy, np.full(n, 0.1), times(n))

    inner = slice(15, n - 15)
    assert np.mean(track.rate_m_s[inner]) == pytest.approx(-8.0, abs=0.2)
    assert np.max(np.abs(track.rate_m_s[inner] + 8.0)) < 1.0
    assert np.sqrt(np.mean((track.depth_m - truth) ** 2)) < 0.15  # half the measurement noise or better


def test_exact_measurements_are_reproduced() -> None:
    n = 40
    t = times(n)
    truth = 7.0 + 1.5 * t + 0.4 * np.sin(3.0 * t)

    track = smooth_depth(truth, np.zeros(n), t)

    np.testing.assert_allclose(track.depth_m, truth, atol=1e-6)
    assert np.all(track.weight > 1.0 - 1e-9)
    assert track.noise_factor == 1.0


def test_missing_frames_are_bridged_and_frames_before_the_first_measurement_extrapolated() -> None:
    n = 60
    t = times(n)
    truth = 9.0 + 2.0 * t
    depth = truth.copy()
    depth[:5] = np.nan
    depth[20:30] = np.nan

    track = smooth_depth(depth, np.full(n, 0.05), t)

    assert not track.offered[20:30].any()
    assert not track.measured[20:30].any()
    assert track.n_outliers == 0
    np.testing.assert_allclose(track.depth_m, truth, atol=5e-3)  # the prior on the first rate pulls a little
    # The model's uncertainty grows where nothing was measured.
    assert track.depth_sigma_m[25] > 2.0 * track.depth_sigma_m[40]
    assert track.depth_sigma_m[0] > track.depth_sigma_m[5]


def test_irregular_frame_times_are_used() -> None:
    t = np.cumsum(np.r_[0.0, np.random.default_rng(2).uniform(0.02, 0.05, 79)])
    truth = 12.0 - 3.0 * t

    track = smooth_depth(truth, np.full(t.size, 0.01), t)

    np.testing.assert_allclose(track.rate_m_s, -3.0, atol=5e-3)


def test_no_measurement_at_all_gives_an_unknown_track() -> None:
    track = smooth_depth(np.full(5, np.nan), np.full(5, np.nan), times(5))
    assert np.isnan(track.depth_m).all()
    assert not track.measured.any()


def test_a_weight_below_the_acceptance_threshold_is_not_a_measurement() -> None:
    n = 60
    depth = 10.0 + np.random.default_rng(11).normal(0.0, 0.1, n)
    track = smooth_depth(depth, np.full(n, 0.1), times(n))
    np.testing.assert_array_equal(track.measured, track.weight >= ACCEPTED_WEIGHT)


@settings(max_examples=60, deadline=None)
@given(
    depth=arrays(np.float64, 25, elements=st.one_of(st.floats(2.0, 40.0), st.just(np.nan))),
    shift_m=st.floats(-1.5, 1.5),
)
def test_shifting_every_depth_shifts_the_track(depth: NDArray[np.float64], shift_m: float) -> None:
    sigma = np.full(depth.size, 0.2)
    track = smooth_depth(depth, sigma, times(depth.size))
    shifted = smooth_depth(depth + shift_m, sigma, times(depth.size))

    if not np.isfinite(depth).any():
        assert np.isnan(track.depth_m).all()
        return
    assert np.all(np.isfinite(track.depth_m))
    assert np.all((track.weight >= 0.0) & (track.weight <= 1.0))
    assert np.all(track.depth_sigma_m >= 0.0)
    np.testing.assert_allclose(shifted.depth_m, track.depth_m + shift_m, atol=1e-6)
    np.testing.assert_allclose(shifted.weight, track.weight, atol=1e-6)


@pytest.mark.parametrize(
    ("depth", "sigma", "t", "acceleration", "message"),
    [
        (np.ones(3), np.ones(2), times(3), 10.0, "must be 1-D of one length"),
        (np.ones(3), np.ones(3), np.array([0.0, 0.1, 0.1]), 10.0, "strictly increasing"),
        (np.ones(3), np.ones(3), times(3), 0.0, "acceleration_sigma_m_s2 must be positive"),
        (np.ones(3), -np.ones(3), times(3), 10.0, "must not be negative"),
    ],
)
def test_bad_input_is_refused(
    depth: NDArray[np.float64], sigma: NDArray[np.float64], t: NDArray[np.float64], acceleration: float, message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        smooth_depth(depth, sigma, t, acceleration_sigma_m_s2=acceleration)


# --- the smoothed depth's error as a process ---------------------------------------------------------------------


def test_the_error_process_reproduces_the_smoother_standard_deviation_everywhere() -> None:
    # Frames before the first measurement, a gap, an outlier and the end: the process's covariance, run
    # backwards through it, is the smoother's own in every frame, and draws have it too.
    n = 300
    depth = 9.0 + np.random.default_rng(8).normal(0.0, 0.2, n)
    depth[:10] = np.nan
    depth[120:150] = np.nan
    depth[200] = 14.0
    track = smooth_depth(depth, np.full(n, 0.2), times(n))
    assert track.error is not None

    draws = track.error.sample_m(np.random.default_rng(0), draws=6000)

    np.testing.assert_allclose(track.error.sigma_m, track.depth_sigma_m, rtol=1e-9)
    np.testing.assert_allclose(draws.std(axis=0), track.depth_sigma_m, rtol=0.05)
    assert track.depth_sigma_m[135] > 2.0 * track.depth_sigma_m[60]  # the bridged gap is less certain


def test_the_error_is_slow_as_the_steady_smoother_predicts() -> None:
    # For a steady stream of measurements with standard deviation s, the smoother's error is white noise shaped
    # by 1 / (1 + (w / w_c)^4), w_c = sqrt(acceleration sigma / s): variance s² Δt w_c / (2√2) and
    # autocorrelation e^-a (cos a + sin a), a = w_c τ / √2 — not white noise.
    n, s_m = 600, 0.25
    depth = 11.0 + np.random.default_rng(4).normal(0.0, s_m, n)
    track = smooth_depth(depth, np.full(n, s_m), times(n))
    assert track.error is not None
    s_m *= track.noise_factor
    w_c = np.sqrt(track.acceleration_sigma_m_s2 / s_m)

    middle = track.error.sample_m(np.random.default_rng(1), draws=3000)[:, 150:450]

    assert np.sqrt(np.mean(middle**2)) == pytest.approx(np.sqrt(s_m**2 / FPS * w_c / (2 * np.sqrt(2))), rel=0.05)
    for lag in (3, 6, 12, 18, 30):
        a = w_c * (lag / FPS) / np.sqrt(2)
        correlation = np.mean(middle[:, :-lag] * middle[:, lag:]) / np.mean(middle**2)
        assert correlation == pytest.approx(np.exp(-a) * (np.cos(a) + np.sin(a)), abs=0.04)


def test_without_any_measurement_there_is_no_error_process() -> None:
    track = smooth_depth(np.full(5, np.nan), np.full(5, np.nan), times(5))
    assert track.error is None
