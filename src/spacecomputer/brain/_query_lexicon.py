"""The query parser's static vocabulary: the brain's canonical terms and the English phrases that name them.

The canonical values are shared with the analytics engine (``Entities`` in :mod:`spacecomputer.brain._types`):

- joints ``hip knee ankle shoulder elbow wrist trunk pelvis com`` (``com``: the whole-body centre of mass);
- quantities (:data:`QUANTITIES`): angles, ``angular_velocity``, ``moment``, ``power``, ``work``, ``grf`` and the
  whole-body ones; ``angle`` is the generic angle (the analytics engine reads the joint's default angle);
- statistics ``max min range mean value``; events ``contact toe_off take_off landing flight``;
- risk indicator families (:data:`RISKS`) and the solver's objectives (:data:`OBJECTIVE_NAMES`).

A phrase is a regular expression over the *match text* (lower case, accents removed, hyphens, underscores and
punctuation turned into spaces, contractions expanded: ``_query_text.match_text``), wrapped in letter-or-digit
boundaries. The tables are searched in the order the parser documents; a phrase found is blanked out, so
``toe off`` is an event and never the unknown body part ``toe``, and ``flight time`` a quantity, not the event.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from spacecomputer.biomech.solver import OBJECTIVES

from ._types import Statistic

__all__ = [
    "ANGLE_QUANTITIES",
    "DOMAIN_WORDS",
    "EVENTS",
    "EVENT_TERMS",
    "HOW_MUCH",
    "JOINTS",
    "JOINT_QUANTITIES",
    "JOINT_TERMS",
    "OBJECTIVE_NAMES",
    "OBJECTIVE_TERMS",
    "OPPOSITE_STATISTIC",
    "PER_FOOT_EVENTS",
    "QUANTITIES",
    "QUANTITY_TERMS",
    "RISKS",
    "RISK_TERMS",
    "RISK_WORDS",
    "SIDED_JOINTS",
    "SIGNED_ANGLES",
    "SPORT_TERMS",
    "STATISTICS",
    "STATISTIC_TERMS",
    "UNKNOWN_BODY_TERMS",
    "UNKNOWN_METRIC_TERMS",
    "Term",
    "phrase",
]

JOINTS = ("hip", "knee", "ankle", "shoulder", "elbow", "wrist", "trunk", "pelvis", "com")
SIDED_JOINTS = frozenset({"hip", "knee", "ankle", "shoulder", "elbow", "wrist"})
ANGLE_QUANTITIES = (
    "flexion", "adduction", "abduction", "dorsiflexion", "elevation", "lateral_lean", "obliquity", "tilt",
    "internal_rotation", "pronation", "angle",
)  # fmt: skip
JOINT_QUANTITIES = frozenset({*ANGLE_QUANTITIES, "angular_velocity", "moment", "power", "work"})
"""Quantities of one joint: with no joint named, the selected joint of the context is meant."""
QUANTITIES = (
    *ANGLE_QUANTITIES, "angular_velocity", "moment", "power", "work", "grf", "grf_horizontal", "speed",
    "vertical_velocity", "height",
    "jump_height", "flight_time", "takeoff_velocity", "margin_of_stability", "com_over_base", "energy",
    "step_length", "step_frequency", "contact_time", "asymmetry",
)  # fmt: skip
STATISTICS: tuple[Statistic, ...] = ("max", "min", "range", "mean", "value")
EVENTS = ("contact", "toe_off", "take_off", "landing", "flight")
PER_FOOT_EVENTS = frozenset({"contact", "toe_off"})
"""Events of one foot: their instant depends on the side."""
RISKS = (
    "knee_frontal_plane_projection_angle",
    "landing_peak_knee_flexion",
    "trunk_lateral_lean_peak",
    "peak_knee_extensor_moment_per_kg",
    "asymmetry",
)
OBJECTIVE_NAMES = tuple(OBJECTIVES)
SIGNED_ANGLES: Mapping[tuple[str, str], str] = MappingProxyType({
    ("hip", "abduction"): "adduction", ("shoulder", "adduction"): "abduction",
})  # fmt: skip
"""(joint, angle named by its negative direction) → the vocabulary's angle; the peak of one is the other's minimum."""
OPPOSITE_STATISTIC: Mapping[Statistic, Statistic] = MappingProxyType({"max": "min", "min": "max"})


def phrase(pattern: str) -> re.Pattern[str]:
    """Compile ``pattern`` to match whole words of the match text only."""
    return re.compile(rf"(?<![a-z0-9])(?:{pattern})(?![a-z0-9])")


@dataclass(frozen=True)
class Term:
    """A phrase naming a canonical ``value``, with what it implies.

    ``joint``: the joint the phrase implies (``hip drop`` → ``pelvis``); ``statistic``: the statistic it implies
    (``range of motion`` → ``range``); ``needs_joint``: it names the quantity only in a question that names a
    joint (``work`` in "positive work at my knee", not in "how does this work"); ``inverse``: it names the
    quantity's negative direction (``plantarflexion``, ``extension``), so its peak is the quantity's minimum and
    a change of it is a change of the opposite sign.
    """

    pattern: re.Pattern[str]
    value: str
    joint: str | None = None
    statistic: Statistic | None = None
    needs_joint: bool = False
    inverse: bool = False


def _terms(*rows: tuple[str, str] | tuple[str, str, str | None]) -> tuple[Term, ...]:
    return tuple(Term(phrase(row[0]), row[1], row[2] if len(row) == 3 else None) for row in rows)


_BEFORE_JOINT = (
    r"(?= (?:did |does |do |was |were |is )?(?:my |the |his |her )?(?:left |right )?"
    r"(?:hip|knee|ankle|shoulder|elbow|wrist|trunk)s?(?![a-z0-9]))"
)

_NOT_A_TIME = r"(?<!this )(?<!that )(?<!what )(?<!which )(?<!at the )(?<!same )(?<!every )"
"""Before "moment": "at that moment" is a time, not a joint moment."""

# In priority order: a question naming two quantities ("knee flexion moment") is about the first one found here,
# and a phrase found is blanked before the next row is searched ("take off speed" is never "speed").
QUANTITY_TERMS: tuple[Term, ...] = (
    *_terms(
        (r"horizontal (?:ground reaction |ground )?forces?|horizontal grfs?|braking forces?|propulsive forces?|"
         r"shear forces?", "grf_horizontal"),
        (r"ground reaction forces?|grfs?|ground forces?|impact forces?|vertical forces?|"
         r"forces? (?:on|into) the ground|"
         r"forces?(?! ?(?:plates?|platforms?))", "grf"),  # a force plate is an instrument, not a quantity
        (r"take ?off (?:velocity|speed)|(?:velocity|speed) at take ?off", "takeoff_velocity"),
        (r"jump heights?|vertical jump|height of (?:my |the |his |her )?jump|(?:higher|highest|bigger|biggest|"
         r"better|best) jump|how high (?:did |do |can |could )?(?:i |he |she |they |we |the athlete )?jump(?:ed|s)?",
         "jump_height"),
        (r"flight times?|time in the air|air ?time|hang ?time|time (?:spent )?airborne|"
         r"how long(?= (?:\w+ ){0,5}flights?)", "flight_time"),
        (r"(?:ground )?contact times?|stance times?|time on the ground|ground times?|"
         r"how long(?= (?:\w+ ){0,5}(?:contacts?|stance|on the ground))", "contact_time"),
        (r"margin of stability|stability margins?|mos|dynamic stability|stability|balance", "margin_of_stability"),
        (r"(?:com|cent(?:re|er) of mass) over (?:the )?base(?: of support)?|base of support", "com_over_base"),
        (r"(?:step|stride) lengths?|(?:step|stride) sizes?", "step_length"),
        (r"(?:step|stride) (?:frequency|rate)|cadence|steps per (?:second|minute)", "step_frequency"),
        (rf"angular (?:velocit(?:y|ies)|speeds?)|(?:extension|flexion) (?:velocity|speed)|rotational speed|"
         rf"deg(?:rees?)? per second|how fast{_BEFORE_JOINT}", "angular_velocity"),
        (r"vertical (?:com )?(?:velocity|speed)|upward (?:velocity|speed)", "vertical_velocity"),
        (r"(?:com|cent(?:re|er) of mass) height|height of (?:my |the )?(?:com|cent(?:re|er) of mass)", "height", "com"),
        (r"rise and fall|rose and fell", "height"),
        (r"(?:kinetic|potential|mechanical) energy|energy(?! efficien| cost| economy)", "energy"),
        (rf"(?:flexion|extension|flexor|extensor|plantarflexor|joint) moments?|{_NOT_A_TIME}moments?|torques?",
         "moment"),
        (r"(?:joint|extension|extensor) power|power", "power"),
        (r"(?:positive|negative|mechanical|joint) work|work done", "work"),
        (r"dorsi ?flexion|dorsiflex\w*", "dorsiflexion", "ankle"),
    ),
    Term(phrase(r"plantar ?flexion|plantarflex\w*|point(?:ing|ed)? (?:my |the )?toes?"), "dorsiflexion", "ankle",
         inverse=True),
    *_terms(
        (r"forward(?: \w+){0,3} lean\w*|lean\w*(?: \w+){0,3} forwards?", "flexion", "trunk"),
        (r"lateral (?:trunk )?lean(?:ing)?|side(?:ways)? lean(?:ing)?|lean(?:ing|ed)? (?:to the )?side(?:ways)?|"
         r"lateral flexion|side bend\w*|sideways|side to side|trunk sway|sway(?:ing)?|lean(?:ing|ed|s)?",
         "lateral_lean", "trunk"),
        (r"pelvic (?:obliquity|drop)|pelvis (?:obliquity|drop)|hip drop|dropped hip|obliquity", "obliquity", "pelvis"),
        (r"(?:pelvic|pelvis|anterior|posterior) tilt|tilt", "tilt", "pelvis"),
        (r"(?:shoulder |arm )?elevation|arm raise|rais(?:e|ed|ing) (?:my |the )?arms?", "elevation", "shoulder"),
        (r"(?:internal|external) rotation|rotation|twist\w*", "internal_rotation"),
        (r"pronat\w*|supinat\w*", "pronation"),
    ),
    Term(phrase(r"range of (?:motion|movement)|rom"), "angle", statistic="range"),
    *_terms(
        (r"knee drive", "flexion", "hip"),
        (r"flexion|flexsion|flection|flex(?:ed|es|ing)?|bend(?:ing|s)?|bent", "flexion"),
    ),
    Term(phrase(r"hyper ?extension|extension|extend(?:ed|s|ing)?|straighten(?:ed|ing)?|straighter|straight"),
         "flexion", inverse=True),
    *_terms(
        (r"abduct\w*", "abduction"),
        (r"adduct\w*", "adduction"),
        (r"(?:joint )?angles?", "angle"),
        (r"(?:running|sprint(?:ing)?|horizontal) (?:speed|velocity)|speeds?|velocit(?:y|ies)|how fast|"
         r"pace", "speed"),
        (r"how high|height", "height"),
    ),
    Term(phrase(r"work"), "work", needs_joint=True),
    Term(phrase(r"loads?|loaded|loading|overload\w*"), "moment", needs_joint=True),
)  # fmt: skip

EVENT_TERMS = _terms(
    (r"foot ?strikes?|foot contacts?|initial contacts?|heel ?strikes?|touch ?downs?|touch(?:ed|es|ing)? down|"
     r"ground contact|(?:foot|feet|heels?|toes?) (?:first |last |\w+ly )?(?:hit|hits|hitting|struck|strikes?|"
     r"landed|lands|touch|touched|"
     r"touches) the (?:ground|floor|track)|(?:foot|feet) (?:is |are |was |were )?on the ground|contacts?", "contact"),
    (r"toe ?offs?|push ?offs?|push(?:ed|es|ing) off|lift ?offs?|(?:foot|feet|toes?) (?:first |last |\w+ly )?"
     r"(?:left|leaves?|leaving) the "
     r"(?:ground|floor|track)", "toe_off"),
    (r"take ?offs?|took off|taking off|takes off|(?:left|leaves?|leaving) the ground", "take_off"),
    (r"landings?|land(?:ed|s|ing)?", "landing"),
    (r"flight(?: phase)?|in the air|airborne|mid ?air", "flight"),
)  # fmt: skip

JOINT_TERMS = _terms(
    (r"hips?|hip joints?", "hip"),
    (r"knees?|knee joints?", "knee"),
    (r"ankles?", "ankle"),
    (r"shoulders?", "shoulder"),
    (r"elbows?|forearms?", "elbow"),
    (r"wrists?", "wrist"),
    (r"trunk|torso|upper body", "trunk"),
    (r"pelvis|pelvic", "pelvis"),
    (r"cent(?:re|er)s? of (?:mass|gravity)|com|cog|whole body", "com"),
)  # fmt: skip

STATISTIC_TERMS: tuple[tuple[re.Pattern[str], Statistic], ...] = (
    (phrase(r"peak|max(?:imum|imal)?|highest|greatest|largest|biggest|fastest|deepest|top|(?:at|the) most"), "max"),
    (phrase(r"min(?:imum|imal)?|lowest|least|smallest|slowest"), "min"),
    (phrase(r"range|excursion"), "range"),
    (phrase(r"average|mean(?= [a-z])(?! (?:for|to|by|that|in|any|some)\w*)|avg|typical(?:ly)?"), "mean"),
)  # fmt: skip
"""Statistic words; the first mentioned wins."""
HOW_MUCH = phrase(
    r"how much(?= (?:did|does|do|was|were|has|have) (?:\w+ ){1,5}(?:move|moved|bend|bent|flex|extend|change|changed|"
    r"rotate|rise|rose|fall|fell|drop|dropped|vary|varied|travel|tilt|lean))"
)
""""How much did my knee bend": the range, unless a statistic word says otherwise ("… at most")."""

RISK_TERMS = _terms(
    (r"asymmetr\w*|symmetr\w*|imbalance between (?:my |the )?(?:legs|sides)|(?:left right|left and right|right "
     r"left|right and left|side to side) differences?|differences? between (?:my |the )?(?:left and right|right and "
     r"left|legs|sides)", "asymmetry"),
    (r"knee valgus|valgus|knock knee\w*|knees? (?:caving|cave|caved|collaps\w*|going|moving|falling|drift\w*) "
     r"in(?:ward)?s?|caving in|fppa|frontal plane projection angles?", "knee_frontal_plane_projection_angle", "knee"),
    (r"stiff(?:ly)? land\w*|land(?:ed|ing)? stiff(?:ly)?|landing stiffness|stiff", "landing_peak_knee_flexion",
     "knee"),
)  # fmt: skip
RISK_WORDS = phrase(r"risks?|risky|flag(?:s|ged)?|indicators?|warnings?|danger\w*|injur\w*|red|yellow|amber|safe")
"""Words that make a quantity a question about its risk indicator ("is my trunk lean a risk?")."""

OBJECTIVE_TERMS = _terms(
    (r"joint[ _]stress|(?:joint |knee |hip |ankle )?stress|(?:joint )?load(?:ing)?|strain|easier on (?:my |the )?"
     r"(?:joints?|knees?|hips?|ankles?)|less load", "joint_stress"),
    (r"power[ _]output|(?:more|maximi[sz]e|increase) power|explosiv\w*|faster|higher|further|more speed",
     "power_output"),
    (r"energy[ _]efficiency|efficien\w*|energy (?:cost|economy)|economy|save energy|less (?:tired|fatigue)",
     "energy_efficiency"),
    (r"injury[ _]risk|injur\w*|risks?|safer|safe(?:ty)?", "injury_risk"),
)  # fmt: skip

SPORT_TERMS = _terms(
    (r"athletics|track and field", "athletics"),
    (r"rugby(?: union| league| sevens)?(?: players?)?", "rugby"),
    (r"cricket(?:ers?)?", "cricket"),
    (r"american football", "american football"),
    (r"football(?:ers?)?|soccer(?: players?)?", "football"),
    (r"boxing|boxers?", "boxing"),
    (r"wrestling|wrestlers?", "wrestling"),
    *((rf"{name}", name) for name in (
        "basketball", "tennis", "swimming", "volleyball", "golf", "baseball", "hockey", "cycling", "rowing",
        "skiing", "gymnastics", "handball", "badminton", "netball", "triathlon", "weightlifting", "judo", "karate",
    )),
)  # fmt: skip

UNKNOWN_BODY_TERMS = _terms(
    (r"spine|spinal|vertebra\w*|(?:lower|upper|my|the|his|her) back|neck|head|core|abs|abdomen|ribs?|chest|"
     r"shoulder blades?|scapula\w*|collar ?bones?", "trunk"),
    (r"toes?|heels?|arch(?:es)?|instep", "ankle"),
    (r"fingers?|thumbs?|hands?|palms?|fists?", "wrist"),
    (r"thighs?|hamstrings?|quads?|quadriceps|glutes?|groin|buttocks?", "hip"),
    (r"tailbone|coccyx|sacrum|sacral|lumbar", "pelvis"),
    (r"shins?|calf|calves|achilles", "knee"),
)  # fmt: skip
"""Body parts the vocabulary does not measure; the value is the closest joint it has."""

UNKNOWN_METRIC_TERMS = _terms(
    (r"heart ?rate|pulse|vo2(?: ?max)?|lactate|calories|blood pressure|oxygen|emg|muscle activation|"
     r"muscle forces?|bone density|hydration|sweat rate|breathing", "metric"),
)  # fmt: skip
"""Measurements the analysis does not make (no physiology, no muscle-level forces)."""

DOMAIN_WORDS = phrase(
    r"run(?:s|ning|ner|ners)?|ran|sprint\w*|jump\w*|land\w*|strides?|steps?|gait|posture|technique\w*|form|"
    r"movements?|motions?|mov(?:e|es|ed|ing)|biomechanic\w*|kinematic\w*|kinetic\w*|muscles?|joints?|injur\w*|pain|"
    r"hurts?|athlet\w*|train\w*|coach\w*|exercis\w*|squat\w*|lunge\w*|punch\w*|kick\w*|throw\w*|tackl\w*|"
    r"swing\w*|stabil\w*|forces?|angles?|analys[ie]s|analy[sz]\w*|video|frames?|clips?|pose|skeleton|landmarks?|"
    r"legs?|arms?|foot|feet|body|performance|accelerat\w*|decelerat\w*|races?|sports?|metrics?|measure\w*|"
    r"fault\w*|header|batting|batter|bat|wrestl\w*|takedown|grappl\w*|strike|stance|swing|phase|fitness|"
    r"workout|effort|fatigue|stretch\w*|warm ?up|mobility|flexibility|strength|sprinter|elite|olympi\w*|"
    r"dynamics|acl|sprain|tendon\w*|ligament\w*|physio\w*|rehab\w*|recovery|reference|library|solver|optimi[sz]\w*|"
    r"gallop|hop\w*|bound\w*|cut(?:ting)?|pivot\w*|agility|plyometric\w*|deadlift\w*|lift\w*|"
    r"risk indicators?|risk flags?|uncertaint\w*"
)
"""Words about movement, sport, the body or this analysis: a question with none of them (and no entity) is out of
scope."""
