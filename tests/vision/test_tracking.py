from __future__ import annotations

from dataclasses import dataclass, field

import av
import cv2
import numpy as np
import pytest
from numpy.typing import NDArray

from spacecomputer.domain._pose_frame import PoseFrame
from spacecomputer.domain._skeleton import BLAZEPOSE_33
from spacecomputer.errors import InvalidInputError
from spacecomputer.vision._pose import BlazePoseEstimator, PoseEstimator
from spacecomputer.vision._tracking import AthleteTracker, TrackedPose, TrackStatus
from tests.conftest import SAMPLE_VIDEO
from tests.vision._sample_tracking import TrackedVideo, track_sample_video

SK = BLAZEPOSE_33


# --- fakes for the tracker's state machine ----------------------------------------------------------


def _person(cx_px: float, cy_px: float, height_px: float) -> PoseFrame:
    """A standing figure: 33 landmarks spread over a box height_px tall and height_px / 2 wide."""
    u = np.linspace(-0.5, 0.5, SK.n_joints)
    image = np.stack([cx_px + height_px / 4.0 * np.sin(7.0 * u), cy_px + height_px * u, np.zeros_like(u)], axis=1)
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


def test_follow_starts_on_a_known_box_and_ignores_someone_else() -> None:
    scene = Scene()
    tracker, full, _ = _tracker(scene)
    athlete, other = _person(250, 300, 200), _person(800, 300, 200)
    tracker.follow(athlete.bbox_px())
    assert full.resets == 1
    result = _step(tracker, scene, [other, athlete], 0)
    assert result.status is TrackStatus.REACQUIRED
    assert _centre(result.pose) == pytest.approx(_centre(athlete))
    assert result.track_id == 0


@pytest.mark.parametrize("box", [(10.0, 10.0, 5.0, 20.0), (0.0, 0.0, float("nan"), 1.0), (1.0, 2.0, 3.0)])
def test_follow_rejects_bad_boxes(box: tuple[float, ...]) -> None:
    tracker, _, _ = _tracker(Scene())
    with pytest.raises(InvalidInputError, match="follow expects a box"):
        tracker.follow(box)  # type: ignore[arg-type]


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
                frames[index] = np.asarray(cv2.resize(image, half, interpolation=cv2.INTER_AREA), dtype=np.uint8)
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
    assert all(r.pose is not None and r.status in (TrackStatus.TRACKED, TrackStatus.REACQUIRED) for r in after)


@pytest.fixture(scope="module")
def tracked_sample_video() -> TrackedVideo:
    return track_sample_video()


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


@dataclass
class SharedFake:
    """One estimator in both roles: full frames go to the scene's locked person, smaller images are crops."""

    full: FullFrameFake
    crop: CropFake

    def estimate(self, image_rgb: NDArray[np.uint8]) -> PoseFrame | None:
        if image_rgb.shape == COORDINATE_IMAGE.shape:
            return self.full.estimate(image_rgb)
        return self.crop.estimate(image_rgb)

    def reset(self) -> None:
        self.full.reset()


def test_one_estimator_in_both_roles_is_reset_after_each_crop() -> None:
    scene = Scene()
    shared = SharedFake(FullFrameFake(scene), CropFake(scene))
    tracker = AthleteTracker(shared, shared)  # type: ignore[arg-type]
    for i in range(5):
        _step(tracker, scene, [_person(200 + 10 * i, 300, 200), _person(800, 300, 200)], 0)
    result = _step(tracker, scene, [_person(800, 300, 200), _person(250, 300, 200)], 0)
    assert result.status is TrackStatus.REACQUIRED
    assert shared.full.resets == 2  # before the crop (identity jump) and after it (crop's region of interest)
