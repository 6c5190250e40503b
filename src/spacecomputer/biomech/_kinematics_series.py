"""The values the kinematics return: one angle over time, its range of motion, one point's motion over time.

:class:`KinematicSeries` carries an angle's values in degrees with its convention and, for a degree of freedom
the landmarks cannot observe, ``available=False`` and the reason; it is immutable (its array is read-only), so
the series of a sequence are computed once and shared. The angles, their conventions and the derivatives are
documented in :mod:`spacecomputer.biomech._kinematics`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from spacecomputer.biomech._angles import AngleDefinition
from spacecomputer.errors import InvalidInputError

__all__ = ["KinematicSeries", "PointKinematics", "RangeOfMotion"]


@dataclass(frozen=True, eq=False)
class KinematicSeries:
    """One angle over time.

    Parameters
    ----------
    name
        Key of the angle (``left_knee_flexion``, ``trunk``, …).
    values_deg
        (T,) degrees; NaN where a needed landmark is missing or the angle is ill-conditioned; all NaN when
        the angle is unavailable.
    convention
        Zero, sign and range in words.
    landmarks
        BlazePose landmarks the angle is computed from.
    available
        Whether the landmarks can observe this degree of freedom at all.
    reason
        Why it is unavailable; ``None`` when it is available.

    """

    name: str
    values_deg: NDArray[np.float64]
    convention: str
    landmarks: tuple[str, ...]
    available: bool = True
    reason: str | None = None

    def __post_init__(self) -> None:
        values = np.array(self.values_deg, dtype=np.float64)
        if values.ndim != 1:
            raise InvalidInputError(f"{self.name}: values_deg must be 1-D (T,); got shape {values.shape}")
        if self.available == (self.reason is not None):
            raise InvalidInputError(f"{self.name}: give a reason exactly when the series is unavailable")
        if not self.available and not np.isnan(values).all():
            raise InvalidInputError(f"{self.name}: an unavailable series holds only NaN")
        values.setflags(write=False)
        object.__setattr__(self, "values_deg", values)

    @classmethod
    def unavailable(cls, definition: AngleDefinition, *, n_frames: int) -> KinematicSeries:
        """Return the all-NaN series of an angle that is not observable, with its reason."""
        return cls(
            name=definition.name,
            values_deg=np.full(n_frames, np.nan),
            convention=definition.convention,
            landmarks=definition.landmarks,
            available=False,
            reason=definition.unavailable_reason,
        )


class RangeOfMotion(NamedTuple):
    """Extremes of an angle over the frames where it is finite, degrees."""

    min_deg: float
    max_deg: float
    range_deg: float


@dataclass(frozen=True, eq=False)
class PointKinematics:
    """Position, velocity and acceleration of one point (a joint centre) over time.

    Attributes
    ----------
    name
        The point (``left_knee``, ``mid_hip``).
    position_m
        (T, 3) metres in the sequence's frame; NaN where missing.
    velocity_m_s
        (T, 3) m/s, central differences (see :mod:`spacecomputer.biomech._kinematics`).
    acceleration_m_s2
        (T, 3) m/s².

    """

    name: str
    position_m: NDArray[np.float64]
    velocity_m_s: NDArray[np.float64]
    acceleration_m_s2: NDArray[np.float64]

    @property
    def speed_m_s(self) -> NDArray[np.float64]:
        """(T,) magnitude of the velocity, m/s."""
        return np.asarray(np.linalg.norm(self.velocity_m_s, axis=1), dtype=np.float64)
