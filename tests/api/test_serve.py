"""``spacecomputer serve``: the demo account of a development platform, and the real server answering over TCP."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from spacecomputer._cli_serve import DEMO_EMAIL, ensure_demo_user
from spacecomputer.errors import InvalidInputError
from tests.api.conftest import api_settings, running_api
from tests.storage.conftest import _free_ports

SERVE_TIMEOUT_S = 30.0


@pytest.mark.anyio
async def test_the_demo_account_is_created_then_its_password_reset(backends: dict[str, Any]) -> None:
    settings = api_settings(backends)
    first = await ensure_demo_user(settings)
    second = await ensure_demo_user(settings, password="Chosen word 42")
    assert first != second
    async with running_api(settings) as api:
        refused = await api.client.post("/api/v1/users/login", data={"username": DEMO_EMAIL, "password": first})
        assert refused.status_code == 401
        tokens = await api.login(DEMO_EMAIL, "Chosen word 42")
        me = await api.client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
        assert (me.json()["email"], me.json()["role"]) == (DEMO_EMAIL, "user")
    with pytest.raises(InvalidInputError):
        await ensure_demo_user(settings, password="short")


def test_serve_prints_the_demo_login_and_answers_on_its_port(tmp_path: Path) -> None:
    port = _free_ports(1)[0]
    env = {name: value for name, value in os.environ.items() if not name.startswith("SPACECOMPUTER_")}
    env |= {
        "PYTHONUNBUFFERED": "1",
        "SPACECOMPUTER_ENVIRONMENT": "development",
        "SPACECOMPUTER_LIBRARY_DIR": str(tmp_path),
        "SPACECOMPUTER_PASSWORD_HASH_MEMORY_KIB": "1024",
        "SPACECOMPUTER_PASSWORD_HASH_TIME_COST": "1",
    }
    script = "import typer; from spacecomputer._cli_serve import serve; typer.run(serve)"
    process = subprocess.Popen(
        [sys.executable, "-c", script, "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    watchdog = threading.Timer(SERVE_TIMEOUT_S, process.kill)  # a hung server ends the reads below
    watchdog.start()
    try:
        assert process.stdout is not None
        printed = next((line for line in process.stdout if line.startswith("demo login:")), "")
        password = printed.removeprefix(f"demo login: {DEMO_EMAIL} / ").strip()
        assert password, printed
        assert " " not in password
        base_url = f"http://127.0.0.1:{port}"
        while True:
            assert process.poll() is None, "the server exited"
            try:
                if httpx.get(f"{base_url}/health", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        login = httpx.post(f"{base_url}/api/v1/users/login", data={"username": DEMO_EMAIL, "password": password})
        assert login.status_code == 200, login.text
        assert login.headers["x-request-id"]
    finally:
        process.terminate()
        output = process.communicate(timeout=SERVE_TIMEOUT_S)[0]
        watchdog.cancel()
    assert '"route": "/api/v1/users/login"' in output  # the JSON access log, with the route template
    assert (tmp_path / "platform.db").is_file()
