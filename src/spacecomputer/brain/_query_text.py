"""A question's text: the capped form, the normalised form (cache key), the match text, and its language.

- :func:`normalise_question`: NFKC, control and format characters dropped, lower case, whitespace collapsed,
  punctuation trimmed from both ends. Two askings that differ only in case, spacing or a final ``?`` share it.
- :func:`match_text`: what the parser's phrases search (:mod:`spacecomputer.brain._query_lexicon`): the
  normalised text with accents removed, contractions expanded (``what's`` and ``whats`` → ``what is``,
  ``didn't`` → ``did not``, ``u`` → ``you``), possessive ``'s`` dropped (``Bolt's`` → ``bolt``), web addresses
  removed, and every character other than ``a-z``, digits, ``°``, ``#``, ``=`` and a decimal point between digits
  turned into a space.
- :func:`detect_language`: a small documented heuristic, no dependency. A question mostly in a non-Latin script
  gets that script's language (Cyrillic → ``ru``, Greek → ``el``, Arabic → ``ar``, Hebrew → ``he``, Devanagari →
  ``hi``, Thai → ``th``, Hangul → ``ko``, kana → ``ja``, Han without kana → ``zh``, Armenian → ``hy``, Georgian →
  ``ka``, Bengali → ``bn``, Tamil → ``ta``; another script → ``und``, "undetermined"); a Latin-script one is
  scored by counting its words found in short lists of frequent function words and body-part words of English,
  French, Spanish, German, Italian, Portuguese and Dutch (words common in English questions are left out of the
  other lists). Another language wins when it has at least two such words and more than English. Short or
  name-only questions stay ``en``. The code of a Latin-script language is a best guess among similar languages;
  what the heuristic is built for is telling "English" from "not English".
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["detect_language", "has_visible", "match_text", "normalise_question", "visible_text"]

_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
_SPACE = re.compile(r"\s+")
_ASCII_SPACE = re.compile(r"[\t\n\r\f\v\x1c-\x1f]")
_ASCII_INVISIBLE = re.compile(r"[\x00-\x08\x0e-\x1b\x7f]")
_EDGE_PUNCTUATION = re.compile(r"^[\W_]+|[\W_]+$")
_URL = re.compile(r"\b(?:https?://|www\.)\S*|\S+@\S+|\S+\.(?:com|org|net|io|co|uk|de|fr)\b\S*")
_CONTRACTIONS = (
    (re.compile(r"\b(what|where|when|who|how|it|that|there|here|this)'s\b"), r"\1 is"),
    (re.compile(r"\bcan't\b"), "can not"),
    (re.compile(r"\bwon't\b"), "will not"),
    (re.compile(r"n't\b"), " not"),
    (re.compile(r"\bi'm\b"), "i am"),
    (re.compile(r"'re\b"), " are"),
    (re.compile(r"'ve\b"), " have"),
    (re.compile(r"'ll\b"), " will"),
    (re.compile(r"'d\b"), " would"),
    (re.compile(r"'s\b"), ""),
    (re.compile(r"\b(what|where|how|that|there)s\b"), r"\1 is"),  # written without the apostrophe
    (re.compile(r"\b(do|does|did|is|was|are|were|can|could|should|would)nt\b"), r"\1 not"),
    (re.compile(r"\bu\b"), "you"),
)
_NOT_MATCHED = re.compile(r"(?P<decimal>(?<=\d)\.(?=\d))|[^a-z0-9°#=]+")
_DECIMAL = "\x00"

_SCRIPTS = (
    ("ja", (("\u3040", "\u30ff"),)),
    ("ko", (("\uac00", "\ud7af"), ("\u1100", "\u11ff"), ("\u3130", "\u318f"))),
    ("zh", (("\u4e00", "\u9fff"), ("\u3400", "\u4dbf"))),
    ("ru", (("\u0400", "\u04ff"),)),
    ("el", (("\u0370", "\u03ff"),)),
    ("ar", (("\u0600", "\u06ff"), ("\u0750", "\u077f"))),
    ("he", (("\u0590", "\u05ff"),)),
    ("hi", (("\u0900", "\u097f"),)),
    ("th", (("\u0e00", "\u0e7f"),)),
    ("hy", (("\u0530", "\u058f"),)),
    ("ka", (("\u10a0", "\u10ff"),)),
    ("bn", (("\u0980", "\u09ff"),)),
    ("ta", (("\u0b80", "\u0bff"),)),
)
_WORDS = {
    "en": "the a an is was were what my of in at how why when did does do i to and with for on this that me which "
    "are be it than peak knee hip ankle shoulder elbow wrist trunk flexion angle speed jump run landing force "
    "compare mean could would should can your much high low left right foot",
    "fr": "le la les des du est était quel quelle quels quelles mon ma mes pourquoi quand comment avec pour dans une "
    "je suis moi mais ou cette ce sont genou hanche cheville épaule coude poignet vitesse saut course était "
    "été avoir fait",
    "es": "el la los las del es fue era cuál cual cuáles qué que mi mis por qué cuándo cómo con para una yo soy estoy "
    "pero este esta son rodilla cadera tobillo hombro codo muñeca velocidad salto carrera fuerza tengo",
    "de": "der das den dem des ist war wie warum wann mein meine meinen mit für und ich bin nicht ein eine einen "
    "welche welcher was ist knie hüfte sprunggelenk schulter ellbogen handgelenk geschwindigkeit sprung lauf "
    "kraft hoch hat habe",
    "it": "il la lo gli della del è era qual quale mio mia miei perché quando come con per una sono ginocchio anca "
    "caviglia spalla gomito polso velocità salto corsa forza ho che",
    "pt": "os das dos é foi era qual quais meu minha meus por que quando como com para uma eu sou estou joelho "
    "quadril tornozelo ombro cotovelo pulso velocidade salto corrida força não",
    "nl": "het een is was wat mijn waarom wanneer hoe met voor ik ben niet de van knie heup enkel schouder "
    "elleboog pols snelheid sprong hoog deze",
}
_COMMON_ENGLISH = frozenset(_WORDS["en"].split()) | {"die", "on", "an", "so", "per", "met", "ben", "van"}
_LANGUAGE_WORDS = {
    language: frozenset(words.split()) - (_COMMON_ENGLISH if language != "en" else frozenset())
    for language, words in _WORDS.items()
}
_LATIN_WORD = re.compile(r"[^\W\d_]+")


def visible_text(text: str) -> str:
    """Return ``text`` in NFKC with every whitespace a space and control, format and unassigned characters removed."""
    text = unicodedata.normalize("NFKC", text)
    if text.isascii():  # the common case, without a look-up per character
        return _ASCII_INVISIBLE.sub("", _ASCII_SPACE.sub(" ", text))
    return "".join(
        " " if char.isspace() else char
        for char in text
        if char.isspace() or unicodedata.category(char) not in _INVISIBLE
    )


def has_visible(text: str) -> bool:
    """Return whether ``text`` holds a character that is neither whitespace nor invisible (control, format, …)."""
    return any(not char.isspace() and unicodedata.category(char) not in _INVISIBLE for char in text)


def normalise_question(text: str) -> str:
    """Return the normalised question (module docstring): the cache key's question part.

    >>> normalise_question("  What was my PEAK knee flexion?? ")
    'what was my peak knee flexion'
    """
    collapsed = _SPACE.sub(" ", visible_text(text).lower()).strip()
    return _EDGE_PUNCTUATION.sub("", collapsed)


def match_text(normalised: str) -> str:
    """Return the text the parser's phrases search, padded with one space at each end (module docstring).

    >>> match_text("what's bolt's top-speed at 2.4 s?")
    ' what is bolt top speed at 2.4 s '
    """
    text = unicodedata.normalize("NFKD", normalised.replace("’", "'").replace("‘", "'"))
    text = "".join(char for char in text if not unicodedata.combining(char))
    text = _URL.sub(" ", text)
    for pattern, replacement in _CONTRACTIONS:
        text = pattern.sub(replacement, text)
    text = _NOT_MATCHED.sub(lambda found: _DECIMAL if found.group("decimal") else " ", text)
    return f" {_SPACE.sub(' ', text.replace(_DECIMAL, '.')).strip()} "


def detect_language(normalised: str) -> str:
    """Return ``en`` or the ISO 639-1 code of the language the question seems to be in (module docstring).

    >>> detect_language("¿cuál fue mi flexión máxima de rodilla?")
    'es'
    >>> detect_language("what was my peak knee flexion?")
    'en'
    """
    script_letters: dict[str, int] = {}
    latin_letters = 0
    for char in normalised:
        if not char.isalpha():
            continue
        if char <= "\u024f" or "\u1e00" <= char <= "\u1eff":
            latin_letters += 1
            continue
        script = next((code for code, ranges in _SCRIPTS for low, high in ranges if low <= char <= high), "und")
        script_letters[script] = script_letters.get(script, 0) + 1
    other_letters = sum(script_letters.values())
    if other_letters and other_letters >= latin_letters:
        if script_letters.get("ja"):  # kana: Japanese, even when most characters are Han
            return "ja"
        return max(script_letters, key=lambda language: script_letters[language])
    words = _LATIN_WORD.findall(normalised)
    counts = {language: sum(word in vocabulary for word in words) for language, vocabulary in _LANGUAGE_WORDS.items()}
    english = counts.pop("en")
    best = max(counts, key=lambda language: counts[language])
    return best if counts[best] >= 2 and counts[best] > english else "en"
