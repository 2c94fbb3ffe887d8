"""POST /v1/monetix/payments: start a Vietnamese bank transfer at Monetix
(Gate sale, or a signed Payment Page URL with `"flow": "payment_page"`)."""

from paygate import routes, wiring
from paygate.api_requests import MonetixPaymentRequest
from paygate.settings import MonetixSettings, load_settings

gateway = wiring.monetix(load_settings(MonetixSettings))
app = routes.create(
    "/v1/monetix/payments",
    MonetixPaymentRequest,
    gateway,
    summary="Create a Vietnamese bank transfer payment (Monetix)",
    created="Gate: `pending`; the redirect or the transfer instructions arrive by callback "
    "as next_action: poll GET /v1/payments/{id}. Payment Page: `requires_action` with the "
    "signed page URL in next_action.url",
)
lambda_handler = routes.handler(app)
