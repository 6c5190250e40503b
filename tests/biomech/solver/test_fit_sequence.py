from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from numpy.typing import NDArray

from spacecomputer.biomech import joint_angles
from spacecomputer.biomech.solver import DOF_NAMES, JOINT_NAMES, SkeletonModel, SkeletonTrack, fit_skeleton_to_sequence
from spacecomputer.biomech.solver._dofs import LANDMARK_JOINTS
from spacecomputer.domain import BLAZEPOSE_33, CoordinateFrame, PoseSequence
from spacecomputer.errors import InsufficientDataError, InvalidPoseDataError
from tests.biomech.scene import UP

FRAMES = 20
NOISE_M = 0.01
FACE = (
    "left_eye_inner",
    "left_eye",
    "left_eye_outer",
    "right_eye_inner",
    "right_eye",
    "right_eye_outer",
    "mouth_left",
    "mouth_right",
)
HEAD = ("nose", "left_ear", "right_ear")
MISSING = {3: "nose", 5: "left_ear", 8: "right_eye", 9: "left_thumb", 12: "mouth_left"}
"""Frame → a landmark missing there (none of them core: the frames are still fitted)."""
UNFITTED_FRAME, CORE_MISSING = 6, "right_knee"


def column(name: str) -> int:
    return BLAZEPOSE_33.index(name)


def athlete_in_motion(model: SkeletonModel, rng: np.random.Generator, n: int) -> NDArray[np.float64]:
    """(n, 33, 3) every landmark of the model's poses walking forward, joints in the middle half of their ranges.

    The eyes and mouth sit at fixed offsets from the nose, the thumb near the knuckle point, and the index and
    pinky either side of it (their mean is the knuckle point).
    """
    lower, upper = model.bounds()
    lower = np.where(np.isfinite(lower), lower, -0.5)
    upper = np.where(np.isfinite(upper), upper, 0.5)
    centre, half_range = 0.5 * (lower + upper), 0.5 * (upper - lower)
    q = rng.uniform(centre - 0.5 * half_range, centre + 0.5 * half_range, size=(n, lower.size))
    q[:, DOF_NAMES.index("pelvis_tx")] = np.linspace(0.0, 1.5, n)
    positions = np.array(model.to_sequence(q).positions)
    for name in FACE:
        positions[:, column(name)] = positions[:, column("nose")] + rng.normal(0.0, 0.03, 3)
    for side in ("left", "right"):
        knuckle = positions[:, column(f"{side}_index")].copy()
        across = rng.normal(0.0, 0.02, 3)
        positions[:, column(f"{side}_index")] = knuckle + across
        positions[:, column(f"{side}_pinky")] = knuckle - across
        positions[:, column(f"{side}_thumb")] = knuckle + rng.normal(0.0, 0.03, 3)
    assert np.isfinite(positions).all()
    return positions


@dataclass(frozen=True)
class Fitted:
    truth: NDArray[np.float64]
    """(T, 33, 3) the noise-free landmarks."""
    sequence: PoseSequence
    """The noisy input, with the landmarks of :data:`MISSING` and one core landmark missing."""
    track: SkeletonTrack

    @property
    def before(self) -> NDArray[np.float64]:
        return np.asarray(self.sequence.positions)

    @property
    def after(self) -> NDArray[np.float64]:
        return np.asarray(self.track.sequence.positions)

    @property
    def knuckle_points(self) -> dict[str, NDArray[np.float64]]:
        """Side → (T, 3) the fitted knuckle point (NaN where the frame was not fitted)."""
        q = self.track.fits.q
        points = np.full((q.shape[0], len(JOINT_NAMES), 3), np.nan)
        points[self.track.fitted] = self.track.model.points(q[self.track.fitted])
        return {side: points[:, JOINT_NAMES.index(f"{side}_hand")] for side in ("left", "right")}


def noisy_sequence_of(truth: NDArray[np.float64], rng: np.random.Generator) -> PoseSequence:
    positions = truth + rng.normal(0.0, NOISE_M, truth.shape)
    for frame, name in (*MISSING.items(), (UNFITTED_FRAME, CORE_MISSING)):
        positions[frame, column(name)] = np.nan
    confidence = np.where(np.isfinite(positions).all(axis=2), rng.uniform(0.3, 1.0, positions.shape[:2]), 0.0)
    return PoseSequence(
        positions=positions,
        confidence=confidence,
        timestamps_s=0.5 + np.arange(truth.shape[0]) / 25.0,
        fps=25.0,
        frame=CoordinateFrame.CAMERA,
        frame_indices=10 + 2 * np.arange(truth.shape[0]),
    )


@pytest.fixture(scope="module")
def fitted(model: SkeletonModel) -> Fitted:
    rng = np.random.default_rng(21)
    truth = athlete_in_motion(model, rng, FRAMES)
    sequence = noisy_sequence_of(truth, rng)
    return Fitted(truth, sequence, fit_skeleton_to_sequence(sequence, up=UP))


def test_the_output_keeps_the_inputs_frames_time_and_confidence(fitted: Fitted) -> None:
    before, after = fitted.sequence, fitted.track.sequence
    assert after.positions.shape == before.positions.shape
    assert after.frame == before.frame
    assert after.fps == before.fps
    for name in ("timestamps_s", "confidence", "frame_indices", "flags"):
        np.testing.assert_array_equal(getattr(after, name), getattr(before, name), err_msg=name)
    assert fitted.track.model.frame == before.frame


def test_the_fitted_bones_keep_their_lengths_in_every_frame(fitted: Fitted) -> None:
    frames = fitted.after[fitted.track.fitted]
    lengths = {
        pair: length
        for pair, length in fitted.track.model.bone_lengths_m().items()
        if set(pair) <= set(LANDMARK_JOINTS)
    }
    assert len(lengths) >= 15
    for (a, b), length in lengths.items():
        distance = np.linalg.norm(frames[:, column(a)] - frames[:, column(b)], axis=1)
        seen = np.isfinite(distance)
        assert seen.sum() >= FRAMES - 3, (a, b)
        assert distance[seen].std() < 1e-6, (a, b)
        assert distance[seen] == pytest.approx(np.full(seen.sum(), length), abs=1e-6), (a, b)


def test_the_fitted_landmarks_are_closer_to_the_truth_than_the_noisy_ones(fitted: Fitted) -> None:
    modelled = [column(name) for name in LANDMARK_JOINTS]
    frames = fitted.track.fitted

    def rms_error_m(positions: NDArray[np.float64]) -> float:
        error = np.linalg.norm(positions[frames][:, modelled] - fitted.truth[frames][:, modelled], axis=2)
        return float(np.sqrt(np.nanmean(error**2)))

    noisy, on_skeleton = rms_error_m(fitted.before), rms_error_m(fitted.after)
    assert noisy == pytest.approx(NOISE_M * np.sqrt(3), rel=0.15)
    assert on_skeleton < 0.9 * noisy


def test_landmarks_missing_from_the_input_stay_missing(fitted: Fitted) -> None:
    np.testing.assert_array_equal(np.isnan(fitted.after), np.isnan(fitted.before))
    for frame, name in MISSING.items():
        assert fitted.track.fitted[frame]
        assert np.isnan(fitted.after[frame, column(name)]).all()


def test_the_face_moves_with_the_nose_and_ears(fitted: Fitted) -> None:
    moved = fitted.after - fitted.before
    head = [column(name) for name in HEAD]
    for frame in np.flatnonzero(fitted.track.fitted):
        head_shift = np.nanmean(moved[frame, head], axis=0)  # the seen ones: the nose is missing in frame 3
        assert np.isfinite(head_shift).all()
        for name in FACE:
            if np.isfinite(fitted.before[frame, column(name)]).all():
                assert moved[frame, column(name)] == pytest.approx(head_shift, abs=1e-12), (frame, name)


def test_the_fingers_follow_the_fitted_wrist_and_keep_the_hands_own_orientation(fitted: Fitted) -> None:
    frames = fitted.track.fitted
    for side in ("left", "right"):
        wrist = column(f"{side}_wrist")
        shift = fitted.after[frames, wrist] - fitted.before[frames, wrist]
        for finger in (column(f"{side}_{name}") for name in ("index", "pinky", "thumb")):
            moved = fitted.after[frames, finger] - fitted.before[frames, finger]
            seen = np.isfinite(moved).all(axis=1)
            assert seen.sum() >= FRAMES - 2
            assert moved[seen] == pytest.approx(shift[seen], abs=1e-12)
            # so each finger keeps its observed offset from the wrist: the wrist's own angle is not frozen
            offset_after = fitted.after[frames, finger] - fitted.after[frames, wrist]
            offset_before = fitted.before[frames, finger] - fitted.before[frames, wrist]
            assert offset_after[seen] == pytest.approx(offset_before[seen], abs=1e-12)


def test_a_frame_missing_a_core_landmark_is_left_as_it_was(fitted: Fitted) -> None:
    expected = np.ones(FRAMES, dtype=bool)
    expected[UNFITTED_FRAME] = False
    np.testing.assert_array_equal(fitted.track.fitted, expected)
    np.testing.assert_array_equal(fitted.after[UNFITTED_FRAME], fitted.before[UNFITTED_FRAME])
    displacement = fitted.track.displacement_m()
    assert np.isnan(displacement[UNFITTED_FRAME])
    assert displacement[expected] == pytest.approx(fitted.track.fits.residual_rms_m[expected])
    assert (displacement[expected] > 0.2 * NOISE_M).all()
    assert (displacement[expected] < 3 * NOISE_M).all()


def test_the_engines_joint_angles_on_the_output_are_the_skeletons(fitted: Fitted) -> None:
    frames = fitted.track.fitted
    engine = joint_angles(fitted.track.sequence, up=UP)
    skeleton = fitted.track.model.engine_angles_deg(fitted.track.fits.q[frames])
    assert len(skeleton) >= 15
    for name, values in skeleton.items():
        np.testing.assert_allclose(engine[name].values_deg[frames], values, rtol=0.0, atol=1e-6, err_msg=name)
    for name in ("left_knee_flexion", "right_elbow_flexion", "right_hip_flexion"):
        coordinate = np.degrees(fitted.track.fits.q[frames, DOF_NAMES.index(name)])
        np.testing.assert_allclose(engine[name].values_deg[frames], coordinate, rtol=0.0, atol=1e-6, err_msg=name)


def test_a_barely_visible_landmark_pulls_the_skeleton_less(model: SkeletonModel) -> None:
    truth = athlete_in_motion(model, np.random.default_rng(22), 10)
    truth[4, column("left_wrist")] += (0.0, 0.15, 0.15)
    confidence = np.ones(truth.shape[:2])
    seen = PoseSequence(truth, confidence, np.arange(10) / 30.0, 30.0, CoordinateFrame.WORLD)
    confidence[4, column("left_wrist")] = 0.0
    unseen = PoseSequence(truth, confidence, np.arange(10) / 30.0, 30.0, CoordinateFrame.WORLD)
    gap = {}
    for visible, sequence in ((True, seen), (False, unseen)):
        fits = fit_skeleton_to_sequence(sequence, up=UP).fits
        gap[visible] = fits.distance_m[4, fits.point_names.index("left_wrist")]
    assert gap[False] > gap[True] + 0.01


def test_a_missing_index_finger_does_not_hide_the_pinky_and_thumb(model: SkeletonModel) -> None:
    positions = athlete_in_motion(model, np.random.default_rng(23), 5)
    positions[2, column("left_index")] = np.nan
    sequence = PoseSequence(positions, np.ones((5, 33)), np.arange(5) / 30.0, 30.0, CoordinateFrame.WORLD)
    after = fit_skeleton_to_sequence(sequence, up=UP).sequence.positions
    assert np.isfinite(after[2, column("left_pinky")]).all()
    assert np.isfinite(after[2, column("left_thumb")]).all()


@pytest.mark.parametrize("frame", [CoordinateFrame.IMAGE, CoordinateFrame.NORMALIZED])
def test_a_sequence_not_in_metres_is_refused(fitted: Fitted, frame: CoordinateFrame) -> None:
    with pytest.raises(InvalidPoseDataError, match="metric"):
        fit_skeleton_to_sequence(fitted.sequence.replace(frame=frame), up=UP)


def test_a_body_dimension_never_seen_is_refused(fitted: Fitted) -> None:
    positions = np.array(fitted.sequence.positions)
    positions[:, column("left_knee")] = np.nan
    with pytest.raises(InsufficientDataError, match="left_thigh"):
        fit_skeleton_to_sequence(fitted.sequence.replace(positions=positions), up=UP)
