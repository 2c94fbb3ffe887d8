"""Bank ids: the provider decides. A request's `bank_id` (and `region_id`) is checked against
the provider's live bank list when it answers (an unknown id is a 422 naming the field); when
it cannot answer, or there is no such list (Monetix), the request is passed on."""

from __future__ import annotations

from typing import Any

import pytest

from paygate.api_requests import EcommpayPayoutRequest, MonetixPaymentRequest
from paygate.domain import Method, Operation, Provider
from paygate.errors import ProviderError, ValidationFailed
from paygate.providers.platform import banks
from paygate.providers.platform.banks import Bank, LiveList, Region
from paygate.providers.platform.gateway import BANK_LIST_PATHS, PlatformConfig, PlatformGateway

from .test_platform_rules import CARD, request

DONGA = Bank(id=130, name="DongA Joint Stock Commercial Bank", purchase=None, payout=None)
VIETCOMBANK = Bank(id=133, name="Vietcombank", purchase=None, payout=None)
EXIMBANK = Bank(id=135, name="Eximbank Vietnam", purchase=None, payout=None)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


class FakeGate:
    """The bank-list call of a Gate client: each answer in turn (a list, or an error)."""

    def __init__(self, *answers: LiveList | ProviderError) -> None:
        self.answers = list(answers)
        self.calls: list[str] = []

    def banks(self, path: str, amount: int, currency: str) -> LiveList:
        self.calls.append(path)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, ProviderError):
            raise answer
        return answer


def gateway(
    gate: FakeGate, provider: Provider = Provider.ECOMMPAY, channel: int = 2
) -> tuple[PlatformGateway, Clock]:
    config = PlatformConfig(
        provider=provider,
        secret_id="unused",
        gate_url="http://127.0.0.1:9",
        payment_page_url="http://127.0.0.1:9/payment",
        atm_channel=channel,  # type: ignore[arg-type]
    )
    made = PlatformGateway(None, config, lambda _: gate)  # type: ignore[arg-type]
    made.credentials = lambda: None  # type: ignore[method-assign,assignment,return-value]
    clock = Clock()
    made.live_banks = banks.LiveBanks(made._live_bank_list, now=clock)
    return made, clock


def atm_payout(**fields: Any) -> EcommpayPayoutRequest:
    body = {
        "method": "napas_atm",
        "amount": 100_000,
        "merchant_reference": "po-1",
        "customer": {"id": "2990", "ip_address": "198.51.100.7"},
        "bank_id": 130,
        "region_id": 137,
        "card": CARD,
        **fields,
    }
    return EcommpayPayoutRequest.model_validate(body)


def refused(call: Any, *args: Any) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        call(*args)
    return caught.value


def test_a_bank_in_the_live_list_passes_and_one_outside_it_is_422_naming_bank_id() -> None:
    gate = FakeGate(LiveList(banks=(DONGA, EXIMBANK)))
    made, _ = gateway(gate)
    assert made.prepare_payment(request("napas_atm", bank_id=135)).method is Method.NAPAS_ATM
    error = refused(made.prepare_payment, request("napas_atm", bank_id=4242))
    assert error.field == "bank_id"
    assert "4242" in error.message and "provider's bank list" in error.message
    assert gate.calls == [BANK_LIST_PATHS[Operation.SALE]]  # one call, kept for both


def test_the_docs_atm_payout_example_passes_when_the_provider_lists_donga() -> None:
    """ecommpay's Vietnamese ATM guide, payout request example: bank 130, region 137. The
    channel 2 table has a single "+" for DongA, which does not say payouts are refused."""
    gate = FakeGate(LiveList(banks=(DONGA,)))
    made, _ = gateway(gate, channel=2)
    payout = made.prepare_payout(atm_payout())
    assert payout.destination is not None and payout.destination.bank_id == 130
    assert gate.calls == [BANK_LIST_PATHS[Operation.PAYOUT]]
    assert refused(made.prepare_payout, atm_payout(bank_id=133)).field == "bank_id"


def test_region_ids_are_checked_only_against_regions_the_provider_lists() -> None:
    unlisted = FakeGate(LiveList(banks=(DONGA,)))  # the answer names no regions
    made, _ = gateway(unlisted)
    made.prepare_payout(atm_payout(region_id=1))  # passed on: the provider decides
    listed = FakeGate(LiveList(banks=(DONGA,), regions=(Region(id=137, name="An Giang"),)))
    made, _ = gateway(listed)
    made.prepare_payout(atm_payout(region_id=137))
    assert refused(made.prepare_payout, atm_payout(region_id=1)).field == "region_id"


def test_without_a_live_list_the_request_is_passed_on_and_the_outage_is_remembered() -> None:
    down = ProviderError("ecommpay connection failed")
    gate = FakeGate(down, down, LiveList(banks=(EXIMBANK,)))
    made, clock = gateway(gate)
    made.prepare_payment(request("napas_atm", bank_id=4242))  # not refused by our tables
    made.prepare_payout(atm_payout(bank_id=4242))
    clock.now += banks.RETRY_LIVE_LIST_SECONDS - 1
    made.prepare_payment(request("napas_atm", bank_id=4343))
    assert gate.calls == [BANK_LIST_PATHS[Operation.SALE], BANK_LIST_PATHS[Operation.PAYOUT]]
    clock.now += 2  # the outage is over: the next create asks again, and the list decides
    assert refused(made.prepare_payment, request("napas_atm", bank_id=4242)).field == "bank_id"
    assert len(gate.calls) == 3


def test_a_live_list_is_kept_then_asked_again() -> None:
    gate = FakeGate(LiveList(banks=(EXIMBANK,)), LiveList(banks=(VIETCOMBANK,)))
    made, clock = gateway(gate)
    made.prepare_payment(request("napas_atm", bank_id=135))
    clock.now += banks.LIVE_LIST_SECONDS - 1
    made.prepare_payment(request("napas_atm", bank_id=135))
    assert len(gate.calls) == 1
    clock.now += 2
    assert refused(made.prepare_payment, request("napas_atm", bank_id=135)).field == "bank_id"
    assert len(gate.calls) == 2


def test_monetix_bank_ids_are_passed_on_without_a_bank_list_call() -> None:
    """Monetix documents no bank-list call and calls its table informational: its own Gate
    example's bank 205 (not in the table) is the provider's to accept or refuse."""
    gate = FakeGate(ProviderError("must not be called"))
    made, _ = gateway(gate, provider=Provider.MONETIX)
    body = {
        "method": "bank_transfer",
        "amount": 300_000,
        "merchant_reference": "o-bt",
        "bank_id": 205,
        "customer": {"id": "c-1", "first_name": "An", "last_name": "Nguyen",
                     "email": "buyer@example.com", "ip_address": "198.51.100.7"},
    }  # fmt: skip
    payment = made.prepare_payment(MonetixPaymentRequest.model_validate(body))
    assert payment.method is Method.BANK_TRANSFER and gate.calls == []


def test_the_bank_list_route_serves_the_live_list_or_the_docs_table() -> None:
    gate = FakeGate(ProviderError("ecommpay connection failed"), LiveList(banks=(DONGA,)))
    made, clock = gateway(gate)
    documented = made.bank_list(Method.NAPAS_ATM, Operation.PAYOUT)
    assert documented.source == "docs" and 130 in {b.id for b in documented.banks}
    assert documented.regions is not None and len(documented.regions) == 64
    clock.now += banks.RETRY_LIVE_LIST_SECONDS
    live = made.bank_list(Method.NAPAS_ATM, Operation.PAYOUT)
    assert (live.source, [(b.id, b.purchase, b.payout) for b in live.banks]) == (
        "provider",
        [(130, False, True)],
    )
    assert live.regions == documented.regions  # the live answer names none: the docs' table
