from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.typing import NDArray
from scipy.signal import find_peaks

from spacecomputer.errors import InsufficientDataError, InvalidInputError, InvalidPoseDataError
from spacecomputer.vision._filtering import butterworth_lowpass, residual_analysis_cutoff

FS_HZ = 100.0
INTERIOR = slice(50, -50)
"""Half a second away from the ends at 100 Hz, where the odd extension pins the filter to raw samples."""


def _rms(values: NDArray[np.float64]) -> float:
    return float(np.sqrt(np.mean(values**2)))


def _sine_plus_noise() -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    t_s = np.arange(1000) / FS_HZ
    return t_s, np.sin(2 * np.pi * 2.0 * t_s), 0.3 * np.sin(2 * np.pi * 15.0 * t_s + 0.4)


# --- butterworth_lowpass: the brief's cases ----------------------------------------------------------------


def test_keeps_2hz_amplitude_and_removes_15hz_noise() -> None:
    _, clean, noise = _sine_plus_noise()

    filtered = butterworth_lowpass(clean + noise, fs_hz=FS_HZ, cutoff_hz=6.0)

    amplitude = (filtered[INTERIOR].max() - filtered[INTERIOR].min()) / 2.0
    assert amplitude == pytest.approx(1.0, rel=0.02)
    assert _rms((filtered - clean)[INTERIOR]) < 0.1 * _rms(noise[INTERIOR])


def test_is_zero_phase() -> None:
    _, clean, noise = _sine_plus_noise()

    filtered = butterworth_lowpass(clean + noise, fs_hz=FS_HZ, cutoff_hz=6.0)

    clean_peaks, _ = find_peaks(clean[INTERIOR])
    filtered_peaks, _ = find_peaks(filtered[INTERIOR])
    assert len(clean_peaks) == len(filtered_peaks) == 18
    assert np.abs(filtered_peaks - clean_peaks).max() <= 1


@pytest.mark.parametrize("order", [2, 4])
def test_cutoff_is_the_design_cutoff_so_the_double_pass_halves_it(order: int) -> None:
    t_s = np.arange(2000) / FS_HZ
    at_cutoff = np.sin(2 * np.pi * 6.0 * t_s)

    filtered = butterworth_lowpass(at_cutoff, fs_hz=FS_HZ, cutoff_hz=6.0, order=order)

    assert np.abs(filtered[INTERIOR]).max() == pytest.approx(0.5, rel=0.01)


@pytest.mark.parametrize("offset", [0.0, -3.25, 1e6])
def test_constant_runs_stay_exactly_constant(offset: float) -> None:
    signal = np.full((40, 2, 3), offset)
    signal[10:13, 1] = np.nan

    filtered = butterworth_lowpass(signal, fs_hz=30.0, cutoff_hz=6.0)

    np.testing.assert_array_equal(np.isnan(filtered), np.isnan(signal))
    np.testing.assert_array_equal(filtered[~np.isnan(signal)], offset)


@pytest.mark.parametrize("n_samples", [2, 3, 5, 16, 40])
@pytest.mark.parametrize("cutoff_hz", [0.5, 6.0, 45.0])
def test_straight_lines_stay_straight_even_in_short_runs(n_samples: int, cutoff_hz: float) -> None:
    line = np.linspace(-3.0, 7.0, n_samples)

    filtered = butterworth_lowpass(line, fs_hz=FS_HZ, cutoff_hz=cutoff_hz)

    np.testing.assert_allclose(filtered, line, rtol=0, atol=1e-12)


def test_short_run_is_smoothed_not_left_to_transients() -> None:
    spike = np.array([0.0, 0.0, 1.0, 0.0, 0.0])

    filtered = butterworth_lowpass(spike, fs_hz=FS_HZ, cutoff_hz=5.0)

    assert filtered.max() < 0.2
    assert filtered.min() > -0.1


def test_single_sample_run_is_unchanged() -> None:
    signal = np.array([np.nan, 4.0, np.nan, 1.0, 2.0, 3.0])

    filtered = butterworth_lowpass(signal, fs_hz=30.0, cutoff_hz=6.0)

    assert filtered[1] == 4.0


def test_runs_are_filtered_independently_across_gaps() -> None:
    _, clean, noise = _sine_plus_noise()
    signal = clean + noise
    signal[400:403] = np.nan

    filtered = butterworth_lowpass(signal, fs_hz=FS_HZ, cutoff_hz=6.0)

    np.testing.assert_array_equal(filtered[:400], butterworth_lowpass(signal[:400], fs_hz=FS_HZ, cutoff_hz=6.0))
    np.testing.assert_array_equal(filtered[403:], butterworth_lowpass(signal[403:], fs_hz=FS_HZ, cutoff_hz=6.0))
    assert np.isnan(filtered[400:403]).all()


def test_each_trailing_element_is_its_own_signal() -> None:
    rng = np.random.default_rng(7)
    positions = rng.normal(size=(50, 4, 3))
    positions[rng.random((50, 4, 3)) < 0.1] = np.nan

    filtered = butterworth_lowpass(positions, fs_hz=30.0, cutoff_hz=5.0)

    for joint in range(4):
        for axis in range(3):
            alone = butterworth_lowpass(positions[:, joint, axis], fs_hz=30.0, cutoff_hz=5.0)
            np.testing.assert_allclose(filtered[:, joint, axis], alone, rtol=0, atol=1e-12)


def test_does_not_modify_its_input() -> None:
    _, clean, noise = _sine_plus_noise()
    signal = clean + noise
    before = signal.copy()

    filtered = butterworth_lowpass(signal, fs_hz=FS_HZ, cutoff_hz=6.0)

    np.testing.assert_array_equal(signal, before)
    assert not np.shares_memory(filtered, signal)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"fs_hz": 30.0, "cutoff_hz": 15.0}, r"cutoff_hz=15.0 with fs_hz=30.0"),
        ({"fs_hz": 30.0, "cutoff_hz": 20.0}, r"cutoff_hz=20.0 with fs_hz=30.0"),
        ({"fs_hz": 30.0, "cutoff_hz": 0.0}, "cutoff_hz"),
        ({"fs_hz": 30.0, "cutoff_hz": float("nan")}, "cutoff_hz"),
        ({"fs_hz": 0.0, "cutoff_hz": 6.0}, "fs_hz"),
        ({"fs_hz": float("inf"), "cutoff_hz": 6.0}, "fs_hz"),
        ({"fs_hz": 30.0, "cutoff_hz": 6.0, "order": 0}, "order"),
        ({"fs_hz": 30.0, "cutoff_hz": 6.0, "order": True}, "order"),
        ({"fs_hz": 30.0, "cutoff_hz": 6.0, "order": 2.0}, "order"),
    ],
)
def test_rejects_bad_parameters(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message) as caught:
        butterworth_lowpass(np.zeros(20), **kwargs)  # type: ignore[arg-type]
    assert caught.value.details


@pytest.mark.parametrize(("signal", "message"), [(np.float64(1.0), "time axis"), (np.array([0.0, np.inf]), "infinite")])
def test_rejects_bad_signal(signal: NDArray[np.float64], message: str) -> None:
    with pytest.raises(InvalidPoseDataError, match=message):
        butterworth_lowpass(signal, fs_hz=30.0, cutoff_hz=6.0)


# --- butterworth_lowpass: properties on arbitrary arrays --------------------------------------------------


@st.composite
def _signals(draw: st.DrawFn) -> NDArray[np.float64]:
    """(T,) or (T, J, 3) samples with NaN, T from 0 (empty) upwards."""
    trailing = draw(st.sampled_from([(), (2, 3)]))
    shape = (draw(st.integers(0, 40)), *trailing)
    values = draw(arrays(np.float64, shape, elements=st.floats(-1e9, 1e9)))
    values[draw(arrays(np.bool_, shape, elements=st.sampled_from((False,) * 7 + (True,))))] = np.nan
    return values


_filter_settings = st.tuples(
    st.floats(10.0, 500.0), st.floats(0.005, 0.495), st.integers(1, 6)
)  # fs_hz, cutoff as a fraction of fs_hz, order


@settings(max_examples=150)
@given(_signals(), _filter_settings)
def test_lowpass_properties(signal: NDArray[np.float64], setting: tuple[float, float, int]) -> None:
    fs_hz, cutoff_fraction, order = setting
    before = signal.copy()

    filtered = butterworth_lowpass(signal, fs_hz=fs_hz, cutoff_hz=cutoff_fraction * fs_hz, order=order)

    np.testing.assert_array_equal(signal, before)
    assert filtered.shape == signal.shape
    assert filtered.dtype == np.float64
    np.testing.assert_array_equal(np.isnan(filtered), np.isnan(signal))
    assert not np.isinf(filtered).any()
    columns = signal.reshape(len(signal), -1) if signal.size else signal.reshape(len(signal), 0)
    filtered_columns = filtered.reshape(columns.shape)
    for column in range(columns.shape[1]):
        finite = np.isfinite(columns[:, column])
        values, smoothed = columns[finite, column], filtered_columns[finite, column]
        if values.size:
            spread = values.max() - values.min()
            assert smoothed.min() >= values.min() - spread - 1e-6
            assert smoothed.max() <= values.max() + spread + 1e-6


@given(_signals(), _filter_settings, st.floats(-1e9, 1e9))
def test_lowpass_keeps_constants_constant(
    signal: NDArray[np.float64], setting: tuple[float, float, int], value: float
) -> None:
    fs_hz, cutoff_fraction, order = setting
    constant = np.where(np.isnan(signal), np.nan, value)

    filtered = butterworth_lowpass(constant, fs_hz=fs_hz, cutoff_hz=cutoff_fraction * fs_hz, order=order)

    np.testing.assert_allclose(filtered[np.isfinite(constant)], value, rtol=0, atol=1e-9)


# --- residual_analysis_cutoff ------------------------------------------------------------------------------


def _slow_pose_plus_noise(noise_rms: float, *, fs_hz: float = FS_HZ, seed: int = 0) -> NDArray[np.float64]:
    t_s = np.arange(int(10 * fs_hz))[:, None] / fs_hz
    phase = np.linspace(0.0, 3.0, 6)[None, :]
    slow = 0.3 * np.sin(2 * np.pi * 0.8 * t_s + phase) + 0.1 * np.sin(2 * np.pi * 2.3 * t_s + 2 * phase)
    noise = np.random.default_rng(seed).normal(scale=noise_rms, size=slow.shape)
    return (slow + noise).reshape(-1, 2, 3)


@pytest.mark.parametrize("fs_hz", [30.0, 100.0, 240.0])
def test_residual_analysis_estimates_the_noise_and_a_sensible_cutoff(fs_hz: float) -> None:
    noise_rms = 0.005

    analysis = residual_analysis_cutoff(_slow_pose_plus_noise(noise_rms, fs_hz=fs_hz), fs_hz=fs_hz)

    assert analysis.noise_intercept == pytest.approx(noise_rms, rel=0.25)
    assert 2.5 <= analysis.cutoff_hz <= 8.0
    assert analysis.noise_slope_per_hz < 0.0


def test_residual_analysis_pools_all_valid_samples_of_long_runs() -> None:
    positions = _slow_pose_plus_noise(0.005)
    positions[100:110, 0] = np.nan
    positions[500:990, 1, 2] = np.nan  # leaves a 10-sample run that is too short to count
    candidates_hz = np.array([2.0, 4.0, 20.0, 30.0])

    analysis = residual_analysis_cutoff(positions, fs_hz=FS_HZ, candidates_hz=candidates_hz, noise_band_hz=(20.0, 30.0))

    counted = np.isfinite(positions)
    counted[990:, 1, 2] = False
    for cutoff_hz, residual_rms in zip(candidates_hz, analysis.residual_rms, strict=True):
        filtered = butterworth_lowpass(positions, fs_hz=FS_HZ, cutoff_hz=cutoff_hz)
        assert residual_rms == pytest.approx(_rms((positions - filtered)[counted]), rel=1e-12)
    np.testing.assert_array_equal(analysis.candidates_hz, candidates_hz)
    assert analysis.noise_band_hz == (20.0, 30.0)


def test_residual_analysis_chooses_the_lowest_cutoff_at_the_noise_level() -> None:
    analysis = residual_analysis_cutoff(_slow_pose_plus_noise(0.01), fs_hz=FS_HZ)

    chosen = int(np.flatnonzero(analysis.candidates_hz == analysis.cutoff_hz)[0])
    assert analysis.residual_rms[chosen] <= analysis.noise_intercept
    assert (analysis.residual_rms[:chosen] > analysis.noise_intercept).all()


def test_residual_analysis_of_a_constant_has_no_noise() -> None:
    analysis = residual_analysis_cutoff(np.full((60, 3, 3), 2.5), fs_hz=30.0)

    assert analysis.noise_intercept == 0.0
    assert not analysis.residual_rms.any()
    assert analysis.cutoff_hz == analysis.candidates_hz[0]


@pytest.mark.parametrize("n_frames", [0, 1, 2, 3, 15])
def test_residual_analysis_needs_a_16_sample_run(n_frames: int) -> None:
    with pytest.raises(InsufficientDataError, match="at least 16 samples") as caught:
        residual_analysis_cutoff(np.ones((n_frames, 2, 3)), fs_hz=30.0)
    assert caught.value.details["min_run_samples"] == 16


def test_residual_analysis_of_all_nan_is_insufficient() -> None:
    with pytest.raises(InsufficientDataError):
        residual_analysis_cutoff(np.full((100, 2, 3), np.nan), fs_hz=30.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"candidates_hz": np.array([1.0, 15.0])}, r"cutoff_hz=15.0 with fs_hz=30.0"),
        ({"candidates_hz": np.array([3.0, 2.0])}, "strictly increasing"),
        ({"candidates_hz": np.array([])}, "non-empty"),
        ({"noise_band_hz": (7.55, 7.7)}, "holds 1"),  # only the candidate 7.65 Hz
        ({"noise_band_hz": (9.0, 6.0)}, "at least 2 candidate"),
        ({"order": 0}, "order"),
    ],
)
def test_residual_analysis_rejects_bad_parameters(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        residual_analysis_cutoff(np.zeros((40, 1, 3)), fs_hz=30.0, **kwargs)  # type: ignore[arg-type]


@settings(max_examples=40, deadline=None)
@given(_signals(), st.floats(20.0, 200.0))
def test_residual_analysis_properties(signal: NDArray[np.float64], fs_hz: float) -> None:
    candidates_hz = fs_hz * np.array([0.05, 0.1, 0.2, 0.3, 0.4])
    try:
        analysis = residual_analysis_cutoff(signal, fs_hz=fs_hz, candidates_hz=candidates_hz)
    except InsufficientDataError:
        finite = np.isfinite(signal.reshape(len(signal), -1)) if signal.size else np.zeros((0, 0), bool)
        longest = max((_longest_run(finite[:, column]) for column in range(finite.shape[1])), default=0)
        assert longest < 16
        return
    assert np.isfinite(analysis.residual_rms).all()
    assert (analysis.residual_rms >= 0.0).all()
    assert analysis.cutoff_hz in candidates_hz
    chosen = int(np.flatnonzero(candidates_hz == analysis.cutoff_hz)[0])
    if (analysis.residual_rms <= analysis.noise_intercept).any():
        assert analysis.residual_rms[chosen] <= analysis.noise_intercept
        assert (analysis.residual_rms[:chosen] > analysis.noise_intercept).all()
    else:
        assert chosen == len(candidates_hz) - 1


def _longest_run(flags: NDArray[np.bool_]) -> int:
    longest = current = 0
    for flag in flags.tolist():
        current = current + 1 if flag else 0
        longest = max(longest, current)
    return longest
