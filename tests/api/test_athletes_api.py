"""``/athletes`` and ``/compare`` through the real app on both back-end sets, with a real run imported.

The run is the short clip (a jump) analysed once per session (``tiny_run``); the library is the bundled one, whose
``drogba-header`` is a jump and ``bolt-force-motion`` a sprint.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from spacecomputer.athletes import AthleteLibrary, ClipAnalysis, Comparison, bundled_library_dir
from tests.api.conftest import api_settings
from tests.api.test_analyses import imported, metric_value, running_app, short_clip, store_video, tiny_run

__all__ = ["short_clip", "tiny_run"]  # the session fixtures of test_analyses, used here

pytestmark = pytest.mark.anyio
JUMP, SPRINT = "drogba-header", "bolt-force-motion"


async def test_the_library_lists_its_clips_and_names_valid_ids_for_an_unknown_one(backends: dict[str, Any]) -> None:
    library = AthleteLibrary([bundled_library_dir()])
    async with running_app(api_settings(backends, run_jobs_in_api=False)) as api:
        account = await api.new_user()
        listed = await api.client.get("/api/v1/athletes", headers=account.headers)
        assert [entry["id"] for entry in listed.json()] == library.ids()
        jumps = await api.client.get("/api/v1/athletes", params={"movement": "jump"}, headers=account.headers)
        assert [entry["id"] for entry in jumps.json()] == [e.id for e in library.entries() if e.movement == "jump"]
        entry = await api.client.get(f"/api/v1/athletes/{SPRINT}", headers=account.headers)
        assert entry.json() == library.get(SPRINT).model_dump(mode="json")
        unknown = await api.client.get("/api/v1/athletes/usain", headers=account.headers)
        assert unknown.status_code == 404
        assert unknown.json()["error"]["details"]["valid"] == library.ids()
        assert (await api.client.get("/api/v1/athletes")).status_code == 401


async def test_a_clips_scale_free_analysis_is_computed_once_then_cached(backends: dict[str, Any]) -> None:
    async with running_app(api_settings(backends, run_jobs_in_api=False)) as api:
        account = await api.new_user()
        first = await api.client.get(f"/api/v1/athletes/{JUMP}/analysis", headers=account.headers)
        analysis = ClipAnalysis.model_validate_json(first.content)
        assert analysis.clip_id == JUMP
        assert {scalar.unit for scalar in analysis.scalars} <= {"deg", "deg/s", "s", "Hz", "%"}
        second = await api.client.get(f"/api/v1/athletes/{JUMP}/analysis", headers=account.headers)
        assert second.content == first.content
        exposition = (await api.client.get("/metrics")).text
        reads = {
            result: metric_value(
                exposition, "spacecomputer_cache_requests_total", cache="athlete_analysis", result=result
            )
            for result in ("miss", "hit")
        }
        assert reads == {"miss": 1.0, "hit": 1.0}


async def test_compare_against_an_athlete_of_the_same_movement(backends: dict[str, Any], tiny_run: Path) -> None:
    async with running_app(api_settings(backends, run_jobs_in_api=False)) as api:
        account = await api.new_user()
        analysis_id = await imported(api, account, tiny_run)
        answer = await api.client.post(
            "/api/v1/compare", json={"analysis_id": str(analysis_id), "athlete_id": JUMP}, headers=account.headers
        )
        assert answer.status_code == 200, answer.text
        comparison = Comparison.model_validate(answer.json())
        assert (comparison.you.name, comparison.you.movement) == (str(analysis_id), "jump")
        assert (comparison.reference.name, comparison.reference.source) == (JUMP, "reference")
        assert 0.0 <= comparison.similarity.score <= 100.0
        assert comparison.joints


async def test_compare_refuses_another_movement_unless_forced(backends: dict[str, Any], tiny_run: Path) -> None:
    async with running_app(api_settings(backends, run_jobs_in_api=False)) as api:
        account = await api.new_user()
        analysis_id = await imported(api, account, tiny_run)
        body = {"analysis_id": str(analysis_id), "athlete_id": SPRINT}
        refused = await api.client.post("/api/v1/compare", json=body, headers=account.headers)
        assert refused.status_code == 422
        error = refused.json()["error"]
        assert error["code"] == "incompatible_motion"
        assert '"force": true' in error["message"]
        assert (error["details"]["a_movement"], error["details"]["b_movement"]) == ("jump", "sprint")
        forced = await api.client.post("/api/v1/compare", json=body | {"force": True}, headers=account.headers)
        assert forced.status_code == 200
        assert any("different movements" in warning for warning in forced.json()["warnings"])


async def test_compare_with_my_own_analysis_and_the_refusals(backends: dict[str, Any], tiny_run: Path) -> None:
    async with running_app(api_settings(backends, run_jobs_in_api=False)) as api:
        account, other = await api.new_user(), await api.new_user()
        analysis_id = await imported(api, account, tiny_run)
        itself = await api.client.post(
            "/api/v1/compare",
            json={"analysis_id": str(analysis_id), "other_analysis_id": str(analysis_id)},
            headers=account.headers,
        )
        assert itself.status_code == 200, itself.text
        assert itself.json()["similarity"]["score"] == pytest.approx(100.0)
        assert itself.json()["findings"] == []

        async def status_of(body: dict[str, Any], headers: dict[str, str] = account.headers) -> int:
            return (await api.client.post("/api/v1/compare", json=body, headers=headers)).status_code

        mine = {"analysis_id": str(analysis_id)}
        unknown = await api.client.post("/api/v1/compare", json=mine | {"athlete_id": "usain"}, headers=account.headers)
        assert (unknown.status_code, JUMP in unknown.json()["error"]["details"]["valid"]) == (404, True)
        assert await status_of(mine | {"athlete_id": JUMP}, other.headers) == 404  # not theirs
        assert await status_of(mine | {"other_analysis_id": str(uuid.uuid4())}) == 404
        assert await status_of(mine) == 422  # no reference
        assert await status_of(mine | {"athlete_id": JUMP, "other_analysis_id": str(analysis_id)}) == 422
        video_id = await store_video(api, account, (tiny_run / "overlay.mp4").read_bytes())
        queued = await api.client.post("/api/v1/analyses", json={"video_id": str(video_id)}, headers=account.headers)
        assert queued.json()["status"] == "queued"  # this app runs no jobs: it stays queued
        assert await status_of({"analysis_id": queued.json()["id"], "athlete_id": JUMP}) == 409
        removed = await api.client.delete(f"/api/v1/analyses/{queued.json()['id']}", headers=account.headers)
        assert removed.status_code == 204  # and its queued job with it: no other app's runner will find it
