"""The local runtime's settings (local/config.py): read from the environment once, defaults
for a plain `make run`, and a malformed value named by its variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from local.config import DEFAULT_SECRETS_FILE, LocalConfig, SandboxPorts


def test_defaults_are_make_runs() -> None:
    config = LocalConfig.from_env({})
    assert config == LocalConfig()
    assert config.api_url == "http://127.0.0.1:3000"
    assert config.moto_url == "http://127.0.0.1:4566"
    assert config.sandbox_ports == SandboxPorts(paypro=3101, smartglocal=0, ecommpay=0, monetix=0)
    assert config.clock_mode == "real" and config.atm_channel == 2
    assert config.secrets_file == DEFAULT_SECRETS_FILE and DEFAULT_SECRETS_FILE.is_file()
    assert config.aws_calls_file is None and config.schedule_seconds is None


def test_every_setting_comes_from_its_variable() -> None:
    config = LocalConfig.from_env(
        {
            "PAYGATE_PORT": "4000",
            "PAYGATE_API_KEY": "k",
            "PAYGATE_MOTO_PORT": "4001",
            "PAYGATE_PAYPRO_PORT": "4002",
            "PAYGATE_SMARTGLOCAL_PORT": "4003",
            "PAYGATE_ECOMMPAY_PORT": "4004",
            "PAYGATE_MONETIX_PORT": "4005",
            "PAYGATE_ECOMMPAY_ATM_CHANNEL": "1",
            "PAYGATE_STATE_DIR": "/tmp/state",
            "PAYGATE_SECRETS_FILE": "/tmp/secrets.json",
            "PAYGATE_SCHEDULE_SECONDS": "0.5",
            "PAYGATE_CLOCK": "manual",
            "PAYGATE_AWS_CALLS_FILE": "/tmp/calls.jsonl",
            "POWERTOOLS_LOG_LEVEL": "DEBUG",
        }
    )
    assert (config.port, config.api_key, config.moto_port) == (4000, "k", 4001)
    assert config.sandbox_ports == SandboxPorts(4002, 4003, 4004, 4005)
    assert config.atm_channel == 1 and config.clock_mode == "manual"
    assert config.state_dir == Path("/tmp/state") and config.events_file.name == "events.jsonl"
    assert config.secrets_file == Path("/tmp/secrets.json")
    assert config.schedule_seconds == 0.5
    assert config.aws_calls_file == Path("/tmp/calls.jsonl")
    assert config.log_level == "DEBUG"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PAYGATE_PORT", "http"),
        ("PAYGATE_MOTO_PORT", "70000"),
        ("PAYGATE_ECOMMPAY_ATM_CHANNEL", "3"),
        ("PAYGATE_SCHEDULE_SECONDS", "-1"),
        ("PAYGATE_CLOCK", "fast"),
    ],
)
def test_a_malformed_value_names_its_variable(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=name):
        LocalConfig.from_env({name: value})
