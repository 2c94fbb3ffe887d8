"""What the operator commands share (`ops/cli.py`): `--local` points boto3 at the local
runtime's moto without overriding what the environment sets, and finds a table by the
template's logical id; every command offers `--local`."""

from __future__ import annotations

import os
from typing import Any

import pytest

from ops import api_keys, cli, erase_customer, redrive

AWS = ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")


@pytest.fixture
def clean(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (*AWS, "PAYGATE_MOTO_PORT"):  # set first: the teardown then restores each
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    return monkeypatch


def test_local_aws_is_moto_on_its_port_with_dummy_credentials(clean: pytest.MonkeyPatch) -> None:
    clean.setenv("PAYGATE_MOTO_PORT", "45123")
    cli.use_local_aws()
    assert [os.environ[name] for name in AWS] == [
        "http://127.0.0.1:45123", "local", "local", "ap-southeast-1"
    ]  # fmt: skip


def test_what_the_environment_sets_is_kept(clean: pytest.MonkeyPatch) -> None:
    clean.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9999")
    clean.setenv("AWS_DEFAULT_REGION", "us-east-1")
    cli.use_local_aws()
    assert os.environ["AWS_ENDPOINT_URL"] == "http://127.0.0.1:9999"
    assert os.environ["AWS_DEFAULT_REGION"] == "us-east-1"
    assert os.environ["AWS_ACCESS_KEY_ID"] == "local"  # not set before: the local default


class Tables:
    def __init__(self, names: list[str]) -> None:
        self.names = names

    def list_tables(self) -> dict[str, Any]:
        return {"TableNames": self.names}


def test_a_local_table_is_found_by_its_logical_id(clean: pytest.MonkeyPatch) -> None:
    names = ["local-IdempotencyTable-1", "local-PaymentsTable-2", "ApiKeysTable"]
    clean.setattr("ops.cli.boto3.client", lambda service: Tables(names))
    logical_ids = ["ApiKeysTable", "PaymentsTable", "IdempotencyTable"]
    assert [cli.local_table(name) for name in logical_ids] == list(reversed(names))
    with pytest.raises(SystemExit, match=r"ConnectionsTable.*make run"):
        cli.local_table("ConnectionsTable")


@pytest.mark.parametrize("command", [api_keys, erase_customer, redrive])
def test_every_command_takes_local(
    command: Any, clean: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clean.setattr("sys.argv", [command.__name__, "--help"])
    with pytest.raises(SystemExit):
        command.main()
    assert "--local" in capsys.readouterr().out
