"""The reproduced forgeries, built as the attacker built them, through the real handlers.

ecommpay/Monetix: a victim payment of 50,000,000 VND; the attacker creates a Payment Page
payment whose customer name or return URL carries `;payment:id:<victim>;payment:status:success;…`,
takes the signature from the page URL the API answered, posts the JSON document whose flattened
text is the signed page text to the webhook. Paypro: a captured `0015` payout notify re-cut so
that the timestamp's text ends up in `status`.

Each test asserts the end property wherever the defence sits: the create is refused (422 naming
the field) or the forged callback is refused (4xx) or stored without effect; the victim's status,
version and amount received do not move, no event is published and no webhook item is stored as
applied to it."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import ModuleType
from typing import Any

import httpx
import pytest

from local.aws.provision import Provisioned
from local.sandboxes.platform import PlatformSandbox
from paygate import clock
from paygate.providers.platform import payment_page
from tests.support import forgery

from .conftest import Api, body_of, load_event_json, signed
from .forgery_support import Events, applied_about, refusal, state
from .platform_support import (
    ATM_ORDER,
    JSON,
    SECRETS,
    TRANSFER_ORDER,
    WALLET_ORDER,
    deliver,
    deliver_sandbox_callbacks,
    doc_example,
)
from .test_payouts import PAYPRO_PAYOUT

VICTIM_AMOUNT = 50_000_000
ORDERS = {
    "napas_atm": ("ecommpay", ATM_ORDER),
    "nganluong_wallet": ("ecommpay", WALLET_ORDER),
    "bank_transfer": ("monetix", TRANSFER_ORDER),
}
PLACES = {"names": "customer", "return_url": "return_url"}


@pytest.fixture
def events(aws: Provisioned, handlers: Callable[[str], ModuleType]) -> Events:
    return Events(aws, handlers)


def entries_of(*pairs: tuple[str, str]) -> str:
    return "".join(f";{path}:{value}" for path, value in pairs)


class Injection:
    """What the attacker writes where (`place`): the page parameters carrying it, the callback
    paths it adds (ascending), and the create's request fields.

    Names: the first name carries `payment.id`, then `payment:s`, whose value swallows the
    page's customer id and last name up to the entries the last name carries (`payment.status`,
    the sum), then `payment:z`, swallowing the rest up to `payment_amount`; each name stays
    within the create's 100 characters. With the sum, the email (signed before the names)
    carries the operation (dated now) and `payment:e`, swallowing up to the first name.
    Return URL: the URL carries everything; the page signs it twice (success and fail URLs), and
    the fail URL's value swallows the first copy."""

    def __init__(self, place: str, victim: str, with_sum: bool) -> None:
        dated = ("operation:date", platform_date())
        operation = [dated, ("operation:status", "success"), ("operation:type", "sale")]
        operation = operation if with_sum else []
        paid = [("payment:id", victim)]
        status = [("payment:status", "success")]
        amount = (
            [("payment:sum:amount", str(VICTIM_AMOUNT)), ("payment:sum:currency", "VND")]
            if with_sum
            else []
        )
        self.place = place
        if place == "names":
            first = "A" + entries_of(*paid, ("payment:s", ""))
            last = "B" + entries_of(*status, *amount, ("payment:z", ""))
            self.page = {"customer_first_name": first, "customer_last_name": last}
            self.paths = ["payment:id", "payment:s"]
            self.paths += [p for p, _ in [*status, *amount]] + ["payment:z"]
            self.fields = {"customer.first_name", "customer.last_name"}
            self.anchor = "customer_first_name"
            if operation:  # the email holds them (a name has room for 100 characters)
                email = "x" + entries_of(*operation, ("payment:e", ""))
                self.page["customer_email"] = f"{email}@example.vn"
                self.paths = [p for p, _ in operation] + ["payment:e", *self.paths]
                self.fields.add("customer.email")
                self.anchor = "customer_email"
        else:
            url = "https://merchant.example/back?o=1" + entries_of(
                *operation, *paid, *status, *amount
            )
            self.page = {"merchant_success_url": url, "merchant_fail_url": url}
            self.anchor = "merchant_success_url"
            self.paths = [p for p, _ in [*operation, *paid, *status, *amount]]
            self.fields = {"return_url"}

    def order(self, order: dict[str, Any]) -> dict[str, Any]:
        """The attacker's create: a Payment Page payment carrying the injection."""
        body = {k: v for k, v in order.items() if v is not None}
        body.update(flow="payment_page", merchant_reference="attacker-1", amount=100_000)
        if self.place == "names":
            body["customer"] = {
                **order["customer"],
                "first_name": self.page["customer_first_name"],
                "last_name": self.page["customer_last_name"],
                "email": self.page.get("customer_email", order["customer"]["email"]),
            }
        else:
            body["return_url"] = self.page["merchant_success_url"]
        return body

    def document(self, params: dict[str, str]) -> dict[str, Any]:
        """The callback whose flattened text is the signed page text of `params`."""
        text = forgery.payment_page_text(params)
        paths = (
            [key for key in sorted(params) if key <= self.anchor]
            + self.paths
            + [key for key in sorted(params) if key > self.paths[-1]]
        )
        return forgery.forged_callback(text, split_at_paths(text, paths))


def split_at_paths(text: str, paths: list[str]) -> list[tuple[str, str]]:
    """`text` read as entries starting at `paths` in order (each at the next `;<path>:` after
    the previous), every value running up to the next entry."""
    assert text.startswith(paths[0] + ":"), (text, paths[0])
    starts = [0]
    for path in paths[1:]:
        at = text.index(f";{path}:", starts[-1] + 1)
        starts.append(at + 1)
    ends = [*starts[1:], len(text) + 1]
    return [
        (path, text[start + len(path) + 1 : end - 1])
        for start, path, end in zip(starts, paths, ends, strict=True)
    ]


Victim = Callable[[str, dict[str, Any]], str]


@pytest.fixture
def victim(api: Api, ecommpay_sandbox: PlatformSandbox, monetix_sandbox: PlatformSandbox) -> Victim:
    """Creates a victim: a 50,000,000 VND Gate payment, where the provider says it is (its
    callbacks so far delivered: waiting for the customer)."""
    sandboxes = {"ecommpay": ecommpay_sandbox, "monetix": monetix_sandbox}

    def create(provider: str, order: dict[str, Any]) -> str:
        body = {k: v for k, v in order.items() if v is not None}
        body.update(amount=VICTIM_AMOUNT, merchant_reference="victim-1")
        payment: dict[str, Any] = api.answer(201, "POST", f"/v1/{provider}/payments", body)
        deliver_sandbox_callbacks(api, provider, sandboxes[provider], payment["id"])
        assert state(api, payment["id"])[0] == "requires_action"
        return str(payment["id"])

    return create


def snapshot(api: Api, aws: Provisioned, payment_id: str) -> tuple[Any, ...]:
    """What may not change: the payment's status, version and amount received, and the
    webhook items stored as applied to it."""
    return state(api, payment_id), len(applied_about(aws, payment_id))


def assert_untouched(
    api: Api, aws: Provisioned, events: Events, payment_id: str, before: tuple[Any, ...]
) -> None:
    assert snapshot(api, aws, payment_id) == before
    assert events.published() == []


@pytest.mark.parametrize("with_sum", [True, False], ids=["with_sum", "without_sum"])
@pytest.mark.parametrize("place", sorted(PLACES))
@pytest.mark.parametrize("method", sorted(ORDERS))
def test_a_forgery_from_the_signed_payment_page_moves_nothing(
    api: Api,
    aws: Provisioned,
    events: Events,
    victim: Victim,
    method: str,
    place: str,
    with_sum: bool,
) -> None:
    """The attack as reproduced: the injected values go through the real create."""
    provider, order = ORDERS[method]
    target = victim(provider, order)
    before = snapshot(api, aws, target)
    attack = Injection(place, target, with_sum)
    events.mark()
    answer = api.call("POST", f"/v1/{provider}/payments", attack.order(order), JSON)
    if answer["statusCode"] == 422:  # refused at create: nothing was signed
        assert body_of(answer)["error"]["field"] in attack.fields, answer
    else:
        assert answer["statusCode"] == 201, answer
        params, signature = forgery.page_of(body_of(answer)["next_action"]["url"])
        document = attack.document(params)
        assert document["payment"]["id"] == target
        refusal(deliver(api, provider, forgery.signed_body(document, signature)))
    assert_untouched(api, aws, events, target, before)


def signed_page(params: dict[str, str], provider: str) -> str:
    """The signature the gateway put on a page with `params` before any create-time check
    (it signs page parameters with the project secret, whatever they hold)."""
    url = payment_page.signed_url("https://pay.example/payment", params, SECRETS[provider])
    return forgery.page_of(url)[1]


@pytest.mark.parametrize("with_sum", [True, False], ids=["with_sum", "without_sum"])
@pytest.mark.parametrize("place", sorted(PLACES))
@pytest.mark.parametrize("method", sorted(ORDERS))
def test_a_page_signed_before_the_create_check_still_moves_nothing(
    api: Api,
    aws: Provisioned,
    events: Events,
    victim: Victim,
    method: str,
    place: str,
    with_sum: bool,
) -> None:
    """The callback's own defences, without the create-time check: the attacker holds a page
    signature over injected values (a page issued before the check, kept by the customer), so
    the forged document reaches the webhook whatever the create accepts today. It carries the
    page's other parameters as unknown top-level keys, our project id, and (with_sum) the
    victim's amount and an operation."""
    provider, order = ORDERS[method]
    target = victim(provider, order)
    before = snapshot(api, aws, target)
    honest = api.answer(201, "POST", f"/v1/{provider}/payments", {**order, "flow": "payment_page"})
    params, _ = forgery.page_of(honest["next_action"]["url"])
    attack = Injection(place, target, with_sum)
    params.update(attack.page)
    document = attack.document(params)
    events.mark()
    refusal(deliver(api, provider, forgery.signed_body(document, signed_page(params, provider))))
    assert_untouched(api, aws, events, target, before)


def platform_date() -> str:
    """Now, as the platform dates a payment or operation."""
    return clock.now().strftime("%Y-%m-%dT%H:%M:%S+0000")


EXAMPLES = {
    "ecommpay": "ecommpay/atm-gate-purchase-success.json",
    "monetix": "monetix/bank-transfer-gate-ch1-purchase-success.json",
}


def well_formed(target: str, provider: str, project: int) -> dict[str, Any]:
    """The docs' success callback for `target`: our project, the victim's amount, dated now."""
    document = doc_example(EXAMPLES[provider], payment_id=target)
    document.pop("signature", None)
    document["project_id"] = project
    for part in (document["payment"], document["operation"]):
        part["date"] = platform_date()
    for total in ("sum_initial", "sum_converted"):
        document["operation"][total] = {"amount": VICTIM_AMOUNT, "currency": "VND"}
    document["payment"]["sum"] = {"amount": VICTIM_AMOUNT, "currency": "VND"}
    return document


@pytest.mark.parametrize(
    ("case", "change"),
    [
        ("unknown_top_level_key", {"customer_first_name": "An"}),
        ("foreign_project_id", {"project_id": 999_999}),
        ("no_sum_no_operation", {"sum": None, "operation": None}),
        ("confirmation", {}),
    ],
)
@pytest.mark.parametrize("method", sorted(ORDERS))
def test_each_callback_defence_holds_with_a_valid_signature(
    api: Api,
    aws: Provisioned,
    events: Events,
    victim: Victim,
    method: str,
    case: str,
    change: dict[str, Any],
) -> None:
    """A success callback signed with the project secret (what any text the secret signs and a
    customer sees could become): a page parameter at the top level, a foreign project id, no
    `payment.sum` and no operation, or the docs' callback well-formed in every field while the
    provider's own status says the victim is unpaid: none moves the victim."""
    from .conftest import DEV_SECRETS

    provider, order = ORDERS[method]
    target = victim(provider, order)
    before = snapshot(api, aws, target)
    project = int(DEV_SECRETS[f"{provider.capitalize()}Secret"]["project_id"])
    document = changed(well_formed(target, provider, project), change)
    body = forgery.signed_body(document, forgery.platform_sign(document, SECRETS[provider]))
    events.mark()
    refusal(deliver(api, provider, body))
    assert_untouched(api, aws, events, target, before)


def changed(document: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    """`document` with top-level keys set or (None) removed; `sum`: the payment's."""
    for key, value in change.items():
        if key == "sum":
            document["payment"].pop("sum")
        elif value is None:
            document.pop(key)
        else:
            document[key] = value
    return document


def test_an_ordinary_page_read_as_a_callback_is_refused(
    api: Api, aws: Provisioned, victim: Victim
) -> None:
    """Values the create accepts: the page's parameters posted as they are, with its signature."""
    provider, order = ORDERS["napas_atm"]
    target = victim(provider, order)
    before = snapshot(api, aws, target)
    page = api.answer(201, "POST", f"/v1/{provider}/payments", {**order, "flow": "payment_page"})
    params, signature = forgery.page_of(page["next_action"]["url"])
    answer = deliver(api, provider, forgery.signed_body(params, signature))
    assert 400 <= answer["statusCode"] < 500, answer
    assert snapshot(api, aws, target) == before


# -- Paypro -------------------------------------------------------------------------------------


def captured_processing_notify(payout: dict[str, Any]) -> dict[str, Any]:
    """A `0015` payout notify as Paypro signs it (now, for this payout)."""
    fields = load_event_json("paypro/notify-processing.json")
    fields.update(
        tradeNo=payout["id"],
        platFormTradeNo=payout["provider_reference"],
        amount=str(payout["amount"]),
        timestamp=str(int(clock.now().timestamp() * 1000)),
    )
    return signed(fields)


def test_a_recut_paypro_notify_does_not_fail_a_payout(
    api: Api, aws: Provisioned, events: Events
) -> None:
    payout = api.answer(201, "POST", "/v1/paypro/payouts", PAYPRO_PAYOUT)
    genuine = captured_processing_notify(payout)
    assert api.call("POST", "/webhooks/paypro", genuine, JSON)["statusCode"] == 200
    before = snapshot(api, aws, payout["id"])
    assert before[0][0] == "processing"
    recut = {k: v for k, v in genuine.items() if k != "timestamp"}
    recut["status"] = f"{genuine['status']}timestamp={genuine['timestamp']}"
    assert recut in forgery.resplits(genuine)  # the same signed text: the sign stays valid
    events.mark()
    answer = api.call("POST", "/webhooks/paypro", json.dumps(recut).encode(), JSON)
    error = refusal(answer)
    assert error is None or answer["statusCode"] == 400, answer
    assert_untouched(api, aws, events, payout["id"], before)


# -- each callback defence on its own: the status-query confirmation turned off -----------------


@pytest.fixture
def unconfirmed(
    aws: Provisioned, handlers: Callable[[str], ModuleType], monkeypatch: pytest.MonkeyPatch
) -> Api:
    """The webhook routes as their functions build them, with `<PROVIDER>_CONFIRM_BY_QUERY`
    false: only the document checks stand between a signature and the payment."""
    from types import SimpleNamespace

    from paygate import routes, wiring
    from paygate.settings import EcommpaySettings, MonetixSettings, load_settings

    for name in ("ecommpay_webhook", "monetix_webhook"):
        handlers(name)  # the real functions first: they read the environment once, at import
    monkeypatch.setenv("ECOMMPAY_CONFIRM_BY_QUERY", "false")
    monkeypatch.setenv("MONETIX_CONFIRM_BY_QUERY", "false")
    built = {
        "ecommpay_webhook": wiring.ecommpay(load_settings(EcommpaySettings)),
        "monetix_webhook": wiring.monetix(load_settings(MonetixSettings)),
    }

    def load(name: str) -> ModuleType:
        if name not in built:
            return handlers(name)
        path = f"/webhooks/{name.split('_')[0]}"
        app = routes.webhook(path, built[name], summary="callback")
        return SimpleNamespace(lambda_handler=routes.handler(app))  # type: ignore[return-value]

    return Api(load)


DEFENCES = {
    "page_injection": None,
    "unknown_top_level_key": {"customer_first_name": "An"},
    "foreign_project_id": {"project_id": 999_999},
    "missing_project_id": {"project_id": None},
    "no_sum_no_operation": {"sum": None, "operation": None},
}


def defended(target: str, provider: str, case: str) -> bytes:
    """The callback of `case`, signed with the project secret."""
    from .conftest import DEV_SECRETS

    project = int(DEV_SECRETS[f"{provider.capitalize()}Secret"]["project_id"])
    if case == "page_injection":
        params = {
            "project_id": str(project),
            "payment_id": "pay_20261207000000aaaaaaaaaa",
            "payment_amount": "100000",
            "payment_currency": "VND",
            "customer_id": "cust-7",
            "customer_email": "buyer@example.com",
            "customer_first_name": "An",
            "customer_last_name": "Nguyen",
            "merchant_success_url": "https://merchant.example/back",
        }
        attack = Injection("names", target, with_sum=True)
        params.update(attack.page)
        document = attack.document(params)
        return forgery.signed_body(document, signed_page(params, provider))
    document = changed(well_formed(target, provider, project), DEFENCES[case] or {})
    return forgery.signed_body(document, forgery.platform_sign(document, SECRETS[provider]))


@pytest.mark.parametrize("case", sorted(DEFENCES))
@pytest.mark.parametrize("method", ["napas_atm", "bank_transfer"])
def test_each_document_check_holds_without_confirmation(
    api: Api,
    aws: Provisioned,
    events: Events,
    victim: Victim,
    unconfirmed: Api,
    ecommpay_sandbox: PlatformSandbox,
    monetix_sandbox: PlatformSandbox,
    method: str,
    case: str,
) -> None:
    """With the provider's status query out of the way, a forged success signed with the
    project secret is still refused by the callback's own checks (strict model, our project id,
    a sum and an operation on every success); then the provider's own callbacks, once the
    victim really paid, still move it (the route is not simply closed)."""
    provider, order = ORDERS[method]
    target = victim(provider, order)
    before = snapshot(api, aws, target)
    events.mark()
    refusal(deliver(unconfirmed, provider, defended(target, provider, case)))
    assert_untouched(api, aws, events, target, before)
    sandbox = ecommpay_sandbox if provider == "ecommpay" else monetix_sandbox
    seen = len(sandbox.callbacks(target))
    paid = httpx.post(f"{sandbox.base_url}/_sandbox/payments/{target}/transfer", json={})
    assert paid.status_code == 200, paid.text
    deliver_sandbox_callbacks(unconfirmed, provider, sandbox, target, start=seen)
    assert state(api, target)[0] == "succeeded"
