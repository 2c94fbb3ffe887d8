"""`make bench`: runs every benchmark, writes bench/results/latest.json and latest.md, and
refreshes the results table in docs/performance.md."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any

from bench.common import RESULTS, ROOT, use_repo_paths
from bench.report import markdown

DOC = ROOT / "docs" / "performance.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def _quiet_in_process_environment() -> None:
    os.environ.update(
        {
            "AWS_DEFAULT_REGION": "ap-southeast-1",
            "AWS_REGION": "ap-southeast-1",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_NAMESPACE": "Paygate",
        }
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)


def _previous_run() -> dict[str, Any] | None:
    """The committed results (HEAD's latest.json): what this run's figures are set beside."""
    shown = subprocess.run(
        ["git", "-C", str(ROOT), "show", "HEAD:bench/results/latest.json"],
        capture_output=True,
        check=False,
    )
    if shown.returncode != 0:
        return None
    document: dict[str, Any] = json.loads(shown.stdout)
    handlers = document.get("warm_overhead", {}).get("handlers", {})
    paypro = handlers.get("PayproWebhookFunction", {})
    return {"when": document.get("when"), "paypro_warm_ratio_p50": paypro.get("ratio_p50")}


def main() -> int:
    use_repo_paths()
    _quiet_in_process_environment()
    # Imported before any benchmark runs: bench.aws_calls' and bench.listing's botocore hooks
    # reach every session created afterwards.
    from bench import aws_calls, cold_start, listing, reconcile, size, throughput, warm, write_cost

    started = time.monotonic()
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "previous_run": _previous_run(),
    }
    for name, module in (
        ("cold_start", cold_start),
        ("aws_calls", aws_calls),
        ("warm_overhead", warm),
        ("throughput", throughput),
        ("deployment_size", size),
        ("list_pages", listing),
        ("webhook_write_cost", write_cost),
        ("reconcile", reconcile),
    ):
        step = time.monotonic()
        print(f"[bench] {name} ...", file=sys.stderr, flush=True)
        results[name] = module.measure()
        print(f"[bench] {name} done in {time.monotonic() - step:.1f}s", file=sys.stderr, flush=True)
    results["duration_seconds"] = round(time.monotonic() - started, 1)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    table = markdown(results)
    (RESULTS / "latest.md").write_text(table, encoding="utf-8")
    document = DOC.read_text(encoding="utf-8")
    head, _, rest = document.partition(START)
    _, _, tail = rest.partition(END)
    DOC.write_text(f"{head}{START}\n{table}\n{END}{tail}", encoding="utf-8")
    print(table)
    problems = results["list_pages"]["problems"] + results["webhook_write_cost"]["problems"]
    for problem in problems:  # the rules of issue 15's measurements: the run fails
        print(f"[bench] FAILED: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
