"""Smart Glocal mapping: every session status x payment status x webhook type combination,
the rules written out independently, plus next actions, failures and amounts."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from paygate.domain import Method, Payment, PaymentStatus, Provider
from paygate.providers.smartglocal.transformers import (
    PAYMENT_ID_KEY,
    Session,
    Webhook,
    map_status,
    payment_fields,
    received_amount,
    update_from_session,
)

EVENTS = Path(__file__).parents[2] / "events/smartglocal"
SESSION_STATUSES = ["created", "in_progress", "accepted", "cancelled", "canceled", "error", "new?"]
PAYMENT_STATUSES = [None, "in_progress", "pending", "succeeded", "failed", "weird"]
EVENTS_TYPES = [None, "ready_to_confirm", "action_required", "payment_finished", "ready_to_capture"]
NEXT_ACTIONS = [None, "confirm", "capture"]
# The payment's `error.code`: none, the (assumed) timeout code, a decline, an undocumented one.
ERROR_CODES = [None, "timeout", "payment_declined", "undocumented_code"]
REDIRECT = {"type": "redirect", "redirect": {"url": "https://qr.example/1", "method": "GET"}}


def session(
    status: str,
    payment_status: str | None = "in_progress",
    next_action: str | None = None,
    interaction: dict[str, Any] | None = None,
    **payment: Any,
) -> Session:
    payments = []
    if payment_status is not None:
        entry: dict[str, Any] = {"id": "pm_1", "status": payment_status, **payment}
        if interaction:
            entry["customer_interaction"] = interaction
        payments.append(entry)
    document = {"id": "ps_1", "status": status, "acquiring_payments": payments}
    if next_action:
        document["next_action"] = next_action
    return Session.model_validate(document)


def expected(
    status: str,
    payment: str | None,
    event: str | None,
    next_action: str | None,
    redirect: bool,
    error: str | None = None,
) -> PaymentStatus:
    """The rules of transformers.py's docstring, as a plain decision table: ended without
    money is `expired` when abandoned (the timeout code, or a cancelled session without a
    code) and `failed` for every other code (a decline; undocumented codes too)."""
    cancelled = status in ("cancelled", "canceled")
    if status == "accepted" and payment == "succeeded":
        return PaymentStatus.SUCCEEDED
    if payment == "failed":
        if status == "error":
            return PaymentStatus.PROCESSING
        abandoned = error == "timeout" or (error is None and cancelled)
        return PaymentStatus.EXPIRED if abandoned else PaymentStatus.FAILED
    if cancelled:
        return PaymentStatus.EXPIRED
    if status == "error" or status == "accepted" or payment == "succeeded":
        return PaymentStatus.PROCESSING
    if event == "ready_to_confirm" or next_action == "confirm":
        return PaymentStatus.REQUIRES_CONFIRMATION
    if event == "action_required" or redirect:
        return PaymentStatus.REQUIRES_ACTION
    return PaymentStatus.PENDING


@pytest.mark.parametrize(
    ("status", "payment", "event", "next_action", "redirect"),
    list(
        itertools.product(
            SESSION_STATUSES, PAYMENT_STATUSES, EVENTS_TYPES, NEXT_ACTIONS, [False, True]
        )
    ),
)
def test_mapping_is_exhaustive(
    status: str, payment: str | None, event: str | None, next_action: str | None, redirect: bool
) -> None:
    wire = session(status, payment, next_action, REDIRECT if redirect and payment else None)
    got = map_status(wire, event)
    assert got == expected(status, payment, event, next_action, redirect and payment is not None)


@pytest.mark.parametrize(
    ("status", "payment", "error"),
    list(itertools.product(SESSION_STATUSES, PAYMENT_STATUSES, ERROR_CODES)),
)
def test_ended_without_money_is_abandoned_or_declined(
    status: str, payment: str | None, error: str | None
) -> None:
    """Every session status x payment status x error code: abandoned → `expired` (with our
    `expired` failure), declined → `failed` (`provider_declined`), nothing else ends."""
    extra = {"error": {"code": error, "description": "d"}} if error and payment else {}
    update = update_from_session(session(status, payment, **extra), "payment_finished")
    want = expected(status, payment, "payment_finished", None, False, error if payment else None)
    assert update.status is want
    if want is PaymentStatus.EXPIRED:
        assert update.failure is not None and update.failure.code == "expired"
    if want is PaymentStatus.FAILED:
        assert update.failure is not None and update.failure.code == "provider_declined"


def test_the_sandbox_timeout_and_decline_are_told_apart() -> None:
    """The two endings the sandbox sends (session `cancelled`, payment `failed`): `timeout`
    after 60/240 minutes is abandoned, `payment_declined` from the QR page is a decline."""
    timeout = session("cancelled", "failed", error={"code": "timeout", "description": "late"})
    declined = session("cancelled", "failed", error={"code": "payment_declined"})
    our_cancel = session("cancelled", "pending")
    assert update_from_session(timeout, "payment_finished").status is PaymentStatus.EXPIRED
    assert update_from_session(declined, "payment_finished").status is PaymentStatus.FAILED
    assert update_from_session(our_cancel).status is PaymentStatus.EXPIRED


def test_failed_payment_with_session_error_is_not_final() -> None:
    update = update_from_session(
        session("error", "failed", error={"code": "unexpected", "description": "ask support"}),
        "payment_finished",
    )
    assert update.status is PaymentStatus.PROCESSING and not update.status.is_terminal
    assert update.failure is not None
    assert update.failure.code == "provider_error_not_final"
    assert update.failure.provider_code == "unexpected"


def test_failed_payment_carries_the_provider_error() -> None:
    wire = session("cancelled", "failed", error={"code": "payment_declined", "description": "no"})
    update = update_from_session(wire, "payment_finished")
    assert update.status is PaymentStatus.FAILED
    assert update.failure is not None
    assert (update.failure.provider_code, update.failure.provider_message) == (
        "payment_declined",
        "no",
    )


def test_failed_payment_without_error_object_still_names_a_code() -> None:
    update = update_from_session(session("in_progress", "failed"), "payment_finished")
    assert update.failure is not None and update.failure.provider_code == "failed"


def test_action_required_becomes_a_redirect_next_action() -> None:
    interaction = {
        "type": "redirect",
        "redirect": {"url": "https://r.example/1", "method": "post", "params": {"a": 1}},
    }
    update = update_from_session(
        session("in_progress", "pending", interaction=interaction), "action_required"
    )
    assert update.status is PaymentStatus.REQUIRES_ACTION
    assert update.next_action is not None
    assert update.next_action.model_dump() == {
        "type": "redirect",
        "url": "https://r.example/1",
        "method": "POST",
        "params": {"a": "1"},
    }


def test_success_reports_amount_and_currency_for_the_ledger_check() -> None:
    wire = session("accepted", "succeeded", amount_details={"amount": 100000, "currency": "VND"})
    update = update_from_session(wire, "payment_finished")
    assert (update.status, update.amount_received, update.currency) == (
        PaymentStatus.SUCCEEDED,
        100000,
        "VND",
    )
    assert update.provider_reference == "ps_1"
    assert update_from_session(wire, None, amount_factor=100).amount_received == 1000


def test_amount_not_whole_in_vnd_is_kept_raw_so_it_cannot_match() -> None:
    assert received_amount(100050, 100) == 100050
    assert received_amount(100000, 100) == 1000


def test_non_success_reports_no_amount() -> None:
    wire = session("in_progress", "pending", amount_details={"amount": 1, "currency": "USD"})
    update = update_from_session(wire, "action_required")
    assert update.amount_received is None and update.currency is None


@pytest.mark.parametrize(
    ("example", "status"),
    [
        ("webhook-ready-to-confirm.json", PaymentStatus.REQUIRES_CONFIRMATION),
        ("webhook-action-required.json", PaymentStatus.REQUIRES_ACTION),
        ("webhook-payment-finished.json", PaymentStatus.SUCCEEDED),
    ],
)
def test_documented_webhooks_map(example: str, status: PaymentStatus) -> None:
    webhook = Webhook.model_validate_json((EVENTS / example).read_bytes())
    assert map_status(webhook.session, webhook.type) is status


def test_dedupe_key_ignores_timestamps_but_not_the_state() -> None:
    document = json.loads((EVENTS / "webhook-ready-to-confirm.json").read_text())
    first = Webhook.model_validate(document)
    document["session"]["updated_at"] = "2030-01-01T00:00:00Z"
    assert Webhook.model_validate(document).dedupe_key() == first.dedupe_key()
    document["type"] = "action_required"
    assert Webhook.model_validate(document).dedupe_key() != first.dedupe_key()


def test_our_payment_id_is_read_from_session_or_payment_metadata() -> None:
    on_payment = session("in_progress", metadata={PAYMENT_ID_KEY: "pay_1"})
    assert on_payment.our_payment_id() == "pay_1"
    on_session = Session.model_validate(
        {"id": "ps_2", "status": "created", "metadata": {PAYMENT_ID_KEY: "pay_2"}}
    )
    assert on_session.our_payment_id() == "pay_2"
    assert session("in_progress", metadata={"key": "value"}).our_payment_id() is None


def ewallet_payment(amount: int, merchant_reference: str) -> Payment:
    return Payment(
        id="pay_1",
        provider=Provider.SMARTGLOCAL,
        method=Method.EWALLET,
        amount=amount,
        merchant_reference=merchant_reference,
    )


def test_payment_fields_match_the_documented_request() -> None:
    documented = json.loads((EVENTS / "start-payment-request.json").read_text())
    payment = ewallet_payment(100000, "o-1")
    fields = payment_fields(
        payment,
        customer_reference="qwiqwi",
        email="email@example.com",
        full_name="Name Surname",
        document="12333315123",
        return_url="https://smart-glocal.com/",
        amount_factor=1,
    )
    metadata = fields.pop("metadata")
    assert metadata == {PAYMENT_ID_KEY: "pay_1"}
    documented.pop("session_id")
    assert fields == documented


def test_without_return_url_recurrent_is_still_false() -> None:
    payment = ewallet_payment(5, "o")
    fields = payment_fields(
        payment,
        customer_reference="c",
        email="a@b.co",
        full_name="N",
        document="D",
        return_url=None,
        amount_factor=100,
    )
    assert fields["payment_options"] == {"recurrent": False}
    assert fields["amount_details"] == {"amount": 500, "currency": "VND"}
