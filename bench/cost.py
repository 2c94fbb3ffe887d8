"""What the gateway costs on AWS per million payments, from the AWS calls the local soak
recorded (`make soak-local` writes .paygate/soak-local.json) and the checkout's status
traffic, before (a `GET /v1/payments/{id}` every second) and after (the WebSocket push with
its slow fallback poll: request counts from docs/performance.md, "Status without polling",
computed there, not measured).

`python -m bench.cost [soak.json]` prints the table docs/performance.md shows ("What it
costs"). Every unit price is in `PRICES` (us-east-1, on demand); every assumption that is
not a count from the soak is a named constant below.

Per payment outcome: the soak records every item write with the item before and after it
(local/aws/item_writes.py) and `bench.write_cost.soak_writes` prices each by DynamoDB's rules
(table and every index entry, the template's final indexes), summed per outcome (`paid`,
`expired`). A 2-minute payment is priced from the paid payments' writes, a 30-minute tab
from the expired ones', and `MIX` weighs the two. The other lines are the soak's calls per
function, shared out by what drives each function (`DRIVERS`: creates by payment, webhooks
by stored notification, publishes by status change, the reconciler by status query).

Units:
- DynamoDB reads: a strongly consistent GetItem or a Query of at most 4 KB is 1 read unit.
  Writes: measured per item write, as above.
- SNS: one request per Publish or PublishBatch (payloads under 64 KB). SQS: one request per
  SendMessageBatch plus `SQS_POLL_REQUESTS_PER_SEND` for the event source mapping's receive
  and delete. Secrets Manager: only the reads that reached the service (the functions cache
  a secret for 5 minutes).
- Lambda: one invocation per API request, per webhook (one TransactWriteItems each), per SNS
  PublishBatch (one stream batch) and per SQS batch sent to a reconcile worker (the
  dispatcher's once-a-minute schedule is a fixed cost, about 43,200 invocations a month,
  not a cost per payment); billed
  duration from `DURATION_MS` (assumed: the bench measures handler CPU, not a cloud call's
  latency) at the template's memory size, arm64.
- API Gateway: one REST request per create, webhook and status GET; WebSocket messages and
  connection minutes after.
- CloudWatch Logs: the bytes the soak's functions logged per payment, plus one Lambda
  `REPORT` line per invocation (`REPORT_LINE_BYTES`). X-Ray (Tracing: Active on the
  functions and the stage): `XRAY_SAMPLED` of the requests traced (the default rule's 5 %).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import ROOT

PRICES_USED_ON = "2026-12-07"
PRICES: dict[str, float] = {  # USD, us-east-1, on demand, as published by AWS
    "lambda_request": 0.20 / 1e6,
    "lambda_gb_second_arm64": 0.0000133334,
    "dynamodb_write_unit": 0.625 / 1e6,  # on demand, since the November 2024 reduction
    "dynamodb_read_unit": 0.125 / 1e6,
    "sns_request": 0.50 / 1e6,
    "sqs_request": 0.40 / 1e6,
    "secrets_manager_call": 0.05 / 1e4,
    "apigw_rest_request": 3.50 / 1e6,  # first 333 million a month
    "apigw_websocket_message": 1.00 / 1e6,
    "apigw_websocket_connection_minute": 0.25 / 1e6,
    "logs_ingested_gb": 0.50,
    "xray_trace": 5.00 / 1e6,
}
TARGET_PER_MILLION = 50.0
# Which outcome's measured writes and calls price each checkout scenario, and the mix of the
# two assumed for a merchant's day (not measured: three shoppers in four pay within about
# 2 minutes, one leaves the tab open until the payment's window ends).
SCENARIOS = {"2-minute payment": "paid", "30-minute tab": "expired"}
MIX = {"2-minute payment": 0.75, "30-minute tab": 0.25}
MIX_NAME = "mix (75 % paid, 25 % abandoned)"
# What a function's calls per payment follow, counted per outcome by `soak_writes`.
DRIVERS = {"create": "payments", "webhook": "webhooks", "publish": "changes",
           "reconcile": "queries", "dispatch": "queries", "other": "payments"}  # fmt: skip
SQS_POLL_REQUESTS_PER_SEND = 2
REPORT_LINE_BYTES = 300
XRAY_SAMPLED = 0.05
DURATION_MS = {  # assumed billed duration per invocation
    "create": 400,  # one provider API call
    "webhook": 40,
    "get": 20,
    "publish": 60,
    "reconcile": 1000,  # a batch of up to 10 provider status queries
    "websocket": 100,  # as docs/performance.md's push section assumes
    "other": 50,
}
# Status traffic per payment from docs/performance.md ("Status without polling"), computed
# from the checkout's timers: a payment paid after 2 minutes, a tab left for 30 minutes.
CHECKOUT: dict[str, dict[str, dict[str, float]]] = {
    "2-minute payment": {
        "before": {"gets": 120},
        "after": {"gets": 0, "ws_messages": 5, "ws_minutes": 2, "ws_invocations": 3,
                  "write_units": 4, "read_units": 1 + 3},
        "after, push unreachable": {"gets": 3, "read_units": 3},
    },
    "30-minute tab": {
        "before": {"gets": 1800},
        "after": {"gets": 0, "ws_messages": 13, "ws_minutes": 30, "ws_invocations": 9,
                  "write_units": 12, "read_units": 3 + 3},
        "after, push unreachable": {"gets": 33, "read_units": 3},
    },
}  # fmt: skip
# read_units after: the status GetItems plus the publisher's Query of the payment's
# connections per status change (3 changes: created, requires_action, final); with the push
# unreachable, the fallback poll's GETs (each a GetItem) and the same Queries.


@dataclass(frozen=True)
class Usage:
    """Billable units per payment."""

    read_units: float = 0.0
    write_units: float = 0.0
    sns_requests: float = 0.0
    sqs_requests: float = 0.0
    secret_calls: float = 0.0
    invocations: dict[str, float] | None = None  # kind -> invocations
    rest_requests: float = 0.0
    ws_messages: float = 0.0
    ws_minutes: float = 0.0
    log_bytes: float = 0.0

    def scaled(self, factor: float) -> Usage:
        return Usage(
            read_units=self.read_units * factor,
            write_units=self.write_units * factor,
            sns_requests=self.sns_requests * factor,
            sqs_requests=self.sqs_requests * factor,
            secret_calls=self.secret_calls * factor,
            invocations={k: v * factor for k, v in (self.invocations or {}).items()},
            rest_requests=self.rest_requests * factor,
            ws_messages=self.ws_messages * factor,
            ws_minutes=self.ws_minutes * factor,
            log_bytes=self.log_bytes * factor,
        )

    def plus(self, other: Usage) -> Usage:
        kinds = dict(self.invocations or {})
        for kind, count in (other.invocations or {}).items():
            kinds[kind] = kinds.get(kind, 0.0) + count
        return Usage(
            read_units=self.read_units + other.read_units,
            write_units=self.write_units + other.write_units,
            sns_requests=self.sns_requests + other.sns_requests,
            sqs_requests=self.sqs_requests + other.sqs_requests,
            secret_calls=self.secret_calls + other.secret_calls,
            invocations=kinds,
            rest_requests=self.rest_requests + other.rest_requests,
            ws_messages=self.ws_messages + other.ws_messages,
            ws_minutes=self.ws_minutes + other.ws_minutes,
            log_bytes=self.log_bytes + other.log_bytes,
        )


def function_kind(function: str) -> str:
    """Which `DURATION_MS` a function's invocations take."""
    for marker, kind in (("CreatePayment", "create"), ("Webhook", "webhook"),
                         ("GetPayment", "get"), ("PublishStatus", "publish"),
                         ("ReconcileDispatch", "dispatch"), ("Reconcile", "reconcile"),
                         ("Ws", "websocket")):  # fmt: skip
        if marker in function:
            return kind
    return "other"


def read_units_of_call(call: str, items: int) -> float:
    """Read units of one DynamoDB call reading `items` items (writes are measured per item
    write: `bench.write_cost.soak_writes`)."""
    operation = call.split(":", 1)[1]
    if operation in ("GetItem", "Query"):
        return 1.0
    if operation == "BatchGetItem":
        return float(max(1, items))
    return 0.0


def _share(soak: dict[str, Any], outcome: str, driver: str) -> float:
    """The part of a function's calls that one payment of `outcome` takes: its outcome's
    count of `driver` per payment over the soak's total count of it."""
    outcomes = soak["writes"]["outcomes"]
    mine = outcomes[outcome]
    total = float(sum(summary[driver] for summary in outcomes.values()))
    if driver == "payments" or total == 0:
        return 1.0 / float(soak["payments"])
    return float(mine[driver]) / float(mine["payments"]) / total


def measured_usage(soak: dict[str, Any], outcome: str) -> Usage:
    """Units per payment of `outcome` from the soak: its measured write units (plus its share
    of the writes no payment owns) and its share of each function's calls (`DRIVERS`),
    without the status GETs (the checkout's part: `CHECKOUT`)."""
    writes = soak["writes"]
    mine = writes["outcomes"][outcome]
    write_units = mine["wcu"] / mine["payments"] + writes["unattributed"]["wcu"] / soak["payments"]
    reads = sns = sqs = secrets = 0.0
    invocations: dict[str, float] = {}
    sent_batches = 0.0
    for function, calls in soak["aws_calls"].items():
        kind = function_kind(function)
        if kind == "get":
            continue
        share = _share(soak, outcome, DRIVERS.get(kind, "payments"))
        if kind == "dispatch":
            sends = calls.get("sqs:SendMessageBatch", 0) + calls.get("sqs:SendMessage", 0)
            sent_batches += sends * share
        items_of = soak.get("transaction_items", {}).get(function, {})
        for call, count in calls.items():
            if call.startswith("dynamodb:"):
                if call in items_of:  # the items read by all those calls together
                    reads += read_units_of_call(call, items_of[call]) * share
                else:
                    reads += count * read_units_of_call(call, 1) * share
            elif call.startswith("sns:"):
                sns += count * share
            elif call.startswith("sqs:Send"):
                sqs += count * (1 + SQS_POLL_REQUESTS_PER_SEND) * share
            elif call == "secretsmanager:GetSecretValue":
                secrets += count * share
        invocations[kind] = invocations.get(kind, 0.0) + _invocations(kind, calls) * share
    # A worker invocation per batch the dispatcher sent (at most: batches of 10 may merge);
    # the dispatcher itself runs once a minute whatever the load: a fixed cost, not counted.
    invocations["reconcile"] = sent_batches
    invocations.pop("dispatch", None)
    rest = invocations.get("create", 0.0) + invocations.get("webhook", 0.0)
    log_bytes = soak.get("log_bytes", 0) / soak["payments"]  # the functions' own lines
    log_bytes += REPORT_LINE_BYTES * sum(invocations.values())
    return Usage(
        read_units=reads,
        write_units=write_units,
        sns_requests=sns,
        sqs_requests=sqs,
        secret_calls=secrets,
        invocations=invocations,
        rest_requests=rest,
        log_bytes=log_bytes,
    )


def _invocations(kind: str, calls: dict[str, int]) -> float:
    if kind in ("create", "webhook"):  # one transaction each
        return float(calls.get("dynamodb:TransactWriteItems", 0))
    if kind == "publish":  # one PublishBatch per stream batch
        return float(calls.get("sns:PublishBatch", 0) + calls.get("sns:Publish", 0))
    if kind in ("reconcile", "dispatch"):
        return 0.0  # counted from the dispatcher's batches
    return float(max(calls.values(), default=0))  # at least its most frequent call


def checkout_usage(traffic: dict[str, float]) -> Usage:
    gets = traffic.get("gets", 0.0)
    ws = traffic.get("ws_invocations", 0.0)
    invocations = {"get": gets, "websocket": ws}
    return Usage(
        read_units=gets + traffic.get("read_units", 0.0),
        write_units=traffic.get("write_units", 0.0),
        invocations=invocations,
        rest_requests=gets,
        ws_messages=traffic.get("ws_messages", 0.0),
        ws_minutes=traffic.get("ws_minutes", 0.0),
        log_bytes=REPORT_LINE_BYTES * (gets + ws),
    )


def memory_gb() -> float:
    """The functions' memory size (the template's Globals), in GB."""
    from local.aws.template import load_template

    return float(load_template().document["Globals"]["Function"]["MemorySize"]) / 1024


def cost_per_million(usage: Usage, gb: float) -> dict[str, float]:
    """USD per million payments, per line."""
    invocations = usage.invocations or {}
    total_invocations = sum(invocations.values())
    gb_seconds = sum(count * DURATION_MS[kind] / 1000 * gb for kind, count in invocations.items())
    lines = {
        "API Gateway REST requests": usage.rest_requests * PRICES["apigw_rest_request"],
        "API Gateway WebSocket messages + minutes": (
            usage.ws_messages * PRICES["apigw_websocket_message"]
            + usage.ws_minutes * PRICES["apigw_websocket_connection_minute"]
        ),
        "Lambda requests": total_invocations * PRICES["lambda_request"],
        "Lambda GB-seconds": gb_seconds * PRICES["lambda_gb_second_arm64"],
        "DynamoDB writes (table + indexes)": usage.write_units * PRICES["dynamodb_write_unit"],
        "DynamoDB reads": usage.read_units * PRICES["dynamodb_read_unit"],
        "SNS": usage.sns_requests * PRICES["sns_request"],
        "SQS": usage.sqs_requests * PRICES["sqs_request"],
        "Secrets Manager": usage.secret_calls * PRICES["secrets_manager_call"],
        "CloudWatch Logs": usage.log_bytes / 1e9 * PRICES["logs_ingested_gb"],
        "X-Ray traces": (usage.rest_requests + usage.ws_messages)
        * XRAY_SAMPLED
        * PRICES["xray_trace"],
    }
    per_million = {name: value * 1e6 for name, value in lines.items()}
    per_million["total"] = sum(per_million.values())
    return per_million


def table(soak: dict[str, Any], gb: float) -> dict[str, dict[str, dict[str, float]]]:
    """scenario -> before/after -> line -> USD per million payments: each scenario priced
    from its own outcome's measured usage (`SCENARIOS`), and `MIX_NAME` weighing them."""
    usages = {
        scenario: {
            when: measured_usage(soak, SCENARIOS[scenario]).plus(checkout_usage(traffic))
            for when, traffic in sides.items()
        }
        for scenario, sides in CHECKOUT.items()
    }
    mixed: dict[str, Usage] = {}
    for scenario, weight in MIX.items():
        for when, usage in usages[scenario].items():
            part = usage.scaled(weight)
            mixed[when] = mixed[when].plus(part) if when in mixed else part
    usages[MIX_NAME] = mixed
    return {
        scenario: {when: cost_per_million(usage, gb) for when, usage in sides.items()}
        for scenario, sides in usages.items()
    }


def writes_markdown(soak: dict[str, Any]) -> str:
    """Write units per payment of each outcome, by kind of write: the table's and each
    index's."""
    outcomes = soak["writes"]["outcomes"]
    names = [name for name in SCENARIOS.values() if name in outcomes]
    rows = [
        "| write (per payment) | "
        + " | ".join(f"{n}: writes, WCU (indexes)" for n in names)
        + " |",
        "|---" * (1 + len(names)) + "|",
    ]
    kinds = sorted({kind for n in names for kind in outcomes[n]["by_kind"]})
    for kind in kinds:
        cells = []
        for name in names:
            summary = outcomes[name]
            row = summary["by_kind"].get(kind)
            if row is None:
                cells.append("—")
                continue
            per = summary["payments"]
            index = sum(row["indexes"].values())
            detail = ", ".join(f"{i} {v / per:.2f}" for i, v in sorted(row["indexes"].items()))
            cells.append(
                f"{row['writes'] / per:.2f}, {(row['table'] + index) / per:.2f} "
                f"({detail or 'none'})"
            )
        rows.append(f"| {kind} | " + " | ".join(cells) + " |")
    totals = [
        f"**{outcomes[n]['writes'] / outcomes[n]['payments']:.2f}, "
        f"{outcomes[n]['wcu'] / outcomes[n]['payments']:.2f}**"
        for n in names
    ]
    rows.append("| **total** | " + " | ".join(totals) + " |")
    counts = ", ".join(f"{n} {outcomes[n]['payments']}" for n in names)
    return "\n".join(rows) + f"\n\npayments: {counts}"


def markdown(result: dict[str, dict[str, dict[str, float]]]) -> str:
    """One row per line of the bill, one column per scenario and side."""
    columns = [(scenario, side) for scenario in result for side in result[scenario]]
    header = "| USD per million payments | " + " | ".join(f"{s}, {w}" for s, w in columns)
    rows = [header + " |", "|---" * (1 + len(columns)) + "|"]
    for line in next(iter(result.values()))["before"]:
        cells = [f"{result[s][w][line]:,.2f}" for s, w in columns]
        name = f"**{line}**" if line == "total" else line
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    path = Path(arguments[0]) if arguments else ROOT / ".paygate" / "soak-local.json"
    soak = json.loads(path.read_text(encoding="utf-8"))
    result = table(soak, memory_gb())
    print(markdown(result))
    print()
    print(writes_markdown(soak))
    worst = max(total["total"] for name, sides in result.items() if name != MIX_NAME
                for side, total in sides.items() if side != "before")  # fmt: skip
    verdict = "within" if worst <= TARGET_PER_MILLION else "over"
    print(f"\nafter, the dearest scenario: ${worst:,.2f} per million payments "
          f"({verdict} the ${TARGET_PER_MILLION:.0f} target)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
