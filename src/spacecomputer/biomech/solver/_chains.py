"""The chain that moves when a joint centre is dragged, and where its inverse kinematics starts.

Chains are listed in :mod:`spacecomputer.biomech.solver._manipulate`. A two-segment limb dragged by its end
(wrist, hand, ankle) has a closed-form solution: the hinge angle from the distance to the target (law of cosines,
clipped to what the hinge's limits allow), the middle joint on its circle of solutions, the ball joint's angles read
off the two segments. The circle is tried from the point nearest to where the middle joint is in the original pose
(a straight limb there: the knee forwards, the elbow backwards), then in 30° steps either way; the first whose
angles lie within the limits is the answer: the nearest pose to the target (the target itself, the limb stretched
towards it, or bent to its hinge limit). When none does, the least squares start from the three that break the
limits least. A knee or elbow dragged alone points the upper segment at it. A heel or toe starts from the ankle's
closed form with the foot carried along; a pelvis drag from the pelvis moved all the way and each held leg solved
from its new hip to its ankle (:func:`_pelvis_start`), which also lifts a straight knee off its bound, where the
least squares alone cannot bend it (the hip-to-ankle distance does not change to first order).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

from spacecomputer.biomech.solver._dofs import DOF_INDEX, JOINT_INDEX, JOINT_NAMES, SIDES
from spacecomputer.biomech.solver._geometry import Frame, ball_joint_angles
from spacecomputer.biomech.solver._ik import FOOT, LEG, SIGN, Array, ToQ, columns, hip_line, turned_root
from spacecomputer.biomech.solver._skeleton import SkeletonModel
from spacecomputer.errors import InvalidInputError

__all__ = ["DRAGGABLE_JOINTS", "Chain", "chain_for"]

DRAGGABLE_JOINTS: tuple[str, ...] = JOINT_NAMES
_ARM = ("shoulder_flexion", "shoulder_abduction", "shoulder_internal_rotation", "elbow_flexion")
_NECK = ("neck_flexion", "neck_bending", "neck_rotation")
_TRANSLATION = ("pelvis_tx", "pelvis_ty", "pelvis_tz")
_TINY = 1e-9


@dataclass(frozen=True)
class Chain:
    """A drag problem: free parameters, how they make coordinates and points, what stays, the anchor."""

    names: tuple[str, ...]
    to_q: ToQ
    points: Callable[[Array], Array]
    starts: tuple[Array, ...]  # where the least squares start, best first
    anchor: Array
    lower: Array
    upper: Array
    holds: tuple[str, ...] = ()
    turns_pelvis: bool = False
    solved: bool = False  # the first start is the answer (a closed form within the limits)
    closed_form: Array | None = None  # the preferred closed form when it breaks a limit (what was needed)


def _limb_points(model: SkeletonModel, q: Array, part: str, side: str) -> Callable[[Array], Array]:
    """Points of poses that differ from (D,) ``q`` only in one limb's or the head's coordinates (that part only)."""
    base = model.points(q)
    _, pelvis = model.pelvis_frame(q[None])
    thorax = model.thorax_frame(pelvis, q[None])

    def points(qs: Array) -> Array:
        out = np.repeat(base[None], qs.shape[0], axis=0)

        def put(name: str, value: Array) -> None:
            out[:, JOINT_INDEX[name]] = value

        if part == "leg":
            model._leg(qs, side, base[None, JOINT_INDEX[f"{side}_hip"]], pelvis, put)
        elif part == "arm":
            model._arm(qs, side, base[None, JOINT_INDEX[f"{side}_shoulder"]], thorax, put)
        else:
            model._head(qs, base[None, JOINT_INDEX["mid_shoulder"]], thorax, put)
        return out

    return points


def _closed_forms(
    model: SkeletonModel,
    q: Array,
    anchor_q: Array,
    names: tuple[str, ...],
    part: str,
    side: str,
    joint: str,
    target: Array,
) -> list[Array]:
    """Return closed-form solutions of a limb chain (module docstring), the preferred swivel first.

    Each is in the order of ``names`` (a fifth coordinate, the ankle, keeps its value); the others turn the
    middle joint round its circle in steps of 30°. Empty where the target sits on the root.
    """
    d = model.dimensions_m
    leg = part == "leg"
    _, pelvis = model.pelvis_frame(q[None])
    frame: Frame = pelvis if leg else model.thorax_frame(pelvis, q[None])
    root_name, middle_name = (f"{side}_hip", f"{side}_knee") if leg else (f"{side}_shoulder", f"{side}_elbow")
    points, anchor_points = model.points(q), model.points(anchor_q)
    root = points[JOINT_INDEX[root_name]]
    current = q[[DOF_INDEX[n] for n in names]]
    towards = target - root
    if np.linalg.norm(towards) < _TINY:
        return []
    lateral_sign = -1.0 if leg else 1.0  # a leg's coordinate is adduction, an arm's abduction
    if len(names) == 2:  # a knee or elbow: point the upper segment at it
        flexion, lateral, _ = ball_joint_angles(frame, SIGN[side], towards[None], None)
        return [np.array([flexion[0], lateral_sign * lateral[0]])]
    upper = d[f"{side}_thigh"] if leg else d[f"{side}_upper_arm"]
    lower = d[f"{side}_shank"] if leg else d[f"{side}_forearm"] + (d[f"{side}_hand"] if joint.endswith("hand") else 0.0)
    low, high = model.bounds()
    hinge_index = DOF_INDEX[names[3]]
    reach = np.sqrt(upper**2 + lower**2 + 2 * upper * lower * np.cos(np.array([high[hinge_index], low[hinge_index]])))
    distance = float(np.clip(np.linalg.norm(towards), reach[0], reach[1]))
    axis = towards / np.linalg.norm(towards)
    hinge = float(np.arccos(np.clip((distance**2 - upper**2 - lower**2) / (2 * upper * lower), -1.0, 1.0)))
    along = (upper**2 - lower**2 + distance**2) / (2 * distance)
    radius = np.sqrt(max(upper**2 - along**2, 0.0))
    preferred = anchor_points[JOINT_INDEX[middle_name]] - anchor_points[JOINT_INDEX[root_name]]
    across = preferred - (preferred @ axis) * axis
    if np.linalg.norm(across) < 1e-3 * upper:  # a straight limb in the anchor: the knee forwards, the elbow back
        across = (1.0 if leg else -1.0) * frame[0][0]
        across = across - (across @ axis) * axis
        if np.linalg.norm(across) < _TINY:
            across = np.cross(axis, frame[2][0])
    across /= np.linalg.norm(across)
    out = []
    for turn in np.radians([0, 30, -30, 60, -60, 90, -90, 120, -120, 150, -150, 180]):
        spoke = np.cos(turn) * across + np.sin(turn) * np.cross(axis, across)
        middle = along * axis + radius * spoke
        first = middle / np.linalg.norm(middle)
        second = (distance * axis - middle) / np.linalg.norm(distance * axis - middle)
        # The knee bends the shank backwards, the elbow the forearm forwards.
        bend = -1.0 if leg else 1.0
        front = None if np.sin(hinge) < _TINY else (second - np.cos(hinge) * first) / np.sin(hinge) * bend
        flexion, lateral, rotation = ball_joint_angles(
            frame, SIGN[side], first[None], None if front is None else front[None]
        )
        spin = rotation[0] if front is not None else current[2]
        solution = np.array([flexion[0], lateral_sign * lateral[0], spin, hinge, *current[4:]])
        out.append(solution)
        if radius < _TINY:  # every swivel is the same pose
            break
    return out


def _limb_chain(
    model: SkeletonModel,
    q: Array,
    names: tuple[str, ...],
    anchor_q: Array,
    part: str,
    side: str,
    joint: str,
    target: Array,
) -> Chain:
    idx = [DOF_INDEX[n] for n in names]
    lower, upper = model.bounds()
    lower, upper = lower[idx], upper[idx]
    points = _limb_points(model, q, part, side)
    if len(names) == 5:  # heel or toe: start from the ankle's closed form with the foot carried along
        offset = model.points(q)[JOINT_INDEX[joint]] - model.points(q)[JOINT_INDEX[f"{side}_ankle"]]
        ankle = _closed_forms(model, q, anchor_q, names[:4], part, side, f"{side}_ankle", target - offset)
        starts = tuple(np.clip(np.append(c, q[idx[4]]), lower, upper) for c in ankle[:3]) or (q[idx],)
        return Chain(names, columns(q, names), points, starts, anchor_q[idx], lower, upper)
    candidates = _closed_forms(model, q, anchor_q, names, part, side, joint, target)
    if not candidates:
        return Chain(names, columns(q, names), points, (q[idx],), anchor_q[idx], lower, upper)
    for candidate in candidates:
        if np.all((candidate >= lower) & (candidate <= upper)):
            return Chain(names, columns(q, names), points, (candidate,), anchor_q[idx], lower, upper, solved=True)
    excess = [float(np.sum(np.maximum(c - upper, 0.0) + np.maximum(lower - c, 0.0))) for c in candidates]
    order = np.argsort(excess)[:3]
    starts = tuple(np.clip(candidates[i], lower, upper) for i in order)
    return Chain(names, columns(q, names), points, starts, anchor_q[idx], lower, upper, closed_form=candidates[0])


def _pelvis_start(
    model: SkeletonModel, q: Array, joint: str, target: Array, anchor_q: Array, names: tuple[str, ...]
) -> Array:
    """Start of a pelvis drag: the pelvis moved all the way, each held leg re-solved from its hip to its ankle.

    The knee by the closed form (swivel as in the original pose), the ankle turned so that the heel-to-toe line
    keeps its direction as nearly as the shank's plane allows.
    """
    points = model.points(q)
    moved = q.copy()
    translation = [DOF_INDEX[n] for n in _TRANSLATION]
    moved[translation] += (target - points[JOINT_INDEX[joint]]) @ model.reference_axes
    lower, upper = model.bounds()
    for side in SIDES:
        leg = tuple(f"{side}_{n}" for n in LEG)
        if leg[0] not in names:
            continue
        idx = [DOF_INDEX[n] for n in leg]
        ankle = points[JOINT_INDEX[f"{side}_ankle"]]
        candidates = _closed_forms(model, moved, anchor_q, leg[:4], "leg", side, f"{side}_ankle", ankle)
        if not candidates:
            continue
        fits = [c for c in candidates if np.all((c >= lower[idx[:4]]) & (c <= upper[idx[:4]]))]
        moved[idx[:4]] = np.clip((fits or candidates)[0], lower[idx[:4]], upper[idx[:4]])
        new = model.points(moved)
        shank = new[JOINT_INDEX[f"{side}_knee"]] - new[JOINT_INDEX[f"{side}_ankle"]]
        sole = points[JOINT_INDEX[f"{side}_foot_index"]] - points[JOINT_INDEX[f"{side}_heel"]]
        foot_now = new[JOINT_INDEX[f"{side}_foot_index"]] - new[JOINT_INDEX[f"{side}_heel"]]
        front = foot_now - (foot_now @ shank) / (shank @ shank) * shank  # the shank's front, as the foot sees it
        dorsi = np.arctan2(sole @ shank / np.linalg.norm(shank), sole @ front / np.linalg.norm(front))
        moved[idx[4]] = np.clip(dorsi, lower[idx[4]], upper[idx[4]])
    return moved[[DOF_INDEX[n] for n in names]]


def chain_for(
    model: SkeletonModel, q: Array, joint: str, target: Array, *, anchor_q: Array, in_contact: tuple[bool, bool]
) -> Chain:
    """Return the drag problem of ``joint`` of (D,) pose ``q`` (chains: ``_manipulate``'s module docstring).

    Raises
    ------
    InvalidInputError
        ``joint`` is not one of :data:`DRAGGABLE_JOINTS`.

    """
    side, _, part = joint.partition("_")
    limb = {"elbow": "arm", "wrist": "arm", "hand": "arm", "knee": "leg", "ankle": "leg", "heel": "leg"}
    limb |= {"foot_index": "leg"}
    if side in SIDES and part in limb:
        count = {"elbow": 2, "knee": 2, "ankle": 4, "wrist": 4, "hand": 4}.get(part, 5)
        names = tuple(f"{side}_{n}" for n in (_ARM if limb[part] == "arm" else LEG)[:count])
        return _limb_chain(model, q, names, anchor_q, limb[part], side, joint, target)
    lower, upper = model.bounds()
    if joint in ("nose", "left_ear", "right_ear", "head_vertex"):
        idx = [DOF_INDEX[n] for n in _NECK]
        points = _limb_points(model, q, "head", "")
        return Chain(_NECK, columns(q, _NECK), points, (q[idx],), anchor_q[idx], lower[idx], upper[idx])
    if joint in ("mid_shoulder", "left_shoulder", "right_shoulder"):
        trunk = (
            ("lumbar_bending",)
            if joint == "mid_shoulder"
            else ("lumbar_bending", "lumbar_rotation", "shoulder_line_tilt")
        )
        idx = [DOF_INDEX[n] for n in trunk]
        axis = hip_line(model, q)

        def turn(x: Array) -> Array:
            out = turned_root(model, q, axis, x[:, 0])
            out[:, idx] = x[:, 1:]
            return out

        start = np.concatenate([[0.0], q[idx]])
        low, high = np.concatenate([[-np.inf], lower[idx]]), np.concatenate([[np.inf], upper[idx]])
        torso = partial(model._points, parts=())
        return Chain(("pelvis_turn", *trunk), turn, torso, (start,), start.copy(), low, high, turns_pelvis=True)
    if joint in ("mid_hip", "left_hip", "right_hip"):
        free_legs = tuple(f"{s}_{n}" for s, on in zip(SIDES, in_contact, strict=True) if on for n in LEG)
        holds = tuple(f"{s}_{p}" for s, on in zip(SIDES, in_contact, strict=True) if on for p in FOOT)
        names = (*_TRANSLATION, *free_legs)
        idx = [DOF_INDEX[n] for n in names]
        legs = partial(model._points, parts=("legs",))
        starts = (_pelvis_start(model, q, joint, target, anchor_q, names), q[idx])
        return Chain(names, columns(q, names), legs, starts, anchor_q[idx], lower[idx], upper[idx], holds)
    raise InvalidInputError(
        f"unknown joint {joint!r}; joints: {', '.join(DRAGGABLE_JOINTS)}", details={"valid": list(DRAGGABLE_JOINTS)}
    )
