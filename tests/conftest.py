"""Shared test setup: a fake AWS environment, moto resources built from template.yaml, and
helpers that build API Gateway events and signed provider notifications."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# Before anything imports boto3 or a handler: no real AWS, ever.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "ap-southeast-1",
        "AWS_REGION": "ap-southeast-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "paygate",
        "POWERTOOLS_METRICS_NAMESPACE": "Paygate",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)

import tempfile

import pytest

from local.aws import aws_calls

# Every AWS call a function makes in this session, in-process (integration) and in the local
# runtimes the e2e tier starts (they inherit the variable): read by tests/iam/, which runs last.
if aws_calls.ENVIRONMENT_VARIABLE not in os.environ:
    _handle, _path = tempfile.mkstemp(prefix="paygate-aws-calls-", suffix=".jsonl")
    os.close(_handle)
    os.environ[aws_calls.ENVIRONMENT_VARIABLE] = _path
aws_calls.install_from_environment()

from tests.support.runtimes import own_runtime  # noqa: E402  (snapshots the environment now)

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"


def load_event(relative: str) -> Any:
    """A canonical event from events/ (also used by `sam local invoke -e`)."""
    return json.loads((EVENTS / relative).read_text(encoding="utf-8"))


def metric_names(captured: str) -> set[str]:
    """Names of the CloudWatch EMF metrics Powertools printed to stdout."""
    blobs = [json.loads(line) for line in captured.splitlines() if '"_aws"' in line]
    return {
        metric["Name"]
        for blob in blobs
        for directive in blob["_aws"]["CloudWatchMetrics"]
        for metric in directive["Metrics"]
    }


@pytest.fixture(autouse=True)
def no_invocation_budget() -> Iterator[None]:
    """Each test starts outside any invocation: a handler a previous test ran leaves its
    deadline (`paygate.deadline`, a ContextVar of this thread) behind, which would refuse the
    next test's own AWS calls once it has passed."""
    from paygate import deadline

    deadline.set_budget(None)
    yield
    deadline.set_budget(None)


@pytest.fixture
def lambda_context() -> Any:
    from local.aws.apigw import FakeLambdaContext

    return FakeLambdaContext(function_name="test")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
    # The explicit order (a stable sort; pytest-xdist hands tests out in this order): `early`
    # tests first (the longest ones: started last, they would hold the whole run up), and
    # tests/iam/, which checks the AWS calls the other tiers recorded, after all the others.
    items.sort(
        key=lambda item: (
            "/tests/iam/" in str(item.fspath),
            item.get_closest_marker("early") is None,
        )
    )


@pytest.fixture(scope="session")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The local runtime the e2e and browser tests of this session (of this pytest-xdist
    worker) share (tests/support/runtimes.py: the leak check runs on it at the end)."""
    yield from own_runtime(tmp_path_factory, "paygate-runtime")


@pytest.fixture(scope="session")
def repo_root() -> Iterator[Path]:
    yield ROOT
