"""Creates the template's DynamoDB tables, SNS topics, SQS queues and secrets in moto (server
mode for `make run`, in-process `mock_aws` for the integration tests) and resolves the
functions' environment (`Ref`, `Fn::GetAtt`, `Fn::Sub`) against what it created."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import boto3

from local.aws.template import FunctionDef, Template

DEV_SECRETS_PATH = Path(__file__).resolve().parent / "dev_secrets.json"
REGION = "ap-southeast-1"
ACCOUNT = "123456789012"

_QUEUE_ATTRIBUTES = ("VisibilityTimeout", "MessageRetentionPeriod")
_TABLE_KEYS = (
    "AttributeDefinitions",
    "KeySchema",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "BillingMode",
    "StreamSpecification",
)


@dataclass
class Provisioned:
    """Physical names of what was created, by logical id."""

    refs: dict[str, str] = field(default_factory=dict)
    attributes: dict[tuple[str, str], str] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict) and len(value) == 1:
            ((name, arg),) = value.items()
            if name == "Ref":
                return self.parameters.get(
                    arg,
                    self.refs.get(
                        arg,
                        {
                            "AWS::Region": REGION,
                            "AWS::AccountId": ACCOUNT,
                            "AWS::URLSuffix": "amazonaws.com",
                        }.get(arg, arg),
                    ),
                )
            if name == "Fn::GetAtt":
                return self.attributes[(arg[0], arg[1])]
            if name == "Fn::Sub":
                return re.sub(r"\$\{([\w:.]+)\}", lambda m: str(self._sub(m.group(1))), arg)
        return value

    def _sub(self, name: str) -> Any:
        if "." in name:
            logical_id, attribute = name.split(".", 1)
            return self.attributes[(logical_id, attribute)]
        return self.resolve({"Ref": name})

    def environment(self, function: FunctionDef) -> dict[str, str]:
        return {key: str(self.resolve(value)) for key, value in function.environment.items()}


@cache
def _cached_client(service: str, endpoint_url: str | None) -> Any:
    return boto3.client(service, region_name=REGION, endpoint_url=endpoint_url)


def _client(service: str) -> Any:
    """One boto3 client per service and endpoint for the process. moto's in-process mock
    starts every `mock_aws()` with a fresh default session, whose first client of a service
    loads that service's model again (a tenth of a second each); a client made once keeps
    working in every later mock, as every client goes through moto's botocore hook."""
    return _cached_client(service, os.environ.get("AWS_ENDPOINT_URL") or None)


def provision(template: Template, dev_secrets: dict[str, Any] | None = None) -> Provisioned:
    """Create every supported resource of `template` through boto3's current endpoint."""
    made = Provisioned(parameters=template.parameter_defaults())
    made.parameters["Stage"] = "local"
    dynamodb = _client("dynamodb")
    for logical_id, spec in template.of_type("AWS::DynamoDB::Table").items():
        props = spec["Properties"]
        name = props.get("TableName", logical_id)
        args = {key: template.resolved(props[key]) for key in _TABLE_KEYS if key in props}
        if "StreamSpecification" in args:  # CloudFormation implies what the API spells out
            args["StreamSpecification"] = {"StreamEnabled": True, **args["StreamSpecification"]}
        answer = dynamodb.create_table(TableName=name, **args)["TableDescription"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl:
            dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        made.refs[logical_id] = name
        made.attributes[(logical_id, "Arn")] = answer["TableArn"]
        if "LatestStreamArn" in answer:
            made.attributes[(logical_id, "StreamArn")] = answer["LatestStreamArn"]
    sns = _client("sns")
    for logical_id in template.of_type("AWS::SNS::Topic"):
        arn = sns.create_topic(Name=logical_id)["TopicArn"]
        made.refs[logical_id] = arn
        made.attributes[(logical_id, "TopicArn")] = arn
    sqs = _client("sqs")
    queues = template.of_type("AWS::SQS::Queue")
    for logical_id, spec in queues.items():
        given = spec.get("Properties", {})
        attributes = {k: str(given[k]) for k in _QUEUE_ATTRIBUTES if k in given}
        url = sqs.create_queue(QueueName=logical_id, Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
        made.refs[logical_id] = url
        made.attributes[(logical_id, "Arn")] = arn["QueueArn"]
        made.attributes[(logical_id, "QueueName")] = logical_id
    for logical_id, spec in queues.items():  # once every DLQ exists
        redrive = spec.get("Properties", {}).get("RedrivePolicy")
        if redrive:
            policy = {key: made.resolve(value) for key, value in redrive.items()}
            sqs.set_queue_attributes(
                QueueUrl=made.refs[logical_id], Attributes={"RedrivePolicy": json.dumps(policy)}
            )
    secrets = _client("secretsmanager")
    values = dev_secrets if dev_secrets is not None else load_dev_secrets()
    for logical_id, spec in template.of_type("AWS::SecretsManager::Secret").items():
        name = str(made.resolve(spec["Properties"].get("Name", logical_id)))
        value = values.get(logical_id, {})
        arn = secrets.create_secret(Name=name, SecretString=json.dumps(value))["ARN"]
        # `Ref` is the ARN in AWS; locally the name (GetSecretValue takes either) keeps the
        # functions' environment identical across fresh moto states.
        made.refs[logical_id] = name
        made.attributes[(logical_id, "Id")] = arn
    return made


def load_dev_secrets(path: Path = DEV_SECRETS_PATH) -> dict[str, Any]:
    """Dev-only provider secrets by secret logical id (documented in docs/configuration.md)."""
    return dict(json.loads(path.read_text(encoding="utf-8")))


def offline_environment(template: Template, function: FunctionDef) -> dict[str, str]:
    """A function's environment without any AWS: parameters at their defaults, resources
    named by their logical ids (enough to import a handler; nothing is called)."""
    made = Provisioned(parameters=template.parameter_defaults())
    environment = {}
    for key, value in function.environment.items():
        try:
            environment[key] = str(made.resolve(value))
        except KeyError:  # an attribute of a resource that does not exist offline
            environment[key] = f"offline-{key.lower()}"
    return environment
