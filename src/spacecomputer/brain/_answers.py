"""The orchestrator's fixed wording: clarifying questions, refusals, retrieval queries and follow-up suggestions.

Follow-ups are questions the system can answer next for this run (each is routed like any other question): the
time of a peak, the other side, what the metric means, the elite comparison, the what-if at that instant.
"""

from __future__ import annotations

from spacecomputer.brain._routing import is_diagnosis_request
from spacecomputer.brain._types import Answer, Intent, ParsedQuery, Route, Validation

__all__ = ["clarify_answer", "follow_ups", "refusal_text", "retrieval_query"]

_SPELLED = {
    "grf": "ground reaction force",
    "grf_horizontal": "horizontal ground reaction force",
    "com": "centre of mass",
    "com_over_base": "centre of mass over the base of support",
    "margin_of_stability": "margin of stability extrapolated centre of mass",
    "moment": "joint moment inverse dynamics",
    "power": "joint power",
    "work": "joint work energy",
    "joint_stress": "joint stress joint moments",
    "knee_frontal_plane_projection_angle": "knee frontal plane projection angle valgus",
    "landing_peak_knee_flexion": "stiff landing peak knee flexion",
    "trunk_lateral_lean_peak": "trunk lateral lean",
    "peak_knee_extensor_moment_per_kg": "peak knee extensor moment per body mass",
    "contact": "foot contact foot strike",
    "toe_off": "toe-off",
    "take_off": "take-off",
}


def retrieval_query(parsed: ParsedQuery, extra: str = "") -> str:
    """Build the text to retrieve passages with: the question, its entities spelled out, and ``extra`` terms."""
    entities = parsed.entities
    named = [entities.joint, entities.quantity, entities.event, entities.risk, entities.objective, entities.sport]
    words = [_SPELLED.get(name, name.replace("_", " ")) for name in named if name]
    return " ".join([parsed.text, *words, extra]).strip()


def refusal_text(parsed: ParsedQuery) -> str:
    """Why we do not answer: another language, a diagnosis, or a question outside movement analysis."""
    if parsed.language != "en":
        return (
            f"I can only answer in English for now (this question looks like '{parsed.language}'): the knowledge "
            "base and the answer checks cover English only. Please ask again in English."
        )
    if is_diagnosis_request(parsed):
        return (
            "I cannot diagnose an injury: this analysis gives movement indicators from video, never diagnoses. "
            "If you are worried about an injury, see a doctor or a physiotherapist. I can tell you which risk "
            "indicators this run flagged and what each one means."
        )
    return (
        "That is outside what I can answer: I answer questions about your movement analysis, its biomechanics, the "
        "elite reference library and the knowledge base behind them."
    )


def clarify_answer(parsed: ParsedQuery, question_back: str, score: float) -> Answer:
    """Ask back instead of guessing."""
    return Answer(
        question=parsed.text,
        text=question_back,
        route=Route.CLARIFY,
        intent=parsed.intent,
        citations=(),
        numbers=(),
        facts=(),
        confidence=round(parsed.confidence, 3),
        follow_ups=(),
        complexity=score,
        validation=Validation(True),
    )


def _words(parsed: ParsedQuery) -> str:
    entities = parsed.entities
    side = f"{entities.side} " if entities.side in {"left", "right"} else ""
    quantity = (entities.quantity or "").replace("_", " ")
    joint = "" if entities.joint in {None, "com"} else f"{entities.joint} "
    return f"{side}{joint}{quantity}".strip()


def follow_ups(parsed: ParsedQuery, route: Route, has_run: bool) -> tuple[str, ...]:
    """Up to three questions to ask next (module docstring)."""
    entities, topic = parsed.entities, _words(parsed)
    out: list[str] = []
    if route is Route.ANALYTICS and entities.quantity:
        if entities.statistic in {"max", "min"}:
            out.append(f"When did my {topic} peak?")
        if entities.side in {"left", "right"} and entities.joint not in {None, "trunk", "pelvis", "com"}:
            other = "right" if entities.side == "left" else "left"
            out.append(f"What was my {other} {entities.joint} {(entities.quantity or '').replace('_', ' ')}?")
        out.append(f"What does {(entities.quantity or topic).replace('_', ' ')} mean?")
    elif route is Route.COMPARISON:
        out += ["Which clip moves most like me?", "What does the similarity score mean?"]
    elif route is Route.SOLVER:
        out += ["What posture would minimise my joint stress at this instant?", "What are joint moments?"]
    elif route in {Route.LOCAL, Route.LLM} and has_run and entities.quantity:
        out.append(f"What was my peak {topic}?")
    if has_run and route is not Route.COMPARISON and parsed.intent is not Intent.OUT_OF_SCOPE:
        out.append("Which risk indicators were flagged in this run?")
    if not has_run:
        out.append("What is a ground reaction force?")
    return tuple(dict.fromkeys(out))[:3]
