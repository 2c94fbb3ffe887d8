"""Starts and stops the local runtime (`python -m local.run`, what `make run` starts) as a
child process on chosen ports with its own state folder: used by the e2e tests and `make bench`."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
API_KEY = "e2e-key"
STARTUP_TIMEOUT_SECONDS = 60
ADVANCE_TIMEOUT_SECONDS = 600  # real seconds one advance may take (an 11-day one takes a few)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _with_idempotency_key(request: httpx.Request) -> None:
    creates = re.fullmatch(r"/v1/[a-z]+/(payments|payouts)", request.url.path)
    if request.method == "POST" and creates and "idempotency-key" not in request.headers:
        request.headers["Idempotency-Key"] = uuid.uuid4().hex


@dataclass
class Runtime:
    api_url: str
    paypro_url: str
    state_dir: Path
    process: subprocess.Popen[bytes]
    startup_seconds: float
    api_key: str = API_KEY
    moto_url: str = ""

    def client(self) -> httpx.Client:
        """A merchant's client: API key on every call, a fresh Idempotency-Key on each create
        that does not bring its own."""
        return httpx.Client(
            base_url=self.api_url,
            headers={"x-api-key": self.api_key},
            timeout=10,
            event_hooks={"request": [_with_idempotency_key]},
        )

    def operator_token(self, role: str = "reviewer") -> str:
        """An ID token of the local user pool's `role` operator (local/aws/cognito.py), got by
        signing in as the console does."""
        from local.config import LocalConfig

        (operator,) = [o for o in LocalConfig().operators if role in o.groups]
        answer = httpx.post(
            f"{self.api_url}/_local/cognito/sign-in",
            json={"username": operator.email, "password": operator.password},
            timeout=10,
        )
        answer.raise_for_status()
        token: str = answer.json()["id_token"]
        return token

    def operator(self, role: str = "reviewer") -> httpx.Client:
        """An operator's client (the console's calls): the `role` operator's ID token in
        `Authorization`, no API key."""
        return httpx.Client(
            base_url=self.api_url,
            headers={"Authorization": self.operator_token(role)},
            timeout=10,
        )

    def wait_until(
        self, payment_id: str, done: Callable[[dict[str, Any]], bool], timeout: float = 10
    ) -> dict[str, Any]:
        """Poll `GET /v1/payments/{id}` (`/v1/payouts/{id}` for a `po_` id, as an operator), in
        real time, until `done(payment)`: for the asynchronous hops (a sandbox's webhook
        reaching the gateway), never to let the local clock's time pass."""
        deadline = time.monotonic() + timeout
        payment: dict[str, Any] = {}
        route = "payouts" if payment_id.startswith("po_") else "payments"
        with self.operator("viewer") if route == "payouts" else self.client() as client:
            while time.monotonic() < deadline:
                payment = client.get(f"/v1/{route}/{payment_id}").json()
                if done(payment):
                    return payment
                time.sleep(0.05)
        raise AssertionError(f"{payment_id} never got there: {payment}")

    def wait_for_status(self, payment_id: str, status: str, timeout: float = 10) -> dict[str, Any]:
        """`wait_until` the payment reaches `status`."""
        return self.wait_until(payment_id, lambda p: p["status"] == status, timeout)

    def now(self) -> datetime:
        """The local clock's time (`GET /_local/clock`), timezone-aware UTC."""
        answer = httpx.get(f"{self.api_url}/_local/clock", timeout=10)
        answer.raise_for_status()
        return datetime.fromisoformat(answer.json()["now"])

    def advance(self, seconds: float) -> datetime:
        """Move the local clock forward (`POST /_local/clock`); returns once everything that
        fell due (schedules, sandbox retries and lifetimes) has run: the new time."""
        answer = httpx.post(
            f"{self.api_url}/_local/clock",
            json={"advance_seconds": seconds},
            timeout=ADVANCE_TIMEOUT_SECONDS,
        )
        answer.raise_for_status()
        return datetime.fromisoformat(answer.json()["now"])

    def sandbox_url(self, name: str) -> str:
        """A provider sandbox's base URL (`GET /_local/sandboxes`)."""
        return str(httpx.get(f"{self.api_url}/_local/sandboxes", timeout=5).json()[name])

    def events(self) -> list[dict[str, Any]]:
        path = self.state_dir / "events.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def events_for(self, payment_id: str, count: int, timeout: float = 30) -> list[dict[str, Any]]:
        """Wait until `count` events for the payment were published, then a little longer to
        catch any extra (duplicate) one."""
        return self.events_of({payment_id: count}, timeout)

    def events_of(self, counts: dict[str, int], timeout: float = 30) -> list[dict[str, Any]]:
        """Wait until `counts[id]` events were published for every payment id, then a little
        longer to catch any extra (duplicate) one; the events of those payments."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            mine = [e for e in self.events() if e["payment_id"] in counts]
            if len(mine) >= sum(counts.values()):
                time.sleep(1.0)
                break
            time.sleep(0.1)
        return [e for e in self.events() if e["payment_id"] in counts]


@dataclass(frozen=True)
class Ports:
    api: int
    moto: int
    paypro: int

    @classmethod
    def free(cls) -> Ports:
        return cls(free_port(), free_port(), free_port())


def start_runtime(
    ports: Ports,
    state_dir: Path,
    api_key: str = API_KEY,
    extra_env: dict[str, str] | None = None,
    base_env: dict[str, str] | None = None,
) -> Runtime:
    """`python -m local.run` (what `make run` runs) on `ports`, on the manual clock (time
    moves only by `Runtime.advance`; the reconcile schedule runs at the template's rate on it);
    returns once it answers. The runtime's environment is `base_env` (default: this process's)
    with the runtime's settings; `extra_env` overrides it."""
    base = dict(os.environ if base_env is None else base_env)
    env = {
        **base,
        "PAYGATE_PORT": str(ports.api),
        "PAYGATE_MOTO_PORT": str(ports.moto),
        "PAYGATE_PAYPRO_PORT": str(ports.paypro),
        "PAYGATE_API_KEY": api_key,
        "PAYGATE_STATE_DIR": str(state_dir),
        "PYTHONUNBUFFERED": "1",
        # Simulated time: nothing falls due unless a test advances the clock.
        "PAYGATE_CLOCK": base.get("PAYGATE_CLOCK", "manual"),
        # Simulated days make many retried status queries; their real backoff sleeps are
        # shortened (the retry logic is the same).
        "PROVIDER_RETRY_BACKOFF_SECONDS": base.get("PROVIDER_RETRY_BACKOFF_SECONDS", "0.01"),
        **(extra_env or {}),
    }
    for name in ("AWS_ENDPOINT_URL", "PAYPRO_BASE_URL", "WEBHOOK_BASE_URL", "PAYMENTS_TABLE"):
        env.pop(name, None)
    output = state_dir / "runtime.out"
    started = time.monotonic()
    with output.open("w") as log:
        command = [sys.executable, "-m", "local.run"]
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    api_url = f"http://127.0.0.1:{ports.api}"
    while time.monotonic() - started < STARTUP_TIMEOUT_SECONDS:
        if process.poll() is not None:
            raise RuntimeError(f"local runtime exited: {output.read_text()}")
        try:
            if httpx.get(f"{api_url}/_local/health", timeout=1).status_code == 200:
                elapsed = time.monotonic() - started
                paypro_url = f"http://127.0.0.1:{ports.paypro}"
                moto_url = f"http://127.0.0.1:{ports.moto}"
                return Runtime(api_url, paypro_url, state_dir, process, elapsed, api_key, moto_url)
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"local runtime did not come up: {output.read_text()}")


PORT_TAKEN = "Address already in use"
PORT_ATTEMPTS = 3


def start_runtime_on_free_ports(state_dir: Path, **options: Any) -> Runtime:
    """`start_runtime` on free ports; when another process took one of them between choosing
    and binding (the runtime exits with "Address already in use"), again on new ones."""
    for attempt in range(PORT_ATTEMPTS):
        try:
            return start_runtime(Ports.free(), state_dir, **options)
        except RuntimeError as exc:
            if PORT_TAKEN not in str(exc) or attempt == PORT_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def stop_runtime(runtime: Runtime) -> int:
    """Ctrl-C (SIGINT), as a user would; the exit code."""
    runtime.process.send_signal(signal.SIGINT)
    try:
        return runtime.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        runtime.process.kill()
        raise
