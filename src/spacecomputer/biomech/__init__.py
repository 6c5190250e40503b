"""Biomechanics from a metric pose sequence: what every `spacecomputer analyze` run reports after the pose.

:func:`analyze_biomechanics` runs it all (one pass of the engine plus its Monte Carlo uncertainty); the
stages are also usable one by one: the de Leva body model, joint/segment kinematics, foot events and phases,
movement metrics (sprint, jump, landing, strike, throw), ground reaction and inverse dynamics, energy and
work, stability, risk indicators, and the OpenSim file writers. ``docs/biomechanics.md`` documents the
methods, conventions and sources.
"""

from spacecomputer.biomech._analyze import (
    DEFAULT_DRAWS,
    BiomechanicsOptions,
    BiomechanicsResult,
    analyze_biomechanics,
)
from spacecomputer.biomech._body_model import (
    BodyModel,
    SegmentInertia,
    SegmentParameters,
    Sex,
    segment_com,
    segment_endpoints,
    segment_inertia,
    segment_lengths_m,
    whole_body_com,
)
from spacecomputer.biomech._energy import EnergySeries, joint_work, mechanical_energy
from spacecomputer.biomech._engine import EnginePass, evaluate
from spacecomputer.biomech._events import (
    FootContacts,
    FootEvent,
    Phase,
    contact_phases,
    detect_foot_contacts,
    detect_foot_events,
    flight_phases,
)
from spacecomputer.biomech._kinematics import (
    JOINT_CENTRES,
    KinematicSeries,
    PointKinematics,
    RangeOfMotion,
    angular_acceleration_deg_s2,
    angular_velocity_deg_s,
    joint_angles,
    joint_centre_kinematics,
    linear_acceleration_m_s2,
    linear_velocity_m_s,
    range_of_motion,
    segment_angles,
)
from spacecomputer.biomech._kinetics import (
    JOINTS,
    GroundReactionEstimate,
    JointKinetics,
    estimate_ground_reaction,
    inverse_dynamics,
    moment_per_kg,
)
from spacecomputer.biomech._movement_detect import DetectedMovement, detect_movement, movement_family
from spacecomputer.biomech._movement_metrics import MetricValue, com_horizontal_speed_m_s, movement_metrics
from spacecomputer.biomech._opensim_io import opensim_rotation, write_mot, write_trc
from spacecomputer.biomech._risk import RISK_THRESHOLDS, RiskIndicator, asymmetry_index_percent, risk_indicators
from spacecomputer.biomech._sequencing import StrikeSequencing, strike_sequencing
from spacecomputer.biomech._stability import StabilitySeries, stability, stability_metrics
from spacecomputer.biomech._uncertainty import LandmarkNoise, format_measurement, landmark_noise

__all__ = [
    "DEFAULT_DRAWS",
    "JOINTS",
    "JOINT_CENTRES",
    "RISK_THRESHOLDS",
    "BiomechanicsOptions",
    "BiomechanicsResult",
    "BodyModel",
    "DetectedMovement",
    "EnergySeries",
    "EnginePass",
    "FootContacts",
    "FootEvent",
    "GroundReactionEstimate",
    "JointKinetics",
    "KinematicSeries",
    "LandmarkNoise",
    "MetricValue",
    "Phase",
    "PointKinematics",
    "RangeOfMotion",
    "RiskIndicator",
    "SegmentInertia",
    "SegmentParameters",
    "Sex",
    "StabilitySeries",
    "StrikeSequencing",
    "analyze_biomechanics",
    "angular_acceleration_deg_s2",
    "angular_velocity_deg_s",
    "asymmetry_index_percent",
    "com_horizontal_speed_m_s",
    "contact_phases",
    "detect_foot_contacts",
    "detect_foot_events",
    "detect_movement",
    "estimate_ground_reaction",
    "evaluate",
    "flight_phases",
    "format_measurement",
    "inverse_dynamics",
    "joint_angles",
    "joint_centre_kinematics",
    "joint_work",
    "landmark_noise",
    "linear_acceleration_m_s2",
    "linear_velocity_m_s",
    "mechanical_energy",
    "moment_per_kg",
    "movement_family",
    "movement_metrics",
    "opensim_rotation",
    "range_of_motion",
    "risk_indicators",
    "segment_angles",
    "segment_com",
    "segment_endpoints",
    "segment_inertia",
    "segment_lengths_m",
    "stability",
    "stability_metrics",
    "strike_sequencing",
    "whole_body_com",
    "write_mot",
    "write_trc",
]
