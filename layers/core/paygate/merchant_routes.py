"""The merchant operations' route shapes: list and search, a payment's timeline, and the
review of a `needs_review` payment (the helpers and the Powertools stack are
`paygate.routes`')."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import AwareDatetime, BaseModel

from paygate.api import ERROR_RESPONSES, create_resolver
from paygate.api_errors import ErrorResponse
from paygate.api_models import (
    PaymentList,
    PaymentResponse,
    PayoutList,
    PayoutResponse,
    ReviewRequest,
    Timeline,
)
from paygate.domain import Kind, Method, PaymentStatus, Provider
from paygate.observability import logger, metrics
from paygate.operators import READERS, Group, operator_of, require_group
from paygate.routes import (
    Resolver,
    path_id,
    register,
    response_model,
    signature_of,
    typed,
    windows,
)

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

    from paygate.ledger import Ledger
    from paygate.listing import Page


def _error_doc(description: str) -> OpenAPIResponse:
    return {"description": description, "content": {"application/json": {"model": ErrorResponse}}}


# What an operator route answers besides the route's own: API Gateway's 401 (no valid ID
# token) and the function's 403 (a group the operator lacks) instead of the API key's 403.
OPERATOR_ERROR_RESPONSES: dict[int, OpenAPIResponse] = {
    **ERROR_RESPONSES,
    401: _error_doc(
        "No valid operator ID token in `Authorization` (`unauthorized`, API Gateway's Cognito "
        "authorizer)"
    ),
    403: _error_doc("Signed in, but not in the operator group this needs (`forbidden`)"),
}


def operator_reads[T](app: Resolver, read: Callable[..., T]) -> Callable[..., T]:
    """`read`, for a signed-in operator of a reading group (`viewer` or `reviewer`) only: 401
    without an operator, 403 outside those groups."""

    def checked(*args: Any) -> T:
        require_group(operator_of(app.current_event.request_context), *READERS)
        return read(*args)

    return checked


def _list_parameters() -> dict[str, Any]:
    def query(description: str, **limits: Any) -> Any:
        return Query(description=description, **limits)

    return {
        "merchant_reference": Annotated[
            str | None, query("Exactly this order id", min_length=1, max_length=64)
        ],
        "status": Annotated[PaymentStatus | None, query("In this status now")],
        "provider": Annotated[Provider | None, query("At this provider")],
        "method": Annotated[Method | None, query("With this method")],
        "created_from": Annotated[
            AwareDatetime | None, query("Created at or after (ISO 8601 with a time zone)")
        ],
        "created_to": Annotated[
            AwareDatetime | None, query("Created before (ISO 8601 with a time zone)")
        ],
        "limit": Annotated[int, query("Page size", ge=1, le=100)],
        "cursor": Annotated[
            str | None, query("`next_cursor` of the page before", min_length=1, max_length=2048)
        ],
    }


def listing(
    path: str,
    page: Callable[..., Page],
    *,
    summary: str,
    kind: Kind = Kind.PAYMENT,
    app: Resolver | None = None,
) -> Resolver:
    """`GET path`: one page of payments (or payouts), newest first, filtered by the query;
    `page(kind, filters, limit, cursor)` (`paygate.listing.PaymentLister.page`)."""
    from paygate.listing import DEFAULT_LIMIT, ListFilters

    model = response_model(kind)
    waits = windows()
    answer = PayoutList if kind is Kind.PAYOUT else PaymentList
    app = app or create_resolver()
    read = operator_reads(app, page)

    def route(limit: int = DEFAULT_LIMIT, cursor: str | None = None, **filters: Any) -> BaseModel:
        found = read(kind, ListFilters(**filters), limit, cursor or "")
        data = [model.of(payment, waits) for payment in found.payments]
        return answer(data=data, next_cursor=found.next_cursor)

    parameters = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=None)
        for name, annotation in _list_parameters().items()
    ]
    parameters[-2] = parameters[-2].replace(default=DEFAULT_LIMIT)
    signature = inspect.Signature(parameters, return_annotation=answer)
    function = typed(route, f"list_{kind}s", signature)
    cursor_refused: OpenAPIResponse = {
        **ERROR_RESPONSES[400],
        "description": "`invalid_cursor`: a cursor the gateway did not issue, or issued for "
        "other filters or the other kind",
    }
    responses = {**OPERATOR_ERROR_RESPONSES, 400: cursor_refused}
    return register(
        app,
        "GET",
        path,
        function,
        summary=summary,
        tags=[f"{kind}s"],
        responses=responses,
    )


def timeline(
    path: str,
    ledger: Ledger,
    *,
    summary: str,
    kind: Kind = Kind.PAYMENT,
    app: Resolver | None = None,
) -> Resolver:
    """`GET path` with `<id>`: every status change and received callback, oldest first (for
    a signed-in operator of a reading group)."""
    app = app or create_resolver()
    get = operator_reads(app, ledger.get)

    def route(id: str) -> Timeline:  # noqa: A002
        payment = get(id, kind)
        return Timeline.of(payment, ledger.callbacks(payment))

    function = typed(route, f"get_{kind}_timeline", signature_of(Timeline, id=path_id(kind)))
    return register(
        app,
        "GET",
        path,
        function,
        summary=summary,
        tags=[f"{kind}s"],
        responses=OPERATOR_ERROR_RESPONSES,
    )


def review(
    path: str,
    ledger: Ledger,
    *,
    summary: str,
    kind: Kind = Kind.PAYMENT,
    app: Resolver | None = None,
) -> Resolver:
    """`POST path` with `<id>` and a required `Idempotency-Key`: an operator's decision on a
    `needs_review` payment (`Ledger.review`), recorded with the operator's user id and email;
    200 with the payment, the kept answer for a repeated key, 403 for an operator outside the
    `reviewer` group, 409 in any other status."""
    from paygate.idempotency import IdempotencyKey, restorable_creates

    app = app or create_resolver()
    model = response_model(kind)
    waits = windows()
    reviews = restorable_creates()

    def route(id: str, request: ReviewRequest, idempotency_key: str) -> Response[str]:  # noqa: A002
        operator = require_group(operator_of(app.current_event.request_context), Group.REVIEWER)

        def once() -> Response[PaymentResponse | PayoutResponse]:
            decision, note = request.decision, request.note
            by = (operator.user_id, operator.email)
            payment = ledger.review(id, kind, decision, note, *by)
            metrics.add_metric(name=f"{kind.title()}sReviewed", unit=MetricUnit.Count, value=1)
            logger.info(
                f"{kind} reviewed",
                extra={"payment_id": payment.id, "status": payment.status, "decision": decision},
            )
            return Response(200, content_types.APPLICATION_JSON, model.of(payment, waits))

        scope = f"operator:{operator.user_id}#review#{id}"
        return reviews.respond(idempotency_key, scope, request, app.lambda_context, once)

    parameters = {"id": path_id(kind), "request": ReviewRequest, "idempotency_key": IdempotencyKey}
    content = {"application/json": {"model": model}}
    responses: dict[int, OpenAPIResponse] = {
        200: {"description": "Reviewed: succeeded or failed", "content": content},  # type: ignore[typeddict-item]
        **OPERATOR_ERROR_RESPONSES,
    }
    function = typed(route, f"review_{kind}", signature_of(Response[str], **parameters))
    return register(
        app, "POST", path, function, summary=summary, tags=[f"{kind}s"], responses=responses
    )
