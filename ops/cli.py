"""What the operator commands share: the `--local` switch, and the local runtime's AWS (moto
on `PAYGATE_MOTO_PORT`, its resources named after the template's logical ids; `make run`)."""

from __future__ import annotations

import argparse
import os

import boto3

LOCAL_REGION = "ap-southeast-1"


def parser(description: str) -> argparse.ArgumentParser:
    """A command's parser with `--local`: the local runtime's resources, not a stack's."""
    made = argparse.ArgumentParser(description=description)
    made.add_argument("--local", action="store_true", help="the local runtime's (make run)")
    return made


def use_local_aws() -> None:
    """Point boto3 at the local runtime's AWS with its dummy credentials; what the environment
    already sets is kept."""
    port = os.environ.get("PAYGATE_MOTO_PORT", "4566")
    defaults = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": LOCAL_REGION,
    }
    for name, value in defaults.items():
        os.environ.setdefault(name, value)


def local_table(logical_id: str) -> str:
    """The name of the local runtime's table made from the template's `logical_id`."""
    use_local_aws()
    names: list[str] = boto3.client("dynamodb").list_tables()["TableNames"]
    found = next((name for name in names if logical_id in name), None)
    if found is None:
        raise SystemExit(f"no {logical_id} in the local runtime: start it with make run")
    return found
