"""The idempotency record written for a create with a card (what Powertools puts: key, status,
expiry, payload hash) holds no card number and no unkeyed digest of one, for any card number
(hypothesis); a key reused with another card is still refused unless both cards share their
6+4 digits (paygate.idempotency: the documented trade-off)."""

from __future__ import annotations

import json
from typing import Any, cast

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
from aws_lambda_powertools.utilities.typing import LambdaContext
from hypothesis import given, settings
from hypothesis import strategies as st

from local.aws.apigw import FakeLambdaContext
from paygate.api_requests import ClarificationRequest, EcommpayPaymentRequest, EcommpayPayoutRequest
from paygate.idempotency import IdempotentCreates, compared
from tests.support.leaks import assert_no_card_derivatives, card_derivatives, mask

PAYMENT: dict[str, Any] = {
    "method": "napas_atm", "amount": 100_000, "merchant_reference": "order-1", "bank_id": 135,
    "customer": {"id": "c-1", "email": "a@example.com", "ip_address": "198.51.100.9"},
}  # fmt: skip
PAYOUT: dict[str, Any] = {
    "method": "napas_atm", "amount": 150_000, "merchant_reference": "payout-1", "bank_id": 136,
    "region_id": 290, "customer": {"id": "payee-1", "ip_address": "198.51.100.47"},
}  # fmt: skip
pans = st.from_regex(r"[0-9]{12,19}", fullmatch=True)


class Recording:
    """A DynamoDB client that keeps every request; each put succeeds, as for a new key."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    def put_item(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        return {}

    def update_item(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        return {}


def written(body: Any) -> tuple[str, str]:
    """What a create of `body` writes to the idempotency table (as text), and its hash."""
    client = Recording()
    persistence = DynamoDBPersistenceLayer(table_name="idempotency", boto3_client=client)
    creates = IdempotentCreates("idempotency", persistence=persistence)
    context = cast(LambdaContext, FakeLambdaContext("create"))
    answer = creates.respond("key-1", "api-key", body, context, lambda: Response(201, body="{}"))
    assert answer.status_code == 201
    put = client.requests[0]["Item"]
    return json.dumps(client.requests), put["validation"]["S"]


def card(pan: str) -> dict[str, Any]:
    return {"pan": pan, "card_holder": "NGUYEN AN", "year": 2031, "month": 1}


@settings(max_examples=60, deadline=None)
@given(pan=pans, payout=st.booleans())
def test_the_idempotency_record_holds_no_card_number_or_digest(pan: str, payout: bool) -> None:
    sent = {**(PAYOUT if payout else PAYMENT), "card": card(pan)}
    model = EcommpayPayoutRequest if payout else EcommpayPaymentRequest
    text, _ = written(model.model_validate(sent))
    assert "validation" in text  # the payload is still compared
    assert_no_card_derivatives({"idempotency record": text}, pan, [sent])


@settings(max_examples=60, deadline=None)
@given(pan=pans, other=pans)
def test_another_card_is_another_body_unless_its_6_4_digits_are_the_same(
    pan: str, other: str
) -> None:
    first = EcommpayPayoutRequest.model_validate({**PAYOUT, "card": card(pan)})
    second = EcommpayPayoutRequest.model_validate({**PAYOUT, "card": card(other)})
    same_hash = written(first)[1] == written(second)[1]
    assert same_hash == (mask(pan) == mask(other))


def test_the_old_hash_of_the_whole_body_is_what_the_search_finds() -> None:
    """The search recognises Powertools' hash of a body with its card number: the hash of what
    `compared` replaced it with would be refused (so the tests above can fail)."""
    import hashlib

    pan = "4111111111111111"
    sent = {**PAYOUT, "card": card(pan)}
    whole = EcommpayPayoutRequest.model_validate(sent).model_dump(mode="json")
    old = hashlib.md5(json.dumps(whole, sort_keys=True).encode()).hexdigest()
    assert old[:20] in card_derivatives(pan, [sent])


@given(pan=pans, code=st.from_regex(r"[0-9]{3,4}", fullmatch=True))
def test_dotted_card_fields_and_security_codes_are_left_out(pan: str, code: str) -> None:
    asked = {"card.pan": pan, "card.cvv": code, "card.card_holder": "NGUYEN AN", "x.cvc2": code}
    hashed = compared(ClarificationRequest.model_validate({"fields": asked}))
    assert hashed == {"fields": {"card.pan": mask(pan), "card.card_holder": "NGUYEN AN"}}
