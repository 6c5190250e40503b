"""Names of the skeleton: degrees of freedom, joint centres, body dimensions and rigid bones.

Degrees of freedom (:data:`DOF_NAMES`, the order of the coordinate vector ``q``; SI units: m and rad)
--------------------------------------------------------------------------------------------------
============================================  ==========================================================
name                                          meaning
============================================  ==========================================================
``pelvis_tx``, ``pelvis_ty``, ``pelvis_tz``   mid-hip position along the reference axes X, Y, Z, m
``pelvis_rot_x``, ``…_y``, ``…_z``            rotation vector of the pelvis frame from the reference axes, rad
``lumbar_bending``                            trunk axis tilted out of the pelvis's superior axis towards the right
``lumbar_rotation``                           thorax turned about the trunk axis, its front to the left
``shoulder_line_tilt``                        shoulder line out of the plane ⟂ the trunk axis, right shoulder up
``neck_flexion``, ``neck_bending``,           head (mid-shoulder → mid-ear axis) in the thorax frame: forward,
``neck_rotation``                             towards the right, face turned to the left (Z-X-Y Cardan), from
                                              the subject's neutral head carriage
``{side}_hip_flexion``, ``_hip_adduction``    the engine's angles (:mod:`spacecomputer.biomech._angles`)
``{side}_hip_internal_rotation``              thigh about its long axis, front towards the midline (knee plane)
``{side}_knee_flexion``                       the engine's angle; the shank turns backwards in the thigh's plane
``{side}_ankle_dorsiflexion``                 the engine's angle; the foot turns in the shank's sagittal plane
``{side}_shoulder_flexion``, ``_abduction``   the engine's angles
``{side}_shoulder_internal_rotation``         upper arm about its long axis, front towards the midline
``{side}_elbow_flexion``                      the engine's angle; the forearm turns forwards in the arm's plane
============================================  ==========================================================

The reference axes are OpenSim's ground axes placed in the pose frame: X = ``e1`` of
:func:`~spacecomputer.biomech._stability.horizontal_axes` (horizontal), Y = ``up``, Z = X × Y (horizontal).
"""

from __future__ import annotations

__all__ = [
    "ANGULAR_DOFS",
    "BONES",
    "DIMENSION_NAMES",
    "DOF_INDEX",
    "DOF_NAMES",
    "JOINT_INDEX",
    "JOINT_NAMES",
    "LANDMARK_JOINTS",
    "SIDES",
]

SIDES = ("left", "right")
_LEG = ("hip_flexion", "hip_adduction", "hip_internal_rotation", "knee_flexion", "ankle_dorsiflexion")
_ARM = ("shoulder_flexion", "shoulder_abduction", "shoulder_internal_rotation", "elbow_flexion")

DOF_NAMES: tuple[str, ...] = (
    "pelvis_tx",
    "pelvis_ty",
    "pelvis_tz",
    "pelvis_rot_x",
    "pelvis_rot_y",
    "pelvis_rot_z",
    "lumbar_bending",
    "lumbar_rotation",
    "shoulder_line_tilt",
    "neck_flexion",
    "neck_bending",
    "neck_rotation",
    *(f"{side}_{dof}" for side in SIDES for dof in _LEG),
    *(f"{side}_{dof}" for side in SIDES for dof in _ARM),
)
"""Generalised coordinates, in the order of ``q``."""
DOF_INDEX = {name: i for i, name in enumerate(DOF_NAMES)}
ANGULAR_DOFS = frozenset(DOF_NAMES[3:])
"""Every coordinate but the three pelvis translations is an angle (rad in ``q``, degrees for people)."""

LANDMARK_JOINTS: tuple[str, ...] = (
    "nose",
    "left_ear",
    "right_ear",
    *(f"{side}_{part}" for part in ("shoulder", "elbow", "wrist") for side in SIDES),
    *(f"{side}_{part}" for part in ("hip", "knee", "ankle", "heel", "foot_index") for side in SIDES),
)
"""The BlazePose landmarks the skeleton places, in BlazePose's order."""
JOINT_NAMES: tuple[str, ...] = (*LANDMARK_JOINTS, "mid_hip", "mid_shoulder", "left_hand", "right_hand", "head_vertex")
"""Points of :meth:`SkeletonModel.points`: the landmarks, then the mid-hip, the mid-shoulder, each hand's knuckle
point (de Leva's MET3, BlazePose's mean of index and pinky) and the head vertex (de Leva's VERT, estimated as the
engine does)."""
JOINT_INDEX = {name: i for i, name in enumerate(JOINT_NAMES)}

_SIDED_DIMENSIONS = ("thigh", "shank", "upper_arm", "forearm", "hand", "foot", "ankle_along_foot", "ankle_above_sole")
DIMENSION_NAMES: tuple[str, ...] = (
    *(f"{side}_{part}" for side in SIDES for part in _SIDED_DIMENSIONS),
    "hip_width",
    "shoulder_width",
    "trunk",
    "ear_height",
    "ear_width",
    "nose_anterior",
    "nose_superior",
    "nose_right",
)
"""Body dimensions, m: segment lengths (hip→knee, knee→ankle, shoulder→elbow, elbow→wrist, wrist→knuckles,
heel→toe), the ankle's place on the foot (along heel→toe from the heel, and above that line), hip and shoulder
widths, trunk (mid-hip → mid-shoulder), mid-shoulder → mid-ear, ear to ear, and the nose's offsets from the
mid-shoulder in the head frame. The ankle's place along the foot and the nose offsets may be negative (on the
sample clip BlazePose's ankle projects 1.7 cm behind its heel point)."""

BONES: tuple[tuple[str, str], ...] = (
    *(
        (f"{side}_{a}", f"{side}_{b}")
        for side in SIDES
        for a, b in (
            ("hip", "knee"),
            ("knee", "ankle"),
            ("ankle", "heel"),
            ("ankle", "foot_index"),
            ("heel", "foot_index"),
            ("shoulder", "elbow"),
            ("elbow", "wrist"),
            ("wrist", "hand"),
        )
    ),
    ("left_hip", "right_hip"),
    ("left_shoulder", "right_shoulder"),
    ("mid_hip", "mid_shoulder"),
    ("mid_shoulder", "head_vertex"),
    ("left_ear", "right_ear"),
    ("mid_shoulder", "nose"),
)
"""Pairs of points whose distance the skeleton keeps fixed (:meth:`SkeletonModel.bone_length_m`)."""
