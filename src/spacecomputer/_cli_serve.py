"""``spacecomputer serve``: run the platform (REST API, docs, health and metrics, jobs) with uvicorn.

In development it first makes sure a demo account exists and prints its login: the e-mail
:data:`DEMO_EMAIL` and the password in ``SPACECOMPUTER_DEMO_PASSWORD``, or a new random one generated (and set) at
every start, printed once. It then gives that account the bundled sample video and its analysis, once
(:func:`seed_demo_library`): ``--seed-run DIR`` imports a run folder of ``spacecomputer analyze`` made from the
sample (what ``make run`` does, so the sample is not analysed twice); without it an analysis job is queued, which
the platform's runner completes in the background (about 30 s). Outside development no account is touched.

Ctrl-C (or SIGTERM) stops the server cleanly: running jobs get ``job_stop_grace_s`` to finish, then go back to the
queue and resume at the next start.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
import typer
import uvicorn
from pydantic import ValidationError
from rich.console import Console

from spacecomputer.api import create_app
from spacecomputer.api._accounts import create_user, set_password
from spacecomputer.api._analyses import SeedOutcome, seed_sample
from spacecomputer.api._platform import athlete_library, open_platform
from spacecomputer.api.security import password_policy_problems
from spacecomputer.config import Settings, get_settings
from spacecomputer.errors import NotFoundError, SpaceComputerError
from spacecomputer.storage import User

__all__ = [
    "DEMO_EMAIL",
    "DEMO_PASSWORD_ENV",
    "SAMPLE_OPTIONS",
    "SAMPLE_VIDEO",
    "ensure_demo_user",
    "seed_demo_library",
    "serve",
]

DEMO_EMAIL = "demo@spacecomputer.local"
"""The demo account of a development platform."""
DEMO_PASSWORD_ENV = "SPACECOMPUTER_DEMO_PASSWORD"
"""Environment variable fixing the demo password (otherwise a new one is generated at each start)."""
SAMPLE_VIDEO = Path(__file__).resolve().parents[2] / "data" / "videos" / "sports2d-demo.mp4"
"""The bundled sample video of this checkout."""
SAMPLE_OPTIONS = {"height_m": 1.65}
"""Options of the sample's analysis job: the subject's stature (``data/README.md``: about 1.65 m)."""


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


async def seed_demo_library(
    settings: Settings, *, seed_run: Path | None = None, sample_video: Path = SAMPLE_VIDEO
) -> SeedOutcome:
    """Give the demo account the sample video and its analysis, once (module docstring).

    Parameters
    ----------
    settings
        The platform's settings.
    seed_run
        A run folder of ``spacecomputer analyze`` made from ``sample_video``, imported as the analysis; ``None``
        queues an analysis job (:data:`SAMPLE_OPTIONS`) instead.
    sample_video
        The video to import.

    Raises
    ------
    NotFoundError
        There is no demo account (:func:`ensure_demo_user` first), or ``seed_run`` is not a run folder.
    InvalidVideoError
        ``sample_video`` is missing or not a video.

    """
    async with open_platform(settings) as platform:
        async with platform.database.session() as session:
            user_id = await session.scalar(sa.select(User.id).where(User.email == DEMO_EMAIL))
        if user_id is None:
            raise NotFoundError(f"there is no demo account {DEMO_EMAIL} to seed")
        return await seed_sample(
            platform, user_id, sample_video=sample_video, options=SAMPLE_OPTIONS, seed_run=seed_run
        )


async def _prepare_demo(settings: Settings, seed_run: Path | None) -> tuple[str, SeedOutcome | None]:
    password = await ensure_demo_user(settings)
    if not SAMPLE_VIDEO.is_file():  # an installed package without the checkout's data folder
        return password, None
    return password, await seed_demo_library(settings, seed_run=seed_run)


def _seed_line(outcome: SeedOutcome | None, seed_run: Path | None) -> str:
    if outcome is None:
        return f"sample analysis: not loaded ({SAMPLE_VIDEO} is missing)"
    if outcome.action == "imported":
        return f"sample analysis: imported from {seed_run} (analysis {outcome.analysis_id})"
    if outcome.action == "queued":
        return f"sample analysis: queued (analysis {outcome.analysis_id}); it completes in about 30 s"
    return f"sample analysis: in the demo library (analysis {outcome.analysis_id})"


def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on (0.0.0.0 for every one).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 8000,
    seed_run: Annotated[
        Path | None,
        typer.Option(
            "--seed-run",
            exists=True,
            file_okay=False,
            help="Development: import this run of the sample video as the demo's analysis instead of analysing it.",
        ),
    ] = None,
) -> None:
    """Run the platform: REST API at /api/v1, docs at /docs, /health, /ready and /metrics; jobs in the background."""
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
            password, outcome = asyncio.run(_prepare_demo(settings, seed_run))
        except SpaceComputerError as error:
            console.print(f"[red]cannot prepare the demo account:[/red] {error}")
            raise typer.Exit(code=1) from None
        except KeyboardInterrupt:
            raise typer.Exit(code=130) from None
        library = athlete_library(settings)
        Console().print(
            f"Space Computer at {base_url} (docs: {base_url}/docs)\n"
            f"demo login: {DEMO_EMAIL} / {password}\n{_seed_line(outcome, seed_run)}\n"
            f"elite library: {len(library.ids())} reference clips ({len(library.usable_ids())} usable)",
            soft_wrap=True,
            markup=False,
            highlight=False,
        )
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        access_log=False,  # the app writes its own JSON access log, with request ids
        proxy_headers=True,
        server_header=False,
        log_level="info",
    )
