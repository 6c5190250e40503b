"""A local stand-in for the Anthropic and OpenAI HTTP APIs: a real server on 127.0.0.1 that the real SDKs call.

It answers ``POST /v1/messages`` (Anthropic Messages) and ``POST /v1/chat/completions`` (OpenAI chat completions)
with each API's JSON shapes (ids, ``usage``, error bodies, ``request-id``/``x-request-id`` headers), records every
request it receives (path, headers, JSON body, arrival time) and answers each from a script of :class:`Reply` s:
a text, an error status with headers (429 with ``Retry-After``, 500, 503, 401), a slow answer that arrives after
the client gave up, or a body that is not what the API sends. Once the script is spent it answers 500, so a test
that scripted too few replies fails loudly.

HTTP/1.0, one request per connection: a closed server never waits on an idle keep-alive connection.
"""

from __future__ import annotations

import itertools
import json
import sys
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

ANTHROPIC_PATH = "/v1/messages"
OPENAI_PATH = "/v1/chat/completions"

_ANTHROPIC_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
    529: "overloaded_error",
}
_OPENAI_ERROR_CODES = {401: "invalid_api_key", 429: "rate_limit_exceeded"}


@dataclass(frozen=True)
class Reply:
    """One scripted answer."""

    status: int = 200
    text: str = "ok"
    input_tokens: int = 12
    output_tokens: int = 5
    headers: Mapping[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    """Pause before answering, seconds (past the client's timeout: the client gives up first)."""
    raw: bytes | None = None
    """A body sent verbatim with status 200 and ``application/json``, instead of a well-formed answer."""


def ok(text: str = "ok", *, input_tokens: int = 12, output_tokens: int = 5) -> Reply:
    return Reply(text=text, input_tokens=input_tokens, output_tokens=output_tokens)


def rate_limited(**headers: str) -> Reply:
    """429 with the given headers, e.g. ``rate_limited(**{"retry-after": "1"})``."""
    return Reply(status=429, headers=headers)


def server_error(status: int = 500) -> Reply:
    return Reply(status=status)


def unauthorized() -> Reply:
    return Reply(status=401)


def slow(delay_s: float) -> Reply:
    return Reply(text="too late", delay_s=delay_s)


def malformed() -> Reply:
    """A body cut off mid-JSON."""
    return Reply(raw=b'{"id": "msg_cut", "content": [{"type": "text", "te')


def wrong_shape() -> Reply:
    """Valid JSON that is neither a message nor a chat completion."""
    return Reply(raw=json.dumps({"status": "fine", "answer": 42}).encode())


@dataclass(frozen=True)
class Received:
    """One request as the stand-in saw it."""

    path: str
    headers: dict[str, str]
    """Lower-case names."""
    body: dict[str, Any]
    at_s: float
    """``time.monotonic()`` on arrival."""


class LLMStandIn:
    """The server; ``url`` is its root (Anthropic's base URL; OpenAI's is ``url + "/v1"``)."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self._replies: deque[Reply] = deque()
        self._lock = threading.Lock()
        self.closing = threading.Event()
        self._ids = itertools.count(1)
        self._server = _Server(("127.0.0.1", 0), _Handler, self)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def script(self, *replies: Reply) -> None:
        """Queue the answers to the next requests, in order."""
        with self._lock:
            self._replies.extend(replies)

    def close(self) -> None:
        self.closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def answer_to(self, received: Received) -> tuple[Reply, int]:
        """Record a request; return its scripted reply and its serial number."""
        with self._lock:
            self.requests.append(received)
            reply = self._replies.popleft() if self._replies else Reply(status=500, text="script spent")
            return reply, next(self._ids)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], standin: LLMStandIn) -> None:
        super().__init__(address, handler)
        self.standin = standin

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out has closed its socket before a slow answer is written: expected, not an error.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        standin = self.server.standin
        length = int(self.headers.get("content-length", "0"))
        body = json.loads(self.rfile.read(length) or b"{}")
        headers = {name.lower(): value for name, value in self.headers.items()}
        reply, number = standin.answer_to(Received(self.path, headers, body, time.monotonic()))
        if reply.delay_s and standin.closing.wait(reply.delay_s):
            return  # the stand-in is closing: no one waits for this answer
        if self.path == ANTHROPIC_PATH:
            status, payload, extra = _anthropic(reply, body, number)
        elif self.path == OPENAI_PATH:
            status, payload, extra = _openai(reply, body, number)
        else:
            status, payload, extra = 404, json.dumps({"error": f"no route {self.path}"}).encode(), {}
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        for name, value in {**extra, **reply.headers}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output quiet."""


def _anthropic(reply: Reply, request: dict[str, Any], number: int) -> tuple[int, bytes, dict[str, str]]:
    headers = {"request-id": f"req_standin_{number:04d}"}
    if reply.raw is not None:
        return 200, reply.raw, headers
    if reply.status != 200:
        error_type = _ANTHROPIC_ERROR_TYPES.get(reply.status, "api_error")
        body: dict[str, Any] = {
            "type": "error",
            "error": {"type": error_type, "message": f"stand-in {error_type}"},
            "request_id": headers["request-id"],
        }
        return reply.status, json.dumps(body).encode(), headers
    body = {
        "id": f"msg_standin_{number:04d}",
        "type": "message",
        "role": "assistant",
        "model": request.get("model"),
        "content": [{"type": "text", "text": reply.text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": reply.input_tokens, "output_tokens": reply.output_tokens},
    }
    return 200, json.dumps(body).encode(), headers


def _openai(reply: Reply, request: dict[str, Any], number: int) -> tuple[int, bytes, dict[str, str]]:
    headers = {"x-request-id": f"req_standin_{number:04d}"}
    if reply.raw is not None:
        return 200, reply.raw, headers
    if reply.status != 200:
        error_type = "server_error" if reply.status >= 500 else "invalid_request_error"
        body: dict[str, Any] = {
            "error": {
                "message": f"stand-in {error_type}",
                "type": error_type,
                "param": None,
                "code": _OPENAI_ERROR_CODES.get(reply.status),
            }
        }
        return reply.status, json.dumps(body).encode(), headers
    body = {
        "id": f"chatcmpl-standin{number:04d}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply.text, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": reply.input_tokens,
            "completion_tokens": reply.output_tokens,
            "total_tokens": reply.input_tokens + reply.output_tokens,
        },
    }
    return 200, json.dumps(body).encode(), headers
