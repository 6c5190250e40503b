"""What every LLM provider shares: the retry policy and loop, token prices, and one attempt's failure.

A provider (:mod:`spacecomputer.brain._providers`) implements :meth:`RetryingProvider._send` — one request
through its SDK, returning an :class:`Answer` or raising an :class:`AttemptError` that says whether a retry may
help — and inherits :meth:`RetryingProvider.complete`: the ``tenacity`` loop (attempts, exponential back-off with
jitter or the pause ``Retry-After`` asks for, capped; a total deadline), the cost from :class:`TokenPrices`, and
the :class:`UpstreamUnavailableError` raised when no answer came.
"""

from __future__ import annotations

import email.utils
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import NamedTuple, Self

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_exponential_jitter,
)

from spacecomputer.brain._types import Completion, CompletionRequest
from spacecomputer.errors import InvalidInputError, UpstreamUnavailableError

__all__ = [
    "Answer",
    "AttemptError",
    "RetryPolicy",
    "RetryingProvider",
    "TokenPrices",
    "malformed",
    "status_failure",
    "token_count",
]


@dataclass(frozen=True)
class RetryPolicy:
    """When a provider tries again, and how long it waits.

    Parameters
    ----------
    max_attempts
        Requests per completion, the first included.
    timeout_s
        Longest wait for one request, seconds (cut to what is left of ``deadline_s``).
    deadline_s
        Longest time for a whole completion, every attempt and pause included, seconds; no attempt starts
        whose pause would end past it.
    initial_wait_s
        First back-off pause, seconds; it doubles with each attempt, plus up to ``initial_wait_s`` of jitter.
    max_wait_s
        Longest pause, seconds; caps the back-off and ``Retry-After`` alike.

    """

    max_attempts: int = 3
    timeout_s: float = 20.0
    deadline_s: float = 60.0
    initial_wait_s: float = 0.5
    max_wait_s: float = 10.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise InvalidInputError(f"max_attempts must be at least 1; got {self.max_attempts}")
        for name, value in (("timeout_s", self.timeout_s), ("deadline_s", self.deadline_s)):
            if not value > 0.0:
                raise InvalidInputError(f"{name} must be a positive number of seconds; got {value!r}")
        for name, value in (("initial_wait_s", self.initial_wait_s), ("max_wait_s", self.max_wait_s)):
            if not value >= 0.0:
                raise InvalidInputError(f"{name} must be zero or more seconds; got {value!r}")


@dataclass(frozen=True)
class TokenPrices:
    """What the operator pays per million tokens, USD (from configuration: prices change and are never built in)."""

    input_usd_per_mtok: float
    output_usd_per_mtok: float

    def __post_init__(self) -> None:
        for name, value in (("input", self.input_usd_per_mtok), ("output", self.output_usd_per_mtok)):
            if not value >= 0.0:
                raise InvalidInputError(f"the {name} price must be zero or more USD per million tokens; got {value!r}")

    def cost_usd(self, *, input_tokens: int, output_tokens: int) -> float:
        """Return the cost of a completion, USD.

        >>> TokenPrices(3.0, 15.0).cost_usd(input_tokens=1_000, output_tokens=200)
        0.006
        """
        return (input_tokens * self.input_usd_per_mtok + output_tokens * self.output_usd_per_mtok) / 1_000_000


class Answer(NamedTuple):
    """What one successful attempt read from the provider's response."""

    text: str
    input_tokens: int
    output_tokens: int


class AttemptError(Exception):
    """One failed attempt, in the SDK-neutral terms the retry policy decides on."""

    def __init__(
        self,
        reason: str,
        detail: str,
        *,
        retryable: bool,
        status: int | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(detail)
        self.reason, self.detail, self.retryable = reason, detail, retryable
        self.status, self.retry_after_s = status, retry_after_s

    def error(self, *, provider: str, model: str, attempts: int) -> UpstreamUnavailableError:
        """Return the error the caller sees once no attempt is left (or the failure is not worth a retry)."""
        status = f"HTTP {self.status}, " if self.status is not None else ""
        return UpstreamUnavailableError(
            f"LLM provider {provider} (model {model!r}) gave no answer after {attempts} attempt(s): "
            f"{self.reason} ({status}{self.detail})",
            details={
                "provider": provider,
                "model": model,
                "reason": self.reason,
                "status": self.status,
                "attempts": attempts,
                "retryable": self.retryable,
            },
        )


def status_failure(status: int, headers: Mapping[str, str], message: str) -> AttemptError:
    """Return the failure an HTTP error status means: 429, 408 and 5xx are worth a retry, other statuses are not."""
    if status == 429:
        reason, retryable = "rate_limited", True
    elif status >= 500 or status == 408:
        reason, retryable = "server_error", True
    else:
        reason, retryable = "rejected", False
    return AttemptError(reason, message[:300], retryable=retryable, status=status, retry_after_s=retry_after_s(headers))


def retry_after_s(headers: Mapping[str, str]) -> float | None:
    """Return the pause a response asks for, seconds: ``retry-after-ms``, else ``Retry-After`` (seconds or a date)."""
    milliseconds = _finite(headers.get("retry-after-ms"))
    if milliseconds is not None:
        return max(milliseconds / 1000.0, 0.0)
    value = headers.get("retry-after")
    if value is None:
        return None
    seconds = _finite(value)
    if seconds is None:
        try:
            seconds = email.utils.parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return max(seconds, 0.0)


def _finite(text: str | None) -> float | None:
    try:
        number = float(text) if text is not None else math.nan
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def malformed(detail: str) -> AttemptError:
    """Return the failure of a response that is not what the API sends (not worth a retry)."""
    return AttemptError("malformed_response", detail, retryable=False)


def token_count(value: object, field: str) -> int:
    """Return ``value`` as a count of tokens, or raise :func:`malformed` naming ``field``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise malformed(f"{field} should be a count of tokens; got {value!r}")
    return value


def _is_retryable(error: BaseException) -> bool:
    return isinstance(error, AttemptError) and error.retryable


class RetryingProvider(ABC):
    """The retry loop, the prices and the completion record shared by every provider."""

    name: str

    def __init__(
        self,
        *,
        model: str,
        policy: RetryPolicy | None,
        prices: TokenPrices | None,
        sleep: Callable[[float], None],
    ) -> None:
        if not model:
            raise InvalidInputError(f"an LLM provider needs a model id; got {model!r}")
        self.model = model
        self.policy = policy if policy is not None else RetryPolicy()
        self.prices = prices
        self._sleep = sleep
        self._backoff = wait_exponential_jitter(
            multiplier=self.policy.initial_wait_s, max=self.policy.max_wait_s, jitter=self.policy.initial_wait_s
        )

    def complete(self, request: CompletionRequest) -> Completion:
        """Answer ``request``, retrying as the policy allows.

        The completion's ``latency_ms`` is the caller's wait: every attempt and pause included.

        Raises
        ------
        UpstreamUnavailableError
            The provider failed every attempt, refused the request, or answered something unreadable.
        InvalidInputError
            The request has no message or a ``max_tokens`` below 1.

        """
        if not request.messages or request.max_tokens < 1:
            raise InvalidInputError(
                f"a completion request needs at least one message and max_tokens ≥ 1; got "
                f"{len(request.messages)} message(s), max_tokens={request.max_tokens}"
            )
        policy = self.policy
        started = time.monotonic()
        retrying = Retrying(
            stop=stop_after_attempt(policy.max_attempts) | stop_before_delay(policy.deadline_s),
            wait=self._pause_s,
            retry=retry_if_exception(_is_retryable),
            sleep=self._sleep,
            reraise=True,
        )

        def attempt() -> Answer:
            left_s = policy.deadline_s - (time.monotonic() - started)
            return self._send(request, timeout_s=min(policy.timeout_s, left_s))

        try:
            answer = retrying(attempt)
        except AttemptError as failure:
            attempts = retrying.statistics["attempt_number"]
            raise failure.error(provider=self.name, model=self.model, attempts=attempts) from failure
        cost = (
            None
            if self.prices is None
            else self.prices.cost_usd(input_tokens=answer.input_tokens, output_tokens=answer.output_tokens)
        )
        return Completion(
            text=answer.text,
            provider=self.name,
            model=self.model,
            input_tokens=answer.input_tokens,
            output_tokens=answer.output_tokens,
            cost_usd=cost,
            latency_ms=(time.monotonic() - started) * 1000.0,
            attempts=retrying.statistics["attempt_number"],
        )

    def _pause_s(self, state: RetryCallState) -> float:
        failure = state.outcome.exception() if state.outcome is not None else None
        if isinstance(failure, AttemptError) and failure.retry_after_s is not None:
            return min(failure.retry_after_s, self.policy.max_wait_s)
        return self._backoff(state)

    @abstractmethod
    def _send(self, request: CompletionRequest, *, timeout_s: float) -> Answer:
        """Make one request; raise :class:`AttemptError` for anything but a readable answer."""

    @abstractmethod
    def close(self) -> None:
        """Close the SDK client's connections."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()
