from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from spacecomputer.athletes._motion import Motion, motion_from_sequence
from spacecomputer.athletes._reference import IMAGE_UP
from spacecomputer.athletes._search import (
    DESCRIPTOR_ANGLES,
    DESCRIPTOR_FEATURES,
    SIGNATURE_SAMPLES,
    SimilarityIndex,
    motion_descriptor,
    motion_signature,
    signature_descriptor,
)
from spacecomputer.errors import InsufficientDataError, InvalidInputError, NotFoundError, OutputError
from tests.athletes.clips import reference_motion

FAMILIES = {
    "bolt-force-motion": "sprint",
    "hezvo": "sprint",
    "beijing": "sprint",
    "powell-anchor": "sprint",
    "lomu": "sprint",
    "koroibete": "sprint",
    "boundary-nz": "strike",
    "chisora": "strike",
    "pound": "strike",
    "drogba-header": "jump",
    "struggle": "grappling",
}
LANDMARK_NOISE_M = 0.01
"""About the raw BlazePose jitter of the library clips (0.5–1.6 cm robust SD of raw − smoothed for most)."""
SIGNATURE_SHAPE = (SIGNATURE_SAMPLES, len(DESCRIPTOR_ANGLES))


def library_motion(clip_id: str) -> Motion:
    return dataclasses.replace(reference_motion(clip_id), movement=FAMILIES[clip_id])


def noisy_copy(motion: Motion, *, seed: int) -> Motion:
    """Gaussian noise on every landmark coordinate of the pose, then the motion rebuilt from it."""
    rng = np.random.default_rng(seed)
    pose = motion.pose.replace(
        positions=motion.pose.positions + rng.normal(0.0, LANDMARK_NOISE_M, motion.pose.positions.shape)
    )
    return motion_from_sequence(
        pose, up=IMAGE_UP, name=f"{motion.name} (noisy)", source="run", movement=motion.movement, draws=0
    )


def with_angles(motion: Motion, angles_deg: dict[str, np.ndarray]) -> Motion:
    return dataclasses.replace(motion, angles_deg=angles_deg)


@pytest.fixture(scope="module")
def library() -> dict[str, Motion]:
    return {clip_id: library_motion(clip_id) for clip_id in FAMILIES}


@pytest.fixture(scope="module")
def index(library: dict[str, Motion]) -> SimilarityIndex:
    built = SimilarityIndex()
    for clip_id, motion in library.items():
        built.add(clip_id, motion)
    return built


@pytest.fixture(scope="module")
def queries(library: dict[str, Motion]) -> dict[str, Motion]:
    return {clip_id: noisy_copy(motion, seed=i) for i, (clip_id, motion) in enumerate(library.items())}


# --- search ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("movement", ["same", None])
def test_a_noisy_copy_of_each_library_clip_finds_the_clip_first(
    index: SimilarityIndex, queries: dict[str, Motion], movement: str | None
) -> None:
    for clip_id, query in queries.items():
        hits = index.search(query, movement=movement, k=3)
        assert hits[0].clip_id == clip_id, (clip_id, hits)
        if movement == "same":
            assert {hit.movement for hit in hits} == {FAMILIES[clip_id]}


def test_hits_are_ranked_by_dtw_distance_and_fewer_when_the_family_is_small(
    index: SimilarityIndex, queries: dict[str, Motion]
) -> None:
    hits = index.search(queries["hezvo"], k=10)
    assert [hit.clip_id for hit in hits[:1]] == ["hezvo"]
    assert sorted(hit.clip_id for hit in hits) == sorted(c for c, f in FAMILIES.items() if f == "sprint")
    assert [hit.rank for hit in hits] == list(range(1, 7))
    distances = [hit.dtw_distance for hit in hits]
    assert distances == sorted(distances)
    assert all(hit.descriptor_distance >= 0.0 for hit in hits)


def test_a_motion_stored_in_the_index_matches_itself_at_distance_zero(
    index: SimilarityIndex, library: dict[str, Motion]
) -> None:
    [hit] = index.search(library["pound"], movement=None, k=1)
    assert hit.clip_id == "pound"
    assert hit.dtw_distance == 0.0
    assert hit.descriptor_distance == pytest.approx(0.0, abs=1e-5)


def test_movement_names_the_family_searched_and_same_without_a_known_family_searches_all(
    index: SimilarityIndex, queries: dict[str, Motion]
) -> None:
    hits = index.search(queries["hezvo"], movement="strike", k=5)
    assert sorted(hit.clip_id for hit in hits) == ["boundary-nz", "chisora", "pound"]
    unknown = dataclasses.replace(queries["drogba-header"], movement=None)
    assert len(index.search(unknown, k=20)) == len(FAMILIES)


def test_candidates_limit_the_entries_re_ranked(index: SimilarityIndex, queries: dict[str, Motion]) -> None:
    everything = index.search(queries["lomu"], movement=None, k=len(FAMILIES))
    nearest = min(everything, key=lambda hit: hit.descriptor_distance)
    [only] = index.search(queries["lomu"], movement=None, k=1, candidates=1)
    assert only.clip_id == nearest.clip_id
    assert only.descriptor_distance == pytest.approx(nearest.descriptor_distance)


# --- persistence ------------------------------------------------------------------------------------------------


def test_save_and_load_give_identical_results(
    index: SimilarityIndex, queries: dict[str, Motion], tmp_path: Path
) -> None:
    path = tmp_path / "library.npz"
    index.save(path)
    loaded = SimilarityIndex.load(path)
    assert [p.name for p in tmp_path.iterdir()] == ["library.npz"]  # no temporary file left
    assert loaded.clip_ids == index.clip_ids
    assert loaded.movements == index.movements == ("grappling", "jump", "sprint", "strike")
    for query in queries.values():
        for movement in ("same", None):
            assert loaded.search(query, movement=movement) == index.search(query, movement=movement)


def test_save_replaces_an_existing_file_and_reports_a_missing_folder(index: SimilarityIndex, tmp_path: Path) -> None:
    path = tmp_path / "library.npz"
    path.write_bytes(b"old")
    index.save(path)
    assert len(SimilarityIndex.load(path)) == len(FAMILIES)
    with pytest.raises(OutputError):
        index.save(tmp_path / "missing" / "library.npz")


def test_load_refuses_a_missing_or_foreign_file(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        SimilarityIndex.load(tmp_path / "absent.npz")
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not an index")
    with pytest.raises(InvalidInputError):
        SimilarityIndex.load(garbage)
    other = tmp_path / "other.npz"
    np.savez(other, clip_ids=np.array(["a"]))
    with pytest.raises(InvalidInputError):
        SimilarityIndex.load(other)


# --- errors -------------------------------------------------------------------------------------------------------


def test_an_empty_index_cannot_be_searched(queries: dict[str, Motion]) -> None:
    with pytest.raises(InsufficientDataError):
        SimilarityIndex().search(queries["hezvo"])


@pytest.mark.parametrize(("k", "candidates", "window"), [(0, 25, 8), (5, 0, 8), (5, 25, 0)])
def test_counts_below_one_are_refused(
    index: SimilarityIndex, queries: dict[str, Motion], k: int, candidates: int, window: int
) -> None:
    with pytest.raises(InvalidInputError):
        index.search(queries["hezvo"], k=k, candidates=candidates, window=window)


def test_a_repeated_id_is_refused(library: dict[str, Motion]) -> None:
    built = SimilarityIndex()
    built.add("hezvo", library["hezvo"])
    with pytest.raises(InvalidInputError, match="hezvo"):
        built.add("hezvo", library["lomu"])
    assert len(built) == 1
    with pytest.raises(InvalidInputError):
        SimilarityIndex.from_arrays(["a", "a"], np.zeros((2, *SIGNATURE_SHAPE)))


def test_a_family_without_entries_is_not_found_and_the_message_lists_those_present(
    library: dict[str, Motion], queries: dict[str, Motion]
) -> None:
    sprints = SimilarityIndex()
    sprints.add("hezvo", library["hezvo"])
    sprints.add("lomu", library["lomu"])
    with pytest.raises(NotFoundError, match="sprint") as caught:
        sprints.search(queries["pound"])
    assert caught.value.details["movements"] == ["sprint"]
    assert caught.value.details["movement"] == "strike"


@pytest.mark.parametrize(
    ("ids", "shape", "movements"),
    [
        (["a"], (1, SIGNATURE_SAMPLES + 1, len(DESCRIPTOR_ANGLES)), None),
        (["a"], SIGNATURE_SHAPE, None),
        (["a", "b"], (1, *SIGNATURE_SHAPE), None),
        (["a"], (1, *SIGNATURE_SHAPE), ["sprint", "jump"]),
        ([""], (1, *SIGNATURE_SHAPE), None),
    ],
)
def test_from_arrays_says_what_it_expected(ids: list[str], shape: tuple[int, ...], movements: list[str] | None) -> None:
    with pytest.raises(InvalidInputError):
        SimilarityIndex.from_arrays(ids, np.zeros(shape), movements=movements)


def test_non_finite_signatures_are_refused() -> None:
    signatures = np.zeros((1, *SIGNATURE_SHAPE))
    signatures[0, 3, 2] = np.nan
    with pytest.raises(InvalidInputError, match="finite"):
        SimilarityIndex.from_arrays(["a"], signatures)


# --- signature and descriptor ----------------------------------------------------------------------------------


def test_a_missing_angle_is_filled_from_the_other_side_or_neutral_and_the_descriptor_stays_finite(
    library: dict[str, Motion],
) -> None:
    motion = library["bolt-force-motion"]
    full = motion_signature(motion)
    left_knee, right_knee = DESCRIPTOR_ANGLES.index("left_knee_flexion"), DESCRIPTOR_ANGLES.index("right_knee_flexion")
    trunk = DESCRIPTOR_ANGLES.index("trunk_flexion")

    one_side = {name: v for name, v in motion.angles_deg.items() if name != "left_knee_flexion"}
    signature = motion_signature(with_angles(motion, one_side))
    np.testing.assert_array_equal(signature[:, left_knee], full[:, right_knee])

    neither = {name: v for name, v in one_side.items() if name not in ("right_knee_flexion", "trunk_flexion")}
    signature = motion_signature(with_angles(motion, neither))
    assert not signature[:, [left_knee, right_knee, trunk]].any()  # 0°, the neutral posture
    descriptor = motion_descriptor(with_angles(motion, neither))
    assert descriptor.shape == (len(DESCRIPTOR_ANGLES) * len(DESCRIPTOR_FEATURES),)
    assert np.isfinite(descriptor).all()


def test_unknown_frames_are_interpolated_and_too_few_known_frames_refused(library: dict[str, Motion]) -> None:
    motion = library["koroibete"]
    gappy = {name: np.where(np.arange(v.size) % 3 == 0, np.nan, v) for name, v in motion.angles_deg.items()}
    assert np.isfinite(motion_descriptor(with_angles(motion, gappy))).all()
    single = {name: np.where(np.arange(v.size) == 10, v, np.nan) for name, v in motion.angles_deg.items()}
    with pytest.raises(InsufficientDataError):
        motion_signature(with_angles(motion, single))


def test_the_same_clip_at_half_the_frame_rate_finds_the_original(
    index: SimilarityIndex, library: dict[str, Motion]
) -> None:
    motion = library["chisora"]
    every_other = {name: v[::2] for name, v in motion.angles_deg.items()}
    halved = dataclasses.replace(motion, pose=motion.pose[::2].replace(fps=motion.pose.fps / 2), angles_deg=every_other)
    first, second = index.search(halved, movement=None, k=2)
    assert first.clip_id == "chisora"
    assert first.dtw_distance < second.dtw_distance / 3


@settings(max_examples=50, deadline=None)
@given(
    signature=arrays(np.float64, SIGNATURE_SHAPE, elements=st.floats(-180.0, 180.0)),
    shift=st.integers(1, SIGNATURE_SAMPLES - 1),
)
def test_the_descriptor_is_finite_and_blind_to_a_circular_shift(signature: np.ndarray, shift: int) -> None:
    descriptor = signature_descriptor(signature)
    assert np.isfinite(descriptor).all()
    np.testing.assert_allclose(signature_descriptor(np.roll(signature, shift, axis=0)), descriptor, atol=1e-3)
    per_angle = descriptor.reshape(len(DESCRIPTOR_ANGLES), len(DESCRIPTOR_FEATURES))
    np.testing.assert_allclose(per_angle[:, 0], signature.mean(axis=0), rtol=1e-5, atol=1e-3)
    assert (per_angle[:, 2] <= per_angle[:, 3]).all()  # p10 ≤ p90
