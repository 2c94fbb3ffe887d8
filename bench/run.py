"""`make bench`: runs every benchmark, writes bench/results/latest.json and latest.md, and
refreshes the results table in docs/performance.md."""

from __future__ import annotations

import json
import os
import platform
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


def main() -> int:
    use_repo_paths()
    _quiet_in_process_environment()
    from bench import aws_calls, cold_start, size, throughput, warm

    started = time.monotonic()
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
    }
    for name, module in (
        ("cold_start", cold_start),
        ("aws_calls", aws_calls),
        ("warm_overhead", warm),
        ("throughput", throughput),
        ("deployment_size", size),
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
