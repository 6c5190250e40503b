"""The MJCF text of the subject's MuJoCo humanoid, from the skeleton and the de Leva body model.

:func:`humanoid_mjcf` writes a model whose kinematic tree reproduces
:class:`~spacecomputer.biomech.solver.SkeletonModel` exactly: the same segment lengths, one MuJoCo hinge per
angular coordinate of ``q`` (named as the coordinate, with its joint limits as ``range``) and a free root joint
``root``, so that the same coordinates put every joint centre (a site named as the skeleton's point) where
:meth:`SkeletonModel.points` does. :mod:`spacecomputer.biomech.solver._mujoco_model` compiles it.

Frames and joints
-----------------
MuJoCo's world frame *is* the pose frame: gravity is ``−g · up`` and the ground plane's normal is ``up``, at
``ground_level_m`` along it. Every body's local axes are (anterior, superior = towards the proximal end, right),
the skeleton's frames; the foot's are (heel → toe, sole → instep, right). Each ball joint of the skeleton is
three hinges in Z-X-Y order (flexion about the right axis, then ab/adduction about the turned anterior axis,
then rotation about the long axis: MuJoCo composes the joints of a body in order, each about the axes left by
the previous one), with the signs folded into the hinge axes so that the hinge angle *is* our coordinate. The
neck hinges carry the subject's neutral head carriage as their ``ref``. ``shoulder_line_tilt`` turns a
shoulder girdle that carries both shoulders; each upper arm turns back by the same angle through a hinge tied
to it by an equality constraint (``{side}_girdle_return``), since the skeleton keeps the arms in the thorax
frame whatever the tilt.

Mass
----
De Leva's segments (:class:`~spacecomputer.biomech.BodyModel`) on the bodies that carry them: head, trunk
(mid-hip → mid-shoulder, turning with the lumbar joints), thighs, shanks, feet, upper arms, and forearm with
hand in one body. Masses are normalised to sum to the body mass (``mass_fraction / Σ mass_fraction × mass``:
the engine's whole-body COM divides by the same sum); COMs on the segment lines as the engine places them;
principal inertias ``m (r L)²`` from de Leva's radii of gyration and the skeleton's lengths, about the
(anteroposterior, longitudinal, mediolateral) axes of each body (for the foot: sole → instep, heel → toe,
mediolateral, as :mod:`spacecomputer.biomech._segment_motion` reads them). MuJoCo refuses a moving body without
mass, so the pelvis and the shoulder girdle each carry :data:`CARRIER_MASS_KG` taken from the trunk at their
origins, points fixed in the trunk: the total mass and the COM are unchanged in every pose.

Our own choices (not measured values)
-------------------------------------
- Contact: only the ground plane collides with the body (no self-collision). Sliding friction
  :data:`FRICTION_COEFFICIENT` = 1.0, the engine's bound on the horizontal-to-vertical ground reaction
  (:data:`~spacecomputer.biomech.MAX_FRICTION_COEFFICIENT`), so that both share one friction limit; MuJoCo's
  default torsional and rolling friction and soft-contact parameters.
- Feet: boxes from the heel to the toe, their soles on the heel–toe line, as high as the ankle (at least
  :data:`MIN_FOOT_HEIGHT_M`) and :data:`FOOT_WIDTH_FRACTION` of the foot's length wide.
- The other collision shapes (:data:`COLLISION_RADII_M`) only tell which part touches the ground; they carry no
  mass. The shank's capsule stops one radius above the ankle.
- Every hinge has damping :data:`JOINT_DAMPING_N_M_S_PER_RAD` (standing for the passive tissues' viscosity) and
  armature :data:`JOINT_ARMATURE_KG_M2` (keeps the light segments' dynamics stable at :data:`TIMESTEP_S`).
- One position actuator per angular coordinate, named as it, with zero gain (the PD controller of
  :mod:`spacecomputer.biomech.solver._simulate` sets the gains); implicit-fast integration (actuator damping
  taken implicitly), time step :data:`TIMESTEP_S`.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike

from spacecomputer.biomech._body_model import BodyModel
from spacecomputer.biomech._ground_reaction import MAX_FRICTION_COEFFICIENT
from spacecomputer.biomech.solver._dofs import DOF_INDEX, DOF_NAMES, SIDES
from spacecomputer.biomech.solver._skeleton import SkeletonModel

__all__ = [
    "CARRIER_MASS_KG",
    "COLLISION_RADII_M",
    "FOOT_WIDTH_FRACTION",
    "FRICTION_COEFFICIENT",
    "HINGE_DOFS",
    "JOINT_ARMATURE_KG_M2",
    "JOINT_DAMPING_N_M_S_PER_RAD",
    "MIN_FOOT_HEIGHT_M",
    "TIMESTEP_S",
    "humanoid_mjcf",
]

FRICTION_COEFFICIENT = MAX_FRICTION_COEFFICIENT
"""Sliding friction of every contact with the ground (our choice: the engine's friction bound, 1.0)."""
FOOT_WIDTH_FRACTION = 0.38
"""Width of the foot box over its heel–toe length (our own round figure for a shod adult foot)."""
MIN_FOOT_HEIGHT_M = 0.02
"""Least height of the foot box, m (our own; the box is as high as the ankle when that is higher)."""
COLLISION_RADII_M: Mapping[str, float] = {
    "pelvis": 0.07,
    "trunk": 0.10,
    "head": 0.10,
    "thigh": 0.065,
    "shank": 0.045,
    "upper_arm": 0.04,
    "forearm": 0.035,
    "hand": 0.03,
}
"""Radii of the collision capsules (the pelvis's joins the hips, the trunk's the mid-hip and mid-shoulder) and of
the head's sphere, m: our own round figures; they carry no mass."""
JOINT_DAMPING_N_M_S_PER_RAD = 0.5
"""Viscous damping of every hinge, N·m·s/rad (our own round figure, not a measured tissue property)."""
JOINT_ARMATURE_KG_M2 = 0.005
"""Armature (rotor inertia) of every hinge, kg·m² (our own, for numerical stability of the light segments)."""
TIMESTEP_S = 0.002
"""Integration time step, s (MuJoCo's default)."""
CARRIER_MASS_KG = 1e-3
"""Mass the pelvis and the shoulder girdle each take from the trunk, kg (module docstring)."""
_CARRIER_INERTIA_KG_M2 = 1e-7
HINGE_DOFS: tuple[str, ...] = DOF_NAMES[6:]
"""The coordinates of ``q`` that are MuJoCo hinges (of the same name), in ``q`` order."""

_RIGHT = {"left": -1.0, "right": 1.0}


def _vec(values: ArrayLike) -> str:
    return " ".join(f"{float(v):.12g}" for v in np.asarray(values, dtype=np.float64).ravel())


class _Mjcf:
    """Writes the MJCF tree: bodies with their joints, inertial, sites and geoms."""

    def __init__(self, skeleton: SkeletonModel, body: BodyModel) -> None:
        self.d = skeleton.dimensions_m
        self.skeleton, self.body = skeleton, body
        lower, upper = skeleton.bounds()
        self.range = {name: (float(lower[DOF_INDEX[name]]), float(upper[DOF_INDEX[name]])) for name in HINGE_DOFS}
        total = sum(s.mass_fraction for s in body.segments)
        self.mass = {s.name: s.mass_fraction / total * body.mass_kg for s in body.segments}
        self.segment = {s.name: s for s in body.segments}

    def _inertia(self, name: str, length_m: float) -> tuple[float, float, float]:
        """(sagittal, longitudinal, transverse) principal moments of a segment, kg·m²."""
        s, m = self.segment[name], self.mass[name]
        radii = (s.gyration_sagittal_fraction, s.gyration_longitudinal_fraction, s.gyration_transverse_fraction)
        sagittal, longitudinal, transverse = (m * (r * length_m) ** 2 for r in radii)
        return sagittal, longitudinal, transverse

    @staticmethod
    def add_body(parent: ET.Element, name: str, pos: ArrayLike = (0.0, 0.0, 0.0)) -> ET.Element:
        return ET.SubElement(parent, "body", name=name, pos=_vec(pos))

    def hinge(self, body: ET.Element, name: str, axis: ArrayLike, ref: float = 0.0) -> None:
        attributes = {"name": name, "type": "hinge", "axis": _vec(axis), "ref": f"{ref:.12g}"}
        if name in self.range:
            lower, upper = self.range[name]
            attributes |= {"limited": "true", "range": f"{lower:.12g} {upper:.12g}"}
        ET.SubElement(body, "joint", attributes)

    @staticmethod
    def inertial(body: ET.Element, mass: float, com: ArrayLike, diagonal: ArrayLike) -> None:
        ET.SubElement(body, "inertial", mass=f"{mass:.12g}", pos=_vec(com), diaginertia=_vec(diagonal))

    @staticmethod
    def site(body: ET.Element, name: str, pos: ArrayLike) -> None:
        ET.SubElement(body, "site", name=name, pos=_vec(pos), size="0.005")

    @staticmethod
    def capsule(body: ET.Element, name: str, start: ArrayLike, end: ArrayLike, radius: float) -> None:
        ET.SubElement(body, "geom", name=name, type="capsule", fromto=f"{_vec(start)} {_vec(end)}", size=f"{radius}")

    def carrier(self, body: ET.Element) -> None:
        self.inertial(body, CARRIER_MASS_KG, (0.0, 0.0, 0.0), (_CARRIER_INERTIA_KG_M2,) * 3)

    def torso(self, world: ET.Element) -> tuple[ET.Element, ET.Element, ET.Element]:
        """Pelvis (free), trunk and shoulder girdle; return the pelvis, the trunk and the girdle."""
        d = self.d
        pelvis = self.add_body(world, "pelvis")
        ET.SubElement(pelvis, "freejoint", name="root")
        self.carrier(pelvis)
        self.site(pelvis, "mid_hip", (0.0, 0.0, 0.0))
        for side in SIDES:
            self.site(pelvis, f"{side}_hip", (0.0, 0.0, _RIGHT[side] * 0.5 * d["hip_width"]))
        half = 0.5 * d["hip_width"]
        self.capsule(pelvis, "pelvis", (0.0, 0.0, -half), (0.0, 0.0, half), COLLISION_RADII_M["pelvis"])

        trunk = self.add_body(pelvis, "trunk")
        self.hinge(trunk, "lumbar_bending", (1.0, 0.0, 0.0))
        self.hinge(trunk, "lumbar_rotation", (0.0, 1.0, 0.0))
        length, mass = d["trunk"], self.mass["trunk"]
        sagittal, longitudinal, transverse = self._inertia("trunk", length)
        com = length * (1.0 - self.segment["trunk"].com_fraction)  # from the mid-hip, towards the mid-shoulder
        # The two carriers sit at y = 0 (mid-hip) and y = length (mid-shoulder) of this frame: take them out.
        kept = mass - 2.0 * CARRIER_MASS_KG
        kept_com = (mass * com - CARRIER_MASS_KG * length) / kept
        about_axis = CARRIER_MASS_KG * (com**2 + (length - com) ** 2) + kept * (kept_com - com) ** 2
        self.inertial(
            trunk,
            kept,
            (0.0, kept_com, 0.0),
            (
                sagittal - about_axis - _CARRIER_INERTIA_KG_M2,
                longitudinal - _CARRIER_INERTIA_KG_M2,
                transverse - about_axis - _CARRIER_INERTIA_KG_M2,
            ),
        )
        self.site(trunk, "mid_shoulder", (0.0, length, 0.0))
        self.capsule(trunk, "trunk", (0.0, 0.0, 0.0), (0.0, length, 0.0), COLLISION_RADII_M["trunk"])

        girdle = self.add_body(trunk, "shoulder_girdle", (0.0, length, 0.0))
        self.hinge(girdle, "shoulder_line_tilt", (-1.0, 0.0, 0.0))
        self.carrier(girdle)
        for side in SIDES:
            self.site(girdle, f"{side}_shoulder", (0.0, 0.0, _RIGHT[side] * 0.5 * d["shoulder_width"]))
        return pelvis, trunk, girdle

    def head(self, trunk: ET.Element) -> None:
        d = self.d
        head = self.add_body(trunk, "head", (0.0, d["trunk"], 0.0))
        neutral = self.skeleton.neck_neutral_rad
        for name, axis, offset in zip(
            ("neck_flexion", "neck_bending", "neck_rotation"),
            ((0.0, 0.0, -1.0), (1.0, 0.0, 0.0), (0.0, 1.0, 0.0)),
            neutral,
            strict=True,
        ):
            self.hinge(head, name, axis, ref=-offset)  # MuJoCo turns by (qpos − ref) = our angle + the neutral
        length = self.skeleton.head_length_m
        com = length * (1.0 - self.segment["head"].com_fraction)  # de Leva measures it from the vertex
        self.inertial(head, self.mass["head"], (0.0, com, 0.0), self._inertia("head", length))
        self.site(head, "head_vertex", (0.0, length, 0.0))
        for side in SIDES:
            self.site(head, f"{side}_ear", (0.0, d["ear_height"], _RIGHT[side] * 0.5 * d["ear_width"]))
        self.site(head, "nose", (d["nose_anterior"], d["nose_superior"], d["nose_right"]))
        radius = COLLISION_RADII_M["head"]
        ET.SubElement(head, "geom", name="head", type="sphere", size=f"{radius}", pos=_vec((0.0, length - radius, 0.0)))

    def leg(self, pelvis: ET.Element, side: str) -> None:
        d, sign = self.d, _RIGHT[side]
        thigh = self.add_body(pelvis, f"{side}_thigh", (0.0, 0.0, sign * 0.5 * d["hip_width"]))
        self.hinge(thigh, f"{side}_hip_flexion", (0.0, 0.0, 1.0))
        self.hinge(thigh, f"{side}_hip_adduction", (sign, 0.0, 0.0))
        self.hinge(thigh, f"{side}_hip_internal_rotation", (0.0, sign, 0.0))
        self._limb_segment(thigh, f"{side}_thigh", d[f"{side}_thigh"], f"{side}_knee", "thigh")

        shank = self.add_body(thigh, f"{side}_shank", (0.0, -d[f"{side}_thigh"], 0.0))
        self.hinge(shank, f"{side}_knee_flexion", (0.0, 0.0, -1.0))
        length = d[f"{side}_shank"]
        self._limb_segment(shank, f"{side}_shank", length, f"{side}_ankle", None)
        radius = COLLISION_RADII_M["shank"]
        self.capsule(shank, f"{side}_shank", (0.0, 0.0, 0.0), (0.0, -max(length - radius, 0.0), 0.0), radius)

        foot = self.add_body(shank, f"{side}_foot", (0.0, -length, 0.0))
        self.hinge(foot, f"{side}_ankle_dorsiflexion", (0.0, 0.0, 1.0))
        along, above, foot_length = (d[f"{side}_{k}"] for k in ("ankle_along_foot", "ankle_above_sole", "foot"))
        heel = np.array([-along, -above, 0.0])
        segment = self.segment[f"{side}_foot"]
        sagittal, longitudinal, transverse = self._inertia(f"{side}_foot", foot_length)
        com = heel + np.array([segment.com_fraction * foot_length, 0.0, 0.0])
        # Foot axes: x heel → toe (longitudinal), y sole → instep (de Leva's "sagittal" for the foot), z right.
        self.inertial(foot, self.mass[f"{side}_foot"], com, (longitudinal, sagittal, transverse))
        self.site(foot, f"{side}_heel", heel)
        self.site(foot, f"{side}_foot_index", heel + np.array([foot_length, 0.0, 0.0]))
        height = max(above, MIN_FOOT_HEIGHT_M)
        half = (0.5 * foot_length, 0.5 * height, 0.5 * FOOT_WIDTH_FRACTION * foot_length)
        centre = heel + np.array([half[0], half[1], 0.0])
        ET.SubElement(foot, "geom", name=f"{side}_foot", type="box", size=_vec(half), pos=_vec(centre))

    def arm(self, girdle: ET.Element, side: str) -> None:
        d, sign = self.d, _RIGHT[side]
        upper = self.add_body(girdle, f"{side}_upper_arm", (0.0, 0.0, sign * 0.5 * d["shoulder_width"]))
        self.hinge(upper, f"{side}_girdle_return", (1.0, 0.0, 0.0))
        self.hinge(upper, f"{side}_shoulder_flexion", (0.0, 0.0, 1.0))
        self.hinge(upper, f"{side}_shoulder_abduction", (-sign, 0.0, 0.0))
        self.hinge(upper, f"{side}_shoulder_internal_rotation", (0.0, sign, 0.0))
        self._limb_segment(upper, f"{side}_upper_arm", d[f"{side}_upper_arm"], f"{side}_elbow", "upper_arm")

        forearm = self.add_body(upper, f"{side}_forearm", (0.0, -d[f"{side}_upper_arm"], 0.0))
        self.hinge(forearm, f"{side}_elbow_flexion", (0.0, 0.0, 1.0))
        fa, hand = d[f"{side}_forearm"], d[f"{side}_hand"]
        parts = [(f"{side}_forearm", fa, 0.0), (f"{side}_hand", hand, fa)]
        masses = [self.mass[name] for name, _, _ in parts]
        coms = [start + self.segment[name].com_fraction * length for name, length, start in parts]
        com = float(np.dot(masses, coms) / sum(masses))
        diagonal = np.zeros(3)
        for (name, length, _), mass, y in zip(parts, masses, coms, strict=True):
            shift = mass * (y - com) ** 2  # parallel axes: the two COMs lie on the long axis
            diagonal += np.array(self._inertia(name, length)) + np.array([shift, 0.0, shift])
        self.inertial(forearm, sum(masses), (0.0, -com, 0.0), diagonal)
        self.site(forearm, f"{side}_wrist", (0.0, -fa, 0.0))
        self.site(forearm, f"{side}_hand", (0.0, -fa - hand, 0.0))
        self.capsule(forearm, f"{side}_forearm", (0.0, 0.0, 0.0), (0.0, -fa, 0.0), COLLISION_RADII_M["forearm"])
        self.capsule(forearm, f"{side}_hand", (0.0, -fa, 0.0), (0.0, -fa - hand, 0.0), COLLISION_RADII_M["hand"])

    def _limb_segment(self, body: ET.Element, name: str, length: float, distal: str, geom: str | None) -> None:
        """Inertial of a limb segment hanging along −y from the body's origin, its distal site and capsule."""
        com = self.segment[name].com_fraction * length
        self.inertial(body, self.mass[name], (0.0, -com, 0.0), self._inertia(name, length))
        self.site(body, distal, (0.0, -length, 0.0))
        if geom is not None:
            self.capsule(body, name, (0.0, 0.0, 0.0), (0.0, -length, 0.0), COLLISION_RADII_M[geom])

    def document(self, ground_level_m: float, gravity_m_s2: float) -> str:
        root = ET.Element("mujoco", model="spacecomputer_humanoid")
        ET.SubElement(root, "compiler", angle="radian", inertiafromgeom="false", autolimits="true")
        up = self.skeleton.up
        ET.SubElement(
            root, "option", timestep=f"{TIMESTEP_S}", gravity=_vec(-gravity_m_s2 * up), integrator="implicitfast"
        )
        default = ET.SubElement(root, "default")
        ET.SubElement(default, "joint", damping=f"{JOINT_DAMPING_N_M_S_PER_RAD}", armature=f"{JOINT_ARMATURE_KG_M2}")
        # Body geoms touch only the ground: (contype 0, conaffinity 1) against the ground's (1, 0).
        ET.SubElement(default, "geom", contype="0", conaffinity="1", friction=f"{FRICTION_COEFFICIENT} 0.005 0.0001")
        world = ET.SubElement(root, "worldbody")
        ET.SubElement(
            world,
            "geom",
            name="ground",
            type="plane",
            size="0 0 1",
            pos=_vec(ground_level_m * up),
            zaxis=_vec(up),
            contype="1",
            conaffinity="0",
        )
        pelvis, trunk, girdle = self.torso(world)
        self.head(trunk)
        for side in SIDES:
            self.leg(pelvis, side)
            self.arm(girdle, side)
        equality = ET.SubElement(root, "equality")
        for side in SIDES:
            ET.SubElement(equality, "joint", joint1=f"{side}_girdle_return", joint2="shoulder_line_tilt")
        actuators = ET.SubElement(root, "actuator")
        for name in HINGE_DOFS:
            ET.SubElement(actuators, "position", name=name, joint=name, kp="0", forcelimited="false")
        ET.indent(root)
        return ET.tostring(root, encoding="unicode")


def humanoid_mjcf(skeleton: SkeletonModel, body: BodyModel, *, ground_level_m: float, gravity_m_s2: float) -> str:
    """Return the MJCF text of the subject's humanoid (module docstring); arguments as ``build_humanoid``'s."""
    return _Mjcf(skeleton, body).document(ground_level_m, gravity_m_s2)
