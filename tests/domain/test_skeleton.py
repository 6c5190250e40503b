import pytest

from spacecomputer.domain import BLAZEPOSE_33, Skeleton


def test_blazepose_has_33_named_joints_and_mediapipe_bones() -> None:
    from mediapipe.python.solutions.pose import POSE_CONNECTIONS

    assert BLAZEPOSE_33.n_joints == 33
    assert BLAZEPOSE_33.index("left_knee") == 25
    assert {tuple(sorted(b)) for b in BLAZEPOSE_33.bones} == {tuple(sorted(b)) for b in POSE_CONNECTIONS}


def test_left_right_pairs_cover_prefix_and_suffix_names() -> None:
    names = {(BLAZEPOSE_33.joint_names[a], BLAZEPOSE_33.joint_names[b]) for a, b in BLAZEPOSE_33.left_right_pairs}
    assert ("left_knee", "right_knee") in names
    assert ("mouth_left", "mouth_right") in names
    assert len(names) == 16


def test_mirror_permutation_is_an_involution() -> None:
    perm = BLAZEPOSE_33.mirror_permutation
    assert sorted(perm) == list(range(33))
    assert all(perm[perm[i]] == i for i in range(33))
    assert perm[0] == 0


def test_unknown_joint_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="left_knee"):
        BLAZEPOSE_33.index("left_kneee")


@pytest.mark.parametrize(
    ("names", "bones"),
    [(("a", "a"), ()), (("a", "b"), ((0, 2),)), (("a", "b"), ((1, 1),))],
)
def test_invalid_skeletons_are_refused(names: tuple[str, ...], bones: tuple[tuple[int, int], ...]) -> None:
    with pytest.raises(ValueError, match="skeleton"):
        Skeleton(name="bad", joint_names=names, bones=bones)
