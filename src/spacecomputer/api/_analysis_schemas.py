"""Request and response bodies of the analysis, athlete and comparison routes.

Inputs derive from :class:`~spacecomputer.api._schemas.InputModel` (undeclared fields are a 422). The analysis
options are checked twice: their JSON types here, their units and ranges by the pipeline itself
(:func:`check_analysis_options`), so the API refuses exactly what ``spacecomputer analyze`` refuses.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, model_validator

from spacecomputer.api._deps import API_PREFIX
from spacecomputer.api._schemas import InputModel
from spacecomputer.pipeline import AnalyzeOptions
from spacecomputer.storage import Analysis

__all__ = [
    "AnalysisCreate",
    "AnalysisEvents",
    "AnalysisOptions",
    "AnalysisPage",
    "AnalysisPublic",
    "CompareRequest",
    "MetricsColumns",
    "analysis_links",
    "check_analysis_options",
]


class AnalysisOptions(InputModel):
    """What the athlete tells about themselves and the movement (every field optional)."""

    height_m: Annotated[
        float | None, Field(description="Stature, metres: sets the 3D scale (0.5–2.5 m).", examples=[1.75])
    ] = None
    mass_kg: Annotated[
        float | None, Field(description="Body mass, kilograms: scales forces and moments.", examples=[70.0])
    ] = None
    sex: Annotated[
        str | None, Field(max_length=16, description="'female' or 'male': de Leva's segment table (default: mean).")
    ] = None
    sport: Annotated[
        str | None,
        Field(
            min_length=1,
            max_length=64,
            description="Movement or sport, e.g. sprint, jump, boxing.",
            examples=["sprint"],
        ),
    ] = None


def check_analysis_options(options: dict[str, Any]) -> None:
    """Check ``options`` with the pipeline's own unit and range checks.

    Raises
    ------
    InvalidInputError
        A value the pipeline refuses (height in centimetres, an impossible mass, an unknown sex); 422.

    """
    AnalyzeOptions(**options)


class AnalysisCreate(InputModel):
    """An analysis of one of the caller's ready videos."""

    video_id: uuid.UUID
    options: AnalysisOptions = Field(default_factory=AnalysisOptions)


def analysis_links(analysis_id: uuid.UUID) -> dict[str, str]:
    """Return the paths of an analysis and of each of its downloads."""
    base = f"{API_PREFIX}/analyses/{analysis_id}"
    names = ("results", "metrics", "events", "report", "overlay")
    return {"self": base, **{name: f"{base}/{name}" for name in names}, "artefacts": f"{base}/artefacts/{{name}}"}


class AnalysisPublic(BaseModel):
    """An analysis as its owner sees it: state, progress, options, a result summary or the error."""

    id: uuid.UUID
    video_id: uuid.UUID | None = Field(description="The analysed video; null once that video was deleted.")
    status: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    progress: float = Field(ge=0.0, le=1.0, description="Fraction done, 0–1.")
    options: dict[str, Any]
    summary: dict[str, Any] | None = Field(description="Frames, quality, movement, output files; once succeeded.")
    error: dict[str, Any] | None = Field(description="{code, message, details} of a failed analysis.")
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    links: dict[str, str] = Field(description="Paths of this analysis (self, the status URL) and its downloads.")

    @classmethod
    def of(cls, analysis: Analysis) -> AnalysisPublic:
        """Return the owner's view of ``analysis``."""
        summary = dict(analysis.summary) if analysis.summary is not None else None
        if summary is not None:
            summary.pop("run_key", None)  # where the blobs live is the server's business
            summary.pop("outputs", None)
        return cls(
            id=analysis.id,
            video_id=analysis.video_id,
            status=analysis.status.value,
            progress=analysis.progress,
            options=dict(analysis.options),
            summary=summary,
            error=dict(analysis.error) if analysis.error is not None else None,
            created_at=analysis.created_at,
            updated_at=analysis.updated_at,
            started_at=analysis.started_at,
            finished_at=analysis.finished_at,
            links=analysis_links(analysis.id),
        )


class AnalysisPage(BaseModel):
    """One page of the caller's analyses, newest first."""

    items: list[AnalysisPublic]
    total: int
    limit: int
    offset: int


class MetricsColumns(BaseModel):
    """``metrics.csv`` by column: one array per column (units in the names), ``null`` where a value is unknown."""

    rows: int
    columns: dict[str, list[float | int | None]]


class AnalysisEvents(BaseModel):
    """The foot events and contact/flight phases the biomechanics found (empty when it could not run)."""

    movement: dict[str, Any] | None
    events: list[dict[str, Any]]
    phases: list[dict[str, Any]]
    warnings: list[str]


class CompareRequest(InputModel):
    """Compare one of the caller's analyses ("you") with a library clip or with another of the caller's analyses."""

    analysis_id: uuid.UUID
    athlete_id: Annotated[str | None, Field(min_length=1, max_length=64, examples=["bolt-force-motion"])] = None
    other_analysis_id: uuid.UUID | None = None
    force: bool = Field(default=False, description="Compare even when the two movements are known and differ.")

    @model_validator(mode="after")
    def _one_reference(self) -> CompareRequest:
        if (self.athlete_id is None) == (self.other_analysis_id is None):
            raise ValueError("give exactly one reference: athlete_id or other_analysis_id")
        return self
