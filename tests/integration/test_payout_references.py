"""One payout per order (docs/lifecycle.md, "One payout per merchant_reference"): a payout create
whose `merchant_reference` already has a payout that has not failed answers 409
`duplicate_reference` naming it, whatever the Idempotency-Key; `allow_duplicate_reference`
sends a second on purpose; a reference whose payout failed is free again. The uniqueness is
the create transaction's conditional write, so 20 concurrent creates send one payout."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from typing import Any

import httpx

from local.sandboxes.paypro import PayproSandbox
from local.sandboxes.platform import PlatformSandbox
from paygate import wiring
from paygate.domain import utcnow
from paygate.settings import ReconcileSettings, load_settings

from .conftest import TIMEOUT_FAULT_SECONDS, Api, body_of
from .platform_support import JSON, deliver_sandbox_callbacks
from .test_payouts import ATM_PAYOUT, PAYPRO_PAYOUT


def post(api: Api, provider: str, body: dict[str, Any], key: str | None = None) -> dict[str, Any]:
    headers = {**JSON, "Idempotency-Key": key or uuid.uuid4().hex}
    return api.call("POST", f"/v1/{provider}/payouts", body, headers)


def at_paypro(sandbox: PayproSandbox, reference: str) -> list[str]:
    """The payouts Paypro holds for `reference` (its `remark`)."""
    return [o.trade_no for o in sandbox._orders.values() if o.remark == reference]


def test_a_second_payout_for_the_same_order_is_409_naming_the_first(
    api: Api, paypro_sandbox: PayproSandbox
) -> None:
    body = {**PAYPRO_PAYOUT, "merchant_reference": "order-dup-seq"}
    first = post(api, "paypro", body)
    assert first["statusCode"] == 201, first
    first_id = body_of(first)["id"]
    again = post(api, "paypro", body)  # a new key: the merchant's retry after a 504
    error = body_of(again)["error"]
    assert (again["statusCode"], error["code"], error["field"]) == (
        409,
        "duplicate_reference",
        "merchant_reference",
    )
    assert error["payment_id"] == first_id and first_id in error["message"]
    assert at_paypro(paypro_sandbox, "order-dup-seq") == [first_id]
    # the first key still replays its own answer
    key = uuid.uuid4().hex
    third = {**body, "merchant_reference": "order-dup-replay"}
    assert post(api, "paypro", third, key)["statusCode"] == 201
    replay = post(api, "paypro", third, key)
    assert replay["statusCode"] == 200, replay


def test_allow_duplicate_reference_sends_a_second_payout_on_purpose(
    api: Api, paypro_sandbox: PayproSandbox
) -> None:
    body = {**PAYPRO_PAYOUT, "merchant_reference": "order-dup-flag"}
    first = body_of(post(api, "paypro", body))["id"]
    second = post(api, "paypro", {**body, "allow_duplicate_reference": True})
    assert second["statusCode"] == 201, second
    assert sorted(at_paypro(paypro_sandbox, "order-dup-flag")) == sorted(
        [first, body_of(second)["id"]]
    )


def test_a_failed_payout_frees_its_reference(api: Api, ecommpay_sandbox: PlatformSandbox) -> None:
    body = {**ATM_PAYOUT, "merchant_reference": "order-dup-failed"}
    first = body_of(post(api, "ecommpay", body))["id"]
    assert post(api, "ecommpay", body)["statusCode"] == 409  # processing: still held
    httpx.post(f"{ecommpay_sandbox.base_url}/_sandbox/payments/{first}/decline", json={})
    deliver_sandbox_callbacks(api, "ecommpay", ecommpay_sandbox, first)
    assert api.read(f"/v1/payouts/{first}")["status"] == "failed"
    retry = post(api, "ecommpay", body)
    assert retry["statusCode"] == 201, retry
    assert post(api, "ecommpay", body)["statusCode"] == 409  # the new one holds it now


def test_twenty_concurrent_creates_with_different_keys_send_one_payout(
    api: Api, paypro_sandbox: PayproSandbox
) -> None:
    body = {**PAYPRO_PAYOUT, "merchant_reference": "order-dup-race"}
    answers: list[dict[str, Any]] = []
    start = threading.Barrier(20)

    def create() -> None:
        start.wait()
        answers.append(post(api, "paypro", body))

    workers = [threading.Thread(target=create) for _ in range(20)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    statuses = sorted(answer["statusCode"] for answer in answers)
    created = [body_of(a)["id"] for a in answers if a["statusCode"] == 201]
    assert len(created) == 1, statuses
    refused = [body_of(a)["error"] for a in answers if a["statusCode"] != 201]
    # the others: 409 naming the one payout (503 only if the table was busy: nothing written)
    assert all(e["code"] in ("duplicate_reference", "storage_busy") for e in refused), refused
    assert all(e.get("payment_id") == created[0] for e in refused if e["code"] != "storage_busy")
    assert at_paypro(paypro_sandbox, "order-dup-race") == created


def test_a_timed_out_platform_payout_is_processing_and_a_retry_with_a_new_key_is_409(
    api: Api, aws: Any, ecommpay_sandbox: PlatformSandbox
) -> None:
    """The issue's history: the create times out although ecommpay accepted the payout (504,
    `pending`, `provider_timeout`); the merchant retries with a new key (409 naming it, no
    second payout); the first status query says `processing` and the payout is `processing`
    without our timeout."""
    sandbox = ecommpay_sandbox.base_url
    httpx.post(
        f"{sandbox}/_sandbox/settings", json={"timeout_delay_seconds": TIMEOUT_FAULT_SECONDS}
    )
    httpx.post(f"{sandbox}/_sandbox/faults", json={"kind": "accepted_timeout", "count": 1})
    try:
        body = {**ATM_PAYOUT, "merchant_reference": "order-timed-out"}
        first = post(api, "ecommpay", body)
        assert first["statusCode"] == 504, first
        payout_id = body_of(first)["error"]["payment_id"]
        waiting = api.read(f"/v1/payouts/{payout_id}")
        assert (waiting["status"], waiting["failure"]["code"]) == ("pending", "provider_timeout")
        retry = post(api, "ecommpay", body)  # a new Idempotency-Key, the same order
        assert retry["statusCode"] == 409, retry
        assert body_of(retry)["error"]["payment_id"] == payout_id
        job = wiring.reconciler(load_settings(ReconcileSettings))
        job.clock = lambda: utcnow() + timedelta(minutes=2)
        assert job.run().checked == 1  # the first status query
        accepted = api.read(f"/v1/payouts/{payout_id}")
        assert (accepted["status"], accepted["failure"]) == ("processing", None)
    finally:
        httpx.delete(f"{sandbox}/_sandbox/faults")
        httpx.post(f"{sandbox}/_sandbox/settings", json={"timeout_delay_seconds": 30})
