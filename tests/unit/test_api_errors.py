"""One error shape; domain errors mapped to HTTP statuses in one table."""

from __future__ import annotations

import json

import pytest

from paygate.api import from_domain_error, http_status_for
from paygate.errors import (
    ConcurrentUpdate,
    InvalidState,
    LimitError,
    MalformedRequest,
    PaymentNotFound,
    ProviderError,
    ProviderTimeout,
    SignatureInvalid,
    ValidationFailed,
)

CASES = [
    (MalformedRequest("x"), 400),
    (SignatureInvalid("x"), 401),
    (PaymentNotFound("x"), 404),
    (InvalidState("x"), 409),
    (ConcurrentUpdate("x"), 409),
    (ValidationFailed("x"), 422),
    (LimitError("x"), 422),
    (ProviderError("x"), 502),
    (ProviderTimeout("x"), 504),
]


@pytest.mark.parametrize(("error", "status"), CASES)
def test_status(error: Exception, status: int) -> None:
    assert http_status_for(error) == status  # type: ignore[arg-type]


def test_provider_error_names_the_recorded_payment() -> None:
    error = ProviderError("refused", provider_code="8000")
    error.payment_id = "pay_1"
    response = from_domain_error(error)
    assert response.status_code == 502
    assert json.loads(str(response.body)) == {
        "error": {
            "code": "provider_error",
            "message": "refused",
            "payment_id": "pay_1",
            "provider_code": "8000",
        }
    }
