"""Merchant API request bodies (snake_case JSON, unknown fields refused)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from paygate.models import Confirmation
from paygate.money import Method

Amount = Annotated[
    int, Field(strict=True, gt=0, description="Amount in VND major units (VND has no minor unit)")
]
MerchantReference = Annotated[
    str,
    Field(min_length=1, max_length=64, description="The merchant's order id", examples=["order-1"]),
]


class Customer(BaseModel):
    """The payer; which fields are required depends on the method and provider."""

    model_config = ConfigDict(extra="forbid")

    id: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    email: Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = (
        None
    )
    phone: Annotated[str, Field(max_length=32)] | None = None
    ip_address: Annotated[str, Field(max_length=45)] | None = None
    first_name: Annotated[str, Field(max_length=100)] | None = None
    last_name: Annotated[str, Field(max_length=100)] | None = None
    full_name: Annotated[str, Field(max_length=200)] | None = None
    document: Annotated[str, Field(max_length=64)] | None = None


class CreatePaymentRequest(BaseModel):
    """Fields every provider's create-payment route accepts."""

    model_config = ConfigDict(extra="forbid")

    method: Method
    amount: Amount
    currency: Annotated[Literal["VND"], Field(description="Only VND")] = "VND"
    merchant_reference: MerchantReference
    customer: Customer | None = None
    return_url: Annotated[str, Field(max_length=2048)] | None = None
    description: Annotated[str, Field(max_length=255)] | None = None
    metadata: Annotated[dict[str, Annotated[str, Field(max_length=500)]], Field(max_length=20)] = (
        Field(default_factory=dict)
    )


class PayproPaymentRequest(CreatePaymentRequest):
    """`POST /v1/paypro/payments`: a VietQR payin (minimum 50,000 VND)."""

    method: Literal[Method.VIETQR] = Method.VIETQR


class SmartglocalCustomer(Customer):
    """The payer of a Smart Glocal e-wallet payment: email, full name and identity document are
    required by Smart Glocal (`customer.contacts`, `participant_details.sender`)."""

    email: Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
    full_name: Annotated[str, Field(min_length=1, max_length=200)]
    document: Annotated[str, Field(min_length=1, max_length=64)]


class SmartglocalPaymentRequest(CreatePaymentRequest):
    """`POST /v1/smartglocal/payments`: a Vietnamese e-wallet payment (QR deeplink)."""

    method: Literal[Method.EWALLET] = Method.EWALLET
    customer: SmartglocalCustomer
    confirmation: Annotated[
        Confirmation,
        Field(
            description="`auto`: the gateway confirms when Smart Glocal is ready; `manual`: the "
            "payment waits in `requires_confirmation` for POST /v1/payments/{id}/confirm or /cancel"
        ),
    ] = Confirmation.AUTO
