"""``/ai`` through the real app on both back-end sets: ask, follow up, history, cache, metrics, ownership, errors.

The run is the short clip (a jump) analysed once per session (``tiny_run``), imported as a succeeded analysis.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import api_settings
from tests.api.test_analyses import imported, metric_value, running_app, short_clip, tiny_run

__all__ = ["short_clip", "tiny_run"]  # the session fixtures of test_analyses, used here

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


def scalar(run: Path, name: str) -> dict[str, Any]:
    scalars = json.loads((run / "analysis.json").read_text())["biomechanics"]["scalars"]
    found: dict[str, Any] = next(s for s in scalars if s["name"] == name)
    return found


async def test_ask_follow_up_history_cache_and_metrics(backends: dict[str, Any], tiny_run: Path) -> None:
    async with running_app(api_settings(backends, run_jobs_in_api=False)) as api:
        account = await api.new_user()
        analysis_id = str(await imported(api, account, tiny_run))
        body = {"analysis_id": analysis_id, "question": "What was my peak left knee flexion?"}
        first = await api.client.post("/api/v1/ai/ask", json=body, headers=account.headers)
        assert first.status_code == 200, first.text
        answer = first.json()["answer"]
        assert answer["route"] == "analytics"
        assert answer["validation"]["passed"]
        assert scalar(tiny_run, "left_knee_flexion_max_deg")["display"] in answer["text"]
        assert any(c["kind"] == "analysis" for c in answer["citations"])
        conversation = first.json()["conversation_id"]

        follow = {"analysis_id": analysis_id, "question": "And the right one?", "conversation_id": conversation}
        second = await api.client.post("/api/v1/ai/ask", json=follow, headers=account.headers)
        assert second.status_code == 200, second.text
        assert any(f["key"] == "right_knee_flexion_max_deg" for f in second.json()["answer"]["facts"])

        again = await api.client.post("/api/v1/ai/ask", json=body, headers=account.headers)  # a new conversation
        assert again.json()["answer"]["text"] == answer["text"]
        assert again.json()["conversation_id"] != conversation

        listed = await api.client.get(
            "/api/v1/ai/conversations", params={"analysis_id": analysis_id}, headers=account.headers
        )
        assert len(listed.json()) == 2
        messages = (await api.client.get(f"/api/v1/ai/conversations/{conversation}", headers=account.headers)).json()
        assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]
        assert messages[1]["citations"]

        exposition = (await api.client.get("/metrics")).text
        assert metric_value(exposition, "spacecomputer_cache_requests_total", cache="ai_answer", result="hit") == 1.0
        assert metric_value(exposition, "spacecomputer_ai_answers_total", route="analytics", validated="true") == 2.0

        gone = await api.client.delete(f"/api/v1/ai/conversations/{conversation}", headers=account.headers)
        assert gone.status_code == 204
        missing = await api.client.get(f"/api/v1/ai/conversations/{conversation}", headers=account.headers)
        assert missing.status_code == 404


async def test_ownership_bad_input_refusals_and_the_admin_monitor(backends: dict[str, Any], tiny_run: Path) -> None:
    async with running_app(api_settings(backends, run_jobs_in_api=False)) as api:
        owner, other = await api.new_user(), await api.new_user()
        analysis_id = str(await imported(api, owner, tiny_run))
        question = {"analysis_id": analysis_id, "question": "How high did I jump?"}
        asked = await api.client.post("/api/v1/ai/ask", json=question, headers=owner.headers)
        conversation = asked.json()["conversation_id"]

        assert (await api.client.post("/api/v1/ai/ask", json=question)).status_code == 401
        assert (await api.client.post("/api/v1/ai/ask", json=question, headers=other.headers)).status_code == 404
        theirs = await api.client.get(f"/api/v1/ai/conversations/{conversation}", headers=other.headers)
        assert theirs.status_code == 404
        elsewhere = {**question, "analysis_id": str(uuid.uuid4()), "conversation_id": conversation}
        assert (await api.client.post("/api/v1/ai/ask", json=elsewhere, headers=owner.headers)).status_code == 404
        for bad in ({**question, "question": "   "}, {**question, "role": "admin"}, {"question": "hi"}):
            assert (await api.client.post("/api/v1/ai/ask", json=bad, headers=owner.headers)).status_code == 422

        weather = {"analysis_id": analysis_id, "question": "What's the weather in Paris tomorrow?"}
        refused = (await api.client.post("/api/v1/ai/ask", json=weather, headers=owner.headers)).json()["answer"]
        assert refused["route"] == "refusal"
        assert refused["citations"] == []

        assert (await api.client.get("/api/v1/ai/monitor", headers=owner.headers)).status_code == 403
        admin = await api.new_user(role="admin")
        monitor = await api.client.get("/api/v1/ai/monitor", headers=admin.headers)
        assert monitor.status_code == 200
        assert monitor.json()["routes"]["refusal"]["answers"] >= 1
