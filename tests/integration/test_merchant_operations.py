"""Merchant operations through the real handlers on moto (tables from template.yaml): list and
search (one Query per page, never a Scan), cursors, timelines and reviews."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import boto3
import httpx
import pytest

from local.aws.provision import Provisioned
from local.sandboxes.platform import PlatformSandbox
from paygate.domain import (
    Cause,
    Kind,
    Method,
    Payment,
    PaymentStatus,
    Provider,
    ProviderUpdate,
    Review,
    ReviewDecision,
    StatusChange,
)
from paygate.errors import ConcurrentUpdate, InvalidState
from paygate.ledger import Ledger
from paygate.listing import ListFilters
from paygate.repository import PaymentRepository
from paygate.table_items import CREATED_SHARDS, STATUS_SHARDS
from paygate.transition import reviewed

from .conftest import REVIEWER_CLAIMS, Api, body_of, header
from .platform_support import TRANSFER_ORDER, create, deliver_sandbox_callbacks, get

JSON = {"content-type": "application/json"}
START = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
PROVIDER_METHODS = [
    (Provider.PAYPRO, Method.VIETQR),
    (Provider.MONETIX, Method.BANK_TRANSFER),
    (Provider.ECOMMPAY, Method.NAPAS_ATM),
    (Provider.ECOMMPAY, Method.NGANLUONG_WALLET),
    (Provider.SMARTGLOCAL, Method.EWALLET),
]
STATUSES = [PaymentStatus.SUCCEEDED, PaymentStatus.PENDING, PaymentStatus.NEEDS_REVIEW]


def repository(aws: Provisioned) -> PaymentRepository:
    return PaymentRepository(aws.refs["PaymentsTable"], timedelta(days=1))


def stored(
    aws: Provisioned,
    number: int,
    *,
    kind: Kind = Kind.PAYMENT,
    status: PaymentStatus = PaymentStatus.SUCCEEDED,
    provider: Provider = Provider.PAYPRO,
    method: Method = Method.VIETQR,
    reference: str | None = None,
    created_at: datetime | None = None,
) -> Payment:
    """A payment written as the ledger writes it, created `number` minutes after START."""
    created = created_at or START + timedelta(minutes=number)
    prefix = "po" if kind is Kind.PAYOUT else "pay"
    payment = Payment(
        id=f"{prefix}_{created:%Y%m%d%H%M%S}{uuid.uuid4().hex[:10]}",
        kind=kind,
        provider=provider,
        method=method,
        status=status,
        amount=100_000 + number,
        merchant_reference=reference or f"order-{number}",
        history=[StatusChange(to=PaymentStatus.CREATED, at=created, cause=Cause.CREATE)],
        created_at=created,
        updated_at=created,
    )
    repository(aws).create(payment)
    return payment


def unchanged(aws: Provisioned, payment: Payment) -> bool:
    now = repository(aws).get(payment.id)
    fields = {"status", "version", "history", "review", "failure", "updated_at"}
    return now is not None and now.model_dump(mode="json", include=fields) == payment.model_dump(
        mode="json", include=fields
    )


@pytest.fixture
def table(aws: Provisioned) -> list[Payment]:
    """60 payments and 6 payouts over five hours, every status, provider and method."""
    payments = []
    for number in range(60):
        provider, method = PROVIDER_METHODS[number % len(PROVIDER_METHODS)]
        status = STATUSES[number % len(STATUSES)]
        reference = "order-1001" if number in (7, 33, 51) else None
        payments.append(
            stored(
                aws, number * 5, status=status, provider=provider, method=method,
                reference=reference,
            )
        )  # fmt: skip
    for number in range(6):
        payments.append(stored(aws, number * 7 + 1, kind=Kind.PAYOUT, reference="order-1001"))
    return payments


def newest_first(payments: list[Payment]) -> list[str]:
    return [p.id for p in sorted(payments, key=lambda p: (p.created_at, p.id), reverse=True)]


def listing(api: Api, path: str = "/v1/payments", **query: Any) -> dict[str, Any]:
    response = api.call("GET", f"{path}?{urlencode(query)}" if query else path)
    assert response["statusCode"] == 200, response
    document: dict[str, Any] = body_of(response)
    return document


def every_page(api: Api, path: str = "/v1/payments", **query: Any) -> Iterator[dict[str, Any]]:
    cursor = None
    while True:
        page = listing(api, path, **query, **({"cursor": cursor} if cursor else {}))
        yield page
        cursor = page["next_cursor"]
        if cursor is None:
            return


def all_ids(api: Api, path: str = "/v1/payments", **query: Any) -> list[str]:
    return [p["id"] for page in every_page(api, path, **query) for p in page["data"]]


def list_path(path: str, query: dict[str, Any]) -> str:
    return f"{path}?{urlencode(query)}"


@contextmanager
def dynamodb_calls(api: Api) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Every DynamoDB call the list function's client makes in the block (operation, request)."""
    client = api.handlers("list_payments").lister.repository.client
    made: list[tuple[str, dict[str, Any]]] = []

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        made.append((model.name, params))

    client.meta.events.register("provide-client-params.dynamodb", record)
    try:
        yield made
    finally:
        client.meta.events.unregister("provide-client-params.dynamodb", record)


# -- list and search ---------------------------------------------------------------------------

FILTERS: list[dict[str, Any]] = [
    {},
    {"merchant_reference": "order-1001"},
    {"status": "needs_review"},
    {"provider": "ecommpay"},
    {"method": "nganluong_wallet"},
    {"created_from": "2026-11-01T10:00:00Z", "created_to": "2026-11-01T11:00:00Z"},
    {"created_from": "2026-11-01T12:00:00+07:00"},
    {"created_to": "2026-11-01T09:00:00Z"},
    {"status": "succeeded", "provider": "paypro"},
    {"merchant_reference": "order-1001", "status": "needs_review"},
    {"status": "pending", "method": "ewallet", "created_from": "2026-11-01T09:00:00Z"},
    {"provider": "monetix", "created_to": "2026-11-01T12:00:00Z", "status": "pending"},
    {"merchant_reference": "nobody"},
]


def expected(table: list[Payment], kind: Kind, query: dict[str, Any]) -> list[str]:
    def keep(payment: Payment) -> bool:
        checks = [
            payment.kind is kind,
            query.get("merchant_reference", payment.merchant_reference)
            == payment.merchant_reference,
            query.get("status", payment.status.value) == payment.status.value,
            query.get("provider", payment.provider.value) == payment.provider.value,
            query.get("method", payment.method.value) == payment.method.value,
        ]
        if "created_from" in query:
            checks.append(payment.created_at >= datetime.fromisoformat(query["created_from"]))
        if "created_to" in query:
            checks.append(payment.created_at < datetime.fromisoformat(query["created_to"]))
        return all(checks)

    return newest_first([p for p in table if keep(p)])


def as_operators_see(payment: dict[str, Any]) -> dict[str, Any]:
    """A payment without its `client_secret` (a merchant key's GET carries it; an operator's
    answers never do)."""
    return {key: value for key, value in payment.items() if key != "client_secret"}


@pytest.mark.parametrize("query", FILTERS, ids=[json.dumps(q) for q in FILTERS])
@pytest.mark.parametrize("limit", [1, 7, 100])
def test_filters_alone_and_combined_list_exactly_the_matching_payments_newest_first(
    api: Api, table: list[Payment], query: dict[str, Any], limit: int
) -> None:
    assert all_ids(api, **query, limit=limit) == expected(table, Kind.PAYMENT, query)


def test_payouts_are_listed_apart_from_payments(api: Api, table: list[Payment]) -> None:
    payouts = expected(table, Kind.PAYOUT, {})
    assert len(payouts) == 6
    assert all_ids(api, "/v1/payouts", limit=4) == payouts
    assert all_ids(api, "/v1/payouts", merchant_reference="order-1001") == payouts
    assert listing(api, "/v1/payouts", limit=1)["data"][0]["id"].startswith("po_")
    assert set(all_ids(api, merchant_reference="order-1001")).isdisjoint(payouts)


def test_one_order_reference_is_found_with_one_call(api: Api, table: list[Payment]) -> None:
    page = listing(api, merchant_reference="order-1001")
    assert [p["merchant_reference"] for p in page["data"]] == ["order-1001"] * 3
    assert page["next_cursor"] is None  # the page said whether more exist: nothing more
    # the payment as GET shows it, but for the client secret only a merchant key is given
    assert as_operators_see(page["data"][0]) == as_operators_see(get(api, page["data"][0]["id"]))


def test_every_page_is_one_query_on_a_list_index_and_never_a_scan(
    api: Api, table: list[Payment]
) -> None:
    """One round of Queries, one per partition of one list index at most, then the page's
    items by one BatchGetItem (none when the page is empty)."""
    indexes = {
        "{}": ("by_created_shard", CREATED_SHARDS),
        '{"merchant_reference": "order-1001"}': ("by_reference_keys", 1),
        '{"status": "needs_review"}': ("by_status_shard", STATUS_SHARDS),
        '{"provider": "ecommpay"}': ("by_created_shard", CREATED_SHARDS),
    }
    for query_text, (index, partitions) in indexes.items():
        query = json.loads(query_text)
        cursor = None
        pages = 0
        while True:
            with dynamodb_calls(api) as calls:
                page = listing(api, **query, limit=5, **({"cursor": cursor} if cursor else {}))
            pages += 1
            queries = [request for name, request in calls if name == "Query"]
            gets = [request for name, request in calls if name == "BatchGetItem"]
            assert len(queries) + len(gets) == len(calls), (query, calls)
            assert 1 <= len(queries) <= partitions, (query, calls)
            assert len(gets) == (1 if page["data"] else 0), (query, calls)
            assert {request["IndexName"] for request in queries} == {index}
            assert all(request["Limit"] <= 200 for request in queries)  # never grows with the table
            if gets:
                (keys,) = [table["Keys"] for table in gets[0]["RequestItems"].values()]
                assert len(keys) == len(page["data"]) <= 5
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert pages >= 1


def test_pages_have_no_duplicates_or_gaps_while_new_payments_arrive(
    api: Api, aws: Provisioned, table: list[Payment]
) -> None:
    before = expected(table, Kind.PAYMENT, {})
    seen: list[str] = []
    cursor = None
    arriving = itertools.count(1)
    while True:
        page = listing(api, limit=6, **({"cursor": cursor} if cursor else {}))
        seen += [p["id"] for p in page["data"]]
        # Payments keep arriving between pages: newer ones, and one in the same second as
        # the newest payment (the ids, not the time, order it).
        number = next(arriving)
        stored(aws, 0, created_at=datetime.now(UTC) + timedelta(seconds=number))
        stored(aws, 0, created_at=table[-7].created_at)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)), "a payment was listed twice"
    assert [i for i in seen if i in set(before)] == before, "a payment was skipped or reordered"
    assert number >= len(before) // 6


def test_a_status_change_moves_a_payment_between_status_pages(
    api: Api, aws: Provisioned, table: list[Payment]
) -> None:
    waiting = next(p for p in table if p.status is PaymentStatus.PENDING and p.kind is Kind.PAYMENT)
    assert waiting.id in all_ids(api, status="pending")
    Ledger(repository(aws)).apply(
        waiting, ProviderUpdate(status=PaymentStatus.SUCCEEDED, amount_received=waiting.amount,
                                currency="VND"), Cause.RECONCILIATION,
    )  # fmt: skip
    assert waiting.id not in all_ids(api, status="pending")
    assert waiting.id in all_ids(api, status="succeeded")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"status": "paid"}, "status"),
        ({"provider": "vnpay"}, "provider"),
        ({"method": "card"}, "method"),
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"created_from": "yesterday"}, "created_from"),
        ({"created_from": "2026-11-01T10:00:00"}, "created_from"),  # no time zone
        ({"created_to": "2026-13-01T00:00:00Z"}, "created_to"),
        ({"created_from": "2026-11-02T00:00:00Z", "created_to": "2026-11-01T00:00:00Z"},
         "created_to"),
        ({"merchant_reference": "x" * 65}, "merchant_reference"),
        ({"merchant_reference": ""}, "merchant_reference"),
    ],
)  # fmt: skip
def test_a_bad_filter_is_a_422_naming_the_field(
    api: Api, aws: Provisioned, query: dict[str, Any], field: str
) -> None:
    response = api.call("GET", list_path("/v1/payments", query))
    assert response["statusCode"] == 422, response
    error = body_of(response)["error"]
    assert (error["code"], error["field"]) == ("validation_error", field)


def tampered(cursor: str) -> list[str]:
    payload, mac = cursor.split(".")
    document = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    document["p"][0] = ["2000-01-01T00:00:00.000000Z", "pay_x"]  # jump elsewhere in the list
    forged = base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=").decode()
    flipped = ("A" if mac[0] != "A" else "B") + mac[1:]
    return [
        f"{forged}.{mac}",
        f"{payload}.{flipped}",
        payload,
        "not-a-cursor",
        "a.b.c",
        "%%%.###",
        cursor + "x",
        f"{forged}.",
    ]


def test_a_forged_or_altered_cursor_is_a_400(api: Api, table: list[Payment]) -> None:
    cursor = listing(api, limit=5)["next_cursor"]
    assert cursor
    for bad in tampered(cursor):
        response = api.call("GET", list_path("/v1/payments", {"cursor": bad, "limit": 5}))
        assert response["statusCode"] == 400, (bad, response)
        error = body_of(response)["error"]
        assert (error["code"], error["field"]) == ("invalid_cursor", "cursor")


def test_a_cursor_of_the_previous_version_is_a_400(
    api: Api, aws: Provisioned, table: list[Payment]
) -> None:
    """A cursor from before the sharded indexes (one partition's position), signed with the
    current key: the merchant starts again from page one."""
    secret = boto3.client("secretsmanager").get_secret_value(SecretId=aws.refs["CursorSecret"])
    key = json.loads(secret["SecretString"])["key"]
    newest = table[-1]
    position = {"pk": f"PAYMENT#{newest.id}", "sk": "PAYMENT", "kind": "payment",
                "listed_at": "2026-11-01T12:00:00.000000Z"}  # fmt: skip
    fingerprint = ListFilters().fingerprint(Kind.PAYMENT)
    document = {"v": 1, "q": fingerprint, "i": "by_created", "p": position}
    payload = json.dumps(document, separators=(",", ":"), sort_keys=True).encode()
    mac = hmac.new(key.encode(), payload, hashlib.sha256).digest()[:16]
    old = ".".join(base64.urlsafe_b64encode(part).rstrip(b"=").decode() for part in (payload, mac))
    response = api.call("GET", list_path("/v1/payments", {"cursor": old, "limit": 5}))
    assert response["statusCode"] == 400, response
    error = body_of(response)["error"]
    assert (error["code"], error["field"]) == ("invalid_cursor", "cursor")
    assert "older version" in error["message"]


def test_a_cursor_belongs_to_its_query(api: Api, table: list[Payment]) -> None:
    cursor = listing(api, limit=5, status="succeeded")["next_cursor"]
    assert cursor
    for other in (
        ("/v1/payments", {"status": "pending"}),
        ("/v1/payments", {}),
        ("/v1/payments", {"status": "succeeded", "provider": "paypro"}),
        ("/v1/payouts", {"status": "succeeded"}),
    ):
        path, query = other
        response = api.call("GET", list_path(path, {**query, "cursor": cursor, "limit": 5}))
        assert response["statusCode"] == 400, (other, response)
        assert body_of(response)["error"]["code"] == "invalid_cursor"
    # Another page size is the same query: the cursor still works.
    assert listing(api, limit=9, status="succeeded", cursor=cursor)["data"]


def test_a_cursor_signed_with_the_previous_key_verifies_during_a_rotation(
    api: Api, aws: Provisioned, table: list[Payment]
) -> None:
    from aws_lambda_powertools.utilities import parameters

    cursor = listing(api, limit=5)["next_cursor"]
    secrets = boto3.client("secretsmanager")
    secret_id = aws.refs["CursorSecret"]
    old = json.loads(secrets.get_secret_value(SecretId=secret_id)["SecretString"])["key"]
    rotated = {"key": "a-new-cursor-key", "key_previous": old}
    secrets.put_secret_value(SecretId=secret_id, SecretString=json.dumps(rotated))
    parameters.clear_caches()
    assert listing(api, limit=5, cursor=cursor)["data"]
    secrets.put_secret_value(SecretId=secret_id, SecretString=json.dumps({"key": "newer"}))
    parameters.clear_caches()
    response = api.call("GET", list_path("/v1/payments", {"cursor": cursor, "limit": 5}))
    assert response["statusCode"] == 400


# -- timeline and review -----------------------------------------------------------------------


def changed_amount_payment(api: Api, monetix_sandbox: PlatformSandbox) -> dict[str, Any]:
    """A Monetix bank transfer the customer paid with another amount: needs_review."""
    payment = create(api, "monetix", TRANSFER_ORDER, merchant_reference=f"o-{uuid.uuid4().hex}")
    seen = deliver_sandbox_callbacks(api, "monetix", monetix_sandbox, payment["id"])
    answer = httpx.post(
        f"{monetix_sandbox.base_url}/_sandbox/payments/{payment['id']}/transfer",
        json={"amount": 250_000},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    deliver_sandbox_callbacks(api, "monetix", monetix_sandbox, payment["id"], start=seen)
    reviewed = get(api, payment["id"])
    assert (reviewed["status"], reviewed["failure"]["code"]) == ("needs_review", "amount_mismatch")
    return reviewed


def review(
    api: Api, payment_id: str, body: Any, key: str | None = None, kind: str = "payments"
) -> dict[str, Any]:
    headers = {**JSON, "Idempotency-Key": key or uuid.uuid4().hex}
    return api.call("POST", f"/v1/{kind}/{payment_id}/review", body, headers)


def changes(timeline: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (e["from"], e["to"], e["cause"])
        for e in timeline["entries"]
        if e["type"] == "status_change"
    ]


def test_the_timeline_tells_a_payment_s_whole_story_and_accept_ends_it_succeeded(
    api: Api, aws: Provisioned, monetix_sandbox: PlatformSandbox
) -> None:
    payment = changed_amount_payment(api, monetix_sandbox)
    timeline = api.read(f"/v1/payments/{payment['id']}/timeline")
    assert timeline["payment_id"] == payment["id"]
    entries = timeline["entries"]
    caused = [entries[i - 1]["type"] for i, e in enumerate(entries) if e.get("cause") == "webhook"]
    assert caused == ["callback", "callback"]  # each webhook change after its callback
    assert changes(timeline) == [
        (None, "created", "create"),
        ("created", "pending", "create"),
        ("pending", "requires_action", "webhook"),
        ("requires_action", "needs_review", "webhook"),
    ]
    callbacks = [e for e in timeline["entries"] if e["type"] == "callback"]
    assert [c["outcome"] for c in callbacks] == ["applied", "applied"]
    assert str(callbacks[-1]["body"]["payment"]["sum"]["amount"]) == "250000"  # as received
    assert set(callbacks[-1]["body"]["signature"]) == {"*"}  # masked, as stored
    times = [e["at"] for e in timeline["entries"]]
    assert times == sorted(times)
    mismatch = next(e for e in timeline["entries"] if e.get("to") == "needs_review")
    assert mismatch["failure_code"] == "amount_mismatch"

    # The webhook's write without a read (the fast path) moved it between the status pages.
    assert payment["id"] in all_ids(api, status="needs_review")
    assert payment["id"] not in all_ids(api, status="requires_action")
    response = review(api, payment["id"], {"decision": "accept", "note": "paid 250k, checked"})
    assert response["statusCode"] == 200, response
    accepted = body_of(response)
    assert accepted["status"] == "succeeded" and accepted["failure"] is None
    assert accepted["amount_received"] == 250_000
    assert accepted["version"] == payment["version"] + 1
    assert accepted["review"]["decision"] == "accept"
    assert accepted["review"]["note"] == "paid 250k, checked"
    assert accepted["review"]["reviewed_by"] == REVIEWER_CLAIMS["sub"]  # the operator
    assert accepted["review"]["reviewed_by_email"] == REVIEWER_CLAIMS["email"]
    assert as_operators_see(get(api, payment["id"])) == as_operators_see(accepted)
    assert payment["id"] in all_ids(api, status="succeeded")
    assert payment["id"] not in all_ids(api, status="needs_review")
    last = api.read(f"/v1/payments/{payment['id']}/timeline")["entries"][-1]
    assert (last["from"], last["to"], last["cause"]) == (
        "needs_review",
        "succeeded",
        "merchant_action",
    )
    assert (last["actor"], last["actor_email"], last["note"]) == (
        REVIEWER_CLAIMS["sub"],
        REVIEWER_CLAIMS["email"],
        "paid 250k, checked",
    )


def test_reject_ends_a_review_failed_with_the_reason(
    api: Api, aws: Provisioned, monetix_sandbox: PlatformSandbox
) -> None:
    payment = changed_amount_payment(api, monetix_sandbox)
    rejected = body_of(review(api, payment["id"], {"decision": "reject", "note": "refunded"}))
    assert rejected["status"] == "failed"
    assert rejected["failure"]["code"] == "review_rejected"
    assert "refunded" in rejected["failure"]["message"]
    assert rejected["review"]["decision"] == "reject"
    assert changes(api.read(f"/v1/payments/{payment['id']}/timeline"))[-1] == (
        "needs_review",
        "failed",
        "merchant_action",
    )


def test_a_review_is_idempotent_like_the_creates(
    api: Api, aws: Provisioned, table: list[Payment]
) -> None:
    payment = next(p for p in table if p.status is PaymentStatus.NEEDS_REVIEW)
    body = {"decision": "accept", "note": "checked with the provider"}
    first = review(api, payment.id, body, key="review-1")
    again = review(api, payment.id, body, key="review-1")
    assert first["statusCode"] == again["statusCode"] == 200
    assert body_of(again) == body_of(first)
    assert header(again, "Idempotent-Replayed") == "true"
    decided = repository(aws).get(payment.id)
    assert decided is not None and len(decided.history) == 2  # one change, not two
    other = review(api, payment.id, {**body, "decision": "reject"}, key="review-1")
    assert other["statusCode"] == 422
    assert body_of(other)["error"]["code"] == "idempotency_key_reused"
    # A new key on the decided payment: nothing to review any more.
    late = review(api, payment.id, body, key="review-2")
    assert late["statusCode"] == 409
    assert body_of(late)["error"] == {
        "code": "invalid_state",
        "message": f"payment {payment.id} is succeeded; only a needs_review payment can be "
        "reviewed",
        "field": "status",
    }


def test_the_same_key_on_another_payment_is_another_review(
    api: Api, aws: Provisioned, table: list[Payment]
) -> None:
    first, second = [p for p in table if p.status is PaymentStatus.NEEDS_REVIEW][:2]
    body = {"decision": "reject", "note": "no money arrived"}
    assert body_of(review(api, first.id, body, key="same"))["id"] == first.id
    assert body_of(review(api, second.id, body, key="same"))["id"] == second.id


@pytest.mark.parametrize(
    "status", [s for s in PaymentStatus if s is not PaymentStatus.NEEDS_REVIEW]
)
def test_review_is_a_409_in_every_other_status(
    api: Api, aws: Provisioned, status: PaymentStatus
) -> None:
    payment = stored(aws, 1, status=status)
    response = review(api, payment.id, {"decision": "accept", "note": "n"})
    assert response["statusCode"] == 409
    assert body_of(response)["error"]["field"] == "status"
    assert unchanged(aws, payment)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"decision": "approve", "note": "n"}, "decision"),
        ({"note": "n"}, "decision"),
        ({"decision": "accept"}, "note"),
        ({"decision": "accept", "note": ""}, "note"),
        ({"decision": "accept", "note": "n" * 501}, "note"),
        ({"decision": "accept", "note": "n", "amount": 1}, "amount"),
    ],
)
def test_a_bad_review_is_a_422_naming_the_field(
    api: Api, aws: Provisioned, body: dict[str, Any], field: str
) -> None:
    payment = stored(aws, 1, status=PaymentStatus.NEEDS_REVIEW)
    response = review(api, payment.id, body)
    assert response["statusCode"] == 422, response
    assert body_of(response)["error"]["field"] == field
    assert unchanged(aws, payment)


def test_review_needs_an_idempotency_key(api: Api, aws: Provisioned) -> None:
    payment = stored(aws, 1, status=PaymentStatus.NEEDS_REVIEW)
    path = f"/v1/payments/{payment.id}/review"
    response = api.call("POST", path, {"decision": "accept", "note": "n"}, JSON)
    assert response["statusCode"] == 422
    assert body_of(response)["error"]["field"].lower() == "idempotency-key"


def test_payouts_are_reviewed_and_told_on_their_own_routes(api: Api, aws: Provisioned) -> None:
    payout = stored(aws, 2, kind=Kind.PAYOUT, status=PaymentStatus.NEEDS_REVIEW)
    payment = stored(aws, 3, status=PaymentStatus.NEEDS_REVIEW)
    wrong = review(api, payout.id, {"decision": "accept", "note": "n"})  # a payments route
    assert wrong["statusCode"] == 404
    assert api.call("GET", f"/v1/payouts/{payment.id}/timeline")["statusCode"] == 404
    done = body_of(review(api, payout.id, {"decision": "accept", "note": "sent"}, kind="payouts"))
    assert (done["id"], done["status"], done["review"]["note"]) == (payout.id, "succeeded", "sent")
    assert "destination" in done
    timeline = api.read(f"/v1/payouts/{payout.id}/timeline")
    assert changes(timeline)[-1] == ("created", "succeeded", "merchant_action")


def test_unknown_payments_have_no_timeline_and_no_review(api: Api, aws: Provisioned) -> None:
    assert api.call("GET", "/v1/payments/pay_missing/timeline")["statusCode"] == 404
    response = review(api, "pay_missing", {"decision": "accept", "note": "n"})
    assert response["statusCode"] == 404
    assert body_of(response)["error"]["code"] == "not_found"


def test_a_review_that_loses_a_race_is_refused_not_a_second_change(
    api: Api, aws: Provisioned
) -> None:
    """Two operators decide at once: the second write's condition (still needs_review, the
    version read) refuses it; the ledger then reads again and answers 409."""
    payment = stored(aws, 4, status=PaymentStatus.NEEDS_REVIEW)
    ledger = Ledger(repository(aws))
    ledger.review(payment.id, Kind.PAYMENT, ReviewDecision.REJECT, "first", "op-1")
    now = datetime.now(UTC)
    second = Review(decision=ReviewDecision.ACCEPT, note="second", reviewed_by="op-2",
                    reviewed_at=now)  # fmt: skip
    with pytest.raises(ConcurrentUpdate):
        repository(aws).save_change(payment, reviewed(payment, second), now)
    with pytest.raises(InvalidState):
        ledger.review(payment.id, Kind.PAYMENT, ReviewDecision.ACCEPT, "second", "op-2")
    after = repository(aws).get(payment.id)
    assert after is not None and after.status is PaymentStatus.FAILED
    assert [c.to for c in after.history] == [PaymentStatus.CREATED, PaymentStatus.FAILED]
    assert after.review is not None and after.review.reviewed_by == "op-1"
