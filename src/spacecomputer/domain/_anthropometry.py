"""Anthropometric constants shared by the metric trajectory, the body model and the option checks."""

from __future__ import annotations

__all__ = ["HEIGHT_RANGE_M", "MASS_RANGE_KG", "SHOULDER_HEIGHT_FRACTION"]

SHOULDER_HEIGHT_FRACTION = 0.818
"""Shoulder height as a fraction of standing height: our own modelling assumption."""

HEIGHT_RANGE_M = (0.5, 2.6)
"""Plausible standing heights, m; a value outside is refused (165 is probably centimetres)."""

MASS_RANGE_KG = (15.0, 300.0)
"""Plausible body masses, kg."""
