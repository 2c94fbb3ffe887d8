"""POST /v1/payments/{id}/review and /v1/payouts/{id}/review: the merchant's decision on a
`needs_review` payment or payout (accept → succeeded, reject → failed), the only
merchant-driven way out of `needs_review`."""

from paygate import merchant_routes, routes, wiring
from paygate.domain import Kind
from paygate.settings import TableSettings, load_settings

ledger = wiring.ledger(load_settings(TableSettings))
app = merchant_routes.review(
    "/v1/payments/<id>/review", ledger, summary="Accept or reject a payment that needs review"
)
merchant_routes.review(
    "/v1/payouts/<id>/review",
    ledger,
    summary="Accept or reject a payout that needs review",
    kind=Kind.PAYOUT,
    app=app,
)
lambda_handler = routes.handler(app)
