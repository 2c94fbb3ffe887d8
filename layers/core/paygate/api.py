"""The merchant API's shared plumbing: resolver factory, one error shape, and the single
table that maps domain errors to HTTP statuses."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel

from paygate.errors import (
    ConcurrentUpdate,
    InvalidState,
    MalformedRequest,
    PaygateError,
    PaymentNotFound,
    ProviderError,
    ProviderTimeout,
    SignatureInvalid,
    ValidationFailed,
)
from paygate.observability import logger

# Most specific first: the first matching class decides the status.
HTTP_STATUS_BY_ERROR: tuple[tuple[type[PaygateError], HTTPStatus], ...] = (
    (MalformedRequest, HTTPStatus.BAD_REQUEST),
    (SignatureInvalid, HTTPStatus.UNAUTHORIZED),
    (PaymentNotFound, HTTPStatus.NOT_FOUND),
    (InvalidState, HTTPStatus.CONFLICT),
    (ConcurrentUpdate, HTTPStatus.CONFLICT),
    (ValidationFailed, HTTPStatus.UNPROCESSABLE_ENTITY),
    (ProviderTimeout, HTTPStatus.GATEWAY_TIMEOUT),
    (ProviderError, HTTPStatus.BAD_GATEWAY),
)


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None = None
    payment_id: str | None = None
    provider_code: str | None = None


class ErrorResponse(BaseModel):
    """Every error the API returns: `{"error": {"code", "message", "field", ...}}`."""

    error: ErrorDetail


def http_status_for(error: PaygateError) -> HTTPStatus:
    for error_class, status in HTTP_STATUS_BY_ERROR:
        if isinstance(error, error_class):
            return status
    return HTTPStatus.INTERNAL_SERVER_ERROR


def error_response(status: HTTPStatus, detail: ErrorDetail) -> Response[str]:
    body = ErrorResponse(error=detail).model_dump_json(exclude_none=True)
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


def _field_of(location: tuple[Any, ...]) -> str | None:
    parts = list(location)
    if parts and parts[0] in ("body", "query", "header", "path"):
        parts = parts[1:]
    return ".".join(str(part) for part in parts) or None


def from_validation_error(error: RequestValidationError) -> Response[str]:
    """422 naming the first bad field; malformed JSON is a 400."""
    first = error.errors()[0] if error.errors() else {"type": "", "loc": (), "msg": "invalid"}
    if first.get("type") == "json_invalid":
        detail = ErrorDetail(code="malformed_request", message="request body is not valid JSON")
        return error_response(HTTPStatus.BAD_REQUEST, detail)
    field = _field_of(tuple(first.get("loc", ())))
    message = str(first.get("msg", "invalid value"))
    if first.get("type") == "missing":
        message = "field required"
    elif first.get("type") == "extra_forbidden":
        message = "unknown field"
    detail = ErrorDetail(
        code="validation_error", message=f"{field}: {message}" if field else message, field=field
    )
    return error_response(HTTPStatus.UNPROCESSABLE_ENTITY, detail)


def from_domain_error(error: PaygateError) -> Response[str]:
    detail = ErrorDetail(code=error.code, message=error.message, field=error.field)
    if isinstance(error, ProviderError):
        detail.payment_id = error.payment_id
        detail.provider_code = error.provider_code
    return error_response(http_status_for(error), detail)


def create_resolver() -> APIGatewayRestResolver:
    """An API Gateway REST resolver with request validation and our error shape."""
    app = APIGatewayRestResolver(enable_validation=True)

    @app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]
    def _invalid(error: RequestValidationError) -> Response[str]:
        return from_validation_error(error)

    @app.exception_handler(PaygateError)  # type: ignore[untyped-decorator]
    def _domain(error: PaygateError) -> Response[str]:
        return from_domain_error(error)

    @app.not_found
    def _no_route(_: Exception) -> Response[str]:
        detail = ErrorDetail(code="not_found", message="no such route")
        return error_response(HTTPStatus.NOT_FOUND, detail)

    @app.exception_handler(Exception)  # type: ignore[untyped-decorator]
    def _unexpected(error: Exception) -> Response[str]:
        logger.exception("unhandled error")
        detail = ErrorDetail(code="internal_error", message="internal error; it has been logged")
        return error_response(HTTPStatus.INTERNAL_SERVER_ERROR, detail)

    return app


def public_base_url(event_domain: str | None, stage: str | None, configured: str) -> str:
    """Where providers reach our webhooks: the configured URL, or this API's own address."""
    if configured:
        return configured.rstrip("/")
    return f"https://{event_domain}/{stage}".rstrip("/")


def _error_doc(description: str) -> OpenAPIResponse:
    return {"description": description, "content": {"application/json": {"model": ErrorResponse}}}


ERROR_RESPONSES: dict[int, OpenAPIResponse] = {
    400: _error_doc("Malformed JSON"),
    403: _error_doc("Missing or wrong API key (answered by API Gateway)"),
    404: _error_doc("Unknown payment"),
    409: _error_doc("Not allowed in the payment's status"),
    422: _error_doc("Invalid field or amount outside the method's limits"),
    502: _error_doc("The provider refused or failed; `payment_id` names the recorded payment"),
    504: _error_doc("The provider did not answer in time; the payment is recorded as pending"),
}
WEBHOOK_ERROR_RESPONSES: dict[int, OpenAPIResponse] = {
    400: _error_doc("Malformed notification"),
    401: _error_doc("Missing or invalid signature; nothing changed"),
}
