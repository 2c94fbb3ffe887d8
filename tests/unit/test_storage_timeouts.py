"""DynamoDB that does not answer (a read timeout, a refused connection, after botocore's own
retries) is `StorageBusy` (503 with Retry-After for the API, a provider's retry for a webhook),
never an unhandled error (500)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError

from paygate.api import HTTPStatus, http_status_for
from paygate.errors import StorageBusy
from paygate.repository import PaymentRepository


class Silent:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def get_item(self, **_: Any) -> Any:
        raise self.error


@pytest.mark.parametrize(
    "error",
    [
        ReadTimeoutError(endpoint_url="http://127.0.0.1:1"),
        ConnectTimeoutError(endpoint_url="http://127.0.0.1:1"),
        EndpointConnectionError(endpoint_url="http://127.0.0.1:1"),
    ],
    ids=["read-timeout", "connect-timeout", "refused"],
)
def test_an_unanswered_call_is_storage_busy(error: Exception) -> None:
    repository = PaymentRepository("PaymentsTable", timedelta(days=1), client=Silent(error))
    with pytest.raises(StorageBusy) as busy:
        repository.get("pay_20261207000000abcdef0123")
    assert http_status_for(busy.value) is HTTPStatus.SERVICE_UNAVAILABLE
