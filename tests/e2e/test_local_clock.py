"""The local runtime's one clock over HTTP (`GET|POST /_local/clock`, local/aws/clock.py): on the
manual clock the e2e launcher sets, time moves only when a test advances it; the sandboxes'
callback retries follow the providers' documented schedules on it and the reconcile schedule
ticks on it. Counts only: nothing here measures how long anything took, nothing sleeps."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

import httpx
import pytest

from local.sandboxes.outbox import PAYPRO_NOTIFY_DELAYS, platform_interval

from .conftest import Runtime, created, payment_of

VIETQR = {"amount": 50000, "currency": "VND", "merchant_reference": "e2e-clock"}
WALLET = {
    "method": "nganluong_wallet",
    "amount": 120_000,
    "merchant_reference": "e2e-clock-wallet",
    "customer": {
        "id": "cust-clock",
        "email": "buyer@example.com",
        "phone": "84438336996",
        "ip_address": "198.51.100.47",
        "first_name": "An",
        "last_name": "Nguyen",
    },
    "return_url": "https://merchant.example/back",
}


def clock(runtime: Runtime, method: str = "GET", body: Any = None) -> httpx.Response:
    url = f"{runtime.api_url}/_local/clock"
    if method == "GET":
        return httpx.get(url, timeout=10)
    return httpx.request(method, url, json=body, timeout=600)


def settings(runtime: Runtime, sandbox: str, **changes: Any) -> dict[str, Any]:
    answer = httpx.post(f"{runtime.sandbox_url(sandbox)}/_sandbox/settings", json=changes)
    assert answer.status_code == 200, answer.text
    current: dict[str, Any] = answer.json()
    return current


@pytest.fixture
def sandboxes_reset(runtime: Runtime) -> Iterator[None]:
    """The runtime is shared: put the sandboxes' delivery faults back afterwards."""
    yield
    for name in ("paypro", "ecommpay", "monetix", "smartglocal"):
        settings(runtime, name, callbacks="deliver", status_query="normal")


def create(runtime: Runtime, provider: str, body: dict[str, Any]) -> dict[str, Any]:
    return created(runtime, f"/v1/{provider}/payments", body)


def test_get_reads_and_post_advances_the_clock(runtime: Runtime) -> None:
    answer = clock(runtime)
    assert answer.status_code == 200
    before = datetime.fromisoformat(answer.json()["now"])
    assert before.tzinfo is not None and before.utcoffset() == timedelta(0)
    assert runtime.now() == before  # manual: it does not move by itself
    moved = clock(runtime, "POST", {"advance_seconds": 90})
    assert moved.status_code == 200
    assert datetime.fromisoformat(moved.json()["now"]) == before + timedelta(seconds=90)
    assert runtime.advance(0.5) == before + timedelta(seconds=90.5)
    assert runtime.now() == before + timedelta(seconds=90.5)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({}, 422),
        ({"advance_seconds": -1}, 422),
        ({"advance_seconds": "60"}, 422),
        ({"advance_seconds": True}, 422),
        ({"advance_seconds": None}, 422),
        ([60], 400),
    ],
)
def test_bad_bodies_are_refused_naming_the_field(runtime: Runtime, body: Any, status: int) -> None:
    before = runtime.now()
    answer = clock(runtime, "POST", body)
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    if status == 422:
        assert error["field"] == "advance_seconds"
        assert "advance_seconds" in error["message"]
    assert runtime.now() == before


def test_a_malformed_body_is_a_400(runtime: Runtime) -> None:
    answer = httpx.post(
        f"{runtime.api_url}/_local/clock",
        content=b"{advance",
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert answer.status_code == 400 and "error" in answer.json()


def test_a_paypro_notify_is_retried_on_its_documented_schedule(
    runtime: Runtime, sandboxes_reset: None
) -> None:
    payment = create(runtime, "paypro", {**VIETQR, "merchant_reference": "e2e-clock-notify"})
    settings(runtime, "paypro", callbacks="unreachable")
    link = payment["next_action"]["payment_link"]
    paid = httpx.post(f"{link}/pay", json={}, timeout=10).json()
    assert paid["delivered"] is False
    order_url = f"{runtime.paypro_url}/_sandbox/orders/{paid['tradeNo']}"

    def attempts() -> int:
        return len(httpx.get(order_url, timeout=10).json()["deliveries"])

    assert attempts() == 1  # at once, when the customer paid
    for number, delay in enumerate(PAYPRO_NOTIFY_DELAYS[:4], start=2):  # 2 s, 5 s, 10 s, 30 s
        runtime.advance(delay - 1)
        assert attempts() == number - 1
        runtime.advance(1)
        assert attempts() == number
    settings(runtime, "paypro", callbacks="deliver")
    runtime.advance(3600)  # the fifth retry, 1 h later, reaches the gateway
    order = httpx.get(order_url, timeout=10).json()
    assert [d["statusCode"] for d in order["deliveries"]] == [None] * 5 + [200]
    assert order["delivered"] is True
    runtime.advance(86_400)
    assert attempts() == 6  # delivered: no more
    assert payment_of(runtime, payment["id"])["status"] == "succeeded"


def test_the_platform_schedule_starts_with_six_attempts_10_s_apart(
    runtime: Runtime, sandboxes_reset: None
) -> None:
    settings(runtime, "ecommpay", callbacks="unreachable")
    payment = create(runtime, "ecommpay", {**WALLET, "merchant_reference": "e2e-clock-platform"})
    url = f"{runtime.sandbox_url('ecommpay')}/_sandbox/payments/{payment['id']}"

    def attempts() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = httpx.get(url, timeout=10).json()["callbacks"][0]["attempts"]
        return found

    assert len(attempts()) == 1
    for number in range(2, 7):
        runtime.advance(10)
        assert len(attempts()) == number
    seventh = platform_interval(7)  # 70 + 10 * 1.12^3 s
    runtime.advance(seventh - 1)
    assert len(attempts()) == 6
    settings(runtime, "ecommpay", callbacks="deliver")
    runtime.advance(1)
    made = attempts()
    assert [a["status_code"] for a in made] == [None] * 6 + [200]
    at = [datetime.fromisoformat(a["at"]) for a in made]
    assert [(b - a).total_seconds() for a, b in pairwise(at)] == pytest.approx(
        [10.0] * 5 + [seventh]
    )


def test_schedule_ticks_run_only_while_the_clock_advances(
    runtime: Runtime, sandboxes_reset: None
) -> None:
    """A paid VietQR order whose notify is lost: only reconciliation's status query (the
    schedule, rate(1 minute) on the clock) can tell the gateway."""
    payment = create(runtime, "paypro", {**VIETQR, "merchant_reference": "e2e-clock-tick"})
    settings(runtime, "paypro", callbacks="lost")
    link = payment["next_action"]["payment_link"]
    paid = httpx.post(f"{link}/pay", json={}, timeout=10).json()
    order_url = f"{runtime.paypro_url}/_sandbox/orders/{paid['tradeNo']}"
    order = httpx.get(order_url, timeout=10).json()
    assert order["lost"] is True and order["deliveries"] == [] and order["queries"] == 0
    assert payment_of(runtime, payment["id"])["status"] == "requires_action"
    runtime.advance(15 * 60)
    assert httpx.get(order_url, timeout=10).json()["queries"] >= 1
    assert payment_of(runtime, payment["id"])["status"] == "succeeded"


def test_an_11_day_advance_completes_with_every_attempt_the_platform_makes(
    runtime: Runtime, sandboxes_reset: None
) -> None:
    settings(runtime, "monetix", callbacks="unreachable")
    transfer = {
        "method": "bank_transfer",
        "amount": 310_000,
        "merchant_reference": "e2e-clock-11-days",
        "customer": WALLET["customer"],
    }
    payment = create(runtime, "monetix", transfer)
    before = runtime.now()
    after = runtime.advance(11 * 86_400)
    assert after == before + timedelta(days=11)
    url = f"{runtime.sandbox_url('monetix')}/_sandbox/payments/{payment['id']}"
    first = httpx.get(url, timeout=10).json()["callbacks"][0]
    assert len(first["attempts"]) == 120  # the documented maximum, all within 11 days
    assert first["delivered"] is False
    last = datetime.fromisoformat(first["attempts"][-1]["at"])
    assert last - datetime.fromisoformat(first["attempts"][0]["at"]) <= timedelta(days=11)


SG_ORDER = {
    "amount": 100000,
    "currency": "VND",
    "merchant_reference": "e2e-clock-sg",
    "customer": {
        "email": "buyer@example.com",
        "full_name": "Nguyen Van A",
        "document": "012345678901",
    },
}


def sg_session(runtime: Runtime, session_id: str) -> dict[str, Any]:
    url = f"{runtime.sandbox_url('smartglocal')}/_sandbox/sessions/{session_id}"
    session: dict[str, Any] = httpx.get(url, timeout=10).json()
    return session


def test_smart_glocal_cancels_an_unpaid_qr_after_60_minutes(runtime: Runtime) -> None:
    payment = create(runtime, "smartglocal", SG_ORDER)
    ready = runtime.wait_for_status(payment["id"], "requires_action")
    session_id = ready["provider_reference"]
    runtime.advance(59 * 60)
    assert sg_session(runtime, session_id)["status"] == "in_progress"
    runtime.advance(60)
    session = sg_session(runtime, session_id)
    assert session["status"] == "cancelled"
    assert session["acquiring_payments"][0]["status"] == "failed"
    finished = session["webhooks"][-1]
    assert finished["type"] == "payment_finished" and finished["delivered"] is True


def test_smart_glocal_ends_a_session_left_unconfirmed_within_240_minutes(
    runtime: Runtime,
) -> None:
    payment = create(
        runtime,
        "smartglocal",
        {**SG_ORDER, "confirmation": "manual", "merchant_reference": "e2e-clock-sg-confirm"},
    )
    waiting = runtime.wait_for_status(payment["id"], "requires_confirmation")
    session_id = waiting["provider_reference"]
    runtime.advance(240 * 60)
    session = sg_session(runtime, session_id)
    assert session["status"] == "cancelled"  # by the gateway's own window, or Smart Glocal's
    assert [w["type"] for w in session["webhooks"]][-1] == "payment_finished"
