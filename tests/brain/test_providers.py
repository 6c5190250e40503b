"""The LLM providers through the real SDKs against a local stand-in of each API (no key, no network).

Every provider kind is run on the same cases: an answer with its tokens and cost, the request the server saw,
429 then an answer (the pause ``Retry-After`` asked for), 5xx until attempts run out, timeouts, 401 (not retried),
bodies that are not what the API sends. Pauses are recorded instead of slept where a test checks their length.
"""

from __future__ import annotations

import email.utils
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from spacecomputer.brain._provider_base import RetryingProvider
from spacecomputer.brain._providers import (
    AnthropicProvider,
    OpenAICompatibleProvider,
    OpenAIProvider,
    RetryPolicy,
    TokenPrices,
    provider_from_settings,
)
from spacecomputer.brain._types import CompletionRequest, Message
from spacecomputer.config import Settings
from spacecomputer.errors import InvalidInputError, UpstreamUnavailableError
from tests.brain.llm_standin import (
    ANTHROPIC_PATH,
    OPENAI_PATH,
    LLMStandIn,
    Received,
    malformed,
    ok,
    rate_limited,
    server_error,
    slow,
    unauthorized,
    wrong_shape,
)

KINDS = ["anthropic", "openai", "openai_compatible"]
KEY = "sk-standin-key-0123456789"
FAST = RetryPolicy(max_attempts=3, timeout_s=2.0, deadline_s=10.0, initial_wait_s=0.005, max_wait_s=0.02)
REQUEST = CompletionRequest(
    system="Answer only from the facts given. Facts: peak left knee flexion 68.2 deg.",
    messages=(
        Message("user", "What was my peak left knee flexion?"),
        Message("assistant", "68.2 degrees."),
        Message("user", "Is that a lot?"),
    ),
    max_tokens=321,
    temperature=0.2,
)


@pytest.fixture
def standin() -> Iterator[LLMStandIn]:
    with LLMStandIn() as server:
        yield server


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class Pauses(list[float]):
    """A ``sleep`` that records the pauses instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(float(seconds))


def build(
    kind: str,
    url: str,
    *,
    policy: RetryPolicy = FAST,
    prices: TokenPrices | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> RetryingProvider:
    if kind == "anthropic":
        return AnthropicProvider(
            model="claude-standin", api_key=KEY, base_url=url, policy=policy, prices=prices, sleep=sleep
        )
    if kind == "openai":
        return OpenAIProvider(
            model="gpt-standin", api_key=KEY, base_url=f"{url}/v1", policy=policy, prices=prices, sleep=sleep
        )
    return OpenAICompatibleProvider(
        model="llama-standin", base_url=f"{url}/v1", api_key=KEY, policy=policy, prices=prices, sleep=sleep
    )


def sent(kind: str, received: Received) -> dict[str, Any]:
    """Return the system prompt, turns and token budget of a request, whichever wire format carried them."""
    body = received.body
    if kind == "anthropic":
        assert received.path == ANTHROPIC_PATH
        return {"system": body["system"], "messages": body["messages"], "max_tokens": body["max_tokens"]}
    assert received.path == OPENAI_PATH
    system, *turns = body["messages"]
    assert system["role"] == "system"
    limit = body["max_completion_tokens"] if kind == "openai" else body["max_tokens"]
    return {"system": system["content"], "messages": turns, "max_tokens": limit}


def failure(provider: RetryingProvider) -> dict[str, Any]:
    with pytest.raises(UpstreamUnavailableError) as caught:
        provider.complete(REQUEST)
    assert KEY not in str(caught.value)
    return caught.value.details


def test_an_answer_carries_text_tokens_and_the_configured_cost(kind: str, standin: LLMStandIn) -> None:
    standin.script(ok("68.2° is within the usual range.", input_tokens=1_200, output_tokens=80))
    with build(kind, standin.url, prices=TokenPrices(3.0, 15.0)) as provider:
        completion = provider.complete(REQUEST)
    assert completion.text == "68.2° is within the usual range."
    assert (completion.provider, completion.model) == (kind, provider.model)
    assert (completion.input_tokens, completion.output_tokens, completion.attempts) == (1_200, 80, 1)
    assert completion.cost_usd == pytest.approx((1_200 * 3.0 + 80 * 15.0) / 1e6)
    assert completion.latency_ms > 0.0


def test_without_prices_the_cost_is_not_guessed(kind: str, standin: LLMStandIn) -> None:
    standin.script(ok("fine"))
    with build(kind, standin.url) as provider:
        assert provider.complete(REQUEST).cost_usd is None


def test_the_server_sees_the_model_system_prompt_turns_and_budget(kind: str, standin: LLMStandIn) -> None:
    standin.script(ok())
    with build(kind, standin.url) as provider:
        provider.complete(REQUEST)
    (received,) = standin.requests
    assert received.body["model"] == provider.model
    assert sent(kind, received) == {
        "system": REQUEST.system,
        "messages": [{"role": turn.role, "content": turn.content} for turn in REQUEST.messages],
        "max_tokens": 321,
    }
    assert received.headers["authorization"] == f"Bearer {KEY}"
    assert received.headers["x-stainless-retry-count"] == "0"
    if kind == "anthropic":
        assert received.headers["anthropic-version"]
        assert "temperature" not in received.body
    else:
        assert received.body["temperature"] == 0.2
        assert ("max_tokens" in received.body) == (kind == "openai_compatible")


def test_a_rate_limit_is_retried_after_the_pause_it_asks_for(kind: str, standin: LLMStandIn) -> None:
    standin.script(rate_limited(**{"retry-after": "1"}), ok("after the pause"))
    pauses = Pauses()
    policy = RetryPolicy(max_attempts=3, timeout_s=2.0, initial_wait_s=0.005, max_wait_s=5.0)
    with build(kind, standin.url, policy=policy, sleep=pauses) as provider:
        completion = provider.complete(REQUEST)
    assert (completion.text, completion.attempts, len(standin.requests)) == ("after the pause", 2, 2)
    assert pauses == [1.0]


@pytest.mark.parametrize(
    ("headers", "expected_s"),
    [
        ({"retry-after": "30"}, 0.25),  # capped at max_wait_s
        ({"retry-after-ms": "120", "retry-after": "1"}, 0.12),  # the finer header wins
        ({"retry-after": "soon"}, None),  # unreadable: exponential back-off
    ],
)
def test_retry_after_is_capped_and_read_in_its_forms(
    standin: LLMStandIn, headers: dict[str, str], expected_s: float | None
) -> None:
    standin.script(rate_limited(**headers), ok())
    pauses = Pauses()
    policy = RetryPolicy(timeout_s=2.0, initial_wait_s=0.01, max_wait_s=0.25)
    with build("anthropic", standin.url, policy=policy, sleep=pauses) as provider:
        assert provider.complete(REQUEST).attempts == 2
    (pause,) = pauses
    if expected_s is None:
        assert 0.01 <= pause <= 0.02  # first back-off: initial_wait_s plus up to initial_wait_s of jitter
    else:
        assert pause == pytest.approx(expected_s)


def test_retry_after_as_an_http_date(standin: LLMStandIn) -> None:
    standin.script(rate_limited(**{"retry-after": email.utils.formatdate(time.time() + 3, usegmt=True)}), ok())
    pauses = Pauses()
    with build("openai", standin.url, policy=RetryPolicy(timeout_s=2.0, max_wait_s=10.0), sleep=pauses) as provider:
        provider.complete(REQUEST)
    (pause,) = pauses
    assert 1.5 <= pause <= 3.0  # the date has whole seconds


def test_the_pause_is_really_waited(standin: LLMStandIn) -> None:
    standin.script(rate_limited(**{"retry-after-ms": "150"}), ok())
    with build("openai_compatible", standin.url, policy=RetryPolicy(timeout_s=2.0, max_wait_s=1.0)) as provider:
        provider.complete(REQUEST)
    first, second = standin.requests
    assert second.at_s - first.at_s >= 0.15


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_retried_until_the_attempts_run_out(kind: str, standin: LLMStandIn, status: int) -> None:
    standin.script(*[server_error(status)] * 3)
    pauses = Pauses()
    with build(kind, standin.url, sleep=pauses) as provider:
        details = failure(provider)
    assert details == {
        "provider": kind,
        "model": provider.model,
        "reason": "server_error",
        "status": status,
        "attempts": 3,
        "retryable": True,
    }
    assert len(standin.requests) == 3
    first, second = pauses  # exponential back-off: initial_wait_s · 2ⁿ plus up to initial_wait_s of jitter
    assert 0.005 <= first <= 0.01 <= second <= 0.015


def test_a_timeout_is_retried_then_reported(kind: str, standin: LLMStandIn) -> None:
    standin.script(slow(5.0), slow(5.0))
    policy = RetryPolicy(max_attempts=2, timeout_s=0.15, initial_wait_s=0.005, max_wait_s=0.01)
    started = time.monotonic()
    with build(kind, standin.url, policy=policy) as provider:
        details = failure(provider)
    assert (details["reason"], details["status"], details["attempts"]) == ("timeout", None, 2)
    assert len(standin.requests) == 2
    assert time.monotonic() - started < 1.5


def test_a_timeout_then_an_answer(standin: LLMStandIn) -> None:
    standin.script(slow(5.0), ok("second time"))
    policy = RetryPolicy(max_attempts=2, timeout_s=0.15, initial_wait_s=0.005, max_wait_s=0.01)
    with build("anthropic", standin.url, policy=policy) as provider:
        completion = provider.complete(REQUEST)
    assert (completion.text, completion.attempts) == ("second time", 2)
    assert completion.latency_ms >= 150.0  # the caller's wait, the timed-out attempt included


def test_the_deadline_stops_retries_before_the_attempts_run_out(standin: LLMStandIn) -> None:
    standin.script(*[slow(5.0)] * 5)
    policy = RetryPolicy(max_attempts=5, timeout_s=0.2, deadline_s=0.3, initial_wait_s=0.005, max_wait_s=0.01)
    started = time.monotonic()
    with build("openai", standin.url, policy=policy) as provider:
        details = failure(provider)
    assert details["reason"] == "timeout"
    assert details["attempts"] == len(standin.requests) < 5
    assert time.monotonic() - started < 0.9  # five timed-out attempts would take 1 s


def test_an_unauthorised_key_is_not_retried(kind: str, standin: LLMStandIn) -> None:
    standin.script(unauthorized(), ok())
    with build(kind, standin.url) as provider:
        details = failure(provider)
    assert (details["reason"], details["status"], details["attempts"], details["retryable"]) == (
        "rejected",
        401,
        1,
        False,
    )
    assert len(standin.requests) == 1


@pytest.mark.parametrize("reply", [malformed(), wrong_shape()], ids=["cut-json", "wrong-shape"])
def test_a_malformed_answer_is_a_typed_error(kind: str, standin: LLMStandIn, reply: Any) -> None:
    standin.script(reply, ok())
    with build(kind, standin.url) as provider:
        details = failure(provider)
    assert (details["reason"], details["attempts"], details["retryable"]) == ("malformed_response", 1, False)


def test_a_refused_connection_is_retried(kind: str) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with build(kind, f"http://127.0.0.1:{port}") as provider:  # nothing listens there any more
        details = failure(provider)
    assert (details["reason"], details["attempts"]) == ("connection", 3)


def test_requests_and_policies_are_checked(standin: LLMStandIn) -> None:
    with build("anthropic", standin.url) as provider, pytest.raises(InvalidInputError, match="at least one message"):
        provider.complete(CompletionRequest(system="s", messages=()))
    assert standin.requests == []
    with pytest.raises(InvalidInputError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(InvalidInputError, match="deadline_s"):
        RetryPolicy(deadline_s=0.0)
    with pytest.raises(InvalidInputError, match="output price"):
        TokenPrices(1.0, -1.0)
    with pytest.raises(InvalidInputError, match="http"):
        OpenAICompatibleProvider(model="m", base_url="127.0.0.1:11434/v1")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"llm_provider": "anthropic", "llm_model": "claude"}, "needs llm_api_key"),
        ({"llm_provider": "anthropic", "llm_api_key": KEY}, "needs llm_model"),
        ({"llm_provider": "openai"}, "llm_model and llm_api_key"),
        ({"llm_provider": "openai_compatible", "llm_model": "llama"}, "SPACECOMPUTER_LLM_BASE_URL"),
        ({"llm_provider": "openai_compatible", "llm_model": "m", "llm_base_url": "localhost:8080"}, "http://"),
        ({"llm_price_input_usd_per_mtok": 3.0}, "set both or neither"),
        ({"llm_provider": "gemini"}, "llm_provider"),
        ({"llm_max_attempts": 0}, "llm_max_attempts"),
        ({"llm_timeout_s": 0}, "llm_timeout_s"),
    ],
)
def test_llm_settings_say_what_they_expected(values: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message) as caught:
        Settings(**values)  # type: ignore[arg-type]
    assert KEY not in str(caught.value)


def test_no_provider_unless_one_is_configured() -> None:
    assert Settings().llm_provider == "none"
    assert provider_from_settings(Settings()) is None


def test_settings_build_each_provider(kind: str, standin: LLMStandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-environment")  # must never reach a compatible server
    base_url = standin.url if kind == "anthropic" else f"{standin.url}/v1/"
    settings = Settings(
        llm_provider=kind,
        llm_model="model-from-settings",
        llm_api_key=None if kind == "openai_compatible" else SecretStr(KEY),
        llm_base_url=base_url,
        llm_timeout_s=1.5,
        llm_max_attempts=2,
        llm_max_retry_wait_s=0.01,
        llm_deadline_s=5.0,
        llm_price_input_usd_per_mtok=1.0,
        llm_price_output_usd_per_mtok=2.0,
    )
    provider = provider_from_settings(settings)
    assert isinstance(provider, RetryingProvider)
    assert (provider.name, provider.model, provider.prices) == (kind, "model-from-settings", TokenPrices(1.0, 2.0))
    assert provider.policy == RetryPolicy(
        max_attempts=2, timeout_s=1.5, deadline_s=5.0, initial_wait_s=0.01, max_wait_s=0.01
    )
    standin.script(server_error(), ok("through the settings", input_tokens=1_000, output_tokens=500))
    with provider:
        completion = provider.complete(REQUEST)
    assert (completion.text, completion.attempts) == ("through the settings", 2)
    assert completion.cost_usd == pytest.approx((1_000 * 1.0 + 500 * 2.0) / 1e6)
    authorization = standin.requests[0].headers["authorization"]
    assert authorization == (f"Bearer {KEY}" if kind != "openai_compatible" else "Bearer unused")
