"""SNS down for a while: the stream mapping retries and bisects (the local poller, with
Lambda's semantics), what still fails lands in the DLQ, `ops.redrive` publishes it, and the
subscriber ends with every status change exactly once by `event_id`."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import ModuleType
from typing import Any
from unittest import mock

import pytest

from local.aws.provision import Provisioned
from local.aws.streams import StreamPoller
from local.aws.template import load_template
from ops.redrive import redrive
from paygate.publisher import StatusPublisher

from .test_publish_status import received, run_payment_through, subscribe


def poller(handlers: Callable[[str], ModuleType], aws: Provisioned) -> StreamPoller:
    template = load_template()
    (source,) = template.stream_sources()
    function = next(f for f in template.functions() if f.logical_id == source.function_id)
    module = handlers("publish_status")
    return StreamPoller(
        source,
        aws.attributes[("PaymentsTable", "StreamArn")],
        function,
        module.lambda_handler,
        aws.refs[source.on_failure_queue_id or ""],
    )


def test_an_sns_outage_goes_to_the_dlq_and_redrive_publishes_each_change_once(
    handlers: Callable[[str], ModuleType], aws: Provisioned, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("local.aws.streams.RETRY_DELAY_SECONDS", 0.0)
    queue = subscribe(aws)
    payments = [run_payment_through(aws) for _ in range(4)]  # 4 x 3 status changes
    publish = handlers("publish_status")
    calls: list[int] = []
    outage = RuntimeError("SNS unavailable")

    def down(**kwargs: Any) -> Any:
        calls.append(len(kwargs["PublishBatchRequestEntries"]))
        raise outage

    stream = poller(handlers, aws)
    with mock.patch.object(publish.publisher.client, "publish_batch", side_effect=down):
        stream.read_once()  # every invocation fails: retries, bisect, then the DLQ
    assert len(calls) > 12  # retried and bisected, not given up at once
    assert received(queue) == []

    # A change committed after the outage is published normally, once.
    late = run_payment_through(aws)
    stream.read_once()
    published_live = [json.loads(m["Body"]) for m in received(queue)]
    assert {e["payment_id"] for e in published_live} == {late.id}

    report = redrive(aws.refs["PublishDLQ"], StatusPublisher(aws.refs["StatusTopic"]))
    assert report.kept == 0 and report.messages >= 1, report
    events = [json.loads(m["Body"]) for m in received(queue)]
    ids = [e["event_id"] for e in events]
    assert len(ids) == len(set(ids)) == 12 == report.published
    assert {e["payment_id"] for e in events} == {p.id for p in payments}
    again = redrive(aws.refs["PublishDLQ"], StatusPublisher(aws.refs["StatusTopic"]))
    assert (again.messages, again.published) == (0, 0)  # the DLQ is empty now
