"""POST /webhooks/smartglocal refuses what its RSA signature cannot vouch for, through the real
handler and moto: a document out of its documented format or with an unknown top-level key
(400, nothing stored, `WebhookRefused` counted), a signed time too old or too far ahead (on the
simulated clock), a replay after its dedupe record expired (nothing changes, no event); and a
success waits for `session/status` when `SMARTGLOCAL_CONFIRM_BY_QUERY` is on."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import boto3
import pytest

from local.aws.provision import Provisioned
from local.sandboxes.smartglocal import SmartglocalSandbox
from paygate import clock as gateway_clock
from paygate import wiring
from paygate.domain import (
    Confirmation,
    Method,
    Payment,
    PaymentStatus,
    Provider,
    new_payment_id,
)
from paygate.providers.smartglocal import signing
from paygate.settings import TableSettings, load_settings
from paygate.webhooks import WebhookChecks
from tests.conftest import metric_names
from tests.support.smartglocal_documents import (
    MUTATIONS,
    UNKNOWN_TOP_LEVEL_KEYS,
    documented,
    field_name,
    mutated,
    mutation_id,
)

from .conftest import SMARTGLOCAL_TEST_KEY, Api, body_of
from .smartglocal_support import create, deliver, deliver_next, get, webhook_items

FINISHED = "webhook-payment-finished.json"
START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


class SimulatedTime:
    """The gateway's clock (`paygate.clock`), standing still until the test moves it."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Iterator[SimulatedTime]:
    simulated = SimulatedTime()
    gateway_clock.use(simulated)
    yield simulated
    gateway_clock.use(None)


def seeded(api: Api, amount: int = 100000) -> dict[str, Any]:
    """A `manual` e-wallet payment waiting at Smart Glocal, written as the create would leave
    it (the create itself is tested elsewhere; these tests need no sandbox call)."""
    payment = Payment(
        id=new_payment_id(),
        provider=Provider.SMARTGLOCAL,
        method=Method.EWALLET,
        status=PaymentStatus.PENDING,
        amount=amount,
        merchant_reference=f"order-{uuid.uuid4().hex[:8]}",
        provider_reference=f"ps_{uuid.uuid4().hex[:8]}",
        confirmation=Confirmation.MANUAL,
    )
    wiring.ledger(load_settings(TableSettings)).repository.create(payment)
    return get(api, payment.id)


def stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def webhook(payment: dict[str, Any], at: datetime, name: str = FINISHED) -> dict[str, Any]:
    """The documented webhook for `payment` (its session, our id in the metadata), signed at."""
    document = documented(name, payment["id"])
    document["session"]["id"] = payment["provider_reference"]
    document["session"]["updated_at"] = stamp(at)
    return document


def send(api: Api, document: dict[str, Any]) -> dict[str, Any]:
    raw = json.dumps(document).encode()
    return deliver(api, raw, signing.sign(raw, SMARTGLOCAL_TEST_KEY))


def assert_refused(
    api: Api,
    aws: Provisioned,
    capsys: pytest.CaptureFixture[str],
    payment: dict[str, Any],
    document: dict[str, Any],
) -> str:
    """`document` is a 400 naming a field; nothing stored, nothing changed, counted."""
    capsys.readouterr()
    response = send(api, document)
    assert response["statusCode"] == 400, response
    assert "WebhookRefused" in metric_names(capsys.readouterr().out)
    assert webhook_items(aws) == []
    after = get(api, payment["id"])
    assert (after["status"], after["version"]) == (payment["status"], payment["version"])
    field: str = body_of(response)["error"]["field"]
    return field


# -- strict documents --------------------------------------------------------------------------


def test_the_documented_success_as_we_receive_it_is_applied(api: Api, clock: SimulatedTime) -> None:
    """The baseline every refusal below differs from by one field."""
    payment = seeded(api)
    assert send(api, webhook(payment, clock.now))["statusCode"] == 200
    assert get(api, payment["id"])["status"] == "succeeded"


@pytest.mark.parametrize("case", MUTATIONS, ids=[mutation_id(case) for case in MUTATIONS])
def test_a_one_field_format_mutation_is_refused_and_changes_nothing(
    api: Api,
    aws: Provisioned,
    clock: SimulatedTime,
    capsys: pytest.CaptureFixture[str],
    case: tuple[tuple[str | int, ...], Any],
) -> None:
    payment = seeded(api)
    path, value = case
    document = mutated(webhook(payment, clock.now), path, value)
    assert assert_refused(api, aws, capsys, payment, document).startswith(field_name(path))


@pytest.mark.parametrize("key", UNKNOWN_TOP_LEVEL_KEYS)
def test_an_unknown_top_level_key_is_refused_and_changes_nothing(
    api: Api,
    aws: Provisioned,
    clock: SimulatedTime,
    capsys: pytest.CaptureFixture[str],
    key: str,
) -> None:
    payment = seeded(api)
    document = {**webhook(payment, clock.now), key: {"status": "success"}}
    assert assert_refused(api, aws, capsys, payment, document) == key


def test_metadata_naming_another_payment_too_is_refused(
    api: Api, aws: Provisioned, clock: SimulatedTime, capsys: pytest.CaptureFixture[str]
) -> None:
    payment, other = (seeded(api) for _ in range(2))
    document = webhook(payment, clock.now)
    document["session"]["metadata"] = {"paygate_payment_id": other["id"]}
    field = assert_refused(api, aws, capsys, payment, document)
    assert field == "session.metadata.paygate_payment_id"
    assert get(api, other["id"])["status"] == "pending"


# -- freshness on the simulated clock ----------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "applied"),
    [
        (-timedelta(hours=24, seconds=1), False),  # older than SMARTGLOCAL_WEBHOOK_MAX_AGE_HOURS
        (-timedelta(hours=23, minutes=59, seconds=59), True),  # just inside
        (timedelta(minutes=9, seconds=59), True),  # a provider clock just ahead
        (timedelta(minutes=10, seconds=1), False),  # too far ahead
    ],
)
def test_the_signed_time_must_be_within_the_window(
    api: Api,
    aws: Provisioned,
    clock: SimulatedTime,
    capsys: pytest.CaptureFixture[str],
    offset: timedelta,
    applied: bool,
) -> None:
    payment = seeded(api)
    document = webhook(payment, clock.now + offset)
    if applied:
        assert send(api, document)["statusCode"] == 200
        assert get(api, payment["id"])["status"] == "succeeded"
    else:
        assert assert_refused(api, aws, capsys, payment, document) == "session.updated_at"


# -- replay after the dedupe record expired ----------------------------------------------------


def expire_dedupe_records(aws: Provisioned) -> None:
    """What DynamoDB's TTL does after WEBHOOK_RETENTION_DAYS (moto never does it)."""
    table = boto3.client("dynamodb")
    for item in webhook_items(aws):
        key = {"pk": item["pk"], "sk": item["sk"]}
        table.delete_item(TableName=aws.refs["PaymentsTable"], Key=key)


def replay(api: Api, raw: bytes, sign: str) -> dict[str, Any]:
    return deliver(api, raw, sign)


def test_a_success_replayed_after_its_dedupe_record_expired_changes_nothing(
    api: Api, aws: Provisioned, clock: SimulatedTime, capsys: pytest.CaptureFixture[str]
) -> None:
    payment = seeded(api)
    raw = json.dumps(webhook(payment, clock.now)).encode()
    sign = signing.sign(raw, SMARTGLOCAL_TEST_KEY)
    assert replay(api, raw, sign)["statusCode"] == 200
    paid = get(api, payment["id"])
    assert paid["status"] == "succeeded"
    clock.advance(days=91)
    expire_dedupe_records(aws)
    capsys.readouterr()
    response = replay(api, raw, sign)
    assert response["statusCode"] == 400
    assert body_of(response)["error"]["field"] == "session.updated_at"
    assert "WebhookRefused" in metric_names(capsys.readouterr().out)
    assert get(api, payment["id"]) == paid  # same status, version, history: no event
    assert webhook_items(aws) == []


def test_a_rejected_review_is_not_reopened_by_a_replayed_genuine_success(
    api: Api, aws: Provisioned, clock: SimulatedTime
) -> None:
    """A success for another amount needs review; the merchant rejects it. The same genuine
    webhook replayed later would contradict the review and reopen it (docs/lifecycle.md);
    within the dedupe window it is a duplicate, after it too old."""
    payment = seeded(api, amount=90000)
    raw = json.dumps(webhook(payment, clock.now)).encode()
    sign = signing.sign(raw, SMARTGLOCAL_TEST_KEY)
    assert replay(api, raw, sign)["statusCode"] == 200
    assert get(api, payment["id"])["status"] == "needs_review"
    clock.advance(hours=1)
    headers = {"content-type": "application/json", "Idempotency-Key": "review-1"}
    decision = {"decision": "reject", "note": "the customer paid 100000, refunded"}
    rejected = api.call("POST", f"/v1/payments/{payment['id']}/review", decision, headers)
    assert rejected["statusCode"] == 200, rejected
    ended = get(api, payment["id"])
    assert ended["status"] == "failed"
    assert replay(api, raw, sign)["statusCode"] == 200  # a duplicate, acknowledged
    assert get(api, payment["id"]) == ended
    clock.advance(days=91)
    expire_dedupe_records(aws)
    assert replay(api, raw, sign)["statusCode"] == 400
    assert get(api, payment["id"]) == ended


# -- confirmation by session/status ------------------------------------------------------------


@pytest.fixture
def contract(handlers: Callable[[str], ModuleType]) -> Any:
    return handlers("smartglocal_webhook").gateway.webhook_contract


def paid_at_the_sandbox(api: Api, sandbox: SmartglocalSandbox) -> dict[str, Any]:
    """An `auto` payment its customer paid on the sandbox's QR page: payment_finished is
    waiting to be delivered."""
    payment = create(api)
    reference = payment["provider_reference"]
    deliver_next(api, sandbox, reference, "ready_to_confirm")
    deliver_next(api, sandbox, reference, "action_required")
    sandbox.finish(reference, paid=True)
    waiting = get(api, payment["id"])
    assert waiting["status"] == "requires_action"
    return waiting


def status_calls(sandbox: SmartglocalSandbox, payment: dict[str, Any]) -> int:
    state = sandbox.session(payment["provider_reference"])
    assert state is not None
    calls: int = state["status_calls"]
    return calls


@pytest.mark.parametrize("confirm", [False, True])
def test_a_success_counts_with_the_query_s_agreement_when_on(
    api: Api,
    smartglocal_sandbox: SmartglocalSandbox,
    contract: Any,
    monkeypatch: pytest.MonkeyPatch,
    confirm: bool,
) -> None:
    monkeypatch.setattr(contract, "checks", WebhookChecks(timedelta(hours=24), confirm=confirm))
    payment = paid_at_the_sandbox(api, smartglocal_sandbox)
    before = status_calls(smartglocal_sandbox, payment)
    reference = payment["provider_reference"]
    assert (
        deliver_next(api, smartglocal_sandbox, reference, "payment_finished")["statusCode"] == 200
    )
    assert get(api, payment["id"])["status"] == "succeeded"
    assert status_calls(smartglocal_sandbox, payment) - before == (1 if confirm else 0)


def test_with_the_query_down_the_success_is_stored_unconfirmed_and_waits(
    api: Api,
    aws: Provisioned,
    handlers: Callable[[str], ModuleType],
    smartglocal_sandbox: SmartglocalSandbox,
    contract: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(contract, "checks", WebhookChecks(timedelta(hours=24), confirm=True))
    payment = paid_at_the_sandbox(api, smartglocal_sandbox)
    reference = payment["provider_reference"]
    smartglocal_sandbox.settings({"status_query": "silent"})
    try:
        capsys.readouterr()
        answer = deliver_next(api, smartglocal_sandbox, reference, "payment_finished")
        assert (answer["statusCode"], body_of(answer)) == (200, {"status": "ok"})
        assert "WebhookUnconfirmed" in metric_names(capsys.readouterr().out)
    finally:
        smartglocal_sandbox.settings({"status_query": "normal"})
    waiting = get(api, payment["id"])
    assert (waiting["status"], waiting["version"]) == ("requires_action", payment["version"])
    outcomes = sorted(item["outcome"]["S"] for item in webhook_items(aws))
    assert outcomes == ["applied", "stale", "unconfirmed"]  # action, ready (auto), finished
    # The reconcile job's status query settles it once Smart Glocal answers again.
    gateway = handlers("smartglocal_webhook").gateway
    assert gateway.refresh(payment["id"]).status.value == "succeeded"
