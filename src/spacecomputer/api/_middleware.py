"""The API's own ASGI middleware: request context (ids, headers, errors, metrics, access log) and rate limits.

Order, outermost first (``_app.create_app``)::

    RequestContextMiddleware   request id; security headers; plain-text framework errors rewritten to the
                               JSON error shape; unexpected exceptions → 500; latency histogram; access log
    CORSMiddleware             only the configured origins (Starlette's)
    RateLimitMiddleware        per API key, user or IP by plan tier; X-RateLimit-* headers; 429 + Retry-After
    FastAPI                    routes, dependencies, the error handlers of ``_errors``

Both are plain ASGI (no ``BaseHTTPMiddleware``): responses stream through untouched, except error answers in
plain text, which are small and buffered to be rewritten.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Iterable

import structlog
from opentelemetry import trace
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from spacecomputer.api._auth import CALLER_KEY, Caller, authenticate
from spacecomputer.api._errors import (
    REQUEST_ID_KEY,
    code_for_status,
    error_response,
    record_unexpected_error,
    request_id_of,
    response_for_error,
)
from spacecomputer.api._metrics import UNMATCHED_ROUTE, HttpMetrics
from spacecomputer.api._tracing import REQUEST_ID_ATTRIBUTE
from spacecomputer.api.security import rate_limit_key
from spacecomputer.errors import AuthenticationError, SpaceComputerError

__all__ = ["API_CSP", "DOCS_CSP", "RateLimitMiddleware", "RequestContextMiddleware"]

API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
"""Content-Security-Policy of API responses: they are data, never a page that loads anything."""
DOCS_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
"""Content-Security-Policy of the Swagger UI page (``/docs``), whose script and styles come from a CDN."""
HSTS = "max-age=63072000; includeSubDomains"
"""Strict-Transport-Security on HTTPS (two years, the usual preload-list value)."""
_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
_MAX_REWRITTEN_BODY_BYTES = 64 * 1024
_access_logger = logging.getLogger("spacecomputer.api.access")
_access_log = structlog.wrap_logger(
    _access_logger,
    processors=[
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.JSONRenderer(sort_keys=True),
    ],
)


def _incoming_request_id(headers: Headers) -> str | None:
    """Return the client's ``X-Request-ID`` if it is sane (our own rule: 1–64 of ``[A-Za-z0-9._:-]``), else ``None``."""
    value = headers.get("x-request-id")
    return value if value is not None and _REQUEST_ID.fullmatch(value) else None


def _route_label(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED_ROUTE


class RequestContextMiddleware:
    """Give each request an id and each response its headers, error shape, metric and access-log line.

    Parameters
    ----------
    app
        The wrapped application.
    metrics
        Where request latencies are recorded.
    hsts
        Send ``Strict-Transport-Security`` on every response (the public URL is HTTPS), not only on HTTPS requests.
    docs_paths
        Paths answered with :data:`DOCS_CSP` instead of :data:`API_CSP`.
    traced
        Requests are traced (``_tracing``): put the request id on the request's span, and an unexpected exception.

    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: HttpMetrics,
        hsts: bool,
        docs_paths: Iterable[str] = (),
        traced: bool = False,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.hsts = hsts
        self.docs_paths = frozenset(docs_paths)
        self.traced = traced

    def _security_headers(self, scope: Scope, headers: MutableHeaders) -> None:
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "no-referrer")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        csp = DOCS_CSP if scope.get("path") in self.docs_paths else API_CSP
        headers.setdefault("Content-Security-Policy", csp)
        headers.setdefault("Cache-Control", "no-store")
        if self.hsts or scope.get("scheme") == "https":
            headers.setdefault("Strict-Transport-Security", HSTS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(Headers(scope=scope)) or str(uuid.uuid4())
        scope[REQUEST_ID_KEY] = request_id
        span = trace.get_current_span() if self.traced else trace.INVALID_SPAN  # FastAPI's span of this request
        span.set_attribute(REQUEST_ID_ATTRIBUTE, request_id)
        started_at = time.perf_counter()
        status = 500
        response_started = False
        held: Message | None = None  # a plain-text error's start message, waiting for its body to be rewritten
        held_body = bytearray()

        async def send_with_context(message: Message) -> None:
            nonlocal status, response_started, held
            if message["type"] == "http.response.start":
                response_started = True
                status = int(message["status"])
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = request_id
                self._security_headers(scope, headers)
                content_type = headers.get("content-type", "")
                if status >= 400 and not content_type.startswith("application/json"):
                    held = message
                    return
            elif message["type"] == "http.response.body" and held is not None:
                held_body.extend(message.get("body", b"")[:_MAX_REWRITTEN_BODY_BYTES])
                if message.get("more_body", False):
                    return
                start, held = held, None
                await self._send_rewritten(start, bytes(held_body), request_id, send, head=scope["method"] == "HEAD")
                return
            await send(message)

        self.metrics.requests_in_progress.inc()
        try:
            await self.app(scope, receive, send_with_context)
        except Exception as error:
            if response_started:
                raise
            span.record_exception(error)
            await record_unexpected_error(scope, error)
            response = error_response(500, "internal_error", "internal server error", request_id=request_id)
            await response(scope, receive, send_with_context)
        finally:
            self.metrics.requests_in_progress.dec()
            duration_s = time.perf_counter() - started_at
            route = _route_label(scope)
            self.metrics.observe(method=scope["method"], route=route, status=status, duration_s=duration_s)
            self._log_access(scope, request_id=request_id, route=route, status=status, duration_s=duration_s)

    @staticmethod
    async def _send_rewritten(start: Message, body: bytes, request_id: str, send: Send, *, head: bool) -> None:
        """Send a framework's plain-text error answer as the JSON error shape, keeping its status and headers.

        A ``HEAD`` answer keeps the JSON body's length in ``Content-Length`` but sends no body.
        """
        status = int(start["status"])
        text = body.decode("utf-8", errors="replace").strip()
        payload = {
            "error": {
                "code": code_for_status(status),
                "message": text[:500] or "error",
                "details": {},
                "request_id": request_id,
            }
        }
        encoded = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        headers = MutableHeaders(scope=start)
        headers["content-type"] = "application/json"
        headers["content-length"] = str(len(encoded))
        await send(start)
        await send({"type": "http.response.body", "body": b"" if head else encoded, "more_body": False})

    @staticmethod
    def _log_access(scope: Scope, *, request_id: str, route: str, status: int, duration_s: float) -> None:
        if not _access_logger.isEnabledFor(logging.INFO):  # structlog would render the line before the level check
            return
        caller = scope.get(CALLER_KEY)
        client = scope.get("client")
        _access_log.info(
            "request",
            request_id=request_id,
            method=scope["method"],
            path=scope.get("path", ""),
            route=route,
            status=status,
            duration_ms=round(duration_s * 1000.0, 2),
            client_ip=client[0] if client else None,
            user_id=str(caller.principal.user_id) if isinstance(caller, Caller) else None,
            via=caller.principal.via if isinstance(caller, Caller) else None,
        )


def _tier_of(caller: Caller, tiers: tuple[str, ...]) -> str:
    return caller.plan if caller.plan in tiers else "free"


class RateLimitMiddleware:
    """Count each request against its caller's plan tier; answer 429 with ``Retry-After`` beyond it.

    An API-key request counts against the key, a token request against the user, anything else — no credential, or
    one that is refused (the route will answer 401) — against the client IP under the ``anonymous`` tier. A user
    whose plan names no configured tier counts under ``free``.

    Parameters
    ----------
    app
        The wrapped application.
    exempt_paths
        Paths never counted (health checks and the metrics scrape).

    """

    def __init__(self, app: ASGIApp, *, exempt_paths: Iterable[str] = ()) -> None:
        self.app = app
        self.exempt_paths = frozenset(exempt_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in self.exempt_paths:
            await self.app(scope, receive, send)
            return
        platform = scope["app"].state.platform
        try:
            caller = await authenticate(platform, scope)
        except AuthenticationError:
            caller = None
        except SpaceComputerError as error:  # the credential could not be checked: the database is down
            await response_for_error(error, request_id=request_id_of(scope))(scope, receive, send)
            return
        client = scope.get("client")
        key = rate_limit_key(caller.principal if caller else None, client[0] if client else "unknown")
        tier = "anonymous" if caller is None else _tier_of(caller, platform.rate_limiter.tiers)
        result = await platform.rate_limiter.hit(key, tier)
        limit_headers = result.headers()
        try:
            result.raise_if_refused()
        except SpaceComputerError as error:
            await response_for_error(error, request_id=request_id_of(scope), headers=limit_headers)(
                scope, receive, send
            )
            return

        async def send_with_limits(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).update(limit_headers)
            await send(message)

        await self.app(scope, receive, send_with_limits)
