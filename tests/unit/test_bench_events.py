"""The benchmarks' webhook deliveries are the common case of each provider: they carry our
payment id, so the ledger takes its one-call path (a conditional update with the webhook in
one transaction), the path the peer's single PutItem is compared with."""

from __future__ import annotations

import json

import pytest

from bench import warm
from local.aws.provision import load_dev_secrets
from paygate.domain import Provider
from paygate.providers.paypro.transformers import Notify
from paygate.providers.platform.webhook import PlatformCallbacks
from paygate.providers.platform.wire import Callback
from paygate.providers.smartglocal.transformers import Webhook

EVENTS = warm.events(load_dev_secrets())


def our_payment_id(function: str) -> str | None:
    body = json.loads(EVENTS[function]["body"])
    if function == "PayproWebhookFunction":
        return Notify.model_validate(body).tradeNo
    if function == "SmartglocalWebhookFunction":
        return Webhook.model_validate(body).session.our_payment_id()
    return Callback.model_validate(body).payment.id


@pytest.mark.parametrize(
    "function",
    [
        "PayproWebhookFunction",
        "EcommpayWebhookFunction",
        "MonetixWebhookFunction",
        "SmartglocalWebhookFunction",
    ],
)
def test_each_benchmarked_delivery_names_our_payment(function: str) -> None:
    assert our_payment_id(function)


@pytest.mark.parametrize("provider", ["ecommpay", "monetix"])
def test_each_platform_delivery_passes_the_callback_checks(provider: str) -> None:
    """Our project, one of our ids, a result with its sum, operation and date: the delivery the
    bench times is applied, not refused."""
    secret = load_dev_secrets()[f"{provider.capitalize()}Secret"]
    contract = PlatformCallbacks(
        Provider(provider), lambda: [secret["secret_key"]], lambda: secret["project_id"]
    )
    body = EVENTS[f"{provider.capitalize()}WebhookFunction"]["body"].encode()
    document = contract.verified(body, {})
    assert document is not None  # signed with the project secret
    contract.check(Callback.model_validate(document))
