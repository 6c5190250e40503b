"""Finite-difference derivatives of sampled signals, taken within each NaN-free run, without a loop over runs.

A sample is *present* when all its components are finite; each maximal run of present samples is
differentiated on its own, so no value crosses a gap. The formulas are those of
:func:`spacecomputer.biomech._kinematics.linear_velocity_m_s` and ``linear_acceleration_m_s2`` (see there),
computed for the whole array with slices and masks instead of once per run:

- first derivative: ``numpy.gradient(run, t_run, edge_order=1)`` — in a run whose time steps are all exactly
  equal, ``(f₊ − f₋) / 2h``; in any other run the second-order non-uniform formula
  ``a f₋ + b f + c f₊`` (as in ``numpy.gradient``); one-sided differences at the two ends of a run; a run of
  one sample gives NaN;
- second derivative: the three-point formula ``2 (h₋ f₊ − (h₋ + h₊) f + h₊ f₋) / (h₋ h₊ (h₋ + h₊))``; the two
  end samples of a run take their neighbour's value; runs shorter than three samples give NaN.

``present`` may also be given as a mask broadcastable against the values (``(T, …, 1)``): then several
signals with different gaps are differentiated in one call, each on its own runs.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["first_derivative", "present_rows", "run_ends", "second_derivative"]


def present_rows(values: NDArray[np.float64]) -> NDArray[np.bool_]:
    """(T,) mask of samples whose components are all finite."""
    if values.size == 0:
        return np.zeros(values.shape[0], dtype=bool)
    return np.asarray(np.isfinite(values.reshape(values.shape[0], -1)).all(axis=1))


def first_derivative(
    values: NDArray[np.float64], t: NDArray[np.float64], present: NDArray[np.bool_] | None = None
) -> NDArray[np.float64]:
    """Return d values / dt, (T, …), NaN outside runs of at least two present samples (module docstring).

    Parameters
    ----------
    values
        (T, …) samples, time on axis 0.
    t
        (T,) strictly increasing sample times.
    present
        Mask of present samples, (T, …) with trailing axes of length 1 where it is broadcast against
        ``values``; by default the rows whose components are all finite.

    Examples
    --------
    >>> first_derivative(np.array([0.0, 1.0, 4.0, np.nan, 5.0]), np.arange(5.0))
    array([ 1.,  2.,  3., nan, nan])

    """
    n = values.shape[0]
    out = np.full_like(values, np.nan, dtype=np.float64)
    if n < 2:
        return out
    mask, f = _masked(values, present)
    dt = np.diff(t)
    uniform = bool((dt == dt[0]).all())
    if n > 2:
        out[1:-1] = _central(f, dt, uniform=uniform)
    if mask is None:
        out[0], out[-1] = (f[1] - f[0]) / dt[0], (f[-1] - f[-2]) / dt[-1]
        return out
    # A missing sample between two present ones has no derivative (the uniform formula skips it).
    out[~mask] = np.nan
    if n > 2 and not uniform:  # a run whose own steps are all equal takes numpy.gradient's uniform formula
        inner = np.zeros_like(mask)
        inner[1:-1] = mask[:-2] & mask[1:-1] & mask[2:]
        rows = np.nonzero(inner & _in_uniform_run(mask, dt))
        out[rows] = (f[_moved(rows, 1)] - f[_moved(rows, -1)]) / _column(2.0 * dt[rows[0] - 1], f.ndim - len(rows))
    first, last = run_ends(mask, min_length=2)
    rows = np.nonzero(first)
    out[rows] = (f[_moved(rows, 1)] - f[rows]) / _column(dt[rows[0]], f.ndim - len(rows))
    rows = np.nonzero(last)
    out[rows] = (f[rows] - f[_moved(rows, -1)]) / _column(dt[rows[0] - 1], f.ndim - len(rows))
    return out


def second_derivative(
    values: NDArray[np.float64], t: NDArray[np.float64], present: NDArray[np.bool_] | None = None
) -> NDArray[np.float64]:
    """Return d² values / dt², (T, …), NaN outside runs of at least three present samples (module docstring).

    Parameters are those of :func:`first_derivative`.

    Examples
    --------
    >>> second_derivative(np.array([0.0, 1.0, 4.0, 9.0]), np.arange(4.0))
    array([2., 2., 2., 2.])

    """
    n = values.shape[0]
    out = np.full_like(values, np.nan, dtype=np.float64)
    if n < 3:
        return out
    mask, f = _masked(values, present)
    h = np.diff(t)
    column = (-1,) + (1,) * (values.ndim - 1)
    before, after = h[:-1].reshape(column), h[1:].reshape(column)
    # Every coefficient is non-zero, so a missing sample or neighbour (NaN) leaves NaN.
    interior = 2.0 * (before * f[2:] - (before + after) * f[1:-1] + after * f[:-2])
    interior /= before * after * (before + after)
    out[1:-1] = interior
    if mask is None:
        out[0], out[-1] = interior[0], interior[-1]
        return out
    first, last = run_ends(mask, min_length=3)
    rows = np.nonzero(first)
    out[rows] = out[_moved(rows, 1)]
    rows = np.nonzero(last)
    out[rows] = out[_moved(rows, -1)]
    return out


def _masked(
    values: NDArray[np.float64], present: NDArray[np.bool_] | None
) -> tuple[NDArray[np.bool_] | None, NDArray[np.float64]]:
    """Return the mask without its broadcast axes (``None`` if all are present) and the values, NaN where absent."""
    mask = present_rows(values) if present is None else np.asarray(present, dtype=bool)
    if mask.all():
        return None, values
    f = np.where(mask.reshape(mask.shape + (1,) * (values.ndim - mask.ndim)), values, np.nan)
    while mask.ndim > 1 and mask.shape[-1] == 1:
        mask = mask[..., 0]
    return mask, f


def _moved(rows: tuple[NDArray[np.intp], ...], step: int) -> tuple[NDArray[np.intp], ...]:
    return (rows[0] + step, *rows[1:])


def _column(per_row: NDArray[np.float64], trailing: int) -> NDArray[np.float64]:
    return per_row.reshape((-1,) + (1,) * trailing)


def run_ends(present: NDArray[np.bool_], *, min_length: int) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Masks, shaped like ``present``, of the first and the last sample of each run along axis 0.

    Only runs at least ``min_length`` samples long count.

    Examples
    --------
    >>> first, last = run_ends(np.array([True, True, False, True, True, True]), min_length=3)
    >>> first.nonzero()[0], last.nonzero()[0]
    (array([3]), array([5]))

    """
    n = present.shape[0]
    first, last = present.copy(), present.copy()
    first[1:] &= ~present[:-1]
    last[:-1] &= ~present[1:]
    for k in range(1, min_length):  # the next (previous) k samples are present too
        first[: max(n - k, 0)] &= present[k:]
        first[max(n - k, 0) :] = False
        last[k:] &= present[: max(n - k, 0)]
        last[:k] = False
    return first, last


def _central(f: NDArray[np.float64], dt: NDArray[np.float64], *, uniform: bool) -> NDArray[np.float64]:
    """``numpy.gradient``'s interior formula at samples 1 … T−2, for a uniform or a non-uniform ``dt``."""
    column = (-1,) + (1,) * (f.ndim - 1)
    before, after = dt[:-1].reshape(column), dt[1:].reshape(column)
    if uniform:
        return np.asarray((f[2:] - f[:-2]) / (2.0 * dt[0]), dtype=np.float64)
    a = -after / (before * (before + after))
    b = (after - before) / (before * after)
    c = before / (after * (before + after))
    return np.asarray(a * f[:-2] + b * f[1:-1] + c * f[2:], dtype=np.float64)


def _in_uniform_run(present: NDArray[np.bool_], dt: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Mask, shaped like ``present``, of samples in a run whose time steps are all exactly equal."""
    n = present.shape[0]
    flat = present.reshape(n, -1)
    start = flat.copy()
    start[1:] &= ~flat[:-1]
    run = np.cumsum(start, axis=0)  # run number of each sample in its column, from 1
    changed = np.zeros(n, dtype=bool)
    changed[1:-1] = dt[1:] != dt[:-1]  # the step after the sample differs from the step before it
    irregular_sample = np.zeros_like(flat)
    irregular_sample[1:-1] = flat[:-2] & flat[1:-1] & flat[2:] & changed[1:-1, None]
    rows, columns = np.nonzero(irregular_sample)
    irregular = np.zeros((int(run.max(initial=0)) + 1, flat.shape[1]), dtype=bool)
    irregular[run[rows, columns], columns] = True
    uniform = flat & ~irregular[run, np.arange(flat.shape[1])]
    return np.asarray(uniform.reshape(present.shape), dtype=np.bool_)
