"""Write sharding: spreading one logical partition (every open payment, every payment of a day)
over several DynamoDB partition key values, so that no value takes more than its share of
DynamoDB's 1,000 write units and 3,000 read units per second per partition key.

A shard is a stable function of the item's id, so an item stays in its shard for life and an
update that leaves the id alone never moves it."""

from __future__ import annotations

import hashlib

# Shards of the reconcile schedule's index (`by_reconcile_due`); its partition values are
# `due#00` … `due#NN`. Items written before sharding hold `due`, drained as a legacy shard.
RECONCILE_DUE_SHARDS = 16
LEGACY_RECONCILE_DUE = "due"


def shard_of(item_id: str, shards: int) -> int:
    """The shard (0 … shards - 1) of `item_id`: the first 8 bytes of its SHA-256, modulo."""
    if shards < 1:
        raise ValueError("shards must be at least 1")
    digest = hashlib.sha256(item_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") % shards


def reconcile_due_partition(payment_id: str) -> str:
    """The `reconcile_due` value (the schedule index's partition key) of a payment or payout."""
    return f"due#{shard_of(payment_id, RECONCILE_DUE_SHARDS):02d}"


def reconcile_due_partitions() -> list[str]:
    """Every partition the dispatcher reads: the shards, then the legacy value until drained."""
    return [f"due#{shard:02d}" for shard in range(RECONCILE_DUE_SHARDS)] + [LEGACY_RECONCILE_DUE]
