"""Answer validation: the numbers an answer writes, and whether each traces to what it used."""

from __future__ import annotations

import pytest

from spacecomputer.brain import Route
from spacecomputer.brain._compose import fact_citation
from spacecomputer.brain._types import Fact, Provenance
from spacecomputer.brain._validate import numbers_in, validate_answer


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("peak 68.2° ± 3.1° at 2.41 s, frame 72 [1].", ["68.2", "3.1", "2.41", "72"]),
        ("an objective of 1.661e+04 → 294.3 N²·m² [2].", ["1.661e+04", "294.3"]),
        ("−12.5 and 2.5E-3 [1, 3].", ["-12.5", "2.5E-3"]),
        ("1. first point\n2. second point", []),
        ("left_knee_flexion_deg and v2 are names", []),
    ],
)
def test_numbers_in_finds_written_numbers_only(text: str, expected: list[str]) -> None:
    assert numbers_in(text) == expected


def _fact(value: float) -> Fact:
    return Fact(key="objective", label="objective", value=value, unit="", display=f"{value:.4g}",
                provenance=Provenance("solver", "objective"))  # fmt: skip


@pytest.mark.parametrize(("written", "traced"), [("1.661e+04", True), ("1.66e+04", True), ("1.671e+04", False)])
def test_a_number_in_scientific_notation_traces_at_its_written_precision(written: str, traced: bool) -> None:
    fact = _fact(16612.3)
    validation, _ = validate_answer(
        f"Objective: {written} [1].", Route.SOLVER, facts=(fact,), citations=(fact_citation(1, fact),), question="q"
    )
    assert validation.passed is traced, validation
    assert validation.untraced_numbers == (() if traced else (written,))
