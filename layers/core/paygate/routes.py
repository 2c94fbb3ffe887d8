"""The merchant API's route shapes: each function module declares its routes with their
OpenAPI text, and `handler` serves them.

    app = routes.create("/v1/x/payments", XRequest, gateway, summary=..., created=...)
    lambda_handler = routes.handler(app)

Each shape registers one route on a resolver from `paygate.api.create_resolver` (a new one,
or `app=` for a function with several routes) and returns it; `handler` applies the
Powertools stack once (Logger with the API Gateway REST correlation id, Metrics). The shapes
keep the metric names, log lines and status codes the handlers answered before. Nothing is
imported at module load that a webhook or read function does not load anyway: the
idempotency store is imported by `create` alone, and no provider module (the functions hand
in their gateway)."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any, Protocol

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import AwareDatetime, BaseModel

from paygate.api import ERROR_RESPONSES, WEBHOOK_ERROR_RESPONSES, create_resolver, public_base_url
from paygate.api_models import (
    PaymentList,
    PaymentResponse,
    PayoutList,
    PayoutResponse,
    ReviewRequest,
    Timeline,
)
from paygate.domain import Kind, Method, Payment, PaymentStatus, Provider, WebhookOutcome
from paygate.observability import logger, metrics

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

    from paygate.ledger import Ledger
    from paygate.listing import Page
    from paygate.webhooks import WebhookContract

Handler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]
Resolver = APIGatewayRestResolver
_ARG = inspect.Parameter.POSITIONAL_OR_KEYWORD


def handler(app: Resolver) -> Handler:
    """The Lambda entry point: the Powertools stack, applied once, around `app`."""

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return app.resolve(event, context)

    return lambda_handler


def _register(
    app: Resolver,
    method: str,
    path: str,
    function: Callable[..., Any],
    *,
    summary: str,
    tags: Sequence[str],
    responses: Mapping[int, OpenAPIResponse] = ERROR_RESPONSES,
    description: str | None = None,
) -> Resolver:
    register = app.post if method == "POST" else app.get
    register(
        path, summary=summary, description=description, responses=dict(responses), tags=list(tags)
    )(function)
    return app


def _typed[F: Callable[..., Any]](function: F, name: str, signature: inspect.Signature) -> F:
    """`function` as the resolver sees it: its operation name and typed parameters (the
    OpenAPI document is generated from them)."""
    function.__name__ = function.__qualname__ = name
    function.__signature__ = signature  # type: ignore[attr-defined]
    return function


def _signature(returns: Any, **parameters: Any) -> inspect.Signature:
    typed = [inspect.Parameter(name, _ARG, annotation=a) for name, a in parameters.items()]
    return inspect.Signature(typed, return_annotation=returns)


def _model(kind: Kind) -> type[PaymentResponse]:
    return PayoutResponse if kind is Kind.PAYOUT else PaymentResponse


def _id(kind: Kind) -> Any:
    return Annotated[str, Path(min_length=1, max_length=64, description=f"Our {kind.value} id")]


# -- create ------------------------------------------------------------------------------------


class CreatingGateway(Protocol):
    """A gateway that creates payments (or payouts): `prepare_<kind>(request)` checks the
    request and gives the payment to record, `create_<kind>(request, recorded)` sends it to
    the provider, and its ledger's `creation` is the payment's insert."""

    @property
    def ledger(self) -> Ledger: ...


def create[R: BaseModel](
    path: str,
    request: type[R],
    gateway: CreatingGateway,
    *,
    summary: str,
    created: str,
    kind: Kind = Kind.PAYMENT,
    notify: tuple[str, str] | None = None,
) -> Resolver:
    """`POST path` with a required `Idempotency-Key`: the gateway's `prepare_<kind>` checks
    the request and gives the payment to record (written with the idempotency record of the
    function's `IdempotentCreates`), then `create_<kind>(request, recorded)` sends it to the
    provider; 201 with the payment, or the kept answer for a repeated key. `notify`:
    (configured base URL, webhook path) for a provider told per request where to notify:
    `create_<kind>(request, notify_url, recorded)`."""
    from paygate.idempotency import IdempotencyKey, caller_scope, restorable_creates

    app = create_resolver()
    model = _model(kind)
    creates = restorable_creates()
    prepare: Callable[[R], Payment] = getattr(gateway, f"prepare_{kind}")
    start: Callable[..., Payment] = getattr(gateway, f"create_{kind}")
    record = gateway.ledger.creation

    def route(request: R, idempotency_key: str) -> Response[str]:
        recorded = prepare(request)  # checked; written with the idempotency record

        def once() -> Response[PaymentResponse]:
            url = () if notify is None else (callback_url(app, *notify),)
            payment = start(request, *url, recorded)
            metrics.add_metric(name=f"{kind.title()}sCreated", unit=MetricUnit.Count, value=1)
            logger.info(
                f"{kind} created", extra={"payment_id": payment.id, "status": payment.status}
            )
            return Response(201, content_types.APPLICATION_JSON, model.of(payment))

        scope = caller_scope(app.current_event.request_context)
        kept = record(recorded)
        return creates.respond(
            idempotency_key, scope, request, app.lambda_context, once, record=kept
        )

    signature = _signature(Response[str], request=request, idempotency_key=IdempotencyKey)
    content = {"application/json": {"model": model}}
    responses: dict[int, OpenAPIResponse] = {
        201: {"description": created, "content": content},  # type: ignore[typeddict-item]
        **ERROR_RESPONSES,
    }
    function = _typed(route, f"create_{kind}", signature)
    return _register(
        app, "POST", path, function, summary=summary, tags=[f"{kind}s"], responses=responses
    )


def callback_url(app: Resolver, configured: str, path: str) -> str:
    """Where the provider reaches our webhook `path`: the configured base URL, or this API's
    own address (from the current request)."""
    context = app.current_event.request_context
    return public_base_url(context.domain_name, context.stage, configured) + path


# -- webhook -----------------------------------------------------------------------------------


class WebhookGateway(Protocol):
    """What a webhook route needs of a provider's gateway: its one ingest
    (`paygate.webhooks.ingest` with the provider's contract) and the contract's answer."""

    @property
    def webhook_contract(self) -> WebhookContract[Any]: ...

    def ingest(
        self, raw_body: bytes, headers: Mapping[str, str] | None = None
    ) -> WebhookOutcome: ...


def webhook(
    path: str,
    gateway: WebhookGateway,
    *,
    summary: str,
    noun: str = "callback",
    name: str | None = None,
) -> Resolver:
    """`POST /webhooks/<provider>` for the provider's notifications: the gateway's `ingest` gets
    the body exactly as received and the request headers; 200 with the contract's
    acknowledgement (JSON, or plain text when a str), which the OpenAPI text quotes."""
    from paygate.json_body import body_bytes  # webhooks only (a read function never loads it)

    app = create_resolver()
    provider = path.rstrip("/").rsplit("/", 1)[-1]
    ack = gateway.webhook_contract.ack
    text = isinstance(ack, str)
    content_type = content_types.TEXT_PLAIN if text else content_types.APPLICATION_JSON

    def route() -> Response[Any]:
        metrics.add_dimension(name="provider", value=provider)
        event = app.current_event
        raw = body_bytes(event.body, bool(event.is_base64_encoded))  # exactly the bytes received
        outcome = gateway.ingest(raw, event.headers or {})
        metrics.add_metric(name=f"Webhook_{outcome.value}", unit=MetricUnit.Count, value=1)
        logger.info(f"{provider} {noun} ingested", extra={"outcome": outcome})
        return Response(200, content_type, ack)

    returns = Response[str] if text else Response[dict[str, str]]
    function = _typed(route, name or f"{provider}_webhook", _signature(returns))
    quoted = f"plain `{ack}`" if text else f"`{json.dumps(ack)}`"
    responses: dict[int, OpenAPIResponse] = {
        200: {"description": f"Acknowledged: {quoted}"},
        **WEBHOOK_ERROR_RESPONSES,
    }
    return _register(
        app, "POST", path, function, summary=summary, tags=["webhooks"], responses=responses
    )


# -- reads and actions -------------------------------------------------------------------------


def read(
    path: str,
    answer: Callable[..., BaseModel],
    *,
    summary: str,
    tags: Sequence[str],
    name: str | None = None,
    app: Resolver | None = None,
) -> Resolver:
    """`GET path` answered by `answer` (operation `name`, by default the answer's own); its
    parameters (annotations and defaults) are the route's query parameters."""

    def route(**query: Any) -> BaseModel:
        return answer(**query)

    function = _typed(route, name or answer.__name__, inspect.signature(answer, eval_str=True))
    return _register(app or create_resolver(), "GET", path, function, summary=summary, tags=tags)


def by_id(
    path: str,
    find: Callable[[str, Kind], Payment],
    *,
    summary: str,
    kind: Kind = Kind.PAYMENT,
    app: Resolver | None = None,
) -> Resolver:
    """`GET path` with `<id>`: the payment (or payout) `find(id, kind)` returns."""
    model = _model(kind)

    def route(id: str) -> PaymentResponse:  # noqa: A002
        return model.of(find(id, kind))

    function = _typed(route, f"get_{kind}", _signature(model, id=_id(kind)))
    return _register(
        app or create_resolver(), "GET", path, function, summary=summary, tags=[f"{kind}s"]
    )


def action(
    path: str,
    act: Callable[..., Payment],
    *,
    name: str,
    metric: str,
    done: str,
    summary: str,
    body: type[BaseModel] | None = None,
    description: str | None = None,
    app: Resolver | None = None,
) -> Resolver:
    """`POST path` with `<id>` (and a `body` when given): `act` changes the payment; the
    metric `metric` and the log line `done` record it; 200 with the payment."""

    def route(id: str, request: BaseModel | None = None) -> PaymentResponse:  # noqa: A002
        payment = act(id) if body is None else act(id, request)
        metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
        logger.info(done, extra={"payment_id": payment.id, "status": payment.status})
        return PaymentResponse.of(payment)

    parameters = {"id": _id(Kind.PAYMENT)} | ({} if body is None else {"request": body})
    function = _typed(route, name, _signature(PaymentResponse, **parameters))
    return _register(
        app or create_resolver(),
        "POST",
        path,
        function,
        summary=summary,
        tags=["payments"],
        description=description,
    )


# -- merchant operations: list, timeline, review -----------------------------------------------


def caller_id(request_context: Any) -> str:
    """Who is calling: the API key's id in API Gateway (never the key itself)."""
    identity = getattr(request_context, "identity", None)
    return str(getattr(identity, "api_key_id", None) or "anonymous")


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

    model = _model(kind)
    answer = PayoutList if kind is Kind.PAYOUT else PaymentList

    def route(limit: int = DEFAULT_LIMIT, cursor: str | None = None, **filters: Any) -> BaseModel:
        found = page(kind, ListFilters(**filters), limit, cursor or "")
        data = [model.of(payment) for payment in found.payments]
        return answer(data=data, next_cursor=found.next_cursor)

    parameters = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=None)
        for name, annotation in _list_parameters().items()
    ]
    parameters[-2] = parameters[-2].replace(default=DEFAULT_LIMIT)
    signature = inspect.Signature(parameters, return_annotation=answer)
    function = _typed(route, f"list_{kind}s", signature)
    return _register(
        app or create_resolver(), "GET", path, function, summary=summary, tags=[f"{kind}s"]
    )


def timeline(
    path: str,
    ledger: Ledger,
    *,
    summary: str,
    kind: Kind = Kind.PAYMENT,
    app: Resolver | None = None,
) -> Resolver:
    """`GET path` with `<id>`: every status change and received callback, oldest first."""

    def route(id: str) -> Timeline:  # noqa: A002
        payment = ledger.get(id, kind)
        return Timeline.of(payment, ledger.callbacks(payment))

    function = _typed(route, f"get_{kind}_timeline", _signature(Timeline, id=_id(kind)))
    return _register(
        app or create_resolver(), "GET", path, function, summary=summary, tags=[f"{kind}s"]
    )


def review(
    path: str,
    ledger: Ledger,
    *,
    summary: str,
    kind: Kind = Kind.PAYMENT,
    app: Resolver | None = None,
) -> Resolver:
    """`POST path` with `<id>` and a required `Idempotency-Key`: the merchant's decision on a
    `needs_review` payment (`Ledger.review`), recorded with the API key's id; 200 with the
    payment, the kept answer for a repeated key, 409 in any other status."""
    from paygate.idempotency import IdempotencyKey, caller_scope, restorable_creates

    app = app or create_resolver()
    model = _model(kind)
    reviews = restorable_creates()

    def route(id: str, request: ReviewRequest, idempotency_key: str) -> Response[str]:  # noqa: A002
        context = app.current_event.request_context

        def once() -> Response[PaymentResponse]:
            decision, note = request.decision, request.note
            payment = ledger.review(id, kind, decision, note, caller_id(context))
            metrics.add_metric(name=f"{kind.title()}sReviewed", unit=MetricUnit.Count, value=1)
            logger.info(
                f"{kind} reviewed",
                extra={"payment_id": payment.id, "status": payment.status, "decision": decision},
            )
            return Response(200, content_types.APPLICATION_JSON, model.of(payment))

        scope = f"{caller_scope(context)}#review#{id}"
        return reviews.respond(idempotency_key, scope, request, app.lambda_context, once)

    parameters = {"id": _id(kind), "request": ReviewRequest, "idempotency_key": IdempotencyKey}
    content = {"application/json": {"model": model}}
    responses: dict[int, OpenAPIResponse] = {
        200: {"description": "Reviewed: succeeded or failed", "content": content},  # type: ignore[typeddict-item]
        **ERROR_RESPONSES,
    }
    function = _typed(route, f"review_{kind}", _signature(Response[str], **parameters))
    return _register(
        app, "POST", path, function, summary=summary, tags=[f"{kind}s"], responses=responses
    )
