"""The comparison route: the run against an elite library clip or another run, and "which clip moves like me?".

It calls the elite library's own engines (:func:`~spacecomputer.athletes.compare_motions`,
:class:`~spacecomputer.athletes.SimilarityIndex`) and turns their results into facts: the similarity score and
each significant finding, worded by the comparison engine, with the numbers it printed. Different movements are
not compared (the engine refuses); the answer then says so and names the library's clips of the run's movement.
Motions are cached: a library clip's for the process, a run's until its ``analysis.json`` changes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from spacecomputer.athletes import AthleteLibrary, Motion, SimilarityIndex, compare_motions, motion_from_run
from spacecomputer.athletes._compare import Comparison
from spacecomputer.brain._comparison_focus import Focus, focus_facts
from spacecomputer.brain._types import Entities, Fact, Provenance
from spacecomputer.brain._validate import numbers_in
from spacecomputer.errors import IncompatibleMotionError, NotFoundError

__all__ = ["RUN_MOTIONS_KEPT", "ComparisonOutcome", "LibraryEngine"]

RUN_MOTIONS_KEPT = 16
"""Runs whose motions are kept (least recently used dropped first)."""


@dataclass(frozen=True)
class ComparisonOutcome:
    """What the comparison route found: facts with their sentences (``{n}`` = citation), or a plain message."""

    facts: tuple[Fact, ...]
    sentences: tuple[str, ...]
    message: str | None = None
    """Set when nothing was compared: why, and what can be compared instead."""
    retrieval_terms: str = ""
    lead: str | None = None
    """Opens the answer when the question's quantity was replaced (a moment by the joint's angle)."""


def _run_key(run_dir: Path) -> tuple[str, int]:
    analysis = run_dir / "analysis.json"
    try:
        return str(run_dir.resolve()), analysis.stat().st_mtime_ns
    except OSError as error:
        raise NotFoundError(f"no analysis in {run_dir}", details={"run": str(run_dir)}) from error


class LibraryEngine:
    """The elite library as the brain uses it: cached motions and one similarity index over the usable clips."""

    def __init__(self, library: AthleteLibrary | None = None) -> None:
        self.library = library if library is not None else AthleteLibrary.default()
        self._lock = threading.Lock()
        self._clips: dict[str, Motion] = {}
        self._runs: OrderedDict[tuple[str, int], Motion] = OrderedDict()
        self._index: SimilarityIndex | None = None

    def clip(self, clip_id: str) -> Motion:
        """Return the motion of library clip ``clip_id`` (cached)."""
        with self._lock:
            if clip_id not in self._clips:
                self._clips[clip_id] = self.library.motion(clip_id)
            return self._clips[clip_id]

    def run(self, run_dir: Path) -> Motion:
        """Return the motion of a run (cached until its analysis changes)."""
        key = _run_key(run_dir)
        with self._lock:
            if key not in self._runs:
                self._runs[key] = motion_from_run(run_dir)
                while len(self._runs) > RUN_MOTIONS_KEPT:
                    self._runs.popitem(last=False)
            self._runs.move_to_end(key)
            return self._runs[key]

    def index(self) -> SimilarityIndex:
        """Return the similarity index over every usable clip (built on first use)."""
        if self._index is None:
            index = SimilarityIndex()
            for entry in self.library.entries():
                if entry.usable:
                    index.add(entry.id, self.clip(entry.id), movement=entry.movement)
            self._index = index
        return self._index

    def _name(self, clip_id: str) -> str:
        entry = self.library.get(clip_id)
        who = entry.athlete or f"the {entry.sport} clip"
        return f"{who} ({clip_id}: {entry.technique})"

    def compare_with_clip(self, run_dir: Path, clip_id: str, focus: Entities | None = None) -> ComparisonOutcome:
        """Compare the run with library clip ``clip_id``; ``focus``: the joint and event asked about first."""
        you, reference = self.run(run_dir), self.clip(clip_id)
        try:
            comparison = compare_motions(you, reference)
        except IncompatibleMotionError:
            same = [c for c in self.library.usable_ids(movement=you.movement) if c != clip_id]
            instead = f" Clips of your movement in the library: {', '.join(same)}." if same else ""
            return ComparisonOutcome(
                (),
                (),
                message=(
                    f"Your run is a {you.movement} and {self._name(clip_id)} is a {reference.movement}: different "
                    f"movements are not compared, because the differences would reflect the movements, not "
                    f"technique.{instead}"
                ),
                retrieval_terms="comparison similarity score movement",
            )
        return self._outcome(comparison, self._name(clip_id), f"comparison with {clip_id}", focus)

    def compare_runs(self, run_dir: Path, other_dir: Path, focus: Entities | None = None) -> ComparisonOutcome:
        """Compare the run with another run of the user; ``focus``: the joint and event asked about first."""
        try:
            comparison = compare_motions(self.run(run_dir), self.run(other_dir))
        except IncompatibleMotionError as error:
            return ComparisonOutcome((), (), message=f"{error}.", retrieval_terms="comparison similarity score")
        name, where = f"your run {other_dir.name}", f"comparison with run {other_dir.name}"
        return self._outcome(comparison, name, where, focus)

    def _outcome(
        self, comparison: Comparison, name: str, where: str, focus: Entities | None = None
    ) -> ComparisonOutcome:
        score = comparison.similarity.score
        caveats = "".join(f"; note: {warning}" for warning in comparison.warnings)
        facts = [
            Fact(
                key="similarity_score",
                label=f"similarity to {name}",
                value=score,
                unit="score",
                display=f"{score:.0f} out of 100",
                provenance=Provenance("comparison", f"{where}: similarity.score"),
                numbers=(round(score), 100.0, *(float(n) for n in numbers_in(caveats))),
                note=comparison.similarity.definition,
            )
        ]
        sentences = [f"Your similarity to {name} is {score:.0f} out of 100{caveats} [{{n}}]."]
        for i, finding in enumerate(comparison.findings):
            facts.append(
                Fact(
                    key=f"finding_{i + 1}",
                    label=finding.text,
                    value=finding.difference_deg,
                    unit="deg",
                    display=finding.text,
                    provenance=Provenance("comparison", f"{where}: findings[{i}]"),
                    uncertainty=finding.uncertainty_deg,
                    numbers=tuple(float(n) for n in numbers_in(finding.text)),
                )
            )
            sentences.append(f"Your {finding.text} [{{n}}].")
        if not comparison.findings:
            sentences[0] = (
                f"Your similarity to {name} is {score:.0f} out of 100, with no joint-angle difference larger than "
                f"twice its measurement uncertainty{caveats} [{{n}}]."
            )
        focused = focus_facts(comparison, focus, name, where) if focus is not None else Focus((), ())
        return ComparisonOutcome(
            (*focused.facts, *facts),
            (*focused.sentences, *sentences),
            retrieval_terms="comparison similarity score",
            lead=focused.lead,
        )

    def most_similar(self, run_dir: Path, *, k: int = 3) -> ComparisonOutcome:
        """Find the ``k`` library clips that move most like the run (same movement family when it is known)."""
        you = self.run(run_dir)
        index = self.index()
        family_known = you.movement is None or you.movement in index.movements
        hits = index.search(you, movement="same" if family_known else None, k=k)
        if not hits:
            return ComparisonOutcome((), (), message="The library has no usable clip to search.")
        facts, sentences = [], []
        for hit in hits:
            facts.append(
                Fact(
                    key=f"search_rank_{hit.rank}",
                    label=f"rank {hit.rank}: {self._name(hit.clip_id)}",
                    value=hit.dtw_distance,
                    unit="deg",
                    display=f"{hit.dtw_distance:.1f}°",
                    provenance=Provenance("comparison", f"similarity search: hit {hit.rank} ({hit.clip_id})"),
                    numbers=(float(hit.rank), round(hit.dtw_distance, 1)),
                )
            )
            sentences.append(
                f"Number {hit.rank}: {self._name(hit.clip_id)}, at a time-warped joint-angle distance of "
                f"{hit.dtw_distance:.1f} (dynamic time warping, degrees summed along the path) [{{n}}]."
            )
        if not family_known:
            family = f" (the library has no {you.movement} clip, so among all of them)"
        else:
            family = f" among the {you.movement} clips" if you.movement else ""
        sentences[0] = f"The clips that move most like you{family}, nearest first. " + sentences[0]
        return ComparisonOutcome(tuple(facts), tuple(sentences), retrieval_terms="similarity search clips dtw")
