"""ecommpay (NAPAS ATM, Nganluong) and Monetix (bank transfers) end to end through the local
runtime: create → the platform sandbox's signed callbacks → the customer pays or declines on
the sandbox → GET → exactly one published event per status change. The local ecommpay project
is on ATM channel 2 (card clarification possible); Monetix shows transfer instructions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from .conftest import Runtime, created, gate_events, statuses

CUSTOMER = {
    "id": "cust-e2e",
    "email": "buyer@example.com",
    "phone": "84438336996",
    "ip_address": "198.51.100.47",
    "first_name": "An",
    "last_name": "Nguyen",
}
ATM = {
    "method": "napas_atm",
    "amount": 120_000,
    "merchant_reference": "e2e-atm",
    "customer": CUSTOMER,
    "bank_id": 136,
    "return_url": "https://merchant.example/back",
}
WALLET = {**{k: v for k, v in ATM.items() if k != "bank_id"}, "method": "nganluong_wallet"}
TRANSFER = {"method": "bank_transfer", "amount": 300_000, "merchant_reference": "e2e-bt",
            "customer": CUSTOMER}  # fmt: skip
CARD = {"pan": "4321432154325432", "card_holder": "NGUYEN AN", "year": 2030, "month": 11}


def create(runtime: Runtime, provider: str, body: dict[str, Any]) -> dict[str, Any]:
    return created(runtime, f"/v1/{provider}/payments", body)


def wait_until(
    runtime: Runtime, payment_id: str, done: Callable[[dict[str, Any]], bool], timeout: float = 10
) -> dict[str, Any]:
    return runtime.wait_until(payment_id, done, timeout)


def next_action(runtime: Runtime, payment_id: str, kind: str) -> dict[str, Any]:
    payment = wait_until(
        runtime, payment_id, lambda p: (p.get("next_action") or {}).get("type") == kind
    )
    assert payment["status"] == "requires_action"
    action: dict[str, Any] = payment["next_action"]
    return action


def customer(url: str, **body: Any) -> dict[str, Any]:
    """What the customer does on the sandbox (a bank page, the Payment Page, a transfer)."""
    answer = httpx.post(url, json=body, headers={"accept": "application/json"}, timeout=30)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


@pytest.mark.parametrize(("body", "outcome", "status"), [
    (ATM, "pay", "succeeded"), (ATM, "decline", "failed"),
    (WALLET, "pay", "succeeded"), (WALLET, "decline", "failed"),
])  # fmt: skip
def test_ecommpay_gate_redirect_then_pay_or_decline(
    runtime: Runtime, body: dict[str, Any], outcome: str, status: str
) -> None:
    payment = create(runtime, "ecommpay", body)
    # `requires_action` when the Gate's redirect callback overtook the create (`gate_events`).
    assert payment["status"] in ("pending", "requires_action")
    redirect = next_action(runtime, payment["id"], "redirect")
    assert httpx.get(redirect["url"], timeout=10).status_code == 200  # the bank's page
    customer(f"{redirect['url']}/{outcome}")
    final = runtime.wait_for_status(payment["id"], status)
    if status == "failed":
        assert final["failure"]["provider_code"] == "20102"
    gate_events(runtime, payment["id"], status)


@pytest.mark.parametrize(
    ("provider", "body"),
    [("ecommpay", ATM), ("ecommpay", WALLET), ("monetix", TRANSFER)],
    ids=["napas_atm", "nganluong_wallet", "bank_transfer"],
)
def test_payment_page_path(runtime: Runtime, provider: str, body: dict[str, Any]) -> None:
    payment = create(runtime, provider, {**body, "flow": "payment_page"})
    assert payment["status"] == "requires_action"
    page = payment["next_action"]["url"]
    assert httpx.get(page, timeout=10).status_code == 200
    customer(f"{runtime.sandbox_url(provider)}/payment/{payment['id']}/pay")
    runtime.wait_for_status(payment["id"], "succeeded")
    assert statuses(runtime, payment["id"], 3) == ["created", "requires_action", "succeeded"]


def test_atm_clarification_round_trip(runtime: Runtime) -> None:
    payment = create(runtime, "ecommpay", {**ATM, "bank_id": 135})  # 135 needs the card here
    asked = next_action(runtime, payment["id"], "clarification")
    assert set(asked["fields"]) == {"card.pan", "card.card_holder", "card.year", "card.month"}
    with runtime.client() as client:
        answer = client.post(
            f"/v1/payments/{payment['id']}/clarification",
            json={"fields": {f"card.{k}": v for k, v in CARD.items()}},
        )
    assert answer.status_code == 200, answer.text
    redirect = next_action(runtime, payment["id"], "redirect")
    customer(f"{redirect['url']}/pay")
    runtime.wait_for_status(payment["id"], "succeeded")
    gate_events(runtime, payment["id"], "succeeded")
    published = [e for e in runtime.events() if e["payment_id"] == payment["id"]]
    assert CARD["pan"] not in str(published)


def test_monetix_instructions_then_transfer(runtime: Runtime) -> None:
    payment = create(runtime, "monetix", TRANSFER)
    instructions = next_action(runtime, payment["id"], "bank_transfer_instructions")
    assert instructions["amount"] == TRANSFER["amount"]
    assert instructions["account_no"] and instructions["transfer_code"]
    assert instructions["instructions"]["vi"] and instructions["instructions"]["en"]
    transfer = f"{runtime.sandbox_url('monetix')}/_sandbox/payments/{payment['id']}/transfer"
    customer(transfer)
    runtime.wait_for_status(payment["id"], "succeeded")
    gate_events(runtime, payment["id"], "succeeded")


@pytest.mark.parametrize("amount", [400, 404])
def test_monetix_test_amounts_decline(runtime: Runtime, amount: int) -> None:
    body = {**TRANSFER, "amount": amount, "customer": {**CUSTOMER, "id": f"decline-{amount}"}}
    payment = create(runtime, "monetix", body)
    final = runtime.wait_for_status(payment["id"], "failed")
    assert final["failure"]["provider_code"] == "20000"
    gate_events(runtime, payment["id"], "failed")


def test_monetix_series_declines_the_rest_with_3613(runtime: Runtime) -> None:
    body = {**TRANSFER, "amount": 310_000, "customer": {**CUSTOMER, "id": "series-1"}}
    first = create(runtime, "monetix", body)
    second = create(runtime, "monetix", body)
    other = create(runtime, "monetix", {**body, "amount": 320_000})  # another amount: no series
    one = next_action(runtime, first["id"], "bank_transfer_instructions")
    two = next_action(runtime, second["id"], "bank_transfer_instructions")
    three = next_action(runtime, other["id"], "bank_transfer_instructions")
    assert one["transfer_code"] == two["transfer_code"] != three["transfer_code"]
    customer(f"{runtime.sandbox_url('monetix')}/_sandbox/payments/{second['id']}/transfer")
    runtime.wait_for_status(second["id"], "succeeded")
    declined = runtime.wait_for_status(first["id"], "failed")
    assert declined["failure"]["provider_code"] == "3613"
    assert "duplicate" in declined["failure"]["message"]
    assert wait_until(runtime, other["id"], lambda p: True)["status"] == "requires_action"


def test_customer_changed_amount_needs_review(runtime: Runtime) -> None:
    body = {**TRANSFER, "customer": {**CUSTOMER, "id": "changed-amount"}}
    payment = create(runtime, "monetix", body)
    next_action(runtime, payment["id"], "bank_transfer_instructions")
    url = f"{runtime.sandbox_url('monetix')}/_sandbox/payments/{payment['id']}/transfer"
    customer(url, amount=250_000)
    final = runtime.wait_for_status(payment["id"], "needs_review")
    assert (final["amount"], final["amount_received"]) == (300_000, 250_000)
    assert final["failure"]["code"] == "amount_mismatch"
    gate_events(runtime, payment["id"], "needs_review")


def test_monetix_redirect_scenario(runtime: Runtime) -> None:
    settings = f"{runtime.sandbox_url('monetix')}/_sandbox/settings"
    httpx.post(settings, json={"bank_transfer_scenario": "redirect"}, timeout=5)
    try:
        body = {**TRANSFER, "customer": {**CUSTOMER, "id": "redirect-1"}}
        payment = create(runtime, "monetix", body)
        redirect = next_action(runtime, payment["id"], "redirect")
    finally:
        httpx.post(settings, json={"bank_transfer_scenario": "instructions"}, timeout=5)
    customer(f"{redirect['url']}/pay")
    runtime.wait_for_status(payment["id"], "succeeded")
