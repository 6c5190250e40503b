"""Query processing: a question in plain English → intent, entities in the brain's vocabulary, or a question back.

:func:`parse_query` is deterministic, local and fast (no model, no network). Steps:

1. **Cap and check.** Outer whitespace is stripped; a question longer than :data:`MAX_QUESTION_CHARS` is cut
   (``truncated``), never rejected; one with nothing visible raises :class:`~spacecomputer.errors.InvalidInputError`.
2. **Language** (:func:`~spacecomputer.brain._query_text.detect_language`). A question not in English keeps the
   intent the rules guess (never ``out_of_scope`` for that reason), at half the confidence and with no
   clarifying question: the orchestrator answers that the knowledge base covers English only.
3. **Entities** (:mod:`spacecomputer.brain._query_entities`), from the text alone.
4. **Intent**: the first rule of :mod:`spacecomputer.brain._query_intent` that applies, with its confidence.
5. **Context.** Explicit text wins over the context. A frame on screen is used for "this frame", "here",
   "now"; the selected joint (``left_knee``) for "this joint", for a joint-level quantity with no joint named
   ("what's the flexion here?"), or for a look-up, explanation or what-if naming no joint, quantity, event or
   risk; its side for a sided joint or per-foot event named without a side when the text names no other joint.
6. **Resolution.** ``angle`` stays the generic angle (the analytics engine reads the joint's default angle:
   knee → flexion, ankle → dorsiflexion, pelvis → obliquity, …); flexion of the ankle → dorsiflexion; abduction
   of the hip → adduction and adduction of the shoulder → abduction, with max and min swapped (as for
   plantarflexion and extension, :mod:`spacecomputer.brain._query_lexicon`); speed of a joint → angular
   velocity; energy of a joint → work. ``value`` is the statistic of a joint or quantity at a time, frame or event
   instant, or at "this/that moment". A what-if is about the quantity named after "if" ("how would my GRF change
   if I landed with my knees bent 25° more?" → flexion). ``objective`` and ``change_deg`` are kept for
   ``what_if`` only.
7. **Clarification** (English questions whose intent reads the run — look-up, explanation, event, comparisons,
   what-if — or searches techniques), the first that applies:

   - a body part not measured and no joint named (lists the joints);
   - a metric not measured and no quantity named (lists the quantities);
   - an athlete alias shared by several clips, or a sport with several clips ("the boxer");
   - a comparison with an unusable clip, an athlete not in the library, or no athlete (lists the usable clips);
   - a what-if with nothing to change (lists the objectives);
   - "this frame"/"that moment" with no frame given or on screen;
   - a joint's generic angle where the joint has no default angle (the wrist: lists what it has);
   - an explanation or look-up of the selected joint naming nothing about it ("why is it so high?");
   - a per-foot event (touch-down, toe-off) with no side: each foot has its own instant;
   - a statistic with nothing to apply it to ("what's my peak?"); a look-up naming no metric at all ("which risk
     indicators were flagged?") is left to the analytics engine, which answers with the run's overview.

   **Side:** in a question that reads the run, a sided joint with no side from the text or the context is
   answered for both sides (``side="both"``) — a whole-run statistic or a frame's state of both knees is well
   defined — unless it asks about a per-foot event (clarified above).
"""

from __future__ import annotations

from dataclasses import replace

from spacecomputer.errors import InvalidInputError

from ._analytics_vocab import ANGLES, BILATERAL_JOINTS, DEFAULT_ANGLE, KINETIC_QUANTITIES
from ._query_entities import Found, extract
from ._query_intent import classify_intent
from ._query_lexicon import (
    JOINT_QUANTITIES,
    OBJECTIVE_NAMES,
    OPPOSITE_STATISTIC,
    PER_FOOT_EVENTS,
    SIDED_JOINTS,
    SIGNED_ANGLES,
)
from ._query_text import detect_language, has_visible, match_text, normalise_question, visible_text
from ._query_vocab import AthleteTerm, QueryVocabulary
from ._types import Entities, Intent, ParsedQuery, QueryContext, Side

__all__ = ["MAX_QUESTION_CHARS", "AthleteTerm", "QueryVocabulary", "parse_query"]

MAX_QUESTION_CHARS = 1000
"""Longer questions are cut to this many characters (``ParsedQuery.truncated``)."""

_LOOKS_AT_RUN = frozenset({Intent.METRIC_LOOKUP, Intent.EXPLANATION, Intent.WHAT_IF})
_READS_RUN = _LOOKS_AT_RUN | {Intent.EVENT_QUERY, Intent.COMPARE_ATHLETE, Intent.COMPARE_RUNS}
"""Intents answered from the run's numbers: they use the selected joint, are clarified when ambiguous, and a sided
joint without a side means both sides."""
_QUANTITY_CHOICES = (
    "joint angles (flexion, adduction/abduction, dorsiflexion, trunk lateral lean, pelvic obliquity and tilt), "
    "angular velocity, joint moment, power and work, ground reaction force, speed, vertical velocity, "
    "centre-of-mass height, jump height, flight time, take-off velocity, margin of stability, energy, step length, "
    "step frequency, contact time and asymmetry"
)
_EVENT_WORDS = {"contact": "touch-down", "toe_off": "toe-off"}
_JOINT_CHOICES = "hip, knee, ankle, shoulder, elbow, wrist, trunk, pelvis and com (the whole-body centre of mass)"


def parse_query(
    text: str, context: QueryContext | None = None, *, vocabulary: QueryVocabulary | None = None
) -> ParsedQuery:
    """Understand a question about a run: intent, entities and, when it is ambiguous, the question to ask back.

    Parameters
    ----------
    text
        The question, in plain language; cut to :data:`MAX_QUESTION_CHARS` characters.
    context
        What the asker is looking at (frame on screen, selected joint); explicit text wins over it.
    vocabulary
        The athletes the question may name; :meth:`QueryVocabulary.default` (the elite library) if omitted.

    Returns
    -------
    ParsedQuery
        See the module docstring for the rules.

    Raises
    ------
    InvalidInputError
        ``text`` is not a string or has nothing visible in it, or ``context.joint`` is not ``<side>_<joint>``
        or an unsided joint, or ``context.frame`` is negative.

    Examples
    --------
    >>> vocabulary = QueryVocabulary([AthleteTerm("bolt-force-motion", "Usain Bolt", "athletics", "sprint")])
    >>> parsed = parse_query("What was my peak left knee flexion?", vocabulary=vocabulary)
    >>> parsed.intent.value, parsed.entities.joint, parsed.entities.side, parsed.entities.statistic
    ('metric_lookup', 'knee', 'left', 'max')

    """
    if not isinstance(text, str):
        raise InvalidInputError(
            f"a question must be text; got {type(text).__name__}", details={"type": type(text).__name__}
        )
    context = context or QueryContext()
    context_side, context_joint = _context_joint(context)
    stripped = text.strip()
    if not has_visible(stripped):
        raise InvalidInputError(
            "the question is empty: ask about the run in plain words", details={"length": len(text)}
        )
    capped = stripped[:MAX_QUESTION_CHARS]
    normalised = normalise_question(capped)
    language = detect_language(normalised)
    english = language == "en"
    matched = match_text(normalised)
    vocabulary = vocabulary if vocabulary is not None else QueryVocabulary.default()
    found = extract(matched, visible_text(capped), vocabulary)
    intent, confidence = classify_intent(matched, found, context, normalised=normalised, english=english)
    entities = _entities(found, intent, context, context_side, context_joint)
    clarification = _clarification(found, entities, intent, vocabulary) if english else None
    if clarification is None and entities.side is None and entities.joint in SIDED_JOINTS and intent in _READS_RUN:
        entities = replace(entities, side="both")
    return ParsedQuery(
        text=capped,
        normalised=normalised,
        intent=intent,
        confidence=round(confidence if english else min(confidence, 0.5) / 2, 3),
        entities=entities,
        context=context,
        language=language,
        clarification=clarification,
        truncated=len(stripped) > MAX_QUESTION_CHARS,
    )


def _context_joint(context: QueryContext) -> tuple[Side | None, str | None]:
    if context.frame is not None and context.frame < 0:
        raise InvalidInputError(f"context frame must be ≥ 0; got {context.frame}", details={"frame": context.frame})
    if context.joint is None:
        return None, None
    side, _, joint = context.joint.partition("_")
    if side in {"left", "right"} and joint in SIDED_JOINTS:
        return ("left" if side == "left" else "right"), joint
    if context.joint in {"trunk", "pelvis", "com"}:
        return None, context.joint
    raise InvalidInputError(
        f"context joint must be <side>_<joint> (left_knee, right_hip, …) or trunk, pelvis or com; "
        f"got {context.joint!r}",
        details={"joint": context.joint},
    )


def _entities(
    found: Found, intent: Intent, context: QueryContext, context_side: Side | None, context_joint: str | None
) -> Entities:
    """Apply the context and the resolution rules (module docstring, steps 5 and 6) to what the text names."""
    joint, side = found.joint, found.side
    quantity = (found.condition_quantity or found.quantity) if intent is Intent.WHAT_IF else found.quantity
    if (
        joint is None
        and context_joint is not None
        and intent in _READS_RUN
        and (
            found.selection_reference
            or quantity in JOINT_QUANTITIES
            or (intent in _LOOKS_AT_RUN and not (quantity or found.event or found.risk))
        )
    ):
        joint = context_joint
    sided = joint in SIDED_JOINTS or (joint is None and found.event in PER_FOOT_EVENTS)
    if side is None and context_side is not None and sided and (joint is None or joint == context_joint):
        side = context_side
    frame = found.frame
    if frame is None and found.time_s is None and found.frame_reference:
        frame = context.frame
    statistic = found.statistic
    resolved = _resolve(quantity, joint)
    if (joint, quantity) in SIGNED_ANGLES and statistic is not None:
        statistic = OPPOSITE_STATISTIC.get(statistic, statistic)  # peak hip abduction: the lowest adduction
    instant = (
        found.time_s is not None
        or frame is not None
        or found.named_frame
        or (found.event is not None and not found.during)
    )
    if statistic is None and (joint or resolved) and instant:
        statistic = "value"
    return Entities(
        joint=joint,
        side=side,
        quantity=resolved,
        statistic=statistic,
        event=found.event,
        time_s=found.time_s,
        frame=frame,
        athlete=found.athletes[0] if found.athletes else None,
        sport=found.sport,
        objective=found.objective if intent is Intent.WHAT_IF else None,
        risk=found.risk,
        change_deg=found.change_deg if intent is Intent.WHAT_IF else None,
        change_direction=found.change_direction if intent is Intent.WHAT_IF else None,
        ordinal=found.ordinal if found.event is not None else None,
        unknown_terms=tuple(dict.fromkeys((*(word for word, _ in found.unknown_body), *found.unknown_metrics))),
    )


def _resolve(quantity: str | None, joint: str | None) -> str | None:
    """Return the quantity a joint gives a misapplied word (module docstring, step 6)."""
    if joint is None or quantity is None:
        return quantity
    if (joint, quantity) in SIGNED_ANGLES:
        return SIGNED_ANGLES[joint, quantity]
    if quantity == "flexion" and joint == "ankle":
        return "dorsiflexion"
    if quantity == "speed" and joint != "com":
        return "angular_velocity"
    if quantity == "energy" and joint != "com":
        return "work"
    return quantity


def _clarification(found: Found, entities: Entities, intent: Intent, vocabulary: QueryVocabulary) -> str | None:
    """Return the question to ask back (module docstring, step 7), or ``None``."""
    if intent not in _READS_RUN and intent is not Intent.TECHNIQUE_SEARCH:
        return None
    return (
        _unknown_terms(found)
        or _which_athlete(found, entities, intent, vocabulary)
        or _missing_detail(found, entities, intent)
    )


def _unknown_terms(found: Found) -> str | None:
    if found.unknown_body and not found.joints:
        words = " and ".join(dict.fromkeys(word for word, _ in found.unknown_body))
        closest = " and ".join(dict.fromkeys(joint for _, joint in found.unknown_body))
        return (
            f"I don't have measurements of the {words} (the closest I have: {closest}); "
            f"I can answer about: {_JOINT_CHOICES}. Which do you mean?"
        )
    if found.unknown_metrics and not found.quantity:
        words = " and ".join(dict.fromkeys(found.unknown_metrics))
        return (
            f"I don't have {words}: the analysis measures movement from video, not physiology. "
            f"I can answer about: {_QUANTITY_CHOICES}. Which would help?"
        )
    return None


def _which_athlete(found: Found, entities: Entities, intent: Intent, vocabulary: QueryVocabulary) -> str | None:
    if found.ambiguous:
        mention = found.ambiguous[0]
        clips = ", ".join(a.describe() for a in vocabulary.athletes if a.clip_id in mention.clip_ids)
        return f"“{mention.alias}” matches several reference clips: {clips}. Which one should I use?"
    if intent is not Intent.COMPARE_ATHLETE:
        return None
    choices = vocabulary.athlete_choices()
    chosen = vocabulary.athlete(entities.athlete) if entities.athlete else None
    if chosen is not None and not chosen.usable:
        reason = f" ({chosen.unusable_reason})" if chosen.unusable_reason else ""
        return f"The {chosen.clip_id} clip is marked unusable{reason}. I can compare you with: {choices}."
    if entities.athlete is None and found.unknown_athlete:
        return f"I don't have {found.unknown_athlete} in the elite library. I can compare you with: {choices}."
    if entities.athlete is None:
        return f"Which athlete should I compare you with? The elite library has: {choices}."
    return None


def _missing_detail(found: Found, entities: Entities, intent: Intent) -> str | None:
    joint = entities.joint
    if intent is Intent.WHAT_IF and not (joint or entities.quantity or entities.objective or entities.change_deg):
        return (
            "What should change? Name a joint and how (for example “what if I bent my left knee 20° more at "
            f"landing?”), or an objective to optimise: {', '.join(OBJECTIVE_NAMES)}."
        )
    if found.named_frame and entities.frame is None and entities.time_s is None:
        return "Which frame? Select one in the viewer, or give a frame number or a time (“at frame 72”, “at 2.4 s”)."
    if entities.quantity == "angle" and joint is not None and joint not in DEFAULT_ANGLE:
        return f"There is no single {joint} angle; for the {joint} I have: {_measures(joint)}."
    if (
        intent in {Intent.EXPLANATION, Intent.METRIC_LOOKUP}
        and joint is not None
        and found.joint is None  # the selected joint, and the question names nothing about it
        and not (entities.quantity or entities.risk or entities.event or entities.statistic)
    ):
        named = f"{entities.side} {joint}" if entities.side in {"left", "right"} else joint
        return f"Which measurement of the {named} do you mean: {_measures(joint)}?"
    if entities.side is None and entities.event in PER_FOOT_EVENTS and joint in (None, *SIDED_JOINTS):
        event = _EVENT_WORDS[entities.event]
        return f"Which side: the left or the right {joint or 'foot'}? Each foot has its own {event}."
    if intent is Intent.METRIC_LOOKUP and entities.statistic and not (joint or entities.quantity):
        return f"Which measurement? I can answer about: {_QUANTITY_CHOICES}."
    return None


def _measures(joint: str) -> str:
    """Return the measurements of ``joint`` the analytics engine resolves, in words."""
    angles = [name.replace("_", " ") for name in ANGLES.get(joint, {})]
    rates = ["angular velocity"] if joint in DEFAULT_ANGLE else []
    kinetics = list(KINETIC_QUANTITIES) if joint in BILATERAL_JOINTS else []
    words = [*angles, *rates, *kinetics]
    return ", ".join(words[:-1]) + f" or {words[-1]}" if len(words) > 1 else "".join(words)
