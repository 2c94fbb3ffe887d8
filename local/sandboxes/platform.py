"""Local stand-in for the ecommpay payment platform (Gate API, Payment Page, callbacks), which
ecommpay and Monetix both run with the same formats: one class, one instance per provider with
its own project id and secret, from ecommpay's Vietnam ATM (NAPAS) and Nganluong wallet
guides and Monetix's Vietnam bank transfers guide.

Gate (JSON POST; HMAC-SHA512 signature in ``general.signature`` over the whole body,
``general.project_id`` = the configured project):

- ``POST /v2/payment/atm/vietnam/sale`` and ``/v2/payment/wallet/nganluong/sale`` (ecommpay),
  ``POST /v2/payment/bank-transfer/vietnam/sale`` (Monetix); the other provider's paths answer
  404. Accepted: ``{"status": "success", "request_id", "project_id", "payment_id"}``, then the
  signed callbacks: the redirect (``redirect_data`` → ``GET /bank/<payment_id>``; ATM, Nganluong,
  Monetix "redirect" scenario), the transfer instructions (Monetix "instructions" scenario:
  ``display_data`` in Option 1 or 2) or a card clarification (ATM channel 2, a bank in
  ``card_required_banks`` and no ``card``: the docs' bank 135 example), then the final one.
- ``POST /v2/payment/atm/vietnam/payout`` and ``/v2/payment/wallet/nganluong/payout``
  (ecommpay): no intermediate callback; the result waits for
  ``POST /_sandbox/payments/<id>/transfer`` (success) or ``/decline`` (3104).
- ``POST /v2/payment/clarification`` (``general`` + the requested ``card`` fields), then the
  redirect callback.
- ``POST /v2/payment/status``: the platform's view, signed at the root
  (``payment``, ``operations: [last]``, ``errors``, plus ``redirect_data`` / ``display_data`` /
  ``clarification_fields`` while waiting).
- ``POST /v2/info/banks/atm/vietnam/sale/list`` and ``.../payout/list`` (ecommpay): the docs'
  tables as this sandbox reads them (platform_banks.py: purchases on the configured ATM
  channel, payouts on the one payout channel).

Customer side (HTML, Vietnamese with English in ``lang="en"`` spans): ``GET /bank/<id>`` (the
"bank website") with ``POST /bank/<id>/pay`` (optional form or JSON ``amount`` actually paid)
and ``/decline`` (20102, the docs' decline example); the Payment Page
``GET /payment?<params>&signature=...`` (registers the payment), ``GET /payment/<id>`` and
``POST /payment/<id>/pay|decline``. JSON callers (JSON body, Content-Type or Accept) get
``{"payment_id", "status", "delivered"}`` after waiting up to 5 s for the delivery attempt;
browsers get a 303 back to the page, which shows the outcome. A final payment answers 409.

Monetix test behaviour (docs' "Testing" and "Restrictions"): amounts 400 and 404 are declined
(20000 "General decline") right after the first callback (Payment Page: when paid); a purchase
with the same customer id and amount as a non-final one of the last ``series_window_seconds``
joins its series and gets the first purchase's redirect/instructions; when one purchase of a
series is final, the others are declined with 3613 "Duplicate operation". The "more than three
different amounts" rule is NOT modelled.

Callbacks: POSTed as signed JSON to ``callback_url`` from the sandbox's one outbox on the
injected clock (`now`, `timers`; timing.py, outbox.py): the first attempt at once, attempts
one at a time in time order; delivered = HTTP 200; otherwise retried on the platform's
documented schedule (its "Callbacks" pages): attempts 1-6 10 s apart, then attempt n
after 70 + 10·1.12^(n-4) s while that is at most 4 h, then every 4 h, at most 120 attempts
within 11 days of the first (``callback_retry_delays`` = a tuple of intervals overrides it;
``()``: no retries). With ``callback_url=None`` they are only kept
(``PlatformSandbox.callbacks``).

Lifetimes on the clock: a payment awaiting clarification gets ``clarification_wait_seconds``
(30 minutes, the docs) for the data, then it is declined (ASSUMPTION: code ``20000`` "General
decline"; the docs do not say what the platform reports) with its callback. A Payment Page
opened with ``best_before`` (ISO date-time, UTC when it has no offset) stops accepting payment
after it: opening the page later is an error page (400, nothing registered), paying is
refused (409 ``3060``), and an unpaid registered payment becomes ``expired`` (payment and
operation status: the platform's documented status names; ASSUMPTION: code ``20000``, a
callback is sent, and queries answer it; our docs do not say what the platform reports).

Test hooks: ``GET /_sandbox/health``; ``GET /_sandbox/payments/<id>`` (status, amounts, the
callbacks with their delivery attempts, series, masked card, ``status_queries``);
``POST /_sandbox/settings`` (partial ``{"atm_channel", "bank_transfer_scenario",
"display_option"}``, answers the current settings);
``POST /_sandbox/payments/<id>/transfer`` (the customer's transfer, optional ``{"amount": n}``)
and ``/decline``; ``POST /_sandbox/payments/<id>/resend`` (the last callback
again, byte for byte); ``POST|DELETE /_sandbox/faults`` (``{"kind": "timeout"|"server_error"|
"reject"|"accepted_timeout", "count": n}`` for the next Gate sale/payout calls: sleep
``timeout_delay_seconds`` then answer normally, HTTP 503, HTTP 400 code 100 "General
decline", or accept the request (the payment exists, its callbacks follow) and close the
connection without an answer after ``timeout_delay_seconds``, real time).
``POST /_sandbox/settings`` also takes ``callbacks`` (``deliver`` | ``lost``: callbacks made
meanwhile are never sent, no attempts | ``unreachable``: attempts fail and are retried on the
schedule), ``timeout_delay_seconds`` (0 to 600) and ``status_query`` (``normal`` |
``in_progress``: ``/v2/payment/status`` answers the payment as ``processing`` with no result,
whatever its state | ``silent``: HTTP 503).

Card numbers are never kept or logged: a PAN is masked (first 6, last 4, as the docs' payout
callback shows ``424242******4242``) on arrival. Signatures: signatures.py (the platform's
HMAC-SHA512), never the gateway's.

ASSUMPTIONS (not in our sources; this sandbox's own choices):
- a bad or missing signature, and a wrong ``project_id``, are HTTP 401 code ``1001``
  "Invalid signature" (the platform's real answer is unknown);
- HTTP statuses of refusals (the codes are the platform's documented response codes unless
  noted): missing field
  400 ``2004`` "Required field not provided: <path>"; other validation 400 ``502``
  "Validation error: ..."; duplicate ``payment_id`` 400 ``3041`` (SECONDARY); unknown payment
  404 ``3061``; clarification when none is awaited 400 ``3060``; finishing a final payment
  409 ``3060``; the other provider's or an unknown path 404 with code ``404`` (own code);
  the ``server_error`` fault's 503 with code ``503`` (own code);
- the clarification callback's ``clarification_fields`` is a JSON-schema-like object (the real
  format is UNKNOWN), and the clarification request carries the fields at the top level
  (``card{pan, card_holder, year, month}``);
- the first callback's ``payment.status`` is ``processing`` (``awaiting clarification`` for a
  clarification), ``operation.status`` ``awaiting redirect result`` /
  ``awaiting customer action`` / ``awaiting clarification``;
- bank lists answer a bare JSON array of ``{"id", "name"}`` (the real format is UNKNOWN);
- an unknown ``bank_id`` (ATM purchase or payout, Monetix purchase; platform_banks.py) is
  accepted then declined by callback with 2801 and ``errors`` inside ``operation`` (the ATM
  docs' declined purchase and payout examples); a non-integer ``bank_id`` counts as unknown;
  an ATM payout's ``region_id`` outside the docs' Table 3 is a 400 ``502``;
- final callbacks: ``provider.id`` 1154 (the docs' ATM example), ``provider.payment_id`` from
  the request id, no ``provider.date``; Monetix ones carry the docs' sample ``account`` on
  success and decline; ``customer{id}`` when the request had one; operation ids are random;
- the Payment Page needs ``force_payment_method`` (one of the provider's: ``vietnam-atm``,
  ``nganluong-wallet`` / ``bank-transfer-vietnam``); its payments send no intermediate
  callback and their status is plain ``processing`` until paid (Monetix instructions are shown
  on the page only); a mismatched ``project_id`` in a correctly signed URL is a 400 naming it;
- paying a payment that awaits clarification is refused (409 ``3060``); declining it is not.

Standalone: ``python -m local.sandboxes.platform --provider ecommpay --port 3103
--project-id 603 --secret ecommpay-local-secret --callback-url http://...`` (Ctrl-C stops it).
"""

from __future__ import annotations

import argparse
import json
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import parse_qsl, quote, urlsplit

from local.sandboxes import platform_banks
from local.sandboxes.base import (
    HTML,
    Callback,
    FaultQueue,
    Sandbox,
    is_positive_int,
    mask_card,
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
from local.sandboxes.outbox import delays, platform_retry_after
from local.sandboxes.platform_pages import PAGE_METHODS, customer_page, error_page, page_problem
from local.sandboxes.platform_wire import (
    PAYOUT_REQUIRED,
    PAYOUTS,
    REQUIRED,
    SALES,
    Provider,
    SandboxPayment,
    card_clarification,
    display_data,
    first_missing,
    lookup,
    redirect_data,
    requested_fields,
)
from local.sandboxes.platform_wire import now as wire_now
from local.sandboxes.signatures import gate_sign, gate_verify
from local.sandboxes.timing import Now, Timers

TEST_DECLINE_AMOUNTS = (400, 404)
FAULT_KINDS = ("timeout", "server_error", "reject", "accepted_timeout")
CALLBACK_TIMEOUT_SECONDS = 5.0  # per delivery attempt, and how long JSON callers wait for one


@dataclass
class PlatformSandboxConfig:
    provider: Provider
    project_id: int
    secret_key: str
    callback_url: str | None = None  # the project's callback URL; None: keep callbacks only
    atm_channel: Literal[1, 2] = 1  # ecommpay ATM purchase channel of the project
    bank_transfer_scenario: Literal["redirect", "instructions"] = "instructions"  # Monetix
    display_option: Literal[1, 2] = 2  # Monetix display_data title set
    card_required_banks: frozenset[int] = frozenset({135})  # ATM channel 2: need card data
    series_window_seconds: float = 1800.0  # Monetix 3613 series window
    callback_retry_delays: tuple[float, ...] | None = None  # None: the documented schedule
    timeout_delay_seconds: float = 30.0
    clarification_wait_seconds: float = 1800.0  # the docs: the platform waits 30 minutes


def _error(status: int, code: str, message: str) -> HttpError:
    return HttpError(json_reply(status, {"status": "error", "code": code, "message": message}))


def _require(document: dict[str, Any], paths: tuple[str, ...] | list[str]) -> None:
    """400 2004 naming the first path without a value."""
    missing = first_missing(document, paths)
    if missing is not None:
        raise _error(400, "2004", f"Required field not provided: {missing}")


def _page_url(payment_id: str) -> str:
    return f"/payment/{quote(payment_id, safe='')}"


def _bank_url(payment_id: str) -> str:
    return f"/bank/{quote(payment_id, safe='')}"


class PlatformSandbox(Sandbox):
    """Payments in memory; one serving thread and one outbox (callbacks in time order)."""

    settings_checks = {
        "atm_channel": lambda v: v in (1, 2) and not isinstance(v, bool),
        "bank_transfer_scenario": lambda v: v in ("redirect", "instructions"),
        "display_option": lambda v: v in (1, 2) and not isinstance(v, bool),
    }

    def __init__(
        self,
        config: PlatformSandboxConfig,
        host: str = "127.0.0.1",
        port: int = 0,
        now: Now | None = None,
        timers: Timers | None = None,
    ) -> None:
        self.config = config
        self.label = config.provider
        self._payments: dict[str, SandboxPayment] = {}
        self.faults = FaultQueue(FAULT_KINDS)
        retry = self._retry_after
        super().__init__(_Handler, host, port, retry, now, timers, config.timeout_delay_seconds)

    # -- read side -----------------------------------------------------------------------------

    def callbacks(self, payment_id: str) -> list[dict[str, Any]]:
        """The signed callback documents produced for the payment, in order."""
        with self._lock:
            payment = self._payments.get(payment_id)
            bodies = [callback.body for callback in payment.callbacks] if payment else []
        return [json.loads(body) for body in bodies]

    def payment(self, payment_id: str) -> dict[str, Any] | None:
        with self._lock:
            payment = self._payments.get(payment_id)
            snapshot = compact(payment.snapshot()) if payment else None
        return json.loads(snapshot) if snapshot is not None else None

    def settings(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Apply a validated partial update; the current settings."""
        self.apply_settings(changes, lambda message: _error(400, "502", message))
        current = {name: getattr(self.config, name) for name in self.settings_checks}
        return {**current, **self.common_settings()}

    def set_setting(self, name: str, value: Any) -> None:
        setattr(self.config, name, value)

    def _retry_after(self, attempts: int, elapsed: float) -> float | None:
        fixed = self.config.callback_retry_delays
        if fixed is not None:
            return delays(fixed)(attempts, elapsed)
        return platform_retry_after(attempts, elapsed)

    # -- Gate ----------------------------------------------------------------------------------

    def _verify(self, body: dict[str, Any]) -> None:
        project = lookup(body, "general.project_id")
        signed = gate_verify(body, self.config.secret_key)
        if not signed or str(project) != str(self.config.project_id):
            raise _error(401, "1001", "Invalid signature")

    def sale(self, path: str, body: dict[str, Any]) -> Reply:
        """A purchase (or an ecommpay payout) request."""
        payout = path in PAYOUTS
        provider, method = PAYOUTS[path] if payout else SALES[path]
        if provider != self.config.provider:
            raise _error(404, "404", f"{path} is not served by {self.config.provider}")
        return self.under_fault(
            lambda: self._accept(body, payout, method),
            {"server_error": lambda: _error(503, "503", "Service unavailable").reply,
             "reject": lambda: _error(400, "100", "General decline").reply},
        )  # fmt: skip

    def _accept(self, body: dict[str, Any], payout: bool, method: str) -> Reply:
        self._verify(body)
        channel = self.config.atm_channel if method == "napas_atm" else 0
        required = PAYOUT_REQUIRED[method] if payout else REQUIRED[(method, channel)]
        _require(body, ("general.payment_id", *required))
        amount, currency = lookup(body, "payment.amount"), lookup(body, "payment.currency")
        if not is_positive_int(amount):
            raise _error(400, "502", "Validation error: payment.amount must be a positive integer")
        if currency != "VND":
            raise _error(400, "502", "Validation error: currency must be VND")
        bank_id, customer_id = lookup(body, "account.bank_id"), lookup(body, "customer.id")
        payment = SandboxPayment(
            payment_id=str(lookup(body, "general.payment_id")),
            method=method,
            amount=amount,
            currency="VND",
            customer_id=None if customer_id in (None, "") else str(customer_id),
            request_id=secrets.token_hex(14),
            flow="gate",
            created_at=self._now().timestamp(),
            created_date=wire_now(self._now()),
            bank_id=bank_id if is_positive_int(bank_id) else None,
        )
        card = body.get("card")
        if isinstance(card, dict) and card.get("pan"):
            payment.card = mask_card(str(card["pan"]))  # the PAN itself is never kept
        if payout:
            payment.kind = "payout"
            payment.account_number = payment.card or str(lookup(body, "account.number"))
            region = lookup(body, "account.region_id")
            if method == "napas_atm" and region not in platform_banks.PAYOUT_REGIONS:
                raise _error(400, "502", "Validation error: account.region_id is not a region")
        with self._lock:
            if payment.payment_id in self._payments:
                raise _error(400, "3041", "Payment ID already exists")
            self._payments[payment.payment_id] = payment
            if payout:  # waits for its result (the /_sandbox hooks), unless its bank is unknown
                self._check_payout_bank(payment)
            else:
                self._begin(payment, has_card=payment.card is not None)
        return json_reply(200, self._accepted(payment.payment_id, payment.request_id))

    def _accepted(self, payment_id: str, request_id: str) -> dict[str, Any]:
        return {
            "status": "success",
            "request_id": request_id,
            "project_id": self.config.project_id,
            "payment_id": payment_id,
        }

    def _decline_unknown_bank(self, payment: SandboxPayment) -> None:
        """The docs' 2801 "Bank ID not found" decline, by callback."""
        error = {"code": "2801", "message": "Bank ID not found",
                 "description": "Gate. Bank ID was not found in request"}  # fmt: skip
        self._finish(payment, False, "2801", "Bank ID not found", [error])

    def _check_payout_bank(self, payment: SandboxPayment) -> None:
        payout_ids = {bank.id for bank in platform_banks.atm_payout_banks()}
        if payment.method == "napas_atm" and payment.bank_id not in payout_ids:
            self._decline_unknown_bank(payment)

    def _begin(self, payment: SandboxPayment, has_card: bool) -> None:
        """The first callback of a Gate purchase (and, for some, the decline right after)."""
        if payment.method == "bank_transfer":
            known = platform_banks.BANK_TRANSFER_IDS
            if payment.bank_id is not None and payment.bank_id not in known:
                self._decline_unknown_bank(payment)
            else:
                self._begin_transfer(payment)
            return
        if payment.method == "napas_atm":
            channel = self.config.atm_channel
            purchase_ids = {bank.id for bank in platform_banks.ATM[channel]}
            if payment.bank_id not in purchase_ids:
                self._decline_unknown_bank(payment)
                return
            needs_card = channel == 2 and payment.bank_id in self.config.card_required_banks
            if needs_card and not has_card:
                payment.status = payment.operation_status = "awaiting clarification"
                payment.action = card_clarification()
                self._emit(payment)
                wait = self.config.clarification_wait_seconds
                self.later(wait, lambda: self._clarification_timeout(payment))
                return
        self._await_redirect(payment)

    def _await_redirect(self, payment: SandboxPayment) -> None:
        payment.status, payment.operation_status = "processing", "awaiting redirect result"
        payment.action = redirect_data(f"{self.base_url}{_bank_url(payment.payment_id)}")
        self._emit(payment)

    def _begin_transfer(self, payment: SandboxPayment) -> None:
        leader = self._series_leader(payment)
        payment.status = "processing"
        if leader is not None:  # only the first purchase's data goes to the provider
            payment.series = leader.series
            payment.action = json.loads(json.dumps(leader.action))
            payment.operation_status = leader.operation_status
        else:
            payment.series = payment.payment_id
            if self.config.bank_transfer_scenario == "redirect":
                payment.operation_status = "awaiting redirect result"
                payment.action = redirect_data(f"{self.base_url}{_bank_url(payment.payment_id)}")
            else:
                payment.operation_status = "awaiting customer action"
                payment.action = display_data(self.config.display_option, payment.amount)
        self._emit(payment)
        if payment.amount in TEST_DECLINE_AMOUNTS:
            self._finish(payment, False, "20000", "General decline")

    def _series_leader(self, payment: SandboxPayment) -> SandboxPayment | None:
        """The first non-final purchase of the window with the same customer and amount."""
        window = self.config.series_window_seconds
        for other in self._payments.values():
            same = (other.customer_id, other.amount) == (payment.customer_id, payment.amount)
            recent = payment.created_at - other.created_at <= window
            if other is not payment and other.series and same and recent and not other.final:
                return other
        return None

    def _clarification_timeout(self, payment: SandboxPayment) -> None:
        """30 minutes without the clarification: declined (ASSUMPTION: 20000)."""
        with self._lock:
            if payment.status == "awaiting clarification":
                self.log(f"{payment.payment_id}: clarification timed out")
                self._finish(payment, False, "20000", "General decline")

    def _expire_page(self, payment: SandboxPayment) -> None:
        """`best_before` passed unpaid: expired (ASSUMPTION: 20000, with its callback)."""
        with self._lock:
            if not payment.final:
                self.log(f"{payment.payment_id}: Payment Page expired")
                payment.status = payment.operation_status = "expired"
                payment.code, payment.message = "20000", "General decline"
                self._emit(payment)

    def clarify(self, body: dict[str, Any]) -> Reply:
        """`/v2/payment/clarification`: the requested fields, then the redirect callback."""
        self._verify(body)
        _require(body, ("general.payment_id",))
        with self._lock:
            payment = self._payments.get(str(lookup(body, "general.payment_id")))
            if payment is None:
                raise _error(404, "3061", "Transaction not found")
            if payment.status != "awaiting clarification":
                raise _error(400, "3060", "Current payment status does not allow this action")
            _require(body, requested_fields(payment.action["clarification_fields"]))
            payment.card = mask_card(str(lookup(body, "card.pan")))
            self._await_redirect(payment)
            payment_id = payment.payment_id
        return json_reply(
            200,
            {"status": "success", "request_id": secrets.token_hex(14), "payment_id": payment_id},
        )

    def status(self, body: dict[str, Any]) -> Reply:
        """`/v2/payment/status`: the current view, signed at the root."""
        self._verify(body)
        _require(body, ("general.payment_id",))
        if self.status_query == "silent":
            raise _error(503, "503", "Service unavailable (sandbox fault)")
        with self._lock:
            payment = self._payments.get(str(lookup(body, "general.payment_id")))
            if payment is None:
                raise _error(404, "3061", "Transaction not found")
            payment.status_queries += 1
            if self.status_query == "in_progress":  # nothing new, whatever the truth
                payment = replace(
                    payment,
                    status="processing",
                    operation_status="processing",
                    action={},
                    code=None,
                    message=None,
                    errors=None,
                    paid_amount=None,
                )
            document = payment.document(self.config.project_id, self._now())
        operation = document.pop("operation")
        answer = {**document, "operations": [operation], "errors": operation.get("errors", [])}
        answer["signature"] = gate_sign(answer, self.config.secret_key)
        return json_reply(200, answer)

    def bank_list(self, operation: str, body: dict[str, Any]) -> Reply:
        if self.config.provider != "ecommpay":
            raise _error(404, "404", "bank lists are served by ecommpay")
        self._verify(body)
        if operation == "payout":
            rows = platform_banks.atm_payout_banks()
        else:
            rows = platform_banks.ATM[self.config.atm_channel]
        return json_reply(200, [{"id": bank.id, "name": bank.name} for bank in rows])

    # -- Payment Page --------------------------------------------------------------------------

    def open_page(self, query: str) -> Reply:
        """`GET /payment?<params>&signature=...`: check, register (once), show."""
        params = dict(parse_qsl(query, keep_blank_values=True))
        if not gate_verify(params, self.config.secret_key):
            return Reply(401, error_page("Invalid signature"), HTML)
        config = self.config
        problem = page_problem(params, config.provider, config.project_id, config.atm_channel)
        if problem is not None:
            return Reply(400, error_page(problem), HTML)
        provider_method = PAGE_METHODS[params["force_payment_method"]][1]
        best_before = _best_before(params.get("best_before"))
        if best_before == "invalid":
            return Reply(400, error_page("Invalid parameter best_before: an ISO date-time"), HTML)
        with self._lock:
            payment = self._payments.get(params["payment_id"])
            if payment is None and best_before is not None and self._now() > best_before:
                return Reply(400, error_page("Payment Page expired (best_before)"), HTML)
            if payment is None:
                payment = SandboxPayment(
                    payment_id=params["payment_id"],
                    method=provider_method,
                    amount=int(params["payment_amount"]),
                    currency="VND",
                    customer_id=params.get("customer_id") or None,
                    request_id=secrets.token_hex(14),
                    flow="page",
                    created_at=self._now().timestamp(),
                    created_date=wire_now(self._now()),
                    best_before=best_before,
                )
                if best_before is not None:
                    self.later(best_before, lambda: self._expire_page(payment))
                if provider_method == "bank_transfer":  # shown on the page, not sent
                    option = self.config.display_option
                    payment.page_instructions = display_data(option, payment.amount)
                self._payments[payment.payment_id] = payment
            page = customer_page(payment, _page_url(payment.payment_id))
        return Reply(200, page, HTML, (("Cache-Control", "no-store"),))

    def customer_page(self, payment_id: str, flow: Literal["bank", "page"]) -> Reply:
        with self._lock:
            payment = self._payments.get(payment_id)
            if payment is None:
                return Reply(404, error_page("Payment not found"), HTML)
            base = _bank_url(payment_id) if flow == "bank" else _page_url(payment_id)
            page = customer_page(payment, base)
        return Reply(200, page, HTML, (("Cache-Control", "no-store"),))

    # -- the customer's outcome ----------------------------------------------------------------

    def customer_outcome(self, payment_id: str, paid: bool, amount: int | None) -> dict[str, Any]:
        """Pay (optionally another amount) or decline; waits briefly for the delivery."""
        with self._lock:
            payment = self._payments.get(payment_id)
            if payment is None:
                raise _error(404, "3061", "Transaction not found")
            if payment.final:
                raise _error(409, "3060", f"Payment is already final ({payment.status})")
            if paid and payment.status == "awaiting clarification":
                raise _error(409, "3060", "Payment awaits clarification")
            if payment.best_before is not None and self._now() > payment.best_before:
                raise _error(409, "3060", "Payment Page expired (best_before)")
            test_decline = payment.method == "bank_transfer" and (
                payment.amount in TEST_DECLINE_AMOUNTS
            )
            if paid and test_decline:  # Monetix test amounts (Payment Page)
                delivery = self._finish(payment, False, "20000", "General decline")
            elif paid:
                payment.paid_amount = amount or payment.amount
                delivery = self._finish(payment, True, "0", "Success")
            elif payment.kind == "payout":
                message = "Payment Constraint Invalid Payout Amount"
                delivery = self._finish(payment, False, "3104", message)
            else:
                delivery = self._finish(payment, False, "20102", "Incorrect account data entered")
            status = payment.status
        delivered = delivery.wait_first(CALLBACK_TIMEOUT_SECONDS)
        return {"payment_id": payment_id, "status": status, "delivered": delivered}

    def _finish(
        self,
        payment: SandboxPayment,
        paid: bool,
        code: str,
        message: str,
        errors: list[dict[str, str]] | None = None,
    ) -> Callback:
        """Make the payment final, send its callback, and decline the rest of its series."""
        payment.status = payment.operation_status = "success" if paid else "decline"
        payment.code, payment.message, payment.errors = code, message, errors
        delivery = self._emit(payment)
        if payment.series:
            for other in list(self._payments.values()):
                if other is not payment and other.series == payment.series and not other.final:
                    self._finish(other, False, "3613", "Duplicate operation")
        return delivery

    def resend(self, payment_id: str) -> dict[str, Any]:
        """The payment's last callback again, byte for byte."""
        with self._lock:
            payment = self._payments.get(payment_id)
            if payment is None or not payment.callbacks:
                raise _error(404, "3061", "Transaction not found or no callback yet")
            delivery = self.send(payment.callbacks[-1], self.config.callback_url)
        delivered = delivery.wait_first(CALLBACK_TIMEOUT_SECONDS)
        return {"payment_id": payment_id, "resent": True, "delivered": delivered}

    # -- callback delivery ---------------------------------------------------------------------

    def _emit(self, payment: SandboxPayment) -> Callback:
        """Sign the payment's current state as a callback, keep it, and send it."""
        document = payment.document(self.config.project_id, self._now())
        document["signature"] = gate_sign(document, self.config.secret_key)
        callback = Callback(f"callback {payment.payment_id}", compact(document))
        payment.callbacks.append(callback)
        return self.send(callback, self.config.callback_url)


def _best_before(value: str | None) -> datetime | Literal["invalid"] | None:
    """The Payment Page's `best_before` (UTC when it has no offset)."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return "invalid"
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class _Handler(RoutedHandler):
    server_version = "PlatformSandbox/1.0"

    sandbox: PlatformSandbox

    def routes(self) -> list[Route]:
        s = self.sandbox
        return [
            ("GET", r"/_sandbox/payments/([^/]+)", self._snapshot),
            ("POST", r"/_sandbox/payments/([^/]+)/transfer", lambda p: self._outcome(p, True)),
            ("POST", r"/_sandbox/payments/([^/]+)/decline", lambda p: self._outcome(p, False)),
            ("POST", r"/_sandbox/payments/([^/]+)/resend", self._resend),
            *self.sandbox_routes("kind"),
            ("POST", r"(/v2/payment/[a-z-]+/[a-z]+/(?:sale|payout))", self._sale),
            ("POST", r"/v2/payment/clarification", lambda _: s.clarify(self.read_json())),
            ("POST", r"/v2/payment/status", lambda _: s.status(self.read_json())),
            ("POST", r"/v2/info/banks/atm/vietnam/(sale|payout)/list",
             lambda op: s.bank_list(op, self.read_json())),
            ("GET", r"/payment", lambda _: s.open_page(urlsplit(self.path).query)),
            ("GET", r"/payment/([^/]+)", lambda p: s.customer_page(p, "page")),
            ("POST", r"/payment/([^/]+)/pay", lambda p: self._outcome(p, True, _page_url(p))),
            ("POST", r"/payment/([^/]+)/decline", lambda p: self._outcome(p, False, _page_url(p))),
            ("GET", r"/bank/([^/]+)", lambda p: s.customer_page(p, "bank")),
            ("POST", r"/bank/([^/]+)/pay", lambda p: self._outcome(p, True, _bank_url(p))),
            ("POST", r"/bank/([^/]+)/decline", lambda p: self._outcome(p, False, _bank_url(p))),
        ]  # fmt: skip

    def error(self, status: int, message: str) -> HttpError:
        return _error(status, str(status), message)

    # -- routes --------------------------------------------------------------------------------

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

    def _resend(self, payment_id: str) -> Reply:
        self.read_body()
        return json_reply(200, self.sandbox.resend(payment_id))

    def _outcome(self, payment_id: str, paid: bool, back: str | None = None) -> Reply:
        """Pay/decline from a form (303 back to `back`) or from a script (JSON)."""
        fields, script = self.read_fields()
        try:
            amount = whole_amount(fields.get("amount")) if paid else None
        except ValueError:
            message = "Validation error: amount must be a positive whole number"
            raise _error(400, "502", message) from None
        result = self.sandbox.customer_outcome(payment_id, paid, amount)
        return json_reply(200, result) if back is None or script else redirect(back)


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
    parser.add_argument(
        "--bank-transfer-scenario", choices=("redirect", "instructions"), default="instructions"
    )
    parser.add_argument("--display-option", type=int, choices=(1, 2), default=2)
    args = parser.parse_args()
    config = PlatformSandboxConfig(
        provider=args.provider,
        project_id=args.project_id,
        secret_key=args.secret,
        callback_url=args.callback_url,
        atm_channel=args.atm_channel,
        bank_transfer_scenario=args.bank_transfer_scenario,
        display_option=args.display_option,
    )
    sandbox = PlatformSandbox(config, host=args.host, port=args.port)
    where = args.callback_url or "kept in memory"
    sandbox.log(
        f"{args.provider} sandbox on {sandbox.base_url} (callbacks: {where}); Ctrl-C stops it"
    )
    serve_until_interrupted(sandbox)


if __name__ == "__main__":
    main()
