"""Throughput and latency through the local runtime: N concurrent clients post signed Paypro
notifies for distinct payments; webhooks/s, and the time from a webhook's 200 to its event
appearing in the events file (p50, p99), for N = 1, 8, 32."""

from __future__ import annotations

import json
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from bench.common import summary

CLIENTS = (1, 8, 32)
WEBHOOKS_PER_RUN = 64


class EventWatcher:
    """Tails the events file and notes when each payment's final event first appears."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.seen: dict[str, float] = {}
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join()

    def _run(self) -> None:
        offset = 0
        while not self.stopping.is_set():
            with self.path.open("rb") as handle:
                handle.seek(offset)
                chunk = handle.read()
            complete = chunk[: chunk.rfind(b"\n") + 1]
            offset += len(complete)
            now = time.perf_counter()
            for line in complete.splitlines():
                event = json.loads(line)
                if event["status"] == "succeeded":
                    self.seen.setdefault(event["payment_id"], now)
            self.stopping.wait(0.002)


def _notify(payment: dict[str, Any], secret: str) -> dict[str, str]:
    from paygate.providers.paypro import signing

    fields = {
        "status": "0000",
        "message": "success",
        "platFormTradeNo": payment["provider_reference"],
        "tradeNo": payment["id"],
        "amount": str(payment["amount"]),
        "timestamp": str(int(time.time() * 1000)),
    }
    fields["sign"] = signing.sign(fields, secret)
    return fields


def _run(clients: int, secret: str) -> dict[str, Any]:
    """One fresh runtime (moto's cost grows with the table), WEBHOOKS_PER_RUN payments, then
    their notifies from `clients` concurrent clients."""
    from tools.launcher import start_runtime_on_free_ports, stop_runtime

    state = Path(tempfile.mkdtemp(prefix="paygate-bench-"))
    runtime = start_runtime_on_free_ports(state)
    try:
        with runtime.client() as client:
            body = {"amount": 50000, "currency": "VND", "merchant_reference": "bench"}
            batch = [
                client.post("/v1/paypro/payments", json=body).json()
                for _ in range(WEBHOOKS_PER_RUN)
            ]
        watcher = EventWatcher(state / "events.jsonl")
        watcher.start()
        accepted: dict[str, float] = {}
        with httpx.Client(base_url=runtime.api_url, timeout=30) as http:

            def post(payment: dict[str, Any]) -> None:
                answer = http.post("/webhooks/paypro", json=_notify(payment, secret))
                assert answer.status_code == 200 and answer.text == "OK", answer.text
                accepted[payment["id"]] = time.perf_counter()

            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=clients) as pool:
                list(pool.map(post, batch))
            elapsed = time.perf_counter() - started
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not all(p["id"] in watcher.seen for p in batch):
            time.sleep(0.01)
        watcher.stop()
    finally:
        stop_runtime(runtime)
    latencies = [
        (watcher.seen[p["id"]] - accepted[p["id"]]) * 1000 for p in batch if p["id"] in watcher.seen
    ]
    stats = summary(latencies) if latencies else None
    return {
        "webhooks_per_second": round(len(batch) / elapsed, 1),
        "event_latency_p50_ms": round(stats["p50"], 1) if stats else None,
        "event_latency_p99_ms": round(stats["p99"], 1) if stats else None,
        "events_seen": len(latencies),
    }


def measure() -> dict[str, Any]:
    from local.aws.provision import load_dev_secrets

    secret = load_dev_secrets()["PayproSecret"]["app_secret"]
    runs = {str(clients): _run(clients, secret) for clients in CLIENTS}
    return {"webhooks_per_run": WEBHOOKS_PER_RUN, "runs": runs}
