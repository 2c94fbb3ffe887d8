"""The docs' bank and region tables (data/*.json), used to validate `bank_id` and `region_id`
before any provider call and served when the live bank list is unavailable."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from paygate.domain import Method, Operation
from paygate.errors import ValidationFailed

DATA = Path(__file__).resolve().parent / "data"
Channel = Literal[1, 2]


class Bank(BaseModel):
    id: int
    name: str
    purchase: bool = True
    payout: bool = False


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
    """The banks that support `operation` with `method` (ATM: on the project's channel)."""
    if method is Method.NAPAS_ATM:
        supported = atm_banks(channel)
    elif method is Method.BANK_TRANSFER:
        supported = bank_transfer_banks()
    else:
        return ()
    wanted = "payout" if operation is Operation.PAYOUT else "purchase"
    return tuple(bank for bank in supported if getattr(bank, wanted))


def check_bank(method: Method, operation: Operation, bank_id: int, channel: Channel = 1) -> Bank:
    """The bank, or a 422 naming `bank_id` when the docs' table does not list it for this
    method, operation and channel."""
    for bank in banks_for(method, operation, channel):
        if bank.id == bank_id:
            return bank
    where = f" on channel {channel}" if method is Method.NAPAS_ATM else ""
    raise ValidationFailed(
        f"bank_id {bank_id} does not support {method} {operation}s{where}; "
        f"GET the bank list for the accepted ids",
        field="bank_id",
    )


def check_region(region_id: int) -> Region:
    for region in payout_regions():
        if region.id == region_id:
            return region
    raise ValidationFailed(
        f"region_id {region_id} is not a payout region in the docs' region table",
        field="region_id",
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


def banks_for_channel(channel: int) -> tuple[Bank, ...]:
    """Every ATM bank of a channel's table (purchase and payout columns)."""
    return atm_banks(1 if channel == 1 else 2)
