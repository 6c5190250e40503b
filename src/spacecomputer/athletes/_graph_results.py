"""Value types of the technique knowledge graph: what its queries return, clip links, the library's clip links."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from spacecomputer.errors import InvalidInputError

__all__ = [
    "LIBRARY_CLIP_LINKS",
    "ClipLink",
    "ClipShowing",
    "ContentLoaded",
    "Fault",
    "JointLoad",
    "Phase",
    "PhaseKey",
    "Sport",
    "Technique",
    "TechniqueDetails",
    "TechniqueLoading",
]


@dataclass(frozen=True)
class Sport:
    """A sport; ``source`` says where its description comes from."""

    id: str
    name: str
    description: str
    source: str


@dataclass(frozen=True)
class Technique:
    """A technique of a sport; ``movement_family`` is the elite library's family label (``sprint``, ``jump``, …)."""

    id: str
    sport: str
    name: str
    movement_family: str | None
    description: str
    source: str


@dataclass(frozen=True)
class PhaseKey:
    """A joint and an engine metric that describe a phase; ``joint`` ``None`` for a whole-body metric."""

    joint: str | None
    metric: str
    role: str
    source: str


@dataclass(frozen=True)
class Phase:
    """One phase of a technique, ``order`` 1 for the first, with its key joints and metrics."""

    technique: str
    key: str
    name: str
    order: int
    description: str
    source: str
    keys: tuple[PhaseKey, ...]


@dataclass(frozen=True)
class JointLoad:
    """How much a technique loads a joint: ``load`` is our own ordinal rating 0–3, a judgement, not a measurement."""

    technique: str
    joint: str
    load: int
    rationale: str
    source: str


@dataclass(frozen=True)
class Fault:
    """A common technical fault (of one phase, or of the whole technique when ``phase`` is ``None``).

    ``risk_indicators`` are the engine indicators that measure what the fault describes (our judgement).
    """

    id: str
    technique: str
    phase: str | None
    name: str
    description: str
    source: str
    risk_indicators: tuple[str, ...]


@dataclass(frozen=True)
class TechniqueDetails:
    """A technique with its phases, joint loads and faults."""

    technique: Technique
    phases: tuple[Phase, ...]
    joint_loads: tuple[JointLoad, ...]
    faults: tuple[Fault, ...]


@dataclass(frozen=True)
class TechniqueLoading:
    """One answer to "techniques that load this joint most".

    ``load`` is our own ordinal rating 0–3 (not a measurement); ``key_phases`` are the phases, in order, in which
    the joint (or a side of it) is a key joint.
    """

    technique: Technique
    joint: str
    load: int
    rationale: str
    source: str
    key_phases: tuple[str, ...]

    @property
    def key_phase_count(self) -> int:
        """Number of phases in which the joint is key (the ranking's tie-break)."""
        return len(self.key_phases)


@dataclass(frozen=True)
class ClipShowing:
    """A clip linked to a phase; ``frame_range`` is (first, last) 0-based inclusive, ``None`` for the whole clip."""

    clip_id: str
    technique: str
    phase: str | None
    frame_range: tuple[int, int] | None
    note: str


@dataclass(frozen=True)
class ContentLoaded:
    """What :meth:`~spacecomputer.athletes.TechniqueGraph.load_content` wrote.

    ``rows_per_table``: rows per ``kg_*`` table; ``dropped_clip_links``: clip ids whose links were dropped because
    the new content lacks their technique or phase.
    """

    rows_per_table: Mapping[str, int]
    dropped_clip_links: tuple[str, ...]


@dataclass(frozen=True)
class ClipLink:
    """A library clip showing a technique: ``phases`` it shows (empty: the whole clip, phase not verified).

    ``sport`` and ``technique`` are ids or names ("ball carry" = ``ball_carry``); ``frame_range`` optionally
    narrows the link to frames (first, last), 0-based inclusive.
    """

    clip_id: str
    sport: str
    technique: str
    phases: tuple[str, ...]
    note: str
    frame_range: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.phases, tuple):
            raise InvalidInputError(f"ClipLink.phases must be a tuple of phase names; got {self.phases!r}")
        if self.frame_range is not None:
            first, last = self.frame_range
            if any(isinstance(v, bool) or not isinstance(v, int) for v in (first, last)) or not 0 <= first <= last:
                raise InvalidInputError(
                    f"ClipLink.frame_range must be (first, last) with 0 <= first <= last; got {self.frame_range!r}"
                )


_NOT_VERIFIED = "phase not verified"

LIBRARY_CLIP_LINKS: tuple[ClipLink, ...] = (
    ClipLink("bolt-force-motion", "athletics", "sprint", ("maximum_velocity",),
             "upright sprinting at speed mid-race in the frames viewed (0, 67, 135, 202 of the annotated video)"),
    ClipLink("hezvo", "athletics", "sprint", (),
             f"{_NOT_VERIFIED}; the frames viewed (0, 24, 49, 73 of the annotated video) show a dancer in front of "
             "a crowd, not a sprint, with the pose drawn on a spectator in some of them: the label needs checking"),
    ClipLink("beijing", "athletics", "sprint", (), _NOT_VERIFIED),
    ClipLink("powell-anchor", "athletics", "relay_anchor_leg", (), _NOT_VERIFIED),
    ClipLink("lomu", "rugby", "ball_carry", ("running_carry",),
             "running with the ball past tacklers in the frames viewed (0, 20, 40, 60 of the annotated video); "
             "contact phase not verified"),
    ClipLink("koroibete", "rugby", "ball_carry", (), _NOT_VERIFIED),
    ClipLink("boundary-nz", "cricket", "batting", (), _NOT_VERIFIED),
    ClipLink("drogba-header", "football", "header", (), _NOT_VERIFIED),
    ClipLink("chisora", "boxing", "punching", (), _NOT_VERIFIED),
    ClipLink("pound", "boxing", "punching", (), _NOT_VERIFIED),
    ClipLink("struggle", "wrestling", "takedown", (), _NOT_VERIFIED),
)  # fmt: skip
"""The elite library's clips (``data/athletes/{clip_id}.json``) with the phases they show, where checked."""
