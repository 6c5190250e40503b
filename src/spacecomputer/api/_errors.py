"""One error shape for every response, and the one place that maps errors to HTTP statuses.

Every error answer — ours, FastAPI's validation errors, Starlette's ``HTTPException`` and the plain-text answers of
framework middleware (rewritten by the request middleware), and unexpected exceptions — has the body::

    {"error": {"code": "not_found", "message": "video 42 not found", "details": {...}, "request_id": "…"}}

Status by :class:`~spacecomputer.errors.SpaceComputerError` class (the most specific class wins)::

    AuthenticationError       401  + WWW-Authenticate: Bearer (RFC 6750 §3)
    PermissionDeniedError     403
    NotFoundError             404
    ConflictError             409
    VideoTooLargeError        413
    UnsupportedVideoError     415
    InvalidInputError         422  (and NoAthleteDetected, InsufficientData, QualityRejected: the input's content)
    RateLimitedError          429  + Retry-After (seconds)
    UpstreamUnavailableError  503  + Retry-After
    anything else             500  (message withheld; logged and kept as an ErrorEvent for administrators)

A download answers ``416`` itself for a ``Range`` that selects no byte (``_downloads``), with the same body.

The OpenAPI document names, for each route, the error answers it can give, with the body's schema
(:class:`ErrorBody`): :func:`error_responses` builds them from one table of descriptions. Every REST route answers
:data:`EVERY_ROUTE` (``_app`` adds them); each route adds its own — 401 and 403 where its dependencies authenticate
and check a permission, 404, 409, 413, 415, 416 where its handler or the services it calls raise them, 422 where it
takes a parameter or a body (FastAPI validates them), and :data:`BODY` where it parses a body. A request with
content where the route takes none (a ``GET`` with a body) is outside what a route documents: over the body limit
it is still refused with 413.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import traceback
from collections.abc import Mapping, MutableMapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from spacecomputer.api._auth import CALLER_KEY
from spacecomputer.errors import (
    AuthenticationError,
    ConflictError,
    InsufficientDataError,
    InvalidInputError,
    NoAthleteDetectedError,
    NotFoundError,
    PermissionDeniedError,
    QualityRejectedError,
    RateLimitedError,
    SpaceComputerError,
    UnsupportedVideoError,
    UpstreamUnavailableError,
    VideoTooLargeError,
)
from spacecomputer.storage import ErrorEvent

__all__ = [
    "BODY",
    "EVERY_ROUTE",
    "REQUEST_ID_KEY",
    "ErrorBody",
    "ErrorDetail",
    "error_response",
    "error_responses",
    "install_error_handlers",
    "record_unexpected_error",
    "request_id_of",
    "response_for_error",
    "status_for_error",
]

REQUEST_ID_KEY = "spacecomputer.request_id"
"""Key of the request id in the ASGI scope (set by the request middleware)."""
UPSTREAM_RETRY_AFTER_S = 5
"""``Retry-After`` of a 503, seconds (our own choice: long enough for a restart or a failover to show)."""
_INVALID_TOKEN = 'Bearer error="invalid_token"'
_HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_ERROR_EVENT_TIMEOUT_S = 2.0
_MAX_TRACEBACK_CHARS = 8000
_log = logging.getLogger(__name__)

_STATUS_BY_ERROR: Mapping[type[SpaceComputerError], int] = {
    AuthenticationError: 401,
    PermissionDeniedError: 403,
    NotFoundError: 404,
    ConflictError: 409,
    VideoTooLargeError: 413,
    UnsupportedVideoError: 415,
    InvalidInputError: 422,
    NoAthleteDetectedError: 422,
    InsufficientDataError: 422,
    QualityRejectedError: 422,
    RateLimitedError: 429,
    UpstreamUnavailableError: 503,
}
_CODE_BY_STATUS: Mapping[int, str] = {
    400: "bad_request",
    401: AuthenticationError.code,
    403: PermissionDeniedError.code,
    404: NotFoundError.code,
    405: "method_not_allowed",
    409: ConflictError.code,
    413: "request_too_large",
    415: "unsupported_media_type",
    422: InvalidInputError.code,
    429: RateLimitedError.code,
    503: UpstreamUnavailableError.code,
}


class ErrorDetail(BaseModel):
    """What went wrong: a stable machine-readable ``code``, a message for people, structured ``details``."""

    code: str
    message: str
    details: dict[str, Any] = Field(description="Structured facts about the error (the fields it names, limits).")
    request_id: str = Field(description="The request's id, as in its X-Request-ID header.")


class ErrorBody(BaseModel):
    """The body of every error answer."""

    error: ErrorDetail


def _header(description: str, pattern: str) -> dict[str, Any]:
    return {"description": description, "required": True, "schema": {"type": "string", "pattern": pattern}}


_SECONDS = r"^[0-9]+$"
_ERROR_ANSWERS: Mapping[int, tuple[str, dict[str, Any]]] = {
    400: ("The body could not be parsed (not UTF-8, or a malformed form).", {}),
    401: (
        "No credential, or one refused: a wrong password, an expired, revoked or unknown token or key.",
        {"WWW-Authenticate": _header('`Bearer`, or `Bearer error="invalid_token"` (RFC 6750 §3).', "^Bearer")},
    ),
    403: ("The caller lacks the permission, or used an API key where a signed-in session is needed.", {}),
    404: ("No such resource, or another user's.", {}),
    409: ("The resource is not in a state that allows this.", {}),
    413: ("The body, an upload or a chunk is over its size limit.", {}),
    415: ("The content is not of an accepted type: not a video container we accept.", {}),
    416: (
        "The Range selects no byte of the file.",
        {"Content-Range": _header("`bytes */size`: the file's size in bytes.", r"^bytes \*/[0-9]+$")},
    ),
    422: ("The request's parameters or body are invalid.", {}),
    429: ("Rate limit exceeded.", {"Retry-After": _header("Seconds to wait.", _SECONDS)}),
    500: ("Unexpected server error (the message is withheld; administrators see it).", {}),
    503: (
        "A back end (database, blob store, cache, language model) does not answer, or the pose lab is busy.",
        {"Retry-After": _header("Seconds to wait.", _SECONDS)},
    ),
}
EVERY_ROUTE = (429, 500, 503)
"""What every REST route can answer: the rate limit, an unexpected error, and the database failing to check the
credential a request carries (the rate limiter does that before any route runs)."""
BODY = (400, 413, 422)
"""What a route that parses a JSON or form body adds: unparsable, over the body limit, invalid."""


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Return the OpenAPI ``responses`` of the error answers ``statuses``: the error body, what it means, headers.

    Raises
    ------
    ValueError
        A status that is not one of our error answers (the known ones are named).

    Examples
    --------
    >>> documented = error_responses(404, 429)
    >>> sorted(documented), documented[404]["description"], sorted(documented[429]["headers"])
    ([404, 429], "No such resource, or another user's.", ['Retry-After'])

    """
    unknown = sorted(set(statuses) - set(_ERROR_ANSWERS))
    if unknown:
        raise ValueError(f"no error answer {unknown} is described; expected some of {sorted(_ERROR_ANSWERS)}")
    responses: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        description, headers = _ERROR_ANSWERS[status]
        answer: dict[str, Any] = {"model": ErrorBody, "description": description}
        if headers:
            answer["headers"] = copy.deepcopy(headers)
        responses[status] = answer
    return responses


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "error"


def request_id_of(scope: MutableMapping[str, Any]) -> str:
    """Return the request id the middleware gave this request (``""`` outside one)."""
    return str(scope.get(REQUEST_ID_KEY, ""))


def status_for_error(error: SpaceComputerError) -> int:
    """Return the HTTP status of ``error`` (module docstring); 500 for a class the table does not name."""
    for cls in type(error).__mro__:
        status = _STATUS_BY_ERROR.get(cls)
        if status is not None:
            return status
    return 500


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    request_id: str,
    details: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """Return a JSON response with the error body (module docstring)."""
    body = {"error": {"code": code, "message": message, "details": dict(details or {}), "request_id": request_id}}
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))


def code_for_status(status: int) -> str:
    """Return the error code of an HTTP error status that carries no error of ours."""
    return _CODE_BY_STATUS.get(status, "internal_error" if status >= 500 else "http_error")


def response_for_error(
    error: SpaceComputerError, *, request_id: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """Return the response for ``error``: its status, code, message and details, and the headers its status needs."""
    status = status_for_error(error)
    extra = dict(headers or {})
    if status == 401:
        reason = error.details.get("reason")
        extra.setdefault("WWW-Authenticate", "Bearer" if reason == "missing_credentials" else _INVALID_TOKEN)
    elif status == 429:
        extra.setdefault("Retry-After", str(int(error.details.get("retry_after_s", 1))))
    elif status == 503:
        extra.setdefault("Retry-After", str(UPSTREAM_RETRY_AFTER_S))
    if status == 500:
        return error_response(500, "internal_error", "internal server error", request_id=request_id, headers=extra)
    return error_response(
        status, error.code, error.message, request_id=request_id, details=error.details, headers=extra
    )


async def _spacecomputer_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, SpaceComputerError)  # registered for this class only
    if status_for_error(error) == 500:
        await record_unexpected_error(request.scope, error)
    return response_for_error(error, request_id=request_id_of(request.scope))


async def _validation_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)  # registered for this class only
    # Only where, what and why: the rejected input itself is never echoed (it may be a password).
    problems = [
        {
            "loc": [str(part) for part in problem.get("loc", ())],
            "message": problem.get("msg", ""),
            "type": problem["type"],
        }
        for problem in error.errors()
    ]
    first = problems[0] if problems else {"loc": [], "message": "invalid request"}
    where = ".".join(first["loc"]) or "request"
    return error_response(
        422,
        InvalidInputError.code,
        f"{where}: {first['message']}" + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""),
        request_id=request_id_of(request.scope),
        details={"errors": problems},
    )


def _allowed_methods(request: Request) -> str:
    """Return every method some route answers at the request's path (Starlette's 405 names only the first route's)."""
    allowed = [
        method
        for method in _HTTP_METHODS
        if any(route.matches({**request.scope, "method": method})[0] == Match.FULL for route in request.app.routes)
    ]
    return ", ".join(allowed)


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)  # registered for this class only
    status = error.status_code
    message = error.detail if isinstance(error.detail, str) else _phrase(status)
    headers = dict(error.headers or {})
    if status == 401:
        headers.setdefault("WWW-Authenticate", "Bearer")
    elif status == 405:
        headers["Allow"] = _allowed_methods(request) or headers.get("Allow", "")
    return error_response(
        status, code_for_status(status), message, request_id=request_id_of(request.scope), headers=headers
    )


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers of our errors, FastAPI's validation errors and Starlette's ``HTTPException``."""
    app.add_exception_handler(SpaceComputerError, _spacecomputer_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)


async def record_unexpected_error(scope: MutableMapping[str, Any], error: BaseException) -> None:
    """Log ``error`` with its traceback and keep it as an :class:`ErrorEvent` row (best effort, bounded in time).

    Never raises: a failure to record (the database being what failed, say) is logged and forgotten.
    """
    request_id = request_id_of(scope)
    _log.error("unexpected error in request %s", request_id, exc_info=error)
    app = scope.get("app")
    platform = getattr(getattr(app, "state", None), "platform", None)
    if platform is None:
        return
    caller = scope.get(CALLER_KEY)
    user_id = getattr(getattr(caller, "principal", None), "user_id", None)
    text = "".join(traceback.format_exception(error))[-_MAX_TRACEBACK_CHARS:]
    event = ErrorEvent(
        code=getattr(error, "code", "internal_error"),
        message=f"{type(error).__name__}: {error}"[:2000],
        details={"exception": type(error).__qualname__, "traceback": text},
        user_id=user_id,
        request_id=request_id[:64] or None,
        method=str(scope.get("method", ""))[:16] or None,
        path=str(scope.get("path", ""))[:2048] or None,
        status_code=500,
    )

    async def write() -> None:
        async with platform.database.session() as session, session.begin():
            session.add(event)

    try:
        await asyncio.wait_for(write(), timeout=_ERROR_EVENT_TIMEOUT_S)
    except Exception:  # the database may be the very thing that failed
        _log.warning("could not record the error event of request %s", request_id, exc_info=True)
