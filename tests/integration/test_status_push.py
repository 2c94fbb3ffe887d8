"""The status push (paygate.push): the WebSocket API's `$connect` authorises a browser by its
payment's client secret and nothing else; the stream publisher posts each status change to
that payment's connections (botocore's Stubber, and the local WebSocket API end to end) and
deletes the connections API Gateway says are gone."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any
from unittest import mock

import boto3
import pytest
from botocore.stub import ANY, Stubber
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local.aws.apigw import FakeLambdaContext
from local.aws.aws_calls import acting_as
from local.aws.provision import Provisioned
from local.aws.template import load_template
from local.aws.websocket import LocalWebSocketApi
from paygate import client_secrets
from paygate import clock as paygate_clock
from paygate.domain import Method, Payment, PaymentStatus, Provider, new_payment_id
from paygate.lifecycle import WaitWindows
from paygate.push import CONNECTION_TTL, StatusPush
from paygate.repository import ConnectionRepository, PaymentRepository
from tests.integration.test_publish_status import run_payment_through, stream_records
from tests.support import ws_client

KEY = client_secrets.ClientSecretKey.model_validate({"key": "push-test-key"})
NOW = datetime(2026, 12, 7, 20, 45, 0, 500000, tzinfo=UTC)


@pytest.fixture
def frozen() -> Iterator[datetime]:
    """The gateway's clock stopped at NOW for the test."""
    paygate_clock.use(lambda: NOW)
    yield NOW
    paygate_clock.use(None)


OTHER_KEY = client_secrets.ClientSecretKey.model_validate({"key": "another-deployment"})


@pytest.fixture
def key(aws: Provisioned) -> client_secrets.ClientSecretKey:
    """The client secrets' key in moto's Secrets Manager (what creates issue secrets with)."""
    boto3.client("secretsmanager").put_secret_value(
        SecretId=aws.refs["ClientSecretKey"], SecretString=json.dumps({"key": "push-test-key"})
    )
    return KEY


@pytest.fixture
def ws(handlers: Callable[[str], ModuleType], key: client_secrets.ClientSecretKey) -> ModuleType:
    return handlers("ws_connection")


def socket_event(
    route: str, connection_id: str, query: dict[str, str] | None, body: str | None = None
) -> dict[str, Any]:
    """What API Gateway's WebSocket API hands the route's function."""
    return {
        "body": body,
        "requestContext": {
            "routeKey": route,
            "eventType": {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route, "MESSAGE"),
            "connectionId": connection_id,
            "stage": "local",
            "apiId": "StatusSocketApi",
            "connectedAt": 1,
            "requestTimeEpoch": 1,
            "requestId": "r",
            "extendedRequestId": "r",
            "requestTime": "07/Dec/2026:20:00:00 +0000",
            "messageDirection": "IN",
            "domainName": "127.0.0.1",
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "queryStringParameters": query,
        "isBase64Encoded": False,
    }


def stored(aws: Provisioned) -> dict[str, dict[str, Any]]:
    items = boto3.client("dynamodb").scan(TableName=aws.refs["ConnectionsTable"])["Items"]
    return {item["connection_id"]["S"]: item for item in items}


def test_a_client_secret_connects_to_its_own_payment_for_two_hours(
    ws: ModuleType, aws: Provisioned, frozen: datetime
) -> None:
    payment_id = new_payment_id()
    secret = client_secrets.issue(payment_id, KEY)
    event = socket_event("$connect", "conn-1", {"client_secret": secret})
    assert ws.lambda_handler(event, FakeLambdaContext("ws")) == {"statusCode": 200}
    item = stored(aws)["conn-1"]
    assert item["payment_id"]["S"] == payment_id
    assert int(item["expires_at"]["N"]) == int((frozen + CONNECTION_TTL).timestamp())

    disconnect = socket_event("$disconnect", "conn-1", None)
    assert ws.lambda_handler(disconnect, FakeLambdaContext("ws")) == {"statusCode": 200}
    assert stored(aws) == {}


@pytest.mark.parametrize(
    "query",
    [
        None,
        {},
        {"client_secret": ""},
        {"client_secret": "pay_123"},
        # a secret of this payment id under another key: not issued by this gateway
        {"client_secret": client_secrets.issue("pay_victim", OTHER_KEY)},
        # another payment's valid mac moved onto this payment's id
        {
            "client_secret": "pay_victim_secret_"
            + client_secrets.issue("pay_mine", KEY).split("_secret_")[1]
        },
    ],
)
def test_a_connect_without_its_payments_client_secret_is_refused(
    ws: ModuleType, aws: Provisioned, query: dict[str, str] | None
) -> None:
    answer = ws.lambda_handler(socket_event("$connect", "conn-x", query), FakeLambdaContext("ws"))
    assert answer["statusCode"] == 403
    error = json.loads(answer["body"])["error"]
    assert error["code"] == "invalid_client_secret" and error["field"] == "client_secret"
    assert "client_secret" in error["message"]
    assert stored(aws) == {}


def test_a_secret_only_ever_connects_to_the_payment_it_was_issued_for(
    ws: ModuleType, aws: Provisioned
) -> None:
    """Whatever else the query carries, the connection is stored under the secret's payment."""
    mine, other = new_payment_id(), new_payment_id()
    query = {"client_secret": client_secrets.issue(mine, KEY), "payment_id": other}
    answer = ws.lambda_handler(socket_event("$connect", "conn-2", query), FakeLambdaContext("ws"))
    assert answer == {"statusCode": 200}
    assert stored(aws)["conn-2"]["payment_id"]["S"] == mine


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=st.dictionaries(st.sampled_from(["client_secret", "x", ""]), st.text(max_size=120)))
def test_any_query_is_a_403_or_its_own_payment_never_a_5xx(
    ws: ModuleType, aws: Provisioned, query: dict[str, str]
) -> None:
    answer = ws.lambda_handler(socket_event("$connect", "conn-h", query), FakeLambdaContext("ws"))
    expected = client_secrets.payment_of(query.get("client_secret", ""), KEY)
    if expected is None:
        assert answer["statusCode"] == 403
        assert "conn-h" not in stored(aws)
    else:
        assert answer == {"statusCode": 200}
        assert stored(aws)["conn-h"]["payment_id"]["S"] == expected


def status_of(ws: ModuleType, body: str) -> dict[str, Any]:
    answer: dict[str, Any] = ws.lambda_handler(
        socket_event("status", "conn-s", None, body), FakeLambdaContext("ws")
    )
    return answer


def test_the_status_route_answers_the_secrets_own_payment_with_its_window(
    ws: ModuleType, aws: Provisioned, frozen: datetime
) -> None:
    payment = run_payment_through(aws)  # succeeded: final, no window
    waiting = Payment(
        id=new_payment_id(), provider=Provider.PAYPRO, method=Method.VIETQR, amount=60000,
        merchant_reference="order-8", status=PaymentStatus.REQUIRES_ACTION,
    )  # fmt: skip
    PaymentRepository(aws.refs["PaymentsTable"], timedelta(days=1)).create(waiting)
    for item, window in ((payment, False), (waiting, True)):
        secret = client_secrets.issue(item.id, KEY)
        answer = status_of(ws, json.dumps({"action": "status", "client_secret": secret}))
        assert answer["statusCode"] == 200
        message = json.loads(answer["body"])
        assert message["type"] == "payment.status" and message["payment"]["id"] == item.id
        assert datetime.fromisoformat(message["sent_at"]) == frozen
        if window:  # Paypro VietQR waits 30 minutes (the template's WINDOW_PAYPRO_VIETQR_MINUTES)
            ends = datetime.fromisoformat(message["payment"]["expires_at"])
            assert ends == waiting.updated_at + timedelta(minutes=30)
        else:
            assert message["payment"]["expires_at"] is None


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("not json", 400),
        (json.dumps({"action": "status"}), 403),
        (json.dumps({"action": "status", "client_secret": ["x"]}), 403),
        (
            json.dumps(
                {"action": "status", "client_secret": client_secrets.issue("pay_x", OTHER_KEY)}
            ),
            403,
        ),
        (
            json.dumps(
                {"action": "status", "client_secret": client_secrets.issue("pay_gone", KEY)}
            ),
            404,
        ),
    ],
)
def test_the_status_route_refuses_what_is_not_a_payments_secret(
    ws: ModuleType, aws: Provisioned, body: str, status: int
) -> None:
    answer = status_of(ws, body)
    assert answer["statusCode"] == status
    assert json.loads(answer["body"])["error"]["message"]


# ---- the publisher's push ------------------------------------------------------------------


@pytest.fixture
def publish(handlers: Callable[[str], ModuleType], aws: Provisioned) -> Iterator[ModuleType]:
    module = handlers("publish_status")
    assert module.push is not None  # the template configures the push
    module.push.__dict__.pop("client", None)
    yield module
    module.push.__dict__.pop("client", None)


def test_the_publisher_pushes_each_change_and_forgets_gone_connections(
    publish: ModuleType, aws: Provisioned
) -> None:
    payment = run_payment_through(aws)
    connections = ConnectionRepository(aws.refs["ConnectionsTable"])
    later = payment.created_at + timedelta(hours=1)
    connections.add("live", payment.id, later)
    connections.add("gone", payment.id, later)
    connections.add("elsewhere", new_payment_id(), later)
    stubber = Stubber(publish.push.client)
    # the three changes of one payment in one batch: only the newest is pushed
    for connection_id in sorted(["live", "gone"]):
        if connection_id == "gone":
            stubber.add_client_error(
                "post_to_connection", "GoneException", http_status_code=410,
                expected_params={"ConnectionId": "gone", "Data": ANY},
            )  # fmt: skip
        else:
            stubber.add_response("post_to_connection", {}, {"ConnectionId": "live", "Data": ANY})
    with stubber:
        answer = publish.lambda_handler(
            {"Records": stream_records(aws)}, FakeLambdaContext("publish")
        )
    stubber.assert_no_pending_responses()
    assert answer == {"batchItemFailures": []}
    assert set(stored(aws)) == {"live", "elsewhere"}


def test_a_push_that_fails_never_fails_the_batch(publish: ModuleType, aws: Provisioned) -> None:
    payment = run_payment_through(aws)
    ConnectionRepository(aws.refs["ConnectionsTable"]).add(
        "broken", payment.id, payment.created_at + timedelta(hours=1)
    )
    stubber = Stubber(publish.push.client)
    stubber.add_client_error("post_to_connection", "LimitExceededException", http_status_code=429)
    with stubber:
        answer = publish.lambda_handler(
            {"Records": stream_records(aws)}, FakeLambdaContext("publish")
        )
    assert answer == {"batchItemFailures": []}
    assert "broken" in stored(aws)  # not gone: kept for the next change


# ---- end to end through the local WebSocket API ----------------------------------------------


@pytest.fixture
def local_socket(
    handlers: Callable[[str], ModuleType], ws: ModuleType
) -> Iterator[LocalWebSocketApi]:
    template = load_template()
    function = next(f for f in template.functions() if f.logical_id == "WsConnectionFunction")
    api = LocalWebSocketApi(
        template, {function.logical_id: (function, ws.lambda_handler)}, "127.0.0.1", 0
    )
    api.start()
    yield api
    api.stop()


def test_a_browser_connected_with_its_secret_receives_the_status_document(
    local_socket: LocalWebSocketApi, aws: Provisioned
) -> None:
    payment = Payment(
        id=new_payment_id(), provider=Provider.PAYPRO, method=Method.VIETQR, amount=50000,
        merchant_reference="order-7", status=PaymentStatus.REQUIRES_ACTION,
        metadata={"email": "shopper@example.com"},
    )  # fmt: skip
    secret = client_secrets.issue(payment.id, KEY)
    refused = ws_client.connect(f"{local_socket.url}?client_secret=wrong")
    assert refused.status == 403 and b"invalid_client_secret" in refused.body
    browser = ws_client.connect(f"{local_socket.url}?client_secret={secret}")
    assert browser.status == 101
    (connection_id,) = stored(aws)
    browser.send(json.dumps({"action": "whatever"}))  # no such route, no $default
    assert json.loads(browser.receive() or "{}")["message"] == "Forbidden"
    browser.send(json.dumps({"action": "status", "client_secret": secret}))
    assert json.loads(browser.receive() or "{}")["error"]["code"] == "not_found"  # not stored
    push = StatusPush(
        ConnectionRepository(aws.refs["ConnectionsTable"]),
        local_socket.management_endpoint,
        WaitWindows(paypro_vietqr=timedelta(minutes=30)),
    )
    with acting_as("PublishStatusFunction"):
        report = push.push([payment])
    assert (report.sent, report.gone, report.failed) == (1, 0, 0)
    message = json.loads(browser.receive() or "{}")
    assert message["type"] == "payment.status"
    assert message["payment"]["id"] == payment.id
    assert message["payment"]["status"] == "requires_action"
    assert message["payment"]["expires_at"] is not None
    assert "metadata" not in message["payment"] and "shopper@example.com" not in json.dumps(message)

    browser.close()  # returns once the server answered the close, after its $disconnect
    assert stored(aws) == {}
    # a connection that closed without its $disconnect being stored: GoneException → deleted
    ConnectionRepository(aws.refs["ConnectionsTable"]).add(
        connection_id, payment.id, payment.created_at + timedelta(hours=1)
    )
    with acting_as("PublishStatusFunction"):
        report = push.push([payment])
    assert (report.sent, report.gone, report.failed) == (0, 1, 0)
    assert stored(aws) == {}


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.one_of(
        st.text(max_size=200),
        st.builds(
            lambda secret, extra: json.dumps(
                {"action": "status", "client_secret": secret, **extra}
            ),
            st.one_of(st.text(max_size=100), st.integers(), st.none()),
            st.dictionaries(st.text(max_size=10), st.text(max_size=10), max_size=3),
        ),
    )
)
def test_any_status_message_is_a_4xx_never_a_5xx(
    ws: ModuleType, aws: Provisioned, body: str
) -> None:
    answer = status_of(ws, body)
    assert answer["statusCode"] in (400, 403, 404)
    assert json.loads(answer["body"])["error"]["message"]


class HeldClient:
    """A management API client whose PostToConnection waits until SNS was published."""

    def __init__(self, published: threading.Event, log: list[str]) -> None:
        self.published, self.log = published, log

    def post_to_connection(self, **_: Any) -> dict[str, Any]:
        self.log.append("push waits")
        assert self.published.wait(30), "SNS was not published while the push was held"
        self.log.append("pushed")
        return {}


def test_sns_is_published_while_the_push_is_still_running(
    publish: ModuleType, aws: Provisioned
) -> None:
    payment = run_payment_through(aws)
    ConnectionRepository(aws.refs["ConnectionsTable"]).add(
        "held", payment.id, payment.created_at + timedelta(hours=1)
    )
    published, log = threading.Event(), list[str]()
    publish.push.__dict__["client"] = HeldClient(published, log)
    original = publish.publisher.publish_batch

    def publish_batch(events: Any) -> set[int]:
        failed: set[int] = original(events)
        log.append("sns published")
        published.set()
        return failed

    with mock.patch.object(publish.publisher, "publish_batch", publish_batch):
        answer = publish.lambda_handler(
            {"Records": stream_records(aws)}, FakeLambdaContext("publish")
        )
    assert answer == {"batchItemFailures": []}
    # the push began, SNS was published while it waited, and the handler answered after it
    assert log[0] == "push waits" or log[0] == "sns published"
    assert log[-1] == "pushed" and "sns published" in log
