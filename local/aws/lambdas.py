"""The template's functions loaded into this process as Lambda would run them: the environment
boto3 and Powertools need to reach moto, each function's resolved environment, its handler, and
the workers that invoke handlers the way Lambda's event sources do (stream pollers for the
event source mappings, schedulers for the EventBridge schedules)."""

from __future__ import annotations

import os
from typing import Protocol

from local.aws import isolation
from local.aws.activity import Activity
from local.aws.apigw import Handler, load_handler
from local.aws.clock import LocalClock
from local.aws.provision import REGION, Provisioned
from local.aws.queues import QueuePoller
from local.aws.scheduler import Scheduler
from local.aws.streams import StreamPoller
from local.aws.template import FunctionDef, Template
from local.config import LocalConfig

Functions = dict[str, tuple[FunctionDef, Handler]]


class Worker(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...


def aws_environment(config: LocalConfig) -> dict[str, str]:
    """Everything boto3 and Powertools need to talk to moto instead of AWS."""
    return {
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL": config.moto_url,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_DEV": "false",
        # moto answers on this machine, sharing its CPU: longer waits (AWS keeps 1 s / 2 s), so
        # a busy laptop or test run is not read as an AWS outage. One attempt (2 + 8 s) still
        # fits a 25 s invocation's deadline with room: paygate.aws_clients' gate holds.
        "PAYGATE_AWS_CONNECT_TIMEOUT_SECONDS": "2",
        "PAYGATE_AWS_READ_TIMEOUT_SECONDS": "8",
    }


def load_functions(template: Template, made: Provisioned, extra: dict[str, str]) -> Functions:
    """Every function's handler, imported after its environment (the provisioned resources'
    names, then `extra`) is in os.environ: the functions share this one process, so the
    resolver state Powertools keeps per process is made per invocation first
    (local/aws/isolation.py)."""
    isolation.install()
    functions = template.functions()
    for function in functions:
        os.environ.update(made.environment(function))
    os.environ.update(extra)
    return {function.logical_id: (function, load_handler(function)) for function in functions}


def event_source_workers(
    template: Template,
    functions: Functions,
    made: Provisioned,
    clock: LocalClock,
    schedule_seconds: float | None,
    activity: Activity,
) -> list[Worker]:
    """The stream pollers (woken by this process's DynamoDB writes) and the schedulers, not
    started."""
    workers: list[Worker] = []
    for source in template.stream_sources():
        function, handler = functions[source.function_id]
        dlq = made.refs.get(source.on_failure_queue_id or "")
        stream_arn = made.attributes[(source.table_id, "StreamArn")]
        workers.append(StreamPoller(source, stream_arn, function, handler, dlq, activity))
    pollers = queue_pollers(template, functions, made, clock)
    workers.extend(pollers)

    def drain() -> None:
        for poller in pollers:
            poller.drain()

    for schedule in template.schedules():
        function, handler = functions[schedule.function_id]
        workers.append(
            Scheduler(
                schedule,
                handler,
                clock,
                schedule_seconds,
                after=drain,
                timeout_seconds=function.timeout_seconds,
            )
        )
    return workers


def queue_pollers(
    template: Template, functions: Functions, made: Provisioned, clock: LocalClock
) -> list[QueuePoller]:
    """The SQS event source mappings (local/aws/queues.py), drained after each schedule run."""
    pollers = []
    queues = template.of_type("AWS::SQS::Queue")
    for source in template.queue_sources():
        function, handler = functions[source.function_id]
        visibility = float(
            queues[source.queue_id].get("Properties", {}).get("VisibilityTimeout", 30)
        )
        pollers.append(
            QueuePoller(
                source,
                made.refs[source.queue_id],
                made.attributes[(source.queue_id, "Arn")],
                visibility,
                handler,
                clock,
                timeout_seconds=function.timeout_seconds,
            )
        )
    return pollers


def status_topic_arn(template: Template, made: Provisioned) -> str:
    """The status events' SNS topic (the template's only one)."""
    return next(made.refs[topic] for topic in template.of_type("AWS::SNS::Topic"))
