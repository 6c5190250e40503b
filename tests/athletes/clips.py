"""Library clips and runs as motions, computed once per test session (they take a fraction of a second each)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from spacecomputer.athletes._motion import Motion, motion_from_sequence
from spacecomputer.athletes._reference import IMAGE_UP, scale_reference_clip
from spacecomputer.domain import PoseSequence

ATHLETES = Path(__file__).resolve().parents[2] / "data" / "athletes"


@cache
def reference_motion(clip_id: str, *, draws: int = 8) -> Motion:
    """The library clip ``clip_id`` (file stem in data/athletes) as a motion, with few draws to stay fast."""
    scaled = scale_reference_clip(PoseSequence.from_elite_json(ATHLETES / f"{clip_id}.json"))
    return motion_from_sequence(
        scaled.smoothed,
        up=IMAGE_UP,
        name=clip_id,
        source="reference",
        raw=scaled.raw,
        cutoff_hz=scaled.cutoff_hz,
        draws=draws,
        notes=scaled.notes,
    )
