"""The pose lab: a kinematic skeleton in the engine's joint angles, joint limits, quasi-statics and pose sessions.

:class:`SkeletonModel` is the subject's skeleton (forward kinematics, :meth:`~SkeletonModel.fit` to landmarks),
:class:`QuasiStatics` the balance, ground reaction and joint moments of still poses, and :class:`PoseSession` one
frame's pose to manipulate (set an angle, drag a joint) with undo, redo, saved poses and comparisons. The joint
limits (:func:`joint_limits`) come from the OpenSim model shipped with Pose2Sim, with our own where it has none.
"""

from spacecomputer.biomech.solver._dofs import BONES, DIMENSION_NAMES, DOF_NAMES, JOINT_NAMES
from spacecomputer.biomech.solver._fit import CORE_LANDMARKS, SkeletonFit, dimensions_from_sequence
from spacecomputer.biomech.solver._fit_batch import FrameFits
from spacecomputer.biomech.solver._fit_sequence import SkeletonTrack, fit_skeleton_to_sequence
from spacecomputer.biomech.solver._limits import JointLimit, joint_limits, limits_source
from spacecomputer.biomech.solver._manipulate import (
    DERIVED_ANGLES,
    DRAGGABLE_JOINTS,
    REACH_TOLERANCE_M,
    SETTABLE_ANGLES,
)
from spacecomputer.biomech.solver._mujoco_model import HumanoidModel, build_humanoid
from spacecomputer.biomech.solver._objectives import (
    OBJECTIVES,
    STRENGTH_N_M_PER_KG,
    Objective,
    cost_of_transport,
    energy_efficiency,
    injury_risk,
    joint_stress,
    positive_work_j,
    power_output,
)
from spacecomputer.biomech.solver._optimise import BiomechanicalSolver
from spacecomputer.biomech.solver._optimise_problem import (
    MAX_PHASE_FRAMES,
    MIN_PHASE_FRAMES,
    PRESERVABLE,
    KeepFootOnGround,
    KeepPointAt,
    OptimisationProblem,
    Phase,
)
from spacecomputer.biomech.solver._optimise_result import ConstraintReport, FrameOutcome, SolveResult, ValidityCheck
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
from spacecomputer.biomech.solver._simulate import GroundTouch, PostureResult, hold_posture
from spacecomputer.biomech.solver._simulate_motion import MotionGroundReaction, ground_reaction_of_motion
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
    "MAX_PHASE_FRAMES",
    "MIN_PHASE_FRAMES",
    "MOMENT_MEANINGS",
    "OBJECTIVES",
    "PRESERVABLE",
    "REACH_TOLERANCE_M",
    "SETTABLE_ANGLES",
    "STRENGTH_N_M_PER_KG",
    "AngleChange",
    "Balance",
    "BiomechanicalSolver",
    "ConstraintReport",
    "FrameFits",
    "FrameGroundReaction",
    "FrameOutcome",
    "GroundTouch",
    "HumanoidModel",
    "JointLimit",
    "KeepFootOnGround",
    "KeepPointAt",
    "LimitViolation",
    "ManipulationResult",
    "MomentChange",
    "MotionGroundReaction",
    "Objective",
    "OptimisationProblem",
    "Phase",
    "PoseComparison",
    "PoseSession",
    "PostureResult",
    "QuasiStatics",
    "SkeletonFit",
    "SkeletonModel",
    "SkeletonTrack",
    "SolveResult",
    "StaticAnalysis",
    "ValidityCheck",
    "build_humanoid",
    "cost_of_transport",
    "dimensions_from_sequence",
    "energy_efficiency",
    "fit_skeleton_to_sequence",
    "ground_reaction_of_motion",
    "hold_posture",
    "injury_risk",
    "joint_limits",
    "joint_stress",
    "limits_source",
    "positive_work_j",
    "power_output",
]
