"""List pages over a table of 1,000 and of 10,000 payments (moto, in-process): the real
`GET /v1/payments` handler with API Gateway proxy events, beside the real
`GET /v1/payments/{id}` handler (one GetItem) timed in the same rounds.

Per page, a botocore event hook records every AWS call and the Query's `ScannedCount` and
`Count` (the items DynamoDB read, and returned after the FilterExpression). `problems` lists
every page that made any DynamoDB call other than exactly one `Query`, and every case whose
pages read a different number of items at 1,000 rows than at 10,000: `make bench` writes the
results and then exits non-zero when there is one.

moto answers a Query on a GSI by walking every item of the table in Python (and sorting the
partition), so the wall time here grows with the table although DynamoDB's does not: the
table-size-independent figure is the items read per page; the times are what our handler
costs around one call, with moto's own cost in it."""

from __future__ import annotations

import gc
import json
import os
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import botocore.handlers

from bench.common import summary
from paygate.listing import MAX_LIMIT
from paygate.table_items import STATUS_SHARDS

MAX_PARTITIONS = STATUS_SHARDS  # the most partitions one list index has

SIZES = (1_000, 10_000)
# The deadline each page's handler starts with: Lambda's largest `Timeout`. In-process moto
# walks the whole table per Query, so a 10,000-item page on a loaded machine can outlast the
# function's own 25 s without DynamoDB ever doing so; what is measured is the calls and items.
HANDLER_DEADLINE_SECONDS = 900.0
ROUNDS = {1_000: 101, 10_000: 101}  # timed rounds: each round times every case once
WARMUP_ROUNDS = 3
DEEP_PAGES = 40  # the deep page: the 41st page of 20, reached by following the cursors
REFERENCE = "order-1001"  # three payments (a first try and two retries) in both tables
REFERENCE_AT = (10, 400, 900)  # their positions, newest first: all within the newest 1,000
NEWEST = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)

# (provider, method) as the create routes pair them.
PRODUCTS = (
    ("paypro", "vietqr"),
    ("paypro", "bank_transfer"),
    ("smartglocal", "ewallet"),
    ("ecommpay", "napas_atm"),
    ("ecommpay", "nganluong_wallet"),
    ("monetix", "bank_transfer"),
)
# Final or waiting statuses in roughly the shares a live table holds them.
STATUSES = (
    ("succeeded", 60),
    ("failed", 12),
    ("expired", 10),
    ("requires_action", 8),
    ("pending", 4),
    ("cancelled", 3),
    ("needs_review", 2),
    ("processing", 1),
)

CASES: dict[str, dict[str, str]] = {
    "first page, limit 20": {},
    "first page, limit 100": {"limit": "100"},
    f"deep page (page {DEEP_PAGES + 1} of 20)": {},
    "merchant_reference filter": {"merchant_reference": REFERENCE},
    "status filter (failed)": {"status": "failed"},
    "provider filter (monetix: FilterExpression)": {"provider": "monetix"},
}
DEEP = f"deep page (page {DEEP_PAGES + 1} of 20)"


@dataclass
class Recorder:
    """Every AWS call of the process while `on`: per page the calls, each Query's `Limit`,
    `ScannedCount` and `Count`, the keys of its BatchGetItem, and how long at least one call
    was in flight (a page's partition Queries run at once, on several threads)."""

    on: bool = False
    calls: Counter[str] = field(default_factory=Counter)
    queries: list[dict[str, Any]] = field(default_factory=list)
    batch_keys: int = 0
    limits: int = 0
    in_call_ns: int = 0
    _in_flight: int = 0
    _started: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        self.calls.clear()
        self.queries.clear()
        self.batch_keys = 0
        self.limits = 0
        self.in_call_ns = 0

    def request(self, model: Any, params: Any = None, **_: Any) -> None:
        """A DynamoDB call's parameters, as the caller gave them."""
        if not self.on:
            return
        with self._lock:
            if model.name == "Query":
                self.limits += int(params.get("Limit", 0))
            if model.name == "BatchGetItem":
                self.batch_keys += sum(len(t["Keys"]) for t in params["RequestItems"].values())

    def before(self, model: Any, **_: Any) -> None:
        if not self.on:
            return
        with self._lock:
            self.calls[f"{model.service_model.service_name}:{model.name}"] += 1
            if self._in_flight == 0:
                self._started = time.perf_counter_ns()
            self._in_flight += 1

    def after(self, model: Any, parsed: Any = None, **_: Any) -> None:
        if not self.on:
            return
        with self._lock:
            self._in_flight -= 1
            if self._in_flight == 0:
                self.in_call_ns += time.perf_counter_ns() - self._started
            if model.service_model.service_name == "dynamodb" and model.name == "Query":
                answer = parsed or {}
                self.queries.append(
                    {"scanned": answer.get("ScannedCount"), "count": answer.get("Count")}
                )


RECORDER = Recorder()
# Every botocore session created from now on (boto3's default one the handlers use) reports.
botocore.handlers.BUILTIN_HANDLERS.append(("before-parameter-build.dynamodb", RECORDER.request))
botocore.handlers.BUILTIN_HANDLERS.append(("before-call", RECORDER.before))
botocore.handlers.BUILTIN_HANDLERS.append(("after-call", RECORDER.after))


@dataclass(frozen=True)
class _Order:
    """What `payment_for` reads from a merchant's create request."""

    method: Any
    amount: int
    merchant_reference: str
    description: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


def _weighted_statuses() -> list[str]:
    return [status for status, share in STATUSES for _ in range(share)]


def seed_payments(count: int) -> list[Any]:
    """`count` payments, newest first, built as `paygate.domain.payment_for` builds them (its
    id and creation time from the clock, set to each payment's creation), then moved to a
    status the way their writes would have left them (status, history, provider reference,
    failure, amount received, next action). Reproducible but for the ids' random part; the
    smaller table holds the newest of the same payments."""
    from paygate import clock
    from paygate.domain import (
        Cause,
        Failure,
        Method,
        PaymentStatus,
        Provider,
        QrAction,
        StatusChange,
        payment_for,
    )

    chooser = random.Random(15)  # reproducible data
    statuses = _weighted_statuses()
    payments = []
    moment = NEWEST
    try:
        for index in range(count):
            moment -= timedelta(seconds=chooser.randint(20, 100))  # 10,000 span about 7 days
            provider, method = PRODUCTS[chooser.randrange(len(PRODUCTS))]
            status = PaymentStatus(statuses[chooser.randrange(len(statuses))])
            reference = REFERENCE if index in REFERENCE_AT else f"order-{500_000 - index}"
            amount = chooser.choice((20_000, 50_000, 150_000, 300_000, 1_250_000))
            at = moment
            clock.use(lambda at=at: at)  # type: ignore[misc]
            payment = payment_for(
                Provider(provider),
                _Order(Method(method), amount, reference, metadata={"shop": "bench"}),
            )
            later = moment + timedelta(seconds=chooser.randint(2, 600))
            history = list(payment.history)
            fields: dict[str, Any] = {"provider_reference": f"ref{chooser.getrandbits(48):x}"}
            if status is not PaymentStatus.CREATED:
                waiting = PaymentStatus.REQUIRES_ACTION
                history.append(StatusChange(to=waiting, at=moment, cause=Cause.CREATE))
                if status is not waiting:
                    cause = (
                        Cause.RECONCILIATION if status is PaymentStatus.EXPIRED else Cause.WEBHOOK
                    )
                    code = "0000" if status is PaymentStatus.SUCCEEDED else None
                    history.append(
                        StatusChange(to=status, at=later, cause=cause, provider_code=code)
                    )
            if status is PaymentStatus.SUCCEEDED:
                fields["amount_received"] = amount
            elif status in (PaymentStatus.FAILED, PaymentStatus.NEEDS_REVIEW):
                code = "declined" if status is PaymentStatus.FAILED else "amount_mismatch"
                fields["failure"] = Failure(code=code, message="bench", provider_code="00029")
            elif status is PaymentStatus.REQUIRES_ACTION:
                link = f"https://pay.example/{payment.id}"
                fields["next_action"] = QrAction(payment_link=link, qr_payload="000201" * 20)
            version = len(history)
            ended = later if len(history) > 2 else moment
            payments.append(
                payment.model_copy(
                    update={
                        **fields,
                        "status": status,
                        "history": history,
                        "version": version,
                        "updated_at": ended,
                    }
                )
            )
    finally:
        clock.use(None)
    return payments


def _write(payments: list[Any]) -> None:
    """The items `PaymentRepository.create` puts (its own `creation` request), 25 a batch;
    outside any invocation (the last handler's deadline does not bound the seeding)."""
    from paygate import deadline
    from paygate.repository import PaymentRepository

    deadline.set_budget(None)

    repository = PaymentRepository(os.environ["PAYMENTS_TABLE"], timedelta(days=1))
    client = repository.client
    for start in range(0, len(payments), 25):
        batch = [
            {"PutRequest": {"Item": repository.creation(p)["Item"]}}
            for p in payments[start : start + 25]
        ]
        answer = client.batch_write_item(RequestItems={repository.table_name: batch})
        assert not answer.get("UnprocessedItems"), answer


class _Api:
    """The handlers of the template's routes, called with API Gateway proxy events."""

    def __init__(self) -> None:
        import importlib

        from local.aws.template import load_template

        template = load_template()
        self.routes = template.routes()
        self.modules = {f.logical_id: f.module for f in template.functions()}
        self.importlib = importlib

    def get(self, path: str, query: dict[str, str]) -> tuple[int, dict[str, Any], int]:
        """(status, body, nanoseconds in the handler) of `GET path?query`."""
        from local.aws.apigw import FakeLambdaContext, find_route, proxy_event

        route, _ = find_route(self.routes, "GET", path)
        assert route is not None, path
        viewer = {
            "sub": "bench-operator",
            "email": "bench@paygate.local",
            "cognito:groups": "viewer",
        }
        event = proxy_event(route, path, query=urlencode(query), claims=viewer)
        if route.authorizer == "MerchantKeyAuthorizer":  # its answer, as API Gateway caches it
            from local.aws.merchant_keys import merchant_principal

            event["requestContext"]["authorizer"] = merchant_principal()
        handler = self.importlib.import_module(self.modules[route.function_id]).lambda_handler
        context = FakeLambdaContext(route.function_id, timeout_seconds=HANDLER_DEADLINE_SECONDS)
        started = time.perf_counter_ns()
        response = handler(event, context)
        elapsed = time.perf_counter_ns() - started
        return response["statusCode"], json.loads(response["body"]), elapsed


def _deep_cursor(api: _Api) -> str:
    cursor = ""
    for _ in range(DEEP_PAGES):
        status, page, _ = api.get("/v1/payments", {"cursor": cursor} if cursor else {})
        assert status == 200 and page["next_cursor"], page
        cursor = page["next_cursor"]
    return cursor


@dataclass
class _Samples:
    wall_us: list[float] = field(default_factory=list)
    outside_us: list[float] = field(default_factory=list)
    pages: list[dict[str, Any]] = field(default_factory=list)


def _timed(api: _Api, path: str, query: dict[str, str], into: _Samples) -> dict[str, Any]:
    RECORDER.reset()
    RECORDER.on = True
    try:
        status, body, elapsed = api.get(path, query)
    finally:
        RECORDER.on = False
    assert status == 200, (path, query, body)
    into.wall_us.append(elapsed / 1000)
    into.outside_us.append((elapsed - RECORDER.in_call_ns) / 1000)
    page = {
        "calls": dict(RECORDER.calls),
        "queries": list(RECORDER.queries),
        "batch_keys": RECORDER.batch_keys,
        "limits": RECORDER.limits,
        "returned": len(body.get("data", [])),
    }
    into.pages.append(page)
    return body


def _run_size(api: _Api, size: int, payments: list[Any]) -> dict[str, Any]:
    from aws_lambda_powertools.utilities import parameters
    from moto import mock_aws

    from local.aws.provision import load_dev_secrets, provision
    from local.aws.template import load_template

    with mock_aws():
        parameters.clear_caches()  # type: ignore[no-untyped-call]  # read again in this moto
        made = provision(load_template(), load_dev_secrets())
        for function in load_template().functions():
            os.environ.update(made.environment(function))
        seeding = time.monotonic()
        _write(payments[:size])
        seeded_in = time.monotonic() - seeding
        target = payments[size // 2].id
        queries = {name: dict(query) for name, query in CASES.items()}
        for _ in range(WARMUP_ROUNDS):  # imports, clients, the cursor secret (cached 5 min)
            api.get(f"/v1/payments/{target}", {})
            for query in queries.values():
                api.get("/v1/payments", query)
        queries[DEEP]["cursor"] = _deep_cursor(api)
        get_samples = _Samples()
        samples = {name: _Samples() for name in CASES}
        # The seeded table (moto's, in this process) out of the collector's sight, as a
        # Lambda process would not hold it: the collections it would cost otherwise land in
        # whichever handler runs.
        gc.collect()
        gc.freeze()
        started = time.monotonic()
        try:
            for _ in range(ROUNDS[size]):
                body = _timed(api, f"/v1/payments/{target}", {}, get_samples)
                assert body["id"] == target
                for name, query in queries.items():
                    page = _timed(api, "/v1/payments", query, samples[name])
                    assert page["data"] or page["next_cursor"], (name, page)
        finally:
            gc.unfreeze()
        timed_in = time.monotonic() - started
    return {
        "rows": size,
        "seed_seconds": round(seeded_in, 1),
        "timed_seconds": round(timed_in, 1),
        "get": get_samples,
        "cases": samples,
    }


def _stats(values: list[float]) -> dict[str, float]:
    stats = summary(values)
    return {"p50_us": round(stats["p50"], 1), "p99_us": round(stats["p99"], 1)}


def page_reads(pages: list[dict[str, Any]]) -> dict[str, Any]:
    """What every sampled page of one case did: its DynamoDB calls (the same for all, or the
    distinct ones), the index entries its partition Queries read (ScannedCount, summed) and
    kept (Count), and the items its BatchGetItem read."""
    dynamodb = {
        json.dumps({k: v for k, v in sorted(p["calls"].items()) if k.startswith("dynamodb:")})
        for p in pages
    }
    others = {
        json.dumps({k: v for k, v in sorted(p["calls"].items()) if not k.startswith("dynamodb:")})
        for p in pages
    }
    scanned = sorted({sum(q["scanned"] for q in p["queries"]) for p in pages})
    counted = sorted({sum(q["count"] for q in p["queries"]) for p in pages})
    return {
        "dynamodb_calls": [json.loads(d) for d in sorted(dynamodb)],
        "other_calls": [json.loads(o) for o in sorted(others) if o != "{}"],
        "scanned_count": scanned,
        "count": counted,
        "items_read": sorted({p.get("batch_keys", 0) for p in pages}),
        "read_bound": sorted({p.get("limits", 0) for p in pages}),
    }


def _one_round(calls: dict[str, int]) -> bool:
    """One round of partition Queries (at most `MAX_PARTITIONS`) and at most one
    BatchGetItem, nothing else."""
    queries = calls.get("dynamodb:Query", 0)
    batch = calls.get("dynamodb:BatchGetItem", 0)
    rest = set(calls) - {"dynamodb:Query", "dynamodb:BatchGetItem"}
    return 1 <= queries <= MAX_PARTITIONS and batch <= 1 and not rest


def problems(sizes: dict[str, dict[str, Any]]) -> list[str]:
    """Every breach of the rules: each page one round of partition Queries and at most one
    BatchGetItem (no Scan, nothing else) reading at most a page of items, and the most its
    Queries may read (the sum of their `Limit`) the same at every table size."""
    found = []
    for rows, run in sizes.items():
        for name, case in run["cases"].items():
            for calls in case["dynamodb_calls"]:
                if not _one_round(calls):
                    found.append(f"{name} at {rows} rows: DynamoDB calls {calls}")
            if max(case["items_read"]) > MAX_LIMIT:
                found.append(f"{name} at {rows} rows: items read {case['items_read']}")
    names = {name for run in sizes.values() for name in run["cases"]}
    for name in sorted(names):
        bounds = {rows: run["cases"][name]["read_bound"] for rows, run in sizes.items()}
        if len({json.dumps(bound) for bound in bounds.values()}) != 1:
            found.append(f"{name}: entries a page may read differ by table size {bounds}")
    return found


def measure() -> dict[str, Any]:
    api = _Api()
    payments = seed_payments(max(SIZES))
    sizes: dict[str, dict[str, Any]] = {}
    for size in SIZES:
        run = _run_size(api, size, payments)
        get_stats = _stats(run["get"].wall_us)
        get_outside = _stats(run["get"].outside_us)
        cases = {}
        for name, samples in run["cases"].items():
            stats = _stats(samples.wall_us)
            outside = _stats(samples.outside_us)
            cases[name] = {
                **stats,
                "ratio_p50": round(stats["p50_us"] / get_stats["p50_us"], 2),
                "ratio_p99": round(stats["p99_us"] / get_stats["p99_us"], 2),
                "outside_call_p50_us": outside["p50_us"],
                "outside_call_ratio_p50": round(outside["p50_us"] / get_outside["p50_us"], 2),
                **page_reads(samples.pages),
            }
        get_reads = page_reads(run["get"].pages)
        sizes[str(size)] = {
            "seed_seconds": run["seed_seconds"],
            "timed_seconds": run["timed_seconds"],
            "rounds": ROUNDS[size],
            "get": {
                **get_stats,
                "outside_call_p50_us": get_outside["p50_us"],
                "dynamodb_calls": get_reads["dynamodb_calls"],
            },
            "cases": cases,
        }
    return {"sizes": sizes, "problems": problems(sizes)}


if __name__ == "__main__":  # a quick look without the other benchmarks
    from bench.common import use_repo_paths
    from bench.run import _quiet_in_process_environment

    use_repo_paths()
    _quiet_in_process_environment()
    print(json.dumps(measure(), indent=2))
