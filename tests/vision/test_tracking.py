from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import av
import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.typing import NDArray

from spacecomputer.domain._frames import CoordinateFrame
from spacecomputer.domain._pose_frame import PoseFrame
from spacecomputer.domain._pose_sequence import PoseFlag, PoseSequence
from spacecomputer.domain._skeleton import BLAZEPOSE_33
from spacecomputer.errors import InvalidInputError, InvalidPoseDataError
from spacecomputer.vision._pose import BlazePoseEstimator, PoseEstimator
from spacecomputer.vision._tracking import (
    AthleteTracker,
    SwapState,
    TrackedPose,
    TrackStatus,
    correct_left_right_swaps,
)
from tests.conftest import SAMPLE_VIDEO

SK = BLAZEPOSE_33
FPS = 30.0
LEGS = [
    SK.index(f"{side}_{name}")
    for side in ("left", "right")
    for name in ("hip", "knee", "ankle", "heel", "foot_index")
]
ARMS = [
    SK.index(f"{side}_{name}")
    for side in ("left", "right")
    for name in ("shoulder", "elbow", "wrist", "pinky", "index", "thumb")
]
PAIRED = sorted({j for pair in SK.left_right_pairs for j in pair})


# --- fakes for the tracker's state machine ----------------------------------------------------------


def _person(cx_px: float, cy_px: float, height_px: float) -> PoseFrame:
    """A standing figure: 33 landmarks spread over a box height_px tall and height_px / 2 wide."""
    u = np.linspace(-0.5, 0.5, SK.n_joints)
    image = np.stack(
        [cx_px + height_px / 4.0 * np.sin(7.0 * u), cy_px + height_px * u, np.zeros_like(u)], axis=1
    )
    image[[0, -1], 0] = [cx_px - height_px / 4.0, cx_px + height_px / 4.0]
    return PoseFrame(image_px=image, world_m=np.zeros((SK.n_joints, 3)), visibility=np.full(SK.n_joints, 0.9))


def _coordinate_image(width_px: int = 1000, height_px: int = 600) -> NDArray[np.uint8]:
    """Each pixel encodes its own (x, y), so that a fake estimator can tell where a crop came from."""
    y, x = np.mgrid[0:height_px, 0:width_px]
    return np.stack([x % 256, y % 256, x // 256 + 16 * (y // 256)], axis=2).astype(np.uint8)


COORDINATE_IMAGE = _coordinate_image()


def _crop_origin(image: NDArray[np.uint8]) -> tuple[int, int]:
    r, g, b = (int(v) for v in image[0, 0])
    return r + 256 * (b % 16), g + 256 * (b // 16)


@dataclass
class Scene:
    """Who is where in the current frame; ``locked`` is the person the tracking estimator returns."""

    people: list[PoseFrame] = field(default_factory=list)
    locked: PoseFrame | None = None


@dataclass
class FullFrameFake:
    scene: Scene
    resets: int = 0

    def estimate(self, image_rgb: NDArray[np.uint8]) -> PoseFrame | None:
        return self.scene.locked

    def reset(self) -> None:
        self.resets += 1


@dataclass
class CropFake:
    """Returns, in crop pixels, the first person of the scene whose box lies inside the crop."""

    scene: Scene
    crops: list[tuple[int, int, int, int]] = field(default_factory=list)

    def estimate(self, image_rgb: NDArray[np.uint8]) -> PoseFrame | None:
        x0, y0 = _crop_origin(image_rgb)
        height, width = image_rgb.shape[:2]
        self.crops.append((x0, y0, x0 + width, y0 + height))
        for person in self.scene.people:
            bx0, by0, bx1, by1 = person.bbox_px()
            if x0 <= bx0 and bx1 <= x0 + width and y0 <= by0 and by1 <= y0 + height:
                shifted = person.image_px - np.array([x0, y0, 0.0])
                return PoseFrame(image_px=shifted, world_m=person.world_m, visibility=person.visibility)
        return None

    def reset(self) -> None:
        pass


def _tracker(scene: Scene, **options: float) -> tuple[AthleteTracker, FullFrameFake, CropFake]:
    full, crop = FullFrameFake(scene), CropFake(scene)
    return AthleteTracker(full, crop, **options), full, crop  # type: ignore[arg-type]


def _step(tracker: AthleteTracker, scene: Scene, people: list[PoseFrame], locked: int | None) -> TrackedPose:
    scene.people, scene.locked = people, None if locked is None else people[locked]
    return tracker.update(COORDINATE_IMAGE)


def _centre(pose: PoseFrame | None) -> tuple[float, float]:
    assert pose is not None
    x0, y0, x1, y1 = pose.bbox_px()
    return (x0 + x1) / 2.0, (y0 + y1) / 2.0


# --- AthleteTracker with fakes ---------------------------------------------------------------------


def test_continuous_motion_is_one_track() -> None:
    scene = Scene()
    tracker, full, _ = _tracker(scene)
    results = [_step(tracker, scene, [_person(200 + 10 * i, 300, 200)], 0) for i in range(10)]
    assert [r.status for r in results] == [TrackStatus.TRACKED] * 10
    assert [r.new_track for r in results] == [True] + [False] * 9
    assert {r.track_id for r in results} == {0}
    assert full.resets == 0


def test_jump_to_another_person_reacquires_the_athlete_in_a_crop() -> None:
    scene = Scene()
    tracker, full, crop = _tracker(scene)
    for i in range(5):
        _step(tracker, scene, [_person(200 + 10 * i, 300, 200), _person(800, 300, 200)], 0)
    athlete = _person(250, 300, 200)
    result = _step(tracker, scene, [_person(800, 300, 200), athlete], 0)
    assert result.status is TrackStatus.REACQUIRED
    assert result.pose is not None
    np.testing.assert_allclose(result.pose.image_px, athlete.image_px)
    assert full.resets == 1
    x0, y0, x1, y1 = crop.crops[-1]
    assert (y0, y1) == (100, 500)  # the predicted box ± half a body size, clamped to the image
    assert x0 < 200
    assert x1 > 300


def test_rejected_jumps_then_lost_then_new_track() -> None:
    scene = Scene()
    tracker, full, _ = _tracker(scene, max_missed_frames=4)
    _step(tracker, scene, [_person(200, 300, 200)], 0)
    other = [_person(800, 300, 200)]
    statuses = [_step(tracker, scene, other, 0).status for _ in range(3)]
    assert statuses == [TrackStatus.IDENTITY_JUMP_REJECTED] * 3
    assert full.resets == 3
    lost = _step(tracker, scene, [], None)
    assert (lost.status, lost.track_id, lost.pose) == (TrackStatus.LOST, 0, None)
    restart = _step(tracker, scene, other, 0)
    assert (restart.status, restart.track_id, restart.new_track) == (TrackStatus.TRACKED, 1, True)
    assert _centre(restart.pose) == pytest.approx((800, 300))
    assert tracker.tracks_started == 2


def test_not_detected_counts_towards_lost_without_resetting() -> None:
    scene = Scene()
    tracker, full, _ = _tracker(scene, max_missed_frames=2)
    assert _step(tracker, scene, [], None).status is TrackStatus.NOT_DETECTED
    assert _step(tracker, scene, [_person(200, 300, 200)], 0).new_track
    assert _step(tracker, scene, [], None).status is TrackStatus.NOT_DETECTED
    assert _step(tracker, scene, [], None).status is TrackStatus.LOST
    assert _step(tracker, scene, [], None).track_id is None
    assert full.resets == 0


@pytest.mark.parametrize(
    ("dx_px", "height_px", "missed", "accepted"),
    [
        (90, 200, 0, True),  # 0.45 body sizes one frame on
        (110, 200, 0, False),  # 0.55
        (130, 200, 2, True),  # 0.65 after 2 missed frames: gate 0.5 + 0.1 * 2
        (150, 200, 2, False),  # 0.75
        (0, 90, 0, True),  # size ratio 0.45
        (0, 70, 0, False),  # 0.35
        (0, 480, 0, True),  # 2.4
        (0, 520, 0, False),  # 2.6
    ],
)
def test_continuity_gate(dx_px: float, height_px: float, missed: int, accepted: bool) -> None:
    scene = Scene()
    tracker, _, _ = _tracker(scene)
    _step(tracker, scene, [_person(300, 300, 200)], 0)
    for _ in range(missed):
        _step(tracker, scene, [], None)
    result = _step(tracker, scene, [_person(300 + dx_px, 300, height_px)], 0)
    assert (result.status is TrackStatus.TRACKED) is accepted


def test_velocity_predicts_a_fast_athlete_across_missed_frames() -> None:
    scene = Scene()
    tracker, _, _ = _tracker(scene, velocity_smoothing=1.0)
    for i in range(5):
        _step(tracker, scene, [_person(100 + 60 * i, 300, 200)], 0)
    for _ in range(3):
        _step(tracker, scene, [], None)
    # 4 frames after the last pose, 4 × 60 px = 1.2 body sizes on: outside the 0.8 gate of a still box.
    assert _step(tracker, scene, [_person(340 + 240, 300, 200)], 0).status is TrackStatus.TRACKED


def test_crop_is_clamped_to_the_image() -> None:
    scene = Scene()
    tracker, _, crop = _tracker(scene)
    _step(tracker, scene, [_person(60, 110, 200)], 0)
    _step(tracker, scene, [_person(900, 300, 200)], 0)
    assert crop.crops == [(0, 0, 210, 310)]


def test_reset_forgets_the_track() -> None:
    scene = Scene()
    tracker, full, _ = _tracker(scene)
    _step(tracker, scene, [_person(200, 300, 200)], 0)
    tracker.reset()
    result = _step(tracker, scene, [_person(800, 300, 200)], 0)
    assert (result.status, result.track_id, result.new_track, full.resets) == (
        TrackStatus.TRACKED,
        0,
        True,
        1,
    )


@pytest.mark.parametrize(
    "image",
    [np.zeros((10, 10), np.uint8), np.zeros((10, 10, 4), np.uint8), np.zeros((10, 10, 3), np.float32)],
)
def test_update_rejects_non_rgb_images(image: NDArray[np.uint8]) -> None:
    tracker, _, _ = _tracker(Scene())
    with pytest.raises(InvalidInputError, match="uint8 RGB"):
        tracker.update(image)


@pytest.mark.parametrize(
    "options",
    [
        {"size_ratio_band": (1.2, 2.0)},
        {"velocity_smoothing": 0.0},
        {"max_missed_frames": 0},
        {"max_jump_fraction": 0},
        {"crop_margin_fraction": -0.1},
    ],
)
def test_rejects_bad_options(options: dict[str, object]) -> None:
    with pytest.raises(InvalidInputError):
        _tracker(Scene(), **options)  # type: ignore[arg-type]


# --- AthleteTracker with the real BlazePose on real frames ---------------------------------------


def _decode_half_size(indices: set[int]) -> dict[int, NDArray[np.uint8]]:
    """Sample-video frames at ``indices``, downscaled to 884 × 497 px."""
    frames: dict[int, NDArray[np.uint8]] = {}
    with av.open(str(SAMPLE_VIDEO)) as container:
        for index, video_frame in enumerate(container.decode(video=0)):
            if index in indices:
                image = video_frame.to_ndarray(format="rgb24")
                half = (image.shape[1] // 2, image.shape[0] // 2)
                frames[index] = np.asarray(
                    cv2.resize(image, half, interpolation=cv2.INTER_AREA), dtype=np.uint8
                )
            if index >= max(indices):
                break
    return frames


@dataclass
class Recording:
    """Passes calls through to a real estimator and keeps what it returned."""

    estimator: PoseEstimator
    returned: list[PoseFrame | None] = field(default_factory=list)

    def estimate(self, image_rgb: NDArray[np.uint8]) -> PoseFrame | None:
        pose = self.estimator.estimate(image_rgb)
        self.returned.append(pose)
        return pose

    def reset(self) -> None:
        self.estimator.reset()


# The composited clip, at half resolution (884 × 497): sample frames 100-123, where a woman walks
# leftwards at x ≈ 400-600 px. From the third frame on, a copy of her cut out of frame 180 (where she
# walks at x ≈ 70-130) is pasted at its own place, on the other side of the image; on frames 110-112 she
# is blanked out with the background of frame 180. The static background makes both edits seamless.
CLIP = range(100, 124)
BLANKED = range(110, 113)
COPY_REGION = (slice(255, 490), slice(30, 175))
BLANK_REGION = (slice(250, 495), slice(400, 620))


@pytest.fixture(scope="module")
def composited_clip() -> list[NDArray[np.uint8]]:
    frames = _decode_half_size({*CLIP, 180})
    clip = []
    for index in CLIP:
        image = frames[index].copy()
        if index >= CLIP.start + 2:
            image[COPY_REGION] = frames[180][COPY_REGION]
        if index in BLANKED:
            image[BLANK_REGION] = frames[180][BLANK_REGION]
        clip.append(image)
    return clip


@pytest.mark.slow
def test_real_blazepose_jump_to_a_pasted_copy_is_rejected(composited_clip: list[NDArray[np.uint8]]) -> None:
    with BlazePoseEstimator() as full, BlazePoseEstimator(static_image_mode=True) as crop:
        raw = Recording(full)
        tracker = AthleteTracker(raw, crop)
        results = dict(zip(CLIP, (tracker.update(image) for image in composited_clip), strict=True))

    # The premise: left alone, BlazePose moves to the copy while the woman is blanked out.
    raw_x = [_centre(pose)[0] for pose in raw.returned if pose is not None]
    assert min(raw_x) < 175
    assert tracker.tracks_started == 1
    for index, result in results.items():
        if result.pose is not None:  # never the copy
            assert 380 < _centre(result.pose)[0] < 620, index
    assert all(results[i].status is TrackStatus.TRACKED for i in range(CLIP.start, BLANKED.start))
    assert all(results[i].pose is None for i in BLANKED)
    assert any(results[i].status is TrackStatus.IDENTITY_JUMP_REJECTED for i in BLANKED)
    after = [results[i] for i in range(BLANKED.stop + 1, CLIP.stop)]
    assert all(
        r.pose is not None and r.status in (TrackStatus.TRACKED, TrackStatus.REACQUIRED) for r in after
    )


@dataclass(frozen=True)
class TrackedVideo:
    results: list[TrackedPose]
    tracks_started: int
    image: PoseSequence
    world: PoseSequence


@pytest.fixture(scope="module")
def tracked_sample_video() -> TrackedVideo:
    results, timestamps = [], []
    with (
        av.open(str(SAMPLE_VIDEO)) as container,
        BlazePoseEstimator() as full,
        BlazePoseEstimator(static_image_mode=True) as crop,
    ):
        tracker = AthleteTracker(full, crop)
        for video_frame in container.decode(video=0):
            results.append(tracker.update(np.asarray(video_frame.to_ndarray(format="rgb24"), dtype=np.uint8)))
            timestamps.append(float(video_frame.time))
    poses = [r.pose for r in results]
    common = {"timestamps_s": timestamps, "frame_indices": np.arange(len(poses)), "fps": FPS}
    return TrackedVideo(
        results=results,
        tracks_started=tracker.tracks_started,
        image=PoseSequence.from_pose_frames(poses, frame=CoordinateFrame.IMAGE, **common),  # type: ignore[arg-type]
        world=PoseSequence.from_pose_frames(poses, frame=CoordinateFrame.HIP_CENTRED, **common),  # type: ignore[arg-type]
    )


@pytest.mark.slow
def test_real_video_stays_on_the_athlete_through_a_backflip(tracked_sample_video: TrackedVideo) -> None:
    # The athlete back-flips off the box in the sun's glare (frames ~165-190) and lands on the grass at
    # x > 600 px, while a woman walks along the left of the image (x < 420 px); raw BlazePose moves to her
    # at frame 171. The tracker keeps the athlete, re-acquiring him in crops.
    results = tracked_sample_video.results
    statuses = {r.status for r in results}
    assert tracked_sample_video.tracks_started == 1
    assert {TrackStatus.REACQUIRED, TrackStatus.IDENTITY_JUMP_REJECTED} <= statuses
    assert TrackStatus.LOST not in statuses
    for index in range(165, 227):
        if results[index].pose is not None:
            assert _centre(results[index].pose)[0] > 500, index
    assert sum(r.pose is not None for r in results[202:227]) >= 20


# --- left/right swap correction on synthetic walking ----------------------------------------------


def _walk(
    n_frames: int = 60, *, period_frames: float = 30.0, phase: float = 0.0, depth: bool = True, seed: int = 0
) -> tuple[PoseSequence, PoseSequence]:
    """A side view of a person walking right at 1.2 m/s: legs and arms swing and cross in the image.

    World: hip-centred metres, the left side 0.09 m (hips) to 0.18 m (shoulders) further from the camera
    (``depth=False`` puts every landmark at z = 0, leaving only the image to tell the legs apart). Image:
    300 px per metre. Small seeded noise; the far (left) side is less visible.
    """
    phi = 2.0 * np.pi * np.arange(n_frames) / period_frames + phase
    world = np.zeros((n_frames, SK.n_joints, 3))

    def put(name: str, xyz: NDArray[np.float64]) -> None:
        world[:, SK.index(name)] = xyz

    def column(x: object, y: object, z: float) -> NDArray[np.float64]:
        return np.stack(
            np.broadcast_arrays(np.asarray(x, float), np.asarray(y, float), np.full(n_frames, z)), 1
        )

    bob = 0.02 * np.cos(2.0 * phi)
    for side, sign in (("left", 1.0), ("right", -1.0)):
        swing = np.sin(phi) * sign
        knee_flex = 0.15 + 0.35 * (1.0 + np.cos(phi + (0.0 if sign > 0 else np.pi))) / 2.0
        hip = column(0.0, bob, 0.09 * sign)
        knee = hip + 0.44 * column(np.sin(0.45 * swing), np.cos(0.45 * swing), 0.0)
        ankle = knee + 0.42 * column(np.sin(0.45 * swing - knee_flex), np.cos(0.45 * swing - knee_flex), 0.0)
        shoulder = column(0.03, bob - 0.5, 0.18 * sign)
        elbow = shoulder + 0.30 * column(np.sin(-0.35 * swing), np.cos(-0.35 * swing), 0.0)
        wrist = elbow + 0.26 * column(np.sin(-0.35 * swing + 0.25), np.cos(-0.35 * swing + 0.25), 0.0)
        hand = {"pinky": (0.02, 0.08, 0.01), "index": (0.04, 0.08, 0.0), "thumb": (0.04, 0.04, -0.02)}
        limbs = {
            "hip": hip,
            "knee": knee,
            "ankle": ankle,
            "shoulder": shoulder,
            "elbow": elbow,
            "wrist": wrist,
        }
        limbs |= {"heel": ankle + column(-0.06, 0.04, 0.0), "foot_index": ankle + column(0.16, 0.06, 0.0)}
        limbs |= {name: wrist + column(*offset) for name, offset in hand.items()}
        for name, xyz in limbs.items():
            put(f"{side}_{name}", xyz)
        for name, offset in (("eye_inner", (0.11, -0.70, 0.015)), ("eye", (0.10, -0.70, 0.035)),
                             ("eye_outer", (0.09, -0.70, 0.05)), ("ear", (0.0, -0.68, 0.08))):  # fmt: skip
            put(f"{side}_{name}", column(offset[0], bob + offset[1], offset[2] * sign))
        put(f"mouth_{side}", column(0.10, bob - 0.63, 0.025 * sign))
    put("nose", column(0.12, bob - 0.68, 0.0))
    if not depth:
        world[:, :, 2] = 0.0
    rng = np.random.default_rng(seed)
    world += rng.normal(scale=0.0015, size=world.shape)
    image = 300.0 * world
    image[:, :, 0] += 150.0 + 12.0 * np.arange(n_frames)[:, None]
    image[:, :, 1] += 600.0
    image[:, :, :2] += rng.normal(scale=0.5, size=image[:, :, :2].shape)
    confidence = np.where(np.isin(np.arange(SK.n_joints), [j for j, _ in SK.left_right_pairs]), 0.6, 0.95)
    common = {
        "confidence": np.tile(confidence, (n_frames, 1)),
        "timestamps_s": np.arange(n_frames) / FPS,
        "fps": FPS,
    }
    return (
        PoseSequence(positions=image, frame=CoordinateFrame.IMAGE, **common),  # type: ignore[arg-type]
        PoseSequence(positions=world, frame=CoordinateFrame.HIP_CENTRED, **common),  # type: ignore[arg-type]
    )


def _exchange(seq: PoseSequence, frames: range | list[int], joints: list[int]) -> PoseSequence:
    """What the estimator does: left and right exchanged for ``joints`` (both sides listed) on ``frames``."""
    perm = np.arange(SK.n_joints)
    mirror = np.asarray(SK.mirror_permutation)
    perm[joints] = mirror[joints]
    positions, confidence = seq.positions.copy(), seq.confidence.copy()
    rows = np.asarray(list(frames), dtype=np.intp)
    positions[rows] = seq.positions[rows][:, perm]
    confidence[rows] = seq.confidence[rows][:, perm]
    return seq.replace(positions=positions, confidence=confidence)


def _expected_flags(n_frames: int, swaps: Sequence[tuple[range | list[int], list[int]]]) -> NDArray[np.uint8]:
    flags = np.zeros((n_frames, SK.n_joints), dtype=np.uint8)
    for frames, joints in swaps:
        flags[np.ix_(list(frames), joints)] = PoseFlag.SWAP_CORRECTED
    return flags


def test_restores_swapped_legs_and_arms_exactly() -> None:
    image, world = _walk()
    swaps = [(range(10, 15), LEGS), (range(30, 32), ARMS)]
    bad_image, bad_world = image, world
    for frames, joints in swaps:
        bad_image, bad_world = _exchange(bad_image, frames, joints), _exchange(bad_world, frames, joints)

    result = correct_left_right_swaps(bad_image, bad_world)

    np.testing.assert_array_equal(result.image.positions, image.positions)
    np.testing.assert_array_equal(result.world.positions, world.positions)
    np.testing.assert_array_equal(result.image.confidence, image.confidence)
    np.testing.assert_array_equal(result.image.flags, _expected_flags(60, swaps))
    np.testing.assert_array_equal(result.world.flags, _expected_flags(60, swaps))
    assert result.report() == {"legs": list(range(10, 15)), "arms": [30, 31], "whole_body": []}
    assert result.n_corrected_frames == 7
    assert result.image.metadata["swap_corrected_frames"] == 7


def test_restores_a_whole_body_swap() -> None:
    image, world = _walk(phase=1.0)
    bad_image, bad_world = _exchange(image, range(40, 43), PAIRED), _exchange(world, range(40, 43), PAIRED)
    result = correct_left_right_swaps(bad_image, bad_world)
    np.testing.assert_array_equal(result.image.positions, image.positions)
    assert result.frames(SwapState.WHOLE_BODY).tolist() == [40, 41, 42]
    np.testing.assert_array_equal(result.image.flags, _expected_flags(60, [(range(40, 43), PAIRED)]))


@pytest.mark.parametrize("depth", [True, False])
@pytest.mark.parametrize("phase", [0.0, 0.8, 2.0])
def test_walking_legs_that_really_cross_are_left_alone(depth: bool, phase: float) -> None:
    # In this side view the feet pass each other every half stride (x of left and right ankle cross).
    image, world = _walk(90, phase=phase, depth=depth, seed=3)
    ankles_dx = image.joint("left_ankle")[:, 0] - image.joint("right_ankle")[:, 0]
    assert np.count_nonzero(np.diff(np.sign(ankles_dx))) >= 4
    result = correct_left_right_swaps(image, world)
    assert result.n_corrected_frames == 0
    assert result.image is image
    assert result.world is world


def test_world_without_landmarks_still_corrects_from_the_image() -> None:
    image, world = _walk()
    world = world.replace(
        positions=np.full_like(world.positions, np.nan), confidence=np.zeros_like(world.confidence)
    )
    result = correct_left_right_swaps(_exchange(image, range(20, 24), LEGS), world)
    assert result.frames(SwapState.LEGS).tolist() == [20, 21, 22, 23]
    np.testing.assert_array_equal(result.image.positions, image.positions)


def test_missing_frames_inside_a_swap_stay_missing_and_unflagged() -> None:
    image, world = _walk()
    gone = image.positions.copy()
    gone[[12, 13]] = np.nan
    bad_image = _exchange(image.replace(positions=gone), range(10, 16), LEGS)
    bad_world = _exchange(world, range(10, 16), LEGS)
    result = correct_left_right_swaps(bad_image, bad_world)
    assert result.frames(SwapState.LEGS).tolist() == [10, 11, 14, 15]
    assert np.isnan(result.image.positions[[12, 13]]).all()
    np.testing.assert_array_equal(result.image.positions[14:16], image.positions[14:16])


def test_another_person_after_a_jump_is_not_compared() -> None:
    # The second half is someone else, far away, with left and right the other way round throughout:
    # nothing links the halves, so each keeps its labels.
    image, world = _walk()
    positions = image.positions.copy()
    positions[30:, :, 0] += 1500.0
    mirrored = _exchange(image.replace(positions=positions), range(30, 60), PAIRED)
    result = correct_left_right_swaps(mirrored, _exchange(world, range(30, 60), PAIRED))
    assert result.n_corrected_frames == 0


def test_sequence_frame_indices_are_reported() -> None:
    image, world = _walk(20)
    image, world = (
        image.replace(frame_indices=np.arange(100, 120)),
        world.replace(frame_indices=np.arange(100, 120)),
    )
    result = correct_left_right_swaps(_exchange(image, [5, 6], ARMS), _exchange(world, [5, 6], ARMS))
    assert result.report()["arms"] == [105, 106]


@pytest.mark.parametrize("case", ["frames", "image_metric", "world_pixels"])
def test_rejects_mismatched_sequences(case: str) -> None:
    image, world = _walk(10)
    if case == "frames":
        world = world[:9]
    elif case == "image_metric":
        image = world
    else:
        world = image
    with pytest.raises(InvalidPoseDataError, match="image"):
        correct_left_right_swaps(image, world)


@settings(max_examples=40, deadline=None)
@given(
    group=st.sampled_from([SwapState.LEGS, SwapState.ARMS, SwapState.WHOLE_BODY]),
    start=st.integers(0, 55),
    length=st.integers(1, 5),
    phase=st.floats(0.0, 2.0 * np.pi),
    period_frames=st.floats(24.0, 40.0),
)
def test_any_short_swap_is_put_back(
    group: SwapState, start: int, length: int, phase: float, period_frames: float
) -> None:
    image, world = _walk(phase=phase, period_frames=period_frames)
    joints = {SwapState.LEGS: LEGS, SwapState.ARMS: ARMS, SwapState.WHOLE_BODY: PAIRED}[group]
    frames = range(start, min(start + length, 60))
    result = correct_left_right_swaps(_exchange(image, frames, joints), _exchange(world, frames, joints))
    assert result.frames(group).tolist() == list(frames)
    assert result.n_corrected_frames == len(frames)
    np.testing.assert_array_equal(result.image.positions, image.positions)
    np.testing.assert_array_equal(result.world.positions, world.positions)


_positions = arrays(
    np.float64,
    st.tuples(st.integers(1, 8), st.just(SK.n_joints), st.just(3)),
    elements=st.one_of(st.floats(-1e3, 1e3), st.just(np.nan)),
)


@settings(max_examples=60, deadline=None)
@given(image_px=_positions, data=st.data())
def test_output_is_always_a_per_frame_relabelling_of_the_input(
    image_px: NDArray[np.float64], data: st.DataObject
) -> None:
    n_frames = image_px.shape[0]
    world_m = data.draw(
        arrays(np.float64, image_px.shape, elements=st.one_of(st.floats(-2, 2), st.just(np.nan)))
    )
    common = {
        "confidence": np.full((n_frames, SK.n_joints), 0.5),
        "timestamps_s": np.arange(n_frames) / FPS,
        "fps": FPS,
    }
    image = PoseSequence(positions=image_px, frame=CoordinateFrame.IMAGE, **common)  # type: ignore[arg-type]
    world = PoseSequence(positions=world_m, frame=CoordinateFrame.HIP_CENTRED, **common)  # type: ignore[arg-type]

    result = correct_left_right_swaps(image, world)

    groups = {SwapState.NONE: [], SwapState.LEGS: LEGS, SwapState.ARMS: ARMS, SwapState.WHOLE_BODY: PAIRED}
    for t, state in enumerate(result.states):
        joints = groups[SwapState(state)]
        expected = _exchange(image[t : t + 1], [0], joints) if joints else image[t : t + 1]
        np.testing.assert_array_equal(result.image.positions[t], expected.positions[0])
        flagged = np.flatnonzero(result.image.flags[t] & PoseFlag.SWAP_CORRECTED)
        assert flagged.tolist() == sorted(joints)


@pytest.mark.slow
def test_real_video_swaps_are_few_and_reported(tracked_sample_video: TrackedVideo) -> None:
    # Checked by eye: facing the camera in jumping jacks, BlazePose mirrors the arms on frame 67, the
    # whole body on 68-71 and still the legs on 72.
    image, world = tracked_sample_video.image, tracked_sample_video.world
    result = correct_left_right_swaps(image, world)
    detected = int(image.detected.sum())
    assert 0 < result.n_corrected_frames <= 0.1 * detected
    assert {68, 69, 70, 71} <= set(result.frames(SwapState.WHOLE_BODY).tolist())
    assert 67 in result.frames(SwapState.ARMS)
    assert 72 in result.frames(SwapState.LEGS)
    assert sum(len(frames) for frames in result.report().values()) == result.n_corrected_frames
    flagged_frames = (result.image.flags & PoseFlag.SWAP_CORRECTED).any(axis=1)
    np.testing.assert_array_equal(flagged_frames, result.states != SwapState.NONE)
