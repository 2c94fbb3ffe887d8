"""E2E tier: talks over HTTP only to the local runtime (`python -m local.run`, what `make run`
starts) on free ports with its own state folder: the session's `runtime` fixture
(tests/conftest.py), shared with the browser tier."""

from __future__ import annotations

from typing import Any

from paygate.events import StatusChanged
from tools.launcher import API_KEY, ROOT, Ports, Runtime, start_runtime, stop_runtime

__all__ = ["API_KEY", "ROOT", "Ports", "Runtime", "start_runtime", "stop_runtime"]


def created(runtime: Runtime, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """The payment (or payout) a create at `path` answers with 201."""
    with runtime.client() as client:
        response = client.post(path, json=body)
    assert response.status_code == 201, response.text
    payment: dict[str, Any] = response.json()
    return payment


def payment_of(runtime: Runtime, payment_id: str) -> dict[str, Any]:
    """`GET /v1/payments/{id}`: the payment as the gateway has it now."""
    with runtime.client() as client:
        payment: dict[str, Any] = client.get(f"/v1/payments/{payment_id}").json()
    return payment


def statuses(runtime: Runtime, payment_id: str, count: int) -> list[str]:
    """The statuses of the payment's first `count` status events, each a valid
    `StatusChanged` with its own event id."""
    events = runtime.events_for(payment_id, count)
    for event in events:
        StatusChanged.model_validate(event)
    assert len({e["event_id"] for e in events}) == len(events)
    return [e["status"] for e in events]


# A Gate payment's (ecommpay, Monetix) first status events: `pending` is published only when the
# create's own write comes before the provider's first callback; when the callback overtook it,
# that write changes nothing and publishes nothing, and the create answers `requires_action`.
GATE_OPENINGS = (["created", "pending", "requires_action"], ["created", "requires_action"])


def gate_flows(*rest: str) -> list[list[str]]:
    """A Gate payment's status events, either opening, followed by `rest`."""
    return [[*opening, *rest] for opening in GATE_OPENINGS]


def gate_events(runtime: Runtime, payment_id: str, final: str) -> list[str]:
    """A Gate payment's published statuses through `final`, checked to be one of its flows."""
    seen = statuses(runtime, payment_id, 3)
    if seen[-1] != final:
        seen = statuses(runtime, payment_id, 4)
    assert seen in gate_flows(final), seen
    return seen
