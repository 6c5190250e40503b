"""Library clips as motions, computed once per test session (they take a fraction of a second each)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from spacecomputer.athletes import Motion, clip_motion
from spacecomputer.domain import PoseSequence

ATHLETES = Path(__file__).resolve().parents[2] / "data" / "athletes"


@cache
def reference_motion(clip_id: str, *, draws: int = 8) -> Motion:
    """The library clip ``clip_id`` (file stem in data/athletes) as a motion of unknown movement, few draws."""
    return clip_motion(PoseSequence.from_elite_json(ATHLETES / f"{clip_id}.json"), name=clip_id, draws=draws)
