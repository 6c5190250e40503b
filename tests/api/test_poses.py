"""``/poses/sessions`` through the real app on both back-end sets, on a real run imported as a succeeded analysis.

The run is the short clip (a jump) analysed once per session (``tiny_run``); frame 36 has both feet on the ground
and the run's own ground reaction estimate. What the API answers is checked against the pose lab used directly
(``PoseSession.from_run`` on the same run): the session stored in the cache and rebuilt on each request must behave
exactly like one long-lived session.
"""

from __future__ import annotations

import dataclasses
import shutil
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from spacecomputer.api._poses import PoseLab
from spacecomputer.api._poses_store import PoseSessionStore
from spacecomputer.biomech.solver import DRAGGABLE_JOINTS, JOINT_NAMES, SETTABLE_ANGLES, PoseSession
from spacecomputer.domain import PoseSequence
from tests.api.conftest import Account, Api, api_settings
from tests.api.test_analyses import imported, running_app, short_clip, store_video, tiny_run

__all__ = ["short_clip", "tiny_run"]  # the session fixtures of test_analyses, used here

pytestmark = pytest.mark.anyio
SESSIONS = "/api/v1/poses/sessions"
FRAME = 36


async def opened(api: Api, account: Account, analysis_id: uuid.UUID, frame: int = FRAME) -> dict[str, Any]:
    answer = await api.client.post(
        SESSIONS, json={"analysis_id": str(analysis_id), "frame": frame}, headers=account.headers
    )
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


def centres(points: dict[str, Any]) -> np.ndarray:
    return np.array([points[name] for name in JOINT_NAMES], dtype=np.float64)


async def test_the_pose_lab_over_http_matches_one_long_lived_session(backends: dict[str, Any], tiny_run: Path) -> None:
    local = PoseSession.from_run(tiny_run, FRAME)
    async with running_app(api_settings(backends)) as api:
        account = await api.new_user()
        analysis_id = await imported(api, account, tiny_run)
        created = await opened(api, account, analysis_id)
        url = f"{SESSIONS}/{created['id']}"
        headers = account.headers
        assert (created["frame"], created["analysis_id"]) == (FRAME, str(analysis_id))
        np.testing.assert_allclose(centres(created["joint_centres_m"]), centres(local.pose), atol=1e-12)
        assert created["angles_deg"]["left_knee_flexion"] == pytest.approx(local.angles["left_knee_flexion"])
        # Which feet touch at this frame depends on the run (BlazePose is not bit-identical across processes).
        assert created["balance"]["feet_in_contact"] == list(local.balance.feet_in_contact)
        assert created["balance"]["feet_in_contact"]
        assert created["ground_reaction"]["source"] == "run"
        assert len(created["limits"]["ranges"]) == 30
        assert created["limits"]["ranges"]["left_knee_flexion"] == {"lower": 0.0, "upper": 155.0, "source": "model"}
        assert created["history"] == {"steps": 1, "cursor": 0, "can_undo": False, "can_redo": False}

        # A drag and its reverse restore the pose: each drag anchors on the frame's own pose, across requests too.
        hand = np.array(created["joint_centres_m"]["left_hand"])
        for target in (hand + np.array([0.05, 0.05, 0.05]), hand):
            moved = await api.client.post(
                f"{url}/manipulate", json={"drag": {"left_hand": target.tolist()}}, headers=headers
            )
            assert moved.status_code == 200, moved.text
            assert moved.json()["reached"] == local.manipulate("left_hand", target).reached
        assert moved.json()["reached"] is True
        np.testing.assert_allclose(
            centres(moved.json()["joint_centres_m"]), centres(created["joint_centres_m"]), atol=1e-9
        )

        bent = await api.client.post(f"{url}/manipulate", json={"set": {"left_knee_flexion": 60}}, headers=headers)
        assert bent.status_code == 200, bent.text
        expected = local.manipulate("left_knee_flexion", 60.0)
        assert bent.json()["reached"] is True
        assert bent.json()["angle_shortfall_deg"] == pytest.approx(0.0, abs=1e-9)
        changed = {c["name"]: c for c in bent.json()["angle_changes"]}
        assert changed["left_knee_flexion"]["after_deg"] == pytest.approx(60.0)
        assert [m["joint"] for m in bent.json()["moment_changes"]] == [m.joint for m in expected.moment_changes]
        reading = (await api.client.get(url, headers=headers)).json()
        assert reading["angles_deg"]["left_knee_flexion"] == pytest.approx(60.0)
        assert reading["ground_reaction"]["source"] == "static"  # the run's estimate is for the frame's own pose

        wrist, elbow = np.array(local.pose["left_wrist"]), np.array(local.pose["left_elbow"])
        target = (wrist + 0.3 * (elbow - wrist) + [0.0, 0.0, 0.02]).tolist()
        dragged = await api.client.post(f"{url}/manipulate", json={"drag": {"left_wrist": target}}, headers=headers)
        assert dragged.status_code == 200, dragged.text
        expected = local.manipulate("left_wrist", target)
        assert dragged.json()["reached"] == expected.reached
        assert dragged.json()["miss_distance_m"] == pytest.approx(expected.miss_distance_m, abs=1e-12)
        np.testing.assert_allclose(centres(dragged.json()["joint_centres_m"]), centres(expected.pose), atol=1e-12)
        assert dragged.json()["history"] == {"steps": 5, "cursor": 4, "can_undo": True, "can_redo": False}

        undone = (await api.client.post(f"{url}/undo", headers=headers)).json()
        local.undo()
        np.testing.assert_allclose(centres(undone["joint_centres_m"]), centres(local.pose), atol=1e-12)
        redone = (await api.client.post(f"{url}/redo", headers=headers)).json()
        assert redone["history"]["cursor"] == 4
        local.redo()
        saved = await api.client.post(f"{url}/saved", json={"label": " dragged "}, headers=headers)
        assert (saved.status_code, saved.json()["label"]) == (201, "dragged")
        local.save("dragged")
        for _ in range(2):
            assert (await api.client.post(f"{url}/undo", headers=headers)).status_code == 200
            local.undo()
        await api.client.post(f"{url}/saved", json={"label": "frame"}, headers=headers)
        local.save("frame")
        listed = (await api.client.get(f"{url}/saved", headers=headers)).json()["items"]
        assert [item["label"] for item in listed] == ["dragged", "frame"]
        compared = await api.client.get(f"{url}/compare", params={"a": "frame", "b": "dragged"}, headers=headers)
        assert compared.status_code == 200, compared.text
        expected_comparison = local.compare("frame", "dragged")
        names = [c["name"] for c in compared.json()["angle_changes"]]
        assert names == [c.name for c in expected_comparison.angle_changes]
        assert "left_knee_flexion" in names
        np.testing.assert_allclose(compared.json()["com_shift_m"], expected_comparison.com_shift_m, atol=1e-12)

        optimised = await api.client.post(
            f"{url}/optimise", json={"objective": "joint_stress", "apply": True}, headers=headers
        )
        assert optimised.status_code == 200, optimised.text
        result = optimised.json()
        assert (result["infeasible"], result["applied"], result["validity"]["passed"]) == (False, True, True)
        assert result["objective_after"] < result["objective_before"]
        assert len(result["frames"]) == 1
        after = (await api.client.get(url, headers=headers)).json()
        assert after["history"] == {"steps": 4, "cursor": 3, "can_undo": True, "can_redo": False}  # redo cleared
        np.testing.assert_allclose(
            centres(after["joint_centres_m"]), centres(result["frames"][0]["joint_centres_m"]), atol=1e-12
        )

        simulated = await api.client.post(
            f"{url}/simulate", json={"duration_s": 0.5, "controller": "passive"}, headers=headers
        )
        assert simulated.status_code == 200, simulated.text
        posture = simulated.json()
        assert posture["held"] is False  # no joint torque: a standing body folds
        assert posture["first_touch"] is not None or posture["com_drop_m"] > 0.05
        assert posture["duration_s"] == pytest.approx(0.5, abs=0.002)
        assert len(posture["com_track_times_s"]) == len(posture["com_track_m"]) <= 100

        assert (await api.client.delete(url, headers=headers)).status_code == 204
        assert (await api.client.get(url, headers=headers)).status_code == 404
        assert (await api.client.delete(url, headers=headers)).status_code == 404


async def test_a_phase_is_optimised_within_the_solvers_limit(backends: dict[str, Any], tiny_run: Path) -> None:
    async with running_app(api_settings(backends)) as api:
        account = await api.new_user()
        url = f"{SESSIONS}/{(await opened(api, account, await imported(api, account, tiny_run)))['id']}"
        phase = await api.client.post(
            f"{url}/optimise", json={"objective": "joint_stress", "phase": {"frames": 3}}, headers=account.headers
        )
        assert phase.status_code == 200, phase.text
        assert len(phase.json()["frames"]) == 3
        assert phase.json()["smoothness_after"] is not None
        assert phase.json()["applied"] is False

        async def refused(body: dict[str, Any]) -> dict[str, Any]:
            answer = await api.client.post(f"{url}/optimise", json=body, headers=account.headers)
            assert answer.status_code == 422, answer.text
            error: dict[str, Any] = answer.json()["error"]
            return error

        assert (
            "less than or equal to 15"
            in (await refused({"objective": "joint_stress", "phase": {"frames": 16}}))["message"]
        )
        past_the_end = await refused({"objective": "joint_stress", "phase": {"frames": 5}})  # frames 36–40 of 0–39
        assert past_the_end["details"] == {"frames": 5, "available": 4}
        both = await refused({"objective": "joint_stress", "phase": {"frames": 3}, "apply": True})
        assert "cannot be applied" in both["message"]


async def test_sessions_are_their_owners_and_need_the_permission(backends: dict[str, Any], tiny_run: Path) -> None:
    async with running_app(api_settings(backends)) as api:
        owner, other = await api.new_user(), await api.new_user()
        analysis_id = await imported(api, owner, tiny_run)
        url = f"{SESSIONS}/{(await opened(api, owner, analysis_id))['id']}"
        theirs = other.headers
        assert (await api.client.get(url, headers=theirs)).status_code == 404
        assert (await api.client.get(f"{SESSIONS}/{uuid.uuid4()}", headers=owner.headers)).status_code == 404
        for path, body in (
            ("manipulate", {"set": {"left_knee_flexion": 30}}),
            ("undo", None),
            ("saved", {"label": "mine"}),
            ("optimise", {"objective": "joint_stress"}),
            ("simulate", {}),
        ):
            assert (await api.client.post(f"{url}/{path}", json=body, headers=theirs)).status_code == 404, path
        assert (await api.client.delete(url, headers=theirs)).status_code == 404
        assert (await api.client.get(url, headers=owner.headers)).json()["history"]["steps"] == 1  # untouched
        not_theirs = {"analysis_id": str(analysis_id), "frame": FRAME}
        assert (await api.client.post(SESSIONS, json=not_theirs, headers=theirs)).status_code == 404
        assert (await api.client.get(url)).status_code == 401
        key = await api.client.post(
            "/api/v1/users/me/api-keys", json={"name": "uploads", "scopes": ["video.upload"]}, headers=owner.headers
        )
        assert key.status_code == 201, key.text
        assert (await api.client.get(url, headers={"X-API-Key": key.json()["key"]})).status_code == 403


async def test_bad_input_is_refused_with_what_was_expected(backends: dict[str, Any], tiny_run: Path) -> None:
    async with running_app(api_settings(backends)) as api:
        account = await api.new_user()
        analysis_id = await imported(api, account, tiny_run)
        headers = account.headers
        beyond = await api.client.post(SESSIONS, json={"analysis_id": str(analysis_id), "frame": 40}, headers=headers)
        assert beyond.status_code == 422
        assert "0 to 39" in beyond.json()["error"]["message"]
        assert beyond.json()["error"]["details"]["valid_range"] == [0, 39]
        url = f"{SESSIONS}/{(await opened(api, account, analysis_id))['id']}"

        async def refused(path: str, body: Any = None, *, raw: bytes | None = None) -> dict[str, Any]:
            if raw is not None:
                answer = await api.client.post(
                    f"{url}/{path}", content=raw, headers=headers | {"Content-Type": "application/json"}
                )
            else:
                answer = await api.client.post(f"{url}/{path}", json=body, headers=headers)
            assert answer.status_code == 422, (body, raw, answer.text)
            error: dict[str, Any] = answer.json()["error"]
            return error

        unknown = await refused("manipulate", {"set": {"left_knee_bend": 30}})
        assert unknown["details"]["valid"] == list(SETTABLE_ANGLES)
        assert "left_knee_flexion" in unknown["message"]
        assert "drag it instead" in (await refused("manipulate", {"set": {"left_wrist": 30}}))["message"]
        assert (await refused("manipulate", {"drag": {"left_pinky": [0, 0, 1]}}))["details"]["valid"] == list(
            DRAGGABLE_JOINTS
        )
        for raw in (
            b'{"set": {"left_knee_flexion": NaN}}',
            b'{"set": {"left_knee_flexion": Infinity}}',
            b'{"drag": {"left_wrist": [0.1, -Infinity, 1.0]}}',
        ):
            assert (await refused("manipulate", raw=raw))["code"] == "invalid_input"
        for body in (
            {"set": {"left_knee_flexion": "60"}},
            {"set": {"left_knee_flexion": True}},
            {"drag": {"left_wrist": [0.1, 1.0]}},
            {"set": {"left_knee_flexion": 60}, "drag": {"left_wrist": [0, 0, 1]}},
            {"set": {"left_knee_flexion": 60, "right_knee_flexion": 60}},
            {},
            {"set": {"left_knee_flexion": 60}, "owner_id": str(uuid.uuid4())},
        ):
            await refused("manipulate", body)
        objective = await refused("optimise", {"objective": "beauty"})
        assert "joint_stress" in objective["message"]
        preserve = await refused("optimise", {"objective": "joint_stress", "preserve": ["left_wing"]})
        assert "left_knee" in preserve["details"]["valid"]
        point = await refused(
            "optimise", {"objective": "joint_stress", "keep_points": [{"name": "tail", "height_m": 1}]}
        )
        assert "left_hand" in point["details"]["valid"]
        await refused("optimise", {"objective": "joint_stress", "keep_feet": ["left", "left"]})
        await refused("optimise", {"objective": "joint_stress", "balance_margin_m": "0.1"})
        await refused("simulate", {"duration_s": 3.5})
        await refused("simulate", {"controller": "ragdoll"})
        await refused("saved", {"label": "   "})
        missing = await api.client.get(f"{url}/compare", params={"a": "x", "b": "y"}, headers=headers)
        assert (missing.status_code, missing.json()["error"]["details"]["saved"]) == (404, [])
        assert (await api.client.get(url, headers=headers)).json()["history"]["steps"] == 1  # nothing was applied


async def test_a_frame_without_a_pose_names_the_frames_with_one(
    backends: dict[str, Any], tiny_run: Path, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)
    sequence = PoseSequence.from_parquet(run / "poses.parquet")
    positions = np.array(sequence.positions)
    positions[5] = np.nan
    dataclasses.replace(sequence, positions=positions).to_parquet(run / "poses.parquet")
    async with running_app(api_settings(backends)) as api:
        account = await api.new_user()
        analysis_id = await imported(api, account, run)
        answer = await api.client.post(
            SESSIONS, json={"analysis_id": str(analysis_id), "frame": 5}, headers=account.headers
        )
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["details"]["frames_with_pose"] == [[0, 4], [6, 39]]
        assert "0–4, 6–39" in answer.json()["error"]["message"]


async def test_conflicts_are_409(backends: dict[str, Any], tiny_run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with running_app(api_settings(backends)) as api:
        account = await api.new_user()
        session = await opened(api, account, await imported(api, account, tiny_run))
        url = f"{SESSIONS}/{session['id']}"
        nothing = await api.client.post(f"{url}/undo", headers=account.headers)
        assert (nothing.status_code, nothing.json()["error"]["message"]) == (
            409,
            "nothing to undo: this is the frame's own pose",
        )
        assert (await api.client.post(f"{url}/redo", headers=account.headers)).status_code == 409
        monkeypatch.setattr("spacecomputer.api._poses_store.LOCK_WAIT_S", 0.05)
        async with PoseSessionStore(api.platform.cache, account.id).locked(uuid.UUID(session["id"])):
            busy = await api.client.get(url, headers=account.headers)
        assert (busy.status_code, busy.json()["error"]["details"]["reason"]) == (409, "busy")
        assert (await api.client.get(url, headers=account.headers)).status_code == 200  # the lock went with its holder
        video_id = await store_video(api, account, (tiny_run / "overlay.mp4").read_bytes())
        queued = await api.client.post("/api/v1/analyses", json={"video_id": str(video_id)}, headers=account.headers)
        pending = await api.client.post(
            SESSIONS, json={"analysis_id": queued.json()["id"], "frame": 0}, headers=account.headers
        )
        assert (pending.status_code, pending.json()["error"]["details"]["status"]) == (409, "queued")
        assert (
            await api.client.delete(f"/api/v1/analyses/{queued.json()['id']}", headers=account.headers)
        ).status_code == 204


async def test_solver_work_is_bounded_in_time_and_in_parallel(backends: dict[str, Any], tiny_run: Path) -> None:
    async with running_app(api_settings(backends)) as api:
        account = await api.new_user()
        url = f"{SESSIONS}/{(await opened(api, account, await imported(api, account, tiny_run)))['id']}"
        lab = PoseLab(slots=1, slot_wait_s=0.05, time_limit_s=0.01)
        api.app.state.pose_lab = lab
        body = {"objective": "joint_stress", "apply": True}
        late = await api.client.post(f"{url}/optimise", json=body, headers=account.headers)
        assert (late.status_code, late.json()["error"]["details"]) == (422, {"time_limit_s": 0.01})
        busy = await api.client.post(f"{url}/optimise", json=body, headers=account.headers)  # the late one still runs
        assert (busy.status_code, busy.headers["Retry-After"]) == (503, "5")
        lab.time_limit_s = 60.0
        lab.slot_wait_s = 60.0
        finished = await api.client.post(f"{url}/optimise", json=body, headers=account.headers)
        assert finished.status_code == 200, finished.text
        assert (await api.client.get(url, headers=account.headers)).json()["history"]["steps"] == 2  # applied once


async def test_a_session_continues_on_another_instance_sharing_the_cache(
    backends: dict[str, Any], tiny_run: Path
) -> None:
    if "redis_url" not in backends:
        pytest.skip("the in-process cache is one instance's own: sessions are shared through Redis")
    settings = api_settings(backends)
    async with running_app(settings) as first, running_app(settings) as second:
        account = await first.new_user()
        url = f"{SESSIONS}/{(await opened(first, account, await imported(first, account, tiny_run)))['id']}"
        bent = await first.client.post(
            f"{url}/manipulate", json={"set": {"right_knee_flexion": 45}}, headers=account.headers
        )
        assert bent.status_code == 200, bent.text
        there = await second.client.get(url, headers=account.headers)  # its own pose lab: rebuilt from the run
        assert there.status_code == 200, there.text
        assert there.json() == (await first.client.get(url, headers=account.headers)).json()
        assert there.json()["angles_deg"]["right_knee_flexion"] == pytest.approx(45.0)
        assert (await second.client.post(f"{url}/undo", headers=account.headers)).status_code == 200
        back = (await first.client.get(url, headers=account.headers)).json()
        assert back["history"] == {"steps": 2, "cursor": 0, "can_undo": False, "can_redo": True}
