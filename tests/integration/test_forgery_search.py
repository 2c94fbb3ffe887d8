"""A search for forged callbacks (hypothesis): random customer values, return URLs and metadata,
with the schemes' separators, Unicode and control characters, go through the real create; every
document an attacker can derive from the signed text the gateway then shows (the Payment Page
URL) is posted, with the signature the attacker saw, through the real webhook handler. None may
change any payment. Paypro: captured notifies of every status, re-cut at every field boundary,
may change nothing once the genuine notify is in.

A payment that does not move (status, version, amount received) has no status change in the
table's stream, so no event is published; each test also runs the real publisher over the
whole stream at its end and finds no event beyond those of the creates and genuine notifies.

`PAYGATE_SOAK=1` (`make test-soak`) multiplies the examples; each run prints its counts and
keeps them in `.paygate/forgery-search-{pages,paypro}.json`."""

from __future__ import annotations

import itertools
import json
import os
import random
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from local.aws.provision import Provisioned
from local.sandboxes.platform import PlatformSandbox
from paygate import clock
from paygate.repository import PaymentRepository, payment_key
from tests.support import forgery

from .conftest import DEV_SECRETS, Api, body_of, load_event_json, signed
from .forgery_support import Events
from .platform_support import (
    ATM_ORDER,
    JSON,
    TRANSFER_ORDER,
    WALLET_ORDER,
    deliver_sandbox_callbacks,
)
from .test_payouts import ATM_PAYOUT, PAYPRO_PAYOUT

SOAK = os.environ.get("PAYGATE_SOAK", "") not in ("", "0")
FIGURES = Path(__file__).resolve().parents[2] / ".paygate"
PLATFORM_EXAMPLES = 600 if SOAK else 120
NOTIFY_EXAMPLES = 300 if SOAK else 36
# Documents posted per signed text: all of them when there are no more (most texts), else this
# many different ones, explored differently per example.
DOCUMENTS_PER_TEXT = 40
RECUTS_PER_NOTIFY = 25
SEARCH = settings(
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # each example costs real calls: no shrinking
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
VICTIM_AMOUNT = 50_000_000
ORDERS = {
    "napas_atm": ("ecommpay", ATM_ORDER),
    "nganluong_wallet": ("ecommpay", WALLET_ORDER),
    "bank_transfer": ("monetix", TRANSFER_ORDER),
}

# -- what the attacker types ----------------------------------------------------------------

# Stand-ins replaced by the victim's id, its amount and our project id once they are known.
VICTIM, PAYOUT, AMOUNT, PROJECT = "{victim}", "{payout}", "{amount}", "{project}"
PATHS = [
    "payment:id", "payment:status", "payment:sum:amount", "payment:sum:currency",
    "payment:type", "payment:z", "operation:status", "operation:type",
    "operation:sum_initial:amount", "operation:sum_initial:currency", "project_id",
    "customer:id", "errors:0:code", "account:number", "z", "payment::id",
]  # fmt: skip
VALUES = [VICTIM, PAYOUT, "success", "decline", AMOUNT, "VND", "sale", "payout", PROJECT, ""]
characters = st.characters(codec="utf-8", exclude_categories=["Cs"]) | st.sampled_from(
    list(";:=&\x00\n\r\t\x7f\x85\u2028ữĐ")
)
junk = st.lists(characters | st.sampled_from(["::", ";payment:", ":id:", ";z:"]), max_size=6).map(
    "".join
)
# What each path means to an attacker (the victim's id, a success, its amount, our project).
MEANING = {
    "payment:id": VICTIM, "payment:status": "success", "payment:sum:amount": AMOUNT,
    "payment:sum:currency": "VND", "payment:type": "purchase", "operation:status": "success",
    "operation:type": "sale", "operation:sum_initial:amount": AMOUNT,
    "operation:sum_initial:currency": "VND", "project_id": PROJECT,
}  # fmt: skip
entry = st.sampled_from(PATHS).flatmap(
    lambda path: st.tuples(
        st.just(path), st.just(MEANING.get(path, "")) | st.sampled_from(VALUES) | junk
    )
)
# The paths in order, as the sort wants them; most with the victim's id and a success.
entries = st.tuples(st.booleans(), st.lists(entry, max_size=3)).map(
    lambda drawn: sorted(
        dict(
            [*([("payment:id", VICTIM), ("payment:status", "success")] if drawn[0] else [])]
            + drawn[1]
        ).items()
    )
)
injections = st.builds(
    lambda head, found, tail, swallow: (
        head
        + "".join(f";{path}:{value}" for path, value in found)
        + (";payment:zz:" if swallow else "")
        + tail
    ),
    junk,
    entries,
    junk,
    st.booleans(),
)
FIELDS = [
    "customer.first_name", "customer.last_name", "customer.email", "customer.phone",
    "customer.id", "description", "return_url", "return_urls.success", "return_urls.decline",
    "metadata",
]  # fmt: skip


def order_with(order: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    """The attacker's Payment Page create: `order` with the injected values in place."""
    body = {k: v for k, v in order.items() if v is not None}
    body.update(flow="payment_page", merchant_reference="attacker", amount=100_000)
    customer = dict(body["customer"])
    for field, value in values.items():
        if field.startswith("customer."):
            name = field.split(".")[1]
            customer[name] = f"{value}@example.vn" if name == "email" else value
        elif field.startswith("return_url"):
            url = f"https://merchant.example/back?o=1{value}"
            if field == "return_url":
                body["return_url"] = url
            else:
                body.setdefault("return_urls", {})[field.split(".")[1]] = url
        elif field == "metadata":
            body["metadata"] = {"note": value}
        else:
            body[field] = value
    body["customer"] = customer
    return body


def page_signed_without_checks(provider: str, body: dict[str, Any]) -> str | None:
    """The Payment Page URL the gateway signs for `body` when no create-time check refuses its
    values (as every page issued before the check was; a customer may keep one): the gateway's
    own page parameters and signing. None when the request is not one (a refusal of the API's
    own model: too long, not an email) or the page signing itself refuses it."""
    from pydantic import ValidationError

    from paygate.api_requests import EcommpayPaymentRequest, MonetixPaymentRequest
    from paygate.domain import Provider, payment_for
    from paygate.providers.platform import payment_page

    model = EcommpayPaymentRequest if provider == "ecommpay" else MonetixPaymentRequest
    try:
        request = model.model_validate(body)
    except ValidationError:
        return None
    payment = payment_for(Provider(provider), request)
    secret = DEV_SECRETS[f"{provider.capitalize()}Secret"]
    try:
        params = payment_page.page_params(
            payment, request, int(secret["project_id"]), clock.now() + timedelta(minutes=30)
        )
        return payment_page.signed_url("https://pay.example/payment", params, secret["secret_key"])
    except Exception as refused:
        event(f"page signing refused: {type(refused).__name__}")
        return None


class Arena:
    """One moto per test: the victims (a 50,000,000 VND payment per provider, waiting where the
    provider says, and an ecommpay payout being paid out), the payments the search may not
    move, and what it counted."""

    def __init__(self, api: Api, aws: Provisioned, sandboxes: dict[str, PlatformSandbox]) -> None:
        self.api, self.aws = api, aws
        self.table = aws.refs["PaymentsTable"]
        self.dynamodb = boto3.client("dynamodb")
        self.victims = {}
        for provider, order in (("ecommpay", ATM_ORDER), ("monetix", TRANSFER_ORDER)):
            body = {**order, "amount": VICTIM_AMOUNT}
            self.victims[provider] = self.create(f"/v1/{provider}/payments", body)
            deliver_sandbox_callbacks(api, provider, sandboxes[provider], self.victims[provider])
        self.payout = self.create("/v1/ecommpay/payouts", ATM_PAYOUT)
        deliver_sandbox_callbacks(api, "ecommpay", sandboxes["ecommpay"], self.payout)
        self.counts: Counter[str] = Counter()
        repository = PaymentRepository(self.table, timedelta(days=1))
        for payment_id, (status, version, received) in self.states(self.all_victims).items():
            payment = repository.get(payment_id)
            assert payment is not None
            assert (status, int(version)) == (payment.status, payment.version) and received is None
            assert status in ("requires_action", "processing"), (payment_id, status)

    @property
    def all_victims(self) -> list[str]:
        return [*self.victims.values(), self.payout]

    def create(self, path: str, body: dict[str, Any]) -> str:
        body = {k: v for k, v in body.items() if v is not None}
        return str(self.api.answer(201, "POST", path, body)["id"])

    def state(self, payment_id: str) -> tuple[Any, ...]:
        return self.states([payment_id])[payment_id]

    def states(self, ids: list[str]) -> dict[str, tuple[Any, ...]]:
        """Status, version and amount received of each payment, in one consistent read (as
        the repository stores them)."""
        keys = [payment_key(payment_id) for payment_id in dict.fromkeys(ids)]
        answer = self.dynamodb.batch_get_item(
            RequestItems={
                self.table: {
                    "Keys": keys,
                    "ConsistentRead": True,
                    "ProjectionExpression": "pk, #status, version, amount_received",
                    "ExpressionAttributeNames": {"#status": "status"},
                }
            }
        )
        found = {}
        for item in answer["Responses"][self.table]:
            payment_id = item["pk"]["S"].removeprefix("PAYMENT#")
            found[payment_id] = tuple(
                next(iter(item[name].values())) if name in item else None
                for name in ("status", "version", "amount_received")
            )
        assert set(found) == set(ids), (found, ids)
        return found

    def post(self, path: str, raw: bytes) -> dict[str, Any]:
        response = self.api.call("POST", path, raw, JSON)
        assert response["statusCode"] < 500, (response, raw)
        self.counts[f"{path} {response['statusCode']}"] += 1
        return response


@pytest.fixture
def arena(
    api: Api,
    aws: Provisioned,
    ecommpay_sandbox: PlatformSandbox,
    monetix_sandbox: PlatformSandbox,
) -> Arena:
    return Arena(api, aws, {"ecommpay": ecommpay_sandbox, "monetix": monetix_sandbox})


def assert_no_event_but(events: Events, allowed: Callable[[dict[str, Any]], bool]) -> None:
    """The publisher run over the whole stream finds only `allowed` events."""
    events.seen = 0
    stray = [e for e in events.published() if not allowed(e)]
    assert stray == [], stray[:3]


def report(name: str, counts: Counter[str], started: float) -> None:
    """Print the counts and keep them in `.paygate/forgery-search-<name>.json`."""
    figures = {"seconds": round(time.monotonic() - started, 1), **dict(sorted(counts.items()))}
    print(f"\nforgery search, {name}: " + json.dumps(figures, ensure_ascii=False))
    FIGURES.mkdir(exist_ok=True)
    (FIGURES / f"forgery-search-{name}.json").write_text(json.dumps(figures, indent=1) + "\n")


def test_no_document_derived_from_a_signed_payment_page_moves_a_payment(
    api: Api, aws: Provisioned, arena: Arena, handlers: Callable[[str], ModuleType]
) -> None:
    projects = {
        p: DEV_SECRETS[f"{p.capitalize()}Secret"]["project_id"] for p in ("ecommpay", "monetix")
    }
    events = Events(aws, handlers)
    attackers: list[str] = []

    @settings(SEARCH, max_examples=PLATFORM_EXAMPLES)
    @given(
        method=st.sampled_from(sorted(ORDERS)),
        values=st.dictionaries(st.sampled_from(FIELDS), injections, min_size=1, max_size=2),
        seed=st.integers(0, 2**32 - 1),
    )
    def search(method: str, values: dict[str, str], seed: int) -> None:
        provider, order = ORDERS[method]
        victim = arena.victims[provider]
        filled = {
            field: value.replace(VICTIM, victim)
            .replace(PAYOUT, arena.payout)
            .replace(AMOUNT, str(VICTIM_AMOUNT))
            .replace(PROJECT, str(projects[provider]))
            for field, value in values.items()
        }
        watched = [*arena.all_victims, *attackers[-20:]]
        before = arena.states(watched)
        body = order_with(order, filled)
        answer = api.call("POST", f"/v1/{provider}/payments", body, JSON)
        assert answer["statusCode"] in (201, 422), answer
        if answer["statusCode"] == 201:
            arena.counts["creates accepted"] += 1
            attacker = body_of(answer)["id"]
            attackers.append(attacker)
            watched.append(attacker)
            before = arena.states(watched)
            url = body_of(answer)["next_action"]["url"]
        else:
            event(f"create refused: {body_of(answer)['error']['field']}")
            arena.counts["creates refused"] += 1
            assert arena.states(watched) == before
            url = page_signed_without_checks(provider, body)
            if url is None:
                return
            arena.counts["pages signed as before the create check"] += 1
        text, signature = forgery.page_text(url)
        documents = forgery.derived_documents(
            text, limit=DOCUMENTS_PER_TEXT, rng=random.Random(seed)
        )
        event(f"documents per page: {min(len(documents), DOCUMENTS_PER_TEXT) // 10 * 10}+")
        for document in documents:
            named = isinstance(document.get("payment"), dict) and document["payment"].get("id")
            arena.counts["documents naming a victim" if named == victim else "documents"] += 1
            answer = arena.post(f"/webhooks/{provider}", forgery.signed_body(document, signature))
            if answer["statusCode"] < 400:  # taken: it must have changed nothing
                assert arena.states(watched) == before, document
        assert arena.states(watched) == before  # nor did any refused one

    started = time.monotonic()
    search()
    report("pages", arena.counts, started)
    assert arena.counts["creates accepted"] + arena.counts["creates refused"] > 0
    creates = {"created", "pending", "requires_action", "processing"}
    assert_no_event_but(events, lambda e: e["status"] in creates)


# -- Paypro ---------------------------------------------------------------------------------

STATUSES = ["0000", "0015", "0001", "00029", "8000", "0002"]
# Paypro's own text: printable (a control character in it is refused, and would only test that).
printable = st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"])
messages = st.sampled_from(["success", "Paying", "Transaction rejected", ""]) | st.lists(
    printable | st.sampled_from(["status=", "timestamp=", "amount=", "0000", "0015", "="]),
    max_size=8,
).map("".join)


def test_no_recut_paypro_notify_changes_a_payment(
    api: Api, aws: Provisioned, arena: Arena, handlers: Callable[[str], ModuleType]
) -> None:
    events = Events(aws, handlers)
    genuine_changes: list[tuple[str, str]] = []
    references = itertools.count()

    @settings(SEARCH, max_examples=NOTIFY_EXAMPLES)
    @given(
        payout=st.booleans(),
        status=st.sampled_from(STATUSES),
        message=messages,
        success_time=st.booleans(),
        amount=st.integers(50_000, 5_000_000),
        seed=st.integers(0, 2**32 - 1),
    )
    def search(
        payout: bool, status: str, message: str, success_time: bool, amount: int, seed: int
    ) -> None:
        path = "/v1/paypro/payouts" if payout else "/v1/paypro/payments"
        reference = f"search-{next(references)}"
        order: dict[str, Any] = {"amount": amount, "merchant_reference": reference}
        order = {**PAYPRO_PAYOUT, **order} if payout else order
        answer = api.call("POST", path, order, JSON)
        arena.counts[f"{path} {answer['statusCode']}"] += 1
        if answer["statusCode"] != 201:
            event(f"create answered {answer['statusCode']}")
            return
        created = body_of(answer)
        payment_id = created["id"]
        fields = load_event_json("paypro/notify-processing.json")
        fields.update(
            status=status,
            message=message,
            tradeNo=payment_id,
            platFormTradeNo=created["provider_reference"],
            amount=str(amount),
            timestamp=str(int(clock.now().timestamp() * 1000)),
        )
        if success_time:
            fields["successTime"] = clock.now().strftime("%Y-%m-%d %H:%M:%S")
        genuine = signed(fields)
        first = arena.post("/webhooks/paypro", json.dumps(genuine).encode())
        arena.counts[f"genuine {status} notifies answered {first['statusCode']}"] += 1
        after_genuine = arena.state(payment_id)
        genuine_changes.append((payment_id, after_genuine[0]))
        recuts = forgery.resplits(genuine)
        random.Random(seed).shuffle(recuts)
        arena.counts["notifies"] += 1
        for recut in recuts[:RECUTS_PER_NOTIFY]:
            arena.counts["recut notifies"] += 1
            raw = json.dumps(recut, ensure_ascii=False).encode()
            if arena.post("/webhooks/paypro", raw)["statusCode"] < 400:
                assert arena.state(payment_id) == after_genuine, (genuine, recut)
        assert arena.state(payment_id) == after_genuine, genuine

    started = time.monotonic()
    search()
    report("paypro", arena.counts, started)
    assert arena.counts["recut notifies"] > 0
    final = {payment_id: status for payment_id, status in genuine_changes}
    assert_no_event_but(
        events,
        lambda e: (
            e["status"] in ("created", "pending", "requires_action", "processing")
            or final.get(e["payment_id"]) == e["status"]
        ),
    )
