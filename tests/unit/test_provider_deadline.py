"""Provider calls share one budget (docs/lifecycle.md, rule 6): retries (connection errors and
5xx only, with jitter) end before the function's remaining time minus the safety margin."""

from __future__ import annotations

from collections.abc import Iterator

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


def test_each_attempt_waits_at_most_what_is_left() -> None:
    seen: list[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"]["read"])
        return httpx.Response(200, json={})

    deadline.set_budget(2.0)
    http.post(client(httpx.MockTransport(answer)), "https://p.example/x", b"{}", {}, provider="p",
              retries=2)  # fmt: skip
    assert len(seen) == 1 and seen[0] <= 2.0  # not the configured 10 s


def test_5xx_is_retried_within_the_budget_then_unknown_not_a_refusal() -> None:
    calls: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(503)

    with pytest.raises(ProviderError) as failed:
        http.post(client(httpx.MockTransport(answer)), "https://p.example/x", b"{}", {},
                  provider="p", retries=2)  # fmt: skip
    assert len(calls) == 3 and failed.value.definitive is False


def test_connection_errors_are_retried_and_never_definitive() -> None:
    calls: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(ProviderError) as failed:
        http.post(client(httpx.MockTransport(answer)), "https://p.example/x", b"{}", {},
                  provider="p", retries=1)  # fmt: skip
    assert len(calls) == 2 and failed.value.definitive is False


def test_no_attempt_starts_without_time_left_and_it_is_a_timeout() -> None:
    calls: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(200)

    deadline.set_budget(0.1)
    with pytest.raises(ProviderTimeout):
        http.post(client(httpx.MockTransport(answer)), "https://p.example/x", b"{}", {},
                  provider="p", retries=2)  # fmt: skip
    assert calls == []


def test_a_retry_is_not_started_when_its_backoff_would_outlive_the_budget() -> None:
    calls: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        deadline.set_budget(0.55)  # the first attempt used up the time
        return httpx.Response(502)

    deadline.set_budget(5)
    with pytest.raises(ProviderError):
        http.post(client(httpx.MockTransport(answer)), "https://p.example/x", b"{}", {},
                  provider="p", retries=5)  # fmt: skip
    assert len(calls) <= 2


def test_read_timeouts_are_never_retried() -> None:
    calls: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(ProviderTimeout):
        http.post(client(httpx.MockTransport(answer)), "https://p.example/x", b"{}", {},
                  provider="p", retries=3)  # fmt: skip
    assert calls == [1]
