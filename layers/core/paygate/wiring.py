"""Builds the layer's services from validated settings (one place, no globals elsewhere)."""

from __future__ import annotations

from datetime import timedelta

import httpx

from paygate.ledger import Ledger
from paygate.providers.http import build_client
from paygate.providers.paypro.client import PayproClient, PayproCredentials
from paygate.providers.paypro.gateway import PayproGateway
from paygate.publisher import StatusPublisher
from paygate.repository import PaymentRepository
from paygate.settings import (
    PayproCheckoutSettings,
    PayproSettings,
    PublisherSettings,
    TableSettings,
)


def ledger(settings: TableSettings) -> Ledger:
    retention = timedelta(days=settings.webhook_retention_days)
    return Ledger(PaymentRepository(settings.payments_table, retention))


def paypro_notifications(settings: PayproSettings) -> PayproGateway:
    """For the webhook: verifies and ingests notifies; makes no outbound calls."""
    return PayproGateway(ledger(settings), settings.paypro_secret_id)


def paypro_checkout(
    settings: PayproCheckoutSettings, transport: httpx.BaseTransport | None = None
) -> PayproGateway:
    """For create-payment: one pooled HTTP client per container."""
    client = build_client(
        settings.provider_connect_timeout,
        settings.provider_read_timeout,
        settings.provider_retries,
        transport,
    )

    def client_factory(credentials: PayproCredentials) -> PayproClient:
        return PayproClient(
            settings.paypro_base_url, credentials, client, settings.provider_retries
        )

    return PayproGateway(ledger(settings), settings.paypro_secret_id, client_factory)


def status_publisher(settings: PublisherSettings) -> StatusPublisher:
    return StatusPublisher(settings.status_topic_arn)
