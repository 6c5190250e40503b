"""Biomechanics from a metric pose sequence (issue 3, in progress): body segment model and kinematics.

Not yet called by the pipeline: events, kinetics, energy, stability, risk and uncertainty are still to come.
"""

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

__all__ = [
    "JOINT_CENTRES",
    "BodyModel",
    "KinematicSeries",
    "PointKinematics",
    "RangeOfMotion",
    "SegmentInertia",
    "SegmentParameters",
    "Sex",
    "angular_acceleration_deg_s2",
    "angular_velocity_deg_s",
    "joint_angles",
    "joint_centre_kinematics",
    "linear_acceleration_m_s2",
    "linear_velocity_m_s",
    "range_of_motion",
    "segment_angles",
    "segment_com",
    "segment_endpoints",
    "segment_inertia",
    "segment_lengths_m",
    "whole_body_com",
]
