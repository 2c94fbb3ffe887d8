"""Smart Glocal webhook documents for the strict-model tests: the documented examples (events/
smartglocal/) carrying our payment id as every session we create does, and one-field mutations
of every field the gateway reads, each naming the field a refusal must name."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).resolve().parents[2] / "events/smartglocal"
WEBHOOKS = (
    "webhook-ready-to-confirm.json",
    "webhook-action-required.json",
    "webhook-payment-finished.json",
)
PAYMENT_ID = "pay_202612070000000123456789"
DELETE = object()  # a mutation that removes the field
PAYMENT = ("session", "acquiring_payments", 0)
REDIRECT = {"type": "redirect", "redirect": {"url": "https://qr.example/1", "method": "GET"}}

# (path, value): one field we read, out of its documented format.
MUTATIONS: list[tuple[tuple[str | int, ...], Any]] = [
    (("type",), "payment finished"),
    (("type",), "payment_finished;x"),
    (("type",), 7),
    (("type",), ""),
    (("type",), "x" * 65),
    (("status",), "OK"),
    (("status",), "success"),
    (("session",), DELETE),
    (("session",), "ps_5666"),
    (("session", "id"), ""),
    (("session", "id"), "ps 5666"),
    (("session", "id"), "ps_5666;payment:status:success"),
    (("session", "id"), 5666),
    (("session", "id"), "p" * 65),
    (("session", "id"), DELETE),
    (("session", "status"), "ACCEPTED"),
    (("session", "status"), "paid"),
    (("session", "status"), ""),
    (("session", "status"), None),
    (("session", "status"), DELETE),
    (("session", "updated_at"), "2025-12-04 07:49:43"),
    (("session", "updated_at"), "1764834583"),
    (("session", "updated_at"), 1764834583),
    (("session", "updated_at"), "2025-12-04"),
    (("session", "updated_at"), "2025-13-04T07:49:43.022068Z"),
    (("session", "updated_at"), "2025-12-04T07:49:43.022068"),  # no UTC offset
    (("session", "updated_at"), "2025-12-04T07:49:43.022068Z\n"),
    (("session", "updated_at"), None),
    (("session", "updated_at"), DELETE),
    (("session", "created_at"), "yesterday"),
    (("session", "next_action"), "pay"),
    (("session", "metadata"), {"paygate_payment_id": "pay_bench"}),
    (("session", "metadata"), "ours"),
    (("session", "acquiring_payments"), "none"),
    (("session", "acquiring_payments"), [{"id": "pm_1", "status": "pending"}] * 17),
    (("session", "error"), {"code": "no such code"}),
    ((*PAYMENT, "id"), ""),
    ((*PAYMENT, "id"), "pm 12354"),
    ((*PAYMENT, "id"), DELETE),
    ((*PAYMENT, "status"), "SUCCEEDED"),
    ((*PAYMENT, "status"), "paid"),
    ((*PAYMENT, "status"), DELETE),
    ((*PAYMENT, "amount_details", "amount"), "100000"),
    ((*PAYMENT, "amount_details", "amount"), 100000.0),
    ((*PAYMENT, "amount_details", "amount"), -100000),
    ((*PAYMENT, "amount_details", "amount"), 0),
    ((*PAYMENT, "amount_details", "amount"), True),
    ((*PAYMENT, "amount_details", "amount"), 10**16),
    ((*PAYMENT, "amount_details", "amount"), DELETE),
    ((*PAYMENT, "amount_details", "currency"), "USD"),
    ((*PAYMENT, "amount_details", "currency"), "vnd"),
    ((*PAYMENT, "amount_details", "currency"), DELETE),
    ((*PAYMENT, "amount_details"), "100000 VND"),
    ((*PAYMENT, "created_at"), 1764834508),
    ((*PAYMENT, "finished_at"), "2025-12-04T07:49:43Z;"),
    ((*PAYMENT, "metadata", "paygate_payment_id"), "pay_bench"),
    ((*PAYMENT, "metadata", "paygate_payment_id"), "pay_20261207000000012345678G"),
    ((*PAYMENT, "metadata", "paygate_payment_id"), f"{PAYMENT_ID}\n"),
    ((*PAYMENT, "metadata", "paygate_payment_id"), f"{PAYMENT_ID};x"),
    ((*PAYMENT, "metadata", "paygate_payment_id"), 42),
    ((*PAYMENT, "metadata"), ["paygate_payment_id", PAYMENT_ID]),
    ((*PAYMENT, "error"), {"code": "a b"}),
    ((*PAYMENT, "error"), {"code": "x", "description": "d" * 1001}),
    ((*PAYMENT, "customer_interaction"), {"redirect": {"url": "javascript:alert(1)"}}),
    ((*PAYMENT, "customer_interaction"), {"redirect": {"url": "https://a.b", "method": "PUT"}}),
]
# Keys Smart Glocal's webhook document does not have (its own are type, status, session).
UNKNOWN_TOP_LEVEL_KEYS = [
    "error",
    "payment",
    "signature",
    "sign",
    "session_id",
    "Type",
    "operation",
]
# What Smart Glocal may add inside the session ("method-specific fields"): kept, unread.
PROVIDER_ADDITIONS: list[tuple[tuple[str | int, ...], Any]] = [
    (("session", "actions"), {"confirm": "2025-12-04T07:48:28.327146Z", "refund": None}),
    (("session", "payments"), []),
    (("session", "next_action"), None),
    ((*PAYMENT, "transaction_info"), {"rrn": "123456789012", "auth_code": "A1"}),
    ((*PAYMENT, "customer_interaction"), REDIRECT),
    ((*PAYMENT, "metadata", "merchant_note"), "giao hàng nhanh; ok"),
    ((*PAYMENT, "recurrent"), False),
    ((*PAYMENT, "refunds"), []),
]


def documented(name: str, payment_id: str = PAYMENT_ID) -> dict[str, Any]:
    """A documented webhook carrying `payment_id` in its payment's metadata (the docs' example
    metadata is `{"key": "value"}`; ours adds `paygate_payment_id`, as the gateway sends it)."""
    document: dict[str, Any] = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    payment = document["session"]["acquiring_payments"][0]
    payment["metadata"] = {**payment.get("metadata", {}), "paygate_payment_id": payment_id}
    return document


def mutated(document: dict[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    """A copy of `document` with the field at `path` set to `value` (or removed: `DELETE`)."""
    changed = copy.deepcopy(document)
    node: Any = changed
    for part in path[:-1]:
        node = node[part]
    if value is DELETE:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value
    return changed


def field_name(path: tuple[str | int, ...]) -> str:
    return ".".join(str(part) for part in path)


def mutation_id(case: tuple[tuple[str | int, ...], Any]) -> str:
    path, value = case
    shown = "<deleted>" if value is DELETE else repr(value)[:24]
    return f"{field_name(path)}={shown}"
