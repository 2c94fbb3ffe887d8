"""Payments are not unique per order (a shopper who abandoned or was declined tries again), but
a create says when another payment of the same `merchant_reference` has taken or may still
take the shopper's money: `warnings` names it (docs/lifecycle.md, rule 10)."""

from __future__ import annotations

import uuid
from typing import Any

from local.aws.provision import Provisioned

from .conftest import Api, body_of
from .test_paypro_webhook import deliver, notify

JSON = {"content-type": "application/json"}


def create(api: Api, reference: str) -> dict[str, Any]:
    order = {"amount": 50_000, "currency": "VND", "merchant_reference": reference}
    response = api.call("POST", "/v1/paypro/payments", order, JSON)
    assert response["statusCode"] == 201, response
    payment: dict[str, Any] = body_of(response)
    return payment


def test_a_second_payment_of_an_open_order_is_created_with_a_warning(
    api: Api, aws: Provisioned
) -> None:
    reference = f"order-{uuid.uuid4().hex[:8]}"
    first = create(api, reference)
    assert first["warnings"] == []
    second = create(api, reference)
    assert [(w["code"], w["payment_id"]) for w in second["warnings"]] == [
        ("duplicate_reference", first["id"])
    ]
    assert second["warnings"][0]["status"] == first["status"]
    assert create(api, f"other-{reference}")["warnings"] == []  # another order: nothing


def test_an_order_whose_payment_ended_without_money_warns_nothing(
    api: Api, aws: Provisioned
) -> None:
    reference = f"order-{uuid.uuid4().hex[:8]}"
    first = create(api, reference)
    declined = notify("notify-declined", first)
    assert deliver(api, declined)["statusCode"] == 200
    assert api.read(f"/v1/payments/{first['id']}")["status"] == "failed"
    assert create(api, reference)["warnings"] == []
