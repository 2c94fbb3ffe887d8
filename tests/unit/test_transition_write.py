"""The repository's conditional write is generated from the transition the state machine
decided, not restated: against DynamoDB (moto), for every (stored, reported) pair of statuses,
the write goes through exactly when the rule allows it, and stores what the ledger returns."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from paygate import domain as d
from paygate.domain import Payment, PaymentStatus, Provider, ProviderUpdate
from paygate.errors import ConcurrentUpdate
from paygate.records import WebhookRecord
from paygate.repository import ChangeRefused, PaymentRepository
from paygate.status import can_transition
from paygate.transition import Transition, decide, forward

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
PAIRS = list(itertools.product(PaymentStatus, PaymentStatus))


@pytest.fixture(scope="module")
def repository() -> Iterator[PaymentRepository]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="ap-southeast-1")
        client.create_table(
            TableName="payments",
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        yield PaymentRepository("payments", timedelta(days=1), client=client)


def stored(repository: PaymentRepository, status: PaymentStatus, **fields: Any) -> Payment:
    """A payment in `status`, as the table holds it."""
    payment = Payment(
        id=f"pay_{status.value}_{len(fields)}_{next(_ids)}", provider=Provider.PAYPRO,
        method=d.Method.VIETQR, amount=50000, merchant_reference="o", status=status, version=3,
        next_action=d.QrAction(payment_link="https://x"), created_at=NOW, updated_at=NOW, **fields,
    )  # fmt: skip
    repository.create(payment)
    found = repository.get(payment.id)
    assert found is not None
    return found


_ids = itertools.count()


def report(target: PaymentStatus) -> ProviderUpdate:
    """What a provider might report for `target`, with the fields that target carries."""
    if target is PaymentStatus.REQUIRES_ACTION:
        return ProviderUpdate(status=target, next_action=d.RedirectAction(url="https://bank/pay"))
    if target is PaymentStatus.SUCCEEDED:
        return ProviderUpdate(status=target, amount_received=50000, provider_reference="r-1")
    if target.is_terminal:
        return ProviderUpdate(status=target, failure=d.Failure(code="x", message="reported"))
    return ProviderUpdate(status=target, provider_reference="r-2")


def webhook(payment_id: str) -> WebhookRecord:
    return WebhookRecord(
        provider=Provider.PAYPRO, dedupe_key=f"key-{next(_ids)}", payment_id=payment_id,
        outcome=d.WebhookOutcome.APPLIED, body={},
    )  # fmt: skip


def refused(repository: PaymentRepository, payment: Payment, update: ProviderUpdate) -> bool:
    try:
        repository.advance_in_place(
            payment.id, forward(Provider.PAYPRO, update), NOW, webhook(payment.id)
        )
    except ChangeRefused as refusal:
        assert refusal.current == payment  # the failed condition returns the payment as it is
        return True
    return False


@pytest.fixture(params=PAIRS, ids=lambda pair: "-".join(pair))
def pair(request: pytest.FixtureRequest) -> tuple[PaymentStatus, PaymentStatus]:
    """Every (stored, reported) pair of statuses."""
    return request.param  # type: ignore[no-any-return]


def stored_and_forward(
    repository: PaymentRepository, pair: tuple[PaymentStatus, PaymentStatus]
) -> tuple[Payment, Transition]:
    """The payment stored at the pair's first status, and the blind move to its second."""
    current, target = pair
    return stored(repository, current), forward(Provider.PAYPRO, report(target))


def test_the_blind_write_admits_exactly_the_forward_moves(
    repository: PaymentRepository, pair: tuple[PaymentStatus, PaymentStatus]
) -> None:
    payment, move = stored_and_forward(repository, pair)
    assert move.admits(payment) is can_transition(*pair)
    assert refused(repository, payment, report(pair[1])) is not can_transition(*pair)
    after = repository.get(payment.id)
    assert after is not None
    if move.admits(payment):
        assert after == move.applied_to(payment, NOW)
    else:
        assert after == payment  # a refused write changes nothing


def test_the_decided_write_stores_what_the_ledger_returns(
    repository: PaymentRepository, pair: tuple[PaymentStatus, PaymentStatus]
) -> None:
    """After a read, `decide` also covers late results, amount mismatches and new actions."""
    current, target = pair
    payment = stored(repository, current)
    transition = decide(payment, report(target))
    if transition is None:
        return
    assert transition.admits(payment)
    changed = repository.save_change(payment, transition, NOW)
    assert changed == transition.applied_to(payment, NOW)
    assert repository.get(payment.id) == changed


@pytest.mark.parametrize(
    "update",
    [
        ProviderUpdate(status=PaymentStatus.SUCCEEDED, amount_received=49999),
        ProviderUpdate(status=PaymentStatus.SUCCEEDED, currency="USD"),
    ],
)
def test_a_success_for_another_amount_is_refused_blind_and_decided_as_needs_review(
    repository: PaymentRepository, update: ProviderUpdate
) -> None:
    payment = stored(repository, PaymentStatus.REQUIRES_ACTION)
    assert refused(repository, payment, update)
    transition = decide(payment, update)
    assert transition is not None and transition.target is PaymentStatus.NEEDS_REVIEW
    repository.save_change(payment, transition, NOW)
    after = repository.get(payment.id)
    assert after is not None and after.failure is not None
    assert (after.status, after.failure.code) == (PaymentStatus.NEEDS_REVIEW, "amount_mismatch")


def test_another_providers_payment_is_refused(repository: PaymentRepository) -> None:
    payment = stored(repository, PaymentStatus.PENDING)
    move = forward(Provider.SMARTGLOCAL, ProviderUpdate(status=PaymentStatus.PROCESSING))
    assert not move.admits(payment)
    with pytest.raises(ChangeRefused):
        repository.advance_in_place(payment.id, move, NOW, webhook(payment.id))


def test_a_decided_write_on_a_changed_payment_is_a_concurrent_update(
    repository: PaymentRepository,
) -> None:
    payment = stored(repository, PaymentStatus.PENDING)
    transition = decide(payment, ProviderUpdate(status=PaymentStatus.PROCESSING))
    assert transition is not None
    repository.save_change(payment, transition, NOW)
    with pytest.raises(ConcurrentUpdate):  # the same decision again: the version moved on
        repository.save_change(payment, transition, NOW)


def test_a_final_transition_leaves_the_reconcile_schedule(repository: PaymentRepository) -> None:
    payment = stored(repository, PaymentStatus.PROCESSING, reconcile_at=NOW, reconcile_attempts=4)
    success = ProviderUpdate(status=PaymentStatus.SUCCEEDED)
    repository.advance_in_place(
        payment.id, forward(Provider.PAYPRO, success), NOW, webhook(payment.id)
    )
    item = repository.client.get_item(
        TableName="payments", Key={"pk": {"S": f"PAYMENT#{payment.id}"}, "sk": {"S": "PAYMENT"}}
    )["Item"]
    assert not {"reconcile_due", "reconcile_at", "reconcile_attempts"} & set(item)


def test_the_write_after_a_read_is_conditioned_on_the_transition_too(
    repository: PaymentRepository, pair: tuple[PaymentStatus, PaymentStatus]
) -> None:
    """Even at the version read, the put goes through only from a status the rule allows."""
    payment, move = stored_and_forward(repository, pair)
    if move.admits(payment):
        assert repository.save_change(payment, move, NOW) == move.applied_to(payment, NOW)
        return
    with pytest.raises(ConcurrentUpdate):
        repository.save_change(payment, move, NOW)
    assert repository.get(payment.id) == payment
