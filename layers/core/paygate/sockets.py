"""The WebSocket API's function as a shape (the Powertools stack applied once: Logger with the
Lambda context, Metrics): routes on `requestContext.routeKey`, one call into
`paygate.push.ConnectionGate`, and API Gateway's integration answer. A `$connect` answered
with a 4xx or 5xx is refused (API Gateway does not complete the upgrade); the `status` route's
answer is sent to the browser as a message (the route has a route response)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import APIGatewayWebSocketEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from paygate.api_errors import ErrorDetail, ErrorResponse
from paygate.errors import PaymentNotFound, StorageBusy
from paygate.observability import logger, metrics
from paygate.push import CLIENT_SECRET_PARAMETER, ConnectionGate, Refused
from paygate.startup import ready

Answer = dict[str, Any]


def _error(status: int, code: str, message: str, field: str | None = None) -> Answer:
    body = ErrorResponse(error=ErrorDetail(code=code, message=message, field=field))
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": body.model_dump_json(exclude_none=True),
    }


def connections(gate: ConnectionGate) -> Callable[[dict[str, Any], LambdaContext], Answer]:
    """`$connect` stores a connection authorised by its payment's client secret (the query
    parameter `client_secret`: browsers cannot set headers on a WebSocket), or refuses it
    with 403; `status` answers `{"action": "status", "client_secret": …}` with the payment's
    `StatusMessage`; `$disconnect` deletes the connection; any other route is a 400."""

    @logger.inject_lambda_context
    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Answer:
        socket = APIGatewayWebSocketEvent(event)
        request = socket.request_context
        route, connection_id = request.route_key, request.connection_id
        try:
            if route == "$connect":
                secret = (socket.get("queryStringParameters") or {}).get(CLIENT_SECRET_PARAMETER)
                payment_id = gate.connect(connection_id, secret)
                logger.info("connected", extra={"payment": payment_id})
                return {"statusCode": 200}
            if route == "status":
                body = socket.json_body if socket.body else None
                secret = body.get(CLIENT_SECRET_PARAMETER) if isinstance(body, dict) else None
                message = gate.status(secret)
                return {"statusCode": 200, "body": message.model_dump_json()}
            if route == "$disconnect":
                gate.disconnect(connection_id)
                return {"statusCode": 200}
        except ValueError:  # the message is not JSON
            return _error(400, "malformed_message", 'send {"action": "status", "client_secret": …}')
        except PaymentNotFound:
            return _error(404, "not_found", "this payment does not exist (any more)")
        except Refused as exc:
            metrics.add_metric(name="PushConnectRefused", unit=MetricUnit.Count, value=1)
            return _error(403, "invalid_client_secret", str(exc), CLIENT_SECRET_PARAMETER)
        except StorageBusy as exc:
            return _error(503, "storage_busy", f"{exc}; connect again in a few seconds")
        return _error(400, "unknown_route", f"{route!r}: only $connect, status and $disconnect")

    ready()
    return lambda_handler
