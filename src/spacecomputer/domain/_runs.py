"""Runs of True in a boolean mask: the helper every stage that respects NaN gaps needs."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from spacecomputer.errors import InvalidInputError

__all__ = ["contiguous_runs"]


def contiguous_runs(mask: NDArray[np.bool_]) -> list[tuple[int, int]]:
    """Return the ``(start, stop)`` index pairs of the runs of True in a 1-D boolean mask.

    ``stop`` is exclusive, so ``mask[start:stop]`` is all True; runs are in increasing order.

    Parameters
    ----------
    mask
        (N,) array of dtype bool.

    Raises
    ------
    InvalidInputError
        If ``mask`` is not one-dimensional or not of dtype bool.

    Examples
    --------
    >>> contiguous_runs(np.array([True, True, False, True]))
    [(0, 2), (3, 4)]

    """
    flags = np.asarray(mask)
    if flags.ndim != 1 or flags.dtype != np.bool_:
        raise InvalidInputError(
            f"mask must be a 1-D bool array; got shape {flags.shape} of dtype {flags.dtype}",
            details={"shape": list(flags.shape), "dtype": str(flags.dtype)},
        )
    edges = np.diff(np.concatenate(([0], flags.astype(np.int8), [0])))
    starts = np.flatnonzero(edges == 1)
    stops = np.flatnonzero(edges == -1)
    return [(int(start), int(stop)) for start, stop in zip(starts, stops, strict=True)]
