"""Every AWS client the layer makes ends its calls inside the invocation's deadline: botocore's
standard retries and timeouts whose worst case fits the smallest deadline budget of the
template's functions, an attempt gate on every client, and the repository's own retry loop
stopping within the time left (`paygate.aws_clients`, `paygate.deadline`)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st
from moto import mock_aws

from local.aws.template import load_template
from paygate import aws_clients, deadline, repository
from paygate.errors import StorageBusy

TEMPLATE = load_template()
# botocore's legacy mode (no `retries` in the config): its attempts per service and its
# longest total backoff (botocore/data/_retry.json: DynamoDB base 0.05 s, others rand * 1 s,
# both doubling), so a legacy client fails the budget with its own figures.
LEGACY_ATTEMPTS = {"dynamodb": 10}
LEGACY_BACKOFF = {"dynamodb": sum(0.05 * 2**i for i in range(9))}


def deadline_budgets() -> dict[str, float]:
    """Each function's deadline budget: its Timeout (or the Globals one) minus the margin."""
    globals_ = TEMPLATE.document["Globals"]["Function"]
    margin = float(globals_["Environment"]["Variables"]["DEADLINE_MARGIN_SECONDS"])
    return {
        name: float(resource["Properties"].get("Timeout", globals_["Timeout"])) - margin
        for name, resource in TEMPLATE.of_type("AWS::Serverless::Function").items()
    }


def worst_case(client: Any) -> float:
    """The longest one call of `client` can take, at its configuration."""
    config = client.meta.config
    service = client.meta.service_model.service_name
    retries = config.retries or {}
    if retries.get("mode") == "standard":
        return aws_clients.worst_case_seconds(config)
    attempts = retries.get("total_max_attempts", LEGACY_ATTEMPTS.get(service, 5))
    backoff = LEGACY_BACKOFF.get(service, sum(2.0**i for i in range(attempts - 1)))
    return attempts * (config.connect_timeout + config.read_timeout) + backoff


def layer_clients() -> dict[str, Any]:
    """Every client the layer builds: the repository's, the idempotency store's, the
    publisher's, the secret provider's."""
    from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS

    from paygate.credentials import secrets_provider
    from paygate.idempotency import IdempotentCreates
    from paygate.publisher import StatusPublisher

    DEFAULT_PROVIDERS.pop("secrets", None)
    try:
        return {
            "repository": repository.PaymentRepository("payments", timedelta(days=1)).client,
            "idempotency": IdempotentCreates("idempotency").persistence.client,
            "publisher": StatusPublisher("arn:aws:sns:ap-southeast-1:1:status").client,
            "secrets": secrets_provider().client,
        }
    finally:
        DEFAULT_PROVIDERS.pop("secrets", None)


@pytest.fixture(autouse=True)
def no_budget() -> Iterator[None]:
    deadline.set_budget(None)
    yield
    deadline.set_budget(None)


def test_the_shared_configuration_is_the_documented_arithmetic() -> None:
    assert aws_clients.CONFIG.retries == {"mode": "standard", "total_max_attempts": 3}
    assert aws_clients.attempt_seconds() == 1 + 2
    assert aws_clients.max_backoff_seconds(3) == 1 + 2 + 2 * aws_clients.RETRY_AFTER_EXTRA_SECONDS
    assert aws_clients.worst_case_seconds() == 3 * 3 + aws_clients.max_backoff_seconds(3)
    with pytest.raises(ValueError, match="standard"):
        aws_clients.worst_case_seconds(aws_clients.Config(connect_timeout=1, read_timeout=1))


def test_the_budgets_come_from_the_template() -> None:
    budgets = deadline_budgets()
    assert budgets["PayproWebhookFunction"] == 25 - 3
    assert budgets["ReconcileFunction"] == 30 - 3  # paygate.dispatch.WORKER_TIMEOUT_SECONDS
    assert budgets["ReconcileDispatchFunction"] == 60 - 3
    assert min(budgets.values()) == 22


def test_no_client_of_the_layer_can_outlive_the_smallest_deadline_budget() -> None:
    budget = min(deadline_budgets().values())
    too_slow = {name: worst_case(c) for name, c in layer_clients().items()}
    too_slow = {name: seconds for name, seconds in too_slow.items() if seconds > budget}
    assert not too_slow, f"worst case per call (s) above the {budget} s budget: {too_slow}"


def test_every_client_shares_the_one_configuration() -> None:
    for name, client in layer_clients().items():
        config = client.meta.config
        assert config.retries == aws_clients.CONFIG.retries, name
        assert (config.connect_timeout, config.read_timeout) == (1.0, 2.0), name


def _cheap_call(name: str, client: Any) -> Any:
    if name in {"repository", "idempotency"}:
        return client.list_tables()
    if name == "publisher":
        return client.list_topics()
    return client.list_secrets()


@pytest.mark.parametrize("name", ["repository", "idempotency", "publisher", "secrets"])
def test_no_first_attempt_starts_that_cannot_end_before_the_timeout(name: str) -> None:
    """A call's first attempt may start until the deadline (the margin holds its 3 s)."""
    attempts: list[int] = []
    with mock_aws():
        client = layer_clients()[name]
        client.meta.events.register(
            "before-send", lambda request, **_: attempts.append(aws_clients.attempt_number(request))
        )
        _cheap_call(name, client)  # no budget (tests, tools): no gate
        deadline.set_budget(0.5)
        _cheap_call(name, client)
        deadline.set_budget(aws_clients.attempt_seconds() - deadline.margin_seconds() - 0.5)
        with pytest.raises(aws_clients.NoTimeLeft):
            _cheap_call(name, client)
    assert attempts == [1, 1]  # botocore numbers its attempts, the gate reads it
    assert issubclass(aws_clients.NoTimeLeft, StorageBusy)  # a 503 with Retry-After


@pytest.mark.parametrize("header", [b"attempt=2; max=3", "attempt=3; max=3"])
def test_botocore_retries_start_only_when_they_end_before_the_deadline(header: Any) -> None:
    retry = SimpleNamespace(headers={"amz-sdk-request": header})
    deadline.set_budget(aws_clients.attempt_seconds() + 0.5)
    aws_clients._gate(request=retry)
    deadline.set_budget(aws_clients.attempt_seconds() - 0.5)
    with pytest.raises(aws_clients.NoTimeLeft):
        aws_clients._gate(request=retry)
    aws_clients._gate(request=SimpleNamespace(headers={}))  # a first attempt still fits


class FakeClock:
    """Monotonic time that moves only when told (attempts and pauses)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class BusyTable:
    """A DynamoDB client whose every attempt takes `seconds` and answers "not now"; when
    `gated`, it passes botocore's attempt gate first, as the layer's clients do."""

    def __init__(self, clock: FakeClock, seconds: float, code: str, gated: bool) -> None:
        self.clock, self.seconds, self.code, self.gated = clock, seconds, code, gated
        self.ends: list[float] = []  # when each attempt ended

    def get_item(self, **_: Any) -> Any:
        if self.gated:
            aws_clients._gate()
        self.clock.sleep(self.seconds)
        self.ends.append(self.clock.now)
        raise ClientError({"Error": {"Code": self.code, "Message": "busy"}}, "GetItem")


@settings(max_examples=300, deadline=None)
@given(
    budget=st.floats(min_value=0, max_value=60),
    seconds=st.floats(min_value=0, max_value=aws_clients.attempt_seconds()),
    code=st.sampled_from(sorted(repository.BUSY_ERRORS)),
    gated=st.booleans(),
)
def test_the_repository_retries_end_before_the_deadline(
    budget: float, seconds: float, code: str, gated: bool
) -> None:
    """The loop's own retries start only when one more attempt, at its timeouts, fits in the
    time left; with the attempt gate the first attempt ends before the function's timeout."""
    clock = FakeClock()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(deadline, "time", SimpleNamespace(monotonic=clock.monotonic))
        patch.setattr(repository, "time", SimpleNamespace(sleep=clock.sleep))
        deadline.set_budget(budget)
        ends_at = clock.now + budget
        table = BusyTable(clock, seconds, code, gated)
        store = repository.PaymentRepository("payments", timedelta(days=1), client=table)
        with pytest.raises(StorageBusy):
            store._call("get_item", TableName="payments")
        deadline.set_budget(None)
    assert len(table.ends) <= repository.STORAGE_ATTEMPTS
    retries_late = [end - ends_at for end in table.ends[1:] if end > ends_at]
    assert not retries_late, f"retries ended past the deadline by {retries_late} s"
    if gated:
        assert clock.now <= ends_at + deadline.margin_seconds()


def test_the_repository_retries_while_an_attempt_still_fits() -> None:
    clock = FakeClock()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(deadline, "time", SimpleNamespace(monotonic=clock.monotonic))
        patch.setattr(repository, "time", SimpleNamespace(sleep=clock.sleep))
        deadline.set_budget(60)
        table = BusyTable(clock, 0.01, "ThrottlingException", gated=True)
        store = repository.PaymentRepository("payments", timedelta(days=1), client=table)
        with pytest.raises(StorageBusy):
            store._call("get_item", TableName="payments")
        assert len(table.ends) == repository.STORAGE_ATTEMPTS
