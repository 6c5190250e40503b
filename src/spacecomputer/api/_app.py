"""The application factory: :func:`create_app` wires settings, back ends, middleware, error handlers and routers.

Routers plug in by name: each module of :mod:`spacecomputer.api.routes` exports ``router`` (an ``APIRouter`` whose
prefix starts with :data:`API_PREFIX`, so that its routes' paths — the metrics' route labels — are the full
templates), and :data:`API_ROUTERS` lists them (a new resource — videos, analyses — adds its module there). Each
router gets ``settings.max_request_body_bytes`` as its body limit unless it declares its own (upload routes do), and
each REST route documents the error answers every route can give (``_errors.EVERY_ROUTE``) besides its own.

The back ends open in the app's lifespan (:func:`~spacecomputer.api._platform.open_platform`), then the job service
(:func:`~spacecomputer.api._jobs.run_jobs`: the runner and its executor, when this API runs jobs), so building an
app is cheap and does no I/O; run it with uvicorn, or in tests with ``app.router.lifespan_context``. Shutdown goes in
reverse: the runner hands unfinished jobs back to the queue before the database closes. With ``otlp_endpoint`` set,
the lifespan first starts exporting traces (:class:`~spacecomputer.api._tracing.Tracing`) and flushes them last.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from types import ModuleType

from fastapi import APIRouter, FastAPI
from starlette.middleware.cors import CORSMiddleware

from spacecomputer import __version__
from spacecomputer.api._deps import API_PREFIX
from spacecomputer.api._errors import EVERY_ROUTE, error_responses, install_error_handlers
from spacecomputer.api._jobs import run_jobs
from spacecomputer.api._metrics import HttpMetrics
from spacecomputer.api._middleware import RateLimitMiddleware, RequestContextMiddleware
from spacecomputer.api._platform import open_platform
from spacecomputer.api._platform_metrics import PlatformMetrics
from spacecomputer.api._tracing import Tracing, telemetry_config
from spacecomputer.api.routes import admin, ai, analyses, api_keys, athletes, auth, health, poses, users, videos
from spacecomputer.config import Settings, get_settings
from spacecomputer.jobs import Executor

__all__ = ["API_PREFIX", "API_ROUTERS", "DOCS_PATHS", "create_app"]

API_ROUTERS: tuple[ModuleType, ...] = (users, auth, api_keys, admin, videos, analyses, athletes, poses, ai, health)
"""Route modules included, in this order (first match wins)."""
DOCS_PATHS = ("/docs", "/docs/oauth2-redirect")
"""The Swagger UI's paths (their Content-Security-Policy lets the page load its script)."""
_EXPOSED_HEADERS = [
    "X-Request-ID",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "Retry-After",
    "WWW-Authenticate",
    "Content-Range",
    "Accept-Ranges",
    "ETag",
    "Location",
    "Content-Disposition",
]


def _router(module: ModuleType) -> APIRouter:
    router = getattr(module, "router", None)
    if not isinstance(router, APIRouter):
        raise TypeError(f"route module {module.__name__} must export `router`, an APIRouter")
    return router


def create_app(settings: Settings | None = None, *, executor: Executor | None = None) -> FastAPI:
    """Return the platform's FastAPI app for ``settings`` (default: the process's, from the environment).

    Nothing is opened here; the app's lifespan opens the database (migrated to the newest schema), blob store,
    cache, rate limiters and token service into ``app.state.platform``, starts the job service into
    ``app.state.jobs``, and stops and closes them at shutdown.

    ``executor``: run jobs on this executor, which stays the caller's (several apps may share one warm pool);
    default: the one the settings name, owned by the app.

    Routes: ``/api/v1/…`` (REST), ``/docs`` (Swagger UI) and ``/api/v1/openapi.json``, ``/health``, ``/ready``,
    ``/metrics``.
    """
    settings = settings if settings is not None else get_settings()
    metrics = HttpMetrics()
    platform_metrics = PlatformMetrics(metrics.registry)
    tracing = Tracing.from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            if tracing is not None:
                await stack.enter_async_context(tracing.exporting())
            platform = await stack.enter_async_context(
                open_platform(settings, tracer=tracing.tracer if tracing is not None else None)
            )
            jobs = await stack.enter_async_context(run_jobs(platform, platform_metrics, executor=executor))
            app.state.platform = platform
            app.state.jobs = jobs
            try:
                yield
            finally:
                if getattr(app.state, "ai", None) is not None:  # the brain, opened by the first question
                    app.state.ai.close()
                    app.state.ai = None
                del app.state.platform, app.state.jobs

    app = FastAPI(
        title="Space Computer",
        summary="Sports video to metric 3D pose and biomechanics: the platform's REST API.",
        version=__version__,
        lifespan=lifespan,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=DOCS_PATHS[0],
        swagger_ui_oauth2_redirect_url=DOCS_PATHS[1],
        redoc_url=None,
        telemetry=telemetry_config(tracing, untraced_paths=health.HEALTH_PATHS),
        # Automatic form parsing (login): a few small fields, no files (our own bounds; uploads stream their bodies).
        form_limits={"max_fields": 20, "max_files": 0, "max_part_size": 64 * 1024},
    )
    app.state.metrics = metrics
    app.state.platform_metrics = platform_metrics
    install_error_handlers(app)
    for module in API_ROUTERS:
        router = _router(module)
        # The limit is given per router, not to FastAPI(): the app-wide one answers outside our middleware.
        app.include_router(
            router,
            max_body_size=settings.max_request_body_bytes,
            responses=error_responses(*EVERY_ROUTE) if router.prefix.startswith(API_PREFIX) else None,
        )
    # add_middleware wraps what is there: the last added is the outermost.
    app.add_middleware(RateLimitMiddleware, exempt_paths=health.HEALTH_PATHS)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(settings.cors_origins),
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"],
        allow_headers=[
            "Authorization",
            "Content-Type",
            "X-API-Key",
            "X-Request-ID",
            "Range",
            "If-Range",
            "Upload-Offset",
            "Content-SHA256",
            "X-Chunk-SHA256",
        ],
        expose_headers=_EXPOSED_HEADERS,
        allow_credentials=False,
        max_age=600,
    )
    app.add_middleware(
        RequestContextMiddleware,
        metrics=metrics,
        hsts=settings.public_base_url.startswith("https://"),
        docs_paths=DOCS_PATHS,
        traced=tracing is not None,
    )
    return app
