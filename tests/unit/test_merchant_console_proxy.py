"""The operator console's merchant proxy routes (local/merchant/proxy.py) against a stub
gateway on 127.0.0.1 that records what it was sent: the path, the query, the headers (the
operator's `Authorization`, never the merchant's `x-api-key`; the review's
`Idempotency-Key`) and the body; unknown query parameters and body fields never reach the
gateway."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from local.merchant.proxy import LIST_PARAMETERS, MerchantProxy, ProxyReply
from tools.launcher import ROOT

API_KEY = "merchant-key"
JSON = {"Content-Type": "application/json"}
OPERATOR = {"Authorization": "eyJ.operator.token"}


@dataclass(frozen=True)
class Forwarded:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: Any


class StubGateway:
    """Answers every request with `answer` (status, JSON; 200 `{"stub": true}` until set)
    and records it."""

    def __init__(self) -> None:
        self.seen: list[Forwarded] = []
        self.answer: tuple[int, Any] = (200, {"stub": True})
        stub = self

        class _Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                url = urlsplit(self.path)
                stub.seen.append(
                    Forwarded(
                        self.command,
                        url.path,
                        parse_qsl(url.query, keep_blank_values=True),
                        {key.lower(): value for key, value in self.headers.items()},
                        json.loads(raw) if raw else None,
                    )
                )
                status, document = stub.answer
                body = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = _answer
            do_POST = _answer

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    def only(self) -> Forwarded:
        assert len(self.seen) == 1, self.seen
        return self.seen[0]


@pytest.fixture
def gateway() -> Iterator[StubGateway]:
    stub = StubGateway()
    stub.thread.start()
    yield stub
    stub.server.shutdown()
    stub.server.server_close()


@pytest.fixture
def proxy(gateway: StubGateway) -> MerchantProxy:
    return MerchantProxy(gateway.url, API_KEY, lambda: {"paths": {}}, timeout=5)


def _call(
    proxy: MerchantProxy,
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    query: str = "",
) -> ProxyReply:
    reply = proxy.handle(method, path, body, headers or {}, query)
    assert reply is not None
    return reply


@pytest.mark.parametrize("kind", ["payments", "payouts"])
def test_a_list_passes_on_the_known_filters_only(
    proxy: MerchantProxy, gateway: StubGateway, kind: str
) -> None:
    query = (
        "merchant_reference=order-1001&status=needs_review&provider=monetix"
        "&method=bank_transfer&created_from=2026-12-01T00%3A00%3A00Z"
        "&created_to=2026-12-02T00%3A00%3A00Z&limit=20&cursor=abc%2B%2F%3D"
        "&x-api-key=stolen&api_key=x&sort=oldest&merchant_id=other"
    )
    reply = _call(proxy, "GET", f"/merchant/{kind}", headers=OPERATOR, query=query)
    assert (reply.status, json.loads(reply.body)) == (200, {"stub": True})
    sent = gateway.only()
    assert (sent.method, sent.path) == ("GET", f"/v1/{kind}")
    assert sent.query == [
        ("merchant_reference", "order-1001"),
        ("status", "needs_review"),
        ("provider", "monetix"),
        ("method", "bank_transfer"),
        ("created_from", "2026-12-01T00:00:00Z"),
        ("created_to", "2026-12-02T00:00:00Z"),
        ("limit", "20"),
        ("cursor", "abc+/="),
    ]
    assert {name for name, _ in sent.query} == LIST_PARAMETERS
    assert sent.headers["authorization"] == OPERATOR["Authorization"]
    assert "x-api-key" not in sent.headers  # an operator route: the operator's token only
    assert "idempotency-key" not in sent.headers


def test_a_list_without_filters_and_empty_values_sends_no_query(
    proxy: MerchantProxy, gateway: StubGateway
) -> None:
    _call(proxy, "GET", "/merchant/payments", query="status=&merchant_reference=&unknown=1")
    assert gateway.only().query == []


@pytest.mark.parametrize(
    "path",
    [
        "payouts/po_20261201000000abcdef0123",
        "payments/pay_20261201000000abcdef0123/timeline",
        "payouts/po_20261201000000abcdef0123/timeline",
    ],
)
def test_reads_of_one_payment_or_payout(
    proxy: MerchantProxy, gateway: StubGateway, path: str
) -> None:
    reply = _call(proxy, "GET", f"/merchant/{path}", headers=OPERATOR, query="cursor=x&extra=1")
    assert reply.status == 200
    sent = gateway.only()
    assert (sent.method, sent.path, sent.query) == ("GET", f"/v1/{path}", [])
    assert sent.headers["authorization"] == OPERATOR["Authorization"]
    assert "x-api-key" not in sent.headers


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "payments"),
        ("GET", "payouts/po_1"),
        ("GET", "payments/pay_1/timeline"),
        ("POST", "payouts/po_1/review"),
    ],
)
def test_an_operator_route_without_a_sign_in_carries_no_credential(
    proxy: MerchantProxy, gateway: StubGateway, method: str, path: str
) -> None:
    """The proxy never lends the merchant's key to an operator route: without the browser's
    `Authorization` the gateway sees no credential at all (and answers 401)."""
    body = json.dumps({"decision": "accept", "note": "n"}).encode() if method == "POST" else b""
    _call(proxy, method, f"/merchant/{path}", body, JSON if method == "POST" else {})
    sent = gateway.only()
    assert "x-api-key" not in sent.headers and "authorization" not in sent.headers


@pytest.mark.parametrize("kind", ["payments", "payouts"])
def test_a_review_passes_on_decision_note_and_the_browsers_key(
    proxy: MerchantProxy, gateway: StubGateway, kind: str
) -> None:
    body = {"decision": "accept", "note": "checked with Monetix", "status": "succeeded", "x": 1}
    reply = _call(
        proxy,
        "POST",
        f"/merchant/{kind}/id_1/review",
        json.dumps(body).encode(),
        {**JSON, **OPERATOR, "Idempotency-Key": "browser-key-1", "x-api-key": "browser-guess"},
    )
    assert reply.status == 200
    sent = gateway.only()
    assert (sent.method, sent.path) == ("POST", f"/v1/{kind}/id_1/review")
    assert sent.body == {"decision": "accept", "note": "checked with Monetix"}
    assert sent.headers["idempotency-key"] == "browser-key-1"
    assert sent.headers["authorization"] == OPERATOR["Authorization"]
    assert "x-api-key" not in sent.headers


def test_a_review_without_a_key_gets_a_fresh_one_each_time(
    proxy: MerchantProxy, gateway: StubGateway
) -> None:
    body = json.dumps({"decision": "reject", "note": "no money arrived"}).encode()
    for _ in range(2):
        _call(proxy, "POST", "/merchant/payments/pay_1/review", body, JSON)
    keys = [sent.headers["idempotency-key"] for sent in gateway.seen]
    assert len(keys) == 2 and all(keys) and keys[0] != keys[1]


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        (b'{"decision": "accept", "note": "x"}', {}, 415, "unsupported_media_type"),
        (b'{"decision": "accept", "note": "x"}', {"Content-Type": "text/plain"}, 415, None),
        (b"decision=accept", JSON, 400, "malformed_request"),
        (b'["accept"]', JSON, 400, "malformed_request"),
    ],
)
def test_a_review_that_is_not_a_json_object_is_refused_here(
    proxy: MerchantProxy,
    gateway: StubGateway,
    body: bytes,
    headers: dict[str, str],
    status: int,
    code: str | None,
) -> None:
    reply = _call(proxy, "POST", "/merchant/payments/pay_1/review", body, headers)
    assert reply.status == status
    if code:
        assert json.loads(reply.body)["error"]["code"] == code
    assert gateway.seen == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/merchant/refunds"),
        ("GET", "/merchant/payments/pay_1/events"),
        ("GET", "/merchant/payments/a/b/timeline"),
        ("GET", "/merchant/payments/pay_1/review"),
        ("POST", "/merchant/payouts/po_1/confirm"),
        ("POST", "/merchant/payments/pay_1/timeline"),
        ("POST", "/merchant/payments"),
    ],
)
def test_other_routes_are_not_forwarded(
    proxy: MerchantProxy, gateway: StubGateway, method: str, path: str
) -> None:
    reply = _call(proxy, method, path, b"{}", JSON)
    assert reply.status == 404
    assert gateway.seen == []


def test_the_gateways_answer_is_passed_through(proxy: MerchantProxy, gateway: StubGateway) -> None:
    error = {"error": {"code": "invalid_cursor", "message": "not a cursor of this query"}}
    gateway.answer = (400, error)
    reply = _call(proxy, "GET", "/merchant/payments", query="cursor=forged")
    assert (reply.status, reply.content_type) == (400, "application/json")
    assert json.loads(reply.body) == error
    assert reply.headers["Cache-Control"] == "no-store"


def test_an_unreachable_gateway_is_a_502() -> None:
    unreachable = MerchantProxy("http://127.0.0.1:9", API_KEY, lambda: {"paths": {}}, timeout=2)
    reply = _call(unreachable, "GET", "/merchant/payments", query="status=failed")
    assert reply.status == 502
    assert json.loads(reply.body)["error"]["code"] == "gateway_unreachable"


# ---- the checkout's create: what the merchant adds per provider ---------------------------


@pytest.fixture
def checkout_proxy(gateway: StubGateway) -> MerchantProxy:
    """The proxy with the real OpenAPI document (every provider's create route)."""
    document = json.loads((ROOT / "docs" / "openapi.json").read_text())
    return MerchantProxy(gateway.url, API_KEY, lambda: document, timeout=5)


@pytest.mark.parametrize(
    ("provider", "method", "added"),
    [
        # Monetix stays on Gate: its callback brings the transfer details the page shows.
        ("monetix", "bank_transfer", {"flow": "gate", "ip_address": "127.0.0.1"}),
        ("ecommpay", "napas_atm", {"flow": "payment_page"}),
        ("paypro", "vietqr", {}),
    ],
)
def test_a_checkout_create_adds_the_merchants_fields(
    checkout_proxy: MerchantProxy,
    gateway: StubGateway,
    provider: str,
    method: str,
    added: dict[str, str],
) -> None:
    typed = {"email": "buyer@example.com", "id": "forged", "ip_address": "203.0.113.9"}
    body = {"method": method, "amount": 100000, "customer": typed, "flow": "payment_page"}
    reply = _call(
        checkout_proxy, "POST", f"/merchant/payments/{provider}", json.dumps(body).encode(), JSON
    )
    assert reply.status == 200
    sent = gateway.only()
    assert sent.path == f"/v1/{provider}/payments" and sent.headers["x-api-key"] == API_KEY
    assert sent.body.get("flow") == added.get("flow")
    if "flow" in added:  # the merchant's own customer id and (Gate) the address it saw
        customer = {**typed, "id": "checkout-customer"}
        if "ip_address" in added:
            customer["ip_address"] = added["ip_address"]
        assert sent.body["customer"] == customer
