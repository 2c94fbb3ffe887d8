"""Local stand-in for Paypro's Vietnam VietQR payin API, on 127.0.0.1, with Paypro's wire
format and `sign` (providers.md §3).

Paypro endpoints: ``POST /v1/payproVN/payin``, ``/queryPayInResult``, ``/payout``,
``/queryPayOutResult`` and ``/queryBalance`` (answering the docs' misspelled
``availablAmount``). A payout's result waits for ``POST /_sandbox/payouts/<tradeNo>/succeed``
or ``/fail`` (``00029``) and is notified like a payin's.
Cashier: ``GET /pay/<platFormTradeNo>`` (HTML) and ``POST /pay/<id>/pay|decline|resend``, which
send the signed notify to the order's ``notifyUrl`` (delivered = HTTP 200 with body ``OK``).

Time (local/clock.py, local/sandboxes/outbox.py): the sandbox reads the injected `now` and
sets its retries on the injected `timers` (the local runtime's one clock). The first notify
goes at once; when it is not delivered it is retried on Paypro's documented schedule
(``SandboxConfig.notify_retry_delays``: 2 s, 5 s, 10 s, 30 s, 1 h, 3 h, 3 h, 3 h after each
attempt; then nothing, the merchant uses the queries). Paypro's VietQR link lifetime is
UNKNOWN in the docs: an open order stays payable and its query answers ``0015`` ("in
progress") for ever, unless the ``link_lifetime_seconds`` setting (default none) is set: then
the cashier refuses payment after it (409; the query still answers ``0015``: what Paypro
reports for an expired link is unknown too).

Test hooks: ``GET /_sandbox/health``, ``GET /_sandbox/orders/<tradeNo>`` (state, every
notify attempt, ``queries`` answered), ``POST|DELETE /_sandbox/faults``
``{"payin": kind, "count": n}`` for the next payin/payout creates: ``timeout`` (sleeps
``timeout_delay_seconds``, real time, then goes on normally), ``server_error`` (HTTP 503,
no order; ``count: 1`` = a 5xx then success),
``reject`` (outer ``8000``, no order), ``code_5000`` (the order IS created, the answer is outer
``5000`` "system error"), ``accepted_timeout`` (the order IS created, the answer never arrives:
the connection is closed without one after ``timeout_delay_seconds``, real time).
``POST /_sandbox/settings`` (partial; answers the current settings): ``callbacks``
(``deliver`` | ``lost``: notifies made meanwhile are never sent | ``unreachable``: attempts
fail and are retried on the schedule), ``status_query`` (``normal`` | ``in_progress``: every
query answers ``0015`` whatever the order's state, as long as the order exists | ``silent``:
queries answer HTTP 503 with no envelope), ``link_lifetime_seconds`` (null or > 0),
``timeout_delay_seconds`` (>= 0).

ASSUMPTION: Paypro's Vietnam error-code table is not published (providers.md §3.5), so the
outer failure codes are this sandbox's own: ``1001`` wrong/missing merchantNo, ``1002`` bad sign,
``1003`` invalid parameter (msg names the field), ``1004`` duplicate tradeNo, ``1005`` order not
found, ``8000`` system error. Business statuses: ``0015`` created/paying, ``0000`` paid,
``00029`` rejected (cross-corridor codes, INFERRED for Vietnam).

Standalone: ``python -m local.sandboxes.paypro --port 3101`` (Ctrl-C stops it).
"""

from __future__ import annotations

import argparse
import html
import re
import secrets
import string
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

import httpx

from local.aws.clock import Timers
from local.sandboxes.http import (
    DropConnection,
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
from local.sandboxes.outbox import (
    CALLBACK_MODES,
    PAYPRO_NOTIFY_DELAYS,
    Delivery,
    Outbox,
    delays,
)
from paygate.providers.paypro import signing
from paygate.providers.paypro.payouts import ACCEPTED_NAME, payout_banks

SUCCESS = "0000"
PROCESSING = "0015"
DECLINED = "00029"
DECLINE_MESSAGE = "Transaction rejected"
BANK_NAME = "VietQR"
MIN_AMOUNT = 50_000

CODE_BAD_MERCHANT = "1001"
CODE_BAD_SIGN = "1002"
CODE_BAD_PARAMETER = "1003"
CODE_DUPLICATE = "1004"
CODE_NOT_FOUND = "1005"
CODE_SYSTEM_ERROR = "8000"

FAULT_KINDS = ("timeout", "server_error", "reject", "code_5000", "accepted_timeout")
CODE_SYSTEM_ERROR_5000 = "5000"
STATUS_QUERY_MODES = ("normal", "in_progress", "silent")
NOTIFY_ACK = "OK"
NOTIFY_TIMEOUT_SECONDS = 5.0
VIETNAM_TZ = timezone(timedelta(hours=7))
_ID_ALPHABET = string.ascii_lowercase + string.digits
_DIGITS = re.compile(r"[0-9]+")


@dataclass
class SandboxConfig:
    """Merchant credentials the sandbox accepts, and its timing knobs."""

    merchant_no: str = "1573818477"  # the docs' sandbox merchant number
    app_secret: str = "paypro-local-secret"
    timeout_delay_seconds: float = 30.0  # how long a 'timeout' fault sleeps before answering
    notify_retry_delays: tuple[float, ...] = PAYPRO_NOTIFY_DELAYS  # seconds, after each attempt
    link_lifetime_seconds: float | None = None  # UNKNOWN in the docs: payable for ever
    starting_balance: int = 100_000_000  # VND, for queryBalance and payouts


def _error(status: int, message: str) -> HttpError:
    return HttpError(json_reply(status, {"error": message}))


def _now_ms(now: Callable[[], datetime] | None = None) -> int:
    return int((now() if now else datetime.now(UTC)).timestamp() * 1000)


def _envelope(
    code: str,
    msg: str,
    data: dict[str, Any] | None = None,
    now: Callable[[], datetime] | None = None,
) -> Reply:
    """Paypro's answer envelope; failures are HTTP 200 with `success: false`."""
    ok = code == SUCCESS
    stamp = _now_ms(now)
    return json_reply(
        200, {"msg": msg, "code": code, "timestamp": stamp, "success": ok, "data": data}
    )


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


def _vnd(amount: str) -> str:
    """`50000` → `50.000 ₫`."""
    return f"{int(amount):,}".replace(",", ".") + " ₫"


@dataclass
class _Order:
    trade_no: str
    platform_trade_no: str
    amount: str
    notify_url: str
    remark: str
    payment_link: str
    created_at: str
    status: str = PROCESSING
    paid_amount: str | None = None
    notify: dict[str, str] | None = None
    notify_body: bytes | None = None
    attempts: list[dict[str, Any]] = field(default_factory=list)
    delivered: bool = False
    retrying: bool = False
    gave_up: bool = False
    lost: bool = False
    kind: str = "payin"  # or "payout"
    account: dict[str, str] = field(default_factory=dict)
    created: datetime | None = None
    queries: int = 0  # status queries answered for it

    @property
    def desc(self) -> str:
        return {PROCESSING: "CREATED", SUCCESS: "SUCCESS"}.get(self.status, DECLINE_MESSAGE)

    def snapshot(self) -> dict[str, Any]:
        return {
            "tradeNo": self.trade_no,
            "platFormTradeNo": self.platform_trade_no,
            "amount": self.amount,
            "paidAmount": self.paid_amount,
            "status": self.status,
            "desc": self.desc,
            "remark": self.remark,
            "notifyUrl": self.notify_url,
            "paymentLink": self.payment_link,
            "createdAt": self.created_at,
            "notify": self.notify,
            "delivered": self.delivered,
            "retrying": self.retrying,
            "gaveUp": self.gave_up,
            "lost": self.lost,
            "queries": self.queries,
            "deliveries": list(self.attempts),
            "kind": self.kind,
            "account": dict(self.account),
        }


def _payin_problem(body: dict[str, Any]) -> str | None:
    """The first invalid payin field, as a message naming it; None when the body is valid."""
    for name in ("timestamp", "amount", "tradeNo", "bankName", "notifyUrl"):
        if body.get(name) in (None, ""):
            return f"invalid parameter: {name} is required"
    timestamp = body["timestamp"]
    if isinstance(timestamp, bool) or not _DIGITS.fullmatch(str(timestamp)):
        return "invalid parameter: timestamp must be milliseconds since the epoch"
    for name in ("amount", "tradeNo", "bankName", "notifyUrl", "remark"):
        if name in body and body[name] is not None and not isinstance(body[name], str):
            return f"invalid parameter: {name} must be a string"
    if not _DIGITS.fullmatch(body["amount"]) or int(body["amount"]) < MIN_AMOUNT:
        return f"invalid parameter: amount must be a whole number of at least {MIN_AMOUNT}"
    if body["bankName"] != BANK_NAME:
        return f'invalid parameter: bankName must be "{BANK_NAME}"'
    return None


def _payout_problem(body: dict[str, Any]) -> str | None:
    """The first invalid payout field, as a message naming it."""
    names = ("timestamp", "tradeNo", "amount", "accountName", "bankName", "bankNumber", "notifyUrl")
    for name in names:
        if body.get(name) in (None, ""):
            return f"invalid parameter: {name} is required"
    if not _DIGITS.fullmatch(str(body["amount"])) or int(str(body["amount"])) < MIN_AMOUNT:
        return f"invalid parameter: amount must be a whole number of at least {MIN_AMOUNT}"
    if not ACCEPTED_NAME.fullmatch(str(body["accountName"])):
        return "invalid parameter: accountName must be English letters only"
    if str(body["bankName"]) not in {bank.code for bank in payout_banks()}:
        return "invalid parameter: bankName is not a supported payout bank"
    if not _DIGITS.fullmatch(str(body["bankNumber"])):
        return "invalid parameter: bankNumber must be digits"
    return None


def _cashier_page(order: _Order) -> bytes:
    e = html.escape
    pid = e(order.platform_trade_no)
    if order.status == PROCESSING:
        actions = f"""
<form method="post" action="/pay/{pid}/pay">
  <label for="amount">Số tiền thực trả (tuỳ chọn) / <span lang="en">amount paid, optional</span>
  </label>
  <input id="amount" name="amount" inputmode="numeric" pattern="[0-9]*"
    placeholder="{e(order.amount)}">
  <button type="submit" lang="en">Pay</button>
</form>
<form method="post" action="/pay/{pid}/decline">
  <button type="submit" lang="en">Decline</button>
</form>"""
    else:
        paid = order.status == SUCCESS
        outcome = (
            f"Đã thanh toán / <span lang='en'>Paid</span>: {e(_vnd(order.paid_amount or '0'))}"
            if paid
            else f"Bị từ chối / <span lang='en'>Declined</span>: {e(DECLINE_MESSAGE)}"
        )
        delivery = "delivered" if order.delivered else "not delivered"
        actions = f"""
<p role="status"><strong>{outcome}</strong> (status {e(order.status)})</p>
<p lang="en">Notify {delivery} ({len(order.attempts)} attempt(s)).</p>"""
    return f"""<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Thanh toán VietQR - Paypro sandbox</title>
<style>
body{{font-family:system-ui,sans-serif;max-width:30rem;margin:2rem auto;padding:0 1rem}}
.qr{{width:12rem;height:12rem;border:3px dashed #444;display:grid;place-items:center}}
form{{margin:1rem 0}} button{{font-size:1rem;padding:.5rem 1.5rem}} input{{font-size:1rem}}
</style>
</head>
<body>
<main>
<h1>Thanh toán VietQR <small lang="en">(Paypro sandbox)</small></h1>
<dl>
  <dt>Số tiền / <span lang="en">Amount</span></dt><dd>{e(_vnd(order.amount))}</dd>
  <dt>Mã giao dịch / <span lang="en">tradeNo</span></dt><dd>{e(order.trade_no)}</dd>
  <dt lang="en">platFormTradeNo</dt><dd>{pid}</dd>
</dl>
<div class="qr" role="img" aria-label="Mã VietQR (ảnh giữ chỗ) / VietQR code placeholder">
  VietQR
</div>
{actions}
</main>
</body>
</html>
""".encode()


def _not_found_page() -> bytes:
    return (
        '<!doctype html>\n<html lang="vi"><head><meta charset="utf-8">'
        "<title>Không tìm thấy - Paypro sandbox</title></head>"
        "<body><main><h1>Không tìm thấy đơn hàng</h1>"
        '<p lang="en">Order not found.</p></main></body></html>\n'
    ).encode()


class PayproSandbox:
    """The sandbox server: orders in memory, one background serving thread."""

    def __init__(
        self,
        config: SandboxConfig,
        host: str = "127.0.0.1",
        port: int = 0,
        now: Callable[[], datetime] | None = None,
        timers: Timers | None = None,
    ) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._orders: dict[str, _Order] = {}  # by tradeNo
        self._by_platform: dict[str, _Order] = {}
        self._faults: deque[str] = deque()
        self._stopping = threading.Event()
        self.status_query = "normal"
        self._outbox = Outbox("paypro", self._retry_after, now, timers)
        self._now = self._outbox.now
        self._server = SandboxServer((host, port), _Handler, self)
        self._host = host
        self._port: int = self._server.socket.getsockname()[1]
        self._thread: threading.Thread | None = None
        self._stopped = False

    @property
    def base_url(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self._port}"

    def start(self) -> None:
        """Serve in a background daemon thread."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.1},  # how long stop() may wait for the loop
                name="paypro-sandbox",
                daemon=True,
            )
            self._thread.start()
            self._outbox.start()

    def stop(self) -> None:
        """Stop serving and retrying; idempotent."""
        if self._stopped:
            return
        self._stopped = True
        self._stopping.set()
        self._outbox.stop()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

    def _envelope(self, code: str, msg: str, data: dict[str, Any] | None = None) -> Reply:
        return _envelope(code, msg, data, self._now)

    def _retry_after(self, attempts: int, elapsed: float) -> float | None:
        return delays(self.config.notify_retry_delays)(attempts, elapsed)

    # -- settings ----------------------------------------------------------------------------

    def settings(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Apply a validated partial update (see the module docstring); the current settings."""
        checks: dict[str, Callable[[Any], bool]] = {
            "callbacks": lambda v: v in CALLBACK_MODES,
            "status_query": lambda v: v in STATUS_QUERY_MODES,
            "link_lifetime_seconds": lambda v: v is None or (_number(v) and v > 0),
            "timeout_delay_seconds": lambda v: _number(v) and 0 <= v <= 600,
        }
        for name, value in changes.items():
            check = checks.get(name)
            if check is None:
                raise _error(400, f"unknown setting {name}; known: {', '.join(checks)}")
            if not check(value):
                raise _error(400, f"invalid value for {name}: {value!r}")
        with self._lock:
            for name, value in changes.items():
                if name == "callbacks":
                    self._outbox.set_callbacks(value)
                elif name == "status_query":
                    self.status_query = value
                else:
                    setattr(self.config, name, None if value is None else float(value))
            return {
                "callbacks": self._outbox.callbacks,
                "status_query": self.status_query,
                "link_lifetime_seconds": self.config.link_lifetime_seconds,
                "timeout_delay_seconds": self.config.timeout_delay_seconds,
                "notify_retry_delays": list(self.config.notify_retry_delays),
            }

    # -- faults ------------------------------------------------------------------------------

    def add_faults(self, kind: str, count: int) -> list[str]:
        with self._lock:
            self._faults.extend([kind] * count)
            return list(self._faults)

    def clear_faults(self) -> int:
        with self._lock:
            cleared = len(self._faults)
            self._faults.clear()
            return cleared

    def _take_fault(self) -> str | None:
        with self._lock:
            return self._faults.popleft() if self._faults else None

    def apply_payin_fault(self) -> Reply | None:
        """Consume the next queued payin fault; a reply short-circuits the call."""
        fault = self._take_fault()
        if fault == "timeout":
            self._stopping.wait(self.config.timeout_delay_seconds)
        elif fault == "server_error":
            return json_reply(503, {"error": "service unavailable (sandbox fault)"})
        elif fault == "reject":
            return self._envelope(CODE_SYSTEM_ERROR, "system error")
        elif fault in ("code_5000", "accepted_timeout"):
            return Reply(0, fault.encode())  # marker: create the order, then fault the answer
        return None

    def after_create(self, fault: Reply, created: Reply) -> Reply:
        """The `code_5000` / `accepted_timeout` faults, once the create has run."""
        if fault.body == b"code_5000":
            return self._envelope(CODE_SYSTEM_ERROR_5000, "system error")
        self._stopping.wait(self.config.timeout_delay_seconds)
        raise DropConnection

    # -- Paypro API ----------------------------------------------------------------------------

    def _check_caller(self, merchant_no: str | None, body: dict[str, Any]) -> Reply | None:
        if merchant_no != self.config.merchant_no:
            return self._envelope(CODE_BAD_MERCHANT, "invalid merchantNo")
        if not signing.is_valid(body, [self.config.app_secret]):
            return self._envelope(CODE_BAD_SIGN, "invalid sign")
        return None

    def payin(self, merchant_no: str | None, body: dict[str, Any]) -> Reply:
        """`/v1/payproVN/payin`: create a VietQR order and answer its payment link."""
        refusal = self._check_caller(merchant_no, body)
        if refusal is not None:
            return refusal
        problem = _payin_problem(body)
        if problem is not None:
            return self._envelope(CODE_BAD_PARAMETER, problem)
        platform_trade_no = "".join(secrets.choice(_ID_ALPHABET) for _ in range(16))
        order = _Order(
            trade_no=body["tradeNo"],
            platform_trade_no=platform_trade_no,
            amount=body["amount"],
            notify_url=body["notifyUrl"],
            remark=body.get("remark") or "",
            payment_link=f"{self.base_url}/pay/{platform_trade_no}",
            created_at=self._now().isoformat(timespec="milliseconds"),
            created=self._now(),
        )
        with self._lock:
            if order.trade_no in self._orders:
                return self._envelope(CODE_DUPLICATE, "duplicate tradeNo")
            self._orders[order.trade_no] = order
            self._by_platform[platform_trade_no] = order
        data = {
            "platFormTradeNo": platform_trade_no,
            "status": PROCESSING,
            "desc": "CREATED",
            "remark": order.remark,
            "paymentLink": order.payment_link,
        }
        return self._envelope(SUCCESS, "success", data)

    def payout(self, merchant_no: str | None, body: dict[str, Any]) -> Reply:
        """`/v1/payproVN/payout`: accept a bank payout; its result waits for the sandbox hooks
        ``POST /_sandbox/payouts/<tradeNo>/succeed|fail`` and is notified like a payin."""
        refusal = self._check_caller(merchant_no, body)
        if refusal is not None:
            return refusal
        problem = _payout_problem(body)
        if problem is not None:
            return self._envelope(CODE_BAD_PARAMETER, problem)
        platform_trade_no = "".join(secrets.choice(_ID_ALPHABET) for _ in range(16))
        order = _Order(
            trade_no=str(body["tradeNo"]),
            platform_trade_no=platform_trade_no,
            amount=str(body["amount"]),
            notify_url=str(body["notifyUrl"]),
            remark=str(body.get("remark") or ""),
            payment_link="",
            created_at=self._now().isoformat(timespec="milliseconds"),
            created=self._now(),
            kind="payout",
            account={k: str(body[k]) for k in ("accountName", "bankName", "bankNumber")},
        )
        with self._lock:
            if order.trade_no in self._orders:
                return self._envelope(CODE_DUPLICATE, "duplicate tradeNo")
            if int(order.amount) > self.balance_available:
                return self._envelope(CODE_BAD_PARAMETER, "invalid parameter: insufficient balance")
            self._orders[order.trade_no] = order
            self._by_platform[platform_trade_no] = order
        data = {"platFormTradeNo": platform_trade_no, "status": PROCESSING, "desc": "PROCESSING"}
        return self._envelope(SUCCESS, "success", data)

    def balance(self, merchant_no: str | None, body: dict[str, Any]) -> Reply:
        """`/v1/payproVN/queryBalance`, with the docs' misspelled `availablAmount`."""
        refusal = self._check_caller(merchant_no, body)
        if refusal is not None:
            return refusal
        with self._lock:
            frozen = sum(
                int(o.amount) for o in self._orders.values()
                if o.kind == "payout" and o.status == PROCESSING
            )  # fmt: skip
            data = {
                "availablAmount": str(self.balance_available - frozen),
                "freezeAmount": str(frozen),
                "unsettledAmount": "0",
            }
        return self._envelope(SUCCESS, "success", data)

    @property
    def balance_available(self) -> int:
        """Starting balance, plus paid payins, minus paid payouts."""
        paid = [o for o in self._orders.values() if o.status == SUCCESS]
        payins = sum(int(o.paid_amount or o.amount) for o in paid if o.kind == "payin")
        payouts = sum(int(o.amount) for o in paid if o.kind == "payout")
        return self.config.starting_balance + payins - payouts

    def finish_payout(self, trade_no: str, paid: bool) -> Reply:
        with self._lock:
            order = self._orders.get(trade_no)
            if order is None or order.kind != "payout":
                raise _error(404, "payout not found")
            platform_trade_no = order.platform_trade_no
        return self.finish(platform_trade_no, paid, None)

    def query(self, merchant_no: str | None, body: dict[str, Any]) -> Reply:
        """`/v1/payproVN/queryPayInResult`: the order's business status and paid amount."""
        refusal = self._check_caller(merchant_no, body)
        if refusal is not None:
            return refusal
        for name in ("tradeNo", "timestamp"):
            if body.get(name) in (None, ""):
                return self._envelope(CODE_BAD_PARAMETER, f"invalid parameter: {name} is required")
        if self.status_query == "silent":
            return json_reply(503, {"error": "service unavailable (sandbox fault)"})
        with self._lock:
            order = self._orders.get(str(body["tradeNo"]))
            if order is None:
                return self._envelope(CODE_NOT_FOUND, "order not found")
            order.queries += 1
            data = {
                "platFormTradeNo": order.platform_trade_no,
                "tradeNo": order.trade_no,
                "amount": order.paid_amount or order.amount,
                "status": order.status,
                "desc": order.desc,
            }
            if self.status_query == "in_progress":
                data.update(amount=order.amount, status=PROCESSING, desc="CREATED")
        return self._envelope(SUCCESS, "success", data)

    # -- cashier -------------------------------------------------------------------------------

    def order_snapshot(self, trade_no: str) -> dict[str, Any] | None:
        with self._lock:
            order = self._orders.get(trade_no)
            return order.snapshot() if order else None

    def cashier_page(self, platform_trade_no: str) -> Reply:
        with self._lock:
            order = self._by_platform.get(platform_trade_no)
            page = _cashier_page(order) if order else None
        if page is None:
            return Reply(404, _not_found_page(), "text/html; charset=utf-8")
        return Reply(200, page, "text/html; charset=utf-8", (("Cache-Control", "no-store"),))

    def finish(self, platform_trade_no: str, paid: bool, paid_amount: str | None) -> Reply:
        """Mark the order paid or declined, then deliver its signed notify."""
        with self._lock:
            order = self._by_platform.get(platform_trade_no)
            if order is None:
                raise _error(404, "order not found")
            if order.status != PROCESSING:
                raise _error(409, "order already final")
            if order.kind == "payin" and self.link_expired(order):
                raise _error(409, "payment link expired")
            fields = {
                "status": SUCCESS if paid else DECLINED,
                "message": "success" if paid else DECLINE_MESSAGE,
                "platFormTradeNo": order.platform_trade_no,
                "tradeNo": order.trade_no,
                "amount": (paid_amount or order.amount) if paid else order.amount,
            }
            if paid:
                success_time = self._now().astimezone(VIETNAM_TZ)
                fields["successTime"] = success_time.strftime("%Y-%m-%d %H:%M:%S")
                order.paid_amount = fields["amount"]
            fields["timestamp"] = str(_now_ms(self._now))
            fields["sign"] = signing.sign(fields, self.config.app_secret)
            order.status = fields["status"]
            order.notify = fields
            order.notify_body = compact(fields)
        return self._delivery_reply(order, self._deliver(order))

    def resend(self, platform_trade_no: str) -> Reply:
        """Deliver the order's last notify again, byte for byte."""
        with self._lock:
            order = self._by_platform.get(platform_trade_no)
            if order is None:
                raise _error(404, "order not found")
            if order.notify_body is None:
                raise _error(409, "order has no notify yet")
            order.delivered = False
            order.gave_up = False
            order.lost = False
        return self._delivery_reply(order, self._deliver(order))

    def link_expired(self, order: _Order) -> bool:
        """Past the `link_lifetime_seconds` setting (none by default: UNKNOWN in the docs)."""
        lifetime = self.config.link_lifetime_seconds
        if lifetime is None or order.created is None:
            return False
        return (self._now() - order.created).total_seconds() > lifetime

    def _delivery_reply(self, order: _Order, delivered: bool) -> Reply:
        with self._lock:
            return json_reply(
                200,
                {
                    "platFormTradeNo": order.platform_trade_no,
                    "tradeNo": order.trade_no,
                    "status": order.status,
                    "delivered": delivered,
                    "notify": order.notify,
                },
            )

    # -- notify delivery -----------------------------------------------------------------------

    def _deliver(self, order: _Order) -> bool:
        """Queue the notify on the outbox (first attempt at once, retries on the schedule);
        whether the first attempt delivered (waits for it, up to the attempt's timeout)."""
        with self._lock:
            order.retrying = True
        delivery = Delivery(
            f"notify tradeNo={order.trade_no}",
            lambda unreachable: self._attempt(order, unreachable),
            on_done=lambda finished: self._delivery_done(order, finished),
        )
        self._outbox.submit(delivery)
        return delivery.wait_first(NOTIFY_TIMEOUT_SECONDS + 1)

    def _delivery_done(self, order: _Order, delivery: Delivery) -> None:
        with self._lock:
            order.retrying = False
            order.gave_up = delivery.gave_up
            order.lost = delivery.lost

    def _attempt(self, order: _Order, unreachable: bool = False) -> bool:
        with self._lock:
            url, body, number = order.notify_url, order.notify_body, len(order.attempts) + 1
        record: dict[str, Any] = {"attempt": number, "at": self._now().isoformat()}
        delivered = False
        try:
            if unreachable:
                raise httpx.ConnectError("gateway unreachable (sandbox fault)")
            response = httpx.post(
                url,
                content=body,
                headers={"Content-Type": "application/json"},
                timeout=NOTIFY_TIMEOUT_SECONDS,
                trust_env=False,
            )
            delivered = response.status_code == 200 and response.text.strip() == NOTIFY_ACK
            record.update(statusCode=response.status_code, body=response.text[:1000], error=None)
        except Exception as exc:  # any failure to reach the merchant is a failed attempt
            record.update(statusCode=None, body=None, error=f"{type(exc).__name__}: {exc}")
        record["delivered"] = delivered
        with self._lock:
            order.attempts.append(record)
            order.delivered = order.delivered or delivered
        outcome = record["statusCode"] or record["error"]
        _log(f"notify tradeNo={order.trade_no} attempt {number} -> {outcome}")
        return delivered


def _log(line: str) -> None:
    sys.stderr.write(f"[paypro] {line}\n")
    sys.stderr.flush()


def _wants_json_body(content_type: str, raw: bytes) -> bool:
    return "json" in content_type or (not content_type and raw.lstrip().startswith(b"{"))


def _paid_amount(value: Any) -> str | None:
    if value in (None, ""):
        return None
    text = str(value)
    if isinstance(value, bool) or not _DIGITS.fullmatch(text) or int(text) <= 0:
        raise _error(400, "amount must be a positive whole number of VND")
    return str(int(text))


class _Handler(RoutedHandler):
    server_version = "PayproSandbox/1.0"

    @property
    def sandbox(self) -> PayproSandbox:
        return cast(PayproSandbox, cast(SandboxServer, self.server).sandbox)

    def routes(self) -> list[Route]:
        return [
            ("GET", r"/_sandbox/health", lambda _: json_reply(200, {"ok": True})),
            ("GET", r"/_sandbox/orders/([^/]+)", self._order_state),
            ("POST", r"/_sandbox/faults", self._add_faults),
            ("DELETE", r"/_sandbox/faults", lambda _: json_reply(200, self._clear_faults())),
            ("POST", r"/_sandbox/settings", lambda _: self._settings()),
            ("POST", r"/v1/payproVN/payin", self._payin),
            ("POST", r"/v1/payproVN/queryPayInResult", self._query),
            ("POST", r"/v1/payproVN/queryPayOutResult", self._query),
            ("POST", r"/v1/payproVN/payout", self._payout),
            ("POST", r"/v1/payproVN/queryBalance", self._balance),
            ("POST", r"/_sandbox/payouts/([^/]+)/succeed", lambda t: self._payout_result(t, True)),
            ("POST", r"/_sandbox/payouts/([^/]+)/fail", lambda t: self._payout_result(t, False)),
            ("GET", r"/pay/([^/]+)", self.sandbox.cashier_page),
            ("POST", r"/pay/([^/]+)/pay", lambda pid: self._finish(pid, paid=True)),
            ("POST", r"/pay/([^/]+)/decline", lambda pid: self._finish(pid, paid=False)),
            ("POST", r"/pay/([^/]+)/resend", self.sandbox.resend),
        ]

    def crash_reply(self, path: str) -> Reply:
        if path.startswith("/v1/"):
            return _envelope(CODE_SYSTEM_ERROR, "system error")
        return super().crash_reply(path)

    def dispatch(self) -> None:
        self._started = time.monotonic()
        super().dispatch()

    # -- routes --------------------------------------------------------------------------------

    def _order_state(self, trade_no: str) -> Reply:
        snapshot = self.sandbox.order_snapshot(trade_no)
        if snapshot is None:
            raise _error(404, "order not found")
        return json_reply(200, snapshot)

    def _add_faults(self, _: str) -> Reply:
        body = self.read_json()
        kind, count = body.get("payin"), body.get("count", 1)
        if kind not in FAULT_KINDS:
            raise _error(400, f"payin must be one of {', '.join(FAULT_KINDS)}")
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 1000:
            raise _error(400, "count must be an integer from 1 to 1000")
        return json_reply(200, {"queued": self.sandbox.add_faults(str(kind), count)})

    def _clear_faults(self) -> dict[str, int]:
        self.read_body()
        return {"cleared": self.sandbox.clear_faults()}

    def _settings(self) -> Reply:
        return json_reply(200, self.sandbox.settings(self.read_json()))

    def _payin(self, _: str) -> Reply:
        return self._create(self.sandbox.payin)

    def _payout(self, _: str) -> Reply:
        return self._create(self.sandbox.payout)

    def _create(self, create: Callable[[str | None, dict[str, Any]], Reply]) -> Reply:
        raw = self.read_body()
        fault = self.sandbox.apply_payin_fault()
        if fault is not None and fault.status != 0:
            return fault
        created = create(self.headers.get("merchantNo"), self.read_json(raw))
        if fault is not None:  # code_5000 / accepted_timeout: the order exists now
            return self.sandbox.after_create(fault, created)
        return created

    def _balance(self, _: str) -> Reply:
        return self.sandbox.balance(self.headers.get("merchantNo"), self.read_json())

    def _payout_result(self, trade_no: str, paid: bool) -> Reply:
        self.read_body()
        return self.sandbox.finish_payout(trade_no, paid)

    def _query(self, _: str) -> Reply:
        return self.sandbox.query(self.headers.get("merchantNo"), self.read_json())

    def _finish(self, platform_trade_no: str, paid: bool) -> Reply:
        raw = self.read_body()
        content_type = (self.headers.get("Content-Type") or "").lower()
        is_json = bool(raw.strip()) and _wants_json_body(content_type, raw)
        if is_json:
            amount = _paid_amount(self.read_json(raw).get("amount"))
        else:
            form = parse_qs(raw.decode("utf-8", errors="replace"))
            amount = _paid_amount(form.get("amount", [""])[0])
        reply = self.sandbox.finish(platform_trade_no, paid, amount if paid else None)
        if is_json or "application/json" in (self.headers.get("Accept") or ""):
            return reply
        return redirect(f"/pay/{platform_trade_no}")

    # -- logging -------------------------------------------------------------------------------

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        elapsed = (time.monotonic() - getattr(self, "_started", time.monotonic())) * 1000
        path = urlsplit(self.path).path if hasattr(self, "path") else "?"
        _log(f"{self.command} {path} -> {code} ({elapsed:.0f} ms)")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        _log(format % args)


def main() -> None:
    """Run the sandbox standalone until Ctrl-C."""
    defaults = SandboxConfig()
    parser = argparse.ArgumentParser(description="Local Paypro (Vietnam) sandbox")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3101)
    parser.add_argument("--merchant-no", default=defaults.merchant_no)
    parser.add_argument("--app-secret", default=defaults.app_secret)
    args = parser.parse_args()
    sandbox = PayproSandbox(
        SandboxConfig(merchant_no=args.merchant_no, app_secret=args.app_secret),
        host=args.host,
        port=args.port,
    )
    _log(f"sandbox on {sandbox.base_url} (merchantNo {args.merchant_no}); Ctrl-C stops it")
    serve_until_interrupted(sandbox)


if __name__ == "__main__":
    main()
