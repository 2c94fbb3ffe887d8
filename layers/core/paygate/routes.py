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
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, Protocol

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from paygate.api import ERROR_RESPONSES, WEBHOOK_ERROR_RESPONSES, create_resolver, public_base_url
from paygate.api_keys import PrincipalKind, Scope
from paygate.domain import Kind, Payment, WebhookOutcome
from paygate.observability import logger, metrics
from paygate.startup import ready

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

    from paygate.api_models import PaymentResponse, PayoutResponse
    from paygate.ledger import Ledger
    from paygate.lifecycle import WaitWindows
    from paygate.webhooks import WebhookContract

Handler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]
Resolver = APIGatewayRestResolver
_ARG = inspect.Parameter.POSITIONAL_OR_KEYWORD


def handler(app: Resolver) -> Handler:
    """The Lambda entry point: the Powertools stack, applied once, around `app`; the end of
    the cold start (`paygate.startup.ready`)."""

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return app.resolve(event, context)

    ready()
    return lambda_handler


def register(
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
    answers = {**success_response(function), **responses}
    register(path, summary=summary, description=description, responses=answers, tags=list(tags))(
        function
    )
    return app


def guarded[F: Callable[..., Any]](
    function: F, scopes: Sequence[Scope], *, own_payment: bool = False
) -> F:
    """`function` with its access guard, which the resolver runs before it validates the
    request (`paygate.api.JsonBodiesOnly`): a merchant key needs one of `scopes`; with
    `own_payment`, the client secret of the payment in the path's `id` may call it too
    (`paygate.access.require`)."""
    from paygate import access

    def guard(app: Resolver) -> None:
        own = app.context.get("_route_args", {}).get("id") if own_payment else None
        access.require(app.current_event, scopes, own_payment=own)

    function.access_guard = guard  # type: ignore[attr-defined]
    return function


def success_response(function: Callable[..., Any]) -> dict[int, OpenAPIResponse]:
    """200 with the model `function` returns, for the OpenAPI text (Powertools documents no
    success at all once a route lists its other responses)."""
    returns = inspect.signature(function).return_annotation
    if not (isinstance(returns, type) and issubclass(returns, BaseModel)):
        return {}
    content = {"application/json": {"model": returns}}
    description = " ".join((returns.__doc__ or "OK").split())
    return {200: {"description": description, "content": content}}  # type: ignore[typeddict-item]


def typed[F: Callable[..., Any]](function: F, name: str, signature: inspect.Signature) -> F:
    """`function` as the resolver sees it: its operation name and typed parameters (the
    OpenAPI document is generated from them)."""
    function.__name__ = function.__qualname__ = name
    function.__signature__ = signature  # type: ignore[attr-defined]
    return function


def signature_of(returns: Any, **parameters: Any) -> inspect.Signature:
    typed = [inspect.Parameter(name, _ARG, annotation=a) for name, a in parameters.items()]
    return inspect.Signature(typed, return_annotation=returns)


def response_model(kind: Kind) -> type[PaymentResponse] | type[PayoutResponse]:
    """The API's model of a payment or payout (imported here: a webhook function never
    builds the merchant API's models)."""
    from paygate.api_models import PaymentResponse, PayoutResponse

    return PayoutResponse if kind is Kind.PAYOUT else PaymentResponse


@cache
def windows() -> WaitWindows:
    """The wait windows of this function's settings (`WINDOW_*_MINUTES`, which every function
    has): a payment's document says when its window ends (`expires_at`)."""
    from paygate.lifecycle import WaitWindows
    from paygate.settings import WindowSettings, load_settings

    return WaitWindows.of(load_settings(WindowSettings))


def path_id(kind: Kind) -> Any:
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
    """`POST path` with a required `Idempotency-Key`, for a merchant key with the kind's
    write scope: the gateway's `prepare_<kind>` checks
    the request and gives the payment to record (written with the idempotency record of the
    function's `IdempotentCreates`), then `create_<kind>(request, recorded)` sends it to the
    provider; 201 with the payment, or the kept answer for a repeated key. `notify`:
    (configured base URL, webhook path) for a provider told per request where to notify:
    `create_<kind>(request, notify_url, recorded)`. A payment's answer carries its
    `client_secret`, added after the idempotency record is written (never stored)."""
    from paygate import access
    from paygate.api_models import CreatedPaymentResponse, ReferenceWarning
    from paygate.idempotency import IdempotencyKey, restorable_creates

    app = create_resolver()
    model = CreatedPaymentResponse if kind is Kind.PAYMENT else response_model(kind)
    waits = windows()
    creates = restorable_creates()
    prepare: Callable[[R], Payment] = getattr(gateway, f"prepare_{kind}")
    start: Callable[..., Payment] = getattr(gateway, f"create_{kind}")
    record = gateway.ledger.creation

    scope_needed = Scope.PAYOUTS_WRITE if kind is Kind.PAYOUT else Scope.PAYMENTS_WRITE

    def route(request: R, idempotency_key: str) -> Response[str]:
        principal = access.principal_of(app.current_event)
        recorded = prepare(request)  # checked; written with the idempotency record

        def once() -> Response[PaymentResponse | PayoutResponse]:
            url = () if notify is None else (callback_url(app, *notify),)
            payment = start(request, *url, recorded)
            metrics.add_metric(name=f"{kind.title()}sCreated", unit=MetricUnit.Count, value=1)
            logger.info(
                f"{kind} created", extra={"payment_id": payment.id, "status": payment.status}
            )
            answer = model.of(payment, waits)
            if isinstance(answer, CreatedPaymentResponse):  # payments: not unique per order
                others = gateway.ledger.earlier_attempts(payment)
                answer.warnings = [ReferenceWarning.of(other) for other in others]
            return Response(201, content_types.APPLICATION_JSON, answer)

        scope = f"key:{principal.key_id}"  # whose Idempotency-Keys these are
        kept = record(recorded)
        claims = []
        if kind is Kind.PAYOUT:  # one payout per merchant_reference, in the same transaction
            forced = bool(getattr(request, "allow_duplicate_reference", False))
            claims.append(gateway.ledger.reference_claim(recorded, forced=forced))
        answer = creates.respond(
            idempotency_key, scope, request, app.lambda_context, once, record=kept, claims=claims
        )
        return answer if kind is Kind.PAYOUT else with_client_secret(answer)

    signature = signature_of(Response[str], request=request, idempotency_key=IdempotencyKey)
    content = {"application/json": {"model": model}}
    responses: dict[int, OpenAPIResponse] = {
        201: {"description": created, "content": content},  # type: ignore[typeddict-item]
        **ERROR_RESPONSES,
    }
    function = guarded(typed(route, f"create_{kind}", signature), (scope_needed,))
    return register(
        app, "POST", path, function, summary=summary, tags=[f"{kind}s"], responses=responses
    )


def with_client_secret(answer: Response[str]) -> Response[str]:
    """A created (or replayed) payment's answer with its `client_secret` set."""
    from paygate import access
    from paygate.api import serialize

    if answer.status_code not in (200, 201) or not isinstance(answer.body, str):
        return answer
    document = json.loads(answer.body)
    document["client_secret"] = access.client_secret(document["id"])
    answer.body = serialize(document)
    return answer


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
    function = typed(route, name or f"{provider}_webhook", signature_of(returns))
    quoted = f"plain `{ack}`" if text else f"`{json.dumps(ack)}`"
    responses: dict[int, OpenAPIResponse] = {
        200: {"description": f"Acknowledged: {quoted}"},
        **WEBHOOK_ERROR_RESPONSES,
    }
    return register(
        app, "POST", path, function, summary=summary, tags=["webhooks"], responses=responses
    )


# -- reads and actions -------------------------------------------------------------------------


def read(
    path: str,
    answer: Callable[..., BaseModel],
    *,
    summary: str,
    tags: Sequence[str],
    scopes: Sequence[Scope],
    name: str | None = None,
    app: Resolver | None = None,
) -> Resolver:
    """`GET path` answered by `answer` (operation `name`, by default the answer's own), for a
    merchant key with one of `scopes`; its parameters (annotations and defaults) are the
    route's query parameters."""

    def route(**query: Any) -> BaseModel:
        return answer(**query)

    function = typed(route, name or answer.__name__, inspect.signature(answer, eval_str=True))
    guarded(function, scopes)
    return register(app or create_resolver(), "GET", path, function, summary=summary, tags=tags)


def by_id(
    path: str,
    find: Callable[[str, Kind], Payment],
    *,
    summary: str,
    kind: Kind = Kind.PAYMENT,
    app: Resolver | None = None,
) -> Resolver:
    """`GET path` with `<id>`: the payment (or payout) `find(id, kind)` returns. A payment
    is read by a merchant key with `payments:read` (the answer carries its `client_secret`)
    or by its own client secret; a payout's route is the operators' (no key check here)."""
    from paygate import access

    model = response_model(kind)
    waits = windows()
    app = app or create_resolver()

    def route(id: str) -> PaymentResponse | PayoutResponse:  # noqa: A002
        if kind is not Kind.PAYMENT:
            return model.of(find(id, kind), waits)
        caller = access.principal_of(app.current_event)
        answer = model.of(find(id, kind), waits)
        if caller.kind is PrincipalKind.MERCHANT_KEY:
            answer.client_secret = access.client_secret(answer.id)
        return answer

    function = typed(route, f"get_{kind}", signature_of(model, id=path_id(kind)))
    if kind is Kind.PAYMENT:
        guarded(function, (Scope.PAYMENTS_READ,), own_payment=True)
    return register(app, "GET", path, function, summary=summary, tags=[f"{kind}s"])


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
    client_secrets: bool = False,
    app: Resolver | None = None,
) -> Resolver:
    """`POST path` with `<id>` (and a `body` when given), for a merchant key with
    `payments:write` or, when `client_secrets`, the payment's own client secret: `act`
    changes the payment; the metric `metric` and the log line `done` record it; 200 with the
    payment."""

    model = response_model(Kind.PAYMENT)
    waits = windows()
    app = app or create_resolver()

    def route(
        id: str,  # noqa: A002
        request: BaseModel | None = None,
    ) -> PaymentResponse | PayoutResponse:
        payment = act(id) if body is None else act(id, request)
        metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
        logger.info(done, extra={"payment_id": payment.id, "status": payment.status})
        return model.of(payment, waits)

    parameters = {"id": path_id(Kind.PAYMENT)} | ({} if body is None else {"request": body})
    function = typed(route, name, signature_of(model, **parameters))
    guarded(function, (Scope.PAYMENTS_WRITE,), own_payment=client_secrets)
    return register(
        app,
        "POST",
        path,
        function,
        summary=summary,
        tags=["payments"],
        description=description,
    )
