"""IAM as tested: every AWS call a function made in this session's integration and e2e tiers
(recorded by local/aws/aws_calls.py, in-process and in the local runtime) is allowed by that
function's own policies in template.yaml, action and resource; and no policy grants an action
on a resource that no test ever made the function use.

Runs last in the session (tests/conftest.py moves tests/iam/ to the end): it reads what the
tiers before it recorded."""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from local.aws.aws_calls import ENVIRONMENT_VARIABLE, read, required
from local.aws.provision import ACCOUNT, REGION
from local.aws.template import load_template
from tests.iam.policies import Grant, grants

ROOT = Path(__file__).resolve().parents[2]
TIERS = ("integration", "e2e")
PAYMENTS = "table/PaymentsTable"
_RETRY_READ = (
    "the ledger re-reads the payment (GetItem) when its conditional write loses a race "
    "(ConcurrentUpdate: a webhook and a create or two deliveries changing one payment at once); "
    "no test forces that race through this function"
)
# Grants kept although no test made the function use them, each with the code path that
# needs it, keyed by function, statement, action and resource (after region and account).
# An entry that a test does use fails the test too (the reason went stale).
EXPLAINED: dict[tuple[str, str, str, str], str] = {
    **{
        (function, "PaymentsTableReadWrite", "dynamodb:GetItem", PAYMENTS): _RETRY_READ
        for function in (
            "PayproCreatePaymentFunction", "SmartglocalCreatePaymentFunction",
            "EcommpayCreatePaymentFunction", "MonetixCreatePaymentFunction",
            "EcommpayCreatePayoutFunction", "PayproCreatePayoutFunction",
        )
    },
    **{
        (function, "PaymentsTableWrite", "dynamodb:GetItem", PAYMENTS): _RETRY_READ
        for function in (
            "PayproWebhookFunction", "EcommpayWebhookFunction", "MonetixWebhookFunction",
        )
    },
    **{
        (function, "IdempotencyRecords", "dynamodb:DeleteItem", "table/IdempotencyTable"): (
            "Powertools deletes the in-progress idempotency record when a create raises an error "
            "the create does not keep as its answer (a bug); every expected outcome (a provider "
            "failure, a busy table after the provider acted) is kept, so no test makes it"
        )
        for function in (
            "PayproCreatePaymentFunction", "SmartglocalCreatePaymentFunction",
            "EcommpayCreatePaymentFunction", "MonetixCreatePaymentFunction",
            "EcommpayCreatePayoutFunction", "PayproCreatePayoutFunction",
        )
    },
    (
        "PaymentClarificationFunction", "ReadPlatformSecrets",
        "secretsmanager:GetSecretValue", "secret:paygate/local/monetix",
    ): (
        "the function serves ecommpay and Monetix payments; the tests clarify ecommpay ones only, "
        "a Monetix clarification reads MonetixSecret"
    ),
    (
        "BankListsFunction", "ReadPlatformSecrets",
        "secretsmanager:GetSecretValue", "secret:paygate/local/monetix",
    ): (
        "GET /v1/monetix/banks reads MonetixSecret for the live list; the tests list ecommpay's"
    ),
}  # fmt: skip


def recorded() -> list[dict[str, Any]]:
    return read(Path(os.environ[ENVIRONMENT_VARIABLE]))


def denied(calls: list[dict[str, Any]], granted: dict[str, list[Grant]]) -> list[str]:
    found = set()
    for call in calls:
        for action, resource in call["needs"]:
            if not any(g.allows(action, resource) for g in granted.get(call["function"], [])):
                found.add(f"{call['function']}: {call['call']} needs {action} on {resource}")
    return sorted(found)


def unused(calls: list[dict[str, Any]], granted: dict[str, list[Grant]]) -> list[Grant]:
    needs: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for call in calls:
        needs[call["function"]].update((a, r) for a, r in call["needs"])
    return [
        grant
        for function, function_grants in granted.items()
        for grant in function_grants
        if not any(grant.allows(a, r) for a, r in needs[function])
    ]


def key(grant: Grant) -> tuple[str, str, str, str]:
    """A grant as EXPLAINED names it: function, statement, action, resource (its ARN after
    the region and account)."""
    resource = (
        grant.resource.split(":", 5)[-1] if grant.resource.startswith("arn:") else grant.resource
    )
    return (grant.function, grant.statement, grant.action, resource)


def explained(grant: Grant) -> bool:
    return key(grant) in EXPLAINED


def whole_tiers_ran(session: pytest.Session) -> bool:
    """Every test file of both tiers was collected, unfiltered, in this session, or `make test`
    ran them all before this session into the same recording (`PAYGATE_AWS_CALLS_COMPLETE=1`,
    the tiers run in separate pytest sessions there): only then can a grant no call used be
    called unused."""
    if os.environ.get("PAYGATE_AWS_CALLS_COMPLETE") == "1":
        return True
    option = session.config.option
    if getattr(option, "keyword", "") or getattr(option, "markexpr", ""):
        return False
    collected = {Path(str(item.fspath)).resolve() for item in session.items}
    wanted = {p.resolve() for tier in TIERS for p in (ROOT / "tests" / tier).glob("test_*.py")}
    return wanted <= collected


def test_the_grant_matching_tells_resources_and_actions_apart() -> None:
    """The checker itself: a grant on one table does not allow another table, an index, or
    another action; transactions need the per-item actions; PublishBatch needs sns:Publish."""
    granted = grants(load_template())
    table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/PaymentsTable"
    webhook = granted["SmartglocalWebhookFunction"]
    assert any(g.allows("dynamodb:PutItem", table) for g in webhook)
    assert not any(
        g.allows("dynamodb:PutItem", table.replace("Payments", "Idempotency")) for g in webhook
    )
    assert not any(g.allows("dynamodb:DeleteItem", table) for g in webhook)
    assert not any(
        g.allows("dynamodb:Scan", f"{table}/index/by_provider_reference") for g in webhook
    )
    assert any(g.allows("dynamodb:Query", f"{table}/index/by_provider_reference") for g in webhook)
    transaction = {"TransactItems": [{"Put": {"TableName": "PaymentsTable"}},
                                     {"Update": {"TableName": "PaymentsTable"}}]}  # fmt: skip
    needs = required("dynamodb", "TransactWriteItems", transaction, REGION, ACCOUNT)
    assert needs == [("dynamodb:PutItem", table), ("dynamodb:UpdateItem", table)]
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:StatusTopic"
    assert required("sns", "PublishBatch", {"TopicArn": topic}, REGION, ACCOUNT) == [
        ("sns:Publish", topic)
    ]
    secret = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:paygate/local/paypro"
    call = {
        "function": "GetPaymentFunction",
        "call": "secretsmanager:GetSecretValue",
        "needs": [("secretsmanager:GetSecretValue", secret)],
    }
    assert denied([call], granted)
    assert not denied([{**call, "function": "PayproWebhookFunction"}], granted)
    paypro_index = f"{table}/index/by_provider_reference"  # Paypro notifies carry our id
    paypro = granted["PayproWebhookFunction"]
    assert not any(g.allows("dynamodb:Query", paypro_index) for g in paypro)


def test_every_recorded_aws_call_is_allowed_by_its_functions_policies() -> None:
    calls = recorded()
    if not calls:
        pytest.skip(
            "no AWS call recorded in this session: run it with tests/integration or tests/e2e"
        )
    refused = denied(calls, grants(load_template()))
    assert not refused, "calls the template's policies do not allow:\n" + "\n".join(refused)


def test_every_policy_grant_is_used_by_some_test(request: pytest.FixtureRequest) -> None:
    if not whole_tiers_ran(request.session):
        pytest.skip("needs the whole integration and e2e tiers in this session (make test)")
    calls = recorded()
    granted = grants(load_template())
    never = [f for f in granted if f not in {call["function"] for call in calls} and granted[f]]
    spare = unused(calls, granted)
    unexplained = [str(grant) for grant in spare if not explained(grant)]
    assert not unexplained, (
        f"grants no recorded call used (functions never seen: {never}); remove them from "
        "template.yaml, test them, or explain them in EXPLAINED:\n" + "\n".join(unexplained)
    )
    spare_keys = {key(g) for g in spare}
    # A race's re-read may happen by chance when the tiers run side by side: not stale.
    stale = [k for k in EXPLAINED if k not in spare_keys and EXPLAINED[k] != _RETRY_READ]
    assert not stale, f"explained as unused but used by a test (drop the entry): {stale}"
