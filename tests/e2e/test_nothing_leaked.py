"""No card number, card security code, provider secret or private key is left in the local
runtime's storage, logs, output or events, and stored provider signatures are erased
(tests/support/leaks.py). This test checks at whatever point it runs; the same check runs
again on every runtime when its session ends, after every flow that used it
(tests/conftest.py), so no file-name order is needed."""

from __future__ import annotations

from tests.support.leaks import assert_nothing_leaked

from .conftest import Runtime


def test_no_card_data_secret_or_signature_is_left_anywhere(runtime: Runtime) -> None:
    assert_nothing_leaked(runtime)
