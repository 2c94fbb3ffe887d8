"""Local stand-in for the ecommpay payment platform (Gate API, Payment Page, callbacks), which
ecommpay and Monetix both run: one class, one instance per provider with its own project id
and secret (providers.md §2; the three provider docs).

Gate (JSON POST, HMAC-SHA512 `general.signature`, `general.project_id` = the project):
``/v2/payment/atm/vietnam/sale`` and ``/v2/payment/wallet/nganluong/sale`` (ecommpay),
``/v2/payment/bank-transfer/vietnam/sale`` (Monetix), the payouts
``/v2/payment/atm/vietnam/payout`` and ``/v2/payment/wallet/nganluong/payout`` (ecommpay: the
result waits for ``POST /_sandbox/payments/<id>/transfer`` (success) or ``/decline`` (3104)),
``/v2/payment/clarification``,
``/v2/payment/status``, ``/v2/info/banks/atm/vietnam/{sale|payout}/list`` (ecommpay). A sale is
answered ``{"status": "success", "request_id", ...}`` and followed by signed callbacks to the
project's callback URL: the redirect (``redirect_data`` → ``GET /bank/<payment_id>``), the
transfer instructions (Monetix ``display_data``, Option 1 or 2) or a card clarification (ATM
channel 2, banks in ``card_required_banks``: the docs' example bank 135), then the final one.

Customer side: ``GET /bank/<id>`` with ``POST /bank/<id>/pay`` (optional ``amount`` actually
paid) and ``/decline``; the Payment Page ``GET /payment?<signed params>`` with
``POST /payment/<id>/pay|decline``; ``POST /_sandbox/payments/<id>/transfer`` (the customer's
bank transfer, optional ``{"amount": n}``). JSON callers get JSON, browsers a 303 back.

Monetix test behaviour (docs' "Testing"): amounts 400 and 404 are declined (20000); a purchase
with the same customer id and amount as a non-final one of the last 30 minutes joins its series
and gets the same redirect/instructions; when one of a series is final, the others are
declined with 3613. (The "three different amounts" rule is not modelled.)

ASSUMPTIONS (not in our sources): a bad signature or wrong project is HTTP 401 with code
``1001``; missing fields 400 ``2004`` naming the field; other validation 400 ``502``; unknown
payment 404 ``3061``; the clarification callback carries a JSON-schema-like
``clarification_fields``; bank lists answer a bare array of ``{id, name}``; the first callback's
payment status is ``processing`` (operation ``awaiting redirect result`` /
``awaiting customer action`` / ``awaiting clarification``).

Test hooks: ``GET /_sandbox/health``, ``GET /_sandbox/payments/<id>``,
``POST /_sandbox/settings`` (``atm_channel``, ``bank_transfer_scenario``, ``display_option``),
``POST /_sandbox/payments/<id>/resend``, ``POST|DELETE /_sandbox/faults`` (``{"kind":
"timeout"|"server_error"|"reject", "count": n}``, applied to the next sales).

Standalone: ``python -m local.sandboxes.platform --provider monetix --port 3104``.
"""

from __future__ import annotations

import argparse
import json
import queue
import secrets
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal, cast
from urllib.parse import parse_qsl, urlsplit

import httpx

from local.sandboxes.http import (
    HttpError,
    Reply,
    Route,
    RoutedHandler,
    SandboxServer,
    compact,
    json_reply,
    redirect,
    serve_until_interrupted,
)
from local.sandboxes.platform_pages import customer_page, error_page
from local.sandboxes.platform_wire import (
    CARD_FIELDS,
    SandboxPayment,
    card_clarification,
    display_data,
    masked,
    redirect_data,
)
from paygate.providers.platform import banks, signing

SALES = {
    "/v2/payment/atm/vietnam/sale": ("ecommpay", "napas_atm"),
    "/v2/payment/wallet/nganluong/sale": ("ecommpay", "nganluong_wallet"),
    "/v2/payment/bank-transfer/vietnam/sale": ("monetix", "bank_transfer"),
}
PAYOUTS = {
    "/v2/payment/atm/vietnam/payout": ("ecommpay", "napas_atm"),
    "/v2/payment/wallet/nganluong/payout": ("ecommpay", "nganluong_wallet"),
}
REQUIRED = {
    ("napas_atm", 1): ("customer.id", "customer.email", "customer.phone", "customer.ip_address",
                       "account.bank_id", "payment.amount", "payment.currency"),
    ("napas_atm", 2): ("customer.email", "customer.ip_address", "account.bank_id",
                       "payment.amount", "payment.currency"),
    ("nganluong_wallet", 0): ("customer.id", "customer.email", "customer.ip_address",
                              "return_url.success", "return_url.decline", "payment.amount",
                              "payment.currency"),
    ("bank_transfer", 0): ("customer.id", "customer.first_name", "customer.last_name",
                           "customer.email", "customer.ip_address", "payment.amount",
                           "payment.currency"),
}  # fmt: skip
PAYOUT_REQUIRED = {
    "napas_atm": ("customer.id", "customer.ip_address", "account.bank_id", "account.region_id",
                  "card.pan", "card.year", "card.month", "card.card_holder", "payment.amount",
                  "payment.currency"),
    "nganluong_wallet": ("customer.id", "customer.ip_address", "account.number",
                         "payment.amount", "payment.currency"),
}  # fmt: skip
PAGE_REQUIRED = {
    ("vietnam-atm", 1): ("customer_id", "customer_email", "customer_phone"),
    ("vietnam-atm", 2): (),
    ("nganluong-wallet", 0): ("customer_id", "customer_email", "customer_phone"),
    ("bank-transfer-vietnam", 0): ("customer_id", "customer_first_name", "customer_last_name",
                                   "customer_email"),
}  # fmt: skip
PAGE_METHODS = {
    "vietnam-atm": "napas_atm",
    "nganluong-wallet": "nganluong_wallet",
    "bank-transfer-vietnam": "bank_transfer",
}
TEST_DECLINE_AMOUNTS = (400, 404)
FAULT_KINDS = ("timeout", "server_error", "reject")
CALLBACK_TIMEOUT_SECONDS = 5.0


@dataclass
class PlatformSandboxConfig:
    provider: Literal["ecommpay", "monetix"]
    project_id: int
    secret_key: str
    callback_url: str | None = None  # None: keep callbacks, send nothing
    atm_channel: Literal[1, 2] = 1
    bank_transfer_scenario: Literal["redirect", "instructions"] = "instructions"
    display_option: Literal[1, 2] = 2
    card_required_banks: frozenset[int] = frozenset({135})
    series_window_seconds: float = 1800.0
    callback_retry_delays: tuple[float, ...] = (0.5, 1.0, 2.0)
    timeout_delay_seconds: float = 30.0


def _error(status: int, code: str, message: str) -> HttpError:
    return HttpError(json_reply(status, {"status": "error", "code": code, "message": message}))


def _lookup(document: dict[str, Any], path: str) -> Any:
    value: Any = document
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


@dataclass
class _Delivery:
    payment_id: str
    body: bytes
    attempts: list[dict[str, Any]] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)
    delivered: bool = False


class PlatformSandbox:
    """Payments in memory; one serving thread and one callback worker (per-payment order)."""

    def __init__(
        self, config: PlatformSandboxConfig, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.config = config
        self._lock = threading.RLock()
        self._payments: dict[str, SandboxPayment] = {}
        self._faults: deque[str] = deque()
        self._outbox: queue.Queue[_Delivery | None] = queue.Queue()
        self._stopping = threading.Event()
        self._server = SandboxServer((host, port), _Handler, self)
        self._host = host
        self._port: int = self._server.socket.getsockname()[1]
        self._threads: list[threading.Thread] = []
        self._stopped = False

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self._port}"

    def start(self) -> None:
        if self._threads:
            return
        serve = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"{self.config.provider}-sandbox",
            daemon=True,
        )
        worker = threading.Thread(
            target=self._deliver_forever, name=f"{self.config.provider}-callbacks", daemon=True
        )
        self._threads = [serve, worker]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._stopping.set()
        self._outbox.put(None)
        if self._threads:
            self._server.shutdown()
            for thread in self._threads:
                thread.join(timeout=5)
        self._server.server_close()

    # -- read side -----------------------------------------------------------------------------

    def callbacks(self, payment_id: str) -> list[dict[str, Any]]:
        with self._lock:
            payment = self._payments.get(payment_id)
            return [dict(c["document"]) for c in payment.callbacks] if payment else []

    def payment(self, payment_id: str) -> dict[str, Any] | None:
        with self._lock:
            payment = self._payments.get(payment_id)
            return json.loads(json.dumps(payment.snapshot())) if payment else None

    def settings(self, changes: dict[str, Any]) -> dict[str, Any]:
        allowed = {
            "atm_channel": (1, 2),
            "bank_transfer_scenario": ("redirect", "instructions"),
            "display_option": (1, 2),
        }
        for name, value in changes.items():
            if name not in allowed or value not in allowed[name]:
                raise _error(400, "502", f"{name} must be one of {allowed.get(name, ())}")
        with self._lock:
            for name, value in changes.items():
                setattr(self.config, name, value)
            return {name: getattr(self.config, name) for name in allowed}

    # -- faults --------------------------------------------------------------------------------

    def add_faults(self, kind: str, count: int) -> list[str]:
        with self._lock:
            self._faults.extend([kind] * count)
            return list(self._faults)

    def clear_faults(self) -> int:
        with self._lock:
            cleared = len(self._faults)
            self._faults.clear()
            return cleared

    def _apply_fault(self) -> Reply | None:
        with self._lock:
            fault = self._faults.popleft() if self._faults else None
        if fault == "timeout":
            self._stopping.wait(self.config.timeout_delay_seconds)
        elif fault == "server_error":
            return json_reply(503, {"status": "error", "code": "503", "message": "unavailable"})
        elif fault == "reject":
            return json_reply(400, {"status": "error", "code": "100", "message": "General decline"})
        return None

    # -- Gate ----------------------------------------------------------------------------------

    def _verify(self, body: dict[str, Any]) -> None:
        project = _lookup(body, "general.project_id")
        if not signing.is_valid(body, [self.config.secret_key]) or str(project) != str(
            self.config.project_id
        ):
            raise _error(401, "1001", "Invalid signature")

    def sale(self, path: str, body: dict[str, Any]) -> Reply:
        payout = path in PAYOUTS
        provider, method = PAYOUTS[path] if payout else SALES[path]
        if provider != self.config.provider:
            raise _error(404, "404", f"{path} is not served by {self.config.provider}")
        fault = self._apply_fault()
        if fault is not None:
            return fault
        self._verify(body)
        channel = self.config.atm_channel if method == "napas_atm" else 0
        required = PAYOUT_REQUIRED[method] if payout else REQUIRED[(method, channel)]
        for name in required:
            if _lookup(body, name) in (None, ""):
                raise _error(400, "2004", f"Required field not provided: {name}")
        amount, currency = _lookup(body, "payment.amount"), _lookup(body, "payment.currency")
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise _error(400, "502", "Validation error: payment.amount must be a positive integer")
        if currency != "VND":
            raise _error(400, "502", "Validation error: currency must be VND")
        payment = SandboxPayment(
            payment_id=str(_lookup(body, "general.payment_id") or ""),
            method=method,
            amount=amount,
            currency=currency,
            customer_id=_lookup(body, "customer.id"),
            request_id=secrets.token_hex(14),
            flow="gate",
            created_at=time.monotonic(),
            bank_id=_lookup(body, "account.bank_id"),
        )
        card = body.get("card")
        if isinstance(card, dict) and card.get("pan"):
            payment.card = masked(str(card["pan"]))
        if payout:
            payment.kind = "payout"
            payment.account_number = payment.card or str(_lookup(body, "account.number"))
        with self._lock:
            if not payment.payment_id or payment.payment_id in self._payments:
                raise _error(400, "3041", "Payment ID already exists")
            self._payments[payment.payment_id] = payment
            if not payout:  # a payout waits for its result (the hooks below)
                self._begin(payment, has_card=payment.card is not None)
            return json_reply(200, self._accepted(payment))

    def _accepted(self, payment: SandboxPayment) -> dict[str, Any]:
        return {
            "status": "success",
            "request_id": payment.request_id,
            "project_id": self.config.project_id,
            "payment_id": payment.payment_id,
        }

    def _begin(self, payment: SandboxPayment, has_card: bool) -> None:
        """The first callback of a Gate purchase (and, for test amounts, the decline)."""
        if payment.method == "bank_transfer":
            self._begin_transfer(payment)
            return
        if payment.method == "napas_atm":
            listed = {b.id for b in banks.banks_for_channel(self.config.atm_channel)}
            if payment.bank_id not in listed:
                error = {"code": "2801", "message": "Bank ID not found",
                         "description": "Gate. Bank ID was not found in request"}  # fmt: skip
                self._finish(payment, False, code="2801", message="Bank ID not found",
                             errors=[error])  # fmt: skip
                return
            needs_card = self.config.atm_channel == 2 and payment.bank_id in (
                self.config.card_required_banks
            )
            if needs_card and not has_card:
                payment.status = payment.operation_status = "awaiting clarification"
                payment.action = card_clarification()
                self._emit(payment)
                return
        self._await_redirect(payment)

    def _await_redirect(self, payment: SandboxPayment) -> None:
        payment.status, payment.operation_status = "processing", "awaiting redirect result"
        payment.action = redirect_data(f"{self.base_url}/bank/{payment.payment_id}")
        self._emit(payment)

    def _begin_transfer(self, payment: SandboxPayment) -> None:
        leader = self._series_leader(payment)
        payment.status = "processing"
        if leader is not None:
            payment.series = leader.series
            payment.action = dict(leader.action)
            payment.operation_status = leader.operation_status
        else:
            payment.series = payment.payment_id
            if self.config.bank_transfer_scenario == "redirect":
                payment.operation_status = "awaiting redirect result"
                payment.action = redirect_data(f"{self.base_url}/bank/{payment.payment_id}")
            else:
                payment.operation_status = "awaiting customer action"
                payment.action = display_data(self.config.display_option, payment.amount)
        self._emit(payment)
        if payment.amount in TEST_DECLINE_AMOUNTS:
            self._finish(payment, False, code="20000", message="General decline")

    def _series_leader(self, payment: SandboxPayment) -> SandboxPayment | None:
        window = self.config.series_window_seconds
        for other in self._payments.values():
            same = (other.customer_id, other.amount) == (payment.customer_id, payment.amount)
            recent = payment.created_at - other.created_at <= window
            if other is not payment and same and recent and not other.final and other.series:
                return other
        return None

    def clarify(self, body: dict[str, Any]) -> Reply:
        self._verify(body)
        with self._lock:
            payment = self._payments.get(str(_lookup(body, "general.payment_id")))
            if payment is None:
                raise _error(404, "3061", "Transaction not found")
            if payment.status != "awaiting clarification":
                raise _error(400, "3060", "Current payment status does not allow this action")
            for name in CARD_FIELDS:
                if _lookup(body, f"card.{name}") in (None, ""):
                    raise _error(400, "2004", f"Required field not provided: card.{name}")
            payment.card = masked(str(_lookup(body, "card.pan")))
            self._await_redirect(payment)
            return json_reply(200, self._accepted(payment))

    def status(self, body: dict[str, Any]) -> Reply:
        self._verify(body)
        with self._lock:
            payment = self._payments.get(str(_lookup(body, "general.payment_id")))
            if payment is None:
                raise _error(404, "3061", "Transaction not found")
            document = payment.document(self.config.project_id)
        operation = document.pop("operation")
        answer = {**document, "operations": [operation], "errors": document.pop("errors", [])}
        return json_reply(
            200, {**answer, "signature": signing.sign(answer, self.config.secret_key)}
        )

    def bank_list(self, operation: str, body: dict[str, Any]) -> Reply:
        if self.config.provider != "ecommpay":
            raise _error(404, "404", "bank lists are served by ecommpay")
        self._verify(body)
        wanted = "payout" if operation == "payout" else "purchase"
        rows = banks.banks_for_channel(self.config.atm_channel)
        return json_reply(200, [{"id": b.id, "name": b.name} for b in rows if getattr(b, wanted)])

    # -- Payment Page --------------------------------------------------------------------------

    def open_page(self, query: str) -> Reply:
        params = dict(parse_qsl(query, keep_blank_values=True))
        if not signing.is_valid(params, [self.config.secret_key]) or params.get(
            "project_id"
        ) != str(self.config.project_id):
            return Reply(401, error_page("Invalid signature"), "text/html; charset=utf-8")
        forced = params.get("force_payment_method", "")
        channel = self.config.atm_channel if forced == "vietnam-atm" else 0
        required = ("payment_id", "payment_amount", "payment_currency")
        for name in required + PAGE_REQUIRED.get((forced, channel), ()):
            if not params.get(name):
                return Reply(
                    400, error_page(f"Missing parameter {name}"), "text/html; charset=utf-8"
                )
        if params["payment_currency"] != "VND" or not params["payment_amount"].isdigit():
            return Reply(
                400, error_page("payment_amount/currency invalid"), "text/html; charset=utf-8"
            )
        with self._lock:
            payment = self._payments.setdefault(
                params["payment_id"],
                SandboxPayment(
                    payment_id=params["payment_id"],
                    method=PAGE_METHODS.get(forced, "napas_atm"),
                    amount=int(params["payment_amount"]),
                    currency="VND",
                    customer_id=params.get("customer_id"),
                    request_id=secrets.token_hex(14),
                    flow="page",
                    created_at=time.monotonic(),
                ),
            )
            page = customer_page(payment, f"/payment/{payment.payment_id}")
        return Reply(200, page, "text/html; charset=utf-8")

    def bank_page(self, payment_id: str) -> Reply:
        with self._lock:
            payment = self._payments.get(payment_id)
            if payment is None:
                return Reply(404, error_page("Payment not found"), "text/html; charset=utf-8")
            page = customer_page(payment, f"/bank/{payment_id}")
        return Reply(200, page, "text/html; charset=utf-8")

    # -- the customer's outcome ----------------------------------------------------------------

    def customer_outcome(self, payment_id: str, paid: bool, amount: int | None) -> dict[str, Any]:
        """Pay (optionally another amount) or decline; waits briefly for the delivery."""
        with self._lock:
            payment = self._payments.get(payment_id)
            if payment is None:
                raise _error(404, "3061", "Transaction not found")
            if payment.final:
                raise _error(409, "3060", f"payment is already {payment.status}")
            if paid:
                payment.paid_amount = amount or payment.amount
                delivery = self._finish(payment, True)
            elif payment.kind == "payout":
                delivery = self._finish(
                    payment, False, code="3104", message="Payment Constraint Invalid Payout Amount"
                )
            else:
                delivery = self._finish(
                    payment, False, code="20102", message="Incorrect account data entered"
                )
        delivered = delivery.done.wait(CALLBACK_TIMEOUT_SECONDS) and delivery.delivered
        if self.config.callback_url is None:
            delivered = False
        return {"payment_id": payment_id, "status": payment.status, "delivered": delivered}

    def _finish(self, payment: SandboxPayment, paid: bool, **outcome: Any) -> _Delivery:
        payment.status = payment.operation_status = "success" if paid else "decline"
        payment.code = outcome.get("code", "0")
        payment.message = outcome.get("message", "Success")
        payment.errors = outcome.get("errors")
        delivery = self._emit(payment)
        if payment.series:
            for other in list(self._payments.values()):
                if other is not payment and other.series == payment.series and not other.final:
                    self._finish(other, False, code="3613", message="Duplicate operation")
        return delivery

    def resend(self, payment_id: str) -> dict[str, Any]:
        with self._lock:
            payment = self._payments.get(payment_id)
            if payment is None or not payment.callbacks:
                raise _error(404, "3061", "no callback for this payment")
            delivery = _Delivery(payment_id, payment.callbacks[-1]["body"].encode())
            self._outbox.put(delivery)
        return {"payment_id": payment_id, "resent": True}

    # -- callback delivery ---------------------------------------------------------------------

    def _emit(self, payment: SandboxPayment) -> _Delivery:
        """Sign the payment's current state as a callback and queue it (in order)."""
        document = payment.document(self.config.project_id)
        document["signature"] = signing.sign(document, self.config.secret_key)
        body = compact(document)
        payment.callbacks.append({"document": document, "body": body.decode(), "attempts": []})
        delivery = _Delivery(payment.payment_id, body)
        if self.config.callback_url is None:
            delivery.done.set()
        else:
            self._outbox.put(delivery)
        return delivery

    def _deliver_forever(self) -> None:
        while True:
            delivery = self._outbox.get()
            if delivery is None:
                return
            delays = (0.0, *self.config.callback_retry_delays)
            for delay in delays:
                if self._stopping.wait(delay) or self._attempt(delivery):
                    break
            delivery.done.set()

    def _attempt(self, delivery: _Delivery) -> bool:
        record: dict[str, Any] = {"at": time.time()}
        try:
            response = httpx.post(
                str(self.config.callback_url),
                content=delivery.body,
                headers={"Content-Type": "application/json"},
                timeout=CALLBACK_TIMEOUT_SECONDS,
                trust_env=False,
            )
            record["status_code"] = response.status_code
            delivery.delivered = response.status_code == 200
        except httpx.HTTPError as exc:
            record["error"] = f"{type(exc).__name__}: {exc}"
        with self._lock:
            payment = self._payments.get(delivery.payment_id)
            for callback in payment.callbacks if payment else []:
                if callback["body"].encode() == delivery.body:
                    callback["attempts"].append(record)
        _log(f"{self.config.provider} callback {delivery.payment_id} -> {record}")
        return delivery.delivered


def _log(line: str) -> None:
    sys.stderr.write(f"[platform] {line}\n")
    sys.stderr.flush()


class _Handler(RoutedHandler):
    server_version = "PlatformSandbox/1.0"

    @property
    def sandbox(self) -> PlatformSandbox:
        return cast(PlatformSandbox, cast(SandboxServer, self.server).sandbox)

    def routes(self) -> list[Route]:
        s = self.sandbox
        return [
            ("GET", r"/_sandbox/health", lambda _: json_reply(200, {"ok": True})),
            ("GET", r"/_sandbox/payments/([^/]+)", self._snapshot),
            ("POST", r"/_sandbox/payments/([^/]+)/transfer", lambda p: self._outcome(p, True)),
            ("POST", r"/_sandbox/payments/([^/]+)/decline", lambda p: self._outcome(p, False)),
            ("POST", r"/_sandbox/payments/([^/]+)/resend", lambda p: json_reply(200, s.resend(p))),
            ("POST", r"/_sandbox/settings", self._settings),
            ("POST", r"/_sandbox/faults", self._add_faults),
            ("DELETE", r"/_sandbox/faults", self._clear_faults),
            ("POST", r"(/v2/payment/[a-z-]+/[a-z]+/(?:sale|payout))", self._sale),
            ("POST", r"/v2/payment/clarification", lambda _: s.clarify(self.read_json())),
            ("POST", r"/v2/payment/status", lambda _: s.status(self.read_json())),
            ("POST", r"/v2/info/banks/atm/vietnam/(sale|payout)/list",
             lambda op: s.bank_list(op, self.read_json())),
            ("GET", r"/payment", lambda _: s.open_page(urlsplit(self.path).query)),
            ("POST", r"/payment/([^/]+)/pay", lambda p: self._outcome(p, True)),
            ("POST", r"/payment/([^/]+)/decline", lambda p: self._outcome(p, False)),
            ("GET", r"/bank/([^/]+)", s.bank_page),
            ("POST", r"/bank/([^/]+)/pay", lambda p: self._outcome(p, True)),
            ("POST", r"/bank/([^/]+)/decline", lambda p: self._outcome(p, False)),
        ]  # fmt: skip

    def error(self, status: int, message: str) -> HttpError:
        return _error(status, str(status), message)

    def _settings(self, _: str) -> Reply:
        return json_reply(200, self.sandbox.settings(self.read_json()))

    def _clear_faults(self, _: str) -> Reply:
        self.read_body()
        return json_reply(200, {"cleared": self.sandbox.clear_faults()})

    def _sale(self, path: str) -> Reply:
        if path not in SALES and path not in PAYOUTS:
            self.read_body()
            raise _error(404, "404", f"no Gate endpoint {path}")
        return self.sandbox.sale(path, self.read_json())

    def _snapshot(self, payment_id: str) -> Reply:
        snapshot = self.sandbox.payment(payment_id)
        if snapshot is None:
            raise _error(404, "3061", "Transaction not found")
        return json_reply(200, snapshot)

    def _add_faults(self, _: str) -> Reply:
        body = self.read_json()
        kind, count = body.get("kind"), body.get("count", 1)
        if kind not in FAULT_KINDS:
            raise _error(400, "502", f"kind must be one of {', '.join(FAULT_KINDS)}")
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 1000:
            raise _error(400, "502", "count must be an integer from 1 to 1000")
        return json_reply(200, {"queued": self.sandbox.add_faults(str(kind), count)})

    def _outcome(self, payment_id: str, paid: bool) -> Reply:
        raw = self.read_body()
        content_type = (self.headers.get("Content-Type") or "").lower()
        is_json = "json" in content_type or raw.lstrip().startswith(b"{")
        fields = self.read_json(raw) if is_json and raw.strip() else dict(parse_qsl(raw.decode()))
        amount = fields.get("amount")
        if amount in (None, ""):
            amount = None
        elif isinstance(amount, bool) or not str(amount).isdigit() or int(str(amount)) <= 0:
            raise _error(400, "502", "amount must be a positive whole number of VND")
        result = self.sandbox.customer_outcome(
            payment_id, paid, int(str(amount)) if amount else None
        )
        if is_json or "json" in (self.headers.get("Accept") or ""):
            return json_reply(200, result)
        return redirect(f"/bank/{payment_id}")  # shows the outcome

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        _log(format % args)


def main() -> None:
    """Run one provider's sandbox standalone until Ctrl-C."""
    parser = argparse.ArgumentParser(description="Local ecommpay/Monetix platform sandbox")
    parser.add_argument("--provider", choices=("ecommpay", "monetix"), default="ecommpay")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3103)
    parser.add_argument("--project-id", type=int, default=603)
    parser.add_argument("--secret", default="ecommpay-local-secret")
    parser.add_argument("--callback-url", default=None)
    parser.add_argument("--atm-channel", type=int, choices=(1, 2), default=2)
    args = parser.parse_args()
    config = PlatformSandboxConfig(
        provider=args.provider,
        project_id=args.project_id,
        secret_key=args.secret,
        callback_url=args.callback_url,
        atm_channel=args.atm_channel,
    )
    sandbox = PlatformSandbox(config, host=args.host, port=args.port)
    _log(f"{args.provider} sandbox on {sandbox.base_url}; Ctrl-C stops it")
    serve_until_interrupted(sandbox)


if __name__ == "__main__":
    main()
