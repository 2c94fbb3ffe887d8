"""ecommpay-platform mapping: every documented status, next actions (redirect, both Monetix
instruction title sets, clarification), failures and dedupe keys."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from paygate.models import BankTransferInstructions, ClarificationAction, RedirectAction
from paygate.providers.platform.transformers import (
    STATUS_MAP,
    Callback,
    StatusAnswer,
    clarification_paths,
    dedupe_key,
    map_status,
    update_from_callback,
)
from paygate.status import PaymentStatus

EVENTS = Path(__file__).resolve().parents[2] / "events"
# providers.md §2.7, both lists (payment statuses, then operation statuses).
DOCUMENTED = [
    "processing",
    "awaiting approval",
    "awaiting clarify data",
    "awaiting 3ds result",
    "awaiting merchant auth",
    "awaiting redirect result",
    "awaiting customer action",
    "awaiting clarification",
    "awaiting capture",
    "external processing",
    "scheduled recurring processing",
    "success",
    "partially paid",
    "partially paid out",
    "decline",
    "error",
    "cancelled",
    "canceled",
    "reversed",
    "partially refunded",
    "partially reversed",
    "refunded",
    "awaiting customer",
    "internal error",
    "external error",
    "invoice sent",
    "invoice cancelled",
    "awaiting payment",
    "expired",
    "awaiting retry",
    "awaiting clearing",
    "awaiting partially clearing",
    "clearing processing",
    "awaiting confirmation",
    "decline renewal",
    "external error",
    "unknown",
    "awaiting finalization",
]


def callback(status: str, **extra: Any) -> Callback:
    document = {
        "payment": {"id": "pay_1", "status": status, "sum": {"amount": 1000, "currency": "VND"}}
    }
    return Callback.model_validate({**document, **extra})


def test_every_documented_status_is_mapped() -> None:
    assert sorted(set(DOCUMENTED) - set(STATUS_MAP)) == []


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("success", "succeeded"), ("Success ", "succeeded"), ("decline", "failed"),
        ("internal error", "failed"), ("expired", "expired"), ("canceled", "cancelled"),
        ("refunded", "needs_review"), ("awaiting clearing", "processing"),
        ("processing", "pending"), ("something new", "pending"), ("", "pending"),
    ],
)  # fmt: skip
def test_status_classes(status: str, expected: str) -> None:
    assert map_status(status, None) == expected


def test_operation_status_stands_in_for_an_unknown_payment_status() -> None:
    assert map_status(None, "success") == "succeeded"
    assert map_status("brand new", "decline") == "failed"
    assert map_status("processing", "success") == "pending"  # the payment's status wins


def test_awaiting_without_data_stays_pending_and_with_data_requires_action() -> None:
    assert update_from_callback(callback("awaiting redirect result")).status == "pending"
    redirect = {"redirect_data": {"method": "post", "url": "https://bank.example/x",
                                  "body": {"token": 7}}}  # fmt: skip
    update = update_from_callback(callback("processing", **redirect))
    assert update.status == "requires_action"
    assert update.next_action == RedirectAction(
        url="https://bank.example/x", method="POST", params={"token": "7"}
    )


def test_success_reports_the_payment_sum_not_sum_converted() -> None:
    operation = {"status": "success", "sum_converted": {"amount": 1, "currency": "VND"}}
    update = update_from_callback(callback("success", operation=operation))
    assert (update.amount_received, update.currency) == (1000, "VND")


def test_failures_carry_the_provider_code() -> None:
    operation = {"status": "decline", "code": 3613, "message": "Duplicate operation"}
    update = update_from_callback(callback("decline", operation=operation))
    assert update.failure is not None
    assert (update.failure.code, update.failure.provider_code) == ("provider_declined", "3613")
    assert "duplicate" in update.failure.message
    errors = [{"code": "2801", "message": "Bank ID not found"}]
    update = update_from_callback(callback("decline", errors=errors))
    assert update.failure is not None and update.failure.provider_code == "2801"
    refunded = update_from_callback(callback("refunded"))
    assert refunded.failure is not None and refunded.failure.code == "provider_reported_refunded"


def instructions(name: str) -> BankTransferInstructions:
    document = json.loads((EVENTS / f"monetix/{name}.json").read_text(encoding="utf-8"))
    action = update_from_callback(Callback.model_validate(document)).next_action
    assert isinstance(action, BankTransferInstructions)
    return action


def test_display_data_option_1() -> None:
    action = instructions("bank-transfer-gate-ch2-display-data-option1")
    assert (action.bank, action.account_no, action.account_name) == (
        "Wooribank Việt Nam", "902014188917", "PAYME MNTX",
    )  # fmt: skip
    assert (action.branch, action.transfer_code, action.swift_code) == (
        "Hà Nội", "TT 8575", "HVBKVNVXXXX",
    )  # fmt: skip
    assert action.instructions is not None
    assert action.instructions.en[1].startswith("IMPORTANT! Please copy Transaction ID")
    assert len(action.instructions.vi) == 6


def test_display_data_option_2() -> None:
    action = instructions("bank-transfer-gate-ch2-display-data-option2")
    assert (action.transfer_code, action.account_no, action.account_name, action.amount) == (
        "B1234567890", "1234123412341", "John Doe", 10000,
    )  # fmt: skip
    assert (action.bank, action.bank_code, action.bank_abbr) == ("Military Bank", "MBBANK", "MB")
    assert action.instructions is not None
    assert action.instructions.en[1].startswith("IMPORTANT! Please copy Transfer Code")
    assert action.instructions.vi[0] == "Hãy đảm bảo rằng bạn chuyển đến Tài khoản người thụ hưởng"


def test_unknown_display_titles_are_kept() -> None:
    data = [{"type": "add_info", "title": "qrCode", "data": "000201..."}]
    action = update_from_callback(callback("processing", display_data=data)).next_action
    assert isinstance(action, BankTransferInstructions)
    assert action.model_dump()["qr_code"] == "000201..."


SCHEMA = {
    "type": "object",
    "properties": {
        "card": {"type": "object", "properties": {"pan": {"type": "string"},
                                                  "year": {"type": "integer"}}},
        "customer": {"type": "object", "properties": {"phone": {"type": "string"}}},
    },
}  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "paths"),
    [
        (SCHEMA, ["card.pan", "card.year", "customer.phone"]),
        ({"card": {"pan": None, "month": None}}, ["card.month", "card.pan"]),
        (["customer.phone", " ", "card.pan", "card.pan"], ["card.pan", "customer.phone"]),
        ("card.pan", ["card.pan"]),
        (None, []),
        (42, []),
    ],
)
def test_clarification_paths(fields: Any, paths: list[str]) -> None:
    assert clarification_paths(fields) == paths


def test_clarification_callback_becomes_a_clarification_action() -> None:
    operation = {"status": "awaiting clarification"}
    update = update_from_callback(
        callback("processing", operation=operation, clarification_fields=SCHEMA)
    )
    assert update.status == "requires_action"
    assert update.next_action == ClarificationAction(
        fields=["card.pan", "card.year", "customer.phone"],
        message="the provider needs more data to continue the payment",
    )


def test_status_answer_uses_the_last_operation() -> None:
    answer = StatusAnswer.model_validate(
        {"payment": {"id": "pay_1", "status": "decline"},
         "operations": [{"status": "success", "code": "0"}, {"status": "decline", "code": "20000"}]}
    )  # fmt: skip
    update = update_from_callback(answer.as_callback())
    assert update.status == PaymentStatus.FAILED
    assert update.failure is not None and update.failure.provider_code == "20000"


def test_dedupe_key_ignores_the_signature_and_sees_every_field() -> None:
    document: dict[str, Any] = {"payment": {"id": "p", "status": "success"}, "signature": "a"}
    same = json.loads(json.dumps({**document, "signature": "b"}))
    assert dedupe_key(document) == dedupe_key(same)
    assert dedupe_key(document) != dedupe_key({**document, "payment": {"id": "p", "status": "x"}})
