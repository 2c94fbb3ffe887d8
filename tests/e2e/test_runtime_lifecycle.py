"""`make run`'s runtime stops cleanly on Ctrl-C and starts again on the same ports."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.support.runtimes import BASE_ENVIRONMENT

from .conftest import API_KEY, Ports, start_runtime, stop_runtime


@pytest.mark.early
def test_ctrl_c_stops_cleanly_and_a_second_start_works(tmp_path: Path) -> None:
    ports = Ports.free()
    for attempt in range(2):
        running = start_runtime(ports, tmp_path, base_env=BASE_ENVIRONMENT)
        answer = httpx.get(f"{running.api_url}/v1/payments/none", headers={"x-api-key": API_KEY})
        assert answer.status_code == 404, f"run {attempt + 1}: {answer.text}"
        assert stop_runtime(running) == 0
        assert "stopped" in (tmp_path / "runtime.out").read_text()
