"""Dynamic stability: extrapolated centre of mass (XCoM), base of support (BoS) and margin of stability (MoS).

Method
------
Hof, Gazendam and Sinke (2005), *The condition for dynamic stability*, Journal of Biomechanics 38(1):1–8,
extend the static rule "the vertical projection of the COM lies within the base of support" to motion with
an inverted-pendulum model: the *extrapolated centre of mass* ``XCoM = x + v / ω0``, ``ω0 = sqrt(g / l)``
with ``l`` the leg length, must lie within the BoS, and the *margin of stability* is the minimum distance
from the XCoM to the BoS boundary. We apply it in the horizontal plane (perpendicular to ``up``):

- ``x`` and ``v`` are the whole-body COM (de Leva model, :func:`~spacecomputer.biomech.whole_body_com`) and
  its velocity (central differences on the real timestamps); only the horizontal part of ``v`` moves the
  XCoM, whose vertical component is the COM's.
- The BoS of a frame is the convex hull of the *heel*, *foot_index* and *ankle* landmarks of every foot
  known in contact there (:class:`~spacecomputer.biomech.FootContacts`), projected onto the horizontal plane.
  BlazePose has no landmark on the foot's lateral or medial border, so one foot's hull is a thin triangle or
  a segment (heel, ankle and toe nearly in line), and two feet give a quadrilateral. Degenerate hulls: all
  points in line → the segment between the two farthest apart; one distinct point → that point.
- The distances are *signed* distances to the BoS boundary in that plane: positive inside (the distance to
  the nearest edge), negative outside (minus the distance to the nearest point of the hull). A degenerate
  hull has no inside, so every point reads ≤ 0: in single support the COM is (almost) always "outside" a
  BoS of width zero. This 2-D signed distance is our generalisation of Hof's 1-D margin ``b``.
- Leg length, when not given: the median over frames and both sides of hip→knee + knee→ankle + ankle→heel
  landmark distances (our approximation of the hip joint's height above the sole, not Hof's measurement).

Conventions
-----------
Horizontal coordinates (:func:`horizontal_axes`): ``e1`` is the sequence-frame axis least aligned with
``up`` made perpendicular to it, ``e2 = up × e1``; ``(e1, e2, up)`` is right-handed, so polygon vertices,
listed counter-clockwise, turn counter-clockwise seen from above. For a z-up world frame ``(e1, e2) = (x, y)``;
for a camera frame with ``up = (0, −1, 0)`` they are ``(x, z)``. Distances are in metres.

Limitations: monocular depth is the noisiest direction of a video pose, and the BoS and COM depth both come
from it; the BoS omits the feet's width and any contact other than the feet (hands, knees); a foot whose
contact state is unknown is left out of the BoS, so the BoS can be too small there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spacecomputer.biomech._angles import _norm
from spacecomputer.biomech._body_model import BodyModel, whole_body_com
from spacecomputer.biomech._events import FEET, FootContacts, up_unit_vector
from spacecomputer.biomech._kinematics import linear_velocity_m_s
from spacecomputer.biomech._movement_metrics import STANDARD_GRAVITY_M_S2, MetricValue, _metric
from spacecomputer.domain import PoseSequence
from spacecomputer.errors import InvalidInputError, InvalidPoseDataError

__all__ = ["FOOT_POINTS", "StabilitySeries", "horizontal_axes", "stability", "stability_metrics"]

FOOT_POINTS = ("heel", "foot_index", "ankle")
"""BlazePose landmarks of each foot whose horizontal projections span the base of support."""
_ON_LINE_M = 1e-9
"""Points closer than this to a line count as on it (our own tolerance, far below landmark precision)."""


@dataclass(frozen=True, eq=False)
class StabilitySeries:
    """Centre of mass, extrapolated centre of mass and their distances to the base of support, per frame.

    Attributes
    ----------
    com_m
        (T, 3) whole-body COM in the sequence's frame, m; NaN where a segment is unknown.
    xcom_m
        (T, 3) extrapolated COM ``x + v_h / ω0`` (Hof et al. 2005), m; only the horizontal components moved.
    omega0_rad_s
        ``sqrt(g / l)``, rad/s; NaN when the leg length is unknown.
    leg_length_m
        ``l`` used, m (NaN if it could not be estimated); how it was obtained is in ``note``.
    com_to_bos_m
        (T,) signed horizontal distance from the COM's projection to the BoS boundary, m: positive inside,
        NaN where no foot is known in contact (or the COM is unknown).
    margin_of_stability_m
        (T,) the same for the XCoM (Hof's margin of stability), m; NaN outside stance.
    base_of_support
        Per frame, the (k, 2) BoS polygon in the coordinates of :func:`horizontal_axes` (counter-clockwise,
        k = 1 or 2 for a degenerate hull), or ``None`` when no foot is known in contact.
    note
        How the leg length was obtained, and which foot landmarks span the BoS.

    """

    com_m: NDArray[np.float64]
    xcom_m: NDArray[np.float64]
    omega0_rad_s: float
    leg_length_m: float
    com_to_bos_m: NDArray[np.float64]
    margin_of_stability_m: NDArray[np.float64]
    base_of_support: tuple[NDArray[np.float64] | None, ...]
    note: str


def horizontal_axes(up: ArrayLike) -> NDArray[np.float64]:
    """Return the (2, 3) orthonormal axes ``(e1, e2)`` of the horizontal plane (see the module docstring).

    Examples
    --------
    >>> horizontal_axes([0.0, 0.0, 1.0])
    array([[1., 0., 0.],
           [0., 1., 0.]])

    """
    up_unit = up_unit_vector(up)
    axis = np.eye(3)[int(np.argmin(np.abs(up_unit)))]
    e1 = axis - (axis @ up_unit) * up_unit
    e1 /= np.linalg.norm(e1)
    return np.stack([e1, np.cross(up_unit, e1)])


def stability(
    sequence: PoseSequence,
    model: BodyModel,
    contacts: FootContacts,
    *,
    up: ArrayLike,
    leg_length_m: float | None = None,
    gravity_m_s2: float = STANDARD_GRAVITY_M_S2,
) -> StabilitySeries:
    """Compute the COM, XCoM, base of support and their signed distances, frame by frame.

    Parameters
    ----------
    sequence
        Metric pose sequence on the BlazePose skeleton.
    model
        Segment model for the whole-body COM.
    contacts
        Foot contacts of the same sequence (:func:`~spacecomputer.biomech.detect_foot_contacts`).
    up
        Unit 3-vector pointing up in the sequence's frame.
    leg_length_m
        Pendulum length ``l``, m; estimated from the landmarks when omitted (module docstring).
    gravity_m_s2
        ``g``, m/s².

    Raises
    ------
    InvalidInputError
        ``up`` not a unit vector, a non-positive leg length or gravity, contacts of another length.
    InvalidPoseDataError
        The sequence is not metric or lacks a landmark.

    """
    up_unit = up_unit_vector(up)
    for value, name in ((gravity_m_s2, "gravity_m_s2"), (leg_length_m, "leg_length_m")):
        if value is not None and not (math.isfinite(value) and value > 0):
            raise InvalidInputError(f"{name} must be a positive finite number; got {value!r}", details={name: value})
    n = sequence.n_frames
    if contacts.in_contact.shape != (n, 2) or contacts.known.shape != (n, 2):
        raise InvalidInputError(
            f"contacts must belong to this sequence ({n} frames); got {contacts.in_contact.shape[0]} frames",
            details={"n_frames": n, "contacts_frames": int(contacts.in_contact.shape[0])},
        )
    if leg_length_m is None:
        length_m = _leg_length_from_landmarks(sequence)
        how = (
            "median over frames and sides of hip→knee + knee→ankle + ankle→heel landmark distances (our approximation)"
        )
    else:
        length_m, how = float(leg_length_m), "given by the caller"
    omega0 = math.sqrt(gravity_m_s2 / length_m) if math.isfinite(length_m) else math.nan
    axes = horizontal_axes(up_unit)
    com = whole_body_com(sequence, model)
    velocity = linear_velocity_m_s(com, sequence.timestamps_s)
    horizontal_velocity = velocity - np.outer(velocity @ up_unit, up_unit)
    xcom = com + horizontal_velocity / omega0
    hull = _Hull.of(*_foot_points(sequence, contacts, axes))
    com_to_bos = hull.signed_distance_m(com @ axes.T)
    margin = hull.signed_distance_m(xcom @ axes.T)
    note = (
        f"leg length {length_m:.3f} m: {how}; base of support: convex hull of the "
        f"{', '.join(FOOT_POINTS)} landmarks of every foot known in contact, in the horizontal plane"
    )
    arrays = (com, xcom, com_to_bos, margin)
    for array in arrays:
        array.setflags(write=False)
    return StabilitySeries(
        com_m=com,
        xcom_m=xcom,
        omega0_rad_s=omega0,
        leg_length_m=length_m,
        com_to_bos_m=com_to_bos,
        margin_of_stability_m=margin,
        base_of_support=hull.polygons(),
        note=note,
    )


def stability_metrics(series: StabilitySeries, contacts: FootContacts) -> list[MetricValue]:
    """Summarise the margin of stability over the stance frames (a foot known in contact).

    Returns ``margin_of_stability_min_m`` and ``margin_of_stability_min_time_s`` (its time), ``margin_of_stability_
    mean_m`` and ``com_over_base_of_support_percent`` (share of stance frames with ``com_to_bos_m ≥ 0``), each
    unavailable with the reason when there is no stance or nothing is known in it.

    Raises
    ------
    InvalidInputError
        If ``contacts`` has another number of frames than ``series``.

    """
    n = series.margin_of_stability_m.shape[0]
    if contacts.in_contact.shape != (n, 2):
        raise InvalidInputError(
            f"contacts must cover the series' {n} frames; got {contacts.in_contact.shape[0]}",
            details={"n_frames": n, "contacts_frames": int(contacts.in_contact.shape[0])},
        )
    stance = (contacts.in_contact & contacts.known).any(axis=1)
    margin = np.where(stance, series.margin_of_stability_m, np.nan)
    com = np.where(stance, series.com_to_bos_m, np.nan)
    if not stance.any():
        margin_why = com_why = contacts.unavailable_reason or "no frame has a foot known in contact (no stance)"
    else:
        margin_why = "the margin of stability is unknown in every stance frame (COM, leg length or foot landmarks)"
        com_why = "the COM is unknown in every stance frame"
    known = np.isfinite(margin)
    lowest = int(np.argmin(np.where(known, margin, np.inf))) if known.any() else None
    com_known = np.isfinite(com)
    share = 100.0 * float(np.mean(com[com_known] >= 0.0)) if com_known.any() else None
    return [
        _metric("margin_of_stability_min_m", "m", "smallest signed XCoM–BoS distance in stance (positive inside)",
                None if lowest is None else float(margin[lowest]), margin_why),
        _metric("margin_of_stability_min_time_s", "s", "time of the smallest margin of stability",
                None if lowest is None else float(contacts.timestamps_s[lowest]), margin_why),
        _metric("margin_of_stability_mean_m", "m", "mean signed XCoM–BoS distance over stance frames",
                float(margin[known].mean()) if known.any() else None, margin_why),
        _metric("com_over_base_of_support_percent", "%", "share of stance frames with the COM's projection in the BoS",
                share, com_why),
    ]  # fmt: skip


# --- internals --------------------------------------------------------------------------------------------------


def _joint(sequence: PoseSequence, name: str) -> NDArray[np.float64]:
    sequence.require_metric("stability measures")
    try:
        return np.asarray(sequence.joint(name), dtype=np.float64)
    except KeyError:
        raise InvalidPoseDataError(
            f"stability needs the BlazePose landmark {name!r}; skeleton {sequence.skeleton.name!r} lacks it",
            details={"skeleton": sequence.skeleton.name, "missing": name},
        ) from None


def _leg_length_from_landmarks(sequence: PoseSequence) -> float:
    lengths = []
    for side in FEET:
        hip, knee, ankle, heel = (_joint(sequence, f"{side}_{part}") for part in ("hip", "knee", "ankle", "heel"))
        lengths.append(_norm(knee - hip) + _norm(ankle - knee) + _norm(heel - ankle))
    pooled = np.concatenate(lengths)
    finite = pooled[np.isfinite(pooled)]
    return float(np.median(finite)) if finite.size else math.nan


def _foot_points(
    sequence: PoseSequence, contacts: FootContacts, axes: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """(T, 2·3, 2) horizontal foot points and (T, 6) mask of those of a foot known in contact and seen."""
    touching = contacts.in_contact & contacts.known
    points, valid = [], []
    for column, foot in enumerate(FEET):
        for part in FOOT_POINTS:
            point = _joint(sequence, f"{foot}_{part}") @ axes.T
            points.append(point)
            valid.append(touching[:, column] & np.isfinite(point).all(axis=1))
    return np.stack(points, axis=1), np.stack(valid, axis=1)


@dataclass(frozen=True, eq=False)
class _Hull:
    """Convex hulls of up to K points per frame, found without a per-frame loop.

    Every pair of points defines a line; it carries a hull *edge* when the other points lie on one side of it
    with at least one strictly off it. Inside a non-degenerate hull the distance to the boundary is the smallest
    distance to an edge line; outside, it is the distance to the nearest pair segment or point (the nearest
    hull point lies on an edge, and every pair segment lies in the hull). Components are kept apart (x, y), and
    the K points are visited one by one, because plain arithmetic on (T, P) arrays is several times faster than
    ``einsum`` or reductions over a short axis at these sizes.
    """

    x: NDArray[np.float64]  # (T, K) point coordinates, zero where not valid
    y: NDArray[np.float64]
    valid: NDArray[np.bool_]  # (T, K)
    first: NDArray[np.intp]  # (P,) indices of each pair's two points
    second: NDArray[np.intp]
    pair_ok: NDArray[np.bool_]  # (T, P): both valid and distinct
    edge: NDArray[np.bool_]  # (T, P): the pair's line carries a hull edge
    normal_x: NDArray[np.float64]  # (T, P) unit normal of the pair's line, pointing into the hull on edges
    normal_y: NDArray[np.float64]
    dx: NDArray[np.float64]  # (T, P) second minus first point
    dy: NDArray[np.float64]
    length: NDArray[np.float64]  # (T, P) hypot(dx, dy)

    @classmethod
    def of(cls, points: NDArray[np.float64], valid: NDArray[np.bool_]) -> _Hull:
        x, y = (np.where(valid, points[..., c], 0.0) for c in (0, 1))
        first, second = np.triu_indices(points.shape[1], k=1)
        ax, ay, dx, dy = x[:, first], y[:, first], x[:, second] - x[:, first], y[:, second] - y[:, first]
        length = np.hypot(dx, dy)
        pair_ok = valid[:, first] & valid[:, second] & (length > _ON_LINE_M)
        scale = np.where(pair_ok, length, 1.0)
        nx, ny = -dy / scale, dx / scale
        # A point that is not valid takes the place of one that is (the frame's first): it adds no new side.
        stand_in = np.argmax(valid, axis=1)
        rows = np.arange(x.shape[0])
        highest, lowest = np.full(ax.shape, -np.inf), np.full(ax.shape, np.inf)
        for k in range(points.shape[1]):
            px = np.where(valid[:, k], x[:, k], x[rows, stand_in])[:, None]
            py = np.where(valid[:, k], y[:, k], y[rows, stand_in])[:, None]
            side = (px - ax) * nx + (py - ay) * ny
            np.maximum(highest, side, out=highest)
            np.minimum(lowest, side, out=lowest)
        above, below = highest > _ON_LINE_M, lowest < -_ON_LINE_M
        sign = np.where(above, 1.0, -1.0)
        edge = pair_ok & (above ^ below)
        return cls(x, y, valid, first, second, pair_ok, edge, nx * sign, ny * sign, dx, dy, length)

    def signed_distance_m(self, query: NDArray[np.float64]) -> NDArray[np.float64]:
        """(T,) signed distance of the (T, 2) query points to each frame's hull boundary, positive inside."""
        known = np.isfinite(query).all(axis=1)
        qx, qy = (np.where(known, query[:, c], 0.0)[:, None] for c in (0, 1))
        ax, ay = self.x[:, self.first], self.y[:, self.first]
        dx, dy = self.dx, self.dy
        rx, ry = qx - ax, qy - ay
        inside_m = np.min(np.where(self.edge, rx * self.normal_x + ry * self.normal_y, np.inf), axis=1)
        inside = self.edge.any(axis=1) & (inside_m >= 0.0)
        squared = np.where(self.pair_ok, dx * dx + dy * dy, 1.0)
        along = np.clip((rx * dx + ry * dy) / squared, 0.0, 1.0)
        to_segment = np.hypot(rx - along * dx, ry - along * dy)
        to_point = np.hypot(qx - self.x, qy - self.y)
        outside_m = np.minimum(
            np.min(np.where(self.pair_ok, to_segment, np.inf), axis=1),
            np.min(np.where(self.valid, to_point, np.inf), axis=1),
        )
        signed = np.where(inside, inside_m, -outside_m)
        signed[~(self.valid.any(axis=1) & known)] = np.nan
        return np.asarray(signed, dtype=np.float64)

    def polygons(self) -> tuple[NDArray[np.float64] | None, ...]:
        """Per frame the hull's vertices counter-clockwise (k ≥ 3), its two extreme points, one point, or None."""
        n_points = self.valid.shape[1]
        # A vertex meets two edges of different directions; a point inside an edge meets only collinear ones.
        incident = np.array([np.flatnonzero((self.first == k) | (self.second == k)) for k in range(n_points)])
        on_edge = self.edge[:, incident]  # (T, K, K - 1)
        nx, ny = self.normal_x[:, incident], self.normal_y[:, incident]
        reference = np.argmax(on_edge, axis=2)[..., None]
        rx, ry = np.take_along_axis(nx, reference, axis=2), np.take_along_axis(ny, reference, axis=2)
        turns = on_edge & (np.abs(rx * ny - ry * nx) > _ON_LINE_M)
        vertex = turns[:, :, 0].copy()
        for j in range(1, turns.shape[2]):  # any over the short last axis, written out (several times faster)
            vertex |= turns[:, :, j]
        count = vertex.sum(axis=1)
        cx = np.sum(np.where(vertex, self.x, 0.0), axis=1) / np.maximum(count, 1)
        cy = np.sum(np.where(vertex, self.y, 0.0), axis=1) / np.maximum(count, 1)
        angle = np.where(vertex, np.arctan2(self.y - cy[:, None], self.x - cx[:, None]), np.inf)
        order = np.argsort(angle, axis=1)
        ordered = np.stack([np.take_along_axis(c, order, axis=1) for c in (self.x, self.y)], axis=2)
        # Degenerate frames: the two points farthest apart, or the first point seen.
        spread = np.where(self.pair_ok, self.length, -1.0)
        widest = np.argmax(spread, axis=1)
        rows = np.flatnonzero((count == 0) & self.pair_ok.any(axis=1))
        for slot, ends in enumerate((self.first, self.second)):
            ordered[rows, slot] = np.stack([self.x, self.y], axis=2)[rows, ends[widest[rows]]]
        count[rows] = 2
        rows = np.flatnonzero((count == 0) & self.valid.any(axis=1))
        ordered[rows, 0] = np.stack([self.x, self.y], axis=2)[rows, np.argmax(self.valid[rows], axis=1)]
        count[rows] = 1
        ordered.setflags(write=False)
        return tuple(ordered[t, :k] if k else None for t, k in enumerate(count.tolist()))
