"""Give payments stored by an older version the keys of today's indexes, so that the list
routes (and the reconcile dispatcher's sharded schedule) find them: a step of a live table's
migration (docs/migration.md); running it again changes nothing.

A payment item written by this version carries `listed_at`, `reference_key`, `status_key`,
`created_shard` and `status_shard` (`paygate.table_items`) and, while it is still queried,
`reconcile_due = due#NN` (`paygate.shards.reconcile_due_partition`). An older item lacks some
of them, or holds the legacy `due`; it is in none of the new indexes until its next write.
This reads the table once (a parallel Scan, `--segments` Segment/TotalSegments: an operator's
tool, never a request path) and sets what is missing on every such payment item:
- each write is conditional on the status it read (and on `due` still being there), so a
  payment that changes meanwhile keeps what the ledger wrote; a rerun picks up what is left;
- writes are paced by a token bucket shared by the segments (`--rate` writes a second, so
  the backfill leaves the table's capacity to the traffic: one write is 1 WCU for an item
  under 1 KB, plus one per index it enters or moves in);
- with `--state FILE`, each segment's position is saved after every page: an interrupted
  run started again with the same file resumes where it stopped.
Old payments have no status history: their timeline starts with what happens after the
upgrade (their callbacks are listed as stored).

    python -m ops.backfill_list_keys --table <PaymentsTable> --segments 8 --rate 200 \\
        --state backfill.json
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from paygate.domain import Kind, PaymentStatus
from paygate.shards import LEGACY_RECONCILE_DUE, reconcile_due_partition
from paygate.table_items import (
    CREATED_SHARD_KEY,
    LISTED_AT,
    REFERENCE_KEY,
    STATUS_KEY,
    STATUS_SHARD_KEY,
    created_shard_key,
    listed_at,
    reference_key,
    status_key,
    status_shard_key,
)

LIST_KEYS = (LISTED_AT, REFERENCE_KEY, STATUS_KEY, CREATED_SHARD_KEY, STATUS_SHARD_KEY, "kind")
DUE = "reconcile_due"
DEFAULT_SEGMENTS = 4
DEFAULT_RATE = 100.0  # writes a second, every segment together


@dataclass
class BackfillReport:
    scanned: int = 0
    updated: int = 0
    due_moved: int = 0  # items moved from the legacy `due` partition to their shard
    changed_meanwhile: int = 0

    def add(self, other: BackfillReport) -> None:
        for field in fields(self):
            setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))


class TokenBucket:
    """At most `rate` takes a second on average, `burst` at once; shared by threads. The
    clock and the pause are given (tests pass a simulated clock)."""

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        pause: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate)
        self.clock = clock
        self.pause = pause
        self.tokens = self.burst
        self.at = clock()
        self.lock = threading.Lock()

    def take(self) -> None:
        with self.lock:  # one taker at a time: the pause holds the others back too
            now = self.clock()
            self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
            self.at = now
            if self.tokens < 1:
                wait = (1 - self.tokens) / self.rate
                self.pause(wait)
                self.tokens, self.at = 1.0, self.clock()
            self.tokens -= 1


class Positions:
    """Each segment's position (its Scan's LastEvaluatedKey; "done" when it ended), kept in
    `path` (if given) after every page."""

    def __init__(self, path: Path | None, segments: int, table: str) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.state: dict[str, Any] = {"table": table, "segments": segments, "positions": {}}
        if path and path.exists():
            saved = json.loads(path.read_text(encoding="utf-8"))
            if (saved.get("table"), saved.get("segments")) != (table, segments):
                raise SystemExit(
                    f"{path} is the state of another run ({saved.get('table')}, "
                    f"{saved.get('segments')} segments): use the same --table and --segments, "
                    "or another --state file"
                )
            self.state = saved

    def get(self, segment: int) -> Any:
        return self.state["positions"].get(str(segment))

    def set(self, segment: int, position: Any) -> None:
        with self.lock:
            self.state["positions"][str(segment)] = position
            if self.path:
                temporary = self.path.with_suffix(".tmp")
                temporary.write_text(json.dumps(self.state), encoding="utf-8")
                temporary.replace(self.path)


def _missing(item: dict[str, Any]) -> dict[str, str]:
    """The index attributes `item` lacks (or holds in a legacy form), as this version writes
    them (`paygate.table_items.payment_document`)."""
    payment_id = item["id"]["S"]
    kind = Kind(item.get("kind", {}).get("S", Kind.PAYMENT.value))
    created = datetime.fromisoformat(item["created_at"]["S"].replace("Z", "+00:00"))
    status = PaymentStatus(item["status"]["S"])
    wanted = {
        LISTED_AT: listed_at(created),
        REFERENCE_KEY: reference_key(kind, item["merchant_reference"]["S"]),
        STATUS_KEY: status_key(kind, status),
        CREATED_SHARD_KEY: created_shard_key(kind, payment_id),
        STATUS_SHARD_KEY: status_shard_key(kind, status, payment_id),
        "kind": kind.value,
    }
    missing = {name: value for name, value in wanted.items() if name not in item}
    if item.get(DUE, {}).get("S") == LEGACY_RECONCILE_DUE:
        missing[DUE] = reconcile_due_partition(payment_id)
    return missing


def _update(dynamodb: Any, table: str, item: dict[str, Any], bucket: TokenBucket) -> BackfillReport:
    report = BackfillReport()
    missing = _missing(item)
    if not missing:
        return report
    names = {f"#{name}": name for name in missing} | {"#status": "status"}
    values = {f":{name}": {"S": value} for name, value in missing.items()}
    condition = "#status = :read"
    if DUE in missing:  # still in the legacy partition (the ledger may have ended it)
        condition += f" AND #{DUE} = :legacy"
        values[":legacy"] = {"S": LEGACY_RECONCILE_DUE}
    bucket.take()
    try:
        dynamodb.update_item(
            TableName=table,
            Key={"pk": item["pk"], "sk": item["sk"]},
            UpdateExpression="SET " + ", ".join(f"#{name} = :{name}" for name in missing),
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values | {":read": item["status"]},
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        report.changed_meanwhile += 1  # the ledger wrote it meanwhile: a rerun sees it
        return report
    report.updated += 1
    report.due_moved += DUE in missing
    return report


def _segment(
    dynamodb: Any,
    table: str,
    segment: int,
    segments: int,
    bucket: TokenBucket,
    positions: Positions,
) -> BackfillReport:
    report = BackfillReport()
    start = positions.get(segment)
    if start == "done":
        return report
    conditions = [f"attribute_not_exists(#{name})" for name in LIST_KEYS]
    conditions.append(f"#{DUE} = :legacy")
    while True:
        page = dynamodb.scan(
            TableName=table,
            Segment=segment,
            TotalSegments=segments,
            FilterExpression=f"entity = :payment AND ({' OR '.join(conditions)})",
            ExpressionAttributeNames={f"#{name}": name for name in (*LIST_KEYS, DUE)},
            ExpressionAttributeValues={
                ":payment": {"S": "payment"},
                ":legacy": {"S": LEGACY_RECONCILE_DUE},
            },
            **({"ExclusiveStartKey": start} if start else {}),
        )
        report.scanned += page.get("ScannedCount", 0)
        for item in page.get("Items", []):
            report.add(_update(dynamodb, table, item, bucket))
        start = page.get("LastEvaluatedKey")
        positions.set(segment, start or "done")
        if not start:
            return report


def backfill(
    table: str,
    client: Any = None,
    *,
    segments: int = DEFAULT_SEGMENTS,
    rate: float = DEFAULT_RATE,
    state: Path | None = None,
    bucket: TokenBucket | None = None,
) -> BackfillReport:
    """Give every payment item of `table` the index attributes it lacks (see the module)."""
    dynamodb = client or boto3.client("dynamodb")
    bucket = bucket or TokenBucket(rate)
    positions = Positions(state, segments, table)
    report = BackfillReport()
    with ThreadPoolExecutor(max_workers=segments) as pool:
        runs = [
            pool.submit(_segment, dynamodb, table, segment, segments, bucket, positions)
            for segment in range(segments)
        ]
        for run in runs:
            report.add(run.result())
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--table", required=True, help="the PaymentsTable's name")
    parser.add_argument("--segments", type=int, default=DEFAULT_SEGMENTS, help="parallel scans")
    parser.add_argument("--rate", type=float, default=DEFAULT_RATE, help="writes a second")
    parser.add_argument("--state", type=Path, help="a file that lets a stopped run resume")
    arguments = parser.parse_args(argv)
    report = backfill(
        arguments.table, segments=arguments.segments, rate=arguments.rate, state=arguments.state
    )
    print(
        f"scanned {report.scanned} items, gave {report.updated} payments their index keys "
        f"({report.due_moved} moved from the legacy due partition to their shard), "
        f"{report.changed_meanwhile} changed meanwhile (run again to finish them)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
