"""The local runtime holds a sale day: its AWS process's memory grows by a bounded amount per
payment, not with the table (moto copied every table a transaction touched, and kept every
copy: 4 MiB per create by the 150th; local/aws/moto_dynamodb.py). Memory measured (VmRSS),
never time. The 5,000-payment soak is `make soak-local` (tools/soak_local.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.runtimes import own_runtime
from tools.launcher import Runtime
from tools.soak_local import METHODS, Soak, aws_process_pid, growth_per_payment, rss_bytes

FIRST = 50
LAST = 100
# Measured about 70-140 KiB per payment (docs/performance.md; 85 KiB from 40 to 80); moto as
# shipped grows by several MiB per payment at this size (9.1 MiB from 40 to 80), and more with
# every one.
BOUND_BYTES_PER_PAYMENT = 512 * 1024


@pytest.fixture(scope="module")
def fresh_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """A runtime of its own: the memory of this test's payments alone."""
    yield from own_runtime(tmp_path_factory, "paygate-memory")


@pytest.mark.early
def test_the_aws_process_grows_by_a_bounded_amount_per_payment(fresh_runtime: Runtime) -> None:
    soak = Soak(fresh_runtime)
    pid = aws_process_pid(fresh_runtime)
    for index in range(FIRST):
        soak.create(index)
    at_first = rss_bytes(pid)
    for index in range(FIRST, LAST):
        soak.create(index)
    at_last = rss_bytes(pid)
    growth = growth_per_payment(at_first, at_last, LAST - FIRST)
    assert {m.name for m, _ in soak.created} == {m.name for m in METHODS}
    assert growth <= BOUND_BYTES_PER_PAYMENT, (
        f"{growth / 1024:.0f} KiB per payment from {FIRST} to {LAST} "
        f"({at_first / 2**20:.0f} → {at_last / 2**20:.0f} MiB)"
    )
