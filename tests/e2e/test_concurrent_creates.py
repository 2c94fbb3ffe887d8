"""Concurrent clients through one local runtime: every function of the template shares its one
process there, and no function may see another's request (Powertools' resolver keeps the
event being resolved on a class attribute; local/aws/isolation.py makes it per invocation).
16 creates at once across the four payin methods, three rounds: each answers 201 with its
own provider, method and merchant reference."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tools.soak_local import METHODS, Method

from .conftest import Runtime

CLIENTS = 16
ROUNDS = 3


def create(runtime: Runtime, method: Method) -> tuple[Method, str, int, dict[str, Any]]:
    reference = f"race-{method.name}-{uuid.uuid4().hex[:10]}"
    body: dict[str, Any] = {**method.body, "merchant_reference": reference}
    if "customer" in body:
        body["customer"] = {**body["customer"], "id": reference}
    with runtime.client() as client:
        answer = client.post(method.route, json=body, timeout=60)
    return method, reference, answer.status_code, answer.json()


def test_concurrent_creates_across_methods_each_answer_their_own_201(runtime: Runtime) -> None:
    wrong = []
    with ThreadPoolExecutor(max_workers=CLIENTS) as clients:
        for _ in range(ROUNDS):
            methods = [METHODS[index % len(METHODS)] for index in range(CLIENTS)]
            for method, reference, status, payment in clients.map(
                lambda m: create(runtime, m), methods
            ):
                mine = (
                    status == 201
                    and payment.get("provider") == method.sandbox
                    and payment.get("method") == method.name
                    and payment.get("merchant_reference") == reference
                )
                if not mine:
                    wrong.append((method.name, status, payment))
    assert not wrong, f"{len(wrong)} of {CLIENTS * ROUNDS} creates answered wrong: {wrong[:3]}"
