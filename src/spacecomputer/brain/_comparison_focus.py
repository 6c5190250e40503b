"""The part of a comparison a question asks about: one joint angle, at the events it names or over the motion.

"How does my left knee flexion at foot strike compare with Drogba's?" is answered with the comparison's own
numbers for that angle (:class:`~spacecomputer.athletes._compare.Comparison`): at each matched event of that kind
(or only the one whose ordinal the question gives) both values, their difference, its uncertainty and whether it
is significant; without an event, the angle's mean difference over the aligned motion. The library holds joint
angles only (its clips are scale-free: no body mass, no forces), so a question about a moment, a power or a force
is answered with the joint's angle and says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from spacecomputer.athletes._compare import Comparison, EventDifference
from spacecomputer.brain._analytics_vocab import ANGLES, BILATERAL_JOINTS, DEFAULT_ANGLE, KINETIC_QUANTITIES
from spacecomputer.brain._types import Entities, Fact, Provenance

__all__ = ["Focus", "focus_facts"]

_EVENT_LABELS = {"contact": "foot strike", "toe_off": "toe-off"}
_KINETIC = frozenset({*KINETIC_QUANTITIES, "grf", "energy"})


@dataclass(frozen=True)
class Focus:
    """The focused facts, their sentences (``{n}`` = citation) and a lead saying what was substituted."""

    facts: tuple[Fact, ...]
    sentences: tuple[str, ...]
    lead: str | None = None


def _angles(entities: Entities) -> tuple[list[str], str | None]:
    """Return the comparison's angle names the question means, and what was substituted for a kinetic quantity."""
    joint = entities.joint
    if joint is None or joint not in ANGLES:
        return [], None
    quantity, substituted = entities.quantity, None
    if quantity in _KINETIC:
        substituted, quantity = quantity, None
    quantity = DEFAULT_ANGLE.get(joint) if quantity in (None, "angle") else quantity
    base = ANGLES[joint].get(quantity or "")
    if base is None:
        return [], None
    if joint not in BILATERAL_JOINTS:
        return [base], substituted
    sides = ("left", "right") if entities.side in (None, "both") else (entities.side,)
    return [f"{side}_{base}" for side in sides], substituted


def _chosen_events(comparison: Comparison, entities: Entities) -> list[tuple[int, EventDifference]]:
    word = _EVENT_LABELS.get(entities.event or "")
    if word is None:
        return []
    labels = {f"{entities.side} {word}"} if entities.side in ("left", "right") else {f"left {word}", f"right {word}"}
    chosen: list[tuple[int, EventDifference]] = []
    for label in sorted(labels):
        own = [(i, e) for i, e in enumerate(comparison.events) if e.event.label == label]
        if entities.ordinal is not None:
            index = entities.ordinal - 1 if entities.ordinal > 0 else entities.ordinal
            own = [own[index]] if -len(own) <= index < len(own) else []
        chosen += own
    return sorted(chosen, key=lambda item: item[1].event.a_time_s)


def _event_fact(event: EventDifference, i: int, j: int, name: str, where: str, number: int) -> tuple[Fact, str]:
    angle = event.angles[j]
    you, them, difference = angle.a_deg or 0.0, angle.b_deg or 0.0, angle.difference_deg or 0.0
    words = angle.angle.replace("_", " ")
    sigma = f" ± {angle.uncertainty_deg:.1f}°" if angle.uncertainty_deg is not None else ""
    verdict = "significant (more than twice its uncertainty)" if angle.significant else "within twice its uncertainty"
    at = event.event
    fact = Fact(
        key=f"focus_{angle.angle}@{at.a_row}",
        label=f"{words} at {at.label} #{number}",
        value=difference,
        unit="deg",
        display=f"{you:.1f}° vs {them:.1f}°, difference {difference:+.1f}°{sigma}",
        provenance=Provenance("comparison", f"{where}: events[{i}].angles[{j}]"),
        uncertainty=angle.uncertainty_deg,
        numbers=(
            round(you, 1),
            round(them, 1),
            round(difference, 1),
            round(angle.uncertainty_deg or 0.0, 1),
            round(at.a_time_s, 2),
            round(at.b_time_s, 2),
            float(number),
        ),
    )
    sentence = (
        f"At {at.label} #{number} (you at {at.a_time_s:.2f} s, {name} at {at.b_time_s:.2f} s) your {words} was "
        f"{you:.1f}° against {them:.1f}°: a difference of {difference:+.1f}°{sigma}, {verdict} [{{n}}]."
    )
    return fact, sentence


def focus_facts(comparison: Comparison, entities: Entities, name: str, where: str) -> Focus:
    """Return the comparison's facts about the angle ``entities`` name (module docstring); empty if none."""
    angles, substituted = _angles(entities)
    if not angles:
        return Focus((), ())
    lead = None
    if substituted is not None:
        lead = (
            f"The library holds joint angles only (its clips have no body mass or force data), so here is the "
            f"{' and '.join(a.replace('_', ' ') for a in angles)} instead of the {substituted.replace('_', ' ')}."
        )
    facts: list[Fact] = []
    sentences: list[str] = []
    events = _chosen_events(comparison, entities)
    for i, event in events:
        number = sum(1 for e in comparison.events[: i + 1] if e.event.label == event.event.label)
        for j, angle in enumerate(event.angles):
            known = None not in (angle.a_deg, angle.b_deg, angle.difference_deg)
            if angle.angle in angles and known:
                fact, sentence = _event_fact(event, i, j, name, where, number)
                facts.append(fact)
                sentences.append(sentence)
    if entities.event is None:
        for k, joint in enumerate(comparison.joints):
            if joint.angle in angles and joint.mean_difference_deg is not None:
                words = joint.angle.replace("_", " ")
                sigma = f" ± {joint.uncertainty_deg:.1f}°" if joint.uncertainty_deg is not None else ""
                facts.append(
                    Fact(
                        key=f"focus_{joint.angle}",
                        label=f"mean difference in {words}",
                        value=joint.mean_difference_deg,
                        unit="deg",
                        display=f"{joint.mean_difference_deg:+.1f}°{sigma}",
                        provenance=Provenance("comparison", f"{where}: joints[{k}]"),
                        uncertainty=joint.uncertainty_deg,
                        numbers=tuple(round(n, 1) for n in (joint.mean_difference_deg, joint.uncertainty_deg or 0.0)),
                    )
                )
                verdict = "significant" if joint.significant else "not significant (within twice its uncertainty)"
                sentences.append(
                    f"Over the aligned motion your {words} differs from {name}'s by "
                    f"{joint.mean_difference_deg:+.1f}°{sigma} on average, {verdict} [{{n}}]."
                )
    return Focus(tuple(facts), tuple(sentences), lead)
