"""The pose lab: a kinematic skeleton in the engine's joint angles, joint limits, quasi-statics and pose sessions.

:class:`SkeletonModel` is the subject's skeleton (forward kinematics, :meth:`~SkeletonModel.fit` to landmarks),
:class:`QuasiStatics` the balance, ground reaction and joint moments of still poses, and :class:`PoseSession` one
frame's pose to manipulate (set an angle, drag a joint) with undo, redo, saved poses and comparisons. The joint
limits (:func:`joint_limits`) come from the OpenSim model shipped with Pose2Sim, with our own where it has none.
"""

from spacecomputer.biomech.solver._dofs import BONES, DIMENSION_NAMES, DOF_NAMES, JOINT_NAMES
from spacecomputer.biomech.solver._fit import CORE_LANDMARKS, SkeletonFit, dimensions_from_sequence
from spacecomputer.biomech.solver._limits import JointLimit, joint_limits, limits_source
from spacecomputer.biomech.solver._manipulate import (
    DERIVED_ANGLES,
    DRAGGABLE_JOINTS,
    REACH_TOLERANCE_M,
    SETTABLE_ANGLES,
)
from spacecomputer.biomech.solver._results import (
    AngleChange,
    Balance,
    FrameGroundReaction,
    LimitViolation,
    ManipulationResult,
    MomentChange,
    PoseComparison,
)
from spacecomputer.biomech.solver._session import PoseSession
from spacecomputer.biomech.solver._skeleton import SkeletonModel
from spacecomputer.biomech.solver._statics import CONTACT_HEIGHT_M, MOMENT_MEANINGS, QuasiStatics, StaticAnalysis

__all__ = [
    "BONES",
    "CONTACT_HEIGHT_M",
    "CORE_LANDMARKS",
    "DERIVED_ANGLES",
    "DIMENSION_NAMES",
    "DOF_NAMES",
    "DRAGGABLE_JOINTS",
    "JOINT_NAMES",
    "MOMENT_MEANINGS",
    "REACH_TOLERANCE_M",
    "SETTABLE_ANGLES",
    "AngleChange",
    "Balance",
    "FrameGroundReaction",
    "JointLimit",
    "LimitViolation",
    "ManipulationResult",
    "MomentChange",
    "PoseComparison",
    "PoseSession",
    "QuasiStatics",
    "SkeletonFit",
    "SkeletonModel",
    "StaticAnalysis",
    "dimensions_from_sequence",
    "joint_limits",
    "limits_source",
]
