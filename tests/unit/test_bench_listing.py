"""bench/listing.py's seeded table and its rules (one round of partition Queries and one
BatchGetItem per page; the same bound on entries read at every table size), without AWS and
without timing."""

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


def page(
    scanned: int, count: int, limits: int = 21, keys: int = 20, **calls: int
) -> dict[str, Any]:
    """A page whose Queries read `scanned` entries in all (kept `count`), `limits` at most."""
    named = Counter({f"dynamodb:{k}": v for k, v in calls.items()})
    return {
        "calls": dict(named),
        "queries": [{"scanned": scanned, "count": count}],
        "batch_keys": keys,
        "limits": limits,
    }


def run(**cases: list[dict[str, Any]]) -> dict[str, Any]:
    return {"cases": {name: page_reads(pages) for name, pages in cases.items()}}


def test_one_round_of_queries_and_one_batch_get_with_the_same_bound_pass() -> None:
    small = run(
        first=[page(60, 60, 84, Query=4, BatchGetItem=1)] * 3,  # partitions ran out
        provider=[page(200, 36, 800, Query=4, BatchGetItem=1)],
    )
    large = run(
        first=[page(84, 84, 84, Query=4, BatchGetItem=1)],
        provider=[page(800, 35, 800, Query=4, BatchGetItem=1)],
    )
    assert problems({"1000": small, "10000": large}) == []


def test_a_scan_a_second_batch_get_or_too_many_queries_are_reported() -> None:
    small = run(first=[page(21, 21, Query=1), page(21, 21, Query=1, Scan=1)])
    large = run(first=[page(21, 21, Query=1, BatchGetItem=2), page(21, 21, Query=9)])
    found = problems({"1000": small, "10000": large})
    assert len(found) == 3
    assert "Scan" in found[0] and "'dynamodb:BatchGetItem': 2" in found[1]
    assert "'dynamodb:Query': 9" in found[2]


def test_a_read_bound_that_grows_with_the_table_is_reported() -> None:
    found = problems({"1000": run(first=[page(21, 21, 21, Query=1)]),
                      "10000": run(first=[page(210, 21, 210, Query=1)])})  # fmt: skip
    assert found == [
        "first: entries a page may read differ by table size {'1000': [21], '10000': [210]}"
    ]


def test_more_items_than_a_page_read_by_key_are_reported() -> None:
    found = problems({"1000": run(first=[page(21, 21, keys=101, Query=1, BatchGetItem=1)])})
    assert found == ["first at 1000 rows: items read [101]"]
