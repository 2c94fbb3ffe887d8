"""The webhook routes' own limits in template.yaml: a throttle apart from the merchant API's
for every provider webhook route, and the optional WAF web ACL (off by default) whose rules
only look at webhook paths."""

from __future__ import annotations

from typing import Any

from local.aws.template import load_template

TEMPLATE = load_template()
API = TEMPLATE.resources["PaygateApi"]["Properties"]


def encoded(path: str) -> str:
    """A stage method setting's resource path (AWS::ApiGateway::Stage MethodSetting): the
    path's every `/` as `~1`, after a leading `/`."""
    return "/" + path.replace("/", "~1")


def method_settings() -> dict[tuple[str, str], dict[str, Any]]:
    return {(s["ResourcePath"], s["HttpMethod"]): s for s in API["MethodSettings"]}


def test_every_webhook_route_is_throttled_apart_from_the_merchant_api() -> None:
    webhooks = [r for r in TEMPLATE.routes() if r.path.startswith("/webhooks/")]
    assert len(webhooks) == 4
    settings = method_settings()
    for route in webhooks:
        setting = settings[(encoded(route.path), route.method)]
        assert setting["ThrottlingRateLimit"] == {"Ref": "WebhookThrottleRateLimit"}, route
        assert setting["ThrottlingBurstLimit"] == {"Ref": "WebhookThrottleBurstLimit"}, route
    every = settings[("/*", "*")]
    assert every["ThrottlingRateLimit"] == {"Ref": "ApiThrottleRateLimit"}


def test_the_webhook_waf_is_optional_and_off_by_default() -> None:
    parameters = TEMPLATE.document["Parameters"]
    assert parameters["WebhookWaf"]["Default"] == "disabled"
    assert parameters["WebhookAllowedCidrs"]["Default"] == ""
    acl = TEMPLATE.resources["WebhookWebAcl"]
    association = TEMPLATE.resources["WebhookWebAclAssociation"]
    assert acl["Condition"] == association["Condition"] == "CreateWebhookWaf"
    assert TEMPLATE.resources["WebhookAllowedIps"]["Condition"] == "CreateWebhookAllowList"
    rate = acl["Properties"]["Rules"][0]["Statement"]["RateBasedStatement"]
    assert rate["Limit"] == {"Ref": "WebhookWafRateLimit"} and rate["AggregateKeyType"] == "IP"
    scope = rate["ScopeDownStatement"]["ByteMatchStatement"]
    assert (scope["FieldToMatch"], scope["SearchString"]) == ({"UriPath": {}}, "/webhooks/")
    assert acl["Properties"]["DefaultAction"] == {"Allow": {}}  # the merchant API untouched
