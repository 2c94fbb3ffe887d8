"""Function settings: environment variables as pydantic models, validated at cold start.

Each function declares only the variables it uses (field alias = variable name).
"""

from __future__ import annotations

import os
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

NonEmpty = Annotated[str, Field(min_length=1)]


class _Env(BaseModel):
    # Built when first validated: a function reads one settings class and builds only that.
    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore", defer_build=True)


# How long a stored provider notification (its masked body and dedupe key) lives: the longest
# provider retry window (the platform's 11 days, `MOTION_PLATFORM_HOURS`) plus 30 days for a
# dispute to be raised (docs/privacy.md). DynamoDB's TTL deletes it within days after that.
WEBHOOK_RETENTION_DAYS = 11 + 30
# How long a final payout keeps its whole destination (account number, holder, card): the
# 30 days a dispute may be raised in; then only a masked form (docs/privacy.md).
PAYOUT_DESTINATION_RETENTION_DAYS = 30


class TableSettings(_Env):
    payments_table: NonEmpty = Field(alias="PAYMENTS_TABLE")
    # Which reference indexes the repository reads (`wide`: the ALL ones, only while a live
    # table migrates to the narrow ones, docs/migration.md).
    reference_indexes: Literal["narrow", "wide"] = Field("narrow", alias="REFERENCE_INDEXES")
    webhook_retention_days: int = Field(
        default=WEBHOOK_RETENTION_DAYS, alias="WEBHOOK_RETENTION_DAYS", ge=1
    )
    # Days a final payout keeps its whole destination; then the reconcile schedule masks it to
    # what a dispute needs (docs/privacy.md).
    payout_destination_retention_days: int = Field(
        default=PAYOUT_DESTINATION_RETENTION_DAYS, alias="PAYOUT_DESTINATION_RETENTION_DAYS", ge=1
    )


class ProviderCallSettings(_Env):
    """Timeouts and bounded retries of the functions that call a provider."""

    provider_connect_timeout: float = Field(default=3.0, alias="PROVIDER_CONNECT_TIMEOUT", gt=0)
    provider_read_timeout: float = Field(default=10.0, alias="PROVIDER_READ_TIMEOUT", gt=0)
    provider_retries: int = Field(default=2, alias="PROVIDER_RETRIES", ge=0, le=5)
    # The first retry's jitter ceiling (doubling after): 0.2 s in AWS; the local runtime's
    # tests shorten it, since their simulated days make many retried queries.
    provider_retry_backoff_seconds: float = Field(
        default=0.2, alias="PROVIDER_RETRY_BACKOFF_SECONDS", ge=0, le=5
    )


class WindowSettings(_Env):
    """How long each method waits for its customer, in minutes (paygate.lifecycle; the defaults
    and the assumptions behind them are in docs/lifecycle.md)."""

    window_smartglocal_action_minutes: float = Field(
        default=60, alias="WINDOW_SMARTGLOCAL_ACTION_MINUTES", gt=0
    )
    window_smartglocal_confirmation_minutes: float = Field(
        default=240, alias="WINDOW_SMARTGLOCAL_CONFIRMATION_MINUTES", gt=0
    )
    window_platform_clarification_minutes: float = Field(
        default=30, alias="WINDOW_PLATFORM_CLARIFICATION_MINUTES", gt=0
    )
    window_ecommpay_customer_minutes: float = Field(
        default=30, alias="WINDOW_ECOMMPAY_CUSTOMER_MINUTES", gt=0
    )
    window_monetix_customer_minutes: float = Field(
        default=30, alias="WINDOW_MONETIX_CUSTOMER_MINUTES", gt=0
    )
    window_paypro_vietqr_minutes: float = Field(
        default=30, alias="WINDOW_PAYPRO_VIETQR_MINUTES", gt=0
    )


class MotionSettings(_Env):
    """How long money in motion is queried before it needs review, in hours (each provider's
    whole retry window; docs/lifecycle.md)."""

    motion_platform_hours: float = Field(default=264, alias="MOTION_PLATFORM_HOURS", gt=0)
    motion_paypro_hours: float = Field(default=192, alias="MOTION_PAYPRO_HOURS", gt=0)
    motion_smartglocal_hours: float = Field(default=4.5, alias="MOTION_SMARTGLOCAL_HOURS", gt=0)


class TailSettings(_Env):
    """After the gateway's own expiry, how long (hours) the provider could still take the
    money: the tail of status queries that finds a late payment whose callbacks were lost
    (docs/lifecycle.md)."""

    tail_platform_hours: float = Field(default=72, alias="TAIL_PLATFORM_HOURS", gt=0)
    tail_paypro_hours: float = Field(default=72, alias="TAIL_PAYPRO_HOURS", gt=0)
    tail_smartglocal_hours: float = Field(default=4.5, alias="TAIL_SMARTGLOCAL_HOURS", gt=0)


class PayproSettings(TableSettings):
    paypro_secret_id: NonEmpty = Field(alias="PAYPRO_SECRET_ID")


class PayproNotifySettings(PayproSettings, ProviderCallSettings):
    """The Paypro webhook: what a notify's MD5 `sign` cannot prove (docs/security.md).

    `PAYPRO_NOTIFY_MAX_AGE_HOURS` (48): a notify whose signed `timestamp` is older is refused.
    Paypro sends a notify 8 times within 24 h (its "Payment Notify API"), so a genuine one is
    never older than 24 h plus its delivery; 48 h doubles that for Paypro's own delays and
    clock. It may not exceed the dedupe records' life (`WEBHOOK_RETENTION_DAYS`): a replay
    after its record expired is then too old to change anything.
    `PAYPRO_CONFIRM_BY_QUERY` (false): whether a money-moving notify waits for the payin or
    payout query's word. Off by default: Paypro's secret signs nothing a customer sees (the
    gateway shows no Paypro-signed text; the cashier link is Paypro's own). On, the function
    calls `PAYPRO_BASE_URL`."""

    paypro_notify_max_age_hours: float = Field(
        default=48, alias="PAYPRO_NOTIFY_MAX_AGE_HOURS", gt=0
    )
    paypro_confirm_by_query: bool = Field(default=False, alias="PAYPRO_CONFIRM_BY_QUERY")
    paypro_base_url: str = Field(default="", alias="PAYPRO_BASE_URL")

    @field_validator("paypro_notify_max_age_hours")
    @classmethod
    def _paypro_age_within_dedupe(cls, hours: float, info: ValidationInfo) -> float:
        if hours > info.data.get("webhook_retention_days", 0) * 24:
            raise ValueError("longer than the dedupe records live (WEBHOOK_RETENTION_DAYS)")
        return hours

    @field_validator("paypro_base_url")
    @classmethod
    def _paypro_queryable(cls, url: str, info: ValidationInfo) -> str:
        if info.data.get("paypro_confirm_by_query") and not url:
            raise ValueError("PAYPRO_CONFIRM_BY_QUERY needs it")
        return url


class PayproCheckoutSettings(PayproSettings, ProviderCallSettings):
    paypro_base_url: NonEmpty = Field(alias="PAYPRO_BASE_URL")
    webhook_base_url: str = Field(default="", alias="WEBHOOK_BASE_URL")


class SmartglocalWebhookSettings(_Env):
    """What a Smart Glocal webhook's RSA signature cannot prove (docs/security.md).

    `SMARTGLOCAL_WEBHOOK_MAX_AGE_HOURS` (24): a webhook whose signed `session.updated_at` is
    older is refused. Smart Glocal stops resending after 30 minutes (its webhooks page; an
    older version said "until a response arrives"), so a genuine webhook is at most about
    half an hour old; 24 h is that with a generous margin for the older rule and for a
    Smart Glocal outage. It may not exceed the dedupe records' life
    (`WEBHOOK_RETENTION_DAYS`): a replay after its record expired is then too old to count.
    `SMARTGLOCAL_CONFIRM_BY_QUERY` (false): whether a success waits for `session/status` to
    confirm it. Off by default: Smart Glocal's private key signs nothing a customer sees."""

    smartglocal_webhook_max_age_hours: float = Field(
        default=24, alias="SMARTGLOCAL_WEBHOOK_MAX_AGE_HOURS", gt=0
    )
    smartglocal_confirm_by_query: bool = Field(default=False, alias="SMARTGLOCAL_CONFIRM_BY_QUERY")


class SmartglocalSettings(SmartglocalWebhookSettings, TableSettings, ProviderCallSettings):
    """Every Smart Glocal function: the webhook confirms (auto mode) and the actions call the
    session API too, so all three read the same settings."""

    @field_validator("smartglocal_webhook_max_age_hours")
    @classmethod
    def _within_dedupe(cls, hours: float, info: ValidationInfo) -> float:
        # Validated after WEBHOOK_RETENTION_DAYS (the first base's fields come last).
        if hours > info.data.get("webhook_retention_days", 0) * 24:
            raise ValueError("longer than the dedupe records live (WEBHOOK_RETENTION_DAYS)")
        return hours

    smartglocal_secret_id: NonEmpty = Field(alias="SMARTGLOCAL_SECRET_ID")
    smartglocal_base_url: NonEmpty = Field(alias="SMARTGLOCAL_BASE_URL")
    # `init`: session/init/payment (one call); `create_start`: session/create + start/payment.
    smartglocal_session_flow: Literal["init", "create_start"] = Field(
        default="init", alias="SMARTGLOCAL_SESSION_FLOW"
    )
    # Wire amount = our VND amount x factor. 1 = VND sent as major units (ISO 4217 exponent 0;
    # INFERRED from Smart Glocal's Vietnam e-wallet guide, whose examples send `"amount":
    # 100000` VND); 100 if Smart Glocal turns out to want "kopecks" of VND.
    smartglocal_amount_factor: int = Field(default=1, alias="SMARTGLOCAL_AMOUNT_FACTOR", ge=1)


class PlatformCallbackSettings(_Env):
    """What an ecommpay or Monetix callback's signature cannot prove (docs/security.md): how
    old its signed `operation.date` may be (the platform retries for 11 days; 0 turns the check
    off), and whether a money-moving result waits for the status query's confirmation (on: the
    project secret also signs the Payment Page URLs customers see)."""

    ecommpay_callback_max_age_hours: float = Field(
        default=336, alias="ECOMMPAY_CALLBACK_MAX_AGE_HOURS", ge=0
    )
    monetix_callback_max_age_hours: float = Field(
        default=336, alias="MONETIX_CALLBACK_MAX_AGE_HOURS", ge=0
    )
    ecommpay_confirm_by_query: bool = Field(default=True, alias="ECOMMPAY_CONFIRM_BY_QUERY")
    monetix_confirm_by_query: bool = Field(default=True, alias="MONETIX_CONFIRM_BY_QUERY")


class PlatformSettings(
    TableSettings, ProviderCallSettings, WindowSettings, PlatformCallbackSettings
):
    """What both platform providers' functions share (the Payment Page's window among it)."""

    def _callback_age_within_dedupe(self, max_age_hours: float, name: str) -> None:
        """A callback older than the dedupe records' life could be replayed once its record
        expired: no max age may exceed `WEBHOOK_RETENTION_DAYS`."""
        if max_age_hours > self.webhook_retention_days * 24:
            raise ValueError(f"{name} is longer than the dedupe records live")


class EcommpaySettings(PlatformSettings):
    """ecommpay (NAPAS ATM, Nganluong): Gate and Payment Page hosts, secret, ATM channel."""

    ecommpay_secret_id: NonEmpty = Field(alias="ECOMMPAY_SECRET_ID")
    ecommpay_gate_url: NonEmpty = Field(alias="ECOMMPAY_GATE_URL")
    ecommpay_payment_page_url: NonEmpty = Field(alias="ECOMMPAY_PAYMENT_PAGE_URL")
    # The ATM purchase channel the key account manager connected the project to (1 or 2).
    ecommpay_atm_channel: int = Field(default=1, alias="ECOMMPAY_ATM_CHANNEL", ge=1, le=2)

    @model_validator(mode="after")
    def _ecommpay_age(self) -> EcommpaySettings:
        self._callback_age_within_dedupe(
            self.ecommpay_callback_max_age_hours, "ECOMMPAY_CALLBACK_MAX_AGE_HOURS"
        )
        return self


class MonetixSettings(PlatformSettings):
    """Monetix (Vietnam bank transfers) on the same platform: its own hosts and secret."""

    monetix_secret_id: NonEmpty = Field(alias="MONETIX_SECRET_ID")
    monetix_gate_url: NonEmpty = Field(alias="MONETIX_GATE_URL")
    monetix_payment_page_url: NonEmpty = Field(alias="MONETIX_PAYMENT_PAGE_URL")

    @model_validator(mode="after")
    def _monetix_age(self) -> MonetixSettings:
        self._callback_age_within_dedupe(
            self.monetix_callback_max_age_hours, "MONETIX_CALLBACK_MAX_AGE_HOURS"
        )
        return self


class PlatformActionSettings(EcommpaySettings, MonetixSettings):
    """Functions that act on payments of both platform providers (clarification)."""


class IdempotencySettings(_Env):
    """Create functions: where Powertools keeps the idempotency records."""

    idempotency_table: NonEmpty = Field(alias="IDEMPOTENCY_TABLE")


class ListSettings(TableSettings):
    """The list function: the secret that signs its page cursors, and which list indexes it
    reads (`legacy` only while a live table moves to the sharded ones, docs/migration.md)."""

    cursor_secret_id: NonEmpty = Field(alias="CURSOR_SECRET_ID")
    list_indexes: Literal["sharded", "legacy"] = Field("sharded", alias="LIST_INDEXES")


class ReconcileSettings(
    PayproCheckoutSettings,
    SmartglocalSettings,
    PlatformActionSettings,
    MotionSettings,
    TailSettings,
):
    """The reconcile workers query every provider and apply every window."""


class DispatchSettings(TableSettings):
    """The reconcile dispatcher: the schedule's table, each provider's queue, how many due
    payments a run leases per schedule shard at most."""

    reconcile_queue_paypro: NonEmpty = Field(alias="RECONCILE_QUEUE_PAYPRO")
    reconcile_queue_smartglocal: NonEmpty = Field(alias="RECONCILE_QUEUE_SMARTGLOCAL")
    reconcile_queue_ecommpay: NonEmpty = Field(alias="RECONCILE_QUEUE_ECOMMPAY")
    reconcile_queue_monetix: NonEmpty = Field(alias="RECONCILE_QUEUE_MONETIX")
    dispatch_limit: int = Field(default=5000, alias="DISPATCH_LIMIT", ge=1, le=100_000)


class ClientSecretSettings(_Env):
    """Functions that issue or check per-payment client secrets: the Secrets Manager secret
    holding their HMAC key (`paygate.client_secrets`)."""

    client_secret_key_id: NonEmpty = Field(alias="CLIENT_SECRET_KEY_ID")


class AuthorizerSettings(ClientSecretSettings):
    """The API's Lambda authorizer: the merchant API keys' table and the client-secret key."""

    api_keys_table: NonEmpty = Field(alias="API_KEYS_TABLE")


class PublisherSettings(WindowSettings):
    """The stream publisher: SNS, and the status push to browsers when both push variables
    are set (the WebSocket API's connections table and its stage's management endpoint,
    `https://<api id>.execute-api.<region>.amazonaws.com/<stage>`)."""

    status_topic_arn: NonEmpty = Field(alias="STATUS_TOPIC_ARN")
    connections_table: str = Field(default="", alias="CONNECTIONS_TABLE")
    websocket_endpoint: str = Field(default="", alias="WEBSOCKET_ENDPOINT")


class ConnectionSettings(ClientSecretSettings, TableSettings, WindowSettings):
    """The WebSocket API's function: where connections are kept, the client secrets' key
    (which authorises them), and the payments and their windows (the `status` route)."""

    connections_table: NonEmpty = Field(alias="CONNECTIONS_TABLE")


class SettingsError(RuntimeError):
    """A function started with missing or invalid environment variables."""


def load_settings[S: _Env](model: type[S]) -> S:
    """Read `model` from the environment; fail fast, naming every bad variable."""
    try:
        return model.model_validate(dict(os.environ))
    except ValidationError as exc:
        names = ", ".join(str(err["loc"][0]) for err in exc.errors())
        raise SettingsError(f"invalid or missing environment variables: {names}") from exc
