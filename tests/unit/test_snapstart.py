"""SnapStart restore hook (paygate.snapstart): registered only where the runtime has
snapshot_restore_py, and after a restore nothing built before the snapshot is reused:
random state, boto3 clients and sessions, cached secrets, httpx connection pools."""

from __future__ import annotations

import importlib.machinery
import random
import sys
import types
from collections.abc import Callable, Iterator
from functools import cached_property
from typing import Any

import boto3
import httpx
import pytest

from paygate import snapstart, wiring
from paygate.idempotency import restorable_creates
from paygate.repository import PaymentRepository
from paygate.settings import IdempotencySettings, ProviderCallSettings, TableSettings


@pytest.fixture
def fake_hooks_library(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Callable[[], None]]]:
    """A stand-in for the Lambda runtime's snapshot_restore_py that records registrations."""
    registered: list[Callable[[], None]] = []
    module = types.ModuleType("snapshot_restore_py")
    module.__spec__ = importlib.machinery.ModuleSpec("snapshot_restore_py", None)
    module.register_after_restore = registered.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", module)
    monkeypatch.setattr(snapstart, "_installed", False)
    yield registered


def test_install_registers_nothing_without_the_runtime_library(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(sys.modules, "snapshot_restore_py", raising=False)
    monkeypatch.setattr(snapstart, "_installed", False)
    assert snapstart.install() is False


def test_install_registers_restore_once(fake_hooks_library: list[Callable[[], None]]) -> None:
    assert snapstart.install() is True
    assert snapstart.install() is True
    assert fake_hooks_library == [snapstart.restore]


def test_restore_reseeds_random() -> None:
    random.seed(1234)
    expected = [random.random() for _ in range(4)]
    random.seed(1234)
    snapstart.restore()
    assert [random.random() for _ in range(4)] != expected


def test_restore_drops_boto3_default_session() -> None:
    boto3.setup_default_session(region_name="ap-southeast-1")
    assert boto3.DEFAULT_SESSION is not None
    snapstart.restore()
    assert boto3.DEFAULT_SESSION is None


def test_restore_clears_powertools_cached_providers() -> None:
    from aws_lambda_powertools.utilities.parameters import base

    base.DEFAULT_PROVIDERS["secrets"] = object()  # type: ignore[assignment]
    snapstart.restore()
    assert base.DEFAULT_PROVIDERS == {}


class _Holder:
    builds = 0

    @cached_property
    def client(self) -> object:
        type(self).builds += 1
        return object()


def test_forgotten_clients_are_built_again_after_restore() -> None:
    holder = _Holder()
    snapstart.forget_on_restore(holder, "client")
    first = holder.client
    assert holder.client is first
    snapstart.restore()
    assert holder.client is not first


def test_wired_repository_gets_a_fresh_boto3_client() -> None:
    ledger = wiring.ledger(TableSettings(payments_table="payments"))
    repository = ledger.repository
    assert isinstance(repository, PaymentRepository)
    before = repository.client
    assert not validates_parameters(before)  # the repository's own configuration
    snapstart.restore()
    assert repository.client is not before
    assert not validates_parameters(repository.client)  # kept after a restore


def validates_parameters(client: Any) -> bool:
    """Whether botocore refuses a badly typed parameter before sending (the request is
    answered in-process by a `before-send` stand-in, so nothing leaves the machine)."""
    from botocore.awsrequest import AWSResponse
    from botocore.exceptions import ParamValidationError

    def answer(request: Any, **_: Any) -> AWSResponse:
        return AWSResponse(request.url, 200, {"x-amzn-RequestId": "t"}, _Raw(b"{}"))

    client.meta.events.register("before-send.dynamodb.Query", answer)
    try:
        client.query(TableName="t", Limit="not a number")
    except ParamValidationError:
        return True
    finally:
        client.meta.events.unregister("before-send.dynamodb.Query", answer)
    return False


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body

    def read(self) -> bytes:
        return self.body


def test_a_default_client_validates_parameters() -> None:
    import boto3

    assert validates_parameters(boto3.client("dynamodb", region_name="ap-southeast-1"))


def test_a_fresh_client_keeps_the_old_clients_configuration() -> None:
    import boto3
    from botocore.config import Config

    old = boto3.client("sns", region_name="ap-southeast-1", config=Config(read_timeout=7))
    fresh = snapstart.fresh_boto3_client(old)
    assert fresh is not old and fresh.meta.config.read_timeout == 7


def test_wired_idempotency_store_gets_a_fresh_boto3_client() -> None:
    creates = restorable_creates(IdempotencySettings(idempotency_table="idempotency"))
    before = creates.persistence.client
    snapstart.restore()
    assert creates.persistence.client is not before


def test_wired_http_client_renews_its_connection_pool() -> None:
    client = wiring.http_client(ProviderCallSettings())
    transport = client._transport  # the restorable wrapper build_client was handed
    inner_before = transport._inner  # type: ignore[attr-defined]
    snapstart.restore()
    assert transport._inner is not inner_before  # type: ignore[attr-defined]
    assert isinstance(transport._inner, httpx.HTTPTransport)  # type: ignore[attr-defined]


def test_restorable_transport_closes_the_old_pool_and_keeps_serving() -> None:
    made: list[httpx.MockTransport] = []
    closed: list[httpx.MockTransport] = []

    def factory() -> httpx.BaseTransport:
        transport = httpx.MockTransport(lambda request: httpx.Response(200, text=str(len(made))))
        transport.close = lambda t=transport: closed.append(t)  # type: ignore[method-assign]
        made.append(transport)
        return transport

    with httpx.Client(transport=snapstart.restorable_http_transport(factory)) as client:
        assert client.get("https://provider.test/").text == "1"
        snapstart.restore()
        assert closed == [made[0]]
        assert client.get("https://provider.test/").text == "2"


def test_callbacks_run_after_restore() -> None:
    calls: list[str] = []
    snapstart.on_restore(lambda: calls.append("ran"))
    snapstart.restore()
    assert calls == ["ran"]
