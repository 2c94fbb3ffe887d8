"""The end of a function's cold start (see `paygate/__init__.py`): what the import made is
frozen out of later garbage collections, and collecting resumes."""

from __future__ import annotations

import gc

import paygate


def ready() -> None:
    """Called once a handler is built; does nothing unless importing paygate paused the
    collector (inside Lambda), and nothing the second time."""
    if paygate._paused_at_import:
        paygate._paused_at_import = False
        gc.freeze()
        gc.enable()
