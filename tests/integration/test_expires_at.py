"""`expires_at` through the real handlers: the create, `GET /v1/payments/{id}` and the list
answer the end of a waiting payment's window (the template's `WINDOW_*_MINUTES` from its last
status change), null once it is final (paid by a notify); a payout's documents have no such
field. The window per provider, method and status: tests/unit/test_expires_at.py."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from .conftest import Api
from .smartglocal_support import JSON
from .test_payouts import PAYPRO_PAYOUT
from .test_paypro_webhook import notify


def window_of(document: dict[str, Any]) -> timedelta:
    ends = datetime.fromisoformat(document["expires_at"])
    assert document["expires_at"].endswith("Z")  # UTC, as every time the API answers
    return ends - datetime.fromisoformat(document["updated_at"])


def test_every_document_of_a_waiting_payment_says_when_its_window_ends(api: Api) -> None:
    order = {"amount": 50000, "currency": "VND", "merchant_reference": "expires-1"}
    created = api.answer(201, "POST", "/v1/paypro/payments", order)
    assert created["status"] == "requires_action"
    assert window_of(created) == timedelta(minutes=30)  # WINDOW_PAYPRO_VIETQR_MINUTES
    read = api.read(f"/v1/payments/{created['id']}")
    listed = api.read("/v1/payments?merchant_reference=expires-1")["data"]
    assert [read["expires_at"]] == [item["expires_at"] for item in listed]
    assert read["expires_at"] == created["expires_at"]


def test_a_paid_payment_has_no_expiry_any_more(api: Api) -> None:
    order = {"amount": 50000, "currency": "VND", "merchant_reference": "expires-2"}
    created = api.answer(201, "POST", "/v1/paypro/payments", order)
    assert created["expires_at"] is not None
    paid = api.call("POST", "/webhooks/paypro", notify("notify-success", created), JSON)
    assert paid["statusCode"] == 200
    read = api.read(f"/v1/payments/{created['id']}")
    assert read["status"] == "succeeded" and read["expires_at"] is None
    listed = api.read("/v1/payments?merchant_reference=expires-2")["data"]
    assert [item["expires_at"] for item in listed] == [None]


def test_a_payout_has_no_window_and_its_documents_no_expires_at(api: Api) -> None:
    created = api.answer(201, "POST", "/v1/paypro/payouts", PAYPRO_PAYOUT)
    assert "expires_at" not in created
    assert "expires_at" not in api.read(f"/v1/payouts/{created['id']}")
    listed = api.read(f"/v1/payouts?merchant_reference={PAYPRO_PAYOUT['merchant_reference']}")
    assert listed["data"] and all("expires_at" not in item for item in listed["data"])
