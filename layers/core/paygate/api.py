"""The merchant API's shared plumbing: resolver factory, one error shape, and the single
table that maps domain errors to HTTP statuses."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from functools import partial
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
    OpenAPIRequestValidationMiddleware,
)
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.shared.json_encoder import Encoder
from aws_lambda_powertools.utilities.typing import LambdaContext

from paygate import deadline
from paygate.api_errors import ErrorDetail, ErrorResponse
from paygate.errors import (
    ConcurrentUpdate,
    DuplicateReference,
    Forbidden,
    InvalidState,
    MalformedRequest,
    NotAllowed,
    NotAuthenticated,
    NotSignedIn,
    PaygateError,
    PaymentNotFound,
    ProviderError,
    ProviderTimeout,
    SignatureInvalid,
    StorageBusy,
    ValidationFailed,
)
from paygate.observability import logger

# Most specific first: the first matching class decides the status.
HTTP_STATUS_BY_ERROR: tuple[tuple[type[PaygateError], HTTPStatus], ...] = (
    (MalformedRequest, HTTPStatus.BAD_REQUEST),
    (SignatureInvalid, HTTPStatus.UNAUTHORIZED),
    (NotAuthenticated, HTTPStatus.UNAUTHORIZED),
    (Forbidden, HTTPStatus.FORBIDDEN),
    (NotSignedIn, HTTPStatus.UNAUTHORIZED),
    (NotAllowed, HTTPStatus.FORBIDDEN),
    (PaymentNotFound, HTTPStatus.NOT_FOUND),
    (InvalidState, HTTPStatus.CONFLICT),
    (ConcurrentUpdate, HTTPStatus.CONFLICT),
    (StorageBusy, HTTPStatus.SERVICE_UNAVAILABLE),
    (ValidationFailed, HTTPStatus.UNPROCESSABLE_ENTITY),
    (ProviderTimeout, HTTPStatus.GATEWAY_TIMEOUT),
    (ProviderError, HTTPStatus.BAD_GATEWAY),
)


def http_status_for(error: PaygateError) -> HTTPStatus:
    for error_class, status in HTTP_STATUS_BY_ERROR:
        if isinstance(error, error_class):
            return status
    return HTTPStatus.INTERNAL_SERVER_ERROR


def error_response(
    status: HTTPStatus, detail: ErrorDetail, headers: dict[str, str] | None = None
) -> Response[str]:
    body = ErrorResponse(error=detail).model_dump_json(exclude_none=True)
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body=body, headers=headers
    )


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
    if isinstance(error, DuplicateReference):  # names the payout that holds the reference
        detail.payment_id = error.payment_id
    if isinstance(error, ProviderError):
        detail.payment_id = error.payment_id
        detail.provider_code = error.provider_code
    headers = None
    if isinstance(error, StorageBusy):
        detail.payment_id = error.payment_id
        headers = {"Retry-After": str(error.retry_after_seconds)}
    return error_response(http_status_for(error), detail, headers)


def _media_type(app: APIGatewayRestResolver) -> str:
    headers = app.current_event.headers or {}
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    return str(content_type).split(";")[0].strip().lower()


SEND_JSON = "send the body as JSON with the header 'Content-Type: application/json'"


def unsupported_media_type(media_type: str) -> Response[str]:
    detail = ErrorDetail(
        code="unsupported_media_type",
        message=f"{SEND_JSON} (this body came as {media_type or 'another type'})",
        field="Content-Type",
    )
    return error_response(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, detail)


class JsonBodiesOnly(OpenAPIRequestValidationMiddleware):
    """Request validation that reads a route's body as JSON only: a form (what `curl -d`
    sends), multipart or any other declared type is refused (415), never parsed into fields.
    A body without a Content-Type is read as JSON, as API Gateway does. A route's access guard
    (`paygate.routes.guarded`: who may call it) runs first, so a caller refused learns nothing
    of the route's request rules."""

    def handler(self, app: Any, next_middleware: Any) -> Any:
        route = app.context.get("_route")
        guard = getattr(getattr(route, "func", None), "access_guard", None)
        if guard is not None:
            guard(app)
        return super().handler(app, next_middleware)

    def _get_body(self, app: Any) -> dict[str, Any]:
        content_type = str(app.current_event.headers.get("content-type") or "")
        media_type = content_type.split(";")[0].strip().lower()
        if media_type not in ("", content_types.APPLICATION_JSON):
            error = {"type": "unsupported_content_type", "loc": ("body",), "msg": media_type}
            raise RequestUnsupportedContentType("Unsupported content type", errors=[error])
        return self._parse_json_data(app)


JSON_CONTENT_TYPE = f"{content_types.APPLICATION_JSON}; charset=utf-8"
# Compact, non-ASCII as UTF-8 (Vietnamese stays readable in a terminal): the same bytes as
# pydantic's `model_dump_json`, with which idempotent creates keep their answers.
serialize = partial(json.dumps, separators=(",", ":"), ensure_ascii=False, cls=Encoder)


def _with_charset(result: dict[str, Any]) -> dict[str, Any]:
    """A JSON answer names its charset (UTF-8) for clients that would otherwise guess."""
    headers = result.get("multiValueHeaders") or {}
    if headers.get("Content-Type") == [content_types.APPLICATION_JSON]:
        headers["Content-Type"] = [JSON_CONTENT_TYPE]
    return result


MAX_BODY_BYTES = 64 * 1024  # far above any request or provider notification we accept


class PaygateResolver(APIGatewayRestResolver):
    """Refuses an oversized body (413) or one nested deeper than `json_body.MAX_DEPTH` (400),
    both naming `body`, before anything reads it; reads route bodies as JSON only (415
    otherwise); answers JSON in UTF-8."""

    def __init__(self) -> None:
        super().__init__(enable_validation=True, serializer=serialize)
        self._request_validation_middleware = JsonBodiesOnly()  # type: ignore[no-untyped-call]

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        deadline.start(context)  # every provider call of this invocation shares one budget
        body = event.get("body") or ""
        size = len(body) * 3 // 4 if event.get("isBase64Encoded") else len(body.encode())
        if size > MAX_BODY_BYTES:
            detail = ErrorDetail(
                code="payload_too_large",
                message=f"the body is larger than {MAX_BODY_BYTES} bytes",
                field="body",
            )
            return _refused(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, detail)
        try:
            if body:  # a read has none: it never loads the body reader
                from paygate.json_body import check_depth

                check_depth(base64.b64decode(body) if event.get("isBase64Encoded") else body)
        except (MalformedRequest, binascii.Error, ValueError) as error:
            message = getattr(error, "message", "body is not valid Base64")
            detail = ErrorDetail(code=MalformedRequest.code, message=message, field="body")
            return _refused(HTTPStatus.BAD_REQUEST, detail)
        return _with_charset(super().resolve(event, context))


def _refused(status: HTTPStatus, detail: ErrorDetail) -> dict[str, Any]:
    """A proxy answer given before the resolver reads the request."""
    return {
        "statusCode": status.value,
        "multiValueHeaders": {"Content-Type": [JSON_CONTENT_TYPE]},
        "body": ErrorResponse(error=detail).model_dump_json(exclude_none=True),
        "isBase64Encoded": False,
    }


def create_resolver() -> APIGatewayRestResolver:
    """An API Gateway REST resolver with request validation and our error shape."""
    app = PaygateResolver()

    @app.exception_handler(RequestUnsupportedContentType)  # type: ignore[untyped-decorator]
    def _media(_: RequestUnsupportedContentType) -> Response[str]:
        return unsupported_media_type(_media_type(app))

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
        media_type = _media_type(app)
        if isinstance(error, UnicodeDecodeError):  # the validator could not decode the body
            detail = ErrorDetail(code="malformed_request", message="body is not UTF-8 JSON")
            return error_response(HTTPStatus.BAD_REQUEST, detail)
        if isinstance(error, ValueError) and media_type not in ("", content_types.APPLICATION_JSON):
            return unsupported_media_type(media_type)  # the validator could not read the body
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
    401: _error_doc("No `x-api-key` header (API Gateway): send your key or a client secret"),
    403: _error_doc(
        "`x-api-key` refused (`invalid_api_key`: unknown or revoked), a key without the "
        "route's scope (`missing_scope`) or a client secret outside its payment "
        "(`client_secret_not_allowed`); field `x-api-key`"
    ),
    404: _error_doc("Unknown payment (`not_found`)"),
    409: _error_doc("Not allowed in the payment's status"),
    415: _error_doc(
        "A body not sent as `Content-Type: application/json` (a form, as `curl -d` sends)"
    ),
    422: _error_doc("Invalid field or amount outside the method's limits"),
    429: _error_doc("Throttled by API Gateway (`rate_limited`); retry after Retry-After seconds"),
    502: _error_doc("The provider refused or failed; `payment_id` names the recorded payment"),
    503: _error_doc("Storage busy (a concurrent change or throttling); retry after Retry-After"),
    504: _error_doc("The provider did not answer in time; the payment is recorded as pending"),
}
WEBHOOK_ERROR_RESPONSES: dict[int, OpenAPIResponse] = {
    400: _error_doc("Malformed notification"),
    401: _error_doc("Missing or invalid signature; nothing changed"),
    503: _error_doc("Storage busy; nothing changed, the provider retries (Retry-After)"),
}
