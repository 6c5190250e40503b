"""Answers as JSON documents (CLI ``--json``, the API, the answer cache) and back."""

from __future__ import annotations

import dataclasses
from typing import Any

from spacecomputer.brain._types import (
    Answer,
    Citation,
    Fact,
    Intent,
    NumberTrace,
    Provenance,
    Route,
    Validation,
)

__all__ = ["answer_from_dict", "answer_to_dict"]


def answer_to_dict(answer: Answer) -> dict[str, Any]:
    """Turn the answer into a JSON-ready dict (enums as their values, tuples as lists)."""
    document: dict[str, Any] = dataclasses.asdict(answer)
    document["route"], document["intent"] = answer.route.value, answer.intent.value
    return document


def answer_from_dict(document: dict[str, Any]) -> Answer:
    """Rebuild an :class:`Answer` from :func:`answer_to_dict`'s document."""
    facts = tuple(
        Fact(**{**f, "provenance": Provenance(**f["provenance"]), "numbers": tuple(f["numbers"])})
        for f in document["facts"]
    )
    citations = tuple(Citation(**{**c, "sources": tuple(c["sources"])}) for c in document["citations"])
    validation = document["validation"]
    return Answer(
        **{
            **document,
            "route": Route(document["route"]),
            "intent": Intent(document["intent"]),
            "citations": citations,
            "numbers": tuple(NumberTrace(**n) for n in document["numbers"]),
            "facts": facts,
            "follow_ups": tuple(document["follow_ups"]),
            "events": tuple(document["events"]),
            "validation": Validation(
                **{
                    **validation,
                    "untraced_numbers": tuple(validation["untraced_numbers"]),
                    "bad_citations": tuple(validation["bad_citations"]),
                    "notes": tuple(validation["notes"]),
                }
            ),
        }
    )
