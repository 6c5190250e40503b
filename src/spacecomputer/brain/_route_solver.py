"""The solver route: what-ifs and optimisations on a pose of the run, through the pose lab.

"What if I bent my left knee 20° more at landing?" opens a :class:`~spacecomputer.biomech.solver.PoseSession`
on the row of that instant, sets the angle (inverse kinematics keeps bone lengths and joint limits) and reports
what the quasi-static joint moments and the balance do. "What posture minimises my joint stress here?" runs the
:class:`~spacecomputer.biomech.solver.BiomechanicalSolver` with that objective, the feet on the ground kept there.
Every number of the answer is a fact of the session (provenance ``solver``); the moments are quasi-static (no
inertia), which the answer says.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from spacecomputer.biomech.solver import (
    BiomechanicalSolver,
    KeepFootOnGround,
    OptimisationProblem,
    PoseSession,
)
from spacecomputer.biomech.solver._results import AngleChange, Balance, MomentChange
from spacecomputer.brain._types import Entities, Fact, Provenance

__all__ = ["DEFAULT_ANGLE", "DEFAULT_CHANGE_DEG", "SolverOutcome", "what_if"]

DEFAULT_ANGLE = {
    "knee": "flexion",
    "hip": "flexion",
    "ankle": "dorsiflexion",
    "elbow": "flexion",
    "shoulder": "flexion",
}
"""The angle a what-if changes when the question names only the joint."""
_LARGEST = 4
"""Moment changes reported, largest first."""


@dataclass(frozen=True)
class SolverOutcome:
    """Facts with their sentences (``{n}`` = citation number), or the question to ask back."""

    facts: tuple[Fact, ...]
    sentences: tuple[str, ...]
    clarification: str | None = None


def _unit(unit: str) -> str:
    """Return the unit to print after a value, with its space (nothing for a dimensionless ``1``)."""
    return "" if unit in {"", "1"} else f" {unit}"


def _angle_names(entities: Entities) -> list[str]:
    joint = entities.joint or ""
    if joint in {"trunk", "pelvis"}:
        return [f"{joint}_{entities.quantity or ('flexion' if joint == 'trunk' else 'obliquity')}"]
    quantity = entities.quantity if entities.quantity not in {None, "angle"} else DEFAULT_ANGLE.get(joint)
    sides = ["left", "right"] if entities.side == "both" else [entities.side or ""]
    return [f"{side}_{joint}_{quantity}" for side in sides]


def _moment_fact(change: MomentChange, row: int) -> tuple[Fact, str]:
    joint = change.joint.replace("_", " ")
    before, after = change.before_n_m_per_kg, change.after_n_m_per_kg
    display = f"{before:+.2f} → {after:+.2f} N·m/kg"
    fact = Fact(
        key=f"{change.joint}_moment_change",
        label=f"{joint} quasi-static moment",
        value=after,
        unit="N·m/kg",
        display=display,
        provenance=Provenance("solver", f"pose session on row {row}: moments[{change.joint}]"),
        row=row,
        estimated_from_video=True,
        numbers=(round(before, 2), round(after, 2)),
    )
    article = "an" if change.direction[:1] in "aeiou" else "a"
    return fact, f"The {joint} {change.load}: {display}, {article} {change.direction} [{{n}}]."


def _balance_fact(before: Balance, after: Balance, row: int) -> tuple[Fact, str]:
    def words(balance: Balance) -> str:
        if not balance.feet_in_contact:
            return "no foot on the ground"
        where = "inside" if balance.inside else "outside"
        return f"centre of mass {where} the base of support by {abs(balance.margin_m) * 100:.1f} cm"

    display = f"before: {words(before)}; after: {words(after)}"
    numbers = tuple(round(abs(b.margin_m) * 100, 1) for b in (before, after) if b.feet_in_contact)
    fact = Fact(
        key="balance_change",
        label="static balance",
        value=None,
        unit="cm",
        display=display,
        provenance=Provenance("solver", f"pose session on row {row}: balance"),
        row=row,
        numbers=numbers,
    )
    return fact, f"Static balance, {display} [{{n}}]."


def _angle_fact(change: AngleChange, row: int) -> tuple[Fact, str]:
    name = change.name.replace("_", " ")
    display = f"{change.before_deg:.1f}° → {change.after_deg:.1f}°"
    fact = Fact(
        key=f"{change.name}_change",
        label=name,
        value=change.after_deg,
        unit="deg",
        display=display,
        provenance=Provenance("solver", f"pose session on row {row}: angles[{change.name}]"),
        row=row,
        numbers=(round(change.before_deg, 1), round(change.after_deg, 1), round(abs(change.change_deg), 1)),
    )
    return fact, f"{name[:1].upper()}{name[1:]}: {display} [{{n}}]."


def _report(
    row: int, angles: tuple[AngleChange, ...], moments: tuple[MomentChange, ...], balance: tuple[Balance, Balance]
) -> tuple[list[Fact], list[str]]:
    pairs = [_angle_fact(change, row) for change in angles if abs(change.change_deg) >= 0.5][:_LARGEST]
    moved = sorted(moments, key=lambda m: -abs(m.change_n_m))
    moved = [m for m in moved if m.load != "unchanged" and abs(m.after_n_m_per_kg - m.before_n_m_per_kg) >= 0.005]
    pairs += [_moment_fact(change, row) for change in moved][:_LARGEST]
    pairs.append(_balance_fact(*balance, row))
    return [fact for fact, _ in pairs], [sentence for _, sentence in pairs]


_LIMITED_DEG = 0.1
"""An angle that moved this much less than asked (degrees) was stopped by its joint limit."""
DEFAULT_CHANGE_DEG = 10.0
"""The angle change a what-if tests when it names a direction but no amount ("with straighter knees"), degrees
(our own choice: large enough to move the moments visibly, small enough to stay a plausible technique change)."""


def what_if(run_dir: Path, row: int, entities: Entities) -> SolverOutcome:
    """Answer a what-if (an angle change) or an optimisation (an objective) on row ``row`` of the run."""
    session = PoseSession.from_run(run_dir, row)
    if entities.objective is not None:
        sides: tuple[Literal["left", "right"], ...] = ("left", "right")
        feet = tuple(KeepFootOnGround(s) for s, down in zip(sides, session.analysis.in_contact[0], strict=True) if down)
        result = BiomechanicalSolver(session).solve(OptimisationProblem(entities.objective, keep=feet))
        frame = result.frames[0]
        facts, sentences = _report(
            row, frame.angle_changes, frame.moment_changes, (frame.balance_before, frame.balance)
        )
        summary = Fact(
            key="objective",
            label=f"{result.objective} ({result.sense})",
            value=result.objective_after,
            unit=result.unit,
            display=f"{result.objective_before:.4g} → {result.objective_after:.4g}{_unit(result.unit)}",
            provenance=Provenance("solver", f"optimisation on row {row}: objective"),
            row=row,
            note=result.message,
            numbers=(float(f"{result.objective_before:.4g}"), float(f"{result.objective_after:.4g}")),
        )
        lead = (
            f"Optimising {result.objective} ({result.sense}) on this pose, with the feet on the ground kept there: "
            f"{summary.display}; {result.message} [{{n}}]."
        )
        return SolverOutcome((summary, *facts), (lead, *sentences))
    names = [name for name in _angle_names(entities) if name in session.angles]
    change = entities.change_deg
    if change is None and entities.change_direction is not None:
        change = DEFAULT_CHANGE_DEG * entities.change_direction  # said in the answer
    if not names or change is None:
        valid = ", ".join(
            sorted({n.split("_", 1)[1] if n.startswith(("left_", "right_")) else n for n in session.angles})
        )
        return SolverOutcome(
            (),
            (),
            clarification=(
                "What should change, and by how much? For example: what if I bent my left knee 20° more at "
                f"landing? Angles I can change: {valid}. Or ask for an objective: joint stress, power output, "
                "energy efficiency or injury risk."
            ),
        )
    session.save("before")
    for name in names:
        session.manipulate(name, session.angles[name] + change)
    session.save("after")
    comparison = session.compare("before", "after")
    facts, sentences = _report(
        row, comparison.angle_changes, comparison.moment_changes, (comparison.balance_a, comparison.balance_b)
    )
    for i, fact in enumerate(facts):  # an angle the joint limits stopped short of the change asked for says so
        if fact.key.removesuffix("_change") in names and abs(fact.numbers[2] - abs(change)) > _LIMITED_DEG:
            sentences[i] = sentences[i].replace(" [{n}].", ", as far as its joint limit allows [{n}].")
    if entities.change_deg is None and facts and facts[0].key.endswith("_change"):
        way = "more" if change > 0 else "less"
        sentences[0] = (
            f"No amount was named, so this tests {abs(change):g}° {way} (name an amount to test another): "
            f"{sentences[0]}"
        )
    return SolverOutcome(tuple(facts), tuple(sentences))
