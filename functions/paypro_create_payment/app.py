"""POST /v1/paypro/payments: create a VietQR payin at Paypro."""

from paygate import routes, wiring
from paygate.api_requests import PayproPaymentRequest
from paygate.providers.paypro.gateway import WEBHOOK_PATH
from paygate.settings import PayproCheckoutSettings, load_settings

settings = load_settings(PayproCheckoutSettings)
gateway = wiring.paypro_checkout(settings)
app = routes.create(
    "/v1/paypro/payments",
    PayproPaymentRequest,
    gateway,
    summary="Create a VietQR payment (Paypro)",
    created="Payment created; next_action holds the payment link",
    notify=(settings.webhook_base_url, WEBHOOK_PATH),
)
lambda_handler = routes.handler(app)
