"""The platform sandbox's bank and region tables, as the provider documents print them
(ecommpay's "Vietnamese ATM cards (NAPAS)" Tables 1-3, Monetix's "Bank transfers in Vietnam"
Table 1; the bank tables are copied as printed into platform_banks.txt). The tables are "for
informational purposes" and "may change"; as the provider here, the sandbox decides with them:

- an ATM purchase is accepted at any bank of the project's channel table;
- the docs' text lost the tables' column positions, so a row with a lone "+" is UNKNOWN for
  one of the two columns: the sandbox lists it for purchases only; a row with "+ +" supports
  both. "Payouts are processed by using one channel", so an ATM payout is accepted at a bank
  with "+ +" in either table: the payout example's DongA 130 is one (Table 1), also for a
  project whose purchases run on channel 2;
- a Monetix purchase may name a bank of Table 1 or the Gate example's bank 205 (the docs'
  own request, not in the table); `bank_id` "may not be mandatory".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

TABLES = (Path(__file__).parent / "platform_banks.txt").read_text(encoding="utf-8")
BANK_TRANSFER_EXAMPLE_BANK = 205  # the Monetix docs' "Example of a purchase request"
PAYOUT_REGIONS = frozenset({
    137, 138, 141, 142, 147, 149, 152, 156, 158, 159, 162, 163, 164, 165,
    166, 167, 168, 169, 170, 172, 173, 174, 176, 177, 178, 179, 180, 181,
    182, 183, 184, 185, 187, 188, 189, 190, 191, 192, 194, 195, 196, 197,
    198, 199, 277, 278, 279, 280, 281, 282, 283, 284, 285, 286, 287, 288,
    289, 290, 291, 292, 293, 294, 295, 296,
})  # fmt: skip
_ROW = re.compile(r"(?P<name>.+?) (?P<id>[0-9]+)(?P<marks>(?: \+)*)")


@dataclass(frozen=True)
class Bank:
    id: int
    name: str
    marks: int  # how many "+" the docs' row has (2: purchase and payout; 1: one, unknown)


def _tables(text: str) -> list[tuple[Bank, ...]]:
    """The `== ...` tables of platform_banks.txt, in file order."""
    tables: list[list[Bank]] = []
    for line in text.splitlines():
        if line.startswith("=="):
            tables.append([])
        elif (row := _ROW.fullmatch(line)) and tables:
            tables[-1].append(Bank(int(row["id"]), row["name"], row["marks"].count("+")))
    return [tuple(table) for table in tables]


_ATM_1, _ATM_2, _BANK_TRANSFER = _tables(TABLES)
ATM = {1: _ATM_1, 2: _ATM_2}
BANK_TRANSFER_IDS = frozenset({bank.id for bank in _BANK_TRANSFER} | {BANK_TRANSFER_EXAMPLE_BANK})


def atm_payout_banks() -> tuple[Bank, ...]:
    """The banks with "+ +" in Table 1 or Table 2 (first seen first), for the one payout
    channel."""
    found: dict[int, Bank] = {}
    for bank in (*ATM[1], *ATM[2]):
        if bank.marks == 2:
            found.setdefault(bank.id, bank)
    return tuple(found.values())
