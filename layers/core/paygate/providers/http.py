"""Outbound HTTP to providers: explicit timeouts, bounded retries on connection errors and
5xx only (never on read timeouts: the provider may have acted), mapped to domain errors."""

from __future__ import annotations

import time
from collections.abc import Mapping

import httpx
from pydantic import BaseModel, ValidationError

from paygate.errors import ProviderError, ProviderTimeout
from paygate.observability import logger

RETRY_BACKOFF_SECONDS = 0.2


def build_client(
    connect_timeout: float, read_timeout: float, retries: int, transport: httpx.BaseTransport | None
) -> httpx.Client:
    """An httpx client whose transport itself retries failed connections `retries` times."""
    timeout = httpx.Timeout(read_timeout, connect=connect_timeout)
    return httpx.Client(
        timeout=timeout, transport=transport or httpx.HTTPTransport(retries=retries)
    )


def post(
    client: httpx.Client,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    provider: str,
    retries: int,
) -> httpx.Response:
    """POST exactly `body`; retry 5xx answers up to `retries` times with a short backoff."""
    for attempt in range(retries + 1):
        try:
            response = client.post(url, content=body, headers=dict(headers))
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            # The request never left: the provider certainly did nothing.
            raise ProviderError(f"{provider} is unreachable", definitive=True) from exc
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
        if attempt < retries:
            time.sleep(RETRY_BACKOFF_SECONDS * 2**attempt)
    raise ProviderError(
        f"{provider} failed with HTTP {response.status_code}",
        provider_code=str(response.status_code),
        definitive=False,
    )


def post_and_read[M: BaseModel](
    model: type[M],
    client: httpx.Client,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    provider: str,
    retries: int,
) -> tuple[httpx.Response, M]:
    """`post`, then the answer read as `model`; an unreadable answer is a `ProviderError`
    (certain for a 4xx, uncertain otherwise)."""
    response = post(client, url, body, headers, provider=provider, retries=retries)
    try:
        return response, model.model_validate_json(response.content)
    except ValidationError as exc:
        raise ProviderError(
            f"{provider} answered HTTP {response.status_code} with an unreadable body",
            provider_code=str(response.status_code),
            definitive=response.is_client_error,
        ) from exc
