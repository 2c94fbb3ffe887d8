"""bench/cost.py's arithmetic and the write-unit rule it prices the soak's item writes with
(bench/write_cost.py): units per item write, per payment outcome, and dollars per million
payments, on made-up writes and calls whose answers are worked out by hand here."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench import cost
from bench.write_cost import (
    Index,
    ItemWriteUnits,
    item_size,
    item_write_units,
    soak_writes,
    write_kind,
)


def item(**attributes: str) -> dict[str, Any]:
    return {name: {"S": value} for name, value in attributes.items()}


ALL = Index(keys=["ref"], projection={"type": "ALL", "attributes": []})
KEYS = Index(keys=["due", "at"], projection={"type": "INCLUDE", "attributes": ["provider"]})
INDEXES = {"by_ref": ALL, "by_due": KEYS}


# -- the rule: one item write ----------------------------------------------------------------


def test_the_table_is_charged_on_the_larger_size_twice_in_a_transaction() -> None:
    big = item(pk="p", pad="x" * 1100)  # 2 started KB
    small = item(pk="p")
    assert item_write_units(big, small, {}).table == 2
    assert item_write_units(small, big, {}, transactional=True).table == 4
    assert item_write_units(None, small, {}).table == 1


def test_an_index_entry_counts_its_100_bytes_of_overhead() -> None:
    # 950 bytes of item: 1 KB on the table, 2 started KB as an ALL index entry.
    entry = item(pk="p", ref="r", pad="x" * (950 - item_size(item(pk="p", ref="r", pad=""))))
    assert item_size(entry) == 950
    units = item_write_units(None, entry, {"by_ref": ALL})
    assert units == ItemWriteUnits(table=1, indexes={"by_ref": 2})


def test_an_item_entering_leaving_and_moving_in_an_index() -> None:
    open_ = item(pk="p", ref="r", due="d#1", at="10", provider="paypro")
    moved = {**open_, **item(at="11")}
    final = item(pk="p", ref="r", provider="paypro", status="expired")
    assert item_write_units(None, open_, INDEXES).indexes == {"by_ref": 1, "by_due": 1}
    # the key moves: delete + put in by_due; by_ref (ALL) rewrites the whole item
    assert item_write_units(open_, moved, INDEXES).indexes == {"by_ref": 1, "by_due": 2}
    assert item_write_units(moved, final, INDEXES).indexes == {"by_ref": 1, "by_due": 1}
    assert item_write_units(final, None, INDEXES).indexes == {"by_ref": 1}  # a delete


def test_a_refused_condition_costs_the_existing_item_and_no_index() -> None:
    existing = item(pk="p", ref="r", pad="x" * 1500)
    assert item_write_units(existing, existing, INDEXES, refused=True) == ItemWriteUnits(2, {})
    assert item_write_units(None, None, INDEXES, refused=True) == ItemWriteUnits(1, {})
    refused = item_write_units(existing, existing, INDEXES, transactional=True, refused=True)
    assert refused.table == 4


texts = st.text(alphabet="abcdéđ0123456789", max_size=600)


@given(key=texts, provider=texts, before=texts, after=texts, pad=texts)
def test_a_change_outside_keys_and_projection_writes_no_narrow_index(
    key: str, provider: str, before: str, after: str, pad: str
) -> None:
    old = item(pk="p", due=f"d{key}", at="1", provider=provider, note=before, pad=pad)
    new = {**old, **item(note=after)}
    units = item_write_units(old, new, {"by_due": KEYS})
    assert units.indexes == {}
    assert units.table == max(1, math.ceil(max(item_size(old), item_size(new)) / 1024))


# -- the soak's writes, per payment outcome --------------------------------------------------


def record(
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
    *,
    txn: int | None = None,
    table: str = "PaymentsTable",
    outcome: str = "written",
) -> dict[str, Any]:
    op = "Put" if old is None else "Update"
    return {"table": table, "op": op, "txn": txn, "outcome": outcome, "old": old, "new": new}


def payment(pid: str, **fields: str) -> dict[str, Any]:
    document = {"pk": f"PAYMENT#{pid}", "sk": "PAYMENT", "ref": f"r-{pid}", "version": "1"}
    return item(**(document | fields))


def soak_records() -> list[dict[str, Any]]:
    """Payment `a` is paid by a webhook; payment `b` is queried once and expires."""
    a0 = payment("a", status="pending", due="d#1", at="10", provider="paypro")
    a1 = {**payment("a", status="succeeded", version="2"), "provider": {"S": "paypro"}}
    b0 = payment("b", status="pending", due="d#2", at="10", provider="paypro")
    b_leased = {**b0, **item(at="20", lease_id="L1", written_by="schedule")}
    b_claimed = {**b_leased, **item(claimed_until="15")}
    b_end = {**payment("b", status="expired", version="2"), "provider": {"S": "paypro"}}
    idem = "IdempotencyTable"
    return [
        record(None, item(id="i-a", status="INPROGRESS"), txn=1, table=idem),
        record(None, a0, txn=1),
        record(item(id="i-a", status="INPROGRESS"), item(id="i-a", status="COMPLETED"), table=idem),
        record(None, item(id="i-b"), txn=2, table=idem),
        record(None, b0, txn=2),
        record(a0, a1, txn=3),
        record(None, item(pk="WEBHOOK#paypro#1", sk="WEBHOOK", payment_id="a"), txn=3),
        record(b0, b_leased),
        record(b_leased, b_claimed),
        record(b_claimed, b_claimed, outcome="condition_failed"),
        record(b_claimed, b_end),
        record(None, item(key_id="k"), table="ApiKeysTable"),
        record(a1, {**a1, **item(status="refunded")}, txn=4, outcome="cancelled"),
    ]


def test_each_write_is_named_from_the_item_before_and_after() -> None:
    kinds = [write_kind(r) for r in soak_records()]
    assert kinds[:12] == [
        "idempotency record", "create", "idempotency record", "idempotency record", "create",
        "status change", "webhook item", "lease", "claim", "refused (condition failed)",
        "status change", "ApiKeysTable item",
    ]  # fmt: skip


def test_writes_are_summed_per_payment_outcome() -> None:
    summary = soak_writes(soak_records(), {"PaymentsTable": INDEXES})
    paid, expired = summary["outcomes"]["paid"], summary["outcomes"]["expired"]
    assert (paid["payments"], expired["payments"]) == (1, 1)
    # paid: idempotency put in the create's transaction (2) and its update (1); the create
    # (2, by_ref 1, by_due 1); the webhook's transaction: the payment (2, by_ref 1, leaves
    # by_due 1) and the webhook item (2); a cancelled transaction's item (2, no index).
    assert paid["wcu"] == 2 + 1 + (2 + 1 + 1) + (2 + 1 + 1) + 2 + 2
    assert paid["by_kind"]["cancelled transaction"] == {"writes": 1, "table": 2, "indexes": {}}
    assert (paid["queries"], paid["webhooks"], paid["changes"]) == (0, 1, 1)
    # expired: idempotency put (2); the create (2 + 1 + 1); the lease moves `at`
    # (1, by_ref 1, by_due delete + put 2); the claim changes nothing by_due projects
    # (1, by_ref 1); the refused write (1); the end (1, by_ref 1, by_due 1).
    assert expired["wcu"] == 2 + (2 + 1 + 1) + (1 + 1 + 2) + (1 + 1) + 1 + (1 + 1 + 1)
    assert expired["by_kind"]["claim"] == {"writes": 1, "table": 1, "indexes": {"by_ref": 1}}
    assert (expired["queries"], expired["webhooks"], expired["changes"]) == (1, 0, 1)
    assert summary["unattributed"]["wcu"] == 1
    assert summary["cancelled"] == 1


# -- dollars -------------------------------------------------------------------------------

SOAK: dict[str, Any] = {
    "payments": 10,
    "aws_calls": {
        "PayproCreatePaymentFunction": {
            "dynamodb:TransactWriteItems": 10,
            "dynamodb:GetItem": 10,
            "secretsmanager:GetSecretValue": 1,
            "secretsmanager:GetSecretValue (parameters.get_secret)": 10,
        },
        "PayproWebhookFunction": {"dynamodb:TransactWriteItems": 4},
        "GetPaymentFunction": {"dynamodb:GetItem": 10},  # the checkout's part: left out
        "PublishStatusFunction": {"sns:PublishBatch": 5},
        "ReconcileDispatchFunction": {"dynamodb:Query": 20, "sqs:SendMessageBatch": 6},
        "ReconcileFunction": {"dynamodb:UpdateItem": 12},
    },
    "transaction_items": {"PayproCreatePaymentFunction": {"dynamodb:TransactWriteItems": 20}},
    "log_bytes": 10_000,
    "writes": {
        "outcomes": {  # 4 paid with a webhook each, 6 expired with 2 queries each
            "paid": {"payments": 4, "wcu": 40, "writes": 16, "by_kind": {},
                     "queries": 0, "webhooks": 4, "changes": 8},
            "expired": {"payments": 6, "wcu": 120, "writes": 60, "by_kind": {},
                        "queries": 12, "webhooks": 0, "changes": 12},
        },
        "unattributed": {"wcu": 5, "writes": 5, "by_kind": {}},
        "cancelled": 0,
    },
}  # fmt: skip


def test_usage_per_payment_of_each_outcome_from_its_own_writes_and_drivers() -> None:
    paid = cost.measured_usage(SOAK, "paid")
    expired = cost.measured_usage(SOAK, "expired")
    assert paid.write_units == pytest.approx(40 / 4 + 5 / 10)
    assert expired.write_units == pytest.approx(120 / 6 + 5 / 10)
    # creates are shared by payment; the webhook's calls go to the paid payments only; the
    # reconciler's to the expired ones (by status query); publishes by status change.
    assert paid.invocations == pytest.approx(
        {"create": 1.0, "webhook": 1.0, "publish": 5 * (8 / 4) / 20, "reconcile": 0.0}
    )
    assert expired.invocations == pytest.approx(
        {"create": 1.0, "webhook": 0.0, "publish": 5 * (12 / 6) / 20, "reconcile": 1.0}
    )
    assert paid.read_units == pytest.approx(10 / 10)  # the creates' GetItems
    assert expired.read_units == pytest.approx(10 / 10 + 20 / 6)  # + the dispatcher's queries
    assert expired.sqs_requests == pytest.approx(6 * (1 + cost.SQS_POLL_REQUESTS_PER_SEND) / 6)
    assert paid.sqs_requests == 0
    assert paid.secret_calls == pytest.approx(0.1)  # the cached reads are not calls
    assert paid.rest_requests == pytest.approx(2.0)  # a create and a webhook
    assert expired.rest_requests == pytest.approx(1.0)


def test_dollars_per_million_payments() -> None:
    usage = cost.Usage(
        read_units=2,
        write_units=10,
        invocations={"get": 4},
        rest_requests=4,
        ws_messages=6,
        ws_minutes=8,
        log_bytes=1000,
    )
    lines = cost.cost_per_million(usage, gb=0.5)
    assert lines["API Gateway REST requests"] == pytest.approx(4 * 3.50)
    assert lines["API Gateway WebSocket messages + minutes"] == pytest.approx(6 * 1.0 + 8 * 0.25)
    assert lines["Lambda requests"] == pytest.approx(4 * 0.20)
    seconds = 4 * cost.DURATION_MS["get"] / 1000 * 0.5
    assert lines["Lambda GB-seconds"] == pytest.approx(seconds * 0.0000133334 * 1e6)
    assert lines["DynamoDB writes (table + indexes)"] == pytest.approx(10 * 0.625)
    assert lines["DynamoDB reads"] == pytest.approx(2 * 0.125)
    assert lines["CloudWatch Logs"] == pytest.approx(1000 / 1e9 * 0.50 * 1e6)
    assert lines["X-Ray traces"] == pytest.approx((4 + 6) * cost.XRAY_SAMPLED * 5.0)
    assert lines["total"] == pytest.approx(sum(v for k, v in lines.items() if k != "total"))


def test_each_scenario_is_priced_from_its_outcome_and_the_mix_weighs_them() -> None:
    result = cost.table(SOAK, gb=0.5)
    assert set(result) == {*cost.CHECKOUT, cost.MIX_NAME}
    writes = "DynamoDB writes (table + indexes)"
    paid_writes = (40 / 4 + 0.5) * 0.625 + cost.CHECKOUT["2-minute payment"]["after"][
        "write_units"
    ] * 0.625
    assert result["2-minute payment"]["after"][writes] == pytest.approx(paid_writes)
    for scenario in cost.CHECKOUT:
        gets = cost.CHECKOUT[scenario]["before"]["gets"]
        sides = result[scenario]
        rest = sides["before"]["API Gateway REST requests"]
        rest -= sides["after"]["API Gateway REST requests"]
        assert rest == pytest.approx(gets * 3.50)
        assert sides["after"]["total"] < sides["before"]["total"]
    for side in result[cost.MIX_NAME]:
        mixed = sum(w * result[s][side]["total"] for s, w in cost.MIX.items())
        assert result[cost.MIX_NAME][side]["total"] == pytest.approx(mixed)
    assert "| **total** |" in cost.markdown(result)
    assert "| **total** |" in cost.writes_markdown({"writes": {"outcomes": {}}})


def test_a_create_or_a_webhook_is_priced_from_its_item_writes_on_the_payments_table() -> None:
    from bench.write_cost import writes_units

    records = soak_records()
    create = records[:3]  # a's idempotency record (another table), its create, its update
    webhook = records[5:7]  # the payment's change and the webhook item, one transaction
    assert writes_units(create, INDEXES) == {
        "table": 2,
        "indexes": {"by_ref": 1, "by_due": 1},
        "wcu": 4,
    }
    assert writes_units(webhook, INDEXES) == {
        "table": 4,
        "indexes": {"by_ref": 1, "by_due": 1},
        "wcu": 6,
    }
