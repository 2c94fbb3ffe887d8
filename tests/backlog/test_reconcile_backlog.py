"""A backlog on the local runtime (`make run`'s shape: the dispatcher on the schedule, moto's
SQS queues, the local event source mappings, the sandboxes), on the simulated clock: 1,000
unpaid payins across the four providers, created through the API at one moment by
`CLIENTS` merchants' clients at once, are each expired within their method's window plus
2 minutes, and each was queried at its provider at most once per due time of the lifecycle
policy (the sandboxes count the queries). `make test-backlog` runs it; it is not in
`make test` (tens of minutes on 2 cores: docs/reliability.md)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from paygate.lifecycle import LifecyclePolicy, WaitWindows
from tests.support.runtimes import BASE_ENVIRONMENT
from tools.launcher import Runtime, start_runtime_on_free_ports, stop_runtime
from tools.soak_local import METHODS, Method

BACKLOG = 1_000
CLIENTS = 8
CREATE_TIMEOUT_SECONDS = 120  # a create on a loaded machine: the runtime answers, slowly
STEP_SECONDS = 300
SLACK = timedelta(minutes=2)
WINDOWS = {
    "paypro": WaitWindows().paypro_vietqr,
    "smartglocal": WaitWindows().smartglocal_action,
    "ecommpay": WaitWindows().ecommpay_customer,
    "monetix": WaitWindows().monetix_customer,
}


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """A runtime of its own, without the leak check (`own_runtime`'s: it reads every item
    and log line, and the e2e tier runs it on its shared runtime after every flow)."""
    running = start_runtime_on_free_ports(
        tmp_path_factory.mktemp("reconcile_backlog"), base_env=BASE_ENVIRONMENT
    )
    try:
        yield running
    finally:
        assert stop_runtime(running) == 0


def due_times(window: timedelta, horizon: timedelta) -> int:
    """How many status queries the lifecycle policy schedules, within `horizon` of its create,
    for a payment nobody pays: the first after 60 s, then on the backoff, one at the window's
    end (it expires), then the expiry's tail (docs/lifecycle.md)."""
    policy = LifecyclePolicy()
    at, attempts, count = policy.first_query_after, 1, 1
    while at < window:
        at = min(at + policy.query_interval(attempts), window)
        attempts += 1
        count += 1
    tail, attempts = at + policy.tail_interval(0), 1
    while tail <= horizon:
        count += 1
        tail += policy.tail_interval(attempts)
        attempts += 1
    return count


def create(runtime: Runtime, index: int) -> tuple[Method, dict[str, Any]]:
    method = METHODS[index % len(METHODS)]
    reference = f"backlog-{index}-{uuid.uuid4().hex[:8]}"
    body: dict[str, Any] = {**method.body, "merchant_reference": reference}
    if "customer" in body:
        body["customer"] = {**body["customer"], "id": reference}
    with runtime.client() as client:
        answer = client.post(method.route, json=body, timeout=CREATE_TIMEOUT_SECONDS)
    assert answer.status_code == 201, answer.text
    assert answer.json()["merchant_reference"] == reference, answer.text
    payment: dict[str, Any] = answer.json()
    return method, payment


def queries(runtime: Runtime, method: Method, payment: dict[str, Any]) -> int:
    """The status queries the payment's sandbox answered for it."""
    base = runtime.sandbox_url(method.sandbox)
    if method.sandbox == "paypro":
        state = httpx.get(f"{base}/_sandbox/orders/{payment['id']}", timeout=10).json()
        return int(state["queries"])
    if method.sandbox == "smartglocal":
        session = payment["provider_reference"]
        state = httpx.get(f"{base}/_sandbox/sessions/{session}", timeout=10).json()
        return int(state["status_calls"])
    state = httpx.get(f"{base}/_sandbox/payments/{payment['id']}", timeout=10).json()
    return int(state["status_queries"])


def test_a_backlog_of_waiting_payments_expires_on_time_queried_once_per_due_time(
    runtime: Runtime,
) -> None:
    with ThreadPoolExecutor(max_workers=CLIENTS) as clients:
        made = list(clients.map(lambda index: create(runtime, index), range(BACKLOG)))
    created_at = {p["id"]: datetime.fromisoformat(p["created_at"]) for _, p in made}
    longest = max(WINDOWS.values()) + SLACK
    moved = timedelta()
    while moved < longest:
        runtime.advance(STEP_SECONDS)
        moved += timedelta(seconds=STEP_SECONDS)
    late, unexpired, over_asked = [], [], []

    def now_of(pair: tuple[Method, dict[str, Any]]) -> tuple[dict[str, Any], int | None]:
        method, payment = pair
        with runtime.client() as client:
            now: dict[str, Any] = client.get(f"/v1/payments/{payment['id']}").json()
        asked = queries(runtime, method, now) if now["status"] == "expired" else None
        return now, asked

    with ThreadPoolExecutor(max_workers=CLIENTS) as clients:
        found = list(clients.map(now_of, made))
    for (method, payment), (now, asked) in zip(made, found, strict=True):
        window = WINDOWS[method.sandbox]
        if now["status"] != "expired" or asked is None:
            unexpired.append((payment["id"], now["status"]))
            continue
        expired_at = datetime.fromisoformat(now["updated_at"])
        if expired_at > created_at[payment["id"]] + window + SLACK:
            late.append((payment["id"], expired_at - created_at[payment["id"]]))
        most = due_times(window, moved)
        if not 1 <= asked <= most:
            over_asked.append((payment["id"], method.sandbox, asked, most))
    assert not unexpired, f"{len(unexpired)} not expired: {unexpired[:5]}"
    assert not late, f"{len(late)} expired late: {late[:5]}"
    assert not over_asked, f"asked more than once per due time: {over_asked[:5]}"
