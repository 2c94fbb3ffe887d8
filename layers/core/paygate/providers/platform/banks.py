"""Bank and region lists. The provider decides which ids it accepts: a request's `bank_id` and
`region_id` are checked against the provider's live list (ecommpay's `/v2/info/banks/...`,
kept per container by `LiveBanks`) when it answers, and passed on when it does not (the
provider's refusal then comes back with its code). The docs' tables (data/*.json) are the
fallback lists and documentation: ecommpay's Vietnamese ATM guide calls its table
informational ("it may change without additional notice"), Monetix's Bank transfers in
Vietnam guide calls its list "informational purposes only"."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from paygate.domain import Method, Operation, Provider
from paygate.errors import ProviderError, ValidationFailed
from paygate.observability import logger

DATA = Path(__file__).resolve().parent / "data"
Channel = Literal[1, 2]
LIVE_LIST_SECONDS = 600.0  # how long a live list is trusted
RETRY_LIVE_LIST_SECONDS = 60.0  # after a failed bank-list call, requests pass on meanwhile


class Bank(BaseModel):
    """A bank and the operations it supports (`null`: unknown; the docs' table has a single
    `+` for it and does not say in which column)."""

    id: int
    name: str
    purchase: bool | None = True
    payout: bool | None = False


class Region(BaseModel):
    id: int
    name: str


def _load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((DATA / name).read_text(encoding="utf-8"))
    return document


@cache
def atm_banks(channel: Channel) -> tuple[Bank, ...]:
    """Vietnamese ATM (NAPAS) banks of a purchase channel (docs' Table 1 or 2)."""
    rows = _load("napas_atm_banks.json")["channels"][str(channel)]
    return tuple(Bank.model_validate(row) for row in rows)


@cache
def bank_transfer_banks() -> tuple[Bank, ...]:
    """Monetix "Bank transfers in Vietnam" banks (purchases only)."""
    return tuple(Bank.model_validate(row) for row in _load("bank_transfer_banks.json")["banks"])


@cache
def payout_regions() -> tuple[Region, ...]:
    """Regions an ATM payout may name (`account.region_id`, docs' Table 3)."""
    rows = _load("napas_atm_payout_regions.json")["regions"]
    return tuple(Region.model_validate(row) for row in rows)


def banks_for(method: Method, operation: Operation, channel: Channel = 1) -> tuple[Bank, ...]:
    """The docs' banks that may support `operation` with `method` (ATM: on the project's
    channel): those marked for it, and those whose column the table does not say."""
    if method is Method.NAPAS_ATM:
        supported = atm_banks(channel)
    elif method is Method.BANK_TRANSFER:
        supported = bank_transfer_banks()
    else:
        return ()
    wanted = "payout" if operation is Operation.PAYOUT else "purchase"
    return tuple(bank for bank in supported if getattr(bank, wanted) is not False)


class LiveList(BaseModel):
    """What the provider's bank-list call answered: its banks for one operation and, when the
    answer carries them, the regions (the answer's format is not documented)."""

    banks: tuple[Bank, ...]
    regions: tuple[Region, ...] | None = None


class LiveBanks:
    """The provider's live bank lists, one per operation, kept `LIVE_LIST_SECONDS`. A failed
    call is remembered `RETRY_LIVE_LIST_SECONDS`: during an outage the requests pass on
    without one bank-list call each."""

    def __init__(
        self,
        fetch: Callable[[Operation], LiveList],
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._now = now
        self._kept: dict[Operation, tuple[float, LiveList | None]] = {}

    def get(self, operation: Operation) -> LiveList | None:
        """The live list, or None when the provider cannot answer it (`ProviderError`)."""
        kept = self._kept.get(operation)
        if kept is not None and self._now() < kept[0]:
            return kept[1]
        live: LiveList | None = None
        try:
            live = self._fetch(operation)
        except ProviderError as error:
            logger.warning("live bank list unavailable", extra={"error": error.message})
        wait = RETRY_LIVE_LIST_SECONDS if live is None else LIVE_LIST_SECONDS
        self._kept[operation] = (self._now() + wait, live)
        return live

    def forget(self) -> None:
        self._kept.clear()


def check_listed(
    live: LiveList, method: Method, operation: Operation, bank_id: int, channel: Channel
) -> None:
    """A 422 naming `bank_id` when the provider's live list does not have it."""
    if any(bank.id == bank_id for bank in live.banks):
        return
    where = f" on channel {channel}" if method is Method.NAPAS_ATM else ""
    raise ValidationFailed(
        f"bank_id {bank_id} does not support {method} {operation}s{where} (the provider's "
        f"bank list); GET the bank list for the accepted ids",
        field="bank_id",
    )


def check_listed_region(live: LiveList, region_id: int) -> None:
    """A 422 naming `region_id` when the provider's live list names regions without it."""
    if live.regions is None or any(region.id == region_id for region in live.regions):
        return
    raise ValidationFailed(
        f"region_id {region_id} is not a payout region in the provider's bank list",
        field="region_id",
    )


def check_list_query(provider: Provider, method: Method, operation: Operation) -> None:
    """The bank lists there are: ecommpay's NAPAS ATM banks (purchases or payouts), Monetix's
    bank-transfer banks (purchases only); anything else is a 422 naming the query field."""
    if provider is Provider.ECOMMPAY and method is not Method.NAPAS_ATM:
        raise ValidationFailed("method must be napas_atm for ecommpay bank lists", field="method")
    if provider is Provider.MONETIX and (
        method is not Method.BANK_TRANSFER or operation is not Operation.SALE
    ):
        raise ValidationFailed(
            "Monetix lists banks for bank_transfer sales only", field="operation"
        )


class BankList(BaseModel):
    """`GET /v1/{provider}/banks`: the banks for a method and operation (and, for ATM payouts,
    the regions `region_id` may name)."""

    method: Method
    operation: Operation
    channel: int | None = None
    source: Literal["provider", "docs"]
    banks: list[Bank]
    regions: list[Region] | None = None


def bank_list_from_docs(method: Method, operation: Operation, channel: Channel = 1) -> BankList:
    """The docs' table as a bank list."""
    atm = method is Method.NAPAS_ATM
    return BankList(
        method=method,
        operation=operation,
        channel=channel if atm else None,
        source="docs",
        banks=list(banks_for(method, operation, channel)),
        regions=list(payout_regions()) if atm and operation is Operation.PAYOUT else None,
    )
