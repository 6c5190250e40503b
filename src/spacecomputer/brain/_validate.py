"""Validation of an answer before it leaves: every number traced, every citation real, every sentence cited.

The rules (:func:`validate_answer`):

- **Numbers.** Every number written in the text (citation markers and list numbering aside) must equal a number
  of a fact the answer used, a number written in a passage it cites, or a number of the question itself (a what-if
  echoes "20°"). Equal means: the source number rounded to as many decimals as the text writes. Signs may be
  dropped ("389 J of negative work" for −389 J). A number written in words is not checked.
- **Citations.** Every ``[n]`` must be one of the answer's citations; an answer from the local or LLM route must
  cite at least one source, and each of its sentences must carry a marker; on the analytics, solver and
  comparison routes each sentence that states a number must.
- A refusal cites nothing. Clarifying questions and refusals are our own fixed wording about what we can
  answer, not claims about data: their numbers (an example "20°") are not traced.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from spacecomputer.brain._types import Citation, Fact, NumberTrace, Route, Validation

__all__ = ["allowed_numbers", "cited_numbers", "numbers_in", "split_sentences", "validate_answer"]

_CITATION = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
_NUMBER = re.compile(r"(?<![\w.\-−])[-−]?\d+(?:\.\d+)?(?:e[+\-−]?\d+)?(?![\w]|\.\d)", re.IGNORECASE)
"""A written number, in scientific notation too (``1.661e+04`` is one number, not 1.661 and 04)."""
_LIST_MARK = re.compile(r"^\s*\d+[.)]\s", re.MULTILINE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])|\n+")
_CITED_ROUTES = {Route.LOCAL, Route.LLM, Route.ANALYTICS, Route.COMPARISON, Route.SOLVER}


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text`` (a line break also ends one); empty pieces dropped."""
    return [piece.strip() for piece in _SENTENCE_END.split(text) if piece and piece.strip()]


def markers(text: str) -> list[int]:
    """Every citation number in ``text``, in order (``[1, 3]`` → 1, 3)."""
    return [int(n) for group in _CITATION.findall(text) for n in group.split(",")]


def numbers_in(text: str) -> list[str]:
    """List the numbers written in ``text`` (citation markers and list numbering removed; minus sign ASCII)."""
    plain = _LIST_MARK.sub(" ", _CITATION.sub(" ", text))
    return [match.replace("−", "-") for match in _NUMBER.findall(plain)]


def _matches(written: str, value: float) -> bool:
    mantissa, _, exponent = written.lower().partition("e")
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    number = float(written)
    tolerance = 0.5 * 10.0 ** (int(exponent or 0) - decimals) + 1e-9
    return abs(abs(number) - abs(value)) <= tolerance  # signs may be dropped: "389 J of negative work"


def allowed_numbers(facts: Iterable[Fact]) -> list[tuple[float, str]]:
    """(value, fact key) for every number the facts let an answer state."""
    out: list[tuple[float, str]] = []
    for fact in facts:
        values = list(fact.numbers)
        for extra in (fact.value, fact.uncertainty, fact.time_s, fact.frame, fact.row):
            if extra is not None:
                values.append(float(extra))
        out.extend((value, fact.key) for value in values)
    return out


def cited_numbers(citations: Sequence[Citation], cited: set[int]) -> list[tuple[float, str]]:
    """(value, passage id) for every number written in the passages the text cites."""
    return [
        (float(written), citation.reference)
        for citation in citations
        if citation.kind == "passage" and citation.n in cited
        for written in numbers_in(citation.text)
    ]


def validate_answer(
    text: str,
    route: Route,
    *,
    facts: Sequence[Fact],
    citations: Sequence[Citation],
    question: str,
) -> tuple[Validation, tuple[NumberTrace, ...]]:
    """Check ``text`` against what it rests on (module docstring); return the verdict and the traced numbers."""
    cited = set(markers(text))
    known = {c.n for c in citations}
    bad = tuple(sorted(cited - known))
    sources: list[tuple[float, str, str]] = [(v, k, "analysis") for v, k in allowed_numbers(facts)]
    sources += [(v, k, "passage") for v, k in cited_numbers(citations, cited)]
    sources += [(float(w), "question", "question") for w in numbers_in(question)]
    traces: list[NumberTrace] = []
    untraced: list[str] = []
    checked = route not in {Route.CLARIFY, Route.REFUSAL}
    for written in numbers_in(text) if checked else []:
        origin = next(((v, k, o) for v, k, o in sources if _matches(written, v)), None)
        if origin is None:
            untraced.append(written)
        else:
            traces.append(NumberTrace(written, float(written), origin[2], origin[1]))  # type: ignore[arg-type]
    notes: list[str] = []
    uncited = 0
    if route in _CITED_ROUTES:
        every = route in {Route.LOCAL, Route.LLM}
        uncited = sum(
            1
            for sentence in split_sentences(text)
            if not _CITATION.search(sentence) and (every or numbers_in(sentence))
        )
        if not cited and (every or numbers_in(text)):
            notes.append("the answer cites nothing")
    elif route is Route.REFUSAL and cited:
        notes.append("a refusal must not cite")
    passed = not untraced and not bad and uncited == 0 and not notes
    validation = Validation(passed, tuple(untraced), bad, uncited, tuple(notes))
    return validation, tuple(traces)
