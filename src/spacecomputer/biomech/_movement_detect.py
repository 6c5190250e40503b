"""Which movement family a clip shows: from the sport's name, or detected from the motion itself.

Families are those of :func:`~spacecomputer.biomech._movement_metrics.movement_metrics`: ``sprint`` (any gait:
its metrics are step length and frequency, contact and flight times), ``jump``, ``landing``, ``strike`` (hand or
foot) and ``throw``.

From the name: :func:`movement_family`
--------------------------------------
The name is lower-cased, ``-`` and ``_`` become spaces and runs of spaces one. The table is our own
assignment of common ``--sport`` names to the family whose metrics describe the movement best (listed in
:data:`SPORT_FAMILIES`); a name that could mean two families (``football``: running or a kick; ``baseball``:
pitching or batting; ``cricket``, ``softball``, ``rugby``) or is not listed gives ``None``: detect the family
from the motion instead. Basketball and volleyball map to ``jump``; walking to ``sprint`` (a gait).

From the motion: :func:`detect_movement`
----------------------------------------
Features, from the foot contacts and the whole-body centre of mass (COM); "height" is along ``up``:

- *drop*: over the flights (both feet airborne, :func:`~spacecomputer.biomech._events.flight_phases`), the largest
  COM height at take-off minus the COM height at landing;
- *jump flight*: the longest flight whose take-off is *simultaneous* (the last toe-offs of the two feet less than
  ``takeoff_simultaneity_s`` apart), and the longest flight of any kind;
- *alternation*: the number of consecutive initial contacts made by opposite feet, and the median horizontal
  COM speed over the clip;
- *effector speed*: the peak speed of each hand and foot point
  (:func:`~spacecomputer.biomech._sequencing.end_effector_velocity_m_s`) *relative to the COM velocity* (to the
  mid-hip's in frames where the COM is unknown, e.g. feet out of the picture), so that the limbs carried along by
  a run do not count, and whether a foot is known in contact at that peak.

Rules, first match wins (every threshold is our own heuristic, not a published value):

==========  =====================================================================================================
family      rule (defaults)
==========  =====================================================================================================
landing     a flight drops the COM by ≥ ``drop_threshold_m`` (0.15 m): stepping or falling off a height
jump        a simultaneous take-off with a flight ≥ ``min_jump_flight_s`` (0.1 s), or any flight ≥
            ``long_flight_s`` (0.3 s, longer than a running stride's flight: a one-footed jump or a bound)
sprint      ≥ ``min_alternating_contacts`` (3) alternations and a median horizontal COM speed ≥
            ``gait_speed_threshold_m_s`` (1.0 m/s: locomotion rather than stepping on the spot)
strike      the foot is the faster effector, ≥ ``strike_speed_threshold_m_s`` (5 m/s) relative to the COM, with
            a foot in contact (a kick); or the hand is, its wrist below its shoulder at the peak (a punch, a swing)
throw       the hand is the faster effector, ≥ the same threshold, with a foot in contact, the wrist above its
            shoulder at the peak (an overarm release: a tennis serve also reads as a throw; both families
            report the same arm-chain metrics)
``None``    nothing above (quiet standing, slow movement, or a family we do not know)
==========  =====================================================================================================

If no foot state is known at the effector's peak, the strike and throw rules still apply with their confidence
times 0.75; if both feet are known airborne there, they do not.

*Confidence* (our own heuristic, not a calibrated probability): for the matching rule, 0.5 at its threshold
rising linearly to 1.0 at twice the threshold (for ``sprint``, the lower of its two features); for ``None``,
1 minus the largest fraction of a threshold that any rule reached, at most 0.5 when the foot contacts are
unknown (then only the effector rule could be tried).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spacecomputer.biomech._body_model import BodyModel, whole_body_com
from spacecomputer.biomech._events import FEET, Foot, FootContacts, flight_phases, up_unit_vector
from spacecomputer.biomech._kinematics import linear_velocity_m_s
from spacecomputer.biomech._sequencing import CHAINS, Effector, end_effector_velocity_m_s, peak_index
from spacecomputer.domain import PoseSequence
from spacecomputer.errors import InvalidInputError

__all__ = ["SPORT_FAMILIES", "DetectedMovement", "detect_movement", "movement_family"]

_NAMES_BY_FAMILY = {
    "sprint": (
        "sprint", "sprinting", "running", "run", "jogging", "athletics", "track", "100 m", "100m", "200 m", "200m",
        "400 m", "400m", "hurdles", "marathon", "walking", "walk", "gait", "race walking",
    ),
    "jump": (
        "jump", "jumping", "high jump", "long jump", "triple jump", "vertical jump", "countermovement jump", "cmj",
        "squat jump", "drop jump", "box jump", "pole vault", "basketball", "volleyball", "trampoline",
        "jump rope", "rope skipping",
    ),
    "landing": ("landing", "drop landing"),
    "strike": (
        "strike", "striking", "boxing", "kickboxing", "karate", "taekwondo", "muay thai", "mma", "martial arts",
        "punch", "punching", "kick", "kicking", "tennis", "badminton", "squash", "table tennis", "padel", "golf",
        "baseball batting", "batting", "softball batting", "cricket batting", "hockey", "field hockey",
        "ice hockey", "football kick", "soccer kick", "penalty kick", "free kick", "rugby kick",
    ),
    "throw": (
        "throw", "throwing", "javelin", "javelin throw", "shot put", "discus", "discus throw", "hammer throw",
        "baseball pitching", "pitching", "softball pitching", "cricket bowling", "handball", "water polo",
        "quarterback", "american football pass",
    ),
}  # fmt: skip
SPORT_FAMILIES: dict[str, str] = {name: family for family, names in _NAMES_BY_FAMILY.items() for name in names}
"""Normalised sport name → movement family (our own assignment; see the module docstring)."""


def movement_family(sport: str | None) -> str | None:
    """Return the movement family of a sport's name, or ``None`` when it is absent, unknown or ambiguous.

    Examples
    --------
    >>> movement_family("High-Jump"), movement_family("baseball pitching"), movement_family("football")
    ('jump', 'throw', None)

    """
    if sport is None:
        return None
    return SPORT_FAMILIES.get(" ".join(sport.lower().replace("-", " ").replace("_", " ").split()))


@dataclass(frozen=True)
class DetectedMovement:
    """The movement family read from the motion.

    Parameters
    ----------
    family
        ``sprint``, ``jump``, ``landing``, ``strike``, ``throw``, or ``None`` when no rule matched.
    confidence
        0–1, our heuristic (module docstring), not a probability.
    evidence
        The features and thresholds behind the answer, in words.
    features
        The measured features by name (units in the names); only finite values.

    """

    family: str | None
    confidence: float
    evidence: str
    features: dict[str, float] = field(default_factory=dict)


def _ramp(value: float, threshold: float) -> float:
    """0 at the threshold, 1 at twice it."""
    return float(np.clip(value / threshold - 1.0, 0.0, 1.0))


def _or_unknown(value: float, unit: str) -> str:
    return f"{value:.2f} {unit}" if np.isfinite(value) else "unknown"


def _fraction(value: float, threshold: float) -> float:
    return float(np.clip(value / threshold, 0.0, 1.0)) if np.isfinite(value) else 0.0


def detect_movement(
    sequence: PoseSequence,
    *,
    up: ArrayLike,
    contacts: FootContacts,
    body_model: BodyModel,
    drop_threshold_m: float = 0.15,
    min_jump_flight_s: float = 0.1,
    long_flight_s: float = 0.3,
    takeoff_simultaneity_s: float = 0.1,
    min_alternating_contacts: int = 3,
    gait_speed_threshold_m_s: float = 1.0,
    strike_speed_threshold_m_s: float = 5.0,
) -> DetectedMovement:
    """Detect the movement family from the motion (features, rules and thresholds in the module docstring).

    Parameters
    ----------
    sequence
        Metric pose sequence on the BlazePose skeleton.
    up
        Unit 3-vector pointing up in the sequence's frame.
    contacts
        Foot contacts of ``sequence`` (:func:`~spacecomputer.biomech._events.detect_foot_contacts`).
    body_model
        Segment model for the whole-body COM.
    drop_threshold_m
        COM drop in a flight that makes a landing, m.
    min_jump_flight_s, long_flight_s
        Shortest flight after a simultaneous take-off, and shortest flight of any kind, that make a jump, s.
    takeoff_simultaneity_s
        Largest time between the two feet's toe-offs of a simultaneous take-off, s.
    min_alternating_contacts
        Fewest consecutive contacts by opposite feet that make a gait.
    gait_speed_threshold_m_s, strike_speed_threshold_m_s
        Lowest median horizontal COM speed of a gait, and lowest effector speed relative to the COM of a strike
        or throw, m/s.

    Raises
    ------
    InvalidInputError
        ``up`` not a unit vector, a threshold that is not positive, contacts of another length.
    InvalidPoseDataError
        A pixel sequence, or a skeleton without the landmarks.

    """
    up_unit = up_unit_vector(up)
    thresholds = {
        "drop_threshold_m": drop_threshold_m,
        "min_jump_flight_s": min_jump_flight_s,
        "long_flight_s": long_flight_s,
        "takeoff_simultaneity_s": takeoff_simultaneity_s,
        "min_alternating_contacts": min_alternating_contacts,
        "gait_speed_threshold_m_s": gait_speed_threshold_m_s,
        "strike_speed_threshold_m_s": strike_speed_threshold_m_s,
    }
    for name, value in thresholds.items():
        if not (np.isfinite(value) and value > 0):
            raise InvalidInputError(f"{name} must be positive; got {value!r}", details={name: value})
    if contacts.in_contact.shape[0] != sequence.n_frames:
        raise InvalidInputError(
            f"contacts cover {contacts.in_contact.shape[0]} frames, the sequence {sequence.n_frames}: "
            "detect them on this sequence"
        )
    com = whole_body_com(sequence, body_model)
    com_velocity = linear_velocity_m_s(com, sequence.timestamps_s)
    f = _flight_features(com @ up_unit, contacts, takeoff_simultaneity_s)
    horizontal = com_velocity - np.outer(com_velocity @ up_unit, up_unit)
    speed = np.linalg.norm(horizontal, axis=1)
    f["com_horizontal_speed_median_m_s"] = (
        float(np.median(speed[np.isfinite(speed)])) if np.isfinite(speed).any() else np.nan
    )
    contact_feet = [e.foot for e in contacts.events if e.kind == "contact"]
    f["alternating_contacts"] = float(sum(a != b for a, b in itertools.pairwise(contact_feet)))
    hips = 0.5 * (sequence.joint("left_hip") + sequence.joint("right_hip"))
    hip_velocity = linear_velocity_m_s(hips, sequence.timestamps_s)
    body_velocity = np.where(np.isfinite(com_velocity).all(axis=1, keepdims=True), com_velocity, hip_velocity)
    strike = _effector_features(sequence, up_unit, body_velocity, contacts)
    f.update(strike.features)
    features = {name: float(value) for name, value in f.items() if np.isfinite(value)}
    nan = float("nan")
    drop, jump_flight = f.get("com_drop_in_flight_m", nan), f["simultaneous_takeoff_flight_s"]
    longest, alternations = f["longest_flight_s"], f["alternating_contacts"]
    gait_speed, effector_speed = f["com_horizontal_speed_median_m_s"], strike.speed_m_s

    if drop >= drop_threshold_m:
        why = f"a flight drops the COM by {drop:.2f} m (≥ {drop_threshold_m:g} m): a landing from a height"
        return DetectedMovement("landing", 0.5 + 0.5 * _ramp(drop, drop_threshold_m), why, features)
    if jump_flight >= min_jump_flight_s or longest >= long_flight_s:
        conf = max(_ramp(jump_flight, min_jump_flight_s), _ramp(longest, long_flight_s))
        why = (
            f"a flight of {max(jump_flight, longest):.2f} s "
            + (f"after both feet left together (≥ {min_jump_flight_s:g} s)" if jump_flight >= min_jump_flight_s
               else f"(≥ {long_flight_s:g} s)")
            + ", then a landing"
        )  # fmt: skip
        return DetectedMovement("jump", 0.5 + 0.5 * conf, why, features)
    if alternations >= min_alternating_contacts and gait_speed >= gait_speed_threshold_m_s:
        conf = min(_ramp(alternations, min_alternating_contacts), _ramp(gait_speed, gait_speed_threshold_m_s))
        why = (
            f"{alternations:.0f} alternating left/right contacts (≥ {min_alternating_contacts}) at a median "
            f"horizontal COM speed of {gait_speed:.2f} m/s (≥ {gait_speed_threshold_m_s:g} m/s)"
        )
        return DetectedMovement("sprint", 0.5 + 0.5 * conf, why, features)
    if effector_speed >= strike_speed_threshold_m_s and strike.grounded is not False:
        family = "throw" if strike.effector == "hand" and strike.above_shoulder else "strike"
        conf = (0.5 + 0.5 * _ramp(effector_speed, strike_speed_threshold_m_s)) * (
            0.75 if strike.grounded is None else 1
        )
        where = "above" if strike.above_shoulder else "below"
        why = (
            f"the {strike.side} {strike.effector} reaches {effector_speed:.1f} m/s relative to the COM "
            f"(≥ {strike_speed_threshold_m_s:g} m/s)"
            + (f", {where} its shoulder" if strike.effector == "hand" else "")
            + (", feet not seen at that moment" if strike.grounded is None else ", a foot on the ground")
        )
        return DetectedMovement(family, conf, why, features)
    partial = [
        _fraction(drop, drop_threshold_m),
        max(_fraction(jump_flight, min_jump_flight_s), _fraction(longest, long_flight_s)),
        min(_fraction(alternations, min_alternating_contacts), _fraction(gait_speed, gait_speed_threshold_m_s)),
        _fraction(effector_speed, strike_speed_threshold_m_s),
    ]
    why = (
        f"no rule matched: longest flight {longest:.2f} s, {alternations:.0f} alternating contacts, median "
        f"horizontal COM speed {_or_unknown(gait_speed, 'm/s')}, fastest hand or foot "
        f"{_or_unknown(effector_speed, 'm/s')} relative to the COM"
    )
    confidence = 1.0 - max(partial)
    if contacts.unavailable_reason:
        why += f"; foot contacts unknown: {contacts.unavailable_reason}"
        confidence = min(confidence, 0.5)
    return DetectedMovement(None, confidence, why, features)


# --- features -----------------------------------------------------------------------------------------------------


def _flight_features(
    com_height_m: NDArray[np.float64], contacts: FootContacts, simultaneity_s: float
) -> dict[str, float]:
    toe_offs = {foot: [e for e in contacts.events if e.foot == foot and e.kind == "toe_off"] for foot in FEET}
    longest, jump, drop = 0.0, 0.0, np.nan
    for flight in flight_phases(contacts):
        longest = max(longest, flight.duration_s)
        last = [max((e.time_s for e in toe_offs[foot] if e.frame_index <= flight.start_index), default=np.nan)
                for foot in FEET]  # fmt: skip
        if abs(last[0] - last[1]) <= simultaneity_s:
            jump = max(jump, flight.duration_s)
        fall = com_height_m[flight.start_index] - com_height_m[flight.end_index]
        if np.isfinite(fall):
            drop = fall if not np.isfinite(drop) else max(drop, fall)
    return {"longest_flight_s": longest, "simultaneous_takeoff_flight_s": jump, "com_drop_in_flight_m": drop}


@dataclass(frozen=True)
class _Effector:
    effector: Effector
    side: Foot
    speed_m_s: float
    grounded: bool | None
    above_shoulder: bool
    features: dict[str, float]


def _effector_features(
    sequence: PoseSequence, up: NDArray[np.float64], body_velocity: NDArray[np.float64], contacts: FootContacts
) -> _Effector:
    peaks: dict[tuple[Effector, Foot], tuple[float, int]] = {}
    for effector, side in itertools.product(CHAINS, FEET):
        velocity = end_effector_velocity_m_s(sequence, effector=effector, side=side)
        relative = np.linalg.norm(velocity - body_velocity, axis=1)
        if np.isfinite(relative).any():
            row = peak_index(relative)
            peaks[effector, side] = (float(relative[row]), row)
    features = {
        f"{effector}_speed_relative_to_com_peak_m_s": max(
            (v[0] for (e, _), v in peaks.items() if e == effector), default=np.nan
        )
        for effector in CHAINS
    }
    if not peaks:
        return _Effector("hand", "right", np.nan, None, False, features)
    keys = list(peaks)
    effector, side = keys[peak_index([peaks[key][0] for key in keys])]
    speed, row = peaks[effector, side]
    known = contacts.known[row]
    grounded = bool((contacts.in_contact[row] & known).any()) if known.any() else None
    if grounded is False and not known.all():
        grounded = None
    wrist_height = sequence.joint(f"{side}_wrist")[row] @ up
    above = bool(wrist_height > sequence.joint(f"{side}_shoulder")[row] @ up)
    return _Effector(effector, side, speed, grounded, above, features)
