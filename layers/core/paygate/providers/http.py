"""Outbound HTTP to providers: explicit timeouts, bounded retries with jitter on connection
errors and 5xx only (never on read timeouts: the provider may have acted), all inside the
invocation's budget (`paygate.deadline`), mapped to domain errors. Every failure that leaves the
outcome unknown (timeout, connection error, 5xx) is a non-definitive `ProviderError`: the
payment stays pending and reconciliation settles it by query."""

from __future__ import annotations

import random
import time
from collections.abc import Mapping

import httpx
from pydantic import BaseModel, ValidationError

from paygate import deadline
from paygate.errors import ProviderError, ProviderTimeout
from paygate.observability import logger

RETRY_BACKOFF_SECONDS = 0.2
# An attempt needs at least this much of the budget, or it is not started.
MIN_ATTEMPT_SECONDS = 0.5


def build_client(
    connect_timeout: float, read_timeout: float, retries: int, transport: httpx.BaseTransport | None
) -> httpx.Client:
    """An httpx client with the function's timeouts; retries are `post`'s (within the budget),
    so the transport itself does not retry."""
    del retries  # bounded by `post`, which knows the deadline
    timeout = httpx.Timeout(read_timeout, connect=connect_timeout)
    return httpx.Client(timeout=timeout, transport=transport or httpx.HTTPTransport(retries=0))


def _attempt_timeout(client: httpx.Client, provider: str) -> httpx.Timeout:
    """The client's timeouts, cut to what is left of the budget."""
    configured = client.timeout
    left = deadline.remaining()
    if left is None:
        return configured
    if left < MIN_ATTEMPT_SECONDS:
        raise ProviderTimeout(f"no time left to wait for {provider} within the function's deadline")
    read = min(configured.read or left, left)
    connect = min(configured.connect or left, left)
    return httpx.Timeout(read, connect=connect, write=read, pool=connect)


def _backoff(attempt: int) -> bool:
    """Sleep a jittered backoff before retry `attempt + 1` when the budget allows it."""
    pause = random.uniform(0, RETRY_BACKOFF_SECONDS * 2**attempt)  # noqa: S311 (jitter)
    if not deadline.allows(pause + MIN_ATTEMPT_SECONDS):
        return False
    time.sleep(pause)
    return True


def post(
    client: httpx.Client,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    provider: str,
    retries: int,
) -> httpx.Response:
    """POST exactly `body`; retry connection errors and 5xx answers up to `retries` times with
    jittered backoff while the invocation's budget allows."""
    failure: ProviderError | None = None
    for attempt in range(retries + 1):
        if attempt and not _backoff(attempt - 1):
            break
        timeout = _attempt_timeout(client, provider)
        try:
            response = client.post(url, content=body, headers=dict(headers), timeout=timeout)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            failure = ProviderError(f"{provider} is unreachable", definitive=False)
            failure.__cause__ = exc
            logger.warning("provider unreachable", extra={"provider": provider, "attempt": attempt})
            continue
        except httpx.TimeoutException as exc:
            raise ProviderTimeout(f"{provider} did not answer in time") from exc
        except httpx.TransportError as exc:
            raise ProviderError(f"{provider} connection failed", definitive=False) from exc
        if response.status_code < 500:
            return response
        logger.warning(
            "provider answered 5xx",
            extra={"provider": provider, "status_code": response.status_code, "attempt": attempt},
        )
        failure = ProviderError(
            f"{provider} failed with HTTP {response.status_code}",
            provider_code=str(response.status_code),
            definitive=False,
        )
    if failure is None:  # the budget ran out before any attempt could start
        raise ProviderTimeout(f"no time left to call {provider} within the function's deadline")
    raise failure


def unreadable(response: httpx.Response, provider: str) -> ProviderError:
    """An answer whose body cannot be read: certain for a 4xx, uncertain otherwise."""
    return ProviderError(
        f"{provider} answered HTTP {response.status_code} with an unreadable body",
        provider_code=str(response.status_code),
        definitive=response.is_client_error,
    )


def read_answer[M: BaseModel](model: type[M], response: httpx.Response, provider: str) -> M:
    """The answer read as `model`; an unreadable one is a `ProviderError` (`unreadable`)."""
    try:
        return model.model_validate_json(response.content)
    except ValidationError as exc:
        raise unreadable(response, provider) from exc


class ProviderClient[C]:
    """What every provider client holds (its base URL, credentials, the container's pooled
    httpx client and the retries of `post`) and its one way to send a body."""

    provider: str

    def __init__(self, base_url: str, credentials: C, client: httpx.Client, retries: int):
        self.base_url = base_url.rstrip("/")
        self.credentials = credentials
        self.client = client
        self.retries = retries

    def _send(self, path: str, body: bytes, headers: Mapping[str, str]) -> httpx.Response:
        """`post` exactly `body` to the base URL + `path`."""
        url = f"{self.base_url}{path}"
        return post(self.client, url, body, headers, provider=self.provider, retries=self.retries)
