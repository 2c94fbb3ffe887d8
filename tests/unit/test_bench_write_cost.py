"""bench/write_cost.py's arithmetic: DynamoDB item sizes and the write units of a transaction
with its GSI writes (no timing, no AWS)."""

from __future__ import annotations

from typing import Any

import pytest

from bench.write_cost import index_writes, item_size, number_size, value_size, write_cost


@pytest.mark.parametrize(
    ("text", "size"),
    [("0", 2), ("7", 2), ("50000", 2), ("12", 2), ("123", 3), ("1729153481", 6), ("-1.5", 2)],
)
def test_a_number_costs_one_byte_per_two_significant_digits_plus_one(text: str, size: int) -> None:
    assert number_size(text) == size


def test_strings_are_their_utf8_bytes_and_names_count() -> None:
    assert value_size({"S": "đ"}) == 2
    assert item_size({"pk": {"S": "PAYMENT#1"}, "ok": {"BOOL": True}}) == 2 + 9 + 2 + 1


def test_binary_is_its_byte_count_whether_raw_or_base64_as_in_dynamodb_json() -> None:
    assert value_size({"B": b"\x00\xff\x10"}) == 3
    assert value_size({"B": "AP8Q"}) == 3  # the same three bytes, as DynamoDB JSON has them
    assert value_size({"BS": ["AP8Q", b"\x01"]}) == 4


def test_lists_and_maps_cost_three_bytes_and_one_per_element() -> None:
    assert value_size({"L": []}) == 3
    assert value_size({"M": {}}) == 3
    assert value_size({"L": [{"S": "ab"}, {"NULL": True}]}) == 3 + (1 + 2) + (1 + 1)
    assert value_size({"M": {"to": {"S": "failed"}}}) == 3 + 1 + 2 + 6


def item(**attributes: str) -> dict[str, Any]:
    return {name: {"S": value} for name, value in attributes.items()}


@pytest.mark.parametrize(
    ("before", "after", "write"),
    [
        (None, item(k="a"), ("put", 1)),
        (item(k="a"), item(k="a", x="changed"), ("update", 1)),
        (item(k="a"), item(k="b"), ("delete + put", 2)),
        (item(k="a"), item(x="y"), ("delete", 1)),
        (item(x="y"), item(x="z"), ("none", 0)),
    ],
)
def test_what_a_write_does_to_a_gsi(
    before: dict[str, Any] | None, after: dict[str, Any], write: tuple[str, int]
) -> None:
    assert index_writes(["k"], before, after) == write


def test_an_index_entry_over_one_kb_costs_a_unit_per_started_kb() -> None:
    assert index_writes(["k"], None, item(k="a", big="x" * 1100)) == ("put", 2)


def test_a_transaction_costs_two_units_per_started_kb_of_each_item_plus_its_gsi_writes() -> None:
    case = {
        "calls": {"dynamodb:TransactWriteItems": 1},
        "status": ["pending", "succeeded"],
        "payment_before": item(pk="p", status_key="payment#pending", due="due", pad="x" * 1000),
        "payment_after": item(pk="p", status_key="payment#succeeded"),
        "webhook": item(pk="w", payment_id="p"),
    }
    indexes = {"by_status": ["status_key"], "by_due": ["due"], "by_payment": ["payment_id"]}
    cost = write_cost(indexes, case)
    # The payment is charged on its larger size (before: just over 1 KB).
    assert cost["table_wcu"] == {"payment": 4, "webhook": 2}
    assert cost["gsi"] == {
        "by_status (payment)": {"write": "delete + put", "wcu": 3},
        "by_due (payment)": {"write": "delete", "wcu": 2},
        "by_payment (webhook)": {"write": "put", "wcu": 1},
    }
    assert cost["wcu"] == 4 + 2 + 3 + 2 + 1


INCLUDE = {"type": "INCLUDE", "attributes": ["provider"]}


@pytest.mark.parametrize(
    ("before", "after", "write"),
    [
        (item(pk="p", k="a", x="1"), item(pk="p", k="a", x="2"), ("none", 0)),  # not projected
        (item(pk="p", k="a", provider="x"), item(pk="p", k="a", provider="y"), ("update", 1)),
        (item(pk="p", k="a", big="x" * 1100), item(pk="p", k="b", big="x" * 1100),
         ("delete + put", 2)),  # the entry, not the item: under 1 KB each
    ],
)  # fmt: skip
def test_a_narrow_projection_writes_only_when_its_key_or_a_projected_attribute_changes(
    before: dict[str, Any], after: dict[str, Any], write: tuple[str, int]
) -> None:
    assert index_writes(["k"], before, after, INCLUDE) == write
