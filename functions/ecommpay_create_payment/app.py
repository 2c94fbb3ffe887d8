"""POST /v1/ecommpay/payments: start a NAPAS ATM card or Nganluong wallet payment at ecommpay
(Gate sale, or a signed Payment Page URL with `"flow": "payment_page"`)."""

from paygate import routes, wiring
from paygate.api_requests import EcommpayPaymentRequest
from paygate.settings import EcommpaySettings, load_settings

gateway = wiring.ecommpay(load_settings(EcommpaySettings))
app = routes.create(
    "/v1/ecommpay/payments",
    EcommpayPaymentRequest,
    gateway,
    summary="Create a NAPAS ATM card or Nganluong wallet payment (ecommpay)",
    created="Gate: `pending`; the redirect (or a clarification request) arrives by callback "
    "as next_action: poll GET /v1/payments/{id}. Payment Page: `requires_action` with the "
    "signed page URL in next_action.url",
)
lambda_handler = routes.handler(app)
