from __future__ import annotations

import numpy as np
import pytest

from spacecomputer.domain._placement import DepthErrorProcess, PlacementUncertainty
from spacecomputer.errors import InvalidInputError


def ar1_process(n: int, *, rho: float, sigma_m: float) -> DepthErrorProcess:
    """A stationary first-order autoregression backwards in time, with lag-one correlation ``rho``."""
    gain = np.tile(np.diag([rho, 0.0]), (n, 1, 1))
    gain[-1] = 0.0
    factor = np.tile(np.diag([sigma_m * np.sqrt(1.0 - rho**2), 0.0]), (n, 1, 1))
    factor[-1, 0, 0] = sigma_m
    return DepthErrorProcess(gain, factor)


def test_draws_have_the_process_standard_deviation_and_correlation() -> None:
    process = ar1_process(50, rho=0.9, sigma_m=0.2)

    draws = process.sample_m(np.random.default_rng(0), draws=20_000)

    np.testing.assert_allclose(process.sigma_m, 0.2, rtol=1e-12)
    np.testing.assert_allclose(draws.std(axis=0), 0.2, rtol=0.04)
    lag = np.mean(draws[:, :-5] * draws[:, 5:]) / np.mean(draws**2)
    assert lag == pytest.approx(0.9**5, abs=0.02)


def test_displacements_move_along_the_direction_and_not_where_it_is_unknown() -> None:
    direction = np.tile([0.1, 0.0, 1.0], (6, 1))
    direction[2] = np.nan
    placement = PlacementUncertainty(ar1_process(6, rho=0.5, sigma_m=0.1), direction)

    shift = placement.sample_displacements_m(np.random.default_rng(1), draws=3)

    assert shift.shape == (3, 6, 3)
    assert np.all(shift[:, 2] == 0.0)
    np.testing.assert_allclose(shift[..., 0], 0.1 * shift[..., 2])
    assert np.all(shift[..., 1] == 0.0)
    assert np.all(shift[:, [0, 1, 3, 4, 5], 2] != 0.0)


@pytest.mark.parametrize(
    ("gain", "factor"),
    [
        (np.zeros((3, 2, 2)), np.zeros((4, 2, 2))),
        (np.zeros((3, 3, 3)), np.zeros((3, 3, 3))),
        (np.zeros((0, 2, 2)), np.zeros((0, 2, 2))),
        (np.full((3, 2, 2), np.nan), np.zeros((3, 2, 2))),
    ],
)
def test_malformed_processes_are_refused(gain: np.ndarray, factor: np.ndarray) -> None:
    with pytest.raises(InvalidInputError):
        DepthErrorProcess(gain, factor)


def test_a_direction_for_other_frames_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="direction must be"):
        PlacementUncertainty(ar1_process(6, rho=0.5, sigma_m=0.1), np.zeros((5, 3)))
    with pytest.raises(InvalidInputError, match="draws"):
        ar1_process(6, rho=0.5, sigma_m=0.1).sample_m(np.random.default_rng(0), draws=-1)
