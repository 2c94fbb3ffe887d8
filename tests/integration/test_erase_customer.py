"""Personal data by design (docs/privacy.md) through the real handlers (moto, the platform
sandboxes): two customers pay (a Monetix Payment Page, an ecommpay Gate purchase with its
callbacks) and are paid (a Nganluong wallet payout to their email); stored callback bodies keep
their contact and account data only masked; published events carry none of it; then
`ops/erase_customer.py` erases one customer, and every item of every table and every event is
searched: nothing of that customer is left, everything of the other is, and the money facts of
both are unchanged."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from types import ModuleType
from typing import Any
from urllib.parse import quote_plus

import boto3
import httpx
import pytest

from local.aws.apigw import FakeLambdaContext
from local.aws.provision import Provisioned
from local.sandboxes.platform import PlatformSandbox
from ops.erase_customer import erase_customer
from paygate.masking import mask
from paygate.repository import PaymentRepository
from tests.support.leaks import dumped
from tests.support.stored import decoded

from .conftest import Api
from .platform_support import ATM_ORDER, TRANSFER_ORDER, create, deliver_sandbox_callbacks
from .test_publish_status import received, stream_records, subscribe

CUSTOMERS = {
    "thuylinh": {
        "id": "cust-thuylinh-01",
        "email": "thuylinh.vuong@example.vn",
        "phone": "84901112233",
        "ip_address": "198.51.100.47",
        "first_name": "Thuylinh",
        "last_name": "Vuongkhanh",
    },
    "minhchau": {
        "id": "cust-minhchau-02",
        "email": "minhchau.dang@example.vn",
        "phone": "84905556677",
        "ip_address": "198.51.100.48",
        "first_name": "Minhchau",
        "last_name": "Dangquoc",
    },
}
CONTACT_FIELDS = ("email", "phone", "first_name", "last_name")
MONEY_FACTS = ("id", "kind", "provider", "method", "status", "amount", "amount_received",
               "currency", "merchant_reference", "provider_reference", "version", "created_at",
               "updated_at", "history")  # fmt: skip


def traces(customer: dict[str, str]) -> set[str]:
    """What would show the customer in a text: every value, and its URL-encoded form."""
    values = {value for key, value in customer.items() if key != "ip_address"}
    return values | {quote_plus(value) for value in values}


def pay_and_be_paid(api: Api, sandbox: PlatformSandbox, name: str) -> list[str]:
    """A Monetix Payment Page payment, an ecommpay Gate purchase with its callbacks and a
    Nganluong payout to the customer's email (succeeded, callbacks delivered): their ids."""
    customer = CUSTOMERS[name]
    page = create(
        api, "monetix", TRANSFER_ORDER, flow="payment_page", customer=customer,
        merchant_reference=f"page-{name}",
    )  # fmt: skip
    assert (
        customer["email"] in page["next_action"]["url"]
        or quote_plus(customer["email"]) in (page["next_action"]["url"])
    )
    gate = create(api, "ecommpay", ATM_ORDER, customer=customer, merchant_reference=f"gate-{name}")
    deliver_sandbox_callbacks(api, "ecommpay", sandbox, gate["id"])
    payout = api.answer(
        201, "POST", "/v1/ecommpay/payouts",
        {"method": "nganluong_wallet", "amount": 150_000, "merchant_reference": f"po-{name}",
         "customer": {"id": customer["id"], "ip_address": customer["ip_address"]},
         "account_number": customer["email"]},
    )  # fmt: skip
    transfer = f"{sandbox.base_url}/_sandbox/payments/{payout['id']}/transfer"
    assert httpx.post(transfer, json={}).is_success
    deliver_sandbox_callbacks(api, "ecommpay", sandbox, payout["id"])
    return [page["id"], gate["id"], payout["id"]]


def everything(aws: Provisioned) -> dict[str, str]:
    """Every item of every table as text (webhook bodies decoded)."""
    dynamodb = boto3.client("dynamodb")
    return {
        table: dumped([decoded(item) for item in dynamodb.scan(TableName=table)["Items"]])
        for table in dynamodb.list_tables()["TableNames"]
    }


def found(texts: dict[str, str], customer: dict[str, str]) -> list[str]:
    return [f"{trace!r} in {where}" for where, text in texts.items() for trace in
            traces(customer) if trace in text]  # fmt: skip


@pytest.fixture
def repository(aws: Provisioned) -> PaymentRepository:
    return PaymentRepository(aws.refs["PaymentsTable"], timedelta(days=41))


def test_erasing_one_customer_leaves_nothing_of_them_and_every_money_fact(
    api: Api,
    aws: Provisioned,
    handlers: Callable[[str], ModuleType],
    ecommpay_sandbox: PlatformSandbox,
    repository: PaymentRepository,
) -> None:
    queue = subscribe(aws)
    ids = {name: pay_and_be_paid(api, ecommpay_sandbox, name) for name in CUSTOMERS}
    publish = handlers("publish_status")
    result = publish.lambda_handler({"Records": stream_records(aws)}, FakeLambdaContext("p"))
    assert result == {"batchItemFailures": []}
    events = json.dumps(received(queue))
    assert all(payment_id in events for payment_id in ids["thuylinh"] + ids["minhchau"])
    before = {pid: repository.get(pid) for pid in ids["thuylinh"] + ids["minhchau"]}
    assert all(payment is not None for payment in before.values())
    texts = everything(aws)
    assert not found({"events": events}, CUSTOMERS["thuylinh"])  # events carry no contact data
    assert found(texts, CUSTOMERS["thuylinh"]) and found(texts, CUSTOMERS["minhchau"])

    report = erase_customer(
        repository, aws.refs["IdempotencyTable"], customer_id=CUSTOMERS["thuylinh"]["id"]
    )

    assert sorted(report.payments) == sorted(ids["thuylinh"])
    assert report.payments_erased == 3 and not report.changed_meanwhile
    assert report.webhooks_erased >= 2 and report.idempotency_records_erased == 3
    after = everything(aws)
    assert found(after, CUSTOMERS["thuylinh"]) == []
    kept = found(after, CUSTOMERS["minhchau"])
    for field in ("id", "email", "phone", "first_name", "last_name"):
        assert any(repr(CUSTOMERS["minhchau"][field]) in line for line in kept), field
    for payment_id, previous in before.items():
        now = repository.get(payment_id)
        assert now is not None and previous is not None
        assert now.model_dump(include=set(MONEY_FACTS)) == previous.model_dump(
            include=set(MONEY_FACTS)
        )
    page = repository.get(ids["minhchau"][0])
    assert page is not None and page.customer_id == CUSTOMERS["minhchau"]["id"]
    from local.aws.template import load_template, matches_filter

    (source,) = load_template().stream_sources()
    erasures = [
        record
        for record in stream_records(aws)
        if record["dynamodb"]["NewImage"].get("written_by", {}).get("S") == "erasure"
    ]
    assert len(erasures) == 3  # an erasure is no status change: the stream filter drops it
    assert not any(matches_filter(p, r) for p in source.filter_patterns for r in erasures)


def test_stored_callback_bodies_keep_contact_and_account_data_only_masked(
    api: Api, aws: Provisioned, ecommpay_sandbox: PlatformSandbox
) -> None:
    customer = CUSTOMERS["minhchau"]
    pay_and_be_paid(api, ecommpay_sandbox, "minhchau")
    webhooks = [
        decoded(item)
        for item in boto3.client("dynamodb").scan(TableName=aws.refs["PaymentsTable"])["Items"]
        if item["entity"]["S"] == "webhook"
    ]
    bodies = json.dumps([item["body"]["decoded"] for item in webhooks])
    assert customer["email"] not in bodies
    assert mask(customer["email"]) in bodies  # the payout callback's account.number
    assert customer["id"] in bodies  # the customer's id links a callback to its erasure


def test_callbacks_expire_after_the_retention_on_the_simulated_clock(
    api: Api, aws: Provisioned, ecommpay_sandbox: PlatformSandbox, later: Any
) -> None:
    """`expires_at` (the table's TTL attribute) is the receipt plus WEBHOOK_RETENTION_DAYS (41
    by default: the platform's 11-day retry window plus 30); moto never deletes by TTL, and
    DynamoDB only within days, so reads treat an item past it as gone."""
    gate = create(api, "ecommpay", ATM_ORDER, merchant_reference="ttl-1")
    deliver_sandbox_callbacks(api, "ecommpay", ecommpay_sandbox, gate["id"])
    repository = PaymentRepository(aws.refs["PaymentsTable"], timedelta(days=41))
    stored = repository.callbacks(gate["id"])
    assert stored
    items = boto3.client("dynamodb").scan(TableName=aws.refs["PaymentsTable"])["Items"]
    for item in items:
        if item["entity"]["S"] == "webhook" and item["payment_id"]["S"] == gate["id"]:
            record = next(r for r in stored if item["pk"]["S"].endswith(r.dedupe_key))
            expected = record.received_at + timedelta(days=41)
            assert int(item["expires_at"]["N"]) == int(expected.timestamp())
    later.advance(days=41, seconds=-60)
    assert len(repository.callbacks(gate["id"])) == len(stored)
    later.advance(seconds=120)
    assert repository.callbacks(gate["id"]) == []


def test_a_final_payout_keeps_its_whole_destination_for_the_retention_then_only_masked(
    api: Api, aws: Provisioned, ecommpay_sandbox: PlatformSandbox, repository: PaymentRepository
) -> None:
    """`PAYOUT_DESTINATION_RETENTION_DAYS` (30) after a payout became final, the reconcile
    schedule (dispatcher and worker, on the simulated clock) masks its destination; until
    then the payout waits in the schedule, whole."""
    from tests.integration.reconcile_support import FanOut, later_clock

    email = CUSTOMERS["thuylinh"]["email"]
    payout_id = pay_and_be_paid(api, ecommpay_sandbox, "thuylinh")[2]
    final = repository.get(payout_id)
    assert final is not None and final.status == "succeeded"
    assert final.destination is not None and final.destination.account_number == email
    assert final.reconcile_at is not None
    assert final.reconcile_at - final.updated_at == timedelta(days=30)

    FanOut(later_clock(minutes=30 * 24 * 60 - 5)).run()
    assert repository.get(payout_id) == final  # not due yet: nothing changed

    FanOut(later_clock(minutes=30 * 24 * 60 + 5)).run()
    retired = repository.get(payout_id)
    assert retired is not None and retired.destination is not None
    assert retired.destination.account_number == mask(email) != email
    assert retired.reconcile_at is None and retired.version == final.version
    assert retired.model_dump(include=set(MONEY_FACTS)) == final.model_dump(
        include=set(MONEY_FACTS)
    )
    item = boto3.client("dynamodb").get_item(
        TableName=aws.refs["PaymentsTable"],
        Key={"pk": {"S": f"PAYMENT#{payout_id}"}, "sk": {"S": "PAYMENT"}},
    )["Item"]
    assert "reconcile_due" not in item and email not in json.dumps(item)


def test_the_command_erases_by_email_and_reports(
    api: Api,
    aws: Provisioned,
    ecommpay_sandbox: PlatformSandbox,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`python -m ops.erase_customer --email`: finds the payments whose stored fields still
    hold the address (the live Payment Page URL, the wallet payout's account)."""
    from ops.erase_customer import main

    ids = pay_and_be_paid(api, ecommpay_sandbox, "minhchau")
    capsys.readouterr()
    argv = ["erase_customer", "--table", aws.refs["PaymentsTable"], "--idempotency-table",
            aws.refs["IdempotencyTable"], "--email", CUSTOMERS["minhchau"]["email"]]  # fmt: skip
    monkeypatch.setattr("sys.argv", argv)
    assert main() == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert sorted(report["payments"]) == sorted([ids[0], ids[2]])  # the Gate purchase holds none
    assert report["payments_erased"] == 2
    texts = everything(aws)
    assert not any(CUSTOMERS["minhchau"]["email"] in text for text in texts.values())
