"""Quasi-static analysis of skeleton poses: centre of mass, static balance, ground reaction and joint moments.

Everything is computed for poses held still (all accelerations zero), vectorised over a batch of poses, in the
pose frame with gravity ``−g · up``; SI units. It reuses the engine's definitions and conventions:

- *Centre of mass*: de Leva's segments of the :class:`~spacecomputer.biomech.BodyModel` placed on the skeleton's
  points exactly as the engine places them on landmarks (:mod:`spacecomputer.biomech._body_model`); the head
  vertex is the skeleton's (the engine's estimate). The whole-body COM is a fixed linear map of the points.
- *Contact* (our own rule, the height criterion of the engine's
  :func:`~spacecomputer.biomech.detect_foot_contacts` without its speed criterion, which a still pose cannot
  have): a foot touches the ground when its heel or toe is less than ``contact_height_m`` (default 0.06 m, the
  engine's) above the ground level.
- *Static balance*: the signed horizontal distance from the COM's ground projection to the base of support, the
  convex hull of the heel, toe and ankle of the feet in contact (:mod:`spacecomputer.biomech._stability`'s hull:
  positive inside; one foot's hull has no width, so single support always reads ≤ 0).
- *Ground reaction*: the body weight ``m g`` straight up, shared between the feet in contact by the engine's lever
  rule through the COM's projection, at the engine's centre of pressure on each heel–toe line
  (:mod:`spacecomputer.biomech._ground_reaction`); zero for a foot off the ground.
- *Joint moments*: the engine's Newton–Euler recursion (:func:`~spacecomputer.biomech.inverse_dynamics`) with
  zero accelerations: legs bottom-up from the ground reaction (ankle, knee, hip), arms top-down from the hand
  (wrist, elbow, shoulder), each segment loaded by its weight. Flexion moments about the engine's axes, with its
  signs: hip, knee extensor and ankle plantarflexor positive (Winter's), shoulder and elbow flexor positive.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spacecomputer.biomech._angles_geometry import _perpendicular_unit
from spacecomputer.biomech._body_model import BodyModel, EndPoint
from spacecomputer.biomech._events import FEET
from spacecomputer.biomech._ground_reaction import COP_TILT_BAND_M, check_gravity
from spacecomputer.biomech._kinetics import _CHAIN, JOINTS, leg_plane_axis
from spacecomputer.biomech._movement_metrics import STANDARD_GRAVITY_M_S2
from spacecomputer.biomech._stability import FOOT_POINTS, _Hull, horizontal_axes
from spacecomputer.biomech.solver._dofs import JOINT_INDEX
from spacecomputer.biomech.solver._geometry import cross, dot
from spacecomputer.biomech.solver._skeleton import SkeletonModel
from spacecomputer.errors import InvalidInputError

__all__ = ["CONTACT_HEIGHT_M", "MOMENT_MEANINGS", "QuasiStatics", "StaticAnalysis"]

CONTACT_HEIGHT_M = 0.06
"""Default height of the heel or toe above the ground below which a foot is in contact, m (the engine's)."""
_OPPOSITE = {"plantarflexor": "dorsiflexor", "extensor": "flexor", "flexor": "extensor"}
MOMENT_MEANINGS: Mapping[str, tuple[str, str]] = {
    f"{side}_{joint}": (meaning.split(" (")[0], _OPPOSITE.get(meaning, "backward/down turning"))
    for side in FEET
    for joint, _, _, _, _, meaning in (*_CHAIN["leg"], *_CHAIN["arm"])
}
"""Joint → (what a positive flexion moment is, what a negative one is), from the engine's conventions."""
_TINY_M = 1e-9


@dataclass(frozen=True, eq=False)
class StaticAnalysis:
    """Quasi-static state of a batch of N poses (method in the module docstring).

    Attributes
    ----------
    com_m
        (N, 3) whole-body centre of mass, m.
    foot_clearance_m
        (N, 2) height of each foot's lower point (heel or toe) above the ground, m; negative = below it.
    in_contact
        (N, 2) bool, feet in :data:`~spacecomputer.biomech._events.FEET` order.
    com_to_bos_m
        (N,) signed horizontal distance from the COM's projection to the base of support, m: positive inside;
        NaN with no foot in contact.
    balanced
        (N,) the COM's projection lies inside the base of support (``com_to_bos_m ≥ 0``).
    ground_reaction_n
        (N, 2, 3) force of the ground on each foot, N.
    centre_of_pressure_m
        (N, 2, 3) point of application per foot, m; NaN for a foot not in contact.
    flexion_moment_n_m
        Joint (:data:`~spacecomputer.biomech.JOINTS`) → (N,) quasi-static flexion moment, N·m (signs:
        :data:`MOMENT_MEANINGS`).
    moment_n_m_per_kg
        The same divided by body mass, N·m/kg.
    weight_n
        Body weight ``m g``, N.
    hull
        The base-of-support hulls (:attr:`base_of_support` gives their polygons).

    """

    com_m: NDArray[np.float64]
    foot_clearance_m: NDArray[np.float64]
    in_contact: NDArray[np.bool_]
    com_to_bos_m: NDArray[np.float64]
    balanced: NDArray[np.bool_]
    ground_reaction_n: NDArray[np.float64]
    centre_of_pressure_m: NDArray[np.float64]
    flexion_moment_n_m: Mapping[str, NDArray[np.float64]]
    moment_n_m_per_kg: Mapping[str, NDArray[np.float64]]
    weight_n: float
    hull: _Hull = field(repr=False)

    @cached_property
    def base_of_support(self) -> tuple[NDArray[np.float64] | None, ...]:
        """Return the base of support of each pose as a polygon, or ``None`` with no foot in contact.

        (k, 2) vertices in the coordinates of ``horizontal_axes``, counter-clockwise; k = 1 or 2 when degenerate.
        """
        return self.hull.polygons()


def _point_of(end: EndPoint) -> str:
    """Return the skeleton point standing for one of de Leva's end points (as the engine's landmark means)."""
    names = set(end.landmarks)
    if end.estimate == "head_vertex":
        return "head_vertex"
    if len(names) == 1:
        return end.landmarks[0]
    for point, pair in (("mid_shoulder", "shoulder"), ("mid_hip", "hip")):
        if names == {f"left_{pair}", f"right_{pair}"}:
            return point
    side = end.landmarks[0].split("_", 1)[0]
    if names == {f"{side}_index", f"{side}_pinky"}:
        return f"{side}_hand"
    raise InvalidInputError(f"the skeleton has no point for de Leva's {end.de_leva_landmark} ({end.landmarks})")


class QuasiStatics:
    """Quasi-static analysis of poses of one skeleton and body model (see the module docstring).

    Parameters
    ----------
    skeleton
        The subject's skeleton (its ``up`` and points).
    body
        De Leva body model (mass and segment parameters).
    ground_level_m
        Height of the ground along ``up``, m (``point · up`` of a point on it).
    gravity_m_s2
        Magnitude of gravity, m/s².
    contact_height_m
        A foot whose heel or toe is less than this above the ground is in contact, m.

    """

    def __init__(
        self,
        skeleton: SkeletonModel,
        body: BodyModel,
        *,
        ground_level_m: float,
        gravity_m_s2: float = STANDARD_GRAVITY_M_S2,
        contact_height_m: float = CONTACT_HEIGHT_M,
    ) -> None:
        if not (np.isfinite(ground_level_m) and np.isfinite(contact_height_m) and contact_height_m >= 0):
            raise InvalidInputError(
                f"ground_level_m must be finite and contact_height_m finite ≥ 0; got {ground_level_m!r}, "
                f"{contact_height_m!r}"
            )
        self.skeleton, self.body = skeleton, body
        self.ground_level_m, self.contact_height_m = float(ground_level_m), float(contact_height_m)
        self.gravity_m_s2 = check_gravity(gravity_m_s2)
        self.up = skeleton.up
        self.weight_n = body.mass_kg * self.gravity_m_s2
        self._axes = horizontal_axes(self.up)
        segment_map = np.zeros((len(body.segments), len(JOINT_INDEX)))
        for row, segment in enumerate(body.segments):
            segment_map[row, JOINT_INDEX[_point_of(segment.proximal)]] += 1.0 - segment.com_fraction
            segment_map[row, JOINT_INDEX[_point_of(segment.distal)]] += segment.com_fraction
        fractions = np.array([s.mass_fraction for s in body.segments])
        self._segment_map = segment_map
        self._segment_row = {s.name: row for row, s in enumerate(body.segments)}
        self._segment_weight = {
            s.name: s.mass_fraction * body.mass_kg * self.gravity_m_s2 * self.up for s in body.segments
        }
        self._com_map = fractions @ segment_map / fractions.sum()
        self._foot_rows = [JOINT_INDEX[f"{foot}_{part}"] for foot in FEET for part in FOOT_POINTS]

    def com_m(self, points: NDArray[np.float64]) -> NDArray[np.float64]:
        """(N, 3) whole-body COM of (N, P, 3) points, m."""
        return np.asarray(np.einsum("p,npi->ni", self._com_map, points), dtype=np.float64)

    def analyse_q(self, q: ArrayLike) -> StaticAnalysis:
        """:meth:`analyse` the poses of coordinates ``q``, (D,) or (N, D)."""
        return self.analyse(self.skeleton._points(self.skeleton.coordinates(q)))

    def analyse(self, points: ArrayLike) -> StaticAnalysis:
        """Analyse (P, 3) or (N, P, 3) skeleton points (:data:`~spacecomputer.biomech.solver.JOINT_NAMES` order).

        Raises
        ------
        InvalidInputError
            Points of another shape, or not finite.

        """
        pts = np.asarray(points, dtype=np.float64)
        if pts.shape[-2:] != (len(JOINT_INDEX), 3) or pts.ndim not in (2, 3) or not np.isfinite(pts).all():
            raise InvalidInputError(
                f"points must be finite, of shape ({len(JOINT_INDEX)}, 3) or (N, {len(JOINT_INDEX)}, 3)"
            )
        pts = pts.reshape(-1, len(JOINT_INDEX), 3)
        up = self.up
        com = self.com_m(pts)
        heights = pts @ up - self.ground_level_m
        clearance = np.stack(
            [
                np.minimum(heights[:, JOINT_INDEX[f"{f}_heel"]], heights[:, JOINT_INDEX[f"{f}_foot_index"]])
                for f in FEET
            ],
            axis=1,
        )
        in_contact = clearance <= self.contact_height_m
        feet = pts[:, self._foot_rows] @ self._axes.T
        valid = np.repeat(in_contact, len(FOOT_POINTS), axis=1)
        hull = _Hull.of(feet, valid)
        com_to_bos = hull.signed_distance_m(com @ self._axes.T)
        cop = np.stack([self._centre_of_pressure(pts, com, foot) for foot in FEET], axis=1)
        grf = self._ground_reaction(com, cop, in_contact)
        cop[~in_contact] = np.nan
        moments = self._moments(pts, grf, cop, in_contact)
        return StaticAnalysis(
            com_m=com,
            foot_clearance_m=clearance,
            in_contact=in_contact,
            com_to_bos_m=com_to_bos,
            balanced=np.asarray(com_to_bos >= 0.0, dtype=np.bool_),
            ground_reaction_n=grf,
            centre_of_pressure_m=cop,
            flexion_moment_n_m=moments,
            moment_n_m_per_kg={joint: value / self.body.mass_kg for joint, value in moments.items()},
            weight_n=self.weight_n,
            hull=hull,
        )

    def _horizontal(self, v: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(v - (v @ self.up)[..., None] * self.up, dtype=np.float64)

    def _centre_of_pressure(self, pts: NDArray[np.float64], com: NDArray[np.float64], foot: str) -> NDArray[np.float64]:
        """Apply the engine's rule (``_ground_reaction._centre_of_pressure``) on skeleton points, (N, 3)."""
        heel, toe = pts[:, JOINT_INDEX[f"{foot}_heel"]], pts[:, JOINT_INDEX[f"{foot}_foot_index"]]
        length = self._horizontal(toe - heel)
        length_sq = dot(length, length)
        with np.errstate(invalid="ignore", divide="ignore"):
            along = dot(self._horizontal(com - heel), length) / length_sq
        s_flat = np.where(length_sq > 1e-12, np.clip(along, 0.0, 1.0), 0.5)
        tilt = np.clip(((heel - toe) @ self.up) / COP_TILT_BAND_M, -1.0, 1.0)
        s = np.where(tilt > 0, s_flat + tilt * (1.0 - s_flat), s_flat * (1.0 + tilt))
        return np.asarray(heel + s[:, None] * (toe - heel), dtype=np.float64)

    def _ground_reaction(
        self, com: NDArray[np.float64], cop: NDArray[np.float64], in_contact: NDArray[np.bool_]
    ) -> NDArray[np.float64]:
        """(N, 2, 3) body weight shared by the lever rule between the feet in contact (the engine's rule)."""
        offsets = self._horizontal(cop - com[:, None, :])
        distance = np.sqrt((offsets * offsets).sum(axis=2))
        total = distance.sum(axis=1, keepdims=True)
        lever = np.where(total > _TINY_M, distance[:, ::-1] / np.where(total > _TINY_M, total, 1.0), 0.5)
        both = np.asarray(in_contact.all(axis=1), dtype=np.bool_)
        share = np.where(both[:, None], lever, in_contact.astype(np.float64))
        return np.asarray(share[:, :, None] * (self.weight_n * self.up), dtype=np.float64)

    def _moments(
        self,
        pts: NDArray[np.float64],
        grf: NDArray[np.float64],
        cop: NDArray[np.float64],
        in_contact: NDArray[np.bool_],
    ) -> dict[str, NDArray[np.float64]]:
        n = pts.shape[0]
        segment_com = np.einsum("sp,npi->sni", self._segment_map, pts)
        zero = np.zeros((n, 3))
        out = {}
        for side_index, side in enumerate(FEET):
            lines = {
                part: pts[:, JOINT_INDEX[f"right_{part}"]] - pts[:, JOINT_INDEX[f"left_{part}"]]
                for part in ("hip", "shoulder")
            }
            for limb, chain in _CHAIN.items():
                if limb == "leg":
                    ground = grf[:, side_index]
                    arm = np.where(in_contact[:, side_index, None], cop[:, side_index], 0.0)
                    external_moment = cross(arm, ground)
                else:
                    ground, external_moment = zero, zero
                carried, carried_moment = zero, zero
                for joint, distal, proximal, source, sign, _ in chain:
                    segment = f"{side}_{distal}"
                    weight = self._segment_weight[segment][None]
                    force = weight - ground + carried
                    about_origin = (
                        cross(segment_com[self._segment_row[segment]], weight) - external_moment + carried_moment
                    )
                    moment = about_origin - cross(pts[:, JOINT_INDEX[f"{side}_{joint}"]], force)
                    out[f"{side}_{joint}"] = sign * dot(moment, self._flexion_axis(pts, lines, side, source, proximal))
                    ground, external_moment = zero, zero
                    carried, carried_moment = force, about_origin
        return {joint: out[joint] for joint in JOINTS}

    def _flexion_axis(
        self, pts: NDArray[np.float64], lines: Mapping[str, NDArray[np.float64]], side: str, source: str, segment: str
    ) -> NDArray[np.float64]:
        """Return the engine's flexion axis (``_kinetics``).

        A left → right line, or the leg plane's normal with a limb's mediolateral axis (``_segment_motion``) where
        that is ill-conditioned.
        """
        if source.endswith("_line"):
            line = lines[source.removesuffix("_line")]
            return np.asarray(line / np.sqrt(dot(line, line))[:, None], dtype=np.float64)
        proximal, distal = {
            "thigh": ("hip", "knee"),
            "shank": ("knee", "ankle"),
            "upper_arm": ("shoulder", "elbow"),
            "forearm": ("elbow", "wrist"),
        }[segment if source == "leg_plane" else source]
        long_axis = pts[:, JOINT_INDEX[f"{side}_{distal}"]] - pts[:, JOINT_INDEX[f"{side}_{proximal}"]]
        long_axis = long_axis / np.sqrt(dot(long_axis, long_axis))[:, None]
        reference = lines["hip" if segment in ("thigh", "shank") else "shoulder"]
        mediolateral = np.asarray(_perpendicular_unit(reference, long_axis), dtype=np.float64)
        if source != "leg_plane":
            return mediolateral
        plane = leg_plane_axis(
            *(pts[:, JOINT_INDEX[f"{side}_{name}"]] for name in ("knee", "ankle", "heel", "foot_index"))
        )
        return np.asarray(
            np.where(np.isfinite(plane).all(axis=1, keepdims=True), plane, mediolateral), dtype=np.float64
        )
