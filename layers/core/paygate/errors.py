"""Domain errors. Each carries a stable `code` and the field it is about; `paygate.api` maps
them to HTTP statuses in one table."""

from __future__ import annotations


class PaygateError(Exception):
    """Base class: a failure we can explain to the merchant."""

    code = "error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationFailed(PaygateError):
    code = "validation_error"


class LimitError(ValidationFailed):
    code = "limit_error"


class MalformedRequest(PaygateError):
    code = "malformed_request"


class NotificationRefused(MalformedRequest):
    """A signed notification that may not move money: a field out of its documented format, an
    unknown key, another merchant's project, or too old (400; nothing is stored or changed)."""

    code = "notification_refused"


class NotSignedIn(PaygateError):
    """No operator identity on an operator route (401; API Gateway's Cognito authorizer
    answers first, so a function says this only behind a misconfigured route)."""

    code = "not_signed_in"


class NotAllowed(PaygateError):
    """A signed-in operator without the group an action needs (403)."""

    code = "forbidden"


class PaymentNotFound(PaygateError):
    code = "not_found"


class InvalidState(PaygateError):
    code = "invalid_state"


class DuplicateReference(InvalidState):
    """A payout create for a `merchant_reference` that another payout (not `failed`) holds:
    409 naming it (`payment_id`)."""

    code = "duplicate_reference"

    def __init__(self, merchant_reference: str, holder: str | None) -> None:
        named = f"payout {holder}" if holder else "another payout"
        super().__init__(
            f"{named} already exists for merchant_reference {merchant_reference!r} and has not "
            "failed; send allow_duplicate_reference: true to send a second payout on purpose",
            field="merchant_reference",
        )
        self.payment_id = holder


class NotAuthenticated(PaygateError):
    """No merchant key or client secret reached the route (401, field `x-api-key`)."""

    code = "invalid_api_key"

    def __init__(self, message: str) -> None:
        super().__init__(message, field="x-api-key")


class Forbidden(PaygateError):
    """A known caller that may not call this route: a key without the route's scope, or a
    client secret outside its payment's read, confirm and cancel (403, field `x-api-key`)."""

    code = "forbidden"

    def __init__(self, message: str, *, code: str = "forbidden") -> None:
        super().__init__(message, field="x-api-key")
        self.code = code


class SignatureInvalid(PaygateError):
    code = "invalid_signature"


class ProviderError(PaygateError):
    """The provider answered, but refused or failed the request."""

    code = "provider_error"

    def __init__(
        self,
        message: str,
        *,
        provider_code: str | None = None,
        provider_message: str | None = None,
        definitive: bool = True,
    ) -> None:
        super().__init__(message)
        self.provider_code = provider_code
        self.provider_message = provider_message
        # True when the provider certainly did not accept the request (safe to mark failed).
        self.definitive = definitive
        # Our payment the failed call was for, once it is recorded (so the merchant can query it).
        self.payment_id: str | None = None


class ProviderTimeout(ProviderError):
    """No answer in time: the provider may or may not have accepted the request."""

    code = "provider_timeout"

    def __init__(self, message: str) -> None:
        super().__init__(message, definitive=False)


class ConcurrentUpdate(PaygateError):
    code = "conflict"


class StorageBusy(PaygateError):
    """DynamoDB refused the write for now (a transaction conflict with a concurrent change,
    or throttling) and the retries inside the deadline ran out: nothing was written; the
    caller may retry after `retry_after_seconds` (providers retry webhooks on their own)."""

    code = "storage_busy"

    def __init__(self, message: str, *, retry_after_seconds: int = 1) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds
        # The payment already recorded (its provider may have acted), when there is one.
        self.payment_id: str | None = None


class InvalidCursor(MalformedRequest):
    """A list cursor the gateway did not issue, or issued for another query (400)."""

    code = "invalid_cursor"
