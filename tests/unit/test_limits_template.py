"""The limits in template.yaml that the sizing in docs/performance.md ("Limits that hold")
sets: the operator routes' own throttle, reserved concurrency per function group (0 = not
reserved, the default), and the status stream's ParallelizationFactor."""

from __future__ import annotations

from typing import Any

import pytest

from local.aws.template import load_template

TEMPLATE = load_template()
PARAMETERS = TEMPLATE.document["Parameters"]
API = TEMPLATE.resources["PaygateApi"]["Properties"]
OPERATOR_FUNCTIONS = {"ListPaymentsFunction", "ReviewPaymentFunction"}
GROUPS = {
    "webhooks": ("ReserveWebhookConcurrency", "WebhookReservedConcurrency"),
    "merchant": ("ReserveMerchantApiConcurrency", "MerchantApiReservedConcurrency"),
    "background": ("ReserveBackgroundConcurrency", "BackgroundReservedConcurrency"),
}


def encoded(path: str) -> str:
    return "/" + path.replace("/", "~1")


def is_operator_route(method: str, path: str) -> bool:
    """The operator API: the list pages, the timelines and the reviews."""
    return (method, path) in {("GET", "/v1/payments"), ("GET", "/v1/payouts")} or (
        path.endswith(("/timeline", "/review"))
    )


def group_of(name: str, resource: dict[str, Any]) -> str | None:
    events = resource["Properties"].get("Events", {}).values()
    kinds = {event["Type"] for event in events}
    paths = {event["Properties"].get("Path", "") for event in events}
    if kinds & {"Schedule", "DynamoDB", "SQS"}:  # the reconcile worker reads its queues
        return "background"
    if any(path.startswith("/webhooks/") for path in paths):
        return "webhooks"
    return None if name in OPERATOR_FUNCTIONS else "merchant"


def test_every_operator_route_has_its_own_throttle_and_no_other_route_does() -> None:
    settings = {(s["ResourcePath"], s["HttpMethod"]): s for s in API["MethodSettings"]}
    operator = [r for r in TEMPLATE.routes() if is_operator_route(r.method, r.path)]
    assert len(operator) == 6
    for route in operator:
        setting = settings.pop((encoded(route.path), route.method))
        assert setting["ThrottlingRateLimit"] == {"Ref": "OperatorThrottleRateLimit"}, route
        assert setting["ThrottlingBurstLimit"] == {"Ref": "OperatorThrottleBurstLimit"}, route
        assert setting["MetricsEnabled"] is True
    for route in TEMPLATE.routes():  # the merchant API keeps the stage's own limit
        if route.path.startswith("/v1/") and not is_operator_route(route.method, route.path):
            assert (encoded(route.path), route.method) not in settings, route


def test_the_operator_throttle_defaults_are_the_sized_ones() -> None:
    assert PARAMETERS["OperatorThrottleRateLimit"]["Default"] == 20
    assert PARAMETERS["OperatorThrottleBurstLimit"]["Default"] == 40


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_reserved_concurrency_is_a_parameter_per_group_and_off_by_default(group: str) -> None:
    condition, parameter = GROUPS[group]
    assert PARAMETERS[parameter]["Default"] == 0 and PARAMETERS[parameter]["MinValue"] == 0
    assert TEMPLATE.document["Conditions"][condition] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": parameter}, "0"]}]
    }
    members = [
        name
        for name, resource in TEMPLATE.of_type("AWS::Serverless::Function").items()
        if group_of(name, resource) == group
    ]
    assert members
    for name in members:
        reserved = TEMPLATE.resources[name]["Properties"]["ReservedConcurrentExecutions"]
        if name == "ReconcileDispatchFunction":  # one run at a time, whatever the group's
            assert reserved == 1
            continue
        assert reserved == {"Fn::If": [condition, {"Ref": parameter}, {"Ref": "AWS::NoValue"}]}


def test_the_operator_functions_are_not_reserved() -> None:
    for name in OPERATOR_FUNCTIONS:
        assert "ReservedConcurrentExecutions" not in TEMPLATE.resources[name]["Properties"]


def test_the_stream_parallelization_factor_is_a_parameter() -> None:
    parameter = PARAMETERS["StreamParallelizationFactor"]
    assert (parameter["Default"], parameter["MinValue"], parameter["MaxValue"]) == (2, 1, 10)
    events = TEMPLATE.resources["PublishStatusFunction"]["Properties"]["Events"]
    stream = events["PaymentsStream"]["Properties"]
    assert stream["ParallelizationFactor"] == {"Ref": "StreamParallelizationFactor"}
