"""The local domain answerer: an answer composed from run facts and retrieved passages, every sentence cited.

No network and no generation: each sentence is either a fact of the run written from its display (cited as the
run's file and field: the citation, not the sentence, says where it was read), or a sentence taken from a
retrieved passage (cited as that passage). How much is said depends on the expertise level:

=========== ============================================================================================
beginner    at most 3 facts, values rounded to what matters, no field names, one sentence per passage,
            at most 2 passages; sentences with code identifiers are skipped
coach       at most 4 facts as the analysis displays them, two sentences per passage, at most 3 passages
scientist   at most 6 facts, three sentences per passage, at most 3 passages, and the passage documents'
            own references listed after the answer
=========== ============================================================================================

Passage sentences are ranked by the share of the question's content words they contain (ties: their order in
the passage), prose before sentences naming file fields, and kept in passage order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from spacecomputer.biomech._analyze import unreliable_because
from spacecomputer.brain._types import Citation, Expertise, Fact
from spacecomputer.knowledge import Passage

__all__ = ["Composition", "LevelStyle", "compose", "fact_citation", "passage_citation", "style_for"]

_WORD = re.compile(r"[a-z][a-z0-9]+")
_IDENTIFIER = re.compile(r"`[^`]*`|\b[a-z]+_[a-z0-9_]+\b")
_MARKDOWN = re.compile(r"`|\*\*|(?<![\w*])\*(?=\S)|(?<=\S)\*(?![\w*])")
_STOP = frozenset(
    re.findall(
        r"\w+",
        "a an and are as at be by did do does for from has have how i in is it its me my of on or our the their this "
        "to was we were what when where which who why will with you your",
    )
)


@dataclass(frozen=True)
class LevelStyle:
    """How much an answer says at one expertise level (module docstring)."""

    facts: int
    passages: int
    sentences_per_passage: int
    rounded: bool
    references: bool


_STYLES = {
    Expertise.BEGINNER: LevelStyle(3, 2, 1, rounded=True, references=False),
    Expertise.COACH: LevelStyle(4, 3, 2, rounded=False, references=False),
    Expertise.SCIENTIST: LevelStyle(6, 3, 3, rounded=False, references=True),
}


def style_for(expertise: Expertise) -> LevelStyle:
    """Return the :class:`LevelStyle` of ``expertise``."""
    return _STYLES[expertise]


@dataclass(frozen=True)
class Composition:
    """A composed answer: its text and the citations its markers point at."""

    text: str
    citations: tuple[Citation, ...]
    facts: tuple[Fact, ...]


def fact_citation(n: int, fact: Fact) -> Citation:
    """Cite a run fact: the run's file and field it was read from."""
    where = f"{fact.provenance.source} {fact.provenance.locator}"
    return Citation(n, "analysis", where, f"your analysis: {fact.label}", fact.display)


def passage_citation(n: int, passage: Passage) -> Citation:
    """Cite a retrieved knowledge passage, with its document's own references."""
    sources = tuple(f"{s.reference} — {s.supports}" for s in passage.sources)
    return Citation(n, "passage", passage.id, passage.title, passage.text, sources)


def _rounded(fact: Fact) -> str:
    """Word the fact for a beginner: the value to whole units (one decimal below 10), give or take."""
    if fact.value is None:
        return fact.display

    def short(x: float) -> str:
        return f"{x:.0f}" if abs(x) >= 10 else f"{x:.1f}"

    unit = {"deg": "°", "deg/s": "°/s"}.get(fact.unit, f" {fact.unit}")
    text = f"about {short(fact.value)}{unit}"
    if fact.uncertainty is not None:
        text += f" (give or take {short(fact.uncertainty)}{unit})"
    return text


def fact_sentence(fact: Fact, marker: int, style: LevelStyle) -> str:
    """One sentence stating ``fact`` at ``style``, ending with its citation marker."""
    value = _rounded(fact) if style.rounded else fact.display
    when = ""
    if fact.time_s is not None and not (fact.unit == "s" and fact.value == fact.time_s):
        when = f" at {fact.time_s:.2f} s" + (f" (frame {fact.frame})" if fact.frame is not None else "")
    parts = [f"{fact.label[:1].upper()}{fact.label[1:]}: {value}{when}"]
    if fact.estimated_from_video:
        parts.append("estimated from video, without force plates")
    if not fact.reliable and style.rounded:
        parts.append(f"a rough estimate, as {unreliable_because(fact.unit)}")
    if fact.note and not style.rounded:
        parts.append(fact.note.rstrip("."))
    return "; ".join(parts) + f" [{marker}]."


def _content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


def _clean(sentence: str) -> str:
    return " ".join(_MARKDOWN.sub("", sentence).split())


def passage_sentences(passage: Passage, question_words: set[str], count: int, *, plain: bool) -> list[str]:
    """Pick the ``count`` sentences of ``passage`` that share most of the question's content words, in passage order."""
    from spacecomputer.brain._validate import split_sentences

    sentences = [_clean(s) for s in split_sentences(passage.text.replace("\n", " "))]
    sentences = [s for s in sentences if len(s.split()) >= 4 and not s.startswith("#")]
    if plain:
        sentences = [s for s in sentences if not _IDENTIFIER.search(s)]
    scored = sorted(  # sentences without field names first: they read as prose
        range(len(sentences)),
        key=lambda i: (
            bool(_IDENTIFIER.search(sentences[i])),
            -len(_content_words(sentences[i]) & question_words) / (1 + len(question_words)),
            i,
        ),
    )
    chosen = sorted(scored[:count])
    return [sentences[i] for i in chosen]


def compose(
    question: str,
    facts: Sequence[Fact],
    passages: Sequence[Passage],
    expertise: Expertise,
    *,
    sentences: Sequence[str] | None = None,
    lead: str | None = None,
    max_facts: int | None = None,
) -> Composition:
    """Compose an answer from ``facts`` then ``passages`` at ``expertise`` (module docstring).

    ``sentences`` (one per fact, with ``{n}`` where its citation number goes) replace the standard fact sentences,
    for routes that word their facts themselves (a comparison's findings). ``lead`` opens the answer; it must not
    state a number (it cites nothing). ``max_facts`` replaces the level's number of facts (a look-up states every
    value asked for).
    """
    style = style_for(expertise)
    citations: list[Citation] = []
    lines: list[str] = [lead] if lead else []
    limit = len(facts) if sentences is not None else (max_facts if max_facts is not None else style.facts)
    used = list(facts[:limit])
    for index, fact in enumerate(used):
        marker = len(citations) + 1
        citations.append(fact_citation(marker, fact))
        lines.append(sentences[index].format(n=marker) if sentences is not None else fact_sentence(fact, marker, style))
    words = _content_words(question)
    for passage in passages[: style.passages]:
        chosen = passage_sentences(passage, words, style.sentences_per_passage, plain=style.rounded)
        if not chosen:
            continue
        marker = len(citations) + 1
        citations.append(passage_citation(marker, passage))
        lines.extend(f"{sentence.rstrip('.')} [{marker}]." for sentence in chosen)
    return Composition(" ".join(lines), tuple(citations), tuple(used))
