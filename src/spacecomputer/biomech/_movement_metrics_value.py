"""One scalar metric as a JSON-safe value (:class:`MetricValue`) and the standard acceleration of gravity.

Every metric of the biomechanics package is a :class:`MetricValue` in SI units with its convention; one that
cannot be computed has ``available=False``, ``value=None`` and the reason, never NaN or infinity. ``g`` is the
standard acceleration of gravity, 9.80665 m/s² (the conventional value adopted by the 3rd CGPM, 1901). Both are
re-exported by :mod:`~spacecomputer.biomech._movement_metrics`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spacecomputer.errors import InvalidInputError

__all__ = ["STANDARD_GRAVITY_M_S2", "MetricValue"]

STANDARD_GRAVITY_M_S2 = 9.80665
"""Standard acceleration of gravity, m/s² (3rd CGPM, 1901)."""


@dataclass(frozen=True)
class MetricValue:
    """One scalar metric, JSON-safe.

    Parameters
    ----------
    name
        Key, with its unit in the name (``step_length_m``).
    value
        Finite value in ``unit``; ``None`` when unavailable.
    unit
        SI unit (``m``, ``s``, ``Hz``, ``m/s``, ``deg``).
    available
        Whether it could be computed.
    reason
        Why not; ``None`` when available.
    convention
        How it is defined, in words.

    """

    name: str
    value: float | None
    unit: str
    available: bool
    reason: str | None
    convention: str

    def __post_init__(self) -> None:
        if self.available != (self.value is not None) or self.available == (self.reason is not None):
            raise InvalidInputError(f"{self.name}: an available metric has a value and no reason, and vice versa")
        if self.value is not None and not np.isfinite(self.value):
            raise InvalidInputError(f"{self.name}: value must be finite; got {self.value}")


def _metric(name: str, unit: str, convention: str, value: float | None, reason: str | None) -> MetricValue:
    if value is not None and np.isfinite(value):
        return MetricValue(name, float(value), unit, True, None, convention)
    return MetricValue(name, None, unit, False, reason or "the value is not finite", convention)
