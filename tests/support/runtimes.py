"""Local runtimes for the e2e and browser tiers: `own_runtime` starts one (`python -m
local.run`, what `make run` starts) and, when its tests are done, runs the leak check on it
after every flow that used it, then stops it with Ctrl-C."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support.leaks import assert_nothing_leaked
from tools.launcher import Runtime, start_runtime_on_free_ports, stop_runtime

# The environment runtimes start from: this process's as tests/conftest.py left it (it imports
# this module right after setting the fake AWS environment), before any integration test
# applied a function's settings to the process (pytest-xdist may run both tiers in one worker).
BASE_ENVIRONMENT = dict(os.environ)


def own_runtime(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[Runtime]:
    """A generator fixture's body: a runtime on free ports with its own state folder; after
    the tests, the leak check (tests/support/leaks.py), then a clean Ctrl-C stop."""
    state = tmp_path_factory.mktemp(name)
    running = start_runtime_on_free_ports(state, base_env=BASE_ENVIRONMENT)
    try:
        yield running
        assert_nothing_leaked(running)
    finally:
        assert stop_runtime(running) == 0
