"""What an ecommpay or Monetix callback's signature cannot prove, through the real webhook
handlers, moto and the platform sandboxes: documented keys and formats (a refusal is a 400 that
stores and changes nothing, counted), our project, a result's sum and operation, the age of its
signed date, a replay after its dedupe record expired, and the confirmation of a money-moving
result by the platform's status query (agrees, cannot answer, contradicts)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import boto3
import httpx
import pytest

from local.aws.provision import Provisioned
from local.sandboxes.platform import PlatformSandbox
from paygate.webhooks import MAX_CLOCK_SKEW
from tests.conftest import metric_names

from .conftest import Api, GatewayTime, body_of
from .platform_support import (
    TRANSFER_ORDER,
    confirmation,
    create,
    dated,
    deliver,
    deliver_sandbox_callbacks,
    doc_example,
    get,
    items,
    signed_body,
)
from .test_platform_callbacks import MANIFEST, seed
from .test_reconcile import reconciler

SUCCESSES = [e for e in MANIFEST if e["expected_status"] == "succeeded"]
RESULTS = [e for e in MANIFEST if e["expected_status"] in ("succeeded", "failed")]
# One change of a field we read out of its documented format (path, value).
FORMAT_MUTATIONS: list[tuple[str, Any]] = [
    ("payment.sum.amount", "12a"),
    ("payment.sum.amount", "1e3"),
    ("payment.sum.amount", "-5"),
    ("payment.sum.currency", "vnd"),
    ("payment.sum.currency", "VND;"),
    ("payment.status", "success;payment:id:x"),
    ("payment.status", "success\n"),
    ("payment.type", "purchase:1"),
    ("payment.date", "yesterday"),
    ("payment.date", "2026-12-07T10:00:00"),  # no zone
    ("operation.date", "07/12/2026"),
    ("operation.created_date", "now"),
    ("operation.id", "12ab"),
    ("operation.status", "success:1"),
    ("operation.code", "0;payment:status:success"),
    ("operation.request_id", "a b"),
    ("operation.message", "ok\u0000"),
    ("operation.sum_initial.amount", "x"),
    ("payment.id", "TEST_154385980520099"),  # the docs' id: not one we issued
    ("payment.id", "pay_20261207000000abcdef012;x"),
    ("project_id", "60a"),
]
# Top-level keys a document could smuggle: the Payment Page's own parameters (what a customer
# sees signed) and anything else undocumented.
UNKNOWN_KEYS = [
    "best_before",
    "customer_first_name",
    "customer_email",
    "payment_id",
    "payment_amount",
    "merchant_success_url",
    "general",
    "new_block",
]


@pytest.fixture
def unconfirmed(handlers: Callable[[str], ModuleType]) -> Iterator[None]:
    """Seeded payments are in our table only: the sandbox could not confirm them."""
    with confirmation(handlers, on=False):
        yield


def put(document: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    *parents, leaf = path.split(".")
    node = changed
    for part in parents:
        node = node[part]
    node[leaf] = value
    return changed


def refused(
    api: Api, aws: Provisioned, provider: str, document: dict[str, Any], capsys: Any
) -> dict[str, Any]:
    """The signed document is answered 400, counted, stores nothing, changes nothing."""
    payment_id = document["payment"]["id"]
    kind = "payouts" if payment_id.startswith("po_") else "payments"
    before = api.read(f"/v1/{kind}/{payment_id}")
    capsys.readouterr()
    response = deliver(api, provider, signed_body(document, provider))
    assert response["statusCode"] == 400, response
    assert "WebhookRefused" in metric_names(capsys.readouterr().out)
    assert items(aws, "webhook") == []
    after = api.read(f"/v1/{kind}/{payment_id}")
    assert (after.get("status"), after.get("version")) == (
        before.get("status"),
        before.get("version"),
    )
    error: dict[str, Any] = body_of(response)["error"]
    return error


@pytest.mark.usefixtures("unconfirmed")
@pytest.mark.parametrize("entry", RESULTS, ids=[e["file"] for e in RESULTS])
def test_every_one_field_format_mutation_of_a_result_is_refused(
    api: Api, aws: Provisioned, entry: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    document = doc_example(entry["file"])
    seed(aws, entry["provider"], document)
    for path, value in FORMAT_MUTATIONS:
        error = refused(api, aws, entry["provider"], put(document, path, value), capsys)
        assert error["code"] in ("malformed_request", "notification_refused"), (path, error)
        assert error["field"] == path or path.startswith(error["field"]), (path, error)
    for key in UNKNOWN_KEYS:
        error = refused(api, aws, entry["provider"], {**document, key: "x"}, capsys)
        assert error["field"] == key, error
        assert "not a documented field" in error["message"]
    other_project = {**document, "project_id": 604}
    assert refused(api, aws, entry["provider"], other_project, capsys)["field"] == "project_id"
    # The documented document itself still moves the payment.
    assert (
        deliver(api, entry["provider"], signed_body(document, entry["provider"]))["statusCode"]
        == 200
    )
    assert items(aws, "webhook")[0]["outcome"]["S"] == "applied"


@pytest.mark.usefixtures("unconfirmed")
@pytest.mark.parametrize("entry", RESULTS, ids=[e["file"] for e in RESULTS])
@pytest.mark.parametrize(
    ("missing", "field"),
    [
        ("payment.sum", "payment.sum"),
        ("operation", "operation"),
        ("operation.date", "operation.date"),
    ],
)
def test_a_result_without_its_sum_or_operation_is_not_applied(
    api: Api,
    aws: Provisioned,
    entry: dict[str, Any],
    missing: str,
    field: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    document = doc_example(entry["file"])
    seed(aws, entry["provider"], document)
    *parents, leaf = missing.split(".")
    node = document
    for part in parents:
        node = node[part]
    del node[leaf]
    if missing == "operation":
        document["payment"]["date"] = None  # nothing else dates it
    assert refused(api, aws, entry["provider"], document, capsys)["field"] == field


@pytest.mark.usefixtures("unconfirmed")
def test_a_callback_older_than_the_retry_window_is_refused(
    api: Api, aws: Provisioned, later: GatewayTime, capsys: pytest.CaptureFixture[str]
) -> None:
    document = doc_example("ecommpay/atm-gate-purchase-success.json")
    seed(aws, "ecommpay", document)
    signed_at = datetime.now(UTC)
    dated(document, signed_at)
    later.offset = timedelta(hours=336, minutes=1)  # 11 days of retries + 3 days, then a minute
    error = refused(api, aws, "ecommpay", document, capsys)
    assert (error["code"], error["field"]) == ("notification_refused", "operation.date")
    later.offset = timedelta(hours=335)
    assert deliver(api, "ecommpay", signed_body(document, "ecommpay"))["statusCode"] == 200
    assert get(api, document["payment"]["id"])["status"] == "succeeded"


@pytest.mark.usefixtures("unconfirmed")
def test_a_callback_dated_ahead_of_our_clock_is_refused(
    api: Api, aws: Provisioned, capsys: pytest.CaptureFixture[str]
) -> None:
    """A future `operation.date` would keep a callback inside its retry window for longer."""
    document = doc_example("monetix/bank-transfer-gate-ch1-purchase-success.json")
    seed(aws, "monetix", document)
    dated(document, datetime.now(UTC) + MAX_CLOCK_SKEW + timedelta(minutes=1))
    error = refused(api, aws, "monetix", document, capsys)
    assert (error["code"], error["field"]) == ("notification_refused", "operation.date")
    dated(document, datetime.now(UTC) + MAX_CLOCK_SKEW - timedelta(minutes=1))
    assert deliver(api, "monetix", signed_body(document, "monetix"))["statusCode"] == 200


def review(api: Api, payment_id: str, decision: str) -> dict[str, Any]:
    headers = {"content-type": "application/json", "Idempotency-Key": f"review-{payment_id}"}
    body = {"decision": decision, "note": "checked with the bank statement"}
    response = api.call("POST", f"/v1/payments/{payment_id}/review", body, headers)
    assert response["statusCode"] == 200, response
    reviewed: dict[str, Any] = body_of(response)
    return reviewed


def published(aws: Provisioned, payment_id: str) -> list[dict[str, Any]]:
    """The payment's change records (one per committed status change: what the stream
    publishes)."""
    found = boto3.client("dynamodb").scan(TableName=aws.refs["PaymentsTable"])["Items"]
    return [i for i in found if i.get("payment_id", {}).get("S") == payment_id]


@pytest.mark.usefixtures("unconfirmed")
def test_a_replay_after_the_dedupe_record_expired_changes_nothing(
    api: Api, aws: Provisioned, later: GatewayTime, capsys: pytest.CaptureFixture[str]
) -> None:
    """A genuine success for another amount → needs_review → the reviewer rejects it; 91 days
    on, its dedupe record gone (as TTL removes it), the same callback replayed would reopen the
    payment: it is refused for its age instead."""
    document = doc_example("monetix/bank-transfer-gate-ch1-purchase-success.json")
    payment = seed(aws, "monetix", document)
    document["payment"]["sum"]["amount"] = payment.amount + 50_000
    assert deliver(api, "monetix", signed_body(document, "monetix"))["statusCode"] == 200
    assert get(api, payment.id)["status"] == "needs_review"
    rejected = review(api, payment.id, "reject")
    assert rejected["status"] == "failed"
    table = boto3.client("dynamodb")
    for item in items(aws, "webhook"):
        table.delete_item(
            TableName=aws.refs["PaymentsTable"], Key={"pk": item["pk"], "sk": item["sk"]}
        )
    later.offset = timedelta(days=91)
    capsys.readouterr()
    response = deliver(api, "monetix", signed_body(document, "monetix"))
    assert response["statusCode"] == 400
    assert body_of(response)["error"]["field"] == "operation.date"
    after = get(api, payment.id)
    assert (after["status"], after["version"]) == ("failed", rejected["version"])
    assert items(aws, "webhook") == []


# -- confirmation by the platform's status query (on by default) -------------------------------


@pytest.fixture
def status_query(monetix_sandbox: PlatformSandbox) -> Iterator[Callable[[str], None]]:
    """Set the Monetix sandbox's `/v2/payment/status` behaviour for one test."""

    def answer(mode: str) -> None:
        settings = {"status_query": mode}
        response = httpx.post(f"{monetix_sandbox.base_url}/_sandbox/settings", json=settings)
        assert response.status_code == 200, response.text

    yield answer
    answer("normal")


def waiting_transfer(api: Api, sandbox: PlatformSandbox) -> tuple[dict[str, Any], int]:
    """A Monetix transfer waiting for its customer, its callbacks so far delivered."""
    payment = create(api, "monetix", TRANSFER_ORDER)
    seen = deliver_sandbox_callbacks(api, "monetix", sandbox, payment["id"])
    assert get(api, payment["id"])["status"] == "requires_action"
    return payment, seen


def pay(sandbox: PlatformSandbox, payment_id: str) -> None:
    answer = httpx.post(f"{sandbox.base_url}/_sandbox/payments/{payment_id}/transfer", json={})
    assert answer.status_code == 200, answer.text


def test_a_success_confirmed_by_the_status_query_counts(
    api: Api, aws: Provisioned, monetix_sandbox: PlatformSandbox
) -> None:
    payment, seen = waiting_transfer(api, monetix_sandbox)
    queries = monetix_sandbox.payment(payment["id"])["status_queries"]  # type: ignore[index]
    pay(monetix_sandbox, payment["id"])
    deliver_sandbox_callbacks(api, "monetix", monetix_sandbox, payment["id"], start=seen)
    assert get(api, payment["id"])["status"] == "succeeded"
    assert monetix_sandbox.payment(payment["id"])["status_queries"] == queries + 1  # type: ignore[index]


def test_while_the_status_query_cannot_answer_the_success_waits_for_reconciliation(
    api: Api,
    aws: Provisioned,
    monetix_sandbox: PlatformSandbox,
    status_query: Callable[[str], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    payment, seen = waiting_transfer(api, monetix_sandbox)
    before = get(api, payment["id"])
    pay(monetix_sandbox, payment["id"])
    status_query("silent")
    capsys.readouterr()
    deliver_sandbox_callbacks(api, "monetix", monetix_sandbox, payment["id"], start=seen)
    assert "WebhookUnconfirmed" in metric_names(capsys.readouterr().out)
    stored = get(api, payment["id"])
    assert (stored["status"], stored["version"]) == (before["status"], before["version"])
    outcomes = [i["outcome"]["S"] for i in items(aws, "webhook")]
    assert outcomes.count("unconfirmed") == 1
    status_query("normal")
    report = reconciler(minutes_later=60).run(limit=100)  # the job's next run queries it
    assert report.checked >= 1 and report.changed == 1, report
    assert get(api, payment["id"])["status"] == "succeeded"


def test_when_the_status_query_contradicts_the_callback_the_query_wins(
    api: Api,
    aws: Provisioned,
    monetix_sandbox: PlatformSandbox,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A validly signed success the platform never reported (the customer has not paid): the
    query says the payment still waits, so nothing moves; the disagreement is counted."""
    payment, _ = waiting_transfer(api, monetix_sandbox)
    before = get(api, payment["id"])
    stored = {(i["pk"]["S"], i["sk"]["S"]) for i in items(aws, "webhook")}
    forged = doc_example("monetix/bank-transfer-gate-ch1-purchase-success.json", payment["id"])
    forged["payment"]["sum"]["amount"] = payment["amount"]
    forged["project_id"] = 1234
    capsys.readouterr()
    response = deliver(api, "monetix", signed_body(forged, "monetix"))
    assert response["statusCode"] == 200
    assert "WebhookConfirmationDisagreed" in metric_names(capsys.readouterr().out)
    after = get(api, payment["id"])
    assert (after["status"], after["version"]) == (before["status"], before["version"])
    new = [i for i in items(aws, "webhook") if (i["pk"]["S"], i["sk"]["S"]) not in stored]
    assert [i["outcome"]["S"] for i in new] == ["stale"]  # stored, and it moved nothing
