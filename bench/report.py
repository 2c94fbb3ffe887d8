"""The Markdown tables of a bench run, each figure beside its baseline and target."""

from __future__ import annotations

import math
from typing import Any


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def _difference(ms: float) -> str:
    """A CPU difference in words: "7 ms of CPU less", "3 ms of CPU more", "the same CPU"."""
    if round(ms) == 0:
        return "the same CPU"
    return f"{abs(ms):.0f} ms of CPU {'less' if ms < 0 else 'more'}"


def markdown(results: dict[str, Any]) -> str:
    lines: list[str] = [
        f"Run {results['when']} on Python {results['machine']['python']}, "
        f"{results['machine']['cpus']} CPUs ({results['duration_seconds']} s).",
        "",
    ]
    lines += _cold_lines(results["cold_start"])
    calls = results["aws_calls"]
    lines += ["", "### AWS calls per operation (botocore event hook)", ""]
    lines += ["| operation | calls | DynamoDB calls | target |", "|---|---|---:|---|"]
    for name, counted in calls["operations"].items():
        dynamodb = sum(v for k, v in counted.items() if k.startswith("dynamodb:"))
        detail = ", ".join(f"{k} × {v}" for k, v in sorted(counted.items()))
        target = f"≤ 3: {_verdict(dynamodb <= 3)}" if name == "create payment" else ""
        if name.startswith("webhook"):
            limit = 1 if name in ("webhook success (first delivery)", "webhook decline") else 2
            if name == "webhook duplicate":
                limit = 1
            target = f"≤ {limit}: {_verdict(dynamodb <= limit)}"
        lines.append(f"| {name} | {detail} | {dynamodb} | {target} |")
    lines += ["", "| publish batch of N changes | SNS calls | target ⌈N/10⌉ |", "|---|---|---|"]
    for size, row in calls["publish_batches"].items():
        count = sum(row["sns_calls"].values())
        want = math.ceil(int(size) / 10)
        detail = ", ".join(f"{k} × {v}" for k, v in row["sns_calls"].items())
        lines.append(f"| {size} | {detail} | {want}: {_verdict(count <= want)} |")
    lines += _warm_lines(results["warm_overhead"])
    through = results["throughput"]
    lines += [
        "",
        f"### Local runtime throughput ({through['webhooks_per_run']} signed webhooks per run)",
        "",
        "| clients | webhooks/s | webhook 200 → event p50 ms | p99 ms | events seen |",
        "|---:|---:|---:|---:|---:|",
    ]
    for clients, row in through["runs"].items():
        lines.append(
            f"| {clients} | {row['webhooks_per_second']} | {row['event_latency_p50_ms']} | "
            f"{row['event_latency_p99_ms']} | {row['events_seen']} |"
        )
    size = results["deployment_size"]
    packages = ", ".join(f"{k} {v}" for k, v in size["core_layer_packages_mb"].items())
    lines += [
        "",
        "### Deployment size (unzipped, after `sam build`)",
        "",
        "| artifact | MB | target |",
        "|---|---:|---|",
        f"| CoreLayer ({packages}) | {size['core_layer_mb']} | ≤ {size['target_mb']}: "
        f"{_verdict(size['core_layer_mb'] <= size['target_mb'])} |",
    ]
    for name, megabytes in size["functions_mb"].items():
        lines.append(f"| {name} | {megabytes} | |")
    lines.append("")
    lines.append(f"pydantic bundled in our layer: {'yes' if size['pydantic_bundled'] else 'no'}.")
    if "list_pages" in results:
        lines += _listing_lines(results["list_pages"])
    if "webhook_write_cost" in results:
        lines += _write_cost_lines(results)
    if "reconcile" in results:
        from bench.reconcile import markdown as reconcile_lines

        lines += reconcile_lines(results["reconcile"])
    lines += ["", "### Targets missed, and why", ""]
    lines += _missed(results) or ["None."]
    return "\n".join(lines) + "\n"


def _cold_lines(cold: dict[str, Any]) -> list[str]:
    from bench.cold_start import PEER_FIRST, PEER_UNTRACED_FIRST

    env = cold["environment"]
    refs = cold["reference_cpu_ms"]
    lines = [
        f"### Cold init (fresh process, {cold['runs']} interleaved runs at "
        f"{len(cold['depths'])} stack depths)",
        "",
        f"Clean environment: Python {env['python']}, only uv.lock's `lambda` group "
        f"({', '.join(env['distributions'])}); none of {', '.join(lambda_env_forbidden())} "
        "importable. Each function from its `sam build` artifact and the layer's build.",
        "",
        "Webhooks: import + the first invocation (a signed delivery, every AWS call answered "
        "in-process at once), against the peer's import + first invocation. Other functions: "
        "import + the AWS and HTTP clients their first invocation creates, against the peer's "
        "import (its client is made at import). Ratios on CPU time (user + system of the "
        "process: on this shared machine the wall time also counts the wait for a core); "
        "wall-time ratios beside them. Each process stops once that work is done, without "
        "the interpreter's finalization: Lambda discards an environment, it never shuts one "
        "down.",
        "",
        f"Each run starts the handler {', '.join(map(str, cold['depths']))} frames deeper in "
        "turn, and a subject's figure is the median of its runs at the depth where it had "
        "the fewest minor page faults. This machine's CPython 3.13.0 frees a frame-stack "
        "chunk as soon as it empties, so code that keeps calling across a chunk's edge pays "
        "a page fault per call (python/cpython gh-142183, fixed in 3.13 by caching one chunk, "
        "merged 2026-03-18; Lambda's python3.13 follows the 3.13 patch releases). Where the "
        "edge falls depends on the starting depth, not on the code: at the worst depth of "
        "this run the peer faulted "
        f"{cold['reference_extra_faults_worst_depth']['PeerFunction (first invocation)']:.0f} "
        "more times. The column *every run* is the median over all depths.",
        "",
        f"The peer is {cold['peer_cpu_vs_bare_boto3']}× bare boto3 at import and "
        f"{cold['peer_first_cpu_vs_bare_boto3']}× with its first invocation (CPU); "
        f"an empty interpreter is {round(refs['empty_interpreter'] / refs['bare_boto3'], 2)}× "
        "bare boto3. The same peer without its Tracer (no X-Ray SDK: what paygate dropped) is "
        f"{cold['untraced_peer_vs_peer']}× the peer with its first invocation "
        f"({_difference(refs[PEER_UNTRACED_FIRST] - refs[PEER_FIRST])}).",
        "",
        "| function | measured | × peer (CPU) | target | × bare boto3 (CPU) | target "
        "| × peer (wall) | × bare (wall) | × peer (CPU, every run) |",
        "|---|---|---:|---|---:|---|---:|---:|---:|",
    ]
    for name, row in cold["functions"].items():
        peer_ok = row["cpu_vs_peer"] <= row["peer_target"]
        bare_ok = row["cpu_vs_bare_boto3"] <= cold["bare_target"]
        lines.append(
            f"| {name} | {row['measured']} | {row['cpu_vs_peer']}× | ≤ {row['peer_target']}: "
            f"{_verdict(peer_ok)} | {row['cpu_vs_bare_boto3']}× | ≤ {cold['bare_target']}: "
            f"{_verdict(bare_ok)} | {row['wall_vs_peer']}× | {row['wall_vs_bare_boto3']}× | "
            f"{row['cpu_vs_peer_all_runs']}× |"
        )
    breakdown = ", ".join(f"{k} {v}" for k, v in cold["breakdown_ms"].items())
    peer = ", ".join(f"{k} {v}" for k, v in cold["peer_breakdown_ms"].items())
    lines += [
        "",
        "Import self time by package (ms, `python -X importtime`, one import at the depth each "
        f"figure was taken at), {cold['breakdown_function']}: "
        f"{breakdown}. The peer: {peer}.",
    ]
    return lines


def lambda_env_forbidden() -> tuple[str, ...]:
    from bench.lambda_env import FORBIDDEN

    return FORBIDDEN


def _warm_lines(warm: dict[str, Any]) -> list[str]:
    lines = [
        "",
        f"### Warm webhook handlers ({warm['calls']} invocations after {warm['warmup']}, "
        "AWS answered in-process at once, each beside the peer timed just before it)",
        "",
        f"The peer answered `{warm['peer_answer']}`.",
        "",
        "| handler | answer | p50 µs | p99 µs | peer p50 µs | peer p99 µs | × peer p50 | target "
        "| × peer p99 |",
        "|---|---|---:|---:|---:|---:|---:|---|---:|",
    ]
    for name, row in warm["handlers"].items():
        ok = row["ratio_p50"] <= warm["target_p50_ratio"]
        lines.append(
            f"| {name} | `{row['answer']}` | {row['p50_us']} | {row['p99_us']} | "
            f"{row['peer_p50_us']} | {row['peer_p99_us']} | {row['ratio_p50']}× | "
            f"≤ {warm['target_p50_ratio']}: {_verdict(ok)} | {row['ratio_p99']}× |"
        )
    confirmed = warm.get("confirmation") or {}
    if confirmed:
        lines += [
            "",
            "Confirmation by status query (ecommpay and Monetix, on by default; the rows above "
            "are timed with it off): the same delivery with `/v2/payment/status` answered on "
            "127.0.0.1. The provider's own round trip comes on top of these figures.",
            "",
            "| handler | answer | p50 µs | p99 µs | × without the query (p50) | × peer p50 |",
            "|---|---|---:|---:|---:|---:|",
        ]
        for name, row in confirmed.items():
            lines.append(
                f"| {name} | `{row['answer']}` | {row['p50_us']} | {row['p99_us']} | "
                f"{row['ratio_to_unconfirmed_p50']}× | {row['ratio_p50']}× |"
            )
    return lines


def _calls(calls: list[dict[str, int]]) -> str:
    return "; ".join(", ".join(f"{k.split(':')[1]} × {v}" for k, v in c.items()) for c in calls)


def _listing_lines(listing: dict[str, Any]) -> list[str]:
    sizes = listing["sizes"]
    lines = [
        "",
        "### List pages (`GET /v1/payments`) against one GetItem (`GET /v1/payments/{id}`)",
        "",
        "Real handlers in-process with API Gateway proxy events, over moto tables of "
        + " and ".join(f"{int(rows):,}" for rows in sizes)
        + " seeded payments; each round times the GetItem and every list case once "
        f"({', '.join(f'{rows} rows: {run["rounds"]} rounds' for rows, run in sizes.items())}). "
        "Calls and counts per page from a botocore event hook. **moto answers a Query on a "
        "GSI by walking every item of the table in Python**, so here the wall time grows "
        "with the table although DynamoDB's does not: the figures that do not depend on the "
        "table are the calls and the reads per page: one round of partition Queries (run at "
        "once) reading index entries (ScannedCount, summed; at most the Queries' `Limit`, the "
        "same at both sizes) and one BatchGetItem reading the page's items; "
        '"outside the call" is the handler\'s time minus the time inside the botocore call '
        "(our code's part).",
        "",
        "| case | rows | p50 µs | p99 µs | × GetItem p50 | × GetItem p99 "
        "| outside the call p50 µs | × GetItem's | DynamoDB calls | entries read "
        "| entries kept | items read |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for rows, run in sizes.items():
        get = run["get"]
        lines.append(
            f"| GetItem (`GET /v1/payments/{{id}}`) | {rows} | {get['p50_us']} | "
            f"{get['p99_us']} | 1× | 1× | {get['outside_call_p50_us']} | 1× | "
            f"{_calls(get['dynamodb_calls'])} | | | 1 |"
        )
        for name, case in run["cases"].items():
            lines.append(
                f"| {name} | {rows} | {case['p50_us']} | {case['p99_us']} | "
                f"{case['ratio_p50']}× | {case['ratio_p99']}× | {case['outside_call_p50_us']} | "
                f"{case['outside_call_ratio_p50']}× | {_calls(case['dynamodb_calls'])} | "
                f"{', '.join(map(str, case['scanned_count']))} | "
                f"{', '.join(map(str, case['count']))} | "
                f"{', '.join(map(str, case.get('items_read', [])))} |"
            )
    verdict = "met" if not listing["problems"] else "**missed**"
    lines += [
        "",
        "One round of partition Queries and one BatchGetItem per page, no Scan, the same "
        f"bound on entries read at every size: {verdict}.",
    ]
    return lines


def _write_cost_lines(results: dict[str, Any]) -> list[str]:
    cost = results["webhook_write_cost"]
    lines = [
        "",
        "### A status-changing webhook's write (one TransactWriteItems), before and after issue 15",
        "",
        f"Before: the tree at {cost['before_commit']} (GSIs by_provider_reference, "
        "by_reconcile_due; no history). After: this tree. Item bytes by DynamoDB's size rules; "
        "WCU = 2 per started KB of each item in the transaction (the payment on the larger of "
        "its sizes before and after) + per GSI touched 1 per started KB of the entry (2 "
        "writes, delete + put, when its key changes).",
        "",
        "| webhook | tree | DynamoDB calls | payment bytes before → after | webhook bytes "
        "| table WCU | GSI writes (WCU) | total WCU |",
        "|---|---|---|---:|---:|---:|---|---:|",
    ]
    trees = [("after", cost["after"])]
    if cost["before"] is not None:
        trees.insert(0, (f"before ({cost['before_commit']})", cost["before"]))
    names = list(cost["after"]["cases"])
    for name in names:
        for label, tree in trees:
            case = tree["cases"][name]
            sizes = case["bytes"]
            gsi = ", ".join(f"{k}: {v['write']} {v['wcu']}" for k, v in case["gsi"].items())
            table = case["table_wcu"]["payment"] + case["table_wcu"]["webhook"]
            lines.append(
                f"| {name} | {label} | {_calls([case['calls']])} | "
                f"{sizes['payment_before']} → {sizes['payment_after']} | {sizes['webhook']} | "
                f"{table} | {gsi} | {case['wcu']} |"
            )
    lines += _create_and_webhook_units(cost)
    warm = results["warm_overhead"]["handlers"].get("PayproWebhookFunction")
    previous = results.get("previous_run") or {}
    if warm is not None:
        lines += [
            "",
            f"Paypro webhook warm p50 in this run: {warm['ratio_p50']}× the peer "
            f"(previous committed run, {previous.get('when')}: "
            f"{previous.get('paypro_warm_ratio_p50')}×).",
        ]
    return lines


def _create_and_webhook_units(cost: dict[str, Any]) -> list[str]:
    """Write units per create and per webhook, every item write and every index of each
    tree's final template (bench/write_cost.py `writes_units`)."""
    trees = [(f"before issue 15 ({cost['before_commit']})", cost.get("before")),
             (f"ALL reference indexes ({cost.get('before_narrow_commit')})",
              cost.get("before_narrow")),
             ("after", cost["after"])]  # fmt: skip
    measured = [(label, tree) for label, tree in trees if tree is not None]
    if not all("create" in case for _, tree in measured for case in tree["cases"].values()):
        return []

    def cell(units: dict[str, Any]) -> str:
        parts = ", ".join(f"{name} {value}" for name, value in units["indexes"].items())
        return f"{units['wcu']} (table {units['table']}; {parts or 'no index'})"

    lines = [
        "",
        "### Write units per create and per webhook, every item write and every index",
        "",
        "Each item write of the create (the payment's put and its status change) and of the "
        "success notification's delivery (the payment and the stored notification) on the "
        "payments table (the idempotency record's, in its own table, left out), priced by the "
        "rule bench/cost.py prices the soak with: 1 WCU per started KB of the "
        "larger of the item's sizes (2 in a transaction), each index entry (keys and projected "
        "attributes + 100 bytes) 1 per started KB, delete + put when its key changes.",
        "",
        "| payment | tree | create WCU | webhook WCU |",
        "|---|---|---|---|",
    ]
    for name in cost["after"]["cases"]:
        for label, tree in measured:
            case = tree["cases"][name]
            lines.append(f"| {name} | {label} | {cell(case['create'])} | {cell(case['webhook'])} |")
    return lines


def _missed(results: dict[str, Any]) -> list[str]:
    cold = results["cold_start"]
    missed = []
    slow = {k: v for k, v in cold["functions"].items() if v["cpu_vs_peer"] > v["peer_target"]}
    if slow:
        ratios = ", ".join(f"{k} {v['cpu_vs_peer']}×" for k, v in slow.items())
        missed.append(f"- **Cold init against the peer**: {len(slow)} of {len(cold['functions'])} "
                      f"functions miss ({ratios}). See the notes below the results.")  # fmt: skip
    heavy = {
        k: v for k, v in cold["functions"].items() if v["cpu_vs_bare_boto3"] > cold["bare_target"]
    }
    if heavy:
        ratios = ", ".join(f"{k} {v['cpu_vs_bare_boto3']}×" for k, v in heavy.items())
        missed.append(f"- **Cold init ≤ {cold['bare_target']}× bare boto3**: {len(heavy)} miss "
                      f"({ratios}).")  # fmt: skip
    warm = results["warm_overhead"]
    for name, row in warm["handlers"].items():
        if row["ratio_p50"] > warm["target_p50_ratio"]:
            missed.append(f"- **Warm p50 of {name}**: {row['ratio_p50']}× the peer's.")
    size = results["deployment_size"]
    if size["core_layer_mb"] > size["target_mb"]:
        missed.append(f"- **Layer size**: {size['core_layer_mb']} MB > {size['target_mb']} MB.")
    for problem in results.get("list_pages", {}).get("problems", []):
        missed.append(f"- **List page**: {problem}.")
    for problem in results.get("webhook_write_cost", {}).get("problems", []):
        missed.append(f"- **Webhook write**: {problem}.")
    for name, counted in results["aws_calls"]["operations"].items():
        dynamodb = sum(v for k, v in counted.items() if k.startswith("dynamodb:"))
        if name == "create payment" and dynamodb > 3:
            missed.append(f"- **Create payment ≤ 3 DynamoDB calls**: {dynamodb}.")
        if name.startswith("webhook") and dynamodb > 2:
            missed.append(f"- **{name}**: {dynamodb} DynamoDB calls > 2.")
    return missed
