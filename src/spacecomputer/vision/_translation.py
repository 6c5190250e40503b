"""Least-squares translation of a hip-centred body onto its 2D landmarks (the solver of :mod:`._trajectory`).

For landmarks with undistorted normalised image coordinates ``(u_i, v_i)`` and body positions ``X_i`` (camera
axes, metres), the translation ``t`` solves ``(X_i + t)_x - u_i (X_i + t)_z = 0`` and
``(X_i + t)_y - v_i (X_i + t)_z = 0`` in the weighted least-squares sense, for every frame at once.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from spacecomputer.vision._camera import CameraModel

__all__ = ["FrameSolves", "solve_translations", "translations_at_depth", "visible_extent_px"]


class FrameSolves(NamedTuple):
    """What :func:`solve_translations` found, per frame."""

    pelvis_m: NDArray[np.float64]
    """(T, 3) each frame's least-squares translation, m; NaN where not solvable."""
    rms_px: NDArray[np.float64]
    """(T,) reprojection RMS of that solution, pixels."""
    depth_sigma_m: NDArray[np.float64]
    """(T,) standard error of its depth (z) from the residuals and the normal matrix, m."""
    normalised: NDArray[np.float64]
    """(T, J, 2) undistorted normalised image coordinates (u, v) of the landmarks."""


def solve_translations(
    body_m: NDArray[np.float64],
    observed_px: NDArray[np.float64],
    weights: NDArray[np.float64],
    solvable: NDArray[np.bool_],
    camera: CameraModel,
) -> FrameSolves:
    """Weighted least-squares translation of every frame, its reprojection RMS and its depth's standard error.

    With rows ``[1, 0, -u]`` and ``[0, 1, -v]`` per landmark, the normal equations are assembled in
    closed form for all frames at once; unused landmarks carry weight 0. The standard error is the usual
    ``σ̂² (AᵀWA)⁻¹`` with ``σ̂²`` the weighted residual sum of squares over ``2n - 3`` degrees of freedom.
    """
    n_frames, n_joints = weights.shape
    normalised = camera.undistort_points(observed_px.reshape(-1, 2)).reshape(n_frames, n_joints, 2)
    u, v = np.nan_to_num(normalised[..., 0]), np.nan_to_num(normalised[..., 1])
    x, y, z = (np.nan_to_num(body_m[..., k]) for k in range(3))
    w = weights
    b_x, b_y = u * z - x, v * z - y
    sum_w, sum_wu, sum_wv = w.sum(axis=1), (w * u).sum(axis=1), (w * v).sum(axis=1)
    normal = np.zeros((n_frames, 3, 3))
    normal[:, 0, 0] = normal[:, 1, 1] = sum_w
    normal[:, 0, 2] = normal[:, 2, 0] = -sum_wu
    normal[:, 1, 2] = normal[:, 2, 1] = -sum_wv
    normal[:, 2, 2] = (w * (u * u + v * v)).sum(axis=1)
    rhs = np.stack([(w * b_x).sum(axis=1), (w * b_y).sum(axis=1), -(w * (u * b_x + v * b_y)).sum(axis=1)], axis=1)
    # The determinant is sum_w³ times the weighted variance of (u, v): zero only if all points coincide.
    safe_w = np.where(sum_w > 0, sum_w, 1.0)
    variance = normal[:, 2, 2] / safe_w - (sum_wu / safe_w) ** 2 - (sum_wv / safe_w) ** 2
    solvable = solvable & (sum_w > 0) & (variance > 1e-12)
    pelvis = np.full((n_frames, 3), np.nan)
    pelvis[solvable] = np.linalg.solve(normal[solvable], rhs[solvable][..., None])[..., 0]

    depth_sigma_m = np.full(n_frames, np.nan)
    t = pelvis[solvable]
    residual_x = t[:, None, 0] - u[solvable] * t[:, None, 2] - b_x[solvable]
    residual_y = t[:, None, 1] - v[solvable] * t[:, None, 2] - b_y[solvable]
    weighted_sum = (w[solvable] * (residual_x**2 + residual_y**2)).sum(axis=1)
    dof = np.maximum(2 * (w[solvable] > 0).sum(axis=1) - 3, 1)
    inverse_zz = np.linalg.inv(normal[solvable])[:, 2, 2]
    depth_sigma_m[solvable] = np.sqrt(weighted_sum / dof * inverse_zz)

    rms_px = np.full(n_frames, np.nan)
    for frame in np.flatnonzero(solvable):
        used = weights[frame] > 0
        reprojected = camera.project(body_m[frame, used] + pelvis[frame])
        rms_px[frame] = math.sqrt(float(np.mean(np.sum((reprojected - observed_px[frame, used]) ** 2, axis=1))))
    return FrameSolves(pelvis, rms_px, depth_sigma_m, normalised)


def translations_at_depth(
    body_m: NDArray[np.float64],
    normalised: NDArray[np.float64],
    weights: NDArray[np.float64],
    depth_m: NDArray[np.float64],
) -> NDArray[np.float64]:
    """(T, 3) translations whose depth is ``depth_m`` and whose x, y solve the same least squares, m.

    With ``t_z`` fixed the normal equations decouple: ``t_x`` is the weighted mean of ``u_i (Z_i + t_z) - X_i``
    and ``t_y`` that of ``v_i (Z_i + t_z) - Y_i``. NaN where no landmark is used or the depth is unknown.
    """
    u, v = np.nan_to_num(normalised[..., 0]), np.nan_to_num(normalised[..., 1])
    x, y, z = (np.nan_to_num(body_m[..., k]) for k in range(3))
    sum_w = weights.sum(axis=1)
    safe_w = np.where(sum_w > 0, sum_w, 1.0)
    depth_col = depth_m[:, None]
    t_x = (weights * (u * (z + depth_col) - x)).sum(axis=1) / safe_w
    t_y = (weights * (v * (z + depth_col) - y)).sum(axis=1) / safe_w
    pelvis = np.column_stack([t_x, t_y, depth_m])
    pelvis[sum_w <= 0] = np.nan
    return pelvis


def visible_extent_px(observed_px: NDArray[np.float64], used: NDArray[np.bool_]) -> NDArray[np.float64]:
    """(T,) diagonal of the box around the used landmarks, pixels (NaN where none is used)."""
    points = np.where(used[..., None], observed_px, np.nan)
    extent = np.full(used.shape[0], np.nan)
    has = used.any(axis=1)
    span = np.nanmax(points[has], axis=1) - np.nanmin(points[has], axis=1)
    extent[has] = np.hypot(span[:, 0], span[:, 1])
    return extent
