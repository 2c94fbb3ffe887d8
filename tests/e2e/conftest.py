"""E2E tier: starts the local runtime (`python -m local.run`, what `make run` starts) on free
ports with its own state folder, and talks to it over HTTP only."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tools.launcher import API_KEY, ROOT, Ports, Runtime, start_runtime, stop_runtime

__all__ = ["API_KEY", "ROOT", "Ports", "Runtime", "start_runtime", "stop_runtime"]


@pytest.fixture(scope="session")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    running = start_runtime(Ports.free(), tmp_path_factory.mktemp("paygate-state"))
    yield running
    assert stop_runtime(running) == 0
