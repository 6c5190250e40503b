from __future__ import annotations

import dataclasses
from functools import cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from spacecomputer.athletes._align import Alignment, align_motions, common_angles, match_events
from spacecomputer.athletes._motion import Motion, MotionEvent, motion_from_sequence
from spacecomputer.athletes._reference import IMAGE_UP
from spacecomputer.errors import IncompatibleMotionError, InvalidInputError
from tests.athletes.clips import reference_motion

BOLT = "bolt-force-motion"


def warped(motion: Motion, *, amplitude: float, cycles: int) -> tuple[Motion, NDArray[np.float64]]:
    """The motion replayed along a smooth monotone time map, and the true (fractional) source row of each row.

    Row k of the result shows the pose of time ``w(t_k) = t_k + A·T/(2πc)·sin(2πc(t_k − t0)/T)``: the speed
    ``w' = 1 + A·cos(…)`` stays positive for ``A < 1``, and ``w`` maps the clip's span onto itself.
    """
    pose = motion.pose
    times = pose.timestamps_s
    start, span = float(times[0]), float(times[-1] - times[0])
    source_times = times + amplitude * span / (2 * np.pi * cycles) * np.sin(2 * np.pi * cycles * (times - start) / span)
    flat = pose.positions.reshape(len(times), -1)
    resampled = np.stack([np.interp(source_times, times, flat[:, c]) for c in range(flat.shape[1])], axis=1)
    warped_pose = pose.replace(positions=resampled.reshape(pose.positions.shape))
    rebuilt = motion_from_sequence(
        warped_pose, up=IMAGE_UP, name=f"{motion.name} (warped)", source="reference", draws=4
    )
    return rebuilt, (source_times - start) * pose.fps


@cache
def pairs() -> dict[str, tuple[Motion, Motion]]:
    bolt, pound = reference_motion(BOLT), reference_motion("pound")
    return {
        "bolt-pound": (bolt, pound),
        "pound-bolt": (pound, bolt),
        "bolt-mirrored": (bolt, bolt.mirrored()),
        "bolt-without-events": (dataclasses.replace(bolt, events=()), pound),
        "short-long": (truncated(bolt, 30), pound),
    }


def truncated(motion: Motion, frames: int) -> Motion:
    return dataclasses.replace(
        motion,
        pose=motion.pose[:frames],
        angles_deg={name: values[:frames] for name, values in motion.angles_deg.items()},
        events=tuple(event for event in motion.events if event.row < frames),
    )


def assert_valid_path(alignment: Alignment, a: Motion, b: Motion) -> None:
    path = alignment.path
    assert path.dtype == np.int64
    assert path.shape == (len(path), 2)
    assert len(path) >= 2
    assert not path.flags.writeable
    steps = np.diff(path, axis=0)
    assert np.all((steps == 0) | (steps == 1)), "each step advances a row by one at most"
    assert np.all(steps.sum(axis=1) >= 1), "no pair is repeated"
    assert path.min() >= 0
    assert path[:, 0].max() < a.n_frames
    assert path[:, 1].max() < b.n_frames
    on_path = {(int(x), int(y)) for x, y in path}
    for event_a, event_b in alignment.matched_events:
        assert (event_a.kind, event_a.foot) == (event_b.kind, event_b.foot)
        assert (event_a.row, event_b.row) in on_path
    for earlier, later in zip(alignment.matched_events, alignment.matched_events[1:], strict=False):
        assert later[0].row > earlier[0].row
        assert later[1].row > earlier[1].row
    for first, second in zip(alignment.segments, alignment.segments[1:], strict=False):
        assert (first.a_rows[1], first.b_rows[1]) == (second.a_rows[0], second.b_rows[0])


# --- recovering a known warp ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("amplitude", "cycles"), [(0.3, 1), (0.5, 1), (0.4, 2)])
@pytest.mark.parametrize("with_events", [True, False])
def test_dtw_recovers_a_known_time_warp_of_a_real_clip_within_two_frames(
    amplitude: float, cycles: int, with_events: bool
) -> None:
    reference = reference_motion(BOLT)
    motion, truth = warped(reference, amplitude=amplitude, cycles=cycles)
    if not with_events:
        motion = dataclasses.replace(motion, events=())
    alignment = align_motions(motion, reference)
    assert alignment.method == ("phases" if with_events else "whole_clip")
    assert_valid_path(alignment, motion, reference)
    inner = (alignment.path[:, 0] >= 5) & (alignment.path[:, 0] < motion.n_frames - 5)
    error = alignment.path[inner, 1] - truth[alignment.path[inner, 0]]
    assert inner.sum() > 150
    assert np.abs(error).max() <= 2.0


def test_a_clip_at_another_frame_rate_aligns_in_time() -> None:
    reference = reference_motion(BOLT)
    slower = motion_from_sequence(
        reference.pose.resample(fps_hz=20.0), up=IMAGE_UP, name="bolt at 20 fps", source="reference", draws=4
    )
    alignment = align_motions(slower, reference)
    assert alignment.time_step_s == pytest.approx(1 / 29.0)
    assert_valid_path(alignment, slower, reference)
    lag_s = slower.timestamps_s[alignment.path[:, 0]] - reference.timestamps_s[alignment.path[:, 1]]
    assert np.abs(lag_s).max() <= 2.0 / 20.0


def test_a_motion_aligned_with_itself_follows_the_diagonal() -> None:
    motion = reference_motion(BOLT)
    alignment = align_motions(motion, motion)
    assert alignment.method == "phases"
    assert alignment.note is None
    np.testing.assert_array_equal(alignment.path, np.stack([np.arange(motion.n_frames)] * 2, axis=1))
    assert alignment.segments[0].kind == "lead_in"
    assert alignment.segments[-1].kind == "tail"
    assert alignment.segments[1].label == "left foot strike → right toe-off"


# --- properties on real pairs -----------------------------------------------------------------------------------


@pytest.mark.parametrize("pair", ["bolt-pound", "pound-bolt", "bolt-mirrored", "bolt-without-events", "short-long"])
def test_paths_are_monotone_inside_both_clips_and_pass_through_matched_events(pair: str) -> None:
    a, b = pairs()[pair]
    alignment = align_motions(a, b)
    assert_valid_path(alignment, a, b)
    assert alignment.angles == common_angles(a, b)


def test_without_events_the_whole_clip_is_warped_and_the_note_says_so() -> None:
    a, b = pairs()["bolt-without-events"]
    alignment = align_motions(a, b)
    assert alignment.method == "whole_clip"
    assert alignment.matched_events == ()
    assert (
        alignment.note
        == f"{BOLT!r} has no foot events: aligned by DTW over the whole clip, its start and end pinned to the other's"
    )
    assert alignment.path[0].tolist() == [0, 0]
    assert alignment.path[-1].tolist() == [a.n_frames - 1, b.n_frames - 1]


@pytest.mark.parametrize("window_fraction", [0.001, 0.05, 1.0])
def test_a_narrow_window_never_makes_the_warping_infeasible(window_fraction: float) -> None:
    long = dataclasses.replace(reference_motion(BOLT), events=())
    short = truncated(long, 12)
    alignment = align_motions(short, long, window_fraction=window_fraction)
    assert_valid_path(alignment, short, long)
    assert alignment.path[-1].tolist() == [short.n_frames - 1, long.n_frames - 1]


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_gaps_in_the_angles_are_bridged(data: st.DataObject) -> None:
    a, b = reference_motion(BOLT), reference_motion("pound")
    angles = {}
    for name, values in a.angles_deg.items():
        start = data.draw(st.integers(0, a.n_frames - 1), label=f"{name} gap start")
        length = data.draw(st.integers(0, a.n_frames - 2), label=f"{name} gap length")
        holed = values.copy()
        holed[start : start + length] = np.nan
        if np.isfinite(holed).any():
            angles[name] = holed
    holed_motion = dataclasses.replace(a, angles_deg=angles)
    alignment = align_motions(holed_motion, b)
    assert_valid_path(alignment, holed_motion, b)


# --- events -----------------------------------------------------------------------------------------------------


def events(*spec: tuple[str, str, float]) -> list[MotionEvent]:
    return [MotionEvent(kind, foot, row=round(t * 100), time_s=t) for kind, foot, t in spec]  # type: ignore[arg-type]


def test_events_are_matched_by_kind_and_foot_in_time_order() -> None:
    a = events(("contact", "left", 0.0), ("toe_off", "left", 0.2), ("contact", "right", 0.5))
    b = events(
        ("contact", "right", 0.9), ("contact", "left", 1.0), ("toe_off", "left", 1.25), ("contact", "right", 1.6)
    )
    assert [(x.time_s, y.time_s) for x, y in match_events(a, b)] == [(0.0, 1.0), (0.2, 1.25), (0.5, 1.6)]
    assert match_events(a, []) == ()


def test_a_spurious_event_does_not_pair_a_few_frames_with_a_whole_stride() -> None:
    # b has an extra toe-off/contact a few frames apart: pairing a's stride with it would squeeze 0.5 s into 0.05 s
    a = events(("contact", "left", 0.0), ("toe_off", "left", 0.5), ("contact", "left", 1.0))
    b = events(("contact", "left", 0.0), ("toe_off", "left", 0.45), ("contact", "left", 0.5), ("contact", "left", 1.05))
    matched = match_events(a, b)
    assert [(x.time_s, y.time_s) for x, y in matched] == [(0.0, 0.0), (0.5, 0.45), (1.0, 1.05)]
    cut = b[:3]  # without the later contact, only a tempo-blind match pairs a's second contact with b's spurious one
    assert [(x.time_s, y.time_s) for x, y in match_events(a, cut)] == [(0.0, 0.0), (0.5, 0.45)]
    assert [y.time_s for _, y in match_events(a, cut, max_tempo_ratio=100.0)] == [0.0, 0.45, 0.5]


def test_events_in_one_frame_are_not_both_kept_as_anchors() -> None:
    motion = reference_motion("pound")
    rows = [event.row for event in motion.events]
    assert len(rows) != len(set(rows)), "pound has two events in one frame"
    alignment = align_motions(motion, motion)
    anchors = [pair[0].row for pair in alignment.matched_events]
    assert len(anchors) == len(set(anchors))


# --- refusals ---------------------------------------------------------------------------------------------------


def test_motions_without_a_common_angle_are_refused() -> None:
    bolt = reference_motion(BOLT)
    knees = dataclasses.replace(bolt, angles_deg={"left_knee_flexion": bolt.angles_deg["left_knee_flexion"]})
    elbows = dataclasses.replace(bolt, angles_deg={"left_elbow_flexion": bolt.angles_deg["left_elbow_flexion"]})
    with pytest.raises(IncompatibleMotionError, match="no joint angle in common"):
        align_motions(knees, elbows)
    with pytest.raises(IncompatibleMotionError, match="left_elbow_flexion"):
        align_motions(knees, bolt, angles=["left_elbow_flexion"])


@pytest.mark.parametrize(("window_fraction", "tempo"), [(0.0, 2.0), (1.5, 2.0), (0.2, 0.5)])
def test_invalid_tuning_is_refused(window_fraction: float, tempo: float) -> None:
    bolt = reference_motion(BOLT)
    with pytest.raises(InvalidInputError):
        align_motions(bolt, bolt, window_fraction=window_fraction, max_tempo_ratio=tempo)
