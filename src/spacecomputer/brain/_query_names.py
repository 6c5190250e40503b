"""Names in a question that are not vocabulary: athletes not in the library, clips described, other runs.

- **An athlete not in the library**: a capitalised name after "compare … with/to/against", "vs", "versus",
  "against", "than" or "like" ("than Carl Lewis"); or lower-case words after "compare … with" or "vs" that are
  all neither vocabulary nor ordinary words ("compare me with carl lewis"; not "positive vs negative work").
  Possessive ``'s`` and contractions are cut off ("I'm" is "I", never a name).
- **A clip described by its sport**: a sport or sport person ("the boxer", "the wrestling takedown", "the cricket
  batting clip") after "with/to/against/vs/than/like the|a|an|that", or followed within three words by "clip",
  "reference", "video" or "footage", names the library's usable clips of that sport: one clip is that athlete,
  several are an ambiguous mention (the parser asks which).
- **Another run**: a written identifier — a word joined by hyphens or underscores, or a word with digits — that
  holds a digit or one of "run", "analysis", "session", "trial", "attempt", "take", and is no clip id and no
  vocabulary phrase (``short-run``, ``run-2``, ``session_03``, ``run2``; not ``take-off``, not ``VO2``).
"""

from __future__ import annotations

import re

from ._query_lexicon import (
    DOMAIN_WORDS,
    EVENT_TERMS,
    JOINT_TERMS,
    OBJECTIVE_TERMS,
    QUANTITY_TERMS,
    RISK_TERMS,
    RISK_WORDS,
    UNKNOWN_BODY_TERMS,
    UNKNOWN_METRIC_TERMS,
    Term,
)
from ._query_vocab import AthleteMention, QueryVocabulary

__all__ = ["other_run_ids", "sport_clip_mention", "unknown_athlete"]

_NAME_CUE = re.compile(
    r"(?i:\b(?:compar\w*(?:\s+\S+){0,5}?\s+(?:with|to|against)|vs\.?|versus|against|than|like))\s+"
    r"(?P<name>[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*){0,2})"
)
_LOWER_NAME_CUE = re.compile(
    r" (?:compar\w*(?: \w+){0,5}? (?:with|to|against)|vs|versus) (?P<name>[a-z]+(?: [a-z]+)?) "
)
_NOT_NAME_WORDS = (
    "i me my mine myself you your we our us he she him her his they them their it its the a an this that these "
    "those some any all other others another someone somebody anyone everyone people last previous earlier first "
    "second next before after yesterday today usual normal average typical ideal optimal expected recommended "
    "elite elites pro pros professional professionals world olympic olympian olympians champion champions athlete "
    "athletes sprinter sprinters runner runners player players reference references clip clips video videos run "
    "runs session sessions attempt attempts trial trials one ones left right both each what how who which when "
    "where why then now week month year time times good best better worse most more less mean median norm norms "
    "standard standards data in on at of for and or is was are were be do did does from with to against whom "
    "please too again also as so positive negative high low fast slow long short big small"
)
_NOT_NAMES = frozenset(_NOT_NAME_WORDS.split())
"""Words after "compare with" or "vs" that are not a person's name."""
_LEXICON_TABLES = (
    QUANTITY_TERMS, EVENT_TERMS, JOINT_TERMS, RISK_TERMS, UNKNOWN_BODY_TERMS, UNKNOWN_METRIC_TERMS, OBJECTIVE_TERMS,
)  # fmt: skip
_CLIP_WORDS = re.compile(r"(?<![a-z0-9])(?:clips?|references?|videos?|footage)(?![a-z0-9])")
_BEFORE_CLIP = re.compile(r"(?:with|to|against|vs|versus|than|like) (?:the|a|an|that)(?: [a-z]+){0,2} $")
_RUN_ID = re.compile(r"(?<![\w.])(?=[\w-]*[A-Za-z])(?:\w+(?:[-_]\w+)+|[A-Za-z]+\d\w*)(?![\w-])")
_RUN_ID_WORD = re.compile(r"\d|run|analys|session|trial|attempt|take")


def unknown_athlete(text: str, visible: str, vocabulary: QueryVocabulary) -> str | None:
    """Return a name compared with that is not in the library (module docstring), else ``None``.

    ``text`` is the match text, ``visible`` the question in its own case.
    """
    for match in _NAME_CUE.finditer(visible):
        words = [re.split(r"['’]", word)[0].strip(".") for word in match.group("name").split()]
        name = _name_words(words, vocabulary)
        if name:
            return name
    for match in _LOWER_NAME_CUE.finditer(text):
        words = match.group("name").split()
        name = _name_words(words, vocabulary)
        if name is not None and len(name.split()) == len(words):  # every word a name's: "vs negative work" is not
            return name
    return None


def sport_clip_mention(text: str, sport_terms: tuple[Term, ...], vocabulary: QueryVocabulary) -> AthleteMention | None:
    """Return the library clips a described sport names (module docstring), or ``None``."""
    for term in sport_terms:
        for match in term.pattern.finditer(text):
            before = text[: match.start()]
            after = " ".join(text[match.end() :].split()[:3])
            if _BEFORE_CLIP.search(before) or _CLIP_WORDS.search(after):
                clips = vocabulary.clips_of_sport(term.value)
                if clips:
                    return AthleteMention(match.start(), match.end(), match.group(), clips)
    return None


def other_run_ids(visible: str, vocabulary: QueryVocabulary) -> tuple[str, ...]:
    """Return the identifiers of other runs the question writes out (module docstring)."""
    clip_ids = set(vocabulary.clip_ids())
    found = []
    for match in _RUN_ID.finditer(visible):
        word = match.group()
        lower = word.lower()
        if lower in clip_ids or not _RUN_ID_WORD.search(lower):
            continue
        if all(_is_vocabulary(part, vocabulary) for part in re.split(r"[-_]", lower) if part):
            continue
        if any(term.pattern.fullmatch(re.sub(r"[-_]", " ", lower)) for table in _LEXICON_TABLES for term in table):
            continue
        found.append(word)
    return tuple(dict.fromkeys(found))


def _name_words(words: list[str], vocabulary: QueryVocabulary) -> str | None:
    kept: list[str] = []
    for word in words:
        lower = word.lower()
        if not lower or lower in _NOT_NAMES or _is_vocabulary(lower, vocabulary):
            break
        kept.append(word)
    return " ".join(kept) or None


def _is_vocabulary(word: str, vocabulary: QueryVocabulary) -> bool:
    padded = f" {word} "
    if DOMAIN_WORDS.search(padded) or RISK_WORDS.search(padded):
        return True
    return any(term.pattern.search(padded) for table in (*_LEXICON_TABLES, vocabulary.sport_terms) for term in table)
