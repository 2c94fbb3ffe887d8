"""`make bench` part: reconciliation's throughput and lag, on the real settle code in simulated
time (bench/reconcile_lag.py says what is modelled).

- throughput: status queries settled per minute with a backlog due at once, today's sequential
  loop against the fan-out at 1, 4 and 16 workers per provider queue;
- lag: the target load (5,000,000 payments a day, a 3x peak, sampled at 1/50) with Smart
  Glocal silent for 10 minutes: the fan-out as configured, today's loop, the fan-out with the
  functions' default provider timeouts (13 s), one queue shared by every provider, 4 shards;
- the schedule index's write units per shard partition at that load (DynamoDB allows 1,000 a
  second per partition; the target is at most half).

Run alone: `python -m bench.reconcile`."""

from __future__ import annotations

import json
import time
from typing import Any

from bench.common import use_repo_paths

use_repo_paths()

from bench.reconcile_lag import Scenario, simulate, throughput  # noqa: E402

WORKERS = (1, 4, 16)
# Enough due payments that none of the runs runs out within the measured minute.
BACKLOG = {"today": 3_000, 1: 3_000, 4: 10_000, 16: 30_000}
SECONDS = 60.0
# Write units on the schedule index per status query: the lease, the worker's claim and the
# reschedule each move `reconcile_at` (a key): a delete and a put in the index, 1 WCU each
# (the INCLUDE projection keeps the index item far under 1 KB).
INDEX_WRITES_PER_QUERY = 6
PARTITION_WCU = 1_000


def _lag(name: str, engine: str, scenario: Scenario) -> dict[str, Any]:
    started = time.process_time()
    result = simulate(engine, scenario)
    result["name"] = name
    result["cpu_seconds"] = round(time.process_time() - started, 1)
    return result


def measure() -> dict[str, Any]:
    from paygate.observability import logger

    logger.setLevel("ERROR")  # thousands of "status query failed" while a provider is down
    rows = [{"engine": "today's loop", "workers": 1, **_throughput("today", 1)}]
    rows += [{"engine": "fan-out", "workers": w, **_throughput("fanout", w)} for w in WORKERS]
    sample = Scenario()
    lags = [
        _lag("fan-out (1 s + 3 s query timeouts, 100 workers a queue)", "fanout", sample),
        _lag("today's loop", "today", sample),
        _lag("fan-out, 13 s query timeouts", "fanout", Scenario(timeout=13.0)),
        _lag("one queue for every provider, 13 s timeouts", "shared", Scenario(timeout=13.0)),
        _lag("fan-out, 4 shards", "fanout", Scenario(shards=4)),
    ]
    measured = lags[0]
    queries_per_second = measured["settled_measured"] / sample.measured / sample.scale
    shards = {
        str(count): round(queries_per_second * INDEX_WRITES_PER_QUERY / count)
        for count in (4, 8, 16)
    }
    return {
        "throughput": rows,
        "lag": lags,
        "scale": sample.scale,
        "queries_per_second": round(queries_per_second),
        "index_wcu_per_shard": shards,
        "partition_wcu": PARTITION_WCU,
    }


def _throughput(engine: str, workers: int) -> dict[str, Any]:
    started = time.process_time()
    backlog = BACKLOG["today" if engine == "today" else workers]
    per_minute = throughput(engine, workers, backlog, SECONDS)
    return {"per_minute": per_minute, "cpu_seconds": round(time.process_time() - started, 1)}


def markdown(results: dict[str, Any]) -> list[str]:
    """The bench report's lines (bench/report.py)."""
    lines = [
        "",
        "### Reconciliation (simulated time, real settle code)",
        "",
        "| engine | workers a provider queue | status queries settled a minute | CPU s |",
        "|---|---:|---:|---:|",
    ]
    for row in results["throughput"]:
        lines.append(
            f"| {row['engine']} | {row['workers']} | {row['per_minute']:,.0f} | "
            f"{row['cpu_seconds']} |"
        )
    lines += [
        "",
        f"Lag (due → settled) at 5,000,000 payments/day with a 3× peak, sampled at "
        f"1/{round(1 / results['scale'])}, Smart Glocal silent for 10 minutes "
        f"({results['queries_per_second']:,} status queries/s at full scale):",
        "",
        "| run | p99 s | max s | Smart Glocal p99 s | others during / outside the outage, p99 s "
        "| target p99 < 120 s |",
        "|---|---:|---:|---:|---|---|",
    ]
    for row in results["lag"]:
        during = row.get("healthy_during_outage_p99_s", {})
        outside = row.get("healthy_outside_outage_p99_s", {})
        others = ", ".join(f"{p} {during[p]} / {outside[p]}" for p in sorted(during))
        verdict = "met" if row["lag_p99_s"] < 120 else "**missed**"
        lines.append(
            f"| {row['name']} | {row['lag_p99_s']} | {row['lag_max_s']} | "
            f"{row['by_provider_p99_s']['smartglocal']} | {others} | {verdict} |"
        )
    wcu = results["index_wcu_per_shard"]
    half = results["partition_wcu"] // 2
    lines += [
        "",
        "Schedule index (`by_due`) write units a second per shard partition at that load: "
        + ", ".join(
            f"{count} shards {units} ({'≤' if units <= half else '>'} {half})"
            for count, units in wcu.items()
        )
        + ".",
    ]
    return lines


if __name__ == "__main__":
    found = measure()
    print(json.dumps(found, indent=2))
    print("\n".join(markdown(found)))
