"""E2E tier: starts the local runtime (`python -m local.run`, what `make run` starts) on free
ports with its own state folder, and talks to it over HTTP only."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "e2e-key"
STARTUP_TIMEOUT_SECONDS = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Runtime:
    api_url: str
    paypro_url: str
    state_dir: Path
    process: subprocess.Popen[bytes]
    startup_seconds: float

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.api_url, headers={"x-api-key": API_KEY}, timeout=10)

    def events(self) -> list[dict[str, Any]]:
        path = self.state_dir / "events.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def events_for(self, payment_id: str, count: int, timeout: float = 10) -> list[dict[str, Any]]:
        """Wait until `count` events for the payment were published, then a little longer to
        catch any extra (duplicate) one."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            mine = [e for e in self.events() if e["payment_id"] == payment_id]
            if len(mine) >= count:
                time.sleep(1.0)
                return [e for e in self.events() if e["payment_id"] == payment_id]
            time.sleep(0.1)
        return [e for e in self.events() if e["payment_id"] == payment_id]


@pytest.fixture(scope="session")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    state_dir = tmp_path_factory.mktemp("paygate-state")
    port, moto_port, paypro_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "PAYGATE_PORT": str(port),
        "PAYGATE_MOTO_PORT": str(moto_port),
        "PAYGATE_PAYPRO_PORT": str(paypro_port),
        "PAYGATE_API_KEY": API_KEY,
        "PAYGATE_STATE_DIR": str(state_dir),
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("AWS_ENDPOINT_URL", "PAYPRO_BASE_URL", "WEBHOOK_BASE_URL", "PAYMENTS_TABLE"):
        env.pop(name, None)
    log = (state_dir / "runtime.out").open("w")
    started = time.monotonic()
    command = [sys.executable, "-m", "local.run"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    api_url = f"http://127.0.0.1:{port}"
    while time.monotonic() - started < STARTUP_TIMEOUT_SECONDS:
        if process.poll() is not None:
            pytest.fail(f"local runtime exited: {(state_dir / 'runtime.out').read_text()}")
        try:
            if httpx.get(f"{api_url}/_local/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("local runtime did not come up")
    runtime = Runtime(api_url, f"http://127.0.0.1:{paypro_port}", state_dir, process,
                      time.monotonic() - started)  # fmt: skip
    yield runtime
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    log.close()
