from __future__ import annotations

import pytest

from paygate.settings import PayproCheckoutSettings, SettingsError, TableSettings, load_settings


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
