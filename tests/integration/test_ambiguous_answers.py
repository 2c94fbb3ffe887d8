"""Ambiguous provider answers are never final (docs/lifecycle.md, rule 5), and DynamoDB's own
refusals are not our crashes (rule 8): through the real handlers, moto and the Paypro sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from local.aws.provision import Provisioned
from local.sandboxes.paypro import PayproSandbox
from paygate import wiring
from paygate.settings import ReconcileSettings, load_settings

from .conftest import TIMEOUT_FAULT_SECONDS, Api, body_of, header
from .test_payouts import PAYPRO_PAYOUT
from .test_paypro_webhook import deliver, new_payment, notify

JSON = {"content-type": "application/json"}
PAYIN = {"amount": 50000, "currency": "VND", "merchant_reference": "order-ambiguous"}


def fault(sandbox: PayproSandbox, kind: str, count: int = 1) -> None:
    httpx.post(f"{sandbox.base_url}/_sandbox/faults", json={"payin": kind, "count": count})


def order(sandbox: PayproSandbox, trade_no: str) -> dict[str, Any]:
    answer = httpx.get(f"{sandbox.base_url}/_sandbox/orders/{trade_no}")
    return dict(answer.json()) if answer.status_code == 200 else {}


@pytest.fixture(autouse=True)
def _clean_sandbox(paypro_sandbox: PayproSandbox) -> Iterator[None]:
    httpx.delete(f"{paypro_sandbox.base_url}/_sandbox/faults")
    httpx.post(
        f"{paypro_sandbox.base_url}/_sandbox/settings",
        json={"timeout_delay_seconds": TIMEOUT_FAULT_SECONDS},
    )
    yield
    httpx.delete(f"{paypro_sandbox.base_url}/_sandbox/faults")
    httpx.post(f"{paypro_sandbox.base_url}/_sandbox/settings", json={"timeout_delay_seconds": 30})


def reconcile_later(minutes: float) -> None:
    from datetime import timedelta

    from paygate.domain import utcnow

    job = wiring.reconciler(load_settings(ReconcileSettings))
    job.clock = lambda: utcnow() + timedelta(minutes=minutes)
    job.run()


def test_an_outer_system_error_with_the_order_created_is_settled_by_query(
    api: Api, aws: Provisioned, paypro_sandbox: PayproSandbox
) -> None:
    fault(paypro_sandbox, "code_5000")
    answer = api.call("POST", "/v1/paypro/payments", PAYIN, JSON)
    assert answer["statusCode"] == 502
    payment_id = body_of(answer)["error"]["payment_id"]
    recorded = body_of(api.call("GET", f"/v1/payments/{payment_id}"))
    assert recorded["status"] == "pending"  # never failed by an outer code
    created = order(paypro_sandbox, payment_id)
    assert created, "the sandbox holds the order our create made"
    httpx.post(f"{paypro_sandbox.base_url}/pay/{created['platFormTradeNo']}/pay", json={})
    reconcile_later(2)
    assert body_of(api.call("GET", f"/v1/payments/{payment_id}"))["status"] == "succeeded"


def test_a_5xx_then_success_makes_one_order_and_a_payable_payment(
    api: Api, aws: Provisioned, paypro_sandbox: PayproSandbox
) -> None:
    fault(paypro_sandbox, "server_error", 1)
    answer = api.call("POST", "/v1/paypro/payments", PAYIN, JSON)
    assert answer["statusCode"] == 201
    payment = body_of(answer)
    assert payment["status"] == "requires_action" and payment["next_action"]["payment_link"]
    assert order(paypro_sandbox, payment["id"])["platFormTradeNo"] == payment["provider_reference"]


def test_a_payout_accepted_but_timed_out_ends_succeeded_and_a_retry_returns_it(
    api: Api, aws: Provisioned, paypro_sandbox: PayproSandbox
) -> None:
    fault(paypro_sandbox, "accepted_timeout")
    key = {"Idempotency-Key": "payout-accepted-timeout", **JSON}
    first = api.call("POST", "/v1/paypro/payouts", PAYPRO_PAYOUT, key)
    assert first["statusCode"] == 504
    payout_id = body_of(first)["error"]["payment_id"]
    assert body_of(api.call("GET", f"/v1/payouts/{payout_id}"))["status"] == "pending"
    assert order(paypro_sandbox, payout_id), "Paypro took the payout although we never heard"
    retry = api.call("POST", "/v1/paypro/payouts", PAYPRO_PAYOUT, key)
    assert header(retry, "Idempotent-Replayed") == "true"
    assert body_of(retry)["error"]["payment_id"] == payout_id  # the same payout, not a second
    httpx.post(f"{paypro_sandbox.base_url}/_sandbox/payouts/{payout_id}/succeed", json={})
    reconcile_later(2)
    assert body_of(api.call("GET", f"/v1/payouts/{payout_id}"))["status"] == "succeeded"


class Busy:
    """A DynamoDB client whose first `failures` writes are refused as real DynamoDB does under
    concurrency (`TransactionConflict`) or load (throttling)."""

    def __init__(self, client: Any, failures: int, code: str = "TransactionConflict") -> None:
        self.client, self.failures, self.code, self.refused = client, failures, code, 0

    def _refuse(self, operation: str) -> None:
        if self.refused >= self.failures:
            return
        self.refused += 1
        if self.code == "TransactionConflict":
            error = {
                "Error": {"Code": "TransactionCanceledException", "Message": "conflict"},
                "CancellationReasons": [{"Code": "TransactionConflict"}, {"Code": "None"}],
            }
        else:
            error = {"Error": {"Code": self.code, "Message": "slow down"}}
        raise ClientError(error, operation)  # type: ignore[arg-type]

    def transact_write_items(self, **request: Any) -> Any:
        self._refuse("TransactWriteItems")
        return self.client.transact_write_items(**request)

    def put_item(self, **request: Any) -> Any:
        self._refuse("PutItem")
        return self.client.put_item(**request)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


@pytest.fixture
def webhook_repository(api: Api, handlers: Any) -> Iterator[Any]:
    repository = handlers("paypro_webhook").gateway.ledger.repository
    real = repository.client
    yield repository
    repository.__dict__["client"] = real


@pytest.mark.parametrize("code", ["TransactionConflict", "ProvisionedThroughputExceededException"])
def test_a_brief_conflict_is_retried_and_the_notify_applies_once(
    api: Api, webhook_repository: Any, code: str
) -> None:
    payment = new_payment(api)
    busy = Busy(webhook_repository.client, failures=2, code=code)
    webhook_repository.__dict__["client"] = busy
    answer = deliver(api, notify("notify-success", payment))
    assert answer["statusCode"] == 200 and busy.refused == 2
    final = body_of(api.call("GET", f"/v1/payments/{payment['id']}"))
    assert (final["status"], final["version"]) == ("succeeded", payment["version"] + 1)


def test_a_lasting_conflict_is_a_503_with_retry_after_and_nothing_is_lost(
    api: Api, webhook_repository: Any
) -> None:
    payment = new_payment(api)
    webhook_repository.__dict__["client"] = Busy(webhook_repository.client, failures=100)
    answer = deliver(api, notify("notify-success", payment))
    assert answer["statusCode"] == 503
    assert header(answer, "Retry-After") == "1"
    assert body_of(answer)["error"]["code"] == "storage_busy"
    assert body_of(api.call("GET", f"/v1/payments/{payment['id']}"))["status"] == "requires_action"
    webhook_repository.__dict__["client"] = webhook_repository.client.client  # DynamoDB is back
    assert deliver(api, notify("notify-success", payment))["statusCode"] == 200  # Paypro retries
    assert body_of(api.call("GET", f"/v1/payments/{payment['id']}"))["status"] == "succeeded"


def test_a_create_whose_budget_ran_out_is_a_504_and_stays_pending(
    api: Api, aws: Provisioned, paypro_sandbox: PayproSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The function has 25 s; with a 24.8 s margin no provider attempt fits (rule 6)."""
    monkeypatch.setenv("DEADLINE_MARGIN_SECONDS", "24.8")
    answer = api.call("POST", "/v1/paypro/payments", PAYIN, JSON)
    assert answer["statusCode"] == 504
    error = body_of(answer)["error"]
    recorded = body_of(api.call("GET", f"/v1/payments/{error['payment_id']}"))
    assert (recorded["status"], recorded["failure"]["code"]) == ("pending", "provider_timeout")
    assert order(paypro_sandbox, error["payment_id"]) == {}  # nothing was sent


def test_a_busy_table_after_the_provider_acted_keeps_the_answer_so_a_retry_sends_nothing(
    api: Api, aws: Provisioned, handlers: Any, paypro_sandbox: PayproSandbox
) -> None:
    """The payin reached Paypro, then writing its answer met a lasting conflict: the 503 names
    the recorded payment and is kept, so the merchant's retry starts no second order."""
    repository = handlers("paypro_create_payment").gateway.ledger.repository
    real = repository.client
    repository.__dict__["client"] = Busy(real, failures=100)
    key = {"Idempotency-Key": "busy-after-provider", **JSON}
    try:
        first = api.call("POST", "/v1/paypro/payments", PAYIN, key)
        retry = api.call("POST", "/v1/paypro/payments", PAYIN, key)
    finally:
        repository.__dict__["client"] = real
    assert first["statusCode"] == 503 and header(first, "Retry-After") == "1"
    payment_id = body_of(first)["error"]["payment_id"]
    assert order(paypro_sandbox, payment_id), "Paypro holds the order"
    assert header(retry, "Idempotent-Replayed") == "true"
    assert body_of(retry)["error"]["payment_id"] == payment_id
    recorded = body_of(api.call("GET", f"/v1/payments/{payment_id}"))
    assert recorded["status"] == "created"  # reconciliation settles it by query
    reconcile_later(2)  # Paypro's query says the order is open (`0015`); its link is not in it
    assert body_of(api.call("GET", f"/v1/payments/{payment_id}"))["status"] == "pending"
