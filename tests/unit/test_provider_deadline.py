"""Provider calls share one budget (docs/lifecycle.md, rule 6): retries (connection errors and
5xx only, with jitter) end before the function's remaining time minus the safety margin."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from paygate import deadline
from paygate.errors import ProviderError, ProviderTimeout
from paygate.providers import http


class Context:
    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture(autouse=True)
def _no_budget() -> Iterator[None]:
    yield
    deadline.set_budget(None)


URL = "https://p.example/x"


def client(handler: httpx.MockTransport, read: float = 10.0) -> httpx.Client:
    return http.build_client(3.0, read, 2, handler)


def test_the_budget_is_the_remaining_time_minus_the_margin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DEADLINE_MARGIN_SECONDS", "3")
    deadline.start(Context(25_000))
    left = deadline.remaining()
    assert left is not None and 21.5 < left <= 22.0
    deadline.start(None)
    assert deadline.remaining() is None


class Provider:
    """A provider answering every attempt with `reply`, keeping each attempt's request."""

    def __init__(self, reply: Callable[[httpx.Request], httpx.Response]) -> None:
        self.reply = reply
        self.attempts: list[httpx.Request] = []

    def post(self, retries: int) -> httpx.Response:
        """`http.post` to this provider."""
        transport = httpx.MockTransport(self._answer)
        return http.post(client(transport), URL, b"{}", {}, provider="p", retries=retries)

    def _answer(self, request: httpx.Request) -> httpx.Response:
        self.attempts.append(request)
        return self.reply(request)


def raising(error: type[httpx.TransportError]) -> Callable[[httpx.Request], httpx.Response]:
    def reply(request: httpx.Request) -> httpx.Response:
        raise error("no answer", request=request)

    return reply


def test_each_attempt_waits_at_most_what_is_left() -> None:
    provider = Provider(lambda _: httpx.Response(200, json={}))
    deadline.set_budget(2.0)
    provider.post(retries=2)
    seen = [request.extensions["timeout"]["read"] for request in provider.attempts]
    assert len(seen) == 1 and seen[0] <= 2.0  # not the configured 10 s


def test_5xx_is_retried_within_the_budget_then_unknown_not_a_refusal() -> None:
    provider = Provider(lambda _: httpx.Response(503))
    with pytest.raises(ProviderError) as failed:
        provider.post(retries=2)
    assert len(provider.attempts) == 3 and failed.value.definitive is False


def test_connection_errors_are_retried_and_never_definitive() -> None:
    provider = Provider(raising(httpx.ConnectError))
    with pytest.raises(ProviderError) as failed:
        provider.post(retries=1)
    assert len(provider.attempts) == 2 and failed.value.definitive is False


def test_no_attempt_starts_without_time_left_and_it_is_a_timeout() -> None:
    provider = Provider(lambda _: httpx.Response(200))
    deadline.set_budget(0.1)
    with pytest.raises(ProviderTimeout):
        provider.post(retries=2)
    assert provider.attempts == []


@pytest.mark.parametrize(("jitter", "attempts"), [(0.2, 1), (0.01, 6)])
def test_a_retry_is_not_started_when_its_backoff_would_outlive_the_budget(
    monkeypatch: pytest.MonkeyPatch, jitter: float, attempts: int
) -> None:
    """0.55 s left after each attempt: a 0.2 s backoff and a minimal 0.5 s attempt do not fit
    (no retry), a 0.01 s one does (every retry). The jitter is pinned, and so is the backoff
    base (a test that wires a function may have shortened it)."""
    monkeypatch.setattr(http, "RETRY_BACKOFF_SECONDS", 0.2)
    monkeypatch.setattr(http.random, "uniform", lambda _low, _high: jitter)
    monkeypatch.setattr(http.time, "sleep", lambda _seconds: None)

    def reply(_: httpx.Request) -> httpx.Response:
        deadline.set_budget(0.55)  # the attempt used up the time
        return httpx.Response(502)

    provider = Provider(reply)
    deadline.set_budget(5)
    with pytest.raises(ProviderError):
        provider.post(retries=5)
    assert len(provider.attempts) == attempts


def test_read_timeouts_are_never_retried() -> None:
    provider = Provider(raising(httpx.ReadTimeout))
    with pytest.raises(ProviderTimeout):
        provider.post(retries=3)
    assert len(provider.attempts) == 1
