from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from spacecomputer.biomech._body_model import (
    BodyModel,
    Sex,
    head_segment_length_m,
    segment_com,
    segment_endpoints,
    segment_inertia,
    segment_lengths_m,
    whole_body_com,
)
from spacecomputer.domain import BLAZEPOSE_33, CoordinateFrame, PoseSequence, Skeleton
from spacecomputer.errors import InvalidInputError, InvalidPoseDataError

UP = np.array([0.0, 0.0, 1.0])  # the T-pose is built z up, x to the athlete's left, y forward

# A T-pose symmetric about the plane x = 0, metres: (x, y, z) of each landmark on the athlete's left; the
# right side mirrors x. Centre landmarks (nose) sit on the plane.
_LEFT_T_POSE = {
    "eye_inner": (0.015, 0.09, 1.66),
    "eye": (0.032, 0.085, 1.66),
    "eye_outer": (0.048, 0.08, 1.66),
    "ear": (0.075, 0.0, 1.63),
    "shoulder": (0.19, 0.0, 1.45),
    "elbow": (0.48, 0.0, 1.45),
    "wrist": (0.74, 0.0, 1.45),
    "pinky": (0.82, -0.03, 1.45),
    "index": (0.83, 0.03, 1.45),
    "thumb": (0.78, 0.05, 1.45),
    "hip": (0.09, 0.0, 0.95),
    "knee": (0.10, 0.0, 0.52),
    "ankle": (0.10, 0.0, 0.09),
    "heel": (0.10, -0.05, 0.04),
    "foot_index": (0.11, 0.17, 0.01),
}


def t_pose() -> NDArray[np.float64]:
    pose = np.full((33, 3), np.nan)
    pose[BLAZEPOSE_33.index("nose")] = (0.0, 0.11, 1.62)
    for side, sign in (("left", 1.0), ("right", -1.0)):
        for name, (x, y, z) in _LEFT_T_POSE.items():
            pose[BLAZEPOSE_33.index(f"{side}_{name}")] = (sign * x, y, z)
        pose[BLAZEPOSE_33.index(f"mouth_{side}")] = (sign * 0.025, 0.09, 1.56)
    assert not np.isnan(pose).any()
    return pose


def sequence_of(positions: NDArray[np.float64], frame: CoordinateFrame = CoordinateFrame.WORLD) -> PoseSequence:
    n = positions.shape[0]
    return PoseSequence(
        positions=positions,
        confidence=np.ones((n, positions.shape[1])),
        timestamps_s=np.arange(n) / 30.0,
        fps=30.0,
        frame=frame,
    )


def point(name: str) -> NDArray[np.float64]:
    return np.asarray(t_pose()[BLAZEPOSE_33.index(name)], dtype=np.float64)


MALE = BodyModel.from_anthropometry(mass_kg=80.0, height_m=1.80, sex=Sex.MALE)


# -- the table ------------------------------------------------------------------------------------


@pytest.mark.parametrize("sex", [Sex.FEMALE, Sex.MALE, None])
def test_mass_fractions_sum_to_one(sex: Sex | None) -> None:
    model = BodyModel.from_anthropometry(mass_kg=70.0, height_m=1.7, sex=sex)
    # de Leva's female column sums to 99.99 % (rounding in the printed table), the male one to 100.00 %.
    assert sum(s.mass_fraction for s in model.segments) == pytest.approx(1.0, abs=1.5e-4)
    assert sum(model.segment_masses_kg.values()) == pytest.approx(70.0, abs=0.011)


@pytest.mark.parametrize(
    ("sex", "segment", "field", "value"),
    [
        (Sex.MALE, "left_thigh", "mass_fraction", 0.1416),
        (Sex.FEMALE, "right_thigh", "com_fraction", 0.3612),
        (Sex.FEMALE, "trunk", "com_fraction", 0.3782),
        (Sex.MALE, "trunk", "gyration_longitudinal_fraction", 0.197),
        (Sex.MALE, "head", "com_fraction", 0.5002),
        (Sex.FEMALE, "head", "gyration_transverse_fraction", 0.295),
        (Sex.MALE, "left_hand", "gyration_sagittal_fraction", 0.628),
        (Sex.FEMALE, "left_shank", "gyration_longitudinal_fraction", 0.092),
        (Sex.MALE, "right_foot", "com_fraction", 0.4415),
        (None, "left_thigh", "mass_fraction", (0.1416 + 0.1478) / 2),
        (None, "trunk", "com_fraction", (0.4310 + 0.3782) / 2),
    ],
)
def test_parameters_are_de_levas(sex: Sex | None, segment: str, field: str, value: float) -> None:
    model = BodyModel.from_anthropometry(mass_kg=None, height_m=None, sex=sex)
    assert getattr(model.segment(segment), field) == pytest.approx(value, abs=1e-12)


def test_segments_cover_the_body_and_mirror() -> None:
    names = [s.name for s in MALE.segments]
    limbs = ["upper_arm", "forearm", "hand", "thigh", "shank", "foot"]
    assert sorted(names) == sorted(["head", "trunk", *[f"{side}_{k}" for side in ("left", "right") for k in limbs]])
    for segment in MALE.segments:
        for end in (segment.proximal, segment.distal):
            for landmark in end.landmarks:
                BLAZEPOSE_33.index(landmark)
        if segment.name.startswith("left_"):
            right = MALE.segment(segment.name.replace("left_", "right_"))
            assert right.mass_fraction == segment.mass_fraction
            assert right.proximal.landmarks == tuple(n.replace("left_", "right_") for n in segment.proximal.landmarks)
    with pytest.raises(KeyError, match="left_thigh"):
        MALE.segment("tail")


# -- anthropometry --------------------------------------------------------------------------------


def test_missing_values_are_assumed_and_recorded() -> None:
    model = BodyModel.from_anthropometry(mass_kg=None, height_m=None, sex=None)
    assert (model.mass_kg, model.height_m, model.sex) == (70.0, 1.70, None)
    notes = " | ".join(model.defaults_used)
    assert len(model.defaults_used) == 3
    assert "mass not given: 70 kg assumed" in notes
    assert "height not given: 1.70 m assumed" in notes
    assert "sex not given" in notes
    assert "mean" in notes
    given_all = BodyModel.from_anthropometry(mass_kg=61.5, height_m=1.62, sex="Female")
    assert (given_all.sex, given_all.defaults_used) == (Sex.FEMALE, ())


@pytest.mark.parametrize(
    ("mass_kg", "height_m", "sex", "match"),
    [
        (0.0, 1.7, None, "kilograms"),
        (-70.0, 1.7, None, "kilograms"),
        (math.nan, 1.7, None, "kilograms"),
        (math.inf, 1.7, None, "kilograms"),
        (301.0, 1.7, None, "kilograms"),
        (True, 1.7, None, "kilograms"),
        ("70", 1.7, None, "kilograms"),
        (70.0, 165.0, None, r"probably centimetres: did you mean 1\.65 m"),
        (70.0, 0.0, None, "metres"),
        (70.0, -1.7, None, "metres"),
        (70.0, 2.7, None, "metres"),
        (70.0, math.nan, None, "metres"),
        (70.0, 1.7, "other", "female"),
    ],
)
def test_bad_anthropometry_is_refused(mass_kg: object, height_m: object, sex: object, match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        BodyModel.from_anthropometry(mass_kg=mass_kg, height_m=height_m, sex=sex)  # type: ignore[arg-type]


def test_direct_construction_is_validated_too() -> None:
    with pytest.raises(InvalidInputError, match="metres"):
        BodyModel(mass_kg=70.0, height_m=170.0, sex=None, segments=MALE.segments)
    with pytest.raises(InvalidInputError, match="distinct"):
        BodyModel(mass_kg=70.0, height_m=1.7, sex=None, segments=(MALE.segments[0], MALE.segments[0]))


@given(mass_kg=st.floats(allow_nan=True, allow_infinity=True), height_m=st.floats(allow_nan=True))
def test_anthropometry_is_kept_or_refused(mass_kg: float, height_m: float) -> None:
    plausible = 15.0 <= mass_kg <= 300.0 and 0.5 <= height_m <= 2.6
    if plausible:
        model = BodyModel.from_anthropometry(mass_kg=mass_kg, height_m=height_m, sex=Sex.MALE)
        assert (model.mass_kg, model.height_m) == (mass_kg, height_m)
    else:
        with pytest.raises(InvalidInputError):
            BodyModel.from_anthropometry(mass_kg=mass_kg, height_m=height_m, sex=Sex.MALE)


# -- geometry -------------------------------------------------------------------------------------


def test_head_vertex_is_above_the_shoulders_by_the_head_allowance() -> None:
    sequence = sequence_of(t_pose()[None])
    leg_m = sum(
        float(np.linalg.norm(point(f"left_{a}") - point(f"left_{b}")))
        for a, b in (("heel", "ankle"), ("ankle", "knee"), ("knee", "hip"))
    )
    shoulder_height_m = leg_m + (point("left_shoulder")[2] - point("left_hip")[2])
    expected_m = shoulder_height_m * (1 - 0.818) / 0.818
    assert head_segment_length_m(sequence) == pytest.approx(expected_m, rel=1e-12)
    vertex, cervicale = segment_endpoints(sequence, MALE.segment("head"))
    np.testing.assert_allclose(cervicale[0], (0.0, 0.0, 1.45), atol=1e-12)
    np.testing.assert_allclose(vertex[0], (0.0, 0.0, 1.45 + expected_m), atol=1e-12)


@pytest.mark.parametrize("sex", [Sex.FEMALE, Sex.MALE, None])
def test_t_pose_com_is_on_the_midline_at_the_expected_height(sex: Sex | None) -> None:
    model = BodyModel.from_anthropometry(mass_kg=70.0, height_m=1.75, sex=sex)
    sequence = sequence_of(t_pose()[None])
    com = whole_body_com(sequence, model)[0]
    assert com[0] == pytest.approx(0.0, abs=1e-12)
    # By hand: each segment's COM height from the T-pose's coordinates, weighted by the mass fractions.
    head_top_z = 1.45 + head_segment_length_m(sequence)
    ends_z = {
        "head": (head_top_z, 1.45),
        "trunk": (1.45, 0.95),
        "upper_arm": (1.45, 1.45),
        "forearm": (1.45, 1.45),
        "hand": (1.45, 1.45),
        "thigh": (0.95, 0.52),
        "shank": (0.52, 0.09),
        "foot": (0.04, 0.01),
    }
    weighted = 0.0
    for segment in model.segments:
        top, bottom = ends_z[segment.name.removeprefix("left_").removeprefix("right_")]
        weighted += segment.mass_fraction * (top + segment.com_fraction * (bottom - top))
    expected_z = weighted / sum(s.mass_fraction for s in model.segments)
    assert float(com @ UP) == pytest.approx(expected_z, abs=1e-12)
    # A standing body's COM lies a little above the hip joints, below the shoulders.
    assert 0.95 < float(com @ UP) < 1.10


def random_pose(seed: int, n_frames: int) -> NDArray[np.float64]:
    noise = np.random.default_rng(seed).normal(scale=0.05, size=(n_frames, 33, 3))
    return np.asarray(t_pose()[None] + noise, dtype=np.float64)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    rotation_vector=st.tuples(*[st.floats(-math.pi, math.pi)] * 3),
    translation_m=st.tuples(*[st.floats(-50.0, 50.0)] * 3),
)
def test_com_moves_with_the_body(
    seed: int, rotation_vector: tuple[float, float, float], translation_m: tuple[float, float, float]
) -> None:
    positions = random_pose(seed, 4)
    rotation = Rotation.from_rotvec(rotation_vector).as_matrix()
    moved = positions @ rotation.T + np.array(translation_m)
    com = whole_body_com(sequence_of(positions), MALE)
    moved_com = whole_body_com(sequence_of(moved), MALE)
    np.testing.assert_allclose(moved_com, com @ rotation.T + np.array(translation_m), atol=1e-9)
    lengths = segment_lengths_m(sequence_of(positions), MALE)
    assert segment_lengths_m(sequence_of(moved), MALE) == pytest.approx(lengths, rel=1e-9)


def test_body_mass_does_not_move_the_com() -> None:
    sequence = sequence_of(random_pose(3, 5))
    light = BodyModel.from_anthropometry(mass_kg=40.0, height_m=1.6, sex=Sex.FEMALE)
    heavy = BodyModel.from_anthropometry(mass_kg=120.0, height_m=1.6, sex=Sex.FEMALE)
    np.testing.assert_allclose(whole_body_com(sequence, light), whole_body_com(sequence, heavy), rtol=0, atol=1e-15)
    assert heavy.segment_masses_kg["trunk"] == pytest.approx(3 * light.segment_masses_kg["trunk"])


@pytest.mark.parametrize("landmark", ["left_index", "right_pinky", "left_wrist"])
def test_a_missing_hand_landmark_blanks_that_frame_only(landmark: str) -> None:
    positions = random_pose(7, 6)
    positions[2, BLAZEPOSE_33.index(landmark)] = np.nan
    sequence = sequence_of(positions)
    com = whole_body_com(sequence, MALE)
    assert np.isnan(com[2]).all()
    assert np.isfinite(np.delete(com, 2, axis=0)).all()
    segments = segment_com(sequence, MALE)
    blanked = {name for name, c in segments.items() if np.isnan(c).any()}
    assert blanked == ({f"{landmark.split('_')[0]}_hand"} | ({"left_forearm"} if landmark == "left_wrist" else set()))


_LIMB_AND_FACE = [
    i for i, n in enumerate(BLAZEPOSE_33.joint_names) if not n.endswith(("hip", "knee", "ankle", "heel", "shoulder"))
]


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_frames=st.integers(1, 6), n_missing=st.integers(0, 8))
def test_com_is_nan_exactly_where_a_landmark_it_needs_is_missing(seed: int, n_frames: int, n_missing: int) -> None:
    rng = np.random.default_rng(seed)
    positions = rng.uniform(-2.0, 2.0, size=(n_frames, 33, 3))
    frames = rng.integers(0, n_frames, size=n_missing)
    joints = rng.choice(_LIMB_AND_FACE, size=n_missing)
    positions[frames, joints] = np.nan
    sequence = sequence_of(positions)
    used = {BLAZEPOSE_33.index(n) for s in MALE.segments for e in (s.proximal, s.distal) for n in e.landmarks}
    used |= {BLAZEPOSE_33.index(n) for n in ("left_shoulder", "right_shoulder")}
    expected_nan = np.isnan(positions[:, sorted(used)]).any(axis=(1, 2))
    com = whole_body_com(sequence, MALE)
    np.testing.assert_array_equal(np.isnan(com).any(axis=1), expected_nan)
    np.testing.assert_array_equal(np.isnan(com).all(axis=1), expected_nan)
    # A mass-weighted mean of the segment COMs lies inside their bounding box.
    stacked = np.stack(list(segment_com(sequence, MALE).values()))[:, ~expected_nan]
    inside = com[~expected_nan]
    assert np.all(inside >= stacked.min(axis=0) - 1e-9)
    assert np.all(inside <= stacked.max(axis=0) + 1e-9)


def test_head_needs_a_leg_and_the_trunk_somewhere() -> None:
    positions = random_pose(1, 3)
    for name in ("left_knee", "right_knee"):
        positions[:, BLAZEPOSE_33.index(name)] = np.nan
    sequence = sequence_of(positions)
    assert math.isnan(head_segment_length_m(sequence))
    assert np.isnan(segment_com(sequence, MALE)["head"]).all()
    assert np.isfinite(segment_com(sequence, MALE)["left_forearm"]).all()


# -- inertia --------------------------------------------------------------------------------------


def test_moments_of_inertia_use_the_median_segment_length() -> None:
    positions = np.repeat(t_pose()[None], 3, axis=0)
    hip, knee = BLAZEPOSE_33.index("right_hip"), BLAZEPOSE_33.index("right_knee")
    positions[1, knee] = positions[1, hip] + (0.0, 0.0, -0.60)  # one frame with a long thigh
    positions[2, knee] = np.nan
    inertia = segment_inertia(sequence_of(positions), MALE)["right_thigh"]
    thigh_m = float(np.linalg.norm(point("right_hip") - point("right_knee")))
    length_m = (thigh_m + 0.60) / 2  # the median of the two frames where the thigh is seen
    assert inertia.length_m == pytest.approx(length_m, rel=1e-12)
    mass_kg = 0.1416 * 80.0
    assert inertia.mass_kg == pytest.approx(mass_kg)
    assert inertia.sagittal_kg_m2 == pytest.approx(mass_kg * (0.329 * length_m) ** 2, rel=1e-12)
    assert inertia.transverse_kg_m2 == pytest.approx(mass_kg * (0.329 * length_m) ** 2, rel=1e-12)
    assert inertia.longitudinal_kg_m2 == pytest.approx(mass_kg * (0.149 * length_m) ** 2, rel=1e-12)


def test_a_segment_never_seen_has_nan_inertia() -> None:
    positions = random_pose(2, 2)
    positions[:, BLAZEPOSE_33.index("left_foot_index")] = np.nan
    inertia = segment_inertia(sequence_of(positions), MALE)
    assert math.isnan(inertia["left_foot"].sagittal_kg_m2)
    assert inertia["left_foot"].mass_kg == pytest.approx(0.0137 * 80.0)
    assert math.isfinite(inertia["right_foot"].longitudinal_kg_m2)


# -- bad sequences --------------------------------------------------------------------------------


def test_pixels_are_refused() -> None:
    with pytest.raises(InvalidPoseDataError, match="metric"):
        whole_body_com(sequence_of(random_pose(0, 2), CoordinateFrame.IMAGE), MALE)


def test_a_skeleton_without_blazepose_landmarks_is_refused() -> None:
    tiny = Skeleton(name="tiny", joint_names=("a", "b"), bones=())
    sequence = PoseSequence(
        positions=np.zeros((1, 2, 3)),
        confidence=np.ones((1, 2)),
        timestamps_s=np.zeros(1),
        fps=30.0,
        frame=CoordinateFrame.CAMERA,
        skeleton=tiny,
    )
    with pytest.raises(InvalidPoseDataError, match="BlazePose"):
        segment_endpoints(sequence, MALE.segment("trunk"))


# -- the real sample --------------------------------------------------------------------------------


@pytest.mark.slow
def test_real_sample_com_stays_between_feet_and_head(tmp_path: Path) -> None:
    from spacecomputer.pipeline import AnalyzeOptions, analyze_video
    from tests.conftest import SAMPLE_CALIBRATION, SAMPLE_VIDEO

    options = AnalyzeOptions(height_m=1.65, calibration_path=SAMPLE_CALIBRATION, overlay=False)
    analyze_video(SAMPLE_VIDEO, options, out_dir=tmp_path / "run")
    sequence = PoseSequence.from_parquet(tmp_path / "run" / "poses.parquet")
    assert sequence.frame is CoordinateFrame.WORLD  # a Pose2Sim calibration: z up
    model = BodyModel.from_anthropometry(mass_kg=None, height_m=1.65, sex=None)
    com_up = whole_body_com(sequence, model) @ UP
    up = sequence.positions @ UP
    feet_up = up[:, [BLAZEPOSE_33.index(f"{s}_{n}") for s in ("left", "right") for n in ("heel", "foot_index")]]
    head_up = up[:, [BLAZEPOSE_33.index(n) for n in ("nose", "left_ear", "right_ear")]]
    seen = np.isfinite(com_up)
    feet, head, com = feet_up[seen].mean(axis=1), head_up[seen].mean(axis=1), com_up[seen]
    # The clip ends with a few inverted and piked frames (hips above head and feet); judge the upright ones.
    upright = head - feet > 0.5 * 1.65
    assert upright.sum() > 0.7 * sequence.n_frames
    assert np.all(feet[upright] < com[upright])
    assert np.all(com[upright] < head[upright])
    # A standing or walking adult's COM is a little above half their height.
    assert 0.45 < float(np.median((com - feet)[upright] / 1.65)) < 0.65
