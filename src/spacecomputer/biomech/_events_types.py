"""The data types of foot contacts, events and phases, and the check of the ``up`` direction they all use.

:func:`~spacecomputer.biomech._events.detect_foot_contacts` fills them; its rule is in
:mod:`spacecomputer.biomech._events`.

Event and phase conventions
---------------------------
- ``contact``: the first frame in contact after a known airborne frame; ``toe_off``: the first airborne
  frame after a known contact frame. ``frame_index`` is the row of the sequence (``sequence.frame_indices``
  maps it to the video frame); ``time_s`` is its timestamp.
- A phase covers the rows ``[start_index, end_index)``; its ``duration_s`` is ``t[end_index] − t[start_index]``
  (the number of frames times the frame interval, unbiased when the true transitions fall uniformly between
  frames). A *flight* is a run of frames with both feet known and airborne, bounded on both sides by a frame
  where a foot is known in contact: its start is the take-off, its end the landing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spacecomputer.errors import InvalidInputError

__all__ = ["FEET", "Foot", "FootContacts", "FootEvent", "Phase", "up_unit_vector"]

Foot = Literal["left", "right"]
FEET: tuple[Foot, Foot] = ("left", "right")
"""The two feet, in the column order of :attr:`FootContacts.in_contact`."""
_UP_NORM_TOLERANCE = 1e-6


@dataclass(frozen=True)
class FootEvent:
    """One foot event.

    Parameters
    ----------
    foot
        ``"left"`` or ``"right"`` (the athlete's own side).
    kind
        ``"contact"`` (initial contact) or ``"toe_off"``.
    frame_index
        Row of the sequence at which it happens (see the module docstring).
    time_s
        Timestamp of that row, seconds from the start of the video.

    """

    foot: Foot
    kind: Literal["contact", "toe_off"]
    frame_index: int
    time_s: float


@dataclass(frozen=True)
class Phase:
    """A time interval of the movement: one foot's ground contact, or a flight (both feet airborne).

    Parameters
    ----------
    kind
        ``"contact"`` or ``"flight"``.
    foot
        The foot of a contact phase; ``None`` for a flight.
    start_index, end_index
        Rows ``[start_index, end_index)`` of the sequence; ``end_index`` is the first row after the phase
        (the toe-off of a contact, the landing of a flight).
    start_s, end_s
        Timestamps of those rows, s.
    duration_s
        ``end_s − start_s``, s.

    """

    kind: Literal["contact", "flight"]
    foot: Foot | None
    start_index: int
    end_index: int
    start_s: float
    end_s: float
    duration_s: float


@dataclass(frozen=True, eq=False)
class FootContacts:
    """Per-frame contact state of both feet and the events found, with what was used to find them.

    Attributes
    ----------
    in_contact
        (T, 2) bool, columns in :data:`FEET` order; meaningful only where ``known``.
    known
        (T, 2) bool: the foot's state could be decided in that frame.
    ground_level_m
        (T,) ground height along ``up``, m, in the sequence's frame; NaN where no foot point is seen nearby.
    timestamps_s
        (T,) timestamps of the sequence, s.
    events
        Contact and toe-off events of both feet, in time order (left before right at equal times).
    unavailable_reason
        Why no foot state is known in any frame; ``None`` when some are.

    """

    in_contact: NDArray[np.bool_]
    known: NDArray[np.bool_]
    ground_level_m: NDArray[np.float64]
    timestamps_s: NDArray[np.float64]
    events: tuple[FootEvent, ...]
    unavailable_reason: str | None


def up_unit_vector(up: ArrayLike) -> NDArray[np.float64]:
    """Return ``up`` as a float array after checking that it is a finite unit 3-vector.

    Raises
    ------
    InvalidInputError
        If ``up`` is not a 3-vector of length 1 (± 1e-6).

    """
    vector = np.asarray(up, dtype=np.float64)
    length = float(np.linalg.norm(vector)) if vector.shape == (3,) else np.nan
    if not abs(length - 1.0) <= _UP_NORM_TOLERANCE:
        raise InvalidInputError(
            f"up must be a finite unit 3-vector in the sequence's frame (the up direction); got {vector.tolist()}",
            details={"up": vector.tolist()},
        )
    return vector
