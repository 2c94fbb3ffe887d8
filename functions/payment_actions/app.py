"""POST /v1/payments/{id}/confirm and /cancel: the merchant's decision on a payment held in
`requires_confirmation` (Smart Glocal `ready_to_confirm`, confirmation `manual`)."""

from paygate import routes, wiring
from paygate.settings import SmartglocalSettings, load_settings

gateway = wiring.smartglocal(load_settings(SmartglocalSettings))
app = routes.action(
    "/v1/payments/<id>/confirm",
    gateway.confirm,
    name="confirm_payment",
    metric="PaymentsConfirmed",
    done="payment confirmed",
    summary="Confirm a payment waiting for confirmation",
    client_secrets=True,
)
routes.action(
    "/v1/payments/<id>/cancel",
    gateway.cancel,
    name="cancel_payment",
    metric="PaymentsCancelled",
    done="payment cancelled",
    summary="Cancel a payment waiting for confirmation",
    client_secrets=True,
    app=app,
)
lambda_handler = routes.handler(app)
