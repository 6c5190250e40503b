"""Library clips through the biomechanics engine: scale-free results only, the rest named as left out."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from spacecomputer.athletes import SCALE_FREE_UNITS, AthleteLibrary, analyse_clip
from spacecomputer.cli import app
from spacecomputer.errors import NotFoundError
from tests.athletes.clips import ATHLETES

LIBRARY = AthleteLibrary([ATHLETES])


@pytest.mark.parametrize("clip_id", ["bolt-force-motion", "pound"])
def test_only_scale_free_quantities_remain(clip_id: str) -> None:
    analysis = analyse_clip(LIBRARY, clip_id, draws=4)
    assert analysis.scalars
    assert {scalar.unit for scalar in analysis.scalars} <= SCALE_FREE_UNITS
    assert {flag.unit for flag in analysis.risk} <= SCALE_FREE_UNITS
    assert not any(scalar.name.startswith("margin_of_stability") for scalar in analysis.scalars)
    # What depends on the reference stature is named, not silently dropped.
    assert "peak_vertical_grf_n" in analysis.left_out
    assert "com_peak_horizontal_speed_m_s" in analysis.left_out
    assert any("scale-free" in note for note in analysis.notes)
    assert analysis.movement.family == LIBRARY.get(clip_id).movement


def test_a_side_on_sprint_gets_sprint_metrics_and_events() -> None:
    analysis = analyse_clip(LIBRARY, "bolt-force-motion", draws=4)
    names = {scalar.name for scalar in analysis.scalars}
    assert {"step_frequency_hz", "ground_contact_time_s", "left_knee_flexion_range_deg"} <= names
    assert {event.foot for event in analysis.events} == {"left", "right"}


def test_cli_show_with_analysis() -> None:
    result = CliRunner().invoke(app, ["athletes", "show", "koroibete", "--analysis"])
    assert result.exit_code == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["id"] == "koroibete"
    assert shown["analysis"]["clip_id"] == "koroibete"


def test_unknown_clip() -> None:
    with pytest.raises(NotFoundError, match="valid ids"):
        analyse_clip(LIBRARY, "bolt", draws=2)
