"""Local stand-in for Paypro's Vietnam VietQR payin API, on 127.0.0.1, with Paypro's wire
format and its own `sign` (signatures.py; Paypro's Vietnam "Payment API" page).

Paypro endpoints: ``POST /v1/payproVN/payin``, ``/queryPayInResult``, ``/payout``,
``/queryPayOutResult`` and ``/queryBalance`` (answering the docs' misspelled
``availablAmount``). A payout's result waits for ``POST /_sandbox/payouts/<tradeNo>/succeed``
or ``/fail`` (``00029``) and is notified like a payin's.
Cashier: ``GET /pay/<platFormTradeNo>`` (HTML) and ``POST /pay/<id>/pay|decline|resend``, which
send the signed notify to the order's ``notifyUrl`` (delivered = HTTP 200 with body ``OK``).

Time (timing.py, outbox.py): the sandbox reads the injected `now` and sets its retries on the
injected `timers` (the local runtime's one clock; without one, its own real-time timers). The
first notify goes at once; when it is not delivered it is retried on Paypro's documented schedule
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

ASSUMPTION: Paypro's Vietnam "Error Code" page is not available to us, so the
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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from local.sandboxes.base import (
    DIGITS,
    HTML,
    Callback,
    FaultQueue,
    Sandbox,
    is_number,
    page,
    pay_forms,
    vnd,
    whole_amount,
)
from local.sandboxes.http import (
    HttpError,
    Reply,
    Route,
    RoutedHandler,
    compact,
    json_reply,
    redirect,
    serve_until_interrupted,
)
from local.sandboxes.outbox import PAYPRO_NOTIFY_DELAYS, delays
from local.sandboxes.signatures import paypro_sign, paypro_verify
from local.sandboxes.timing import Now, Timers

SUCCESS = "0000"
PROCESSING = "0015"
DECLINED = "00029"
DECLINE_MESSAGE = "Transaction rejected"
BANK_NAME = "VietQR"
MIN_AMOUNT = 50_000  # the Payment API page: "minimum 50000, no decimals"

CODE_BAD_MERCHANT = "1001"
CODE_BAD_SIGN = "1002"
CODE_BAD_PARAMETER = "1003"
CODE_DUPLICATE = "1004"
CODE_NOT_FOUND = "1005"
CODE_SYSTEM_ERROR = "8000"
CODE_SYSTEM_ERROR_5000 = "5000"

FAULT_KINDS = ("timeout", "server_error", "reject", "code_5000", "accepted_timeout")
NOTIFY_ACK = "OK"
NOTIFY_TIMEOUT = 5.0  # seconds per notify attempt
VIETNAM_TZ = timezone(timedelta(hours=7))
_ID_ALPHABET = string.ascii_lowercase + string.digits
# The Payout API: the account name in English letters (no Vietnamese diacritics).
ENGLISH_NAME = re.compile(r"[A-Za-z]+( [A-Za-z]+)*")
# The payout banks' short names. ASSUMPTION: Paypro's Vietnam "Bank List" page is not available
# to us; ACB is the Payout API's example, the others are the usual Vietnamese bank codes.
PAYOUT_BANKS = frozenset({
    "ACB", "VCB", "BIDV", "VTB", "TCB", "MB", "VPB", "TPB", "STB", "VIB", "SHB", "HDB", "OCB",
    "MSB", "SCB", "EIB", "AGR", "SEAB", "ABB", "NAB",
})  # fmt: skip


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


def _now_ms(now: Now) -> int:
    return int(now().timestamp() * 1000)


def _envelope(code: str, msg: str, data: dict[str, Any] | None, now: Now) -> Reply:
    """Paypro's answer envelope; failures are HTTP 200 with `success: false`."""
    document = {"msg": msg, "code": code, "timestamp": _now_ms(now), "success": code == SUCCESS}
    return json_reply(200, {**document, "data": data})


@dataclass
class _Order:
    trade_no: str
    platform_trade_no: str
    amount: str
    notify_url: str
    remark: str
    payment_link: str
    created: datetime
    status: str = PROCESSING
    paid_amount: str | None = None
    notify: dict[str, str] | None = None
    callback: Callback = field(default_factory=lambda: Callback("notify", b""))
    kind: str = "payin"  # or "payout"
    account: dict[str, str] = field(default_factory=dict)
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
            "createdAt": self.created.isoformat(timespec="milliseconds"),
            "notify": self.notify,
            "delivered": self.callback.delivered,
            "retrying": self.callback.retrying,
            "gaveUp": self.callback.gave_up,
            "lost": self.callback.lost,
            "queries": self.queries,
            "deliveries": list(self.callback.attempts),
            "kind": self.kind,
            "account": dict(self.account),
        }


def _missing(body: dict[str, Any], names: tuple[str, ...]) -> str | None:
    for name in names:
        if body.get(name) in (None, ""):
            return f"invalid parameter: {name} is required"
    return None


def _amount_problem(amount: Any) -> str | None:
    if not DIGITS.fullmatch(str(amount)) or int(str(amount)) < MIN_AMOUNT:
        return f"invalid parameter: amount must be a whole number of at least {MIN_AMOUNT}"
    return None


def _payin_problem(body: dict[str, Any]) -> str | None:
    """The first invalid payin field (the Payment API's request table), or None."""
    missing = _missing(body, ("timestamp", "amount", "tradeNo", "bankName", "notifyUrl"))
    if missing:
        return missing
    timestamp = body["timestamp"]
    if isinstance(timestamp, bool) or not DIGITS.fullmatch(str(timestamp)):
        return "invalid parameter: timestamp must be milliseconds since the epoch"
    for name in ("amount", "tradeNo", "bankName", "notifyUrl", "remark"):
        if name in body and body[name] is not None and not isinstance(body[name], str):
            return f"invalid parameter: {name} must be a string"
    if body["bankName"] != BANK_NAME:
        return f'invalid parameter: bankName must be "{BANK_NAME}"'
    return _amount_problem(body["amount"])


def _payout_problem(body: dict[str, Any]) -> str | None:
    """The first invalid payout field, or None."""
    names = ("timestamp", "tradeNo", "amount", "accountName", "bankName", "bankNumber", "notifyUrl")
    problem = _missing(body, names) or _amount_problem(body["amount"])
    if problem:
        return problem
    if not ENGLISH_NAME.fullmatch(str(body["accountName"])):
        return "invalid parameter: accountName must be English letters only"
    if str(body["bankName"]) not in PAYOUT_BANKS:
        return "invalid parameter: bankName is not a supported payout bank"
    if not DIGITS.fullmatch(str(body["bankNumber"])):
        return "invalid parameter: bankNumber must be digits"
    return None


def _cashier_page(order: _Order) -> bytes:
    e = html.escape
    pid = e(order.platform_trade_no)
    if order.status == PROCESSING:
        actions = pay_forms(f"/pay/{order.platform_trade_no}", order.amount)
    else:
        outcome = (
            f"Đã thanh toán / <span lang='en'>Paid</span>: {e(vnd(order.paid_amount or '0'))}"
            if order.status == SUCCESS
            else f"Bị từ chối / <span lang='en'>Declined</span>: {e(DECLINE_MESSAGE)}"
        )
        callback = order.callback
        delivery = "delivered" if callback.delivered else "not delivered"
        actions = f"""
<p role="status"><strong>{outcome}</strong> (status {e(order.status)})</p>
<p lang="en">Notify {delivery} ({len(callback.attempts)} attempt(s)).</p>"""
    body = f"""<h1>Thanh toán VietQR <small lang="en">(Paypro sandbox)</small></h1>
<dl>
  <dt>Số tiền / <span lang="en">Amount</span></dt><dd>{e(vnd(order.amount))}</dd>
  <dt>Mã đơn hàng / <span lang="en">Merchant order number</span></dt><dd>{e(order.trade_no)}</dd>
  <dt>Mã giao dịch Paypro / <span lang="en">Paypro transaction number</span></dt><dd>{pid}</dd>
</dl>
<div class="qr" role="img" aria-label="Mã VietQR (ảnh giữ chỗ) / VietQR code placeholder">
  VietQR
</div>
{actions}"""
    return page("Thanh toán VietQR - Paypro sandbox", body)


NOT_FOUND_PAGE = page(
    "Không tìm thấy - Paypro sandbox",
    '<h1>Không tìm thấy đơn hàng</h1>\n<p lang="en">Order not found.</p>',
)


class PayproSandbox(Sandbox):
    """The sandbox server: orders in memory, one background serving thread."""

    label = "paypro"
    callback_timeout = NOTIFY_TIMEOUT
    settings_checks = {"link_lifetime_seconds": lambda v: v is None or (is_number(v) and v > 0)}

    def __init__(
        self,
        config: SandboxConfig,
        host: str = "127.0.0.1",
        port: int = 0,
        now: Now | None = None,
        timers: Timers | None = None,
    ) -> None:
        self.config = config
        self._orders: dict[str, _Order] = {}  # by tradeNo
        self._by_platform: dict[str, _Order] = {}
        self.faults = FaultQueue(FAULT_KINDS)
        retry = self._retry_after
        super().__init__(_Handler, host, port, retry, now, timers, config.timeout_delay_seconds)

    def _envelope(self, code: str, msg: str, data: dict[str, Any] | None = None) -> Reply:
        return _envelope(code, msg, data, self._now)

    def _retry_after(self, attempts: int, elapsed: float) -> float | None:
        return delays(self.config.notify_retry_delays)(attempts, elapsed)

    def set_setting(self, name: str, value: Any) -> None:
        self.config.link_lifetime_seconds = None if value is None else float(value)

    def settings(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Apply a validated partial update (see the module docstring); the current settings."""
        self.apply_settings(changes, lambda message: _error(400, message))
        return {
            **self.common_settings(),
            "link_lifetime_seconds": self.config.link_lifetime_seconds,
            "notify_retry_delays": list(self.config.notify_retry_delays),
        }

    # -- faults ------------------------------------------------------------------------------

    def create(self, create: Callable[[], Reply]) -> Reply:
        """A payin/payout create under the next queued fault, if any (``code_5000``: the order
        exists, the answer says "system error")."""
        server_error = {"error": "service unavailable (sandbox fault)"}
        return self.under_fault(
            create,
            {"server_error": lambda: json_reply(503, server_error),
             "reject": lambda: self._envelope(CODE_SYSTEM_ERROR, "system error")},
            {"code_5000": lambda: self._envelope(CODE_SYSTEM_ERROR_5000, "system error")},
        )  # fmt: skip

    # -- Paypro API ----------------------------------------------------------------------------

    def _check_caller(self, merchant_no: str | None, body: dict[str, Any]) -> Reply | None:
        if merchant_no != self.config.merchant_no:
            return self._envelope(CODE_BAD_MERCHANT, "invalid merchantNo")
        if not paypro_verify(body, self.config.app_secret):
            return self._envelope(CODE_BAD_SIGN, "invalid sign")
        return None

    def _open(self, merchant_no: str | None, body: dict[str, Any], kind: str) -> Reply:
        """`/v1/payproVN/payin` (a VietQR order with its payment link) or `/payout` (a bank
        payout whose result waits for ``POST /_sandbox/payouts/<tradeNo>/succeed|fail``)."""
        refusal = self._check_caller(merchant_no, body)
        if refusal is not None:
            return refusal
        problem = _payin_problem(body) if kind == "payin" else _payout_problem(body)
        if problem is not None:
            return self._envelope(CODE_BAD_PARAMETER, problem)
        platform_trade_no = "".join(secrets.choice(_ID_ALPHABET) for _ in range(16))
        order = _Order(
            trade_no=str(body["tradeNo"]),
            platform_trade_no=platform_trade_no,
            amount=str(body["amount"]),
            notify_url=str(body["notifyUrl"]),
            remark=str(body.get("remark") or ""),
            payment_link=f"{self.base_url}/pay/{platform_trade_no}" if kind == "payin" else "",
            created=self._now(),
            kind=kind,
        )
        if kind == "payout":
            order.account = {k: str(body[k]) for k in ("accountName", "bankName", "bankNumber")}
        with self._lock:
            if order.trade_no in self._orders:
                return self._envelope(CODE_DUPLICATE, "duplicate tradeNo")
            if kind == "payout" and int(order.amount) > self.balance_available:
                return self._envelope(CODE_BAD_PARAMETER, "invalid parameter: insufficient balance")
            self._orders[order.trade_no] = order
            self._by_platform[platform_trade_no] = order
        data: dict[str, Any] = {"platFormTradeNo": platform_trade_no, "status": PROCESSING}
        if kind == "payout":
            return self._envelope(SUCCESS, "success", {**data, "desc": "PROCESSING"})
        data.update(desc="CREATED", remark=order.remark, paymentLink=order.payment_link)
        return self._envelope(SUCCESS, "success", data)

    def payin(self, merchant_no: str | None, body: dict[str, Any]) -> Reply:
        return self._open(merchant_no, body, "payin")

    def payout(self, merchant_no: str | None, body: dict[str, Any]) -> Reply:
        return self._open(merchant_no, body, "payout")

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
        return self.finish(order.platform_trade_no, paid, None)

    def query(self, merchant_no: str | None, body: dict[str, Any]) -> Reply:
        """`/v1/payproVN/queryPayInResult`: the order's business status and paid amount."""
        refusal = self._check_caller(merchant_no, body)
        if refusal is not None:
            return refusal
        missing = _missing(body, ("tradeNo", "timestamp"))
        if missing:
            return self._envelope(CODE_BAD_PARAMETER, missing)
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
            shown = _cashier_page(order) if order else None
        if shown is None:
            return Reply(404, NOT_FOUND_PAGE, HTML)
        return Reply(200, shown, HTML, (("Cache-Control", "no-store"),))

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
            fields["sign"] = paypro_sign(fields, self.config.app_secret)
            order.status = fields["status"]
            order.notify = fields
            order.callback.name = f"notify tradeNo={order.trade_no}"
            order.callback.body = compact(fields)
        return self._deliver(order)

    def resend(self, platform_trade_no: str) -> Reply:
        """Deliver the order's last notify again, byte for byte."""
        with self._lock:
            order = self._by_platform.get(platform_trade_no)
            if order is None:
                raise _error(404, "order not found")
            if order.notify is None:
                raise _error(409, "order has no notify yet")
        return self._deliver(order)

    def link_expired(self, order: _Order) -> bool:
        """Past the `link_lifetime_seconds` setting (none by default: UNKNOWN in the docs)."""
        lifetime = self.config.link_lifetime_seconds
        return lifetime is not None and (self._now() - order.created).total_seconds() > lifetime

    def _deliver(self, order: _Order) -> Reply:
        """Send the notify (first attempt at once, retries on the schedule); the answer says
        whether the first attempt delivered (waiting for it, up to the attempt's timeout)."""
        delivered = self.send(order.callback, order.notify_url).wait_first(NOTIFY_TIMEOUT + 1)
        with self._lock:
            answer = {
                "platFormTradeNo": order.platform_trade_no,
                "tradeNo": order.trade_no,
                "status": order.status,
                "delivered": delivered,
                "notify": order.notify,
            }
        return json_reply(200, answer)

    def accepted(self, status: int | None, text: str | None) -> bool:
        """Delivered: HTTP 200 with the body `OK`."""
        return status == 200 and (text or "").strip() == NOTIFY_ACK

    def attempt_record(
        self, number: int, at: datetime, status: int | None, text: str | None, error: str | None
    ) -> dict[str, Any]:
        return {"attempt": number, "at": at.isoformat(), "statusCode": status,
                "body": None if text is None else text[:1000], "error": error,
                "delivered": self.accepted(status, text)}  # fmt: skip


class _Handler(RoutedHandler):
    server_version = "PayproSandbox/1.0"
    sandbox: PayproSandbox

    def routes(self) -> list[Route]:
        s = self.sandbox
        merchant = self.headers.get("merchantNo")

        def api(call: Callable[[str | None, dict[str, Any]], Reply]) -> Callable[[str], Reply]:
            return lambda _: call(merchant, self.read_json())

        return [
            ("GET", r"/_sandbox/orders/([^/]+)", self._order_state),
            *self.sandbox_routes("payin"),
            ("POST", r"/v1/payproVN/payin", lambda _: self._create(s.payin)),
            ("POST", r"/v1/payproVN/payout", lambda _: self._create(s.payout)),
            ("POST", r"/v1/payproVN/queryPayInResult", api(s.query)),
            ("POST", r"/v1/payproVN/queryPayOutResult", api(s.query)),
            ("POST", r"/v1/payproVN/queryBalance", api(s.balance)),
            ("POST", r"/_sandbox/payouts/([^/]+)/succeed", lambda t: self._payout_result(t, True)),
            ("POST", r"/_sandbox/payouts/([^/]+)/fail", lambda t: self._payout_result(t, False)),
            ("GET", r"/pay/([^/]+)", s.cashier_page),
            ("POST", r"/pay/([^/]+)/pay", lambda pid: self._finish(pid, paid=True)),
            ("POST", r"/pay/([^/]+)/decline", lambda pid: self._finish(pid, paid=False)),
            ("POST", r"/pay/([^/]+)/resend", s.resend),
        ]  # fmt: skip

    def crash_reply(self, path: str) -> Reply:
        if path.startswith("/v1/"):
            return self.sandbox._envelope(CODE_SYSTEM_ERROR, "system error")
        return super().crash_reply(path)

    def _order_state(self, trade_no: str) -> Reply:
        snapshot = self.sandbox.order_snapshot(trade_no)
        if snapshot is None:
            raise _error(404, "order not found")
        return json_reply(200, snapshot)

    def _create(self, create: Callable[[str | None, dict[str, Any]], Reply]) -> Reply:
        raw = self.read_body()
        merchant = self.headers.get("merchantNo")
        return self.sandbox.create(lambda: create(merchant, self.read_json(raw)))

    def _payout_result(self, trade_no: str, paid: bool) -> Reply:
        self.read_body()
        return self.sandbox.finish_payout(trade_no, paid)

    def _finish(self, platform_trade_no: str, paid: bool) -> Reply:
        fields, script = self.read_fields()
        try:
            amount = whole_amount(fields.get("amount"))
        except ValueError:
            raise _error(400, "amount must be a positive whole number of VND") from None
        paid_amount = str(amount) if paid and amount is not None else None
        reply = self.sandbox.finish(platform_trade_no, paid, paid_amount)
        return reply if script else redirect(f"/pay/{platform_trade_no}")


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
    sandbox.log(f"sandbox on {sandbox.base_url} (merchantNo {args.merchant_no}); Ctrl-C stops it")
    serve_until_interrupted(sandbox)


if __name__ == "__main__":
    main()
