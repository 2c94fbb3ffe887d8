"""E2E tier: talks over HTTP only to the local runtime (`python -m local.run`, what `make run`
starts) on free ports with its own state folder: the session's `runtime` fixture
(tests/conftest.py), shared with the browser tier."""

from __future__ import annotations

from tools.launcher import API_KEY, ROOT, Ports, Runtime, start_runtime, stop_runtime

__all__ = ["API_KEY", "ROOT", "Ports", "Runtime", "start_runtime", "stop_runtime"]
