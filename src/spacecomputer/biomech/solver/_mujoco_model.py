"""The subject's MuJoCo humanoid, compiled, with the maps between the skeleton's coordinates ``q`` and MuJoCo.

:func:`build_humanoid` compiles the MJCF of :mod:`spacecomputer.biomech.solver._mujoco_mjcf` (the tree, the
masses and every constant we chose are documented there). :meth:`HumanoidModel.qpos` maps ``q`` to MuJoCo's
``qpos``: the pelvis position and rotation vector become the free root joint's position and quaternion (MuJoCo's
world frame is the pose frame), each angular coordinate is the hinge of the same name, and the two
``{side}_girdle_return`` hinges take ``shoulder_line_tilt``. :meth:`HumanoidModel.set_pose` then puts the joint
centres exactly where :meth:`~spacecomputer.biomech.solver.SkeletonModel.points` does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import mujoco  # type: ignore[import-untyped]
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.spatial.transform import Rotation

from spacecomputer.biomech._body_model import BodyModel
from spacecomputer.biomech._movement_metrics import STANDARD_GRAVITY_M_S2
from spacecomputer.biomech.solver._dofs import DOF_INDEX, DOF_NAMES, JOINT_NAMES, SIDES
from spacecomputer.biomech.solver._geometry import rotvec_matrices
from spacecomputer.biomech.solver._mujoco_mjcf import HINGE_DOFS, humanoid_mjcf
from spacecomputer.biomech.solver._skeleton import SkeletonModel
from spacecomputer.errors import InvalidInputError

__all__ = ["ROOT_QPOS", "HumanoidModel", "build_humanoid"]

ROOT_QPOS = slice(0, 7)
"""The free root joint's qpos: mid-hip position (3, m), then the pelvis frame's quaternion (w, x, y, z)."""


@dataclass(frozen=True, eq=False)
class HumanoidModel:
    """A compiled MuJoCo humanoid of one subject (module docstring) and the maps between ``q`` and MuJoCo.

    Attributes
    ----------
    model
        The ``mujoco.MjModel``.
    skeleton, body
        The skeleton and body model it was built from.
    ground_level_m
        Height of the ground plane along ``up``, m.
    xml
        The MJCF text it was compiled from.
    hinge_qpos
        Angular coordinate of ``q`` (:data:`HINGE_DOFS`) → its qpos address (the hinge of the same name).
    hinge_dof
        The same → its qvel / qfrc address.
    actuator
        The same → its position actuator's index.
    geom_segment
        Geom id → the body part it belongs to (``"left_foot"``, ``"trunk"``, ``"left_hand"``, …).
    foot_geoms
        Ids of the two foot boxes.
    ground_geom
        Id of the ground plane.

    """

    model: Any
    skeleton: SkeletonModel
    body: BodyModel
    ground_level_m: float
    xml: str
    hinge_qpos: Mapping[str, int]
    hinge_dof: Mapping[str, int]
    actuator: Mapping[str, int]
    geom_segment: Mapping[int, str]
    foot_geoms: frozenset[int]
    ground_geom: int

    @property
    def total_mass_kg(self) -> float:
        """Sum of the bodies' masses, kg."""
        return float(self.model.body_subtreemass[0])

    def new_data(self) -> Any:
        """Return a fresh ``mujoco.MjData`` for this model."""
        return mujoco.MjData(self.model)

    def qpos(self, q: ArrayLike) -> NDArray[np.float64]:
        """Map coordinates ``q`` ((D,) or (N, D), ``DOF_NAMES`` order) to MuJoCo's qpos, (nq,) or (N, nq).

        Raises
        ------
        InvalidInputError
            ``q`` of the wrong shape or not finite.

        """
        array = np.asarray(q, dtype=np.float64)
        coordinates = self.skeleton.coordinates(array)
        out = np.zeros((coordinates.shape[0], self.model.nq))
        translation = coordinates[:, DOF_INDEX["pelvis_tx"] : DOF_INDEX["pelvis_tz"] + 1]
        out[:, 0:3] = translation @ self.skeleton.reference_axes.T
        rotation = self.skeleton.reference_axes @ rotvec_matrices(
            coordinates[:, DOF_INDEX["pelvis_rot_x"] : DOF_INDEX["pelvis_rot_z"] + 1]
        )
        xyzw = Rotation.from_matrix(rotation).as_quat()
        out[:, 3:7] = xyzw[:, [3, 0, 1, 2]]
        for name, address in self.hinge_qpos.items():
            out[:, address] = coordinates[:, DOF_INDEX[name]]
        for side in SIDES:
            out[:, self._address(f"{side}_girdle_return")] = coordinates[:, DOF_INDEX["shoulder_line_tilt"]]
        return out[0] if array.ndim == 1 else out

    def q_of(self, qpos: ArrayLike) -> NDArray[np.float64]:
        """Map MuJoCo qpos ((nq,) or (N, nq)) back to coordinates ``q`` (the inverse of :meth:`qpos`).

        The pelvis rotation vector comes back with an angle in [0, π].
        """
        array = np.asarray(qpos, dtype=np.float64)
        rows = array.reshape(-1, self.model.nq)
        out = np.zeros((rows.shape[0], len(DOF_NAMES)))
        axes = self.skeleton.reference_axes
        out[:, DOF_INDEX["pelvis_tx"] : DOF_INDEX["pelvis_tz"] + 1] = rows[:, 0:3] @ axes
        world = Rotation.from_quat(rows[:, [4, 5, 6, 3]]).as_matrix()
        rotvec = Rotation.from_matrix(axes.T @ world).as_rotvec()
        out[:, DOF_INDEX["pelvis_rot_x"] : DOF_INDEX["pelvis_rot_z"] + 1] = rotvec
        for name, address in self.hinge_qpos.items():
            out[:, DOF_INDEX[name]] = rows[:, address]
        return out[0] if array.ndim == 1 else out

    def set_pose(self, data: Any, q: ArrayLike) -> None:
        """Put ``data`` in the pose of a (D,) ``q`` at rest (zero velocities) and run ``mj_forward``."""
        if np.asarray(q).ndim != 1:
            raise InvalidInputError(f"set_pose takes one pose of shape ({len(DOF_NAMES)},)")
        data.qpos[:] = self.qpos(q)
        data.qvel[:] = 0.0
        data.act[:] = 0.0
        mujoco.mj_forward(self.model, data)

    def points(self, data: Any) -> NDArray[np.float64]:
        """Return the (P, 3) joint centres of :data:`~spacecomputer.biomech.solver.JOINT_NAMES` in ``data``, m."""
        return np.array([data.site(name).xpos for name in JOINT_NAMES], dtype=np.float64)

    def com_m(self, data: Any) -> NDArray[np.float64]:
        """Return the whole-body centre of mass in ``data`` (after ``mj_forward`` or a step), m."""
        return np.array(data.subtree_com[0], dtype=np.float64)

    def _address(self, joint: str) -> int:
        return int(self.model.jnt_qposadr[self.model.joint(joint).id])


def build_humanoid(
    skeleton: SkeletonModel,
    body: BodyModel,
    *,
    ground_level_m: float = 0.0,
    gravity_m_s2: float = STANDARD_GRAVITY_M_S2,
) -> HumanoidModel:
    """Generate and compile the subject's MuJoCo humanoid (:mod:`~spacecomputer.biomech.solver._mujoco_mjcf`).

    Parameters
    ----------
    skeleton
        The subject's skeleton (segment lengths, ``up``, joint limits, neutral head carriage).
    body
        De Leva body model (body mass and segment parameters).
    ground_level_m
        Height of the ground plane along ``up``, m (``point · up`` of a point on it).
    gravity_m_s2
        Magnitude of gravity, m/s².

    Raises
    ------
    InvalidInputError
        A non-finite ground level or a negative or non-finite gravity.

    """
    if not (isinstance(ground_level_m, int | float) and np.isfinite(ground_level_m)):
        raise InvalidInputError(f"ground_level_m must be a finite height, m; got {ground_level_m!r}")
    if not (isinstance(gravity_m_s2, int | float) and np.isfinite(gravity_m_s2) and gravity_m_s2 >= 0):
        raise InvalidInputError(f"gravity_m_s2 must be a finite number ≥ 0 (m/s²); got {gravity_m_s2!r}")
    xml = humanoid_mjcf(skeleton, body, ground_level_m=float(ground_level_m), gravity_m_s2=float(gravity_m_s2))
    model = mujoco.MjModel.from_xml_string(xml)
    joint_id = {name: model.joint(name).id for name in HINGE_DOFS}
    geoms = {i: model.geom(i).name for i in range(model.ngeom)}
    ground = model.geom("ground").id
    return HumanoidModel(
        model=model,
        skeleton=skeleton,
        body=body,
        ground_level_m=float(ground_level_m),
        xml=xml,
        hinge_qpos={name: int(model.jnt_qposadr[i]) for name, i in joint_id.items()},
        hinge_dof={name: int(model.jnt_dofadr[i]) for name, i in joint_id.items()},
        actuator={name: model.actuator(name).id for name in HINGE_DOFS},
        geom_segment={i: name for i, name in geoms.items() if i != ground},
        foot_geoms=frozenset(model.geom(f"{side}_foot").id for side in SIDES),
        ground_geom=ground,
    )
