"""Each function's IAM grants from template.yaml, as (statement, action pattern, resource
pattern) triples with the template's own resources resolved to the ARNs the local runtime
and the integration tier give them (tables, topics and queues named by their logical ids,
secrets by their `Name` with Stage `local`, account 123456789012), and IAM's wildcard match.

Only the function's own `Policies` are read: the grants SAM adds by itself (CloudWatch Logs,
X-Ray for active tracing, the stream read and the on-failure destination of an event source
mapping) serve the Lambda service, which no test records as the function's calls."""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from local.aws.provision import ACCOUNT, REGION
from local.aws.template import Template

LOCAL_STAGE = "local"

# SAM policy templates expanded as SAM's policy_templates.json defines them (the actions, and
# the resources built from the template parameter). Only those listed can be used: an
# unknown one fails the test until it is written here.
POLICY_TEMPLATES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "DynamoDBCrudPolicy": (
        (
            "dynamodb:GetItem", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:Scan",
            "dynamodb:Query", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem",
            "dynamodb:BatchGetItem", "dynamodb:DescribeTable", "dynamodb:ConditionCheckItem",
        ),
        ("arn:aws:dynamodb:{region}:{account}:table/{TableName}",
         "arn:aws:dynamodb:{region}:{account}:table/{TableName}/index/*"),
    ),
    "DynamoDBReadPolicy": (
        (
            "dynamodb:GetItem", "dynamodb:Scan", "dynamodb:Query", "dynamodb:BatchGetItem",
            "dynamodb:DescribeTable",
        ),
        ("arn:aws:dynamodb:{region}:{account}:table/{TableName}",
         "arn:aws:dynamodb:{region}:{account}:table/{TableName}/index/*"),
    ),
    "DynamoDBWritePolicy": (
        ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem"),
        ("arn:aws:dynamodb:{region}:{account}:table/{TableName}",
         "arn:aws:dynamodb:{region}:{account}:table/{TableName}/index/*"),
    ),
    "SQSSendMessagePolicy": (
        ("sqs:SendMessage*",), ("arn:aws:sqs:{region}:{account}:{QueueName}",)
    ),
    "SNSPublishMessagePolicy": (
        ("sns:Publish",), ("arn:aws:sns:{region}:{account}:{TopicName}",)
    ),
    "AWSSecretsManagerGetSecretValuePolicy": (
        ("secretsmanager:GetSecretValue",), ("{SecretArn}",)
    ),
}  # fmt: skip


@dataclass(frozen=True)
class Grant:
    function: str
    statement: str
    action: str
    resource: str

    def allows(self, action: str, resource: str) -> bool:
        """IAM matching: case-insensitive actions, `*` and `?` wildcards in both."""
        return fnmatchcase(action.lower(), self.action.lower()) and fnmatchcase(
            resource, self.resource
        )

    def __str__(self) -> str:
        return f"{self.function} [{self.statement}] {self.action} on {self.resource}"


class Resolver:
    """`Ref`, `Fn::GetAtt` and `Fn::Sub` of the template's own resources, offline."""

    def __init__(self, template: Template) -> None:
        self.parameters = {**template.parameter_defaults(), "Stage": LOCAL_STAGE}
        self.refs: dict[str, str] = {}
        self.attributes: dict[tuple[str, str], str] = {}
        prefix = f"{REGION}:{ACCOUNT}"
        for logical_id, spec in template.resources.items():
            kind, props = spec.get("Type"), spec.get("Properties", {})
            if kind == "AWS::DynamoDB::Table":
                name = str(props.get("TableName", logical_id))
                arn = f"arn:aws:dynamodb:{prefix}:table/{name}"
                self.refs[logical_id] = name
                self.attributes[(logical_id, "Arn")] = arn
                self.attributes[(logical_id, "StreamArn")] = f"{arn}/stream/*"
            elif kind == "AWS::SNS::Topic":
                arn = f"arn:aws:sns:{prefix}:{logical_id}"
                self.refs[logical_id] = arn
                self.attributes[(logical_id, "TopicArn")] = arn
            elif kind == "AWS::ApiGatewayV2::Api":  # its id: the logical id, locally
                self.refs[logical_id] = logical_id
            elif kind == "AWS::SQS::Queue":
                self.refs[logical_id] = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{logical_id}"
                self.attributes[(logical_id, "Arn")] = f"arn:aws:sqs:{prefix}:{logical_id}"
                self.attributes[(logical_id, "QueueName")] = logical_id
        for logical_id, spec in template.of_type("AWS::SecretsManager::Secret").items():
            name = str(self.resolve(spec.get("Properties", {}).get("Name", logical_id)))
            # `Ref` of a secret is its ARN (with AWS's random suffix, which the recorder drops)
            self.refs[logical_id] = f"arn:aws:secretsmanager:{prefix}:secret:{name}"

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict) and len(value) == 1:
            ((name, arg),) = value.items()
            if name == "Ref":
                return self._ref(arg)
            if name == "Fn::GetAtt":
                return self.attributes[(arg[0], arg[1])]
            if name == "Fn::Sub":
                text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
                return re.sub(r"\$\{([\w:.]+)\}", lambda m: self._sub(m.group(1), variables), text)
            raise ValueError(f"unsupported intrinsic {name} in a policy")
        return value

    def _ref(self, name: str) -> str:
        pseudo = {"AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::Partition": "aws"}
        if name in pseudo:
            return pseudo[name]
        if name in self.refs:
            return self.refs[name]
        if name in self.parameters:
            return str(self.parameters[name])
        raise KeyError(f"!Ref {name}: not a resource or parameter of the template")

    def _sub(self, name: str, variables: dict[str, Any]) -> str:
        if name in variables:
            return str(self.resolve(variables[name]))
        if "." in name:
            logical_id, attribute = name.split(".", 1)
            return self.attributes[(logical_id, attribute)]
        return self._ref(name)


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statements(function: str, policy: Any, resolver: Resolver) -> list[dict[str, Any]]:
    if isinstance(policy, dict) and "Statement" in policy:
        return list(policy["Statement"])
    if isinstance(policy, dict) and len(policy) == 1:
        ((name, arguments),) = policy.items()
        if name not in POLICY_TEMPLATES:
            raise ValueError(f"{function}: SAM policy template {name} has no expansion here")
        actions, resources = POLICY_TEMPLATES[name]
        values = {k: resolver.resolve(v) for k, v in (arguments or {}).items()}
        values.update(region=REGION, account=ACCOUNT)
        return [
            {"Sid": name, "Effect": "Allow", "Action": list(actions),
             "Resource": [r.format(**values) for r in resources]}
        ]  # fmt: skip
    raise ValueError(f"{function}: policy {policy!r} is not inline or a known SAM template")


def grants(template: Template) -> dict[str, list[Grant]]:
    """Every function's Allow grants, by logical id. Deny statements and conditions are not
    used by the template; one appearing fails loudly rather than being misread."""
    resolver = Resolver(template)
    found: dict[str, list[Grant]] = {}
    for function, spec in template.of_type("AWS::Serverless::Function").items():
        found[function] = []
        for policy in _listed(spec["Properties"].get("Policies", [])):
            for index, listed in enumerate(_statements(function, policy, resolver)):
                statement = template.resolved(listed)  # `Fn::If` as deployed by default
                unsupported = {"NotAction", "NotResource", "Condition"} & set(statement)
                if statement.get("Effect") != "Allow" or unsupported:
                    raise ValueError(f"{function}: statement {statement} is not a plain Allow")
                sid = str(statement.get("Sid", index))
                for action in _listed(statement["Action"]):
                    for resource in _listed(statement["Resource"]):
                        found[function].append(
                            Grant(function, sid, action, str(resolver.resolve(resource)))
                        )
    return found
