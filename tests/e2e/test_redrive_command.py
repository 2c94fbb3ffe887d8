"""`make redrive`'s command against the running local runtime (an empty DLQ here; the outage
itself is in tests/integration/test_redrive.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from .conftest import ROOT, Runtime


def test_the_redrive_command_finds_the_local_dlq(runtime: Runtime) -> None:
    port = runtime.moto_url.rsplit(":", 1)[1]
    env = {**os.environ, "PAYGATE_MOTO_PORT": port, "PYTHONPATH": "layers/core"}
    env.pop("AWS_ENDPOINT_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "ops.redrive", "--local"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"messages": 0, "published": 0, "kept": 0, "problems": []}
