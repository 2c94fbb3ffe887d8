"""POST /v1/payments/{id}/clarification: send the fields the ecommpay platform asked for
(`next_action.type == "clarification"`) to Gate `/v2/payment/clarification`."""

from paygate import routes, wiring
from paygate.api_requests import ClarificationRequest
from paygate.settings import PlatformActionSettings, load_settings

gateways = wiring.platform_gateways(load_settings(PlatformActionSettings))
app = routes.action(
    "/v1/payments/<id>/clarification",
    gateways.clarify,
    name="clarify_payment",
    metric="ClarificationsSent",
    done="clarification sent",
    summary="Send the data the provider asked for (ecommpay/Monetix clarification)",
    description="The payment stays `requires_action` until the provider's next callback "
    "(e.g. the redirect) arrives: poll GET /v1/payments/{id}. Card fields are sent to the "
    "provider only, never stored.",
    body=ClarificationRequest,
)
lambda_handler = routes.handler(app)
