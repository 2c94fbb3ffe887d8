"""GET /v1/payments/{id} and /v1/payouts/{id}: a payment's or payout's current state
(merchant frontends poll the first; operators read payouts); .../timeline: its whole story,
oldest first (operators)."""

from paygate import merchant_routes, routes, wiring
from paygate.domain import Kind
from paygate.settings import TableSettings, load_settings

ledger = wiring.ledger(load_settings(TableSettings))
app = routes.by_id("/v1/payments/<id>", ledger.get, summary="Get a payment")
routes.by_id(
    "/v1/payouts/<id>",
    merchant_routes.operator_reads(app, ledger.get),
    summary="Get a payout",
    kind=Kind.PAYOUT,
    app=app,
)
merchant_routes.timeline(
    "/v1/payments/<id>/timeline",
    ledger,
    summary="A payment's status changes and callbacks",
    app=app,
)
merchant_routes.timeline(
    "/v1/payouts/<id>/timeline",
    ledger,
    summary="A payout's status changes and callbacks",
    kind=Kind.PAYOUT,
    app=app,
)
lambda_handler = routes.handler(app)
