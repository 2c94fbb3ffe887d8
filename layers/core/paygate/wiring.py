"""Builds the layer's services from validated settings (one place, no globals elsewhere).

Each factory imports what its service needs when it is called, so a function's cold start
loads only its own provider (Smart Glocal's `cryptography` ships with the Smart Glocal
functions alone, not with the layer)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING

from paygate import snapstart
from paygate.ledger import Ledger
from paygate.repository import PaymentRepository

if TYPE_CHECKING:
    import httpx

    from paygate.api_keys import Authorizer
    from paygate.dispatch import Dispatcher, Worker
    from paygate.lifecycle import WaitWindows
    from paygate.listing import PaymentLister
    from paygate.providers.paypro.client import PayproClient
    from paygate.providers.paypro.gateway import PayproGateway
    from paygate.providers.platform.client import PlatformClient
    from paygate.providers.platform.credentials import PlatformCredentials
    from paygate.providers.platform.gateway import (
        PlatformConfig,
        PlatformGateway,
        PlatformGateways,
    )
    from paygate.providers.smartglocal.client import SmartglocalClient
    from paygate.providers.smartglocal.gateway import SmartglocalGateway
    from paygate.publisher import StatusPublisher
    from paygate.push import ConnectionGate, StatusPush
    from paygate.reconcile import Reconciler
    from paygate.settings import (
        AuthorizerSettings,
        ConnectionSettings,
        DispatchSettings,
        EcommpaySettings,
        ListSettings,
        MonetixSettings,
        PayproCheckoutSettings,
        PayproNotifySettings,
        PlatformActionSettings,
        ProviderCallSettings,
        PublisherSettings,
        ReconcileSettings,
        SmartglocalSettings,
        TableSettings,
        WindowSettings,
    )
    from paygate.webhooks import WebhookChecks


def ledger(settings: TableSettings) -> Ledger:
    retention = timedelta(days=settings.webhook_retention_days)
    repository = PaymentRepository(
        settings.payments_table, retention, reference_indexes=settings.reference_indexes
    )
    snapstart.forget_on_restore(repository, "client")
    kept = timedelta(days=settings.payout_destination_retention_days)
    return Ledger(repository, destination_retention=kept)


def lister(settings: ListSettings) -> PaymentLister:
    """For the list routes: pages of the ledger's list indexes (the sharded ones, or the
    legacy ones while a live table migrates), cursors signed with the cursor secret."""
    from paygate.listing import CursorSigner, PaymentLister, secret_keys

    repository = ledger(settings).repository
    return PaymentLister(
        repository,
        CursorSigner(secret_keys(settings.cursor_secret_id)),
        settings.list_indexes,
        repository.reference_index,
    )


def http_client(
    settings: ProviderCallSettings, transport: httpx.BaseTransport | None = None
) -> httpx.Client:
    """One pooled client per container, with the function's timeouts and retries (made by
    `paygate.providers.http.post` inside the invocation's budget, never by the transport);
    its pool is renewed after a SnapStart restore."""
    import httpx

    from paygate.providers import http
    from paygate.providers.http import build_client

    http.RETRY_BACKOFF_SECONDS = settings.provider_retry_backoff_seconds
    if transport is None:
        transport = snapstart.restorable_http_transport(lambda: httpx.HTTPTransport(retries=0))
    return build_client(
        settings.provider_connect_timeout,
        settings.provider_read_timeout,
        settings.provider_retries,
        transport,
    )


def _lazy_http_client(
    settings: ProviderCallSettings, transport: httpx.BaseTransport | None
) -> Callable[[], httpx.Client]:
    """The container's pooled client, built (and httpx imported) on the first outbound call:
    a function whose invocation never calls the provider (a webhook) never loads httpx."""
    made: list[httpx.Client] = []

    def client() -> httpx.Client:
        if not made:
            made.append(http_client(settings, transport))
        return made[0]

    return client


def _clients[C, K](
    settings: ProviderCallSettings,
    transport: httpx.BaseTransport | None,
    base_url: str,
    client_class: Callable[[], Callable[[str, C, httpx.Client, int], K]],
) -> Callable[[C], K]:
    """A provider's client factory: `client_class()` (imported on the first outbound call, so
    a cold start never loads the client) built with the base URL, the credentials, the
    container's pooled client (`_lazy_http_client`) and the retries."""
    client = _lazy_http_client(settings, transport)

    def clients(credentials: C) -> K:
        return client_class()(base_url, credentials, client(), settings.provider_retries)

    return clients


def paypro_notifications(
    settings: PayproNotifySettings, transport: httpx.BaseTransport | None = None
) -> PayproGateway:
    """For the webhook: verifies, checks and ingests notifies. Outbound calls only with
    `PAYPRO_CONFIRM_BY_QUERY` (the payin/payout query confirms a money-moving notify)."""
    from paygate.providers.paypro.gateway import PayproGateway
    from paygate.webhooks import WebhookChecks

    checks = WebhookChecks(
        max_age=timedelta(hours=settings.paypro_notify_max_age_hours),
        confirm=settings.paypro_confirm_by_query,
    )
    if not settings.paypro_confirm_by_query:
        return PayproGateway(ledger(settings), settings.paypro_secret_id, checks=checks)

    def client_class() -> type[PayproClient]:
        from paygate.providers.paypro.client import PayproClient

        return PayproClient

    clients = _clients(settings, transport, settings.paypro_base_url, client_class)
    return PayproGateway(ledger(settings), settings.paypro_secret_id, clients, checks)


def paypro_checkout(
    settings: PayproCheckoutSettings, transport: httpx.BaseTransport | None = None
) -> PayproGateway:
    """For create-payment."""
    from paygate.providers.paypro.gateway import PayproGateway

    def client_class() -> type[PayproClient]:
        from paygate.providers.paypro.client import PayproClient

        return PayproClient

    clients = _clients(settings, transport, settings.paypro_base_url, client_class)
    return PayproGateway(ledger(settings), settings.paypro_secret_id, clients)


def smartglocal(
    settings: SmartglocalSettings, transport: httpx.BaseTransport | None = None
) -> SmartglocalGateway:
    """For every Smart Glocal function (create, webhook, confirm/cancel)."""
    from paygate.providers.smartglocal.gateway import SmartglocalGateway, SmartglocalOptions
    from paygate.webhooks import WebhookChecks

    def client_class() -> type[SmartglocalClient]:
        from paygate.providers.smartglocal.client import SmartglocalClient

        return SmartglocalClient

    clients = _clients(settings, transport, settings.smartglocal_base_url, client_class)
    checks = WebhookChecks(
        max_age=timedelta(hours=settings.smartglocal_webhook_max_age_hours),
        confirm=settings.smartglocal_confirm_by_query,
    )
    options = SmartglocalOptions(
        session_flow=settings.smartglocal_session_flow,
        amount_factor=settings.smartglocal_amount_factor,
        webhook_checks=checks,
    )
    return SmartglocalGateway(ledger(settings), settings.smartglocal_secret_id, clients, options)


def _platform(
    settings: TableSettings,
    call_settings: ProviderCallSettings,
    config: PlatformConfig,
    transport: httpx.BaseTransport | None,
) -> PlatformGateway:
    from paygate.providers.platform.gateway import PlatformGateway

    def client_class() -> Callable[[str, PlatformCredentials, httpx.Client, int], PlatformClient]:
        from paygate.providers.platform.client import PlatformClient

        return partial(PlatformClient, config.provider.value)

    clients = _clients(call_settings, transport, config.gate_url, client_class)
    return PlatformGateway(ledger(settings), config, clients)


def _callback_checks(max_age_hours: float, confirm: bool) -> WebhookChecks:
    """A provider's webhook checks from its settings (0 hours: no age check)."""
    from paygate.webhooks import WebhookChecks

    max_age = timedelta(hours=max_age_hours) if max_age_hours > 0 else None
    return WebhookChecks(max_age=max_age, confirm=confirm)


def ecommpay(
    settings: EcommpaySettings, transport: httpx.BaseTransport | None = None
) -> PlatformGateway:
    """For every ecommpay function (NAPAS ATM, Nganluong)."""
    from paygate.domain import Provider
    from paygate.providers.platform.gateway import PlatformConfig

    config = PlatformConfig(
        provider=Provider.ECOMMPAY,
        secret_id=settings.ecommpay_secret_id,
        gate_url=settings.ecommpay_gate_url,
        payment_page_url=settings.ecommpay_payment_page_url,
        atm_channel=1 if settings.ecommpay_atm_channel == 1 else 2,
        customer_window=timedelta(minutes=settings.window_ecommpay_customer_minutes),
        callback_checks=_callback_checks(
            settings.ecommpay_callback_max_age_hours, settings.ecommpay_confirm_by_query
        ),
    )
    return _platform(settings, settings, config, transport)


def monetix(
    settings: MonetixSettings, transport: httpx.BaseTransport | None = None
) -> PlatformGateway:
    """For every Monetix function (Vietnam bank transfers)."""
    from paygate.domain import Provider
    from paygate.providers.platform.gateway import PlatformConfig

    config = PlatformConfig(
        provider=Provider.MONETIX,
        secret_id=settings.monetix_secret_id,
        gate_url=settings.monetix_gate_url,
        payment_page_url=settings.monetix_payment_page_url,
        customer_window=timedelta(minutes=settings.window_monetix_customer_minutes),
        callback_checks=_callback_checks(
            settings.monetix_callback_max_age_hours, settings.monetix_confirm_by_query
        ),
    )
    return _platform(settings, settings, config, transport)


def platform_gateways(
    settings: PlatformActionSettings, transport: httpx.BaseTransport | None = None
) -> PlatformGateways:
    """Both platform providers: clarifications on an existing payment, and the bank lists."""
    from paygate.domain import Provider
    from paygate.providers.platform.gateway import PlatformGateways

    gateways = {
        Provider.ECOMMPAY: ecommpay(settings, transport),
        Provider.MONETIX: monetix(settings, transport),
    }
    return PlatformGateways(ledger(settings), gateways)


def wait_windows(settings: WindowSettings) -> WaitWindows:
    from paygate.lifecycle import WaitWindows

    return WaitWindows.of(settings)


def reconciler(
    settings: ReconcileSettings, transport: httpx.BaseTransport | None = None
) -> Reconciler:
    """Every provider's status query behind one scheduled job, with the lifecycle windows."""
    from paygate.domain import Provider
    from paygate.lifecycle import LifecyclePolicy, MotionWindows, TailWindows
    from paygate.reconcile import Reconciler

    paypro = paypro_checkout(settings, transport)
    sg = smartglocal(settings, transport)
    platform = platform_gateways(settings, transport).gateways
    observers = {
        Provider.PAYPRO: paypro.observe,
        Provider.SMARTGLOCAL: sg.observe,
        Provider.ECOMMPAY: platform[Provider.ECOMMPAY].observe,
        Provider.MONETIX: platform[Provider.MONETIX].observe,
    }
    motion = MotionWindows(
        platform=timedelta(hours=settings.motion_platform_hours),
        paypro=timedelta(hours=settings.motion_paypro_hours),
        smartglocal=timedelta(hours=settings.motion_smartglocal_hours),
    )
    tail = TailWindows(
        platform=timedelta(hours=settings.tail_platform_hours),
        paypro=timedelta(hours=settings.tail_paypro_hours),
        smartglocal=timedelta(hours=settings.tail_smartglocal_hours),
    )
    policy = LifecyclePolicy(waits=wait_windows(settings), motion=motion, tail=tail)
    cancellers = {Provider.SMARTGLOCAL: sg.cancel_at_provider}
    return Reconciler(ledger(settings), observers, policy, cancellers=cancellers)


def dispatcher(settings: DispatchSettings) -> Dispatcher:
    """The reconcile dispatcher: the schedule's shards, one queue per provider."""
    from paygate.dispatch import Dispatcher
    from paygate.domain import Provider

    queues = {
        Provider.PAYPRO: settings.reconcile_queue_paypro,
        Provider.SMARTGLOCAL: settings.reconcile_queue_smartglocal,
        Provider.ECOMMPAY: settings.reconcile_queue_ecommpay,
        Provider.MONETIX: settings.reconcile_queue_monetix,
    }
    dispatch = Dispatcher(ledger(settings).repository, queues)
    snapstart.forget_on_restore(dispatch, "client")
    return dispatch


def reconcile_worker(
    settings: ReconcileSettings, transport: httpx.BaseTransport | None = None
) -> Worker:
    """A reconcile worker: every provider's status query (its own short timeouts, no retries:
    `paygate.dispatch`), settling one leased payment at a time (`reconciler`'s logic)."""
    from paygate.dispatch import (
        QUERY_CONNECT_TIMEOUT_SECONDS,
        QUERY_READ_TIMEOUT_SECONDS,
        Worker,
    )

    connect = min(settings.provider_connect_timeout, QUERY_CONNECT_TIMEOUT_SECONDS)
    read = min(settings.provider_read_timeout, QUERY_READ_TIMEOUT_SECONDS)
    quick = settings.model_copy(
        update={
            "provider_connect_timeout": connect,
            "provider_read_timeout": read,
            "provider_retries": 0,
        }
    )
    job = reconciler(quick, transport)
    return Worker(job, job.ledger.repository)


def status_publisher(settings: PublisherSettings) -> StatusPublisher:
    from paygate.publisher import StatusPublisher

    publisher = StatusPublisher(settings.status_topic_arn)
    snapstart.forget_on_restore(publisher, "client")
    return publisher


def status_push(settings: PublisherSettings) -> StatusPush | None:
    """The publisher's push to browsers, or None when the push is not configured."""
    if not (settings.connections_table and settings.websocket_endpoint):
        return None
    from paygate.push import StatusPush
    from paygate.repository import ConnectionRepository

    connections = ConnectionRepository(settings.connections_table)
    snapstart.forget_on_restore(connections, "client")
    push = StatusPush(connections, settings.websocket_endpoint, wait_windows(settings))
    snapstart.forget_on_restore(push, "client")
    return push


def connection_gate(settings: ConnectionSettings) -> ConnectionGate:
    """The WebSocket API's routes: the connections table, the client secrets' key (cached),
    the payments (the `status` route)."""
    from paygate.client_secrets import ClientSecretKey
    from paygate.credentials import load_credentials
    from paygate.push import ConnectionGate
    from paygate.repository import ConnectionRepository

    connections = ConnectionRepository(settings.connections_table)
    snapstart.forget_on_restore(connections, "client")
    key = partial(load_credentials, settings.client_secret_key_id, ClientSecretKey)
    return ConnectionGate(connections, key, ledger(settings).get, wait_windows(settings))


def key_authorizer(settings: AuthorizerSettings) -> Authorizer:
    """The API's key authorizer: keys from their table, client secrets checked against the
    HMAC key in Secrets Manager (cached five minutes, `paygate.credentials`)."""
    from paygate.api_keys import Authorizer
    from paygate.client_secrets import ClientSecretKey
    from paygate.credentials import load_credentials
    from paygate.repository import ApiKeyRepository

    keys = ApiKeyRepository(settings.api_keys_table)
    snapstart.forget_on_restore(keys, "client")
    secret_key = partial(load_credentials, settings.client_secret_key_id, ClientSecretKey)
    return Authorizer(keys, secret_key)
