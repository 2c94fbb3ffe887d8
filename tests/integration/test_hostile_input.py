"""Hostile input, property-based (hypothesis): random and mutated documents, wrong types,
unicode and huge bodies through every webhook and create handler never produce a 5xx or a
traceback in the response. Mutated provider documents are signed, so they reach the parsers
behind the signature check."""

from __future__ import annotations

import json
import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local.aws.provision import Provisioned
from paygate.providers.paypro import signing as paypro_signing
from paygate.providers.platform import signing as platform_signing
from paygate.providers.smartglocal import signing as smartglocal_signing

from .conftest import PAYPRO_SECRET, SMARTGLOCAL_TEST_KEY, Api
from .platform_support import EVENTS, SECRETS

JSON = {"content-type": "application/json"}
HOSTILE = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=16,
)
EXAMPLES = {
    "paypro": [json.loads((EVENTS / f"paypro/notify-{n}.json").read_text())
               for n in ("success", "declined")],
    "smartglocal": [json.loads((EVENTS / f"smartglocal/webhook-{n}.json").read_text())
                    for n in ("ready-to-confirm", "action-required", "payment-finished")],
    "ecommpay": [json.loads(p.read_text()) for p in sorted((EVENTS / "ecommpay").glob("*.json"))],
    "monetix": [json.loads(p.read_text()) for p in sorted((EVENTS / "monetix").glob("*.json"))],
}  # fmt: skip


def mutate(document: Any, value: Any, seed: int) -> Any:
    """`document` with one randomly chosen node replaced by `value`."""
    rng = random.Random(seed)
    copy = json.loads(json.dumps(document))
    node, key = None, None
    current = copy
    for _ in range(rng.randint(1, 4)):
        if isinstance(current, dict) and current:
            node, key = current, rng.choice(sorted(current))
        elif isinstance(current, list) and current:
            node, key = current, rng.randrange(len(current))
        else:
            break
        current = node[key]
    if node is None:
        return value
    node[key] = value
    return copy


def signed_request(provider: str, document: Any) -> tuple[bytes, dict[str, str]]:
    headers = dict(JSON)
    if provider == "smartglocal":
        raw = json.dumps(document).encode()
        headers["X-PARTNER-SIGN"] = smartglocal_signing.sign(raw, SMARTGLOCAL_TEST_KEY)
        return raw, headers
    if isinstance(document, dict):
        unsigned = {k: v for k, v in document.items() if k not in ("sign", "signature")}
        if provider == "paypro":
            flat = {k: v for k, v in unsigned.items() if not isinstance(v, (dict, list))}
            document = {**unsigned, "sign": paypro_signing.sign(flat, PAYPRO_SECRET)}
        else:
            document = {**unsigned, "signature": platform_signing.sign(unsigned, SECRETS[provider])}
    return json.dumps(document).encode(), headers


def assert_handled(response: dict[str, Any]) -> None:
    assert response["statusCode"] < 500, response
    body = response.get("body") or ""
    assert "Traceback" not in body and 'File "' not in body, body


@HOSTILE
@given(
    provider=st.sampled_from(sorted(EXAMPLES)),
    index=st.integers(min_value=0, max_value=30),
    value=json_values,
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_mutated_signed_webhooks_never_5xx(
    api: Api, aws: Provisioned, provider: str, index: int, value: Any, seed: int
) -> None:
    examples = EXAMPLES[provider]
    document = mutate(examples[index % len(examples)], value, seed)
    raw, headers = signed_request(provider, document)
    assert_handled(api.call("POST", f"/webhooks/{provider}", raw, headers))


@HOSTILE
@given(provider=st.sampled_from(sorted(EXAMPLES)), body=st.binary(max_size=300) | json_values.map(
    lambda v: json.dumps(v).encode()))  # fmt: skip
def test_random_unsigned_bodies_never_5xx(
    api: Api, aws: Provisioned, provider: str, body: bytes
) -> None:
    assert_handled(api.call("POST", f"/webhooks/{provider}", body, dict(JSON)))


CREATE_ROUTES = [
    "/v1/paypro/payments", "/v1/smartglocal/payments", "/v1/ecommpay/payments",
    "/v1/monetix/payments", "/v1/ecommpay/payouts", "/v1/paypro/payouts",
    "/v1/payments/pay_x/clarification", "/v1/payments/pay_x/confirm",
]  # fmt: skip
FIELDS = [
    "fields",
    "method",
    "amount",
    "currency",
    "merchant_reference",
    "customer",
    "bank_id",
    "card",
    "flow",
    "return_urls",
    "region_id",
    "account_number",
    "account_name",
    "bank_name",
    "bank_number",
    "confirmation",
    "metadata",
]


@HOSTILE
@given(
    route=st.sampled_from(CREATE_ROUTES),
    body=st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), json_values, max_size=8),
    key=st.text(min_size=1, max_size=300).filter(lambda k: k.isprintable()),
)
def test_random_create_bodies_never_5xx(
    api: Api, aws: Provisioned, route: str, body: dict[str, Any], key: str
) -> None:
    headers = {**JSON, "Idempotency-Key": key.encode("ascii", "ignore").decode() or "k"}
    assert_handled(api.call("POST", route, body, headers))


def test_oversized_bodies_are_refused_before_anything_reads_them(
    api: Api, aws: Provisioned
) -> None:
    huge = json.dumps({"payment": {"id": "x" * 2_000_000}, "signature": "s"}).encode()
    for provider in EXAMPLES:
        answer = api.call("POST", f"/webhooks/{provider}", huge, dict(JSON))
        assert answer["statusCode"] == 413, answer["statusCode"]
        assert json.loads(answer["body"])["error"]["field"] == "body"
    big_order = {"amount": 50000, "merchant_reference": "o", "description": "d" * 70_000}
    assert api.call("POST", "/v1/paypro/payments", big_order, dict(JSON))["statusCode"] == 413
    assert items_count(aws) == 0


def items_count(aws: Provisioned) -> int:
    import boto3

    return len(boto3.client("dynamodb").scan(TableName=aws.refs["PaymentsTable"])["Items"])


def test_bodies_that_are_not_json_are_4xx_naming_why(api: Api, aws: Provisioned) -> None:
    plain = api.call("POST", "/v1/paypro/payments", b"amount=1", {"content-type": "text/plain"})
    assert plain["statusCode"] == 415
    assert json.loads(plain["body"])["error"]["field"] == "Content-Type"
    form = api.call("POST", "/v1/paypro/payments", b"a", {"content-type": "multipart/form-data"})
    assert form["statusCode"] == 415
    binary = api.call("POST", "/v1/paypro/payments", b"\x80\x81", dict(JSON))
    assert binary["statusCode"] == 400
    assert json.loads(binary["body"])["error"]["code"] == "malformed_request"


def test_an_empty_metadata_key_is_refused(api: Api, aws: Provisioned) -> None:
    order = {"amount": 50000, "merchant_reference": "o", "metadata": {"": "x"}}
    answer = api.call("POST", "/v1/paypro/payments", order, dict(JSON))
    assert answer["statusCode"] == 422
    assert json.loads(answer["body"])["error"]["field"].startswith("metadata")
