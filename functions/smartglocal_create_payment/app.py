"""POST /v1/smartglocal/payments: start a Vietnamese e-wallet payment at Smart Glocal."""

from paygate import routes, wiring
from paygate.api_requests import SmartglocalPaymentRequest
from paygate.settings import SmartglocalSettings, load_settings

gateway = wiring.smartglocal(load_settings(SmartglocalSettings))
app = routes.create(
    "/v1/smartglocal/payments",
    SmartglocalPaymentRequest,
    gateway,
    summary="Create an e-wallet payment (Smart Glocal)",
    created="Payment created (`pending`); the QR deeplink arrives by webhook as "
    "next_action once the payment is confirmed: poll GET /v1/payments/{id}",
)
lambda_handler = routes.handler(app)
