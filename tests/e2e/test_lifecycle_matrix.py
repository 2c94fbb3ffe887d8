"""The lifecycle over simulated days, end to end (docs/lifecycle.md): every payin method and every
payout method through the local runtime, with its one clock moved by `POST /_local/clock` and
the sandboxes' documented behaviour (callback retry schedules, provider-side lifetimes, lost
callbacks, silent or "in progress" status queries). Never sleeps to let time pass.

After each scenario the merchant-facing status equals the provider's truth or `needs_review`;
while a payment waits for its customer, its next action is there at every poll; and (the last
test) every status change was published exactly once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from .conftest import Runtime

CUSTOMER = {
    "id": "cust-matrix",
    "email": "buyer@example.com",
    "phone": "84438336996",
    "ip_address": "198.51.100.47",
    "first_name": "An",
    "last_name": "Nguyen",
    "full_name": "Nguyen Van An",
    "document": "0123456789",
}
PLATFORM_CUSTOMER = {k: v for k, v in CUSTOMER.items() if k not in ("full_name", "document")}
WAITING = {"created", "pending", "requires_confirmation", "requires_action"}
MINUTE = 60
HOUR = 3600
DAY = 86_400
SEEN: list[str] = []  # every payment and payout the matrix made (for the events check)


def customer_post(url: str, **body: Any) -> int:
    """The customer's action on a sandbox page; its HTTP status (200 = the provider took it)."""
    answer = httpx.post(url, json=body, headers={"accept": "application/json"}, timeout=30)
    return answer.status_code


@dataclass(frozen=True)
class Payin:
    name: str
    sandbox: str
    route: str
    body: dict[str, Any]
    window: int  # the gateway's wait for the customer, seconds (docs/lifecycle.md)
    motion: int  # the provider's whole window for money in motion, seconds
    pay: Callable[[Runtime, dict[str, Any]], int]


def _pay_paypro(runtime: Runtime, payment: dict[str, Any]) -> int:
    return customer_post(f"{runtime.sandbox_url('paypro')}/pay/{payment['provider_reference']}/pay")


def _pay_redirect(runtime: Runtime, payment: dict[str, Any]) -> int:
    return customer_post(f"{payment['next_action']['url']}/pay")


def _pay_transfer(runtime: Runtime, payment: dict[str, Any]) -> int:
    url = f"{runtime.sandbox_url('monetix')}/_sandbox/payments/{payment['id']}/transfer"
    return customer_post(url)


PAYINS = [
    Payin("vietqr", "paypro", "/v1/paypro/payments",
          {"amount": 50_000, "merchant_reference": "m-vietqr"}, 30 * MINUTE, 8 * DAY, _pay_paypro),
    Payin("ewallet", "smartglocal", "/v1/smartglocal/payments",
          {"amount": 120_000, "merchant_reference": "m-ewallet", "customer": CUSTOMER},
          60 * MINUTE, int(4.5 * HOUR), _pay_redirect),
    Payin("napas_atm", "ecommpay", "/v1/ecommpay/payments",
          {"method": "napas_atm", "amount": 120_000, "merchant_reference": "m-atm",
           "customer": PLATFORM_CUSTOMER, "bank_id": 136,
           "return_url": "https://merchant.example/back"}, 30 * MINUTE, 11 * DAY, _pay_redirect),
    Payin("nganluong_wallet", "ecommpay", "/v1/ecommpay/payments",
          {"method": "nganluong_wallet", "amount": 120_000, "merchant_reference": "m-nl",
           "customer": PLATFORM_CUSTOMER, "return_url": "https://merchant.example/back"},
          30 * MINUTE, 11 * DAY, _pay_redirect),
    Payin("bank_transfer", "monetix", "/v1/monetix/payments",
          {"method": "bank_transfer", "amount": 300_000, "merchant_reference": "m-bt",
           "customer": PLATFORM_CUSTOMER}, 30 * MINUTE, 11 * DAY, _pay_transfer),
]  # fmt: skip


@dataclass(frozen=True)
class Payout:
    name: str
    sandbox: str
    route: str
    body: dict[str, Any]
    motion: int
    result_url: Callable[[Runtime, dict[str, Any]], str]


def _platform_result(runtime: Runtime, payout: dict[str, Any]) -> str:
    return f"{runtime.sandbox_url('ecommpay')}/_sandbox/payments/{payout['id']}/transfer"


def _paypro_result(runtime: Runtime, payout: dict[str, Any]) -> str:
    return f"{runtime.sandbox_url('paypro')}/_sandbox/payouts/{payout['id']}/succeed"


PAYEE = {"id": "payee-matrix", "ip_address": "198.51.100.47"}
PAYOUTS = [
    Payout("atm_payout", "ecommpay", "/v1/ecommpay/payouts",
           {"method": "napas_atm", "amount": 150_000, "merchant_reference": "m-po-atm",
            "customer": PAYEE, "bank_id": 136, "region_id": 290,
            "card": {"pan": "4111111111111111", "card_holder": "NGUYEN AN", "year": 2030,
                     "month": 12}}, 11 * DAY, _platform_result),
    Payout("nganluong_payout", "ecommpay", "/v1/ecommpay/payouts",
           {"method": "nganluong_wallet", "amount": 100_000, "merchant_reference": "m-po-nl",
            "customer": PAYEE, "account_number": "payee@example.com"}, 11 * DAY,
           _platform_result),
    Payout("paypro_payout", "paypro", "/v1/paypro/payouts",
           {"amount": 60_000, "merchant_reference": "m-po-pp", "account_name": "NGUYEN VAN A",
            "bank_name": "ACB", "bank_number": "0123456789"}, 8 * DAY, _paypro_result),
]  # fmt: skip


# -- helpers -----------------------------------------------------------------------------------


def settings(runtime: Runtime, sandbox: str, **changes: Any) -> None:
    answer = httpx.post(f"{runtime.sandbox_url(sandbox)}/_sandbox/settings", json=changes)
    assert answer.status_code == 200, answer.text


@pytest.fixture(scope="module", autouse=True)
def _events_checked_at_the_end(runtime: Runtime) -> Iterator[None]:
    """After this module's tests (those a pytest-xdist worker ran, on its runtime): every
    status change of the payments they made was published exactly once."""
    yield
    every_status_change_was_published_exactly_once(runtime)


@pytest.fixture(autouse=True)
def _normal_sandboxes(runtime: Runtime) -> Iterator[None]:
    yield
    for sandbox in ("paypro", "smartglocal", "ecommpay", "monetix"):
        settings(runtime, sandbox, callbacks="deliver", status_query="normal")


def read(runtime: Runtime, payment_id: str) -> dict[str, Any]:
    """A payment with the merchant's key; a payout as an operator (an operator route)."""
    payout = payment_id.startswith("po_")
    with runtime.operator("viewer") if payout else runtime.client() as client:
        answer = client.get(f"/v1/{'payouts' if payout else 'payments'}/{payment_id}")
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def settle(runtime: Runtime, payment_id: str, until: Callable[[dict[str, Any]], bool]) -> Any:
    """The payment once `until` holds (the webhook hop is asynchronous: `Runtime.wait_until`
    polls it in real time; simulated time only moves by `runtime.advance`)."""
    return runtime.wait_until(payment_id, until, timeout=15)


def start(runtime: Runtime, method: Payin) -> dict[str, Any]:
    """Create the payment and wait until the customer has something to act on."""
    with runtime.client() as client:
        answer = client.post(method.route, json=method.body)
    assert answer.status_code == 201, answer.text
    payment: dict[str, Any] = answer.json()
    SEEN.append(payment["id"])
    return settle(  # type: ignore[no-any-return]
        runtime, payment["id"], lambda p: p["status"] == "requires_action" and p["next_action"]
    )


def wait_polling(runtime: Runtime, payment: dict[str, Any], seconds: int, step: int) -> None:
    """Let `seconds` pass in `step`s; at every poll a waiting payment still shows its action."""
    passed = 0
    while passed < seconds:
        runtime.advance(min(step, seconds - passed))
        passed += min(step, seconds - passed)
        seen = read(runtime, payment["id"])
        if seen["status"] in WAITING:
            assert seen["next_action"] == payment["next_action"], (passed, seen)


# -- payins ------------------------------------------------------------------------------------

IDS = [m.name for m in PAYINS]


@pytest.mark.parametrize("method", PAYINS, ids=IDS)
def test_the_customer_pays_after_5_minutes(runtime: Runtime, method: Payin) -> None:
    payment = start(runtime, method)
    wait_polling(runtime, payment, 5 * MINUTE, MINUTE)
    assert method.pay(runtime, payment) == 200
    final = settle(runtime, payment["id"], lambda p: p["status"] == "succeeded")
    assert final["status"] == "succeeded"


@pytest.mark.parametrize("method", PAYINS, ids=IDS)
def test_the_customer_pays_just_inside_the_window(runtime: Runtime, method: Payin) -> None:
    payment = start(runtime, method)
    wait_polling(runtime, payment, method.window - MINUTE, 5 * MINUTE)
    assert read(runtime, payment["id"])["status"] == "requires_action"
    assert method.pay(runtime, payment) == 200
    assert settle(runtime, payment["id"], lambda p: p["status"] == "succeeded")["status"] == (
        "succeeded"
    )


@pytest.mark.parametrize("method", PAYINS, ids=IDS)
def test_the_customer_pays_just_past_the_window(runtime: Runtime, method: Payin) -> None:
    payment = start(runtime, method)
    wait_polling(runtime, payment, method.window + 2 * MINUTE, 5 * MINUTE)
    ended = read(runtime, payment["id"])
    assert ended["status"] in ("expired", "cancelled", "failed"), (
        ended
    )  # we or the provider ended it
    taken = method.pay(runtime, payment) == 200  # the provider may still take it, or refuse
    runtime.advance(MINUTE)
    final = settle(runtime, payment["id"], lambda p: not taken or p["status"] == "needs_review")
    if taken:  # money moved after the gateway ended it: never dropped
        assert (final["status"], final["failure"]["code"]) == ("needs_review", "paid_after_expiry")
    else:
        assert final["status"] == ended["status"]


# The tail after the gateway's own expiry (TAIL_*_HOURS, docs/lifecycle.md rule 9).
TAILS = {"paypro": 72 * HOUR, "smartglocal": 4 * HOUR + 30 * MINUTE}


@pytest.mark.parametrize("method", PAYINS, ids=IDS)
def test_paid_after_expiry_with_every_callback_lost_is_found_within_the_tail(
    runtime: Runtime, method: Payin
) -> None:
    payment = start(runtime, method)
    settings(runtime, method.sandbox, callbacks="lost")
    runtime.advance(method.window + 2 * MINUTE)
    ended = read(runtime, payment["id"])
    assert ended["status"] == "expired", ended  # abandoned, whoever ended it first
    taken = method.pay(runtime, payment) == 200  # the provider may still take it, or refuse
    runtime.advance(TAILS.get(method.sandbox, 72 * HOUR))
    final = read(runtime, payment["id"])
    if taken:  # money moved after the expiry and nobody called back: the tail's query found it
        assert (final["status"], final["failure"]["code"]) == ("needs_review", "paid_after_expiry")
    else:  # Smart Glocal's session, the Payment Page: closed at the window's end
        assert (final["status"], final["version"]) == ("expired", ended["version"])


@pytest.mark.parametrize("method", PAYINS, ids=IDS)
def test_every_callback_is_lost_and_queries_tell(runtime: Runtime, method: Payin) -> None:
    payment = start(runtime, method)
    settings(runtime, method.sandbox, callbacks="lost")
    runtime.advance(5 * MINUTE)
    assert method.pay(runtime, payment) == 200
    assert read(runtime, payment["id"])["status"] == "requires_action"  # nobody told us yet
    runtime.advance(method.window)  # reconcile's queries find the payment
    assert read(runtime, payment["id"])["status"] == "succeeded"


@pytest.mark.parametrize("method", PAYINS, ids=IDS)
def test_a_provider_silent_for_its_whole_window(runtime: Runtime, method: Payin) -> None:
    payment = start(runtime, method)
    settings(runtime, method.sandbox, callbacks="lost", status_query="silent")
    runtime.advance(5 * MINUTE)
    assert method.pay(runtime, payment) == 200  # the provider has the money; nobody says so
    runtime.advance(method.window + HOUR)
    waiting = read(runtime, payment["id"])
    assert waiting["status"] == "requires_action", waiting  # never expired on silence
    runtime.advance(method.motion)
    final = read(runtime, payment["id"])
    assert (final["status"], final["failure"]["code"]) == ("needs_review", "provider_silent")


@pytest.mark.parametrize("method", PAYINS, ids=IDS)
def test_the_provider_says_in_progress_for_hours(runtime: Runtime, method: Payin) -> None:
    payment = start(runtime, method)
    settings(runtime, method.sandbox, callbacks="lost", status_query="in_progress")
    wait_polling(runtime, payment, 3 * HOUR, 10 * MINUTE)
    seen = read(runtime, payment["id"])
    # Nobody paid: the wait ends at its window (expired), or, where the provider says it is
    # working on it (the platform's `processing`), the payment is still followed, never failed.
    assert seen["status"] in ("expired", "requires_action"), seen
    settings(runtime, method.sandbox, callbacks="deliver", status_query="normal")
    runtime.advance(method.motion + DAY)
    final = read(runtime, payment["id"])
    # Nobody paid: ended (by us or the provider), or, where the provider kept saying "in
    # progress" and would not cancel for its whole window, left for a person to check.
    ended = final["status"] in ("expired", "cancelled", "failed")
    silent = final["status"] == "needs_review" and final["failure"]["code"] == "provider_silent"
    assert ended or silent, final


# -- payouts -----------------------------------------------------------------------------------

PAYOUT_IDS = [p.name for p in PAYOUTS]


def send(runtime: Runtime, method: Payout) -> dict[str, Any]:
    # one payout per merchant_reference: each payout here is its own order
    body = {**method.body, "merchant_reference": f"{method.body['merchant_reference']}-{len(SEEN)}"}
    with runtime.client() as client:
        answer = client.post(method.route, json=body)
    assert answer.status_code == 201, answer.text
    payout: dict[str, Any] = answer.json()
    assert payout["status"] == "processing"
    SEEN.append(payout["id"])
    return payout


@pytest.mark.parametrize("method", PAYOUTS, ids=PAYOUT_IDS)
def test_a_payout_result_after_5_minutes(runtime: Runtime, method: Payout) -> None:
    payout = send(runtime, method)
    runtime.advance(5 * MINUTE)
    assert customer_post(method.result_url(runtime, payout)) == 200
    assert settle(runtime, payout["id"], lambda p: p["status"] == "succeeded")["status"] == (
        "succeeded"
    )


@pytest.mark.parametrize("method", PAYOUTS, ids=PAYOUT_IDS)
def test_a_payout_whose_callbacks_are_lost_is_settled_by_query(
    runtime: Runtime, method: Payout
) -> None:
    payout = send(runtime, method)
    settings(runtime, method.sandbox, callbacks="lost")
    runtime.advance(HOUR)
    assert customer_post(method.result_url(runtime, payout)) == 200
    assert read(runtime, payout["id"])["status"] == "processing"
    runtime.advance(7 * HOUR)  # queries at most 6 hours apart
    assert read(runtime, payout["id"])["status"] == "succeeded"


@pytest.mark.parametrize("method", PAYOUTS, ids=PAYOUT_IDS)
def test_a_payout_in_progress_for_days_never_expires_or_fails(
    runtime: Runtime, method: Payout
) -> None:
    payout = send(runtime, method)
    settings(runtime, method.sandbox, callbacks="lost", status_query="in_progress")
    for _ in range(3):
        runtime.advance(DAY)
        assert read(runtime, payout["id"])["status"] == "processing"
    assert customer_post(method.result_url(runtime, payout)) == 200
    settings(runtime, method.sandbox, status_query="normal")
    runtime.advance(7 * HOUR)
    assert read(runtime, payout["id"])["status"] == "succeeded"


@pytest.mark.parametrize("method", PAYOUTS, ids=PAYOUT_IDS)
def test_a_payout_whose_provider_is_silent_for_its_window_needs_review(
    runtime: Runtime, method: Payout
) -> None:
    payout = send(runtime, method)
    settings(runtime, method.sandbox, callbacks="lost", status_query="silent")
    runtime.advance(method.motion - HOUR)
    assert read(runtime, payout["id"])["status"] == "processing"
    runtime.advance(7 * HOUR)
    final = read(runtime, payout["id"])
    assert (final["status"], final["failure"]["code"]) == ("needs_review", "provider_silent")


# -- events (checked by _events_checked_at_the_end) ---------------------------------------------


def every_status_change_was_published_exactly_once(runtime: Runtime) -> None:
    """The events check over every payment in SEEN (run when the module's tests are done)."""
    assert SEEN, "run with the matrix above"
    expected = {payment_id: read(runtime, payment_id)["version"] for payment_id in SEEN}
    events = runtime.events_of(expected)
    ids = [e["event_id"] for e in events]
    assert len(ids) == len(set(ids)), "an event was published twice"
    for payment_id, version in expected.items():
        versions = sorted(e["version"] for e in events if e["payment_id"] == payment_id)
        assert versions == list(range(1, version + 1)), (payment_id, versions)
