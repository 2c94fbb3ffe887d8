"""Paypro payout rules checked before any call: the account name in English letters only
(with the accepted form in the refusal) and the bank name from Paypro's payout bank list."""

from __future__ import annotations

import json
import re
import unicodedata
from functools import cache
from pathlib import Path

from pydantic import BaseModel

from paygate.errors import ValidationFailed

DATA = Path(__file__).resolve().parent / "data"
ACCEPTED_NAME = re.compile(r"^[A-Za-z]+( [A-Za-z]+)*$")


class PayoutBank(BaseModel):
    code: str
    name: str


@cache
def payout_banks() -> tuple[PayoutBank, ...]:
    document = json.loads((DATA / "payout_banks.json").read_text(encoding="utf-8"))
    return tuple(PayoutBank.model_validate(row) for row in document["banks"])


def without_diacritics(name: str) -> str:
    """`Nguyễn Văn Đức` → `Nguyen Van Duc` (what Paypro accepts)."""
    plain = name.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFKD", plain)
    letters = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^A-Za-z ]", " ", letters).split())


def check_account_name(name: str) -> None:
    if ACCEPTED_NAME.fullmatch(name):
        return
    accepted = without_diacritics(name)
    hint = f'; send "{accepted}"' if accepted and ACCEPTED_NAME.fullmatch(accepted) else ""
    raise ValidationFailed(
        f"account_name must be English letters and single spaces only, without Vietnamese "
        f"diacritics{hint}",
        field="account_name",
    )


def check_bank_name(bank_name: str) -> PayoutBank:
    for bank in payout_banks():
        if bank.code == bank_name:
            return bank
    raise ValidationFailed(
        f"bank_name {bank_name!r} is not in Paypro's payout bank list (GET /v1/paypro/banks)",
        field="bank_name",
    )
