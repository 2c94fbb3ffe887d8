"""Reads template.yaml (the one source of truth for resources and routes) for the local runtime
and the tests: functions, API routes, stream sources and resource definitions."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """YAML loader that keeps CloudFormation short-form tags as `{"Fn::X": value}`."""


def _construct_tag(loader: _CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _construct_tag)  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class ApiRoute:
    function_id: str
    method: str
    path: str
    api_key_required: bool
    # The route's `Auth.Authorizer` (one of the API's `Auth.Authorizers`), or None.
    authorizer: str | None = None

    @property
    def pattern(self) -> re.Pattern[str]:
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.path)
        return re.compile(f"^{regex}$")


@dataclass(frozen=True)
class LambdaAuthorizer:
    """A Lambda REQUEST authorizer of the API: its function, the headers it is given (its
    identity sources: a request without one is a 401 before it runs) and its cache TTL."""

    name: str
    function_id: str
    headers: tuple[str, ...]
    ttl_seconds: int


@dataclass(frozen=True)
class StreamSource:
    function_id: str
    table_id: str
    batch_size: int
    max_retries: int
    bisect: bool
    on_failure_queue_id: str | None
    filter_patterns: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class QueueSource:
    """An `SQS` event (event source mapping): `function_id` takes batches of up to
    `batch_size` messages from `queue_id`, at most `max_concurrency` batches at once."""

    function_id: str
    queue_id: str
    batch_size: int
    max_concurrency: int
    reports_failures: bool


@dataclass(frozen=True)
class Schedule:
    """A `Schedule` event: the function runs every `seconds`."""

    function_id: str
    seconds: int


_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|second|seconds)\)")
_UNIT_SECONDS = {"second": 1, "minute": 60, "hour": 3600}


@dataclass(frozen=True)
class FunctionDef:
    logical_id: str
    code_uri: str
    handler: str
    environment: dict[str, Any] = field(default_factory=dict)
    timeout_seconds: int = 3  # `Timeout` (the function's, else Globals', else Lambda's default)

    @property
    def module(self) -> str:
        """Importable module of the handler, e.g. `functions.get_payment.app`."""
        package = self.code_uri.strip("/").replace("/", ".")
        return f"{package}.{self.handler.rsplit('.', 1)[0]}"

    @property
    def attribute(self) -> str:
        return self.handler.rsplit(".", 1)[1]


@dataclass(frozen=True)
class Template:
    document: dict[str, Any]

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return dict(self.document.get("Resources", {}))

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v.get("Type") == resource_type}

    def parameter_defaults(self) -> dict[str, Any]:
        params = self.document.get("Parameters", {})
        return {name: spec.get("Default", "") for name, spec in params.items()}

    def condition_default(self, name: str) -> bool:
        """A condition's value with every parameter at its default (`Fn::Equals` of a
        parameter and a literal, combined with `Fn::Not`, `Fn::And`, `Fn::Or`, `Condition`:
        the forms this template uses)."""
        return self._condition(self.document.get("Conditions", {})[name])

    def _condition(self, spec: dict[str, Any]) -> bool:
        ((function, argument),) = spec.items()
        if function in ("Condition", "Fn::Condition"):
            return self.condition_default(argument)
        if function == "Fn::Not":
            return not self._condition(argument[0])
        if function == "Fn::And":
            return all(self._condition(term) for term in argument)
        if function == "Fn::Or":
            return any(self._condition(term) for term in argument)
        left, right = argument
        return str(self.parameter_defaults()[left["Ref"]]) == str(right)

    def resolved(self, value: Any) -> Any:
        """`value` as deployed with default parameters: every `Fn::If` takes its branch and
        an `AWS::NoValue` list item or map entry is left out."""
        if isinstance(value, dict) and "Fn::If" in value:
            condition, if_true, if_false = value["Fn::If"]
            return self.resolved(if_true if self.condition_default(condition) else if_false)
        if isinstance(value, list):
            items = (self.resolved(item) for item in value)
            return [item for item in items if item != {"Ref": "AWS::NoValue"}]
        if isinstance(value, dict):
            entries = ((key, self.resolved(item)) for key, item in value.items())
            return {key: item for key, item in entries if item != {"Ref": "AWS::NoValue"}}
        return value

    def _at_defaults(self, variables: dict[str, Any]) -> dict[str, Any]:
        """Variables as deployed with default parameters: a `Fn::If` takes its branch and
        `AWS::NoValue` removes the variable (the local runtime has no deploy-time options)."""
        resolved = {}
        for key, value in variables.items():
            if isinstance(value, dict) and "Fn::If" in value:
                condition, if_true, if_false = value["Fn::If"]
                value = if_true if self.condition_default(condition) else if_false
            if value == {"Ref": "AWS::NoValue"}:
                continue
            resolved[key] = value
        return resolved

    def functions(self) -> list[FunctionDef]:
        globals_fn = self.document.get("Globals", {}).get("Function", {})
        global_env = globals_fn.get("Environment", {}).get("Variables", {})
        found = []
        for logical_id, spec in self.of_type("AWS::Serverless::Function").items():
            props = spec["Properties"]
            env = {**global_env, **props.get("Environment", {}).get("Variables", {})}
            env = self._at_defaults(env)
            timeout = int(props.get("Timeout", globals_fn.get("Timeout", 3)))
            found.append(FunctionDef(logical_id, props["CodeUri"], props["Handler"], env, timeout))
        return found

    def _events(self, event_type: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """(function id, event properties) for each function event of `event_type`."""
        for logical_id, spec in self.of_type("AWS::Serverless::Function").items():
            for event in spec["Properties"].get("Events", {}).values():
                if event.get("Type") == event_type:
                    yield logical_id, event["Properties"]

    def routes(self) -> list[ApiRoute]:
        return [
            ApiRoute(
                logical_id,
                props["Method"].upper(),
                props["Path"],
                bool(props.get("Auth", {}).get("ApiKeyRequired", False)),
                authorizer=props.get("Auth", {}).get("Authorizer"),
            )
            for logical_id, props in self._events("Api")
        ]

    def cognito_authorizers(self) -> frozenset[str]:
        """The names of the API's Cognito user pool authorizers (`UserPoolArn`)."""
        (api,) = self.of_type("AWS::Serverless::Api").values()
        authorizers = api["Properties"].get("Auth", {}).get("Authorizers", {})
        return frozenset(name for name, spec in authorizers.items() if "UserPoolArn" in spec)

    def lambda_authorizers(self) -> dict[str, LambdaAuthorizer]:
        """The API's Lambda REQUEST authorizers (`FunctionArn`), by name."""
        (api,) = self.of_type("AWS::Serverless::Api").values()
        authorizers = api["Properties"].get("Auth", {}).get("Authorizers", {})
        found = {}
        for name, spec in authorizers.items():
            if "FunctionArn" not in spec:
                continue
            arn = spec["FunctionArn"]  # !GetAtt F.Arn or !Ref F.Alias
            target = arn["Fn::GetAtt"][0] if "Fn::GetAtt" in arn else arn["Ref"].split(".")[0]
            identity = spec.get("Identity", {})
            headers = tuple(str(h).lower() for h in identity.get("Headers", ()))
            ttl = int(identity.get("ReauthorizeEvery", 300))
            found[name] = LambdaAuthorizer(name, target, headers, ttl)
        return found

    def schedules(self) -> list[Schedule]:
        found = []
        for logical_id, props in self._events("Schedule"):
            rate = _RATE.fullmatch(str(props["Schedule"]))
            if rate is None:
                raise ValueError(f"{logical_id}: only rate() schedules run locally")
            unit = rate.group(2).rstrip("s")
            found.append(Schedule(logical_id, int(rate.group(1)) * _UNIT_SECONDS[unit]))
        return found

    def queue_sources(self) -> list[QueueSource]:
        sources = []
        for logical_id, props in self._events("SQS"):
            concurrency = props.get("ScalingConfig", {}).get("MaximumConcurrency", 1000)
            if isinstance(concurrency, dict) and "Ref" in concurrency:
                concurrency = self.parameter_defaults()[concurrency["Ref"]]
            sources.append(
                QueueSource(
                    function_id=logical_id,
                    queue_id=props["Queue"]["Fn::GetAtt"][0],
                    batch_size=int(props.get("BatchSize", 10)),
                    max_concurrency=int(concurrency),
                    reports_failures="ReportBatchItemFailures"
                    in props.get("FunctionResponseTypes", []),
                )
            )
        return sources

    def stream_sources(self) -> list[StreamSource]:
        sources = []
        for logical_id, props in self._events("DynamoDB"):
            table_id = props["Stream"]["Fn::GetAtt"][0]
            on_failure = props.get("DestinationConfig", {}).get("OnFailure", {})
            destination = on_failure.get("Destination", {})
            queue_id = destination.get("Fn::GetAtt", [None])[0] if destination else None
            filters = props.get("FilterCriteria", {}).get("Filters", [])
            sources.append(
                StreamSource(
                    function_id=logical_id,
                    table_id=table_id,
                    batch_size=int(props.get("BatchSize", 100)),
                    max_retries=int(props.get("MaximumRetryAttempts", 3)),
                    bisect=bool(props.get("BisectBatchOnFunctionError", False)),
                    on_failure_queue_id=queue_id,
                    filter_patterns=tuple(_parse_pattern(f["Pattern"]) for f in filters),
                )
            )
        return sources


def _parse_pattern(pattern: Any) -> dict[str, Any]:
    import json

    return dict(json.loads(pattern)) if isinstance(pattern, str) else dict(pattern)


@cache
def load_template(path: Path = TEMPLATE_PATH) -> Template:
    with path.open(encoding="utf-8") as handle:
        return Template(yaml.load(handle, Loader=_CfnLoader))


def matches_filter(pattern: Any, record: Any) -> bool:
    """Lambda event-filter semantics for exact-value lists and nested objects."""
    if isinstance(pattern, dict):
        return isinstance(record, dict) and all(
            key in record and matches_filter(sub, record[key]) for key, sub in pattern.items()
        )
    if isinstance(pattern, list):
        return record in pattern
    return bool(pattern == record)
