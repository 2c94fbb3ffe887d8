"""Pages over sharded list indexes (`paygate.listing`): following the cursors lists every
matching payment once, newest first, whatever the partitions hold, the page size and the
filters the index does not hold; a cursor is the gateway's or a 400; a page's items are one
BatchGetItem whose unprocessed keys are asked again a bounded number of times."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paygate import listing
from paygate import repository as repository_module
from paygate.domain import Kind, Method, Payment, Provider
from paygate.errors import InvalidCursor, StorageBusy
from paygate.listing import CursorSigner, ListFilters, PaymentLister, plan
from paygate.repository import STORAGE_ATTEMPTS, PaymentRepository, payment_key
from paygate.table_items import (
    CREATED_SHARDS,
    ListQuery,
    ShardAnswer,
    created_partitions,
    created_shard_key,
)

KEY = "cursor-key"


class Entry:
    def __init__(self, at: str, payment_id: str, provider: str) -> None:
        self.at, self.id, self.provider = at, payment_id, provider


class FakeIndex:
    """A sharded list index as DynamoDB answers a Query on one partition: newest first, at
    most `Limit` entries read after ExclusiveStartKey, the FilterExpression applied to what
    was read, LastEvaluatedKey while entries remain."""

    def __init__(self, entries: list[Entry]) -> None:
        self.partitions: dict[str, list[Entry]] = {}
        for entry in entries:
            partition = created_shard_key(Kind.PAYMENT, entry.id)
            self.partitions.setdefault(partition, []).append(entry)
        for held in self.partitions.values():
            held.sort(key=lambda e: (e.at, e.id), reverse=True)
        self.queries = 0

    def list_entries(self, queries: list[ListQuery]) -> list[ShardAnswer]:
        return [self.query(query) for query in queries]

    def query(self, query: ListQuery) -> ShardAnswer:
        self.queries += 1
        held = self.partitions.get(query.partition, [])
        if query.start:
            after = (query.start["listed_at"], query.start["pk"].removeprefix("PAYMENT#"))
            held = [e for e in held if (e.at, e.id) < after]
        read = held[: query.reads]
        kept = [e for e in read if all(getattr(e, k) == v for k, v in query.residual.items())]
        last = (read[-1].at, read[-1].id) if len(held) > query.reads else None
        return ShardAnswer([(e.at, e.id) for e in kept], last)

    def payments_by_id(self, ids: list[str]) -> dict[str, Payment]:
        assert len(ids) <= 100
        return {i: payment(i) for i in ids}


def payment(payment_id: str) -> Payment:
    return Payment(
        id=payment_id,
        provider=Provider.PAYPRO,
        method=Method.VIETQR,
        amount=50_000,
        merchant_reference="o",
    )


def signer() -> CursorSigner:
    return CursorSigner(lambda: [KEY])


entries = st.lists(
    st.builds(
        Entry,
        st.sampled_from([f"2026-12-07T12:00:0{n}.000000Z" for n in range(6)]),  # many ties
        st.from_regex(r"pay_20261207[0-9]{6}[0-9a-f]{10}", fullmatch=True),
        st.sampled_from(["paypro", "monetix"]),
    ),
    max_size=60,
    unique_by=lambda e: e.id,
)


@settings(max_examples=200, deadline=None)
@given(entries, st.integers(1, 12), st.sampled_from([None, Provider.PAYPRO]), st.integers(1, 5))
def test_following_the_cursors_lists_every_match_once_newest_first(
    stored: list[Entry], limit: int, provider: Provider | None, residual_reads: int
) -> None:
    """With a filter the index does not hold a partition's Query reads `RESIDUAL_READS`
    entries (made small here, so that partitions stop at different depths)."""
    index = FakeIndex(stored)
    lister = PaymentLister(index, signer())  # type: ignore[arg-type]
    filters = ListFilters(provider=provider)
    seen: list[str] = []
    cursor = None
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(listing, "RESIDUAL_READS", residual_reads)
        for _ in range(1000):
            page = lister.page(Kind.PAYMENT, filters, limit, cursor)
            assert len(page.payments) <= limit
            seen += [p.id for p in page.payments]
            cursor = page.next_cursor
            if cursor is None:
                break
    matching = [e for e in stored if provider is None or e.provider == provider.value]
    expected = [e.id for e in sorted(matching, key=lambda e: (e.at, e.id), reverse=True)]
    assert seen == expected


def test_a_page_sends_one_query_per_partition_and_none_to_an_ended_one() -> None:
    stored = [Entry("2026-12-07T12:00:00.000000Z", f"pay_20261207120000{n:010x}", "paypro")
              for n in range(40)]  # fmt: skip
    index = FakeIndex(stored)
    lister = PaymentLister(index, signer())  # type: ignore[arg-type]
    first = lister.page(Kind.PAYMENT, ListFilters(), 100)
    assert index.queries == CREATED_SHARDS and first.next_cursor is None
    assert len(first.payments) == 40
    assert plan(Kind.PAYMENT, ListFilters(), 20).partitions == tuple(
        created_partitions(Kind.PAYMENT)
    )


def signed(document: Any, key: str = KEY) -> str:
    payload = json.dumps(document).encode()
    mac = hmac.new(key.encode(), payload, hashlib.sha256).digest()[:16]
    return ".".join(base64.urlsafe_b64encode(p).rstrip(b"=").decode() for p in (payload, mac))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=10) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries(
        {"v": st.sampled_from([2, 1, "2"]), "i": st.sampled_from(["by_created_shard", "x"])},
        optional={"p": json_values, "q": st.text(max_size=30)},
    )
    | json_values
)
def test_a_signed_cursor_is_either_the_gateways_or_a_400(document: Any) -> None:
    """Even a document signed with the right key (the key leaked, or an older version's
    cursor): any shape is a clear 400, never a 500."""
    query = plan(Kind.PAYMENT, ListFilters(), 20)
    fingerprint = ListFilters().fingerprint(Kind.PAYMENT)
    if isinstance(document, dict) and "q" in document:
        document["q"] = fingerprint
    try:
        starts = signer().starts(signed(document), fingerprint, query)
    except InvalidCursor as refusal:
        assert refusal.field == "cursor"
    else:
        assert len(starts) == len(query.partitions)


@given(st.text(max_size=200))
def test_any_text_is_a_cursor_or_a_400(text: str) -> None:
    query = plan(Kind.PAYMENT, ListFilters(), 20)
    with pytest.raises(InvalidCursor):
        signer().starts(text, ListFilters().fingerprint(Kind.PAYMENT), query)


class BatchClient:
    """A DynamoDB client whose BatchGetItem leaves `unprocessed` keys each time."""

    def __init__(self, unprocessed: int) -> None:
        self.unprocessed = unprocessed
        self.calls: list[int] = []

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        ((table, request),) = RequestItems.items()
        keys = request["Keys"]
        self.calls.append(len(keys))
        left = keys[: self.unprocessed]
        answered = [
            {**key, "id": {"S": key["pk"]["S"].removeprefix("PAYMENT#")},
             "provider": {"S": "paypro"}, "method": {"S": "vietqr"}, "amount": {"N": "50000"},
             "merchant_reference": {"S": "o"}}
            for key in keys[self.unprocessed :]
        ]  # fmt: skip
        unprocessed = {table: {"Keys": left}} if left else {}
        return {"Responses": {table: answered}, "UnprocessedKeys": unprocessed}


@pytest.fixture
def pauses(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    paused: list[float] = []
    monkeypatch.setattr(repository_module, "time", SimpleNamespace(sleep=paused.append))
    return paused


def test_unprocessed_keys_are_asked_again(pauses: list[float]) -> None:
    client = BatchClient(unprocessed=3)
    ids = [f"pay_20261207120000{n:010x}" for n in range(10)]

    def answer_the_rest(RequestItems: dict[str, Any]) -> dict[str, Any]:
        client.unprocessed = 0 if client.calls else 3
        return BatchClient.batch_get_item(client, RequestItems)

    client.batch_get_item = answer_the_rest  # type: ignore[method-assign]
    found = PaymentRepository("t", None, client).payments_by_id(ids)  # type: ignore[arg-type]
    assert sorted(found) == ids and client.calls == [10, 3] and len(pauses) == 1


def test_keys_left_unprocessed_every_time_are_a_503_after_bounded_rounds(
    pauses: list[float],
) -> None:
    client = BatchClient(unprocessed=2)
    repository = PaymentRepository("t", None, client)  # type: ignore[arg-type]
    with pytest.raises(StorageBusy, match="unread"):
        repository.payments_by_id([f"pay_20261207120000{n:010x}" for n in range(5)])
    assert client.calls == [5] + [2] * (STORAGE_ATTEMPTS - 1)
    assert payment_key("x") == {"pk": {"S": "PAYMENT#x"}, "sk": {"S": "PAYMENT"}}
