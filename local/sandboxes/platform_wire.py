"""The platform sandbox's wire rules and documents: the Gate paths and required fields,
callbacks, status answers, redirect/display/clarification data, shaped like the three provider
docs' examples."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from local.sandboxes.base import Callback

Provider = Literal["ecommpay", "monetix"]
FINAL_STATUSES = ("success", "decline", "expired")
SALES: dict[str, tuple[Provider, str]] = {
    "/v2/payment/atm/vietnam/sale": ("ecommpay", "napas_atm"),
    "/v2/payment/wallet/nganluong/sale": ("ecommpay", "nganluong_wallet"),
    "/v2/payment/bank-transfer/vietnam/sale": ("monetix", "bank_transfer"),
}
PAYOUTS: dict[str, tuple[Provider, str]] = {
    "/v2/payment/atm/vietnam/payout": ("ecommpay", "napas_atm"),
    "/v2/payment/wallet/nganluong/payout": ("ecommpay", "nganluong_wallet"),
}
# Required fields per method (and ATM channel; 0 = any), in the order they are reported.
REQUIRED = {
    ("napas_atm", 1): ("customer.id", "customer.email", "customer.phone", "customer.ip_address",
                       "account.bank_id", "payment.amount", "payment.currency"),
    ("napas_atm", 2): ("customer.email", "customer.ip_address", "account.bank_id",
                       "payment.amount", "payment.currency"),
    ("nganluong_wallet", 0): ("customer.id", "customer.email", "customer.ip_address",
                              "return_url.success", "return_url.decline", "payment.amount",
                              "payment.currency"),
    ("bank_transfer", 0): ("customer.id", "customer.first_name", "customer.last_name",
                           "customer.email", "customer.ip_address", "payment.amount",
                           "payment.currency"),
}  # fmt: skip
PAYOUT_REQUIRED = {
    "napas_atm": ("customer.id", "customer.ip_address", "account.bank_id", "account.region_id",
                  "card.pan", "card.year", "card.month", "card.card_holder", "payment.amount",
                  "payment.currency"),
    "nganluong_wallet": ("customer.id", "customer.ip_address", "account.number",
                         "payment.amount", "payment.currency"),
}  # fmt: skip


def lookup(document: dict[str, Any], path: str) -> Any:
    value: Any = document
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def first_missing(document: dict[str, Any], paths: tuple[str, ...] | list[str]) -> str | None:
    """The first dotted path without a value."""
    for path in paths:
        if lookup(document, path) in (None, ""):
            return path
    return None


def requested_fields(schema: dict[str, Any]) -> list[str]:
    """`card.pan`, ... from a `clarification_fields` schema."""
    paths: list[str] = []
    for name in schema.get("required", []):
        nested = schema.get("properties", {}).get(name, {})
        paths += [f"{name}.{inner}" for inner in nested.get("required", [])] or [name]
    return paths


METHOD_NAMES = {
    "napas_atm": "ATM Vietnam banking",
    "nganluong_wallet": "Nganluong wallet",
    "bank_transfer": "Vietnam bank transfer",
}
CARD_FIELDS = ("pan", "card_holder", "year", "month")
MONETIX_ACCOUNT = {"number": "123456789012", "customer_name": "John Doe", "bank_code": "Vietinbank"}


def now(moment: datetime | None = None) -> str:
    """The platform's date format, of `moment` (default: the system time)."""
    return (moment or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


@dataclass
class SandboxPayment:
    """One purchase as the platform holds it."""

    payment_id: str
    method: str
    amount: int
    currency: str
    customer_id: str | None
    request_id: str
    flow: str  # "gate" or "page"
    created_at: float
    kind: str = "purchase"  # or "payout"
    account_number: str | None = None  # payouts: the wallet, or the masked card
    bank_id: int | None = None
    status: str = "processing"
    operation_status: str = "processing"
    action: dict[str, Any] = field(default_factory=dict)  # redirect/display/clarification data
    page_instructions: dict[str, Any] = field(default_factory=dict)  # shown on the Payment Page
    series: str | None = None
    card: str | None = None  # masked
    paid_amount: int | None = None
    code: str | None = None
    message: str | None = None
    errors: list[dict[str, str]] | None = None
    operation_id: int = field(default_factory=lambda: secrets.randbelow(10**12))
    created_date: str = field(default_factory=now)
    callbacks: list[Callback] = field(default_factory=list)
    best_before: datetime | None = None  # Payment Page: no payment after it
    status_queries: int = 0

    @property
    def final(self) -> bool:
        return self.status in FINAL_STATUSES

    def document(self, project_id: int, at: datetime | None = None) -> dict[str, Any]:
        """The callback (or status answer) body for the payment's current state, unsigned."""
        date = now(at)
        money = {"amount": self.amount, "currency": self.currency}
        paid = {"amount": self.paid_amount or self.amount, "currency": self.currency}
        operation: dict[str, Any] = {
            "id": self.operation_id,
            "type": "payout" if self.kind == "payout" else "sale",
            "status": self.operation_status,
            "date": date,
            "created_date": self.created_date,
            "request_id": self.request_id,
            "sum_initial": money,
            "sum_converted": paid if self.final else money,
        }
        if self.final:
            operation["provider"] = {
                "id": 1154,
                "payment_id": self.request_id[:12],
                "auth_code": "",
            }
            if self.errors:  # inside the operation, as in the ATM docs' 2801 example
                operation["errors"] = [dict(error) for error in self.errors]
            operation["code"] = self.code or "0"
            operation["message"] = self.message or "Success"
        document: dict[str, Any] = {
            "project_id": project_id,
            "payment": {
                "id": self.payment_id,
                "type": self.kind,
                "status": self.status,
                "date": date,
                "method": METHOD_NAMES[self.method],
                "sum": paid if self.status == "success" else money,
                "description": "",
            },
            "operation": operation,
        }
        if self.customer_id:
            document["customer"] = {"id": self.customer_id}
        if self.kind == "payout":
            document["account"] = {"number": self.account_number}
        elif self.method == "bank_transfer" and self.final:
            document["account"] = dict(MONETIX_ACCOUNT)  # the docs' sample, on both outcomes
        if not self.final:
            document.update(self.action)
        return document

    def snapshot(self) -> dict[str, Any]:
        return {
            "payment_id": self.payment_id,
            "method": self.method,
            "kind": self.kind,
            "flow": self.flow,
            "account_number": self.account_number,
            "status": self.status,
            "operation_status": self.operation_status,
            "amount": self.amount,
            "paid_amount": self.paid_amount,
            "customer_id": self.customer_id,
            "bank_id": self.bank_id,
            "series": self.series,
            "card": self.card,
            "code": self.code,
            "message": self.message,
            "request_id": self.request_id,
            "best_before": self.best_before.isoformat() if self.best_before else None,
            "status_queries": self.status_queries,
            "callbacks": [_callback_view(callback) for callback in self.callbacks],
        }


def _callback_view(callback: Callback) -> dict[str, Any]:
    return {
        "document": json.loads(callback.body),
        "body": callback.body.decode(),
        "attempts": list(callback.attempts),
        "delivered": callback.delivered,
        "lost": callback.lost,
    }


def redirect_data(url: str) -> dict[str, Any]:
    return {"redirect_data": {"method": "GET", "body": [], "encrypted": [], "url": url}}


def display_data(option: int, amount: int) -> dict[str, Any]:
    """Transfer instructions in one of the Monetix docs' two title sets."""
    code = f"B{secrets.randbelow(10**10):010d}"  # per payment, like the docs' "B1234567890"
    if option == 1:
        items = [
            ("bankName", "Wooribank Việt Nam"),
            ("number", "902014188917"),
            ("fullName", "PAYME MNTX"),
            ("branch", "Hà Nội"),
            ("content", f"TT {code[-4:]}"),
            ("swiftCode", "HVBKVNVXXXX"),
        ]
    else:
        items = [
            ("transfer_code", code),
            ("account_no", "1234123412341"),
            ("account_name", "John Doe"),
            ("request_amount", str(amount)),
            ("code", "MBBANK"),
            ("bank_name", "Military Bank"),
            ("bank_abbr", "MB"),
        ]
    return {"display_data": [{"type": "add_info", "title": t, "data": d} for t, d in items]}


def card_clarification() -> dict[str, Any]:
    """ASSUMPTION: the clarification callback's format is not documented in our sources; this
    sandbox asks with a JSON-schema-like object of the missing card fields."""
    types = {"pan": "string", "card_holder": "string", "year": "integer", "month": "integer"}
    card = {
        "type": "object",
        "properties": {name: {"type": types[name]} for name in CARD_FIELDS},
        "required": list(CARD_FIELDS),
    }
    return {
        "clarification_fields": {
            "type": "object",
            "properties": {"card": card},
            "required": ["card"],
        }
    }
