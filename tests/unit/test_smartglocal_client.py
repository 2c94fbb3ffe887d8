"""Smart Glocal client: the bytes sent are the bytes signed, headers, and the error envelope."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from paygate.errors import ProviderError
from paygate.providers.smartglocal import signing
from paygate.providers.smartglocal.client import SmartglocalClient, SmartglocalCredentials

VECTORS = Path(__file__).parents[1] / "vectors/smartglocal"
PRIVATE = (VECTORS / "private.pem").read_text()
PUBLIC = (VECTORS / "public.pem").read_text()
SESSION = {"status": "ok", "session": {"id": "ps_1", "status": "in_progress"}}


def client_answering(
    status: int, body: object, seen: list[httpx.Request] | None = None
) -> SmartglocalClient:
    def answer(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return httpx.Response(status, json=body)

    credentials = SmartglocalCredentials(project="proj", private_key_pem=PRIVATE)
    http = httpx.Client(transport=httpx.MockTransport(answer))
    return SmartglocalClient("https://sg.example/", credentials, http, retries=0)


def test_request_is_signed_over_exactly_the_bytes_sent() -> None:
    seen: list[httpx.Request] = []
    fields = {"amount_details": {"amount": 100000, "currency": "VND"}, "name": "Nguyễn Văn A"}
    session = client_answering(200, SESSION, seen).init_payment(fields, "pay_1")
    assert session.id == "ps_1"
    (request,) = seen
    assert str(request.url) == "https://sg.example/api/v1/session/init/payment"
    assert request.headers["X-PARTNER-PROJECT"] == "proj"
    assert request.headers["X-PARTNER-IDEMPOTENCY-KEY"] == "pay_1"
    assert signing.is_valid(request.content, request.headers["X-PARTNER-SIGN"], [PUBLIC])
    assert json.loads(request.content) == fields
    assert "Nguyễn".encode() in request.content  # UTF-8 as is, not \\u escapes


def test_confirm_sends_the_session_id_without_idempotency_key() -> None:
    seen: list[httpx.Request] = []
    client_answering(200, SESSION, seen).confirm("ps_1")
    assert seen[0].url.path == "/api/v1/session/confirm"
    assert json.loads(seen[0].content) == {"session_id": "ps_1"}
    assert "X-PARTNER-IDEMPOTENCY-KEY" not in seen[0].headers


@pytest.mark.parametrize("http_status", [200, 400, 422])
def test_error_envelope_is_a_provider_error_with_the_code(http_status: int) -> None:
    body = {"status": "error", "error": {"code": "invalid_request", "description": "bad field"}}
    with pytest.raises(ProviderError) as caught:
        client_answering(http_status, body).cancel("ps_1")
    assert caught.value.provider_code == "invalid_request"
    assert caught.value.provider_message == "bad field"
    assert caught.value.definitive


def test_reused_idempotency_key_is_not_definitive() -> None:
    body = {"status": "error", "error": {"code": "idempotency_key_already_exists"}}
    with pytest.raises(ProviderError) as caught:
        client_answering(409, body).init_payment({}, "pay_1")
    assert not caught.value.definitive


def test_unreadable_answer_is_a_provider_error() -> None:
    with pytest.raises(ProviderError) as caught:
        client_answering(404, ["not", "an", "envelope"]).status("ps_1")
    assert caught.value.provider_code == "404"
