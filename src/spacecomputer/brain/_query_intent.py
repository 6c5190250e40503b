"""Intent rules: the first rule that applies to a question's match text and entities gives its intent.

Rules, in order (confidence in brackets; lowered by 0.1 for each further cue family — what-if, technique, why,
when, definition — whose words also appear, floor 0.3). "About the run" means a reference to the run or the
athlete (my, me, I, his, they, was, were, did, this run, here, now), a whole-run statistic, a time or frame, a
left or right side, or a number of the asker's own ("is an 18% asymmetry bad?").

0. ``out_of_scope`` (0.9; 0.7 under three words) when the question is about none of: movement, sport, the body or
   an analysis (an entity or domain word), a library athlete or a compared name, a deictic word ("this", "here")
   with a joint or frame selected in the context, a what-if about moving, a technique search, another run with a
   comparison or improvement word, a statistic in a short follow-up or about the run ("what's the max?").
1. ``out_of_scope`` (0.8): not ours to answer — a diagnosis or treatment ("do I have a torn ACL?", "ibuprofen"),
   a purchase ("which shoes should I buy?"), or a request to state a number we did not compute or to ignore the
   analysis ("just tell me my knee moment was 2.0").
2. ``what_if``: "what if", "if I bent/landed/…", "optimise", "minimise/maximise", "best posture", "how can I
   reduce/improve/…", "should I bend…", "what posture would…" (0.9 with something to change, else 0.7).
3. ``technique_search``: "which clip/athlete/technique", "who moves like me", "most similar", "closest match",
   "fault", "mistakes", "what am I doing wrong", "find a clip", "in the library", "do you have any…" — unless a
   library clip is named with a comparison word ("show me the pound clip compared with my punch") (0.85).
4. ``compare_runs``: another run ("last run", "yesterday", "previous session", "since last time", "compared to
   before", "progress", or a run id written out such as ``short-run``) with a comparison or improvement word, and
   no athlete (0.85).
5. ``compare_athlete``: a library clip named or described (0.9 with a comparison word, else 0.7); an unknown name
   after a comparison word (0.75); a comparison word with "elite"/"pro"/"olympic" (0.7).
6. ``compare_runs``: another run named without a comparison word (0.55).
7. ``explanation``: "why", "explain", "what does … mean/say", "is this … normal/a problem", "worried", "what
   causes", "how should I read…", "how was my … computed", about the run or pointing at the screen ("this",
   "that"; "it" with a joint or frame selected) (0.85); the same words not about the run →
   ``general_knowledge`` (0.75).
8. ``event_query``: "when", "at what time", "which frame", "how many times" — unless a generic "when does/do …"
   not about the run (0.85 with an event, time, frame or quantity, else 0.7).
9. ``event_query``: a time or frame (in the text; "this frame"/"that moment"; "here"/"now" with a frame in the
   context), or an event of the run that is an instant ("at touch-down"; not "during flight", not with a
   whole-run statistic) (0.8).
10. ``metric_lookup``: a comparison word, both sides and something measured ("left vs right knee flexion") (0.7);
    the run's risk flags or headline numbers ("which risk indicators were flagged in this run?", "summary"),
    about the run (0.7).
11. ``general_knowledge``: "what is a…", "define", "stands for", "how is … computed/detected", "can … be
    measured", "how accurate", or a generic "when does…", not about the run (0.85).
12. ``metric_lookup``: a joint, quantity, risk, or an unmeasured body part or metric, with a statistic, a look-up
    phrase ("what was my…", "how high/fast/…", "show me my…") or about the run (0.9 with a statistic and a
    quantity, 0.8 with a look-up phrase, else 0.6); a statistic naming nothing (0.6; the parser then asks which
    measurement); something measured and nothing else ("take off velocity??") (0.5).
13. Otherwise ``explanation`` when about the run (0.45), else ``general_knowledge`` (0.5).

A question not in English skips rule 0 and takes the intent of the first question word it has from a short list
per language ("por qué" → explanation, "cuándo" → event, "máxima" → look-up, "qu'est-ce que" → general; 0.5),
else the rules above. Injected instructions ("ignore previous instructions…") are words like any other: no rule
looks for them (rule 1 is about what is asked, not about instructions).
"""

from __future__ import annotations

import re

from ._query_entities import Found
from ._query_lexicon import phrase
from ._types import Intent, QueryContext, Statistic

__all__ = ["classify_intent"]

_WHAT_IF_MOVE = phrase(
    r"if (?:i|he|she|they|we) (?:had |were to |could |would |did )?(?:bent|bend\w*|lean\w*|leant|kept|keep|land\w*|"
    r"flex\w*|straighten\w*|extend\w*|lower\w*|rais\w*|chang\w*|increas\w*|decreas\w*|reduc\w*|widen\w*|"
    r"shorten\w*|lengthen\w*|tuck\w*|push\w*|drop\w*|lift\w*|mov\w*|stood|stand\w*)|if my \w+(?: \w+){0,3} "
    r"(?:was|were|had been|is|bent|flexed)|optimi[sz]\w*|optimum|optimal|best (?:posture|position|angle|technique|"
    r"way|form|landing)|minimi[sz]\w*|maximi[sz]\w*|should (?:i|he|she|they|we) (?:bend|lean|land|flex|straighten|"
    r"extend|keep|change)|(?:did|do|does) (?:it|this|that) differently|what (?:posture|position|technique|angle|form|"
    r"stance) (?:would|should|could|will|is best)"
)
"""What-if phrases that are about moving: enough to make a question in scope."""
_WHAT_IF = phrase(
    rf"{_WHAT_IF_MOVE.pattern}|what if|what would happen|what happens if|how (?:can|could|should|do|would|might|to) "
    r"(?:i |he |she |they |we )?(?:reduce|lower|decrease|improve|increase|get|minimi[sz]e|maximi[sz]e|avoid|"
    r"prevent|fix|correct|run|jump|land|sprint|move|be)|would make (?:my|me|it|the)"
)
_TECHNIQUE = phrase(
    r"which (?:reference |elite |library )?(?:\w+ )?(?:clips?|references?|athletes?|videos?|techniques?|"
    r"sprinters?|runners?|players?|boxers?|wrestlers?|footballers?|cricketers?|jumpers?)|who (?:moves?|runs?|"
    r"sprints?|jumps?|looks?|lands?|punch\w*) (?:most )?like me|who (?:do|does) (?:i|he|she) (?:\w+ )?like|"
    r"(?:most|more) similar|similar to (?:me|mine|my)|(?:closest|nearest) (?:to (?:me|mine|my)|clips?|athletes?|"
    r"match\w*|references?)|moves? (?:most )?like me|resembles? me|i resemble|faults?|mistakes?|errors? in my|"
    r"what am i doing wrong|what is wrong with my|(?:find|search|show|list)(?: me)? (?:a |an |the |some |any )?"
    r"(?:\w+ ){0,2}?(?:clips?|references?|techniques?|examples?|athletes?)|what technique|technique search|"
    r"in the library|do you have (?:any|a|an)|is there an? (?:\w+ ){0,2}?(?:clip|reference|video|athlete)"
)
_COMPARE = phrase(
    r"compar\w*|vs|versus|against|than|differ\w*|stack up|same as|closer to|like|match(?:es|ing)?|next to|"
    r"side by side|alongside"
)
_IMPROVE = phrase(r"improv\w*|progress\w*|better|worse|chang\w*|got (?:better|worse)|since|go(?:ne)? (?:up|down)")
_OTHER_RUN = phrase(
    r"(?:last|previous|earlier|other|another|first|second|older|newer|prior|latest|yesterday|today) (?:runs?|"
    r"analys[ie]s|sessions?|attempts?|trials?|videos?|jumps?|sprints?|recordings?|week|month)|yesterday|"
    r"(?:since|than|from|to|with|vs|versus) (?:the )?(?:last time|before|previously|earlier)|progress\w*|"
    r"run (?:\d+|one|two|a|b)|(?:two|both) runs|my runs|over time"
)
_ELITE = phrase(
    r"elites?|pros?|professionals?|world class|olympi\w*|champions?|reference (?:athletes?|clips?|sprinters?|"
    r"runners?)|famous (?:athletes?|sprinters?|runners?)|top athletes?"
)
_EXPLAIN = phrase(
    r"why|explain\w*|what (?:does|do|did) (?:\w+ ){1,10}?(?:mean|tell|say|indicate|show|imply)|means? for|meaning|"
    r"say anything about|is (?:this|that|it|my|an?|the)(?: \w+){0,4} (?:good|bad|normal|ok|okay|fine|high|low|a "
    r"problem|dangerous|concerning|healthy|too \w+|risky|safe|worrying|typical|plausible|realistic)|is (?:this|"
    r"that|it) (?:right|correct|wrong)|worr\w*|how (?:bad|good|concerning|serious|normal)|what (?:causes|caused|"
    r"explains)|interpret\w*|what (?:is|was) (?:happening|going on)|tell me about my|how (?:is|was|are|were) my|"
    r"what is the (?:reason|cause)|how (?:was|were|is|are) (?:my|this) \w+(?: \w+){0,4} (?:computed|calculated|"
    r"measured|estimated|derived|obtained)|how (?:should|do|can) i (?:read|interpret|understand)|can not be right|"
    r"(?:does|do) not (?:look|seem) right|make sense"
)
_WHEN = phrase(
    r"when|at what (?:time|moment|point|frame)|what time|(?:which|what) frame|timing|at which (?:point|moment)|"
    r"how many times"
)
_GENERIC_WHEN = phrase(r"when (?:does|do|is|are|should|would|can)")
_DEFINITION = phrase(r"defin\w*|conventions?|stands? for|what is meant by")
"""A question about a definition: a number in it is part of the convention asked about, not a value of the run."""
_GENERAL = phrase(
    r"what (?:is|are)|defin\w*|what is meant by|stands? for|what counts as|how (?:is|are|do you|does one|do we|can "
    r"you|to) (?:\w+ ){0,5}?(?:computed|calculated|measured|estimated|compute|calculate|measure|estimate|defined|"
    r"derived|detect(?:ed)?|determined?|identif(?:y|ied)|track(?:ed)?)|can (?:\w+ ){1,4}be (?:measured|computed|"
    r"estimated|seen|detected|tracked)|how (?:accurate|reliable|precise|valid)|tell me about|how does \w+(?: \w+)"
    r"{0,4} work"
)
_LOOKUP = phrase(
    r"what (?:was|were|is|are) (?:my|the|his|her|their)|how (?:high|fast|far|much|long|big|low|deep|quick|many)|"
    r"(?:show|tell|give)(?: me)? (?:my|the)|value|numbers?|did i (?:reach|hit|get|achieve)"
)
_OVERVIEW = phrase(
    r"risks?|flag\w*|indicators?|warnings?|red|yellow|summary|summari[sz]e|overview|results?|report|how did i do|"
    r"key numbers|headline\w*"
)
"""The run's risk flags or headline numbers: a look-up naming no metric, answered with the run's overview."""
_NOT_OURS = phrase(
    r"diagnos\w*|(?:do|did) i have (?:an? )?(?:torn|broken|fractured|\w+itis|tear|fracture|sprain|arthritis|"
    r"condition|disease|syndrome|injury)|have i (?:torn|broken|injured)|is (?:it|this|that|my \w+) (?:torn|broken|"
    r"fractured|sprained|\w+itis)|\w+itis|torn (?:acl|mcl|meniscus|ligament)|(?:acl|mcl|meniscus) (?:tear|injury)|"
    r"should i see a (?:doctor|physio\w*)|(?:ibuprofen|paracetamol|painkillers?|medication|medicine|pills?)|"
    r"(?:should|could|can) i (?:buy|purchase|order)|(?:which|what) (?:\w+ )?(?:shoes|trainers|spikes|boots|brand) "
    r"should i|ignore (?:the|your|this) (?:analysis|data|numbers|results|measurements?)|pretend|(?:tell|say|confirm|"
    r"write)(?: me)?(?: that)? (?:my|the) (?:\w+ ){0,6}(?:was|is|were) (?:about |around )?\d"
)
"""Not for us to answer: a diagnosis or treatment, a purchase, or stating a number we did not compute."""
_RUN_REFERENCE = phrase(
    r"my|me|mine|myself|i|we|our|us|his|her|their|he|she|they|the (?:athlete|runner|player|jumper|sprinter)|"
    r"this (?:run|analysis|video|clip|jump|sprint|rep|attempt|trial|movement|frame|moment|landing|stride|recording)|"
    r"the (?:run|analysis|video|recording)|here|now|was|were|did"
)
_DEICTIC = phrase(r"this|that|it|its|here|now|these|those")
_POINTING = phrase(r"this|that|here|now|these|those")
"""Pointing at something on screen: an explanation of it is about the run ("why" alone is general)."""
_SHORT_WORDS = 5
"""A follow-up this short naming only a statistic ("what's the max?", "and its range?") is about the run."""
_FOREIGN_CUES: tuple[tuple[re.Pattern[str], Intent], ...] = (
    (re.compile(r"por ?qu[eé]|pourquoi|warum|perch[eé]|porque|waarom|为什么|なぜ|왜|почему"), Intent.EXPLANATION),
    (re.compile(r"cu[aá]ndo|quand|wann|quando|wanneer|什么时候|いつ|언제|когда"), Intent.EVENT_QUERY),
    (re.compile(r"m[aá]xim|massim|maxim|m[ií]nim|cu[aá]nt|combien|wie (?:hoch|viel|schnell)|最大|最小|多少|최대|макс"),
     Intent.METRIC_LOOKUP),
    (re.compile(r"qu.est.ce|qu[eé] es|was (?:ist|sind)|cos.[eè]|o que [eé]|wat (?:is|zijn)|什么是|とは|что такое"),
     Intent.GENERAL_KNOWLEDGE),
)  # fmt: skip
"""For a question not in English: a few question words of the detected languages, for the intent guess."""
_WHOLE_RUN: frozenset[Statistic] = frozenset({"max", "min", "range", "mean"})
_CUES = {
    "what_if": _WHAT_IF,
    "technique": _TECHNIQUE,
    "compare": _COMPARE,
    "explain": _EXPLAIN,
    "when": _WHEN,
    "general": _GENERAL,
    "lookup": _LOOKUP,
}
_FAMILIES = frozenset({"what_if", "technique", "explain", "when", "general"})
_FAMILY_OF = {
    Intent.WHAT_IF: "what_if",
    Intent.TECHNIQUE_SEARCH: "technique",
    Intent.EXPLANATION: "explain",
    Intent.EVENT_QUERY: "when",
    Intent.GENERAL_KNOWLEDGE: "general",
}


def classify_intent(
    text: str, found: Found, context: QueryContext, *, normalised: str, english: bool
) -> tuple[Intent, float]:
    """Return the intent of the first rule (module docstring) that applies, and its confidence.

    ``text`` is the match text; ``normalised`` the normalised question (for the question words of other scripts).
    """
    if not english:
        return next(
            ((intent, 0.5) for pattern, intent in _FOREIGN_CUES if pattern.search(normalised)),
            _rules(text, found, context, in_scope=True),
        )
    return _rules(text, found, context, in_scope=_in_scope(text, found, context))


def _in_scope(text: str, found: Found, context: QueryContext) -> bool:
    """Rule 0 (module docstring): whether the question is about movement, sport, the body or an analysis."""
    other_run = bool(_OTHER_RUN.search(text) or found.other_runs)
    short = len(text.split()) <= _SHORT_WORDS
    return (
        found.domain
        or bool(found.athletes or found.ambiguous or found.unknown_athlete)
        or bool((context.joint is not None or context.frame is not None) and _DEICTIC.search(text))
        or bool(_WHAT_IF_MOVE.search(text) or _TECHNIQUE.search(text))
        or (other_run and bool(_IMPROVE.search(text) or _COMPARE.search(text)))
        or (found.statistic is not None and (short or bool(_RUN_REFERENCE.search(text) or _DEICTIC.search(text))))
    )


def _rules(text: str, found: Found, context: QueryContext, *, in_scope: bool) -> tuple[Intent, float]:
    """Return the intent of rules 1–13 (module docstring), once rule 0 has said whether the question is in scope."""
    if not in_scope:
        return Intent.OUT_OF_SCOPE, 0.9 if len(text.split()) >= 3 else 0.7
    cues = {name for name, pattern in _CUES.items() if pattern.search(text)}
    compare = "compare" in cues
    other_run = bool(_OTHER_RUN.search(text) or found.other_runs)
    instant = (
        found.time_s is not None
        or found.frame is not None
        or found.named_frame
        or (found.frame_reference and context.frame is not None)
    )
    whole_run = found.statistic in _WHOLE_RUN
    about_run = (
        bool(_RUN_REFERENCE.search(text))
        or whole_run
        or instant
        or found.side in {"left", "right"}
        or (found.quotes_number and not _DEFINITION.search(text))  # "is 0 a straight leg?" asks for a convention
    )
    selection = context.joint is not None or context.frame is not None
    pointing = bool(_POINTING.search(text) or (selection and _DEICTIC.search(text)))
    measured = found.joint or found.quantity or found.risk or found.unknown_metrics or found.unknown_body
    rules: tuple[tuple[bool, Intent, float], ...] = (
        (bool(_NOT_OURS.search(text)), Intent.OUT_OF_SCOPE, 0.8),
        ("what_if" in cues, Intent.WHAT_IF, 0.9 if measured or found.objective or found.change_deg else 0.7),
        ("technique" in cues and not (found.athletes and compare), Intent.TECHNIQUE_SEARCH, 0.85),
        (other_run and (compare or bool(_IMPROVE.search(text))) and not found.athletes, Intent.COMPARE_RUNS, 0.85),
        (bool(found.athletes or found.ambiguous), Intent.COMPARE_ATHLETE, 0.9 if compare else 0.7),
        (found.unknown_athlete is not None, Intent.COMPARE_ATHLETE, 0.75),
        (compare and bool(_ELITE.search(text)), Intent.COMPARE_ATHLETE, 0.7),
        (other_run, Intent.COMPARE_RUNS, 0.55),
        ("explain" in cues and (about_run or pointing), Intent.EXPLANATION, 0.85),
        ("explain" in cues, Intent.GENERAL_KNOWLEDGE, 0.75),
        (
            "when" in cues and (about_run or not _GENERIC_WHEN.search(text)),
            Intent.EVENT_QUERY,
            0.85 if found.event or instant or found.quantity else 0.7,
        ),
        (
            instant or (found.event is not None and about_run and not whole_run and not found.during),
            Intent.EVENT_QUERY,
            0.8,
        ),
        (compare and found.side == "both" and bool(measured), Intent.METRIC_LOOKUP, 0.7),
        (bool(_OVERVIEW.search(text)) and about_run, Intent.METRIC_LOOKUP, 0.7),
        (("general" in cues or bool(_GENERIC_WHEN.search(text))) and not about_run, Intent.GENERAL_KNOWLEDGE, 0.85),
        (
            bool(measured) and (bool(found.statistic) or "lookup" in cues or about_run),
            Intent.METRIC_LOOKUP,
            0.9 if found.statistic and found.quantity else 0.8 if "lookup" in cues else 0.6,
        ),
        (found.statistic is not None, Intent.METRIC_LOOKUP, 0.6),
        (bool(measured), Intent.METRIC_LOOKUP, 0.5),
    )
    intent, confidence = next(
        ((intent, confidence) for applies, intent, confidence in rules if applies),
        (Intent.EXPLANATION, 0.45) if about_run else (Intent.GENERAL_KNOWLEDGE, 0.5),
    )
    competing = len(cues & _FAMILIES) - (1 if _FAMILY_OF.get(intent) in cues else 0)
    return intent, max(0.3, confidence - 0.1 * competing)
