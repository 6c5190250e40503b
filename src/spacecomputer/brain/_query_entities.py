"""Entity extraction: what a question's text names, before context, intent and clarification are applied.

The match text is searched in this order, each phrase found blanked before the next step (so a word serves one
entity): library athletes (else a clip described by its sport, :mod:`spacecomputer.brain._query_names`); unknown
metrics (``VO2 max``); angle changes, frame numbers and times; — objectives, sides and statistics are read
here, on the text so far — risk phrases (``knee valgus``, ``stiff landing``, asymmetry words); quantities (the
first row of ``QUANTITY_TERMS`` found wins; the one after "if" is kept apart for what-ifs); events (the first
mentioned); joints (the first mentioned, else the joint a quantity or risk phrase implies); unknown body parts;
sports.

- statistic: the first statistic word; else the one a quantity phrase implies (``range of motion`` → range);
  else "how much did … bend/move/rise" → range. A quantity named by its negative direction (``plantarflexion``,
  ``extension``) swaps max and min. Asymmetry words make the risk ``asymmetry``, on the quantity named with them
  (``knee flexion asymmetry``) or on ``asymmetry`` itself.
- time: ``at 2.4 s``, ``around 2.4 seconds``, ``after 300 ms``, ``t = 2.4``… (a preposition is required, so
  "contact time under 0.2 s" is not a time); ``2.4 s in``. Frame: ``frame 72``, ``frame #72``, ``72nd frame``.
- side: ``left``/``right`` (or ``l``/``r``) followed within a word by a body word or a foot event (``left knee``,
  ``right foot``, ``left landing``), ``on the left``, ``my right`` ending the question; both sides for
  ``both``/``each`` before a body word, ``left and right``, ``left/right``, ``bilateral``, left and right both
  named, or a plural body word and no side (``my knees``, ``feet``).
- change: ``20°``, ``20 degrees``; negative when "less", "fewer", "lower", "straighter", "reduce" or
  "decrease" is within four words before or three after, or when the changed quantity is named by its negative
  direction ("straighten my knee 10°" → −10).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._analytics_vocab import ANGLES
from ._query_lexicon import (
    DOMAIN_WORDS,
    EVENT_TERMS,
    HOW_MUCH,
    JOINT_TERMS,
    OBJECTIVE_TERMS,
    OPPOSITE_STATISTIC,
    QUANTITY_TERMS,
    RISK_TERMS,
    RISK_WORDS,
    STATISTIC_TERMS,
    UNKNOWN_BODY_TERMS,
    UNKNOWN_METRIC_TERMS,
    Term,
    phrase,
)
from ._query_names import other_run_ids, sport_clip_mention, unknown_athlete
from ._query_vocab import AthleteMention, QueryVocabulary
from ._types import Side, Statistic

__all__ = ["Found", "extract"]

_BODY = (
    r"(?:hips?|knees?|ankles?|shoulders?|elbows?|wrists?|foot|feet|legs?|arms?|sides?|sided|hands?|toes?|heels?|"
    r"limbs?|forearms?|thighs?|shins?|calf|calves|glutes?|one|ones|landings?|contacts?|strikes?|touch ?downs?|"
    r"toe ?offs?|push ?offs?|steps?|strides?)"
)
_BEFORE_BODY = rf"(?= (?:[a-z]+ )?{_BODY}(?![a-z0-9]))"
_BOTH = phrase(
    rf"left (?:and |or |vs |versus )?right|right (?:and |or |vs |versus )?left|both{_BEFORE_BODY}|each{_BEFORE_BODY}|"
    r"bilateral\w*|both sides"
)
_OWNER = r"(?:(?<=my )|(?<=the )|(?<=his )|(?<=her ))"
"""Before a side that ends the question: "… higher than my right"."""
_PLURAL_BODY = phrase(r"(?:knees|hips|ankles|shoulders|elbows|wrists|feet|heels|legs|arms)(?! of)")
_LEFT = phrase(rf"left{_BEFORE_BODY}|l(?= {_BODY}(?![a-z0-9]))|(?:on|to) the left|left sided?|{_OWNER}left(?= $)")
_RIGHT = phrase(rf"right{_BEFORE_BODY}|r(?= {_BODY}(?![a-z0-9]))|(?:on|to) the right|right sided?|{_OWNER}right(?= $)")
_NUMBER = r"\d{1,6}(?:\.\d{1,6})?"
_UNIT = r"(?:ms|milliseconds?|s|secs?|seconds?)"
_TIME = re.compile(
    rf"(?<![a-z0-9])(?:(?:at|around|near|after) ?(?P<a>{_NUMBER}) ?(?P<ua>{_UNIT})|t ?= ?(?P<t>{_NUMBER}) ?"
    rf"(?P<ut>{_UNIT})?|(?P<b>{_NUMBER}) ?(?P<ub>{_UNIT}) (?:in|into))(?![a-z0-9])"
)
_FRAME = re.compile(
    r"(?<![a-z0-9])(?:frames? ?(?:# ?|no |number |nr )?(?P<a>\d{1,9})|(?P<b>\d{1,9})(?:st|nd|rd|th) frame)"
)
_DEGREES = re.compile(r"(?<![a-z0-9.])(?P<value>\d{1,4}(?:\.\d{1,4})?) ?(?:°|deg(?:rees?)?(?![a-z0-9]))")
_LESS = phrase(r"less|fewer|lower|straighter|reduc\w*|decreas\w*|smaller")
_MORE = phrase(r"more|further|deeper|bigger|greater|increas\w*")
_FEWER = phrase(r"less|fewer|lower|reduc\w*|decreas\w*|smaller")
_DURING = phrase(r"during|throughout|over the|in the (?:\w+ )?phase|while")
_NAMED_FRAME = phrase(r"(?:this|that) (?:frame|moment|instant|point)|current (?:frame|moment)|on (?:the )?screen")
_FRAME_REFERENCE = phrase(rf"{_NAMED_FRAME.pattern}|here|now|at the moment")
_DIGIT = re.compile(r"\d")
_ORDINALS = {
    **dict.fromkeys(("first", "1st"), 1),
    **{word: n for n, words in enumerate(
        (("second", "2nd"), ("third", "3rd"), ("fourth", "4th"), ("fifth", "5th"), ("sixth", "6th"),
         ("seventh", "7th"), ("eighth", "8th"), ("ninth", "9th"), ("tenth", "10th")), start=2) for word in words},
    **dict.fromkeys(("last", "final"), -1),
}  # fmt: skip
_ORDINAL = phrase(
    r"first|1st|last|final|(?:second|2nd|third|3rd|(?:four|fif|six|seven|eigh|nin|ten)th|(?:[4-9]|10)th)"
    r"(?! ?(?:s|ms|half)(?![a-z]))(?! frames?)"
)
"""An occurrence word; "second" only as an ordinal ("my second landing", not "2 second" or "per second")."""
_FOR_THE_TIME = re.compile(r"for the \w+ time")
_NOT_ORDINAL = re.compile(r"(?:\d|per|a|one|each|every|half a) $")
_SELECTION = phrase(r"(?:this|that|the selected|selected|highlighted) joint")


@dataclass(frozen=True)
class Found:
    """What the text names (module docstring); ``None``/empty: not named."""

    joint: str | None = None
    joints: tuple[str, ...] = ()
    """Every joint named, in order of mention."""
    side: Side | None = None
    quantity: str | None = None
    condition_quantity: str | None = None
    """The quantity named after "if" (what a what-if changes: "… if I landed with my knees bent more")."""
    statistic: Statistic | None = None
    event: str | None = None
    during: bool = False
    """The event is a window ("during flight"), not an instant."""
    time_s: float | None = None
    frame: int | None = None
    athletes: tuple[str, ...] = ()
    ambiguous: tuple[AthleteMention, ...] = ()
    unknown_athlete: str | None = None
    sport: str | None = None
    objective: str | None = None
    risk: str | None = None
    change_deg: float | None = None
    change_direction: int | None = None
    """With no amount named: 1 for more of the changed quantity, -1 for less (its opposite word counts as less)."""
    ordinal: int | None = None
    """Which occurrence of the event (1 first, -1 last); read only when the question names an event."""
    unknown_body: tuple[tuple[str, str], ...] = ()
    """``(word, closest joint)`` for each body part the vocabulary does not measure."""
    unknown_metrics: tuple[str, ...] = ()
    frame_reference: bool = False
    """"this frame", "that moment", "here", "now": the frame on screen is meant."""
    named_frame: bool = False
    """"this frame", "that moment": the question cannot be answered without a frame."""
    quotes_number: bool = False
    """The question states a number of its own ("is an 18% asymmetry bad?", "bend 20° more"): about a run."""
    other_runs: tuple[str, ...] = ()
    """Identifiers of other runs written in the question (``short-run``)."""
    selection_reference: bool = False
    """"this joint", "the selected joint": the joint selected in the viewer is meant."""
    domain: bool = False
    """The text is about movement, sport, the body or an analysis."""


class _Text:
    """A match text whose found phrases are blanked (kept at their positions)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def take(self, pattern: re.Pattern[str]) -> list[re.Match[str]]:
        matches: list[re.Match[str]] = []

        def blank(match: re.Match[str]) -> str:
            matches.append(match)
            return " " * (match.end() - match.start())

        self.text = pattern.sub(blank, self.text)
        return matches

    def blank(self, start: int, end: int) -> None:
        self.text = f"{self.text[:start]}{' ' * (end - start)}{self.text[end:]}"


def extract(text: str, visible: str, vocabulary: QueryVocabulary) -> Found:
    """Return what ``text`` (a match text) names; ``visible`` is the question in its own case, for names.

    See the module docstring for the order and the phrases.
    """
    masked = _Text(text)
    mentions = vocabulary.find_athletes(text)
    for mention in mentions:
        masked.blank(mention.start, mention.end)
    described = None if mentions else sport_clip_mention(text, vocabulary.sport_terms, vocabulary)
    mentions = [described] if described else mentions  # the sport words stay: they name the sport too
    unknown_metrics = tuple(m.group() for term in UNKNOWN_METRIC_TERMS for m in masked.take(term.pattern))
    time_s, frame, change_deg = _numbers(masked)
    quotes_number = change_deg is not None or bool(_DIGIT.search(masked.text))
    objective = _first(masked.text, OBJECTIVE_TERMS)
    side = _side(_Text(masked.text))
    statistic = _first_statistic(masked.text)
    risk_found = [(match.start(), term) for term in RISK_TERMS for match in masked.take(term.pattern)]
    named_joint = any(term.pattern.search(masked.text) for term in JOINT_TERMS)
    condition_start = masked.text.find(" if ")
    condition = (
        _quantity(_Text(masked.text[condition_start:]), named_joint=named_joint) if condition_start >= 0 else None
    )
    quantity_term = _quantity(masked, named_joint=named_joint)
    spans = sorted((m.start(), m.end(), term.value) for term in EVENT_TERMS for m in masked.take(term.pattern))
    events = [(start, value) for start, _, value in spans]
    joints = [term.value for _, term in sorted(_all(masked, JOINT_TERMS), key=lambda found: found[0])]
    risk_term = min(risk_found, key=lambda found: found[0])[1] if risk_found else None
    implied_joint = (quantity_term.joint if quantity_term else None) or (risk_term.joint if risk_term else None)
    quantity = (
        quantity_term.value if quantity_term else "asymmetry" if risk_term and risk_term.value == "asymmetry" else None
    )
    # Of several joints named, the first that has the angle asked for ("my knee … left hip adduction peak").
    fitting = [j for j in joints if quantity is not None and quantity in ANGLES.get(j, {})]
    joint = (fitting or joints)[0] if joints else implied_joint
    unknown_body = tuple((m.group(), term.value) for term in UNKNOWN_BODY_TERMS for m in masked.take(term.pattern))
    sport = _first(masked.text, vocabulary.sport_terms)
    statistic = _statistic(statistic, quantity_term, text)
    changed = condition or quantity_term
    if change_deg is not None and changed is not None and changed.inverse:
        change_deg = -change_deg  # "straighten by 10°": 10° less flexion
    direction = None
    if change_deg is None and changed is not None:
        toward = -1 if changed.inverse else 1  # "straighter": towards less flexion
        if _FEWER.search(text):
            direction = -toward  # "less trunk lean", "less straight"
        elif _MORE.search(text) or changed.inverse:
            direction = toward  # "bent more", "straighter"
    return Found(
        joint=joint,
        joints=tuple(dict.fromkeys(joints)),
        side=side,
        quantity=quantity,
        condition_quantity=condition.value if condition else None,
        statistic=statistic,
        event=events[0][1] if events else None,
        during=bool(_DURING.search(text)),
        time_s=time_s,
        frame=frame,
        athletes=tuple(dict.fromkeys(m.clip_ids[0] for m in mentions if len(m.clip_ids) == 1)),
        ambiguous=tuple(m for m in mentions if len(m.clip_ids) > 1),
        unknown_athlete=None if mentions else unknown_athlete(text, visible, vocabulary),
        sport=sport,
        objective=objective,
        risk=risk_term.value if risk_term else _risk_of(joint, quantity, events, text),
        change_deg=change_deg,
        change_direction=direction,
        ordinal=_ordinal(text, spans),
        unknown_body=unknown_body,
        unknown_metrics=unknown_metrics,
        frame_reference=bool(_FRAME_REFERENCE.search(text)),
        named_frame=bool(_NAMED_FRAME.search(text)),
        selection_reference=bool(_SELECTION.search(text)),
        quotes_number=quotes_number,
        other_runs=other_run_ids(visible, vocabulary),
        domain=_is_domain(text, vocabulary)
        or any((joints, quantity, events, risk_term, unknown_body, unknown_metrics, sport, mentions)),
    )


def _statistic(named: Statistic | None, quantity: Term | None, text: str) -> Statistic | None:
    """Return the statistic named, implied by the quantity phrase, or by "how much did …" (module docstring)."""
    statistic = named or (quantity.statistic if quantity else None) or ("range" if HOW_MUCH.search(text) else None)
    if quantity is not None and quantity.inverse and statistic is not None:
        return OPPOSITE_STATISTIC.get(statistic, statistic)  # peak plantarflexion: the lowest dorsiflexion
    return statistic


def _first_statistic(text: str) -> Statistic | None:
    found = [(match.start(), value) for pattern, value in STATISTIC_TERMS if (match := pattern.search(text))]
    return min(found)[1] if found else None


def _ordinal(text: str, spans: list[tuple[int, int, str]]) -> int | None:
    """Return the occurrence of the question's event that ``text`` names (1 first, -1 last), None without one.

    ``spans`` are the event phrases found (start, end, event), in order. The word belongs to the event phrase it
    is in ("my foot last left the ground") or the next one ("my second landing"), or to the one before it in
    "… for the first time"; an ordinal of another event ("after the first flight") is not the question's.
    """
    for match in _ORDINAL.finditer(text):
        at = match.start()
        if _NOT_ORDINAL.search(text[:at]):
            continue
        if _FOR_THE_TIME.match(text, at - len("for the ")):
            owner = [value for start, _, value in spans if start < at][-1:]
        else:
            owner = [value for _, end, value in spans if end > at][:1]
        return _ORDINALS[match.group()] if spans and owner == [spans[0][2]] else None
    return None


def _numbers(masked: _Text) -> tuple[float | None, int | None, float | None]:
    change_deg = None
    for match in masked.take(_DEGREES)[:1]:
        before = " ".join(masked.text[: match.start()].split()[-4:])
        after = " ".join(masked.text[match.end() :].split()[:3])
        value = float(match.group("value"))
        change_deg = -value if _LESS.search(before) or _LESS.search(after) else value
    frames = masked.take(_FRAME)
    frame = int(frames[0].group("a") or frames[0].group("b")) if frames else None
    time_s = None
    for match in masked.take(_TIME)[:1]:
        value = float(match.group("a") or match.group("t") or match.group("b"))
        unit = match.group("ua") or match.group("ut") or match.group("ub") or "s"
        time_s = value / 1000.0 if unit.startswith("m") else value
    return time_s, frame, change_deg


def _quantity(masked: _Text, *, named_joint: bool) -> Term | None:
    chosen: Term | None = None
    for term in QUANTITY_TERMS:
        if term.needs_joint and not named_joint:
            continue
        if masked.take(term.pattern) and chosen is None:
            chosen = term
    return chosen


def _side(masked: _Text) -> Side | None:
    if masked.take(_BOTH):
        return "both"
    left, right = bool(masked.take(_LEFT)), bool(masked.take(_RIGHT))
    if left == right:
        return "both" if left or _PLURAL_BODY.search(masked.text) else None
    return "left" if left else "right"


def _all(masked: _Text, terms: tuple[Term, ...]) -> list[tuple[int, Term]]:
    return [(match.start(), term) for term in terms for match in masked.take(term.pattern)]


def _first(text: str, terms: tuple[Term, ...]) -> str | None:
    found = [(match.start(), term.value) for term in terms if (match := term.pattern.search(text))]
    return min(found)[1] if found else None


def _risk_of(joint: str | None, quantity: str | None, events: list[tuple[int, str]], text: str) -> str | None:
    """Return the risk family of a joint and quantity in a question about risk ("is my trunk lean a risk?")."""
    if not RISK_WORDS.search(text):
        return None
    if quantity == "asymmetry":
        return "asymmetry"
    if joint == "knee" and quantity == "moment":
        return "peak_knee_extensor_moment_per_kg"
    if joint == "trunk" and quantity == "lateral_lean":
        return "trunk_lateral_lean_peak"
    if joint == "knee" and quantity == "flexion" and any(event == "landing" for _, event in events):
        return "landing_peak_knee_flexion"
    return None


def _is_domain(text: str, vocabulary: QueryVocabulary) -> bool:
    pattern = vocabulary.movement_pattern
    return bool(DOMAIN_WORDS.search(text) or (pattern is not None and pattern.search(text)))
