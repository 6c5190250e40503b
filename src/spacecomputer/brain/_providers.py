"""Commercial LLMs behind one small interface: Anthropic, OpenAI and any OpenAI-compatible server.

Each provider sends a :class:`CompletionRequest` through the vendor's official SDK and returns a
:class:`Completion` (text, tokens, cost from the configured prices, latency, attempts), or raises
:class:`UpstreamUnavailableError` — never an SDK exception. The SDKs' own retries are off; one
:class:`RetryPolicy`, run by ``tenacity``, retries rate limits (429), request timeouts (408), server errors (5xx),
timeouts and connection failures with exponential back-off and jitter, waits what ``Retry-After`` asks (capped at
``max_wait_s``), and gives up at a total deadline. Other statuses (400, 401, 403, 404 …) and malformed answers
fail at once. The error's ``details``: ``provider``, ``model``, ``reason`` (``rate_limited``, ``server_error``,
``timeout``, ``connection``, ``rejected``, ``malformed_response``, ``refused``, ``sdk_error``), ``status`` (the
HTTP status or ``None``), ``attempts`` and ``retryable``.

Wire formats (``anthropic`` 2.14, ``openai`` 3.57):

- Anthropic: ``POST {base_url}/v1/messages`` with ``model``, ``max_tokens``, ``system``, ``messages``; the
  answer's ``content`` text blocks and ``usage.input_tokens``/``output_tokens``. This API version takes no
  ``temperature``, so :attr:`CompletionRequest.temperature` is not sent.
- OpenAI and compatible servers: ``POST {base_url}/chat/completions`` (the base URL ends in ``/v1``) with the
  system prompt as the first ``system`` message and ``temperature``; ``choices[0].message.content`` and
  ``usage.prompt_tokens``/``completion_tokens``. OpenAI itself gets ``max_completion_tokens`` (``max_tokens`` is
  deprecated there and refused by reasoning models); compatible servers get ``max_tokens``, which Ollama, vLLM and
  llama.cpp read.

The SDKs are imported when a provider is built (about 1–2 s), so the local answerer never pays for them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from spacecomputer.brain._provider_base import (
    Answer,
    AttemptError,
    RetryingProvider,
    RetryPolicy,
    TokenPrices,
    malformed,
    status_failure,
    token_count,
)
from spacecomputer.brain._types import Completion, CompletionRequest
from spacecomputer.errors import InvalidInputError

if TYPE_CHECKING:
    from anthropic.types import MessageParam
    from openai.types.chat import ChatCompletionMessageParam

    from spacecomputer.config import Settings

__all__ = [
    "AnthropicProvider",
    "LLMProvider",
    "OpenAICompatibleProvider",
    "OpenAIProvider",
    "RetryPolicy",
    "TokenPrices",
    "provider_from_settings",
]

_KEYLESS = "unused"
"""The key sent to a keyless OpenAI-compatible server: the SDK insists on one, and without it would read
``OPENAI_API_KEY`` from the environment and send an OpenAI key to a third-party server."""


class LLMProvider(Protocol):
    """A language model that answers a conversation."""

    name: str
    """``anthropic``, ``openai`` or ``openai_compatible``."""
    model: str

    def complete(self, request: CompletionRequest) -> Completion:
        """Answer ``request``; raise :class:`UpstreamUnavailableError` when no answer comes."""
        ...


class AnthropicProvider(RetryingProvider):
    """Claude through the official ``anthropic`` SDK (Messages API).

    Parameters
    ----------
    model
        Model id, e.g. the one named in the operator's configuration.
    api_key
        Anthropic API key.
    base_url
        API root without ``/v1`` (a gateway, or a local stand-in in tests); ``None`` = the SDK's default.
    policy, prices
        Retries and timeouts; prices per million tokens (``None``: ``cost_usd`` stays ``None``).
    sleep
        Pauses between attempts, seconds (``time.sleep``; tests record the pauses instead).

    """

    name = "anthropic"

    def __init__(
        self,
        *,
        model: str,
        api_key: str,
        base_url: str | None = None,
        policy: RetryPolicy | None = None,
        prices: TokenPrices | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(model=model, policy=policy, prices=prices, sleep=sleep)
        if not api_key:
            raise InvalidInputError("the anthropic provider needs an API key; got an empty one")
        import anthropic  # imported late: only a configured provider pays for the SDK

        self._client = anthropic.Anthropic(
            api_key=api_key, base_url=base_url, max_retries=0, timeout=self.policy.timeout_s
        )

    def _send(self, request: CompletionRequest, *, timeout_s: float) -> Answer:
        import anthropic

        turns: list[MessageParam] = [
            {"role": "user", "content": turn.content}
            if turn.role == "user"
            else {"role": "assistant", "content": turn.content}
            for turn in request.messages
        ]
        try:
            message = self._client.messages.create(
                model=self.model,
                max_tokens=request.max_tokens,
                system=request.system or anthropic.omit,
                messages=turns,
                timeout=timeout_s,
            )
        except (anthropic.AnthropicError, json.JSONDecodeError, UnicodeDecodeError) as error:
            raise _sdk_failure(error, anthropic, timeout_s=timeout_s, expected="a Messages API response") from error
        return _read_anthropic(message)

    def close(self) -> None:
        """Close the SDK client's connections."""
        self._client.close()


def _sdk_failure(error: Exception, sdk: Any, *, timeout_s: float, expected: str) -> AttemptError:
    """Translate an exception of the Anthropic or OpenAI SDK (their error classes have the same names)."""
    if isinstance(error, sdk.APIStatusError):
        return status_failure(error.status_code, error.response.headers, error.message)
    if isinstance(error, sdk.APITimeoutError):  # a subclass of APIConnectionError: tested first
        return AttemptError("timeout", f"no answer within {timeout_s:.3g} s", retryable=True)
    if isinstance(error, sdk.APIConnectionError):
        return AttemptError("connection", str(error.__cause__ or error), retryable=True)
    if isinstance(error, (sdk.APIResponseValidationError, json.JSONDecodeError, UnicodeDecodeError)):
        return malformed(f"the answer is not {expected}: {error}")
    return AttemptError("sdk_error", f"{type(error).__name__}: {error}", retryable=False)


def _read_anthropic(message: object) -> Answer:
    from anthropic.types import Message, TextBlock, Usage

    # The SDK builds its models without validation: a body of the wrong shape arrives with None or odd types.
    if not isinstance(message, Message):
        raise malformed(f"expected a message object; got {type(message).__name__}")
    if not isinstance(message.content, list):
        raise malformed(f"content should be a list of blocks; got {message.content!r}")
    texts = [block.text for block in message.content if isinstance(block, TextBlock)]
    if not texts or not all(isinstance(text, str) for text in texts):
        raise malformed(f"the message has no text block (stop_reason {message.stop_reason!r})")
    if not isinstance(message.usage, Usage):
        raise malformed("the message has no usage")
    return Answer(
        "".join(texts),
        token_count(message.usage.input_tokens, "usage.input_tokens"),
        token_count(message.usage.output_tokens, "usage.output_tokens"),
    )


class _OpenAIChatProvider(RetryingProvider):
    """Chat completions through the official ``openai`` SDK."""

    _sends_max_completion_tokens: bool

    def __init__(
        self,
        *,
        model: str,
        api_key: str,
        base_url: str | None,
        policy: RetryPolicy | None,
        prices: TokenPrices | None,
        sleep: Callable[[float], None],
    ) -> None:
        super().__init__(model=model, policy=policy, prices=prices, sleep=sleep)
        import openai  # imported late: only a configured provider pays for the SDK

        self._client = openai.OpenAI(api_key=api_key, base_url=base_url, max_retries=0, timeout=self.policy.timeout_s)

    def _send(self, request: CompletionRequest, *, timeout_s: float) -> Answer:
        import openai

        turns: list[ChatCompletionMessageParam] = (
            [{"role": "system", "content": request.system}] if request.system else []
        )
        turns += [
            {"role": "user", "content": turn.content}
            if turn.role == "user"
            else {"role": "assistant", "content": turn.content}
            for turn in request.messages
        ]
        limit = request.max_tokens
        try:
            completion = self._client.chat.completions.create(
                model=self.model,
                messages=turns,
                max_completion_tokens=limit if self._sends_max_completion_tokens else openai.omit,
                max_tokens=openai.omit if self._sends_max_completion_tokens else limit,
                temperature=request.temperature,
                timeout=timeout_s,
            )
        except (openai.OpenAIError, json.JSONDecodeError, UnicodeDecodeError) as error:
            raise _sdk_failure(error, openai, timeout_s=timeout_s, expected="a chat completion") from error
        return _read_openai(completion)

    def close(self) -> None:
        """Close the SDK client's connections."""
        self._client.close()


def _read_openai(completion: object) -> Answer:
    from openai.types import CompletionUsage
    from openai.types.chat import ChatCompletion, ChatCompletionMessage

    # The SDK builds its models without validation: a body of the wrong shape arrives with None or odd types.
    if not isinstance(completion, ChatCompletion):
        raise malformed(f"expected a chat completion object; got {type(completion).__name__}")
    if not isinstance(completion.choices, list) or not completion.choices:
        raise malformed(f"choices should be a non-empty list; got {completion.choices!r}")
    message = completion.choices[0].message
    if not isinstance(message, ChatCompletionMessage):
        raise malformed("the first choice has no message")
    if not isinstance(message.content, str):
        if isinstance(message.refusal, str):
            raise AttemptError("refused", message.refusal[:300], retryable=False)
        raise malformed(f"the message has no text content (finish_reason {completion.choices[0].finish_reason!r})")
    if not isinstance(completion.usage, CompletionUsage):
        raise malformed("the completion has no usage")
    return Answer(
        message.content,
        token_count(completion.usage.prompt_tokens, "usage.prompt_tokens"),
        token_count(completion.usage.completion_tokens, "usage.completion_tokens"),
    )


class OpenAIProvider(_OpenAIChatProvider):
    """OpenAI's models through the official ``openai`` SDK (chat completions, ``max_completion_tokens``).

    Parameters are those of :class:`AnthropicProvider`; ``base_url`` includes ``/v1``.
    """

    name = "openai"
    _sends_max_completion_tokens = True

    def __init__(
        self,
        *,
        model: str,
        api_key: str,
        base_url: str | None = None,
        policy: RetryPolicy | None = None,
        prices: TokenPrices | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not api_key:
            raise InvalidInputError("the openai provider needs an API key; got an empty one")
        super().__init__(model=model, api_key=api_key, base_url=base_url, policy=policy, prices=prices, sleep=sleep)


class OpenAICompatibleProvider(_OpenAIChatProvider):
    """Any server speaking OpenAI's chat completions (Ollama, vLLM, llama.cpp), through the ``openai`` SDK.

    Parameters
    ----------
    base_url
        The server's API root, with ``/v1`` (``http://127.0.0.1:11434/v1`` for Ollama).
    api_key
        The server's key, if it asks for one.
    model, policy, prices, sleep
        As for :class:`AnthropicProvider`.

    """

    name = "openai_compatible"
    _sends_max_completion_tokens = False

    def __init__(
        self,
        *,
        model: str,
        base_url: str,
        api_key: str | None = None,
        policy: RetryPolicy | None = None,
        prices: TokenPrices | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise InvalidInputError(f"an OpenAI-compatible server needs an http(s) base URL; got {base_url!r}")
        super().__init__(
            model=model, api_key=api_key or _KEYLESS, base_url=base_url, policy=policy, prices=prices, sleep=sleep
        )


def provider_from_settings(settings: Settings) -> LLMProvider | None:
    """Return the LLM provider the settings configure, or ``None`` when ``llm_provider`` is ``"none"``."""
    if settings.llm_provider == "none":
        return None
    model = _configured(settings.llm_model, "llm_model", settings)
    policy = RetryPolicy(
        max_attempts=settings.llm_max_attempts,
        timeout_s=settings.llm_timeout_s,
        deadline_s=settings.llm_deadline_s,
        initial_wait_s=min(RetryPolicy.initial_wait_s, settings.llm_max_retry_wait_s),
        max_wait_s=settings.llm_max_retry_wait_s,
    )
    price_in, price_out = settings.llm_price_input_usd_per_mtok, settings.llm_price_output_usd_per_mtok
    prices = TokenPrices(price_in, price_out) if price_in is not None and price_out is not None else None
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key is not None else None
    if settings.llm_provider == "openai_compatible":
        base_url = _configured(settings.llm_base_url, "llm_base_url", settings)
        return OpenAICompatibleProvider(model=model, base_url=base_url, api_key=key, policy=policy, prices=prices)
    key = _configured(key, "llm_api_key", settings)
    if settings.llm_provider == "anthropic":
        return AnthropicProvider(model=model, api_key=key, base_url=settings.llm_base_url, policy=policy, prices=prices)
    return OpenAIProvider(model=model, api_key=key, base_url=settings.llm_base_url, policy=policy, prices=prices)


def _configured(value: str | None, name: str, settings: Settings) -> str:
    # Settings validation guarantees these; a Settings built without validation (model_construct) may not.
    if value is None:
        raise InvalidInputError(f"llm_provider {settings.llm_provider!r} needs {name}; it is not set")
    return value
