"""The merchant API's request bodies (snake_case JSON, unknown fields refused): creates,
payouts and clarifications. Apart from `paygate.api_models` (the responses every route
answers with) so that the functions reading or reviewing payments do not build them."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from paygate.domain import Confirmation, Flow, Method

Amount = Annotated[
    int, Field(strict=True, gt=0, description="Amount in VND major units (VND has no minor unit)")
]
MetadataKey = Annotated[str, Field(min_length=1, max_length=40)]
# The payment item holds the metadata: capped so that an item with it stays near one write
# unit (docs/performance.md gives the cost of each KB past the first).
METADATA_MAX_BYTES = 1024


def _metadata_fits(metadata: dict[str, str]) -> dict[str, str]:
    size = sum(len(key.encode()) + len(value.encode()) for key, value in metadata.items())
    if size > METADATA_MAX_BYTES:
        raise ValueError(
            f"metadata chiếm {size} byte, tối đa {METADATA_MAX_BYTES}: rút gọn hoặc bớt khóa. "
            f"Keys and values take {size} bytes (UTF-8), at most {METADATA_MAX_BYTES}: "
            "shorten them or send fewer keys"
        )
    return metadata


Metadata = Annotated[
    dict[MetadataKey, Annotated[str, Field(max_length=500)]],
    Field(
        max_length=20,
        description=f"Up to 20 keys; keys and values together at most {METADATA_MAX_BYTES} "
        "bytes of UTF-8",
    ),
    AfterValidator(_metadata_fits),
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
    metadata: Metadata = Field(default_factory=dict)


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


class ReturnUrls(BaseModel):
    """Where the provider sends the customer back (`return` when they leave early)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    success: Annotated[str, Field(max_length=2048)] | None = None
    decline: Annotated[str, Field(max_length=2048)] | None = None
    return_: Annotated[str | None, Field(alias="return", max_length=2048)] = None


class Card(BaseModel):
    """ATM card data some channel-2 banks require. Sent to the provider only: never stored,
    logged or returned (`repr` hides the number)."""

    model_config = ConfigDict(extra="forbid")

    pan: Annotated[str, Field(pattern=r"^[0-9]{12,19}$", repr=False)]
    card_holder: Annotated[str, Field(min_length=1, max_length=100)]
    year: Annotated[int, Field(ge=2000, le=2100)]
    month: Annotated[int, Field(ge=1, le=12)]


BankId = Annotated[
    int, Field(gt=0, description="Bank id from GET /v1/{provider}/banks (the docs' tables)")
]


class PlatformPaymentRequest(CreatePaymentRequest):
    """Fields of the ecommpay-platform methods (ecommpay and Monetix)."""

    return_urls: ReturnUrls | None = None
    bank_id: BankId | None = None
    flow: Flow = Flow.GATE
    card: Annotated[
        Card | None, Field(description="napas_atm on channel 2 only, when the bank needs it")
    ] = None


class EcommpayPaymentRequest(PlatformPaymentRequest):
    """`POST /v1/ecommpay/payments`: a NAPAS ATM card or Nganluong wallet payment."""

    method: Literal[Method.NAPAS_ATM, Method.NGANLUONG_WALLET]


class MonetixPaymentRequest(PlatformPaymentRequest):
    """`POST /v1/monetix/payments`: a Vietnamese bank transfer."""

    method: Literal[Method.BANK_TRANSFER] = Method.BANK_TRANSFER


ClarificationPath = Annotated[
    str, Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$", max_length=100)
]


class ClarificationRequest(BaseModel):
    """`POST /v1/payments/{id}/clarification`: the fields the provider asked for, by their
    dotted path (as listed in `next_action.fields`)."""

    model_config = ConfigDict(extra="forbid")

    fields: Annotated[
        dict[ClarificationPath, Annotated[str, Field(max_length=255)] | int],
        Field(min_length=1, max_length=30, examples=[{"card.pan": "4321432154325432"}]),
    ]


class PayoutCustomer(BaseModel):
    """The payee as the platform needs it for a payout."""

    model_config = ConfigDict(extra="forbid")

    id: Annotated[str, Field(min_length=1, max_length=64)]
    ip_address: Annotated[str, Field(min_length=1, max_length=45)]


class PayoutRequestBase(BaseModel):
    """Fields every payout route accepts."""

    model_config = ConfigDict(extra="forbid")

    amount: Amount
    currency: Annotated[Literal["VND"], Field(description="Only VND")] = "VND"
    merchant_reference: MerchantReference
    allow_duplicate_reference: Annotated[
        bool,
        Field(
            description="One payout per order: a payout whose merchant_reference already has "
            "a payout that has not failed is refused (409 duplicate_reference, naming it), "
            "whatever the Idempotency-Key. true sends a second payout for it on purpose"
        ),
    ] = False
    description: Annotated[str, Field(max_length=255)] | None = None
    metadata: Metadata = Field(default_factory=dict)


class EcommpayPayoutRequest(PayoutRequestBase):
    """`POST /v1/ecommpay/payouts`: to a NAPAS ATM card (bank, region, card: 100,000 to
    100,000,000 VND) or a Nganluong wallet (`account_number`, e.g. the wallet's email)."""

    method: Literal[Method.NAPAS_ATM, Method.NGANLUONG_WALLET]
    customer: PayoutCustomer
    bank_id: BankId | None = None
    region_id: (
        Annotated[int, Field(gt=0, description="Payout region (GET .../banks?operation=payout)")]
        | None
    ) = None
    card: Card | None = None
    account_number: Annotated[str, Field(min_length=1, max_length=100)] | None = None


class PayproPayoutRequest(PayoutRequestBase):
    """`POST /v1/paypro/payouts`: a bank payout (at least 50,000 VND). Its method is
    `bank_transfer`: Paypro transfers to the named bank account (VietQR is Paypro's payin)."""

    method: Literal[Method.BANK_TRANSFER] = Method.BANK_TRANSFER
    account_name: Annotated[
        str,
        Field(min_length=1, max_length=100, description="English letters and spaces only"),
    ]
    bank_name: Annotated[
        str, Field(min_length=1, max_length=50, description="From GET /v1/paypro/banks")
    ]
    bank_number: Annotated[str, Field(pattern=r"^[0-9]{4,30}$")]
