"""Biomechanics from a metric pose sequence (issue 3, in progress).

Done as library functions: the de Leva body segment model, joint/segment kinematics, foot events, phases and
sprint/jump/landing metrics. Not yet called by the pipeline; kinetics, energy, stability, risk and
uncertainty are still to come.
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
from spacecomputer.biomech._movement_metrics import MetricValue, com_horizontal_speed_m_s, movement_metrics

__all__ = [
    "JOINT_CENTRES",
    "BodyModel",
    "FootContacts",
    "FootEvent",
    "KinematicSeries",
    "MetricValue",
    "Phase",
    "PointKinematics",
    "RangeOfMotion",
    "SegmentInertia",
    "SegmentParameters",
    "Sex",
    "angular_acceleration_deg_s2",
    "angular_velocity_deg_s",
    "com_horizontal_speed_m_s",
    "contact_phases",
    "detect_foot_contacts",
    "detect_foot_events",
    "flight_phases",
    "joint_angles",
    "joint_centre_kinematics",
    "linear_acceleration_m_s2",
    "linear_velocity_m_s",
    "movement_metrics",
    "range_of_motion",
    "segment_angles",
    "segment_com",
    "segment_endpoints",
    "segment_inertia",
    "segment_lengths_m",
    "whole_body_com",
]
