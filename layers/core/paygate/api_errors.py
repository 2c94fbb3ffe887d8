"""The one error shape of the merchant API and the webhooks (apart from `paygate.api_models`,
so that a function answering only webhooks builds no request or response model)."""

from __future__ import annotations

from pydantic import BaseModel


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None = None
    payment_id: str | None = None
    provider_code: str | None = None


class ErrorResponse(BaseModel):
    """Every error the API returns: `{"error": {"code", "message", "field", ...}}`."""

    error: ErrorDetail
