"""bench/listing.py's seeded table and its two rules (one Query per page; the same items read
per page at every table size), without AWS and without timing."""

from __future__ import annotations

from collections import Counter
from typing import Any

from bench.listing import REFERENCE, page_reads, problems, seed_payments


def test_the_seeded_payments_are_newest_first_varied_and_reproducible() -> None:
    payments = seed_payments(1_000)
    again = seed_payments(1_000)
    assert [(p.created_at, p.status, p.provider) for p in payments] == [
        (p.created_at, p.status, p.provider) for p in again
    ]
    created = [p.created_at for p in payments]
    assert created == sorted(created, reverse=True)
    assert (created[0] - created[-1]).days >= 0 and len(set(created)) == len(created)
    assert len({p.status for p in payments}) == 8 and len({p.provider for p in payments}) == 4
    assert sum(p.merchant_reference == REFERENCE for p in payments) == 3
    assert all(p.history[0].to == "created" and p.version == len(p.history) for p in payments)
    assert all(p.id.startswith("pay_" + p.created_at.strftime("%Y%m%d%H%M%S")) for p in payments)


def page(scanned: int, count: int, **calls: int) -> dict[str, Any]:
    named = Counter({f"dynamodb:{k}": v for k, v in calls.items()})
    return {"calls": dict(named), "queries": [{"scanned": scanned, "count": count}]}


def run(**cases: list[dict[str, Any]]) -> dict[str, Any]:
    return {"cases": {name: page_reads(pages) for name, pages in cases.items()}}


def test_pages_of_one_query_reading_the_same_items_at_both_sizes_pass() -> None:
    small = run(first=[page(21, 21, Query=1)] * 3, provider=[page(200, 36, Query=1)])
    large = run(first=[page(21, 21, Query=1)], provider=[page(200, 35, Query=1)])
    assert problems({"1000": small, "10000": large}) == []


def test_a_scan_or_a_second_call_is_reported() -> None:
    small = run(first=[page(21, 21, Query=1), page(21, 21, Query=1, Scan=1)])
    large = run(first=[page(21, 21, Query=2)])
    found = problems({"1000": small, "10000": large})
    assert len(found) == 2
    assert "Scan" in found[0] and "'dynamodb:Query': 2" in found[1]


def test_items_read_that_grow_with_the_table_are_reported() -> None:
    found = problems({"1000": run(first=[page(21, 21, Query=1)]),
                      "10000": run(first=[page(210, 21, Query=1)])})  # fmt: skip
    assert found == [
        "first: items read per page differ by table size {'1000': [21], '10000': [210]}"
    ]
