"""A tiny merchant backend for the checkout page and the operator console: the part a
merchant implements on its own server so that the API key never reaches the browser.

The checkout page (local/merchant/checkout/) only talks to these same-origin routes:

    GET  /merchant/methods                    the methods on offer (from the API's routes)
    GET  /merchant/qr.svg?data=<text>         the QR code of a payment link or payload (SVG)
    POST /merchant/payments/<provider>        {"method", "amount", "customer"?, "confirmation"?}
    GET  /merchant/payments/<id>              → GET  /v1/payments/<id>
    POST /merchant/payments/<id>/confirm      → POST /v1/payments/<id>/confirm
    POST /merchant/payments/<id>/cancel       → POST /v1/payments/<id>/cancel

The create is the only call made with the merchant's key; its answer carries the payment's
`client_secret`, and the page's read, confirm and cancel send that secret in `x-api-key`,
which is passed on as it is: the proxy adds no key to them (a confirm or cancel without a
secret is the gateway's 401), so a payment id alone reads, confirms or cancels nothing.

The operator console (local/merchant/console/) adds, for `<kind>` payments or payouts:

    GET  /merchant/<kind>?<query>             → GET  /v1/<kind>?<query> (the list filters only)
    GET  /merchant/payouts/<id>               → GET  /v1/payouts/<id>
    GET  /merchant/<kind>/<id>/timeline       → GET  /v1/<kind>/<id>/timeline
    POST /merchant/<kind>/<id>/review         {"decision", "note"} → POST /v1/<kind>/<id>/review

A list passes on only the query parameters the API's list knows (`LIST_PARAMETERS`); a
review passes on only `decision` and `note`, with the browser's `Idempotency-Key` (a fresh
one when the browser sent none), so a retried review is answered once. These operator routes
carry the operator's own `Authorization` header (the console's sign-in) and never the API
key: the gateway's Cognito authorizer decides who may read, and the review function who may
decide (docs/security.md).

A create adds what only the merchant knows or may decide: its order id
(`merchant_reference`), the `Idempotency-Key`, the currency and the `x-api-key` header, and
for the platform providers the flow with its customer id (and, on Gate, the shopper's IP
address); the fields taken from the browser are an allow-list. Answers are the gateway's own
(status and JSON body), so the page handles one error shape. Cross-site form posts cannot
reach the POST routes: they need `Content-Type: application/json` (which a cross-origin page
can only send after a CORS preflight this proxy never grants).
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl

import httpx

from local.merchant import qr
from tools.openapi import create_routes

PREFIX = "/merchant/"
BROWSER_FIELDS = ("method", "amount", "customer", "confirmation", "description")
REVIEW_FIELDS = ("decision", "note")
LIST_PARAMETERS = frozenset(
    {"merchant_reference", "status", "provider", "method", "created_from", "created_to"}
    | {"limit", "cursor"}
)
# What a shop knows about its logged-in customer and adds itself: its own customer id and, on
# the Gate flow, the address its server saw the shopper's browser connect from (the local
# runtime's front door passes no peer address: a local shopper is on this machine).
CHECKOUT_CUSTOMER_ID = "checkout-customer"
CHECKOUT_CUSTOMER_IP = "127.0.0.1"
# ecommpay customers choose their bank or wallet on ecommpay's hosted Payment Page; Monetix
# bank transfers stay on the Gate flow, whose callback brings the transfer details
# (`display_data`) the checkout shows with copy buttons.
HOSTED_PAGE_PROVIDERS = frozenset({"ecommpay"})
MERCHANT_FILLED = frozenset({"customer.id", "customer.ip_address"})
_PAYMENT_ID = r"[A-Za-z0-9_-]{1,64}"
_PROVIDER = r"[a-z0-9_-]{1,32}"
_KIND = r"(?:payments|payouts)"
_JSON = "application/json"


@dataclass(frozen=True)
class ProxyReply:
    status: int
    content_type: str
    body: bytes
    headers: dict[str, str]


def _reply(status: int, document: Any) -> ProxyReply:
    body = json.dumps(document, ensure_ascii=False).encode()
    return ProxyReply(status, _JSON, body, {"Cache-Control": "no-store"})


def _error(status: int, code: str, message: str) -> ProxyReply:
    return _reply(status, {"error": {"code": code, "message": message}})


def _qr(query: str) -> ProxyReply:
    try:
        drawn = qr.svg(qr.data_of(query))
    except qr.QrRequestError as refused:
        return _error(refused.status, refused.code, str(refused))
    return ProxyReply(200, "image/svg+xml", drawn, {"Cache-Control": "private, max-age=300"})


def _json_object(body: bytes) -> dict[str, Any] | ProxyReply:
    """The request body as a JSON object, or the 400 that says why it is not one."""
    try:
        given = json.loads(body or b"{}")
    except ValueError:
        return _error(400, "malformed_request", "request body is not valid JSON")
    if not isinstance(given, dict):
        return _error(400, "malformed_request", "request body must be a JSON object")
    return given


def list_parameters(query: str) -> list[tuple[str, str]]:
    """The list filters of a browser's query string, in order; other parameters and empty
    values are dropped."""
    return [(name, value) for name, value in parse_qsl(query) if name in LIST_PARAMETERS]


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Follow a `$ref` (or the non-null branch of `anyOf [X, null]`) to its schema."""
    for option in schema.get("anyOf", []):
        if option.get("type") != "null":
            return _resolve(document, option)
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        resolved: dict[str, Any] = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
        return resolved
    return schema


def _platform_fields(method: str, hosted: bool, channel: Literal[1, 2]) -> list[str]:
    """The customer fields a platform purchase needs (the provider docs) on its flow (the
    hosted Payment Page or Gate) and the project's NAPAS ATM `channel`, less what the
    merchant fills in itself (`MERCHANT_FILLED`)."""
    from paygate.domain import Flow, Method
    from paygate.providers.platform.rules import required_fields

    flow = Flow.PAYMENT_PAGE if hosted else Flow.GATE
    needed = required_fields(Method(method), flow, channel)
    return [path.split(".", 1)[1] for path in needed if path not in MERCHANT_FILLED]


def request_properties(document: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    """The JSON request body's top-level properties of a create operation."""
    content = operation.get("requestBody", {}).get("content", {}).get(_JSON, {})
    properties: dict[str, Any] = _resolve(document, content.get("schema", {})).get("properties", {})
    return properties


def offered_methods(
    document: dict[str, Any],
    minimums: dict[str, int] | None = None,
    atm_channel: Literal[1, 2] = 1,
) -> list[dict[str, Any]]:
    """One entry per method of each `POST /v1/<provider>/payments` route: what the page must
    ask for (`key` tells the entries of one provider apart); `atm_channel` is the ecommpay
    project's NAPAS ATM channel."""
    minimums = minimums or {}
    methods = []
    for provider, operation in sorted(create_routes(document).items()):
        properties = request_properties(document, operation)
        method_schema = properties.get("method", {})
        choices = method_schema.get("enum") or [
            method_schema.get("const") or method_schema.get("default") or provider
        ]
        customer: dict[str, Any] = {}
        if "customer" in properties:
            customer = _resolve(document, properties["customer"])
        confirmation = _resolve(document, properties.get("confirmation", {}))
        for method in choices:
            fields = (
                _platform_fields(method, provider in HOSTED_PAGE_PROVIDERS, atm_channel)
                if "flow" in properties
                else list(customer.get("required", []))
            )
            methods.append(
                {
                    "key": provider if len(choices) == 1 else f"{provider}-{method}",
                    "provider": provider,
                    "method": method,
                    "summary": operation.get("summary", ""),
                    "minimum_amount": minimums.get(str(method), 1),
                    "customer_fields": fields,
                    "confirmation": list(confirmation.get("enum", [])),
                }
            )
    return methods


def _client_secret(headers: dict[str, str]) -> str:
    """The client secret the checkout sent in `x-api-key` (a payment's, never a merchant key:
    the gateway's authorizer decides what it may do)."""
    return next((v for k, v in headers.items() if k.lower() == "x-api-key"), "")


class MerchantProxy:
    """Routes under /merchant/ → the gateway at `api_url` with the merchant's API key."""

    def __init__(
        self,
        api_url: str,
        api_key: str,
        document: Callable[[], dict[str, Any]],
        minimums: dict[str, int] | None = None,
        timeout: float = 30.0,
        atm_channel: Literal[1, 2] = 1,
    ) -> None:
        self.api_url = api_url
        self.api_key = api_key
        self.document = document
        self.minimums = minimums or {}
        self.timeout = timeout
        self.atm_channel = atm_channel

    def providers(self) -> set[str]:
        return set(create_routes(self.document()))

    def handle(
        self, method: str, path: str, body: bytes, headers: dict[str, str], query: str = ""
    ) -> ProxyReply | None:
        """The answer for a /merchant/ route; None when `path` is not one of them."""
        if not path.startswith(PREFIX):
            return None
        rest = path[len(PREFIX) :]
        operator = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        if method == "GET":
            return self._get(rest, query, operator, _client_secret(headers))
        if method != "POST":
            return _error(404, "not_found", "no such merchant route")
        content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        if content_type.split(";")[0].strip().lower() != _JSON:
            return _error(415, "unsupported_media_type", "send Content-Type: application/json")
        return self._post(rest, body, headers)

    def _get(self, rest: str, query: str, operator: str = "", secret: str = "") -> ProxyReply:
        if PREFIX + rest == qr.PATH:
            return _qr(query)
        if rest == "methods":
            return _reply(
                200, {"methods": offered_methods(self.document(), self.minimums, self.atm_channel)}
            )
        if re.fullmatch(_KIND, rest):
            return self._operator("GET", f"/v1/{rest}", None, operator, list_parameters(query))
        if re.fullmatch(f"(?:{_KIND}/{_PAYMENT_ID}/timeline|payouts/{_PAYMENT_ID})", rest):
            return self._operator("GET", f"/v1/{rest}", None, operator)
        if re.fullmatch(f"payments/{_PAYMENT_ID}", rest):  # the checkout's read, its secret
            return self._as_shopper("GET", f"/v1/{rest}", None, secret)
        return _error(404, "not_found", "no such merchant route")

    def _post(self, rest: str, body: bytes, headers: dict[str, str]) -> ProxyReply:
        action = re.fullmatch(f"payments/({_PAYMENT_ID})/(confirm|cancel)", rest)
        if action:  # the shopper's own decision: with its client secret, never the key
            return self._as_shopper("POST", f"/v1/{rest}", {}, _client_secret(headers))
        if re.fullmatch(f"{_KIND}/{_PAYMENT_ID}/review", rest):
            return self._review(rest, body, headers)
        create = re.fullmatch(f"payments/({_PROVIDER})", rest)
        if create and create.group(1) in self.providers():
            return self._create(create.group(1), body)
        return _error(404, "not_found", "no such merchant route")

    def _create_properties(self, provider: str) -> dict[str, Any]:
        document = self.document()
        return request_properties(document, create_routes(document)[provider])

    def _review(self, rest: str, body: bytes, headers: dict[str, str]) -> ProxyReply:
        given = _json_object(body)
        if isinstance(given, ProxyReply):
            return given
        decision = {key: given[key] for key in REVIEW_FIELDS if key in given}
        key = next((v for k, v in headers.items() if k.lower() == "idempotency-key"), "")
        operator = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        return self._operator(
            "POST", f"/v1/{rest}", decision, operator, idempotency_key=key or secrets.token_hex(16)
        )

    def _create(self, provider: str, body: bytes) -> ProxyReply:
        given = _json_object(body)
        if isinstance(given, ProxyReply):
            return given
        order = {key: given[key] for key in BROWSER_FIELDS if key in given}
        if "flow" in self._create_properties(provider):
            given_customer = order.get("customer")
            customer = given_customer if isinstance(given_customer, dict) else {}
            if provider in HOSTED_PAGE_PROVIDERS:
                order["flow"] = "payment_page"
                order["customer"] = {**customer, "id": CHECKOUT_CUSTOMER_ID}
            else:
                order["flow"] = "gate"
                order["customer"] = {
                    **customer,
                    "id": CHECKOUT_CUSTOMER_ID,
                    "ip_address": CHECKOUT_CUSTOMER_IP,
                }
        # The merchant's own order id; a real shop uses its order number here.
        order["merchant_reference"] = f"checkout-{int(time.time())}-{secrets.token_hex(3)}"
        order["currency"] = "VND"
        return self._forward(
            "POST", f"/v1/{provider}/payments", order, idempotency_key=secrets.token_hex(16)
        )

    def _operator(
        self,
        method: str,
        path: str,
        payload: dict[str, Any] | None,
        authorization: str,
        params: Sequence[tuple[str, str]] = (),
        *,
        idempotency_key: str | None = None,
    ) -> ProxyReply:
        """An operator route: the browser's `Authorization` header passed on, no API key."""
        return self._forward(
            method,
            path,
            payload,
            params=params,
            idempotency_key=idempotency_key,
            headers={"Authorization": authorization} if authorization else {},
        )

    def _as_shopper(
        self, method: str, path: str, payload: dict[str, Any] | None, secret: str
    ) -> ProxyReply:
        """What the checkout may do itself (read, confirm or cancel its payment): the browser's
        client secret passed on in `x-api-key`, never the merchant's key (none: the gateway's
        401)."""
        return self._forward(method, path, payload, headers={"x-api-key": secret} if secret else {})

    def _forward(
        self,
        method: str,
        path: str,
        payload: dict[str, Any] | None,
        *,
        params: Sequence[tuple[str, str]] = (),
        idempotency_key: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> ProxyReply:
        headers = {"x-api-key": self.api_key} if headers is None else dict(headers)
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        try:
            with httpx.Client(base_url=self.api_url, timeout=self.timeout) as client:
                answer = client.request(
                    method, path, json=payload, headers=headers, params=list(params)
                )
        except httpx.HTTPError as exc:
            return _error(502, "gateway_unreachable", f"the gateway did not answer: {exc}")
        content_type = answer.headers.get("content-type", _JSON)
        return ProxyReply(
            answer.status_code, content_type, answer.content, {"Cache-Control": "no-store"}
        )
