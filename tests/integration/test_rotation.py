"""Secret rotation through the real webhook handlers: while the provider secret holds the new
and the previous value both verify; once the previous one is removed it is refused. (The
secret cache is cleared here; deployed, the change takes effect within its 5 minutes.)"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters

from local.aws.provision import Provisioned

from .conftest import DEV_SECRETS, Api, signed
from .platform_support import doc_example, signed_body
from .test_paypro_webhook import new_payment, notify
from .test_platform_callbacks import seed

OLD, NEW = "old-secret-value", "new-secret-value"


def rotate(aws: Provisioned, logical_id: str, **values: str) -> None:
    secret = {**DEV_SECRETS[logical_id], **values}
    boto3.client("secretsmanager").put_secret_value(
        SecretId=aws.refs[logical_id], SecretString=json.dumps(secret)
    )
    parameters.clear_caches()


def paypro(api: Api, payment: dict[str, Any], secret: str) -> int:
    fields = {k: v for k, v in notify("notify-processing", payment).items() if k != "sign"}
    return int(api.call("POST", "/webhooks/paypro", signed(fields, secret), {})["statusCode"])


def test_paypro_rotation(api: Api, aws: Provisioned) -> None:
    payment = new_payment(api)
    rotate(aws, "PayproSecret", app_secret=NEW, app_secret_previous=OLD)
    assert paypro(api, payment, OLD) == 200
    assert paypro(api, payment, NEW) == 200
    rotate(aws, "PayproSecret", app_secret=NEW, app_secret_previous="")
    assert paypro(api, payment, OLD) == 401
    assert paypro(api, payment, NEW) == 200


@pytest.mark.parametrize("provider", ["ecommpay", "monetix"])
def test_platform_rotation(api: Api, aws: Provisioned, provider: str) -> None:
    example = {
        "ecommpay": "ecommpay/atm-gate-purchase-success.json",
        "monetix": "monetix/bank-transfer-gate-ch1-purchase-success.json",
    }[provider]
    document = doc_example(example)
    seed(aws, provider, document)
    logical_id = f"{provider.capitalize()}Secret"

    def deliver(secret: str) -> int:
        body = signed_body(document, provider, secret=secret)
        return int(api.call("POST", f"/webhooks/{provider}", body, {})["statusCode"])

    rotate(aws, logical_id, secret_key=NEW, secret_key_previous=OLD)
    assert deliver(OLD) == 200 and deliver(NEW) == 200
    rotate(aws, logical_id, secret_key=NEW, secret_key_previous="")
    assert deliver(OLD) == 401 and deliver(NEW) == 200
