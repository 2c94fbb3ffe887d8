"""The platform sandbox's bank tables (local/sandboxes/platform_banks.txt, copied from the
provider documents) read as the sandbox decides with them."""

from __future__ import annotations

from local.sandboxes import platform_banks


def test_every_row_of_the_docs_tables_is_read() -> None:
    assert [len(platform_banks.ATM[channel]) for channel in (1, 2)] == [43, 41]
    assert platform_banks.ATM[1][0] == platform_banks.Bank(139, "Agribank", 2)
    assert len(platform_banks.PAYOUT_REGIONS) == 64


def test_payouts_run_on_one_channel_and_include_the_payout_examples_donga_130() -> None:
    payouts = {bank.id: bank for bank in platform_banks.atm_payout_banks()}
    both = {bank.id for table in platform_banks.ATM.values() for bank in table if bank.marks == 2}
    assert set(payouts) == both and len(payouts) == 31
    assert payouts[130].name == "DongA Joint Stock Commercial Bank"  # a lone "+" on channel 2
    assert 464 not in payouts  # ANZ: a lone "+" in both tables (unknown: not listed)


def test_monetix_takes_table_1_and_the_gate_examples_bank_205() -> None:
    table_1 = {131, 132, 133, 134, 136, 138, 139, 150, 440, 445, 447, 449}
    assert table_1 | {205} == platform_banks.BANK_TRANSFER_IDS
