"""The platform sandbox's bank and region tables, as the provider documents print them
(ecommpay's "Vietnamese ATM cards (NAPAS)" Tables 1-3, Monetix's "Bank transfers in Vietnam"
Table 1). The tables are "for informational purposes" and "may change"; as the provider here,
the sandbox decides with them:

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

ATM_TABLE_1 = """
Agribank 139 + +
An Binh Commercial Joint Stock Bank (ABBANK) 465 + +
ANZ bank 464 +
Asia Commercial Bank 150 + +
Bac A Commercial Joint Stock Bank (Bac A Bank) 439 + +
Bank for Investment and Development of Vietnam 136 + +
Bao Viet Bank 453 +
Citibank 454 +
Dai A Joint-stock Commercial Bank 466 + +
DongA Joint Stock Commercial Bank 130 + +
Eximbank Vietnam 135 + +
Global Petro Commercial Joint Stock Bank (GPBank) 444 + +
Global Trust Bank 459 +
HoChiMinh City Development Joint Stock Commercial Bank (HDBank) 448 + +
HSBC Vietnam 462 +
Joint Stock Commercial Bank for Foreign Trade of Vietnam (Vietcombank) 133 + +
KB Kookmin Bank 458 +
Kien Long Commercial Joint - Stock Bank 455 + +
LienVietPostBank 706 +
Military JSC Bank (MB) 447 + +
Nam A commercial joint stock bank (NamABank) 452 + +
Nam Viet Bank (NaviBank) 441 +
National Citizen Bank 442 +
Ocean Commercial One Member Limited Liability Bank (OceanBank) 450 + +
Orient Commercial Bank (PhuongDong Bank) 467 + +
Petrolimex Group Commercial Joint Stock Bank (PGBank) 443 + +
Public Bank Vietnam 3981 +
Sai Gon Joint Stock Commercial Bank (SCB) 460 + +
Sai Gon Thuong Tin Commercial Joint Stock Bank 131 + +
SAIGON Bank 137 + +
Saigon Hanoi Commercial Joint Stock Bank (SHB) 451 + +
SHINHAN bank 461 + +
SouthEast Asia Joint Stock Commercial Bank (SeaBank) 468 + +
Standard Chartered Bank 463 +
Tien Phong Commercial Joint Stock Bank (TienPhongBank) 445 + +
VietinBank 134 + +
Vietnam Asia Commercial Joint Stock Bank (VietA Bank) 446 + +
Vietnam International Bank 138 + +
Vietnam Maritime Commercial Joint Stock Bank (MaritimeBank) 440 + +
Vietnam Prosperity Bank (VPBank) 449 + +
Vietnam Public Joint-stock Commercial Bank 457 + +
Vietnam Technological and Commercial Joint- stock Bank 132 + +
Vietnam-Russia Joint Venture Bank 4691 +
"""
ATM_TABLE_2 = """
Agribank 139 + +
An Binh Commercial Joint Stock Bank (ABBANK) 465 + +
ANZ bank 464 +
Asia Commercial Bank 150 + +
Bac A Commercial Joint Stock Bank (Bac A Bank) 439 + +
Bank for Investment and Development of Vietnam 136 + +
Bao Viet Bank 453 +
Citibank 454 +
Dai A Joint-stock Commercial Bank 466 +
DongA Joint Stock Commercial Bank 130 +
Eximbank Vietnam 135 + +
Global Petro Commercial Joint Stock Bank (GPBank) 444 + +
Global Trust Bank 459 +
HoChiMinh City Development Joint Stock Commercial Bank (HDBank) 448 + +
HSBC Vietnam 462 +
Joint Stock Commercial Bank for Foreign Trade of Vietnam 456 +
Joint Stock Commercial Bank for Foreign Trade of Vietnam (Vietcombank) 133 + +
KB Kookmin Bank 458 +
Kien Long Commercial Joint - Stock Bank 455 +
Military JSC Bank (MB) 447 + +
Nam A commercial joint stock bank (NamABank) 452 + +
Nam Viet Bank (NaviBank) 441 +
National Citizen Bank 442 +
Ocean Commercial One Member Limited Liability Bank (OceanBank) 450 + +
Orient Commercial Bank (PhuongDong Bank) 467 + +
Petrolimex Group Commercial Joint Stock Bank (PGBank) 443 + +
SAIGON Bank 137 + +
Saigon Hanoi Commercial Joint Stock Bank (SHB) 451 + +
Sai Gon Joint Stock Commercial Bank (SCB) 460 + +
Sai Gon Thuong Tin Commercial Joint Stock Bank 131 + +
SHINHAN bank 461 +
SouthEast Asia Joint Stock Commercial Bank (SeaBank) 468 + +
Standard Chartered Bank 463 +
Tien Phong Commercial Joint Stock Bank (TienPhongBank) 445 + +
VietinBank 134 +
Vietnam Asia Commercial Joint Stock Bank (VietA Bank) 446 + +
Vietnam International Bank 138 + +
Vietnam Maritime Commercial Joint Stock Bank (MaritimeBank) 440 + +
Vietnam Prosperity Bank (VPBank) 449 + +
Vietnam Public Joint-stock Commercial Bank 457 +
Vietnam Technological and Commercial Joint-stock Bank 132 + +
"""
BANK_TRANSFER_TABLE_1 = """
SACOMBANK - NH Sai gon Thuong Tin 131
TECHCOMBANK - NH Ky Thuong 132
VIETCOMBANK - NH Ngoai Thuong Viet Nam 133
VIETINBANK - NH Cong Thuong VN 134
BIDV - NH Dau Tu va Phat Trien VN 136
VIB - NH Quoc Te 138
AGRIBANK - NH Nong Nghiep va PTNT VN 139
ACB - NH A Chau 150
MSB- NH Hang Hai 440
TPBANK - NH Tien Phong 445
MBBANK - NH Quan Doi 447
VPBANK - NH Viet Nam Thinh Vuong 449
"""
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


def parse(table: str) -> tuple[Bank, ...]:
    rows = (_ROW.fullmatch(line) for line in table.strip().splitlines())
    return tuple(Bank(int(row["id"]), row["name"], row["marks"].count("+")) for row in rows if row)


ATM = {1: parse(ATM_TABLE_1), 2: parse(ATM_TABLE_2)}
BANK_TRANSFER_IDS = frozenset(
    {bank.id for bank in parse(BANK_TRANSFER_TABLE_1)} | {BANK_TRANSFER_EXAMPLE_BANK}
)


def atm_purchase_banks(channel: int) -> tuple[Bank, ...]:
    return ATM[channel]


def atm_payout_banks() -> tuple[Bank, ...]:
    """The banks with "+ +" in Table 1 or Table 2 (first seen first), for the one payout
    channel."""
    found: dict[int, Bank] = {}
    for bank in (*ATM[1], *ATM[2]):
        if bank.marks == 2:
            found.setdefault(bank.id, bank)
    return tuple(found.values())
