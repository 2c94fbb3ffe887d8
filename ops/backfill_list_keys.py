"""Give payments stored before the list indexes existed their list keys, so that
`GET /v1/payments` and `/v1/payouts` find them (a one-off after upgrading; running it again
changes nothing).

A payment item written by this version carries `listed_at`, `reference_key` and `status_key`
(`paygate.table_items`); an older one is in none of the list indexes until its next status
change writes them. This reads the table once (a paginated Scan: an operator's tool, never a
request path) and sets the three attributes on every payment item without `listed_at`, each
write conditional on the status it read, so a payment that changes meanwhile keeps what the
ledger wrote. Old payments have no status history: their timeline starts with what happens
after the upgrade (their callbacks are listed as stored).

    python -m ops.backfill_list_keys --table <PaymentsTable>
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import boto3
from botocore.exceptions import ClientError

from paygate.domain import Kind, PaymentStatus
from paygate.table_items import (
    LISTED_AT,
    REFERENCE_KEY,
    STATUS_KEY,
    listed_at,
    reference_key,
    status_key,
)


@dataclass
class BackfillReport:
    scanned: int = 0
    updated: int = 0
    changed_meanwhile: int = 0


def _list_keys(item: dict[str, Any]) -> dict[str, str]:
    kind = Kind(item.get("kind", {}).get("S", Kind.PAYMENT.value))
    created = datetime.fromisoformat(item["created_at"]["S"].replace("Z", "+00:00"))
    status = PaymentStatus(item["status"]["S"])
    return {
        LISTED_AT: listed_at(created),
        REFERENCE_KEY: reference_key(kind, item["merchant_reference"]["S"]),
        STATUS_KEY: status_key(kind, status),
        "kind": kind.value,
    }


def backfill(table: str, client: Any = None) -> BackfillReport:
    """Set the list keys of every payment item of `table` that has none."""
    dynamodb = client or boto3.client("dynamodb")
    report = BackfillReport()
    pages = dynamodb.get_paginator("scan").paginate(
        TableName=table,
        FilterExpression="entity = :payment AND attribute_not_exists(#listed)",
        ExpressionAttributeNames={"#listed": LISTED_AT},
        ExpressionAttributeValues={":payment": {"S": "payment"}},
    )
    for page in pages:
        report.scanned += page.get("ScannedCount", 0)
        for item in page.get("Items", []):
            keys = _list_keys(item)
            names = {f"#{name}": name for name in keys} | {"#status": "status"}
            values = {f":{name}": {"S": value} for name, value in keys.items()}
            try:
                dynamodb.update_item(
                    TableName=table,
                    Key={"pk": item["pk"], "sk": item["sk"]},
                    UpdateExpression="SET " + ", ".join(f"#{n} = :{n}" for n in keys),
                    ConditionExpression=f"attribute_not_exists(#{LISTED_AT}) AND #status = :read",
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=values | {":read": item["status"]},
                )
                report.updated += 1
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
                report.changed_meanwhile += 1  # the ledger wrote it (with its keys) meanwhile
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--table", required=True, help="the PaymentsTable's name")
    report = backfill(parser.parse_args(argv).table)
    print(
        f"scanned {report.scanned} items, gave {report.updated} payments their list keys, "
        f"{report.changed_meanwhile} changed meanwhile (the ledger wrote their keys)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
