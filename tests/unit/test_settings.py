from __future__ import annotations

import pytest
from pydantic import ValidationError

from paygate.settings import (
    MonetixSettings,
    PayproCheckoutSettings,
    ReconcileSettings,
    SettingsError,
    TableSettings,
    load_settings,
)


def test_missing_variables_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PAYMENTS_TABLE", "PAYPRO_SECRET_ID", "PAYPRO_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SettingsError, match="PAYMENTS_TABLE, PAYPRO_SECRET_ID, PAYPRO_BASE_URL"):
        load_settings(PayproCheckoutSettings)


def test_values_are_read_and_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYMENTS_TABLE", "t")
    monkeypatch.setenv("WEBHOOK_RETENTION_DAYS", "7")
    assert load_settings(TableSettings).webhook_retention_days == 7
    monkeypatch.setenv("WEBHOOK_RETENTION_DAYS", "0")
    with pytest.raises(SettingsError, match="WEBHOOK_RETENTION_DAYS"):
        load_settings(TableSettings)


PLATFORM_ENV = {
    "PAYMENTS_TABLE": "t",
    "MONETIX_SECRET_ID": "s",
    "MONETIX_GATE_URL": "https://gate.example",
    "MONETIX_PAYMENT_PAGE_URL": "https://page.example",
}


def test_platform_callbacks_are_confirmed_and_dated_by_default() -> None:
    settings = MonetixSettings.model_validate(PLATFORM_ENV)
    assert settings.monetix_confirm_by_query is True
    assert settings.monetix_callback_max_age_hours == 336  # 11 days of retries + 3


def test_a_callback_may_not_outlive_its_dedupe_record() -> None:
    """Past the dedupe records' life a replay would count again: refused at cold start."""
    longer = {
        **PLATFORM_ENV,
        "WEBHOOK_RETENTION_DAYS": "10",
        "MONETIX_CALLBACK_MAX_AGE_HOURS": "241",
    }
    with pytest.raises(ValidationError, match="MONETIX_CALLBACK_MAX_AGE_HOURS"):
        MonetixSettings.model_validate(longer)
    assert MonetixSettings.model_validate({**longer, "MONETIX_CALLBACK_MAX_AGE_HOURS": "240"})


def test_the_reconcile_job_reads_every_providers_age_checks() -> None:
    """One settings class inherits every provider's checks: none may shadow another's."""
    env = {
        **PLATFORM_ENV,
        "PAYPRO_SECRET_ID": "p",
        "PAYPRO_BASE_URL": "https://paypro.example",
        "SMARTGLOCAL_SECRET_ID": "g",
        "SMARTGLOCAL_BASE_URL": "https://sg.example",
        "ECOMMPAY_SECRET_ID": "e",
        "ECOMMPAY_GATE_URL": "https://gate.example",
        "ECOMMPAY_PAYMENT_PAGE_URL": "https://page.example",
    }
    settings = ReconcileSettings.model_validate(env)
    assert settings.ecommpay_callback_max_age_hours == settings.monetix_callback_max_age_hours
