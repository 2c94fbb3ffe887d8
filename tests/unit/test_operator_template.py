"""The operators' sign-in as template.yaml deploys it (the user pool, its groups and app
client, the API's Cognito authorizer and its 401) and the optional console hosting
(ConsoleHosting=enabled: private bucket, CloudFront with Origin Access Control and the
security headers, the hosted UI), plus what ops/upload_console.py uploads."""

from __future__ import annotations

from typing import Any

import pytest

from local.aws.template import load_template
from ops.upload_console import CONSOLE, Deployment, configured_index, files, stack_deployment

TEMPLATE = load_template()
RESOURCES = TEMPLATE.resources
CONSOLE_HOSTING = [
    "OperatorHostedUiDomain",
    "ConsoleBucket",
    "ConsoleBucketPolicy",
    "ConsoleOriginAccessControl",
    "ConsoleResponseHeaders",
    "ConsoleApiCachePolicy",
    "ConsoleDistribution",
]
DEPLOYMENT = Deployment(
    "paygate-console-bucket",
    "https://paygate-prod-123456789012.auth.ap-southeast-1.amazoncognito.com",
    "4r1client",
)


def props(name: str) -> dict[str, Any]:
    properties: dict[str, Any] = RESOURCES[name]["Properties"]
    return properties


def test_only_administrators_create_operators_with_strong_passwords_and_mfa() -> None:
    pool = props("OperatorUserPool")
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    policy = pool["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] >= 14
    assert all(
        policy[f"Require{kind}"] for kind in ("Lowercase", "Uppercase", "Numbers", "Symbols")
    )
    assert (pool["MfaConfiguration"], pool["EnabledMfas"]) == ("ON", ["SOFTWARE_TOKEN_MFA"])
    groups = {props(n)["GroupName"] for n in ("OperatorsViewerGroup", "OperatorsReviewerGroup")}
    assert groups == {"viewer", "reviewer"}


def test_the_console_client_is_public_and_hides_which_users_exist() -> None:
    client = props("OperatorConsoleClient")
    assert client["GenerateSecret"] is False
    assert client["PreventUserExistenceErrors"] == "ENABLED"
    assert "ALLOW_USER_PASSWORD_AUTH" not in client["ExplicitAuthFlows"]
    assert client["IdTokenValidity"] == 60 and client["TokenValidityUnits"]["IdToken"] == "minutes"


def test_the_api_s_cognito_authorizer_reads_the_authorization_header() -> None:
    (api,) = TEMPLATE.of_type("AWS::Serverless::Api").values()
    authorizer = api["Properties"]["Auth"]["Authorizers"]["OperatorAuthorizer"]
    assert authorizer["UserPoolArn"] == {"Fn::GetAtt": ["OperatorUserPool", "Arn"]}
    assert authorizer["Identity"] == {"Header": "Authorization"}
    assert "DefaultAuthorizer" not in api["Properties"]["Auth"]  # the webhooks stay open
    unauthorized = api["Properties"]["GatewayResponses"]["UNAUTHORIZED"]
    assert unauthorized["StatusCode"] == "401"
    assert '"field": "Authorization"' in unauthorized["ResponseTemplates"]["application/json"]


def test_console_hosting_is_off_by_default_and_all_of_it_is_conditional() -> None:
    assert TEMPLATE.parameter_defaults()["ConsoleHosting"] == "disabled"
    assert TEMPLATE.condition_default("HostConsole") is False
    for name in CONSOLE_HOSTING:
        assert RESOURCES[name].get("Condition") == "HostConsole", name


def test_the_console_bucket_is_private_and_read_by_cloudfront_only() -> None:
    block = props("ConsoleBucket")["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    statements = props("ConsoleBucketPolicy")["PolicyDocument"]["Statement"]
    allows = [s for s in statements if s["Effect"] == "Allow"]
    assert [s["Principal"] for s in allows] == [{"Service": "cloudfront.amazonaws.com"}]
    assert "AWS:SourceArn" in allows[0]["Condition"]["StringEquals"]
    origin = props("ConsoleDistribution")["DistributionConfig"]["Origins"][0]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["ConsoleOriginAccessControl", "Id"]}


def test_cloudfront_sets_the_pages_security_headers() -> None:
    headers = props("ConsoleResponseHeaders")["ResponseHeadersPolicyConfig"]
    security = headers["SecurityHeadersConfig"]
    csp = security["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"]
    for directive in ("default-src 'self'", "frame-ancestors 'none'", "script-src 'self'"):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31_536_000
    assert security["ContentTypeOptions"]["Override"] is True
    assert security["ReferrerPolicy"]["ReferrerPolicy"] == "no-referrer"
    assert security["FrameOptions"]["FrameOption"] == "DENY"
    config = props("ConsoleDistribution")["DistributionConfig"]
    behaviours = [config["DefaultCacheBehavior"], *config["CacheBehaviors"]]
    for behaviour in behaviours:
        assert behaviour["ResponseHeadersPolicyId"] == {"Ref": "ConsoleResponseHeaders"}
        assert behaviour["ViewerProtocolPolicy"] in ("redirect-to-https", "https-only")


def test_the_uploaded_console_signs_in_on_the_hosted_ui_and_calls_v1() -> None:
    html = configured_index((CONSOLE / "index.html").read_text(), DEPLOYMENT)
    assert '<meta name="paygate-merchant-proxy" content="/v1">' in html
    assert f'<meta name="paygate-hosted-ui" content="{DEPLOYMENT.sign_in_domain}">' in html
    assert f'<meta name="paygate-client-id" content="{DEPLOYMENT.client_id}">' in html
    assert "paygate-sign-in" not in html and 'content="/merchant"' not in html
    keys = {key for key, _, _ in files(DEPLOYMENT)}
    assert {"console/index.html", "console/app.js", "console/session.js"} <= keys
    assert {"shared/merchant.js", "shared/base.css"} <= keys


def test_the_upload_needs_a_stack_deployed_with_console_hosting() -> None:
    class Stacks:
        def __init__(self, outputs: dict[str, str]) -> None:
            self.outputs = outputs

        def describe_stacks(self, StackName: str) -> dict[str, Any]:
            pairs = [{"OutputKey": k, "OutputValue": v} for k, v in self.outputs.items()]
            return {"Stacks": [{"Outputs": pairs}]}

    with pytest.raises(SystemExit, match="ConsoleHosting=enabled"):
        stack_deployment(Stacks({"ApiUrl": "x"}), "paygate-prod")
    outputs = {
        "ConsoleBucketName": DEPLOYMENT.bucket,
        "OperatorSignInDomain": DEPLOYMENT.sign_in_domain,
        "OperatorConsoleClientId": DEPLOYMENT.client_id,
    }
    assert stack_deployment(Stacks(outputs), "paygate-prod") == DEPLOYMENT
