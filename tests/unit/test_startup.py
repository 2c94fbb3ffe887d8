"""The cold start pauses the garbage collector inside Lambda only, and every function's
handler resumes it with the import's objects frozen (`paygate/__init__.py`,
`paygate.startup`). Each case runs in a fresh interpreter."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = sorted(p.parent.name for p in (ROOT / "functions").glob("*/app.py"))


def run(code: str, **env: str) -> str:
    environment = {k: v for k, v in os.environ.items() if k != "AWS_LAMBDA_FUNCTION_NAME"}
    environment |= {"PYTHONPATH": f"{ROOT}:{ROOT / 'layers' / 'core'}", **env}
    done = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_inside_lambda_the_import_pauses_collection_until_ready() -> None:
    code = (
        "import gc, paygate; paused = not gc.isenabled(); from paygate import startup; "
        "startup.ready(); startup.ready(); print(paused, gc.isenabled(), gc.get_freeze_count() > 0)"
    )
    assert run(code, AWS_LAMBDA_FUNCTION_NAME="f") == "True True True"


def test_outside_lambda_nothing_changes() -> None:
    code = (
        "import gc, paygate; enabled = gc.isenabled(); from paygate import startup; "
        "startup.ready(); print(enabled, gc.isenabled(), gc.get_freeze_count())"
    )
    assert run(code) == "True True 0"


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_function_resumes_collection_once_its_handler_is_built(function: str) -> None:
    """Imported as Lambda imports it (its settings from template.yaml's environment)."""
    code = (
        "import gc, json, os, sys\n"
        "from local.aws.provision import offline_environment\n"
        "from local.aws.template import load_template\n"
        f"module = 'functions.{function}.app'\n"
        "f = next(f for f in load_template().functions() if f.module == module)\n"
        "os.environ.update(offline_environment(load_template(), f))\n"
        f"import functions.{function}.app\n"
        "print(gc.isenabled(), gc.get_freeze_count() > 0)"
    )
    env = {"AWS_LAMBDA_FUNCTION_NAME": function, "AWS_DEFAULT_REGION": "ap-southeast-1"}
    assert run(code, **env) == "True True"
