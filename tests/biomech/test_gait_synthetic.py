"""A synthetic run and walk with known cadence, step length, contact and flight times (issue 3, §9).

Tolerances, from how the detector samples (``_events``): an initial contact is found within one frame of the
built one; a toe-off within 1.5 frames, because the central-difference vertical speed of the first lifted frame
averages the still frame before it, so a foot that lifts off at under 2 m/s can read still for one frame more.
On the frame grid (cadence 180 and 120 steps/min at 60 and 240 fps) the contact is found on its frame and the
toe-off one frame late, so a contact reads one frame long and a flight one frame short.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from spacecomputer.biomech import BodyModel, detect_foot_contacts, movement_metrics
from spacecomputer.biomech._movement_metrics import MetricValue
from tests.biomech.gait_motions import UP, gait

MODEL = BodyModel.from_anthropometry(mass_kg=70.0, height_m=1.75, sex=None)
GAITS = {
    "run": {},
    "walk": {"cadence_steps_per_min": 120.0, "step_length_m": 0.7, "contact_time_s": 0.6},
    "off-grid run": {"cadence_steps_per_min": 172.0, "step_length_m": 1.1, "contact_time_s": 0.17},
}
FPS = (60.0, 240.0)


def _metric(metrics: list[MetricValue], name: str) -> MetricValue:
    (metric,) = [m for m in metrics if m.name == name]
    return metric


def _value(metrics: list[MetricValue], name: str) -> float:
    metric = _metric(metrics, name)
    assert metric.available, metric.reason
    assert metric.value is not None
    return metric.value


@pytest.mark.parametrize("fps", FPS)
@pytest.mark.parametrize("kind", GAITS)
def test_detected_contacts_and_toe_offs_match_the_built_ones(kind: str, fps: float) -> None:
    sequence, truth = gait(fps=fps, **GAITS[kind])
    last_s = sequence.timestamps_s[-1]
    frame_s = 1.0 / fps
    # An event needs a frame before it, and a toe-off a frame after the foot lifts.
    expected = sorted(
        [(foot, "contact", on) for foot, on, _ in truth.contacts if 0.0 < on <= last_s - frame_s]
        + [(foot, "toe_off", off) for foot, _, off in truth.contacts if 0.0 < off <= last_s - frame_s],
        key=lambda event: event[2],
    )
    found = detect_foot_contacts(sequence, up=UP).events
    assert [(e.foot, e.kind) for e in found] == [(foot, kind) for foot, kind, _ in expected]
    for event, (_, _, built_s) in zip(found, expected, strict=True):
        late_frames = (event.time_s - built_s) / frame_s
        if event.kind == "contact":
            assert abs(late_frames) <= 1.0 + 1e-9, event
        else:
            assert 0.0 <= late_frames <= 1.5, event
    contact_feet = [e.foot for e in found if e.kind == "contact"]
    assert all(a != b for a, b in itertools.pairwise(contact_feet))


@pytest.mark.parametrize("fps", FPS)
@pytest.mark.parametrize("kind", GAITS)
def test_sprint_metrics_match_the_built_gait(kind: str, fps: float) -> None:
    sequence, truth = gait(fps=fps, **GAITS[kind])
    metrics = movement_metrics(sequence, up=UP, sport="sprint", body_model=MODEL)
    frame_s = 1.0 / fps
    # Feet are planted exactly where they were put, whatever the sampling: the step length is exact.
    assert _value(metrics, "step_length_m") == pytest.approx(truth.step_length_m, abs=1e-9)
    assert 1.0 / _value(metrics, "step_frequency_hz") == pytest.approx(1.0 / truth.step_frequency_hz, abs=frame_s)
    assert _value(metrics, "ground_contact_time_s") == pytest.approx(truth.contact_time_s, abs=1.5 * frame_s)
    if truth.flight_time_s is None:
        flight = _metric(metrics, "flight_time_s")
        assert not flight.available
        assert "no flight" in (flight.reason or "")
    else:
        assert _value(metrics, "flight_time_s") == pytest.approx(truth.flight_time_s, abs=1.5 * frame_s)
    # The pelvis glides at the built speed; the swinging feet (2.7 % of the mass) make the COM speed ripple.
    assert _value(metrics, "com_horizontal_speed_mean_m_s") == pytest.approx(truth.speed_m_s, rel=0.005)


@pytest.mark.parametrize("fps", FPS)
def test_on_the_frame_grid_contacts_read_one_frame_long_and_flights_one_frame_short(fps: float) -> None:
    sequence, truth = gait(fps=fps)
    metrics = movement_metrics(sequence, up=UP, sport="sprint", body_model=MODEL)
    assert _value(metrics, "step_frequency_hz") == pytest.approx(truth.step_frequency_hz, rel=1e-9)
    assert _value(metrics, "ground_contact_time_s") == pytest.approx(truth.contact_time_s + 1.0 / fps, abs=1e-9)
    assert truth.flight_time_s is not None
    assert _value(metrics, "flight_time_s") == pytest.approx(truth.flight_time_s - 1.0 / fps, abs=1e-9)


def test_step_length_is_measured_along_the_direction_of_travel() -> None:
    # The feet are 0.2 m apart sideways: the straight heel-to-heel distance would read sqrt(1.2² + 0.2²) m.
    sequence, _ = gait(fps=60.0)
    positions = np.array(sequence.positions)
    heading = np.radians(35.0)
    turn = np.array([[np.cos(heading), -np.sin(heading), 0.0], [np.sin(heading), np.cos(heading), 0.0], [0, 0, 1]])
    turned = sequence.replace(positions=positions @ turn.T)
    metrics = movement_metrics(turned, up=UP, sport="sprint", body_model=MODEL)
    assert _value(metrics, "step_length_m") == pytest.approx(1.2, abs=1e-9)
