"""What the query parser can name: the elite library's athletes, sports and movements, plus the static vocabulary.

An athlete is named by an alias (matched on the match text, see :mod:`spacecomputer.brain._query_text`):

- the clip id when it has a hyphen (``bolt-force-motion``, also written with spaces);
- the athlete's full name and surname (``Usain Bolt``, ``Bolt``), when the manifest names the athlete;
- a one-word clip id (``pound``, ``struggle``: ordinary words too) only before ``clip``, ``reference``,
  ``video`` or ``footage`` (up to two words between: "the pound boxing clip"), right after one ("reference
  struggle"), or right after "with", "against", "vs", "versus" or "than" ("compare me with hezvo").

An alias shared by two clips (two clips of one athlete) resolves to neither: the parser asks which one.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import ClassVar

from spacecomputer.athletes import AthleteLibrary, ManifestEntry

from ._query_lexicon import (
    EVENTS,
    JOINTS,
    OBJECTIVE_NAMES,
    QUANTITIES,
    RISKS,
    SPORT_TERMS,
    STATISTICS,
    Term,
    phrase,
)
from ._query_text import match_text, normalise_question
from ._types import Statistic

__all__ = ["AthleteMention", "AthleteTerm", "QueryVocabulary"]

_CLIP_WORDS = r"(?:clips?|references?|videos?|footage)"
_COMPARED = r"(?:with|against|vs|versus|than)"
_PARENTHESES = re.compile(r"\s*\([^)]*\)")


@dataclass(frozen=True)
class AthleteTerm:
    """One reference clip as the parser knows it."""

    clip_id: str
    name: str | None
    """The athlete's name as the manifest gives it; ``None`` when the source does not name the athlete."""
    sport: str
    movement: str | None = None
    """The movement family (``sprint``, ``jump``, ``strike``, ``grappling``); ``None`` for an unusable clip."""
    usable: bool = True
    unusable_reason: str | None = None

    @classmethod
    def from_entry(cls, entry: ManifestEntry) -> AthleteTerm:
        """Return the parser's view of a manifest entry."""
        return cls(entry.id, entry.athlete, entry.sport, entry.movement, entry.usable, entry.unusable_reason)

    def describe(self) -> str:
        """Return ``clip id (athlete name)``, or ``clip id (sport, movement)`` for an unnamed athlete."""
        if self.name:
            return f"{self.clip_id} ({self.name})"
        return f"{self.clip_id} ({_PARENTHESES.sub('', self.sport)}{f', {self.movement}' if self.movement else ''})"


@dataclass(frozen=True)
class AthleteMention:
    """An alias found in a question and the clips it names (more than one: ambiguous)."""

    start: int
    end: int
    alias: str
    clip_ids: tuple[str, ...]


class QueryVocabulary:
    """The athletes of the elite library, its sports and movement families, and the static vocabulary.

    Parameters
    ----------
    athletes
        The reference clips the parser may name (module docstring for how each is named).

    Examples
    --------
    >>> vocabulary = QueryVocabulary([AthleteTerm("bolt-force-motion", "Usain Bolt", "athletics", "sprint")])
    >>> [mention.clip_ids for mention in vocabulary.find_athletes(" compare me with usain bolt ")]
    [('bolt-force-motion',)]

    """

    joints: ClassVar[tuple[str, ...]] = JOINTS
    quantities: ClassVar[tuple[str, ...]] = QUANTITIES
    statistics: ClassVar[tuple[Statistic, ...]] = STATISTICS
    events: ClassVar[tuple[str, ...]] = EVENTS
    risks: ClassVar[tuple[str, ...]] = RISKS
    objectives: ClassVar[tuple[str, ...]] = OBJECTIVE_NAMES

    def __init__(self, athletes: Sequence[AthleteTerm]) -> None:
        self.athletes: tuple[AthleteTerm, ...] = tuple(sorted(athletes, key=lambda athlete: athlete.clip_id))
        aliases: dict[str, set[str]] = {}
        bare_ids: dict[str, str] = {}
        for athlete in self.athletes:
            clip_words = _words(athlete.clip_id)
            if " " in clip_words:
                aliases.setdefault(clip_words, set()).add(athlete.clip_id)
            elif clip_words:
                bare_ids[clip_words] = athlete.clip_id
            name = _words(athlete.name or "")
            for alias in {name, name.rpartition(" ")[2]} - {""}:
                aliases.setdefault(alias, set()).add(athlete.clip_id)
        bare_ids = {word: clip_id for word, clip_id in bare_ids.items() if word not in aliases}
        self._aliases = {alias: tuple(sorted(ids)) for alias, ids in aliases.items()}
        self._bare_ids = bare_ids
        self._alias_pattern = phrase(_alternatives(self._aliases)) if self._aliases else None
        bare = _alternatives(bare_ids)
        self._bare_pattern = (
            re.compile(
                rf"(?<![a-z0-9])(?:{_CLIP_WORDS} (?:called |named )?|{_COMPARED} (?:the )?)(?P<after>{bare})"
                rf"(?![a-z0-9])|(?<![a-z0-9])(?P<before>{bare})(?: [a-z]+){{0,2}} {_CLIP_WORDS}(?![a-z0-9])"
            )
            if bare_ids
            else None
        )
        self.sport_terms: tuple[Term, ...] = _sport_terms(athlete.sport for athlete in self.athletes)
        sport_clips: dict[str, list[str]] = {}
        for athlete in self.athletes:
            if athlete.usable:
                sport_clips.setdefault(_canonical_sport(athlete.sport, self.sport_terms), []).append(athlete.clip_id)
        self._sport_clips = {sport: tuple(ids) for sport, ids in sport_clips.items()}
        movements = sorted({athlete.movement for athlete in self.athletes if athlete.movement})
        self.movements: tuple[str, ...] = tuple(movements)
        self.movement_pattern = phrase(_alternatives(movements)) if movements else None

    @classmethod
    def from_library(cls, library: AthleteLibrary) -> QueryVocabulary:
        """Return the vocabulary of ``library``'s clips."""
        return cls([AthleteTerm.from_entry(entry) for entry in library.entries()])

    @classmethod
    def default(cls) -> QueryVocabulary:
        """Return the vocabulary of :meth:`AthleteLibrary.default` (bundled and user clips), read once a process."""
        return _default_vocabulary()

    def athlete(self, clip_id: str) -> AthleteTerm | None:
        """Return the clip ``clip_id``, or ``None`` when the library has no such clip."""
        return next((athlete for athlete in self.athletes if athlete.clip_id == clip_id), None)

    def clip_ids(self) -> tuple[str, ...]:
        """Every clip id, sorted."""
        return tuple(athlete.clip_id for athlete in self.athletes)

    def clips_of_sport(self, sport: str) -> tuple[str, ...]:
        """Return the usable clips of ``sport`` (a canonical sport: ``boxing``, ``rugby``), sorted."""
        return self._sport_clips.get(sport, ())

    def find_athletes(self, text: str) -> list[AthleteMention]:
        """Return the athletes named in ``text`` (a match text), in order of appearance."""
        found: list[AthleteMention] = []
        if self._alias_pattern is not None:
            for match in self._alias_pattern.finditer(text):
                found.append(AthleteMention(match.start(), match.end(), match.group(), self._aliases[match.group()]))
        if self._bare_pattern is not None:
            for match in self._bare_pattern.finditer(text):
                word = match.group("after") or match.group("before")
                found.append(AthleteMention(match.start(), match.end(), word, (self._bare_ids[word],)))
        return sorted(found, key=lambda mention: mention.start)

    def athlete_choices(self) -> str:
        """Return the usable clips as a comma-separated list for a clarifying question."""
        usable = [athlete.describe() for athlete in self.athletes if athlete.usable]
        return ", ".join(usable) or "(the elite library is empty)"


def _words(text: str) -> str:
    return match_text(normalise_question(text)).strip()


def _alternatives(words: Iterable[str]) -> str:
    """Return a regular-expression alternation of ``words``, longest first (so ``usain bolt`` wins over ``bolt``)."""
    return "|".join(re.escape(word) for word in sorted(words, key=lambda word: (-len(word), word)))


def _canonical_sport(sport: str, terms: tuple[Term, ...]) -> str:
    words = _words(_PARENTHESES.sub("", sport))
    return next((term.value for term in terms if term.pattern.fullmatch(words)), words)


def _sport_terms(sports: Iterable[str]) -> tuple[Term, ...]:
    """Return the sport phrases, naming each sport as the library does (``rugby`` → ``rugby union``).

    A static phrase that covers exactly one library sport (parenthetical remarks dropped) takes its name; a library
    sport no phrase covers gets its own phrase.
    """
    library = {_words(_PARENTHESES.sub("", sport)) for sport in sports} - {""}
    terms = []
    for term in SPORT_TERMS:
        covered = [sport for sport in library if term.pattern.fullmatch(sport)]
        terms.append(replace(term, value=covered[0]) if len(covered) == 1 else term)
        library -= set(covered)
    return (*terms, *(Term(phrase(re.escape(sport)), sport) for sport in sorted(library)))


@functools.cache
def _default_vocabulary() -> QueryVocabulary:
    return QueryVocabulary.from_library(AthleteLibrary.default())
