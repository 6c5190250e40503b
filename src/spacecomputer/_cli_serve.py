"""``spacecomputer serve``: run the platform (REST API, docs, health and metrics) with uvicorn.

In development it first makes sure a demo account exists and prints its login: the e-mail
:data:`DEMO_EMAIL` and the password in ``SPACECOMPUTER_DEMO_PASSWORD``, or a new random one generated (and set) at
every start, printed once. Outside development no account is touched.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
from typing import Annotated

import sqlalchemy as sa
import typer
import uvicorn
from pydantic import ValidationError
from rich.console import Console

from spacecomputer.api import create_app
from spacecomputer.api._accounts import create_user, set_password
from spacecomputer.api._platform import open_platform
from spacecomputer.api.security import password_policy_problems
from spacecomputer.config import Settings, get_settings
from spacecomputer.errors import SpaceComputerError
from spacecomputer.storage import User

__all__ = ["DEMO_EMAIL", "DEMO_PASSWORD_ENV", "ensure_demo_user", "serve"]

DEMO_EMAIL = "demo@spacecomputer.local"
"""The demo account of a development platform."""
DEMO_PASSWORD_ENV = "SPACECOMPUTER_DEMO_PASSWORD"
"""Environment variable fixing the demo password (otherwise a new one is generated at each start)."""


def _generated_password() -> str:
    while True:  # token_urlsafe almost always mixes classes; draw again in the rare case it does not
        password = secrets.token_urlsafe(12)
        if not password_policy_problems(password, email=DEMO_EMAIL):
            return password


async def ensure_demo_user(settings: Settings, *, password: str | None = None) -> str:
    """Create the demo account (role ``user``) or reset its password; return the password it now has.

    Parameters
    ----------
    settings
        The platform's settings (its database is migrated first).
    password
        The password to set; ``None`` = ``SPACECOMPUTER_DEMO_PASSWORD``, else a new random one.

    Raises
    ------
    InvalidInputError
        The given password breaks the password policy.

    """
    chosen = password or os.environ.get(DEMO_PASSWORD_ENV) or _generated_password()
    async with open_platform(settings) as platform, platform.database.session() as session:
        user = await session.scalar(sa.select(User).where(User.email == DEMO_EMAIL))
        if user is None:
            await create_user(platform, session, email=DEMO_EMAIL, password=chosen)
        else:
            await set_password(platform, session, user, chosen)
    return chosen


def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on (0.0.0.0 for every one).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 8000,
) -> None:
    """Run the platform: REST API at /api/v1, docs at /docs, /health, /ready and /metrics."""
    console = Console(stderr=True)
    try:
        settings = get_settings()
    except ValidationError as error:
        console.print(f"[red]invalid settings:[/red] {error}")
        raise typer.Exit(code=1) from None
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    base_url = f"http://{host}:{port}"
    if settings.environment == "development":
        try:
            password = asyncio.run(ensure_demo_user(settings))
        except SpaceComputerError as error:
            console.print(f"[red]cannot prepare the demo account:[/red] {error}")
            raise typer.Exit(code=1) from None
        Console().print(f"Space Computer at {base_url} (docs: {base_url}/docs)\ndemo login: {DEMO_EMAIL} / {password}")
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        access_log=False,  # the app writes its own JSON access log, with request ids
        proxy_headers=True,
        server_header=False,
        log_level="info",
    )
